// The metadata keys of the contract (proto/plantrail/v1/README.md, "Event
// metadata"), in one place: the server stamps and reads them, the CLI and
// the audit export read them, and all spell them from here. The stream
// names of the plan model are in domain/streams.h; the log's own key for a
// redacted header is eventstore/record_format.h's (the log knows nothing
// of plans).
#ifndef PLANTRAIL_DOMAIN_METADATA_KEYS_H_
#define PLANTRAIL_DOMAIN_METADATA_KEYS_H_

namespace plantrail::domain {

// Who wrote the event: the authenticated principal, stamped by the server
// (never taken from a request).
inline constexpr char kActorKey[] = "actor";
// A command's idempotency key, its keyed fingerprint, and the ids a client
// chose for tracing.
inline constexpr char kCommandIdKey[] = "command_id";
inline constexpr char kCommandFingerprintKey[] = "command_fingerprint";
inline constexpr char kCorrelationIdKey[] = "correlation_id";
inline constexpr char kCausationIdKey[] = "causation_id";
// On a PayloadRedacted event: the event it redacts.
inline constexpr char kRedactsPositionKey[] = "redacts_position";
inline constexpr char kRedactsStreamKey[] = "redacts_stream";
inline constexpr char kRedactsEventIdKey[] = "redacts_event_id";

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_METADATA_KEYS_H_
