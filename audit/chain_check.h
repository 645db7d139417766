// Recomputes the log's hash chain from events as a reader received them
// (over gRPC, or from an export file), with the very encoding the log
// writes (eventstore/record_format.h). Trusts no hash it is given: each
// stated hash must come out of the recomputation.
//
// Thread safety: none; one ChainCheck per walk.
#ifndef PLANTRAIL_AUDIT_CHAIN_CHECK_H_
#define PLANTRAIL_AUDIT_CHAIN_CHECK_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eventstore/event.h"
#include "google/protobuf/timestamp.pb.h"
#include "plantrail/v1/event_store.pb.h"

namespace plantrail::audit {

class ChainCheck {
 public:
  // Starts after `position`, whose chain hash is `hash`: (0, zeros) is the
  // start of the log. A walk that starts later is anchored by whatever
  // hash it ends at (a signed digest), since no other start reaches it.
  explicit ChainCheck(uint64_t position = 0, eventstore::Hash hash = {})
      : position_(position), hash_(hash) {}

  // Extends the chain by the next event. kDataLoss names the position and
  // what does not add up: a gap, a payload that is not its hash's, a chain
  // hash that the previous hash, header and payload hash do not give.
  // `payload_redacted`: the payload is a tombstone, so only the stated
  // payload hash goes into the chain. An event with a `header_hash` (its
  // metadata redacted) chains by that instead of its header's bytes, and
  // what is left of its header must be what its redaction's record (a
  // later event's record_format::kRedactedHeaderKey metadata) binds: a
  // mismatch is kDataLoss naming the redacted position. A binding of an
  // event this walk received unredacted (read before the redaction) or
  // did not receive is not checked.
  absl::Status Add(const eventstore::RecordedEvent& event,
                   bool payload_redacted = false);
  // The same for an event as gRPC carries it (its `redacted` flag says
  // whether the payload is a tombstone, a non-empty `header_hash` that the
  // header was redacted).
  absl::Status Add(const v1::RecordedEvent& event);

  // The last position added and its (recomputed) chain hash.
  uint64_t position() const { return position_; }
  const eventstore::Hash& hash() const { return hash_; }
  // The redacted headers added whose redaction's record has not been added
  // (yet), by position, with the SHA-256 of each as received: a walk that
  // reached the log's head must have none.
  const std::map<uint64_t, eventstore::Hash>& unbound_headers() const {
    return unbound_;
  }

 private:
  uint64_t position_;
  eventstore::Hash hash_;
  std::map<uint64_t, eventstore::Hash> unbound_;
};

// A proto timestamp as an absl::Time (the log's times are whole
// microseconds, so nothing is lost).
absl::Time TimeOf(const google::protobuf::Timestamp& timestamp);

// An event as the log stores it, from its gRPC form (header_hash set when
// the proto's is not empty); kDataLoss when a hash is not 32 bytes.
absl::StatusOr<eventstore::RecordedEvent> FromProto(
    const v1::RecordedEvent& event);

// The exact bytes of `event`'s header, which the chain hashes (unless the
// header was redacted: then its `header_hash` stands in for their hash):
// what an export carries for an event it leaves out, so the chain can still
// be recomputed through it.
std::string HeaderBytes(const v1::RecordedEvent& event);

// The header fields (position, version, time, id, stream, type, content
// type, metadata) back from HeaderBytes; no payload, no hashes. kDataLoss
// when the bytes do not decode.
absl::StatusOr<v1::RecordedEvent> FromHeaderBytes(absl::string_view header);

}  // namespace plantrail::audit

#endif  // PLANTRAIL_AUDIT_CHAIN_CHECK_H_
