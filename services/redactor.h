// Redactions of stored events (lawful disposal, personal data): which events
// may be redacted, what replaces their payload, and the event that records
// each redaction.
#ifndef PLANTRAIL_SERVICES_REDACTOR_H_
#define PLANTRAIL_SERVICES_REDACTOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "domain/metadata_keys.h"
#include "domain/redaction.h"
#include "eventstore/event_store.h"
#include "plantrail/v1/admin.pb.h"
#include "projections/runner.h"
#include "services/principal.h"

namespace plantrail::services {

using domain::kRedactionStream;

// Metadata of a PayloadRedacted event naming the event it redacts.
using domain::kRedactsEventIdKey;
using domain::kRedactsPositionKey;
using domain::kRedactsStreamKey;

// Whether a redaction keeps this metadata value of an event of `stream_id`.
// An allow-list of what is structure, not personal data; every other value
// is cleared (a key the server does not know is a client's free text):
//   - `actor`: the principal who wrote the event, stamped by the server
//     (never taken from a request). The who of the audit trail stays, like
//     the redaction's own actor.
//   - `command_id`, `correlation_id`, `causation_id`: the ids a client
//     chose for idempotency and tracing; an import resumes by command id.
//   - `command_fingerprint` only when keyed (`hmac1:`). An unkeyed one
//     (a plain SHA-256 of the command, from before fingerprints were keyed)
//     lets anyone test a guess of the command's redacted text.
//   - `redacts_position`, `redacts_stream`, `redacts_event_id` only on the
//     redactions' own stream (which is never redacted today): elsewhere
//     they are text a client chose.
bool KeepsMetadataValue(absl::string_view stream_id, absl::string_view key,
                        absl::string_view value);

// The metadata keys of `event` whose values a redaction clears (to
// eventstore::record_format::kRedactedValue), in key order: those
// KeepsMetadataValue does not keep and not already cleared.
std::vector<std::string> MetadataToClear(
    const eventstore::RecordedEvent& event);

// The redaction `request` asks of `store` on behalf of `caller`: the
// tombstone (a plan event without its free text; any other payload
// emptied), the event's metadata values to clear (MetadataToClear) and the
// PayloadRedacted record, whose metadata names the redacted event
// (redacts_position, redacts_stream, redacts_event_id).
// Later events of a plan stream that repeat any of the event's free texts
// (a revision's "before") lose those texts in the same commit, each with a
// PayloadRedacted of its own (repeated_text_of set) in the record.
// Errors: kInvalidArgument (no reason, or too long), kNotFound (no such
// position), kFailedPrecondition (already redacted, nothing of its own text
// left, or a system stream: the security stream and the redactions
// themselves are never redacted). The store checks every payload again
// when it commits (kAborted if one changed meanwhile).
absl::StatusOr<eventstore::RedactRequest> PrepareRedaction(
    const eventstore::EventStore& store, const Principal& caller,
    const v1::RedactEventRequest& request);

// What Admin.RedactEvent does, without gRPC: the redaction of `request` on
// behalf of `caller`, idempotent by `command_id` (a retry answers as the
// first did, and finishes what it may have left), then the old copies of
// the redacted payloads erased: the projections are folded again from the
// redacted log and the store's overwritten versions dropped, within
// `erase_timeout`.
//
// Thread safety: Redact may run on several threads at once (the store
// orders the commits). The store and the runners must outlive it.
class Redactor {
 public:
  // `projections` are folded again after a redaction; `after_redaction`
  // (may be empty) is told the redacted event's stream once the redaction
  // is committed (the command handler forgets what it remembers of it).
  Redactor(eventstore::EventStore* store,
           std::vector<projections::ProjectionRunner*> projections,
           std::function<void(const std::string& stream_id)> after_redaction,
           absl::Duration erase_timeout = absl::Minutes(10));

  // Errors as PrepareRedaction's, and kAlreadyExists for a command id used
  // by another command; when the old copies are not all erased in time, the
  // error says that the redaction itself is made.
  absl::StatusOr<v1::RedactEventResponse> Redact(
      const Principal& caller, const v1::RedactEventRequest& request) const;

 private:
  absl::Status EraseOldCopies(uint64_t first, uint64_t last,
                              uint64_t record) const;

  eventstore::EventStore* const store_;
  const std::vector<projections::ProjectionRunner*> projections_;
  const std::function<void(const std::string& stream_id)> after_redaction_;
  const absl::Duration erase_timeout_;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_REDACTOR_H_
