// The input rules of the log. Every rule is checked before anything is
// written, and a breach fails with kInvalidArgument naming the field (as the
// contract spells it, e.g. "events[2].metadata") and the rule.
#ifndef PLANTRAIL_EVENTSTORE_LIMITS_H_
#define PLANTRAIL_EVENTSTORE_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace plantrail::eventstore {

struct AppendRequest;

struct Limits {
  // stream_id: [A-Za-z0-9][A-Za-z0-9._:@-]*
  size_t max_stream_id_length = 128;
  // type: [A-Za-z][A-Za-z0-9._-]*
  size_t max_event_type_length = 128;
  // content_type: printable ASCII.
  size_t max_content_type_length = 128;
  size_t max_payload_bytes = 1 << 20;
  size_t max_metadata_entries = 64;
  // metadata keys: [A-Za-z0-9._-]+, not record_format::kRedactedHeaderKey
  size_t max_metadata_key_length = 64;
  size_t max_metadata_value_bytes = 1024;
  size_t max_metadata_bytes = 16 << 10;
  size_t max_events_per_append = 1000;
  // Payloads and metadata of one append together.
  size_t max_append_bytes = 8 << 20;
  uint32_t default_page_size = 100;
  uint32_t max_page_size = 1000;
  // A page stops early (after at least one event) past this many bytes of
  // payload, so that a response stays well inside gRPC's 4 MiB default.
  size_t max_page_bytes = 2 << 20;
};

absl::Status ValidateStreamId(absl::string_view field, absl::string_view id,
                              const Limits& limits);

// Checks syntax and sizes of everything in `request`, and that its event ids
// are well-formed and distinct. State (versions, stored ids) is the writer's.
absl::Status ValidateAppend(const AppendRequest& request, const Limits& limits);

// Turns a requested page size (0: default) into the one to use.
absl::StatusOr<uint32_t> ResolvePageSize(uint32_t requested,
                                         const Limits& limits);

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_EVENTSTORE_LIMITS_H_
