#include "audit/chain_check.h"

#include "absl/strings/str_cat.h"
#include "eventstore/record_format.h"

namespace plantrail::audit {
namespace {

namespace rf = eventstore::record_format;

absl::StatusOr<eventstore::Hash> HashField(const std::string& bytes,
                                           uint64_t position,
                                           absl::string_view field) {
  eventstore::Hash hash{};
  if (bytes.size() != hash.size()) {
    return absl::DataLossError(
        absl::StrCat("position ", position, ": ", field, " is not 32 bytes"));
  }
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

}  // namespace

absl::Status ChainCheck::Add(const eventstore::RecordedEvent& event,
                             bool payload_redacted) {
  if (event.position != position_ + 1) {
    return absl::DataLossError(absl::StrCat("position ", position_ + 1,
                                            " is missing (the next is ",
                                            event.position, ")"));
  }
  if (!payload_redacted && rf::Sha256(event.payload) != event.payload_hash) {
    return absl::DataLossError(absl::StrCat(
        "position ", event.position, ": the payload does not match its hash"));
  }
  const eventstore::Hash hash = rf::ChainHash(
      hash_, rf::Sha256(rf::EncodeHeader(event)), event.payload_hash);
  if (hash != event.hash) {
    return absl::DataLossError(absl::StrCat(
        "position ", event.position,
        ": the chain hash does not follow from the previous hash, the "
        "header and the payload hash"));
  }
  position_ = event.position;
  hash_ = hash;
  return absl::OkStatus();
}

absl::StatusOr<eventstore::RecordedEvent> FromProto(
    const v1::RecordedEvent& event) {
  eventstore::RecordedEvent out;
  out.event_id = event.event_id();
  out.stream_id = event.stream_id();
  out.type = event.type();
  out.payload = event.payload();
  out.content_type = event.content_type();
  out.metadata.insert(event.metadata().begin(), event.metadata().end());
  out.recorded_at = absl::FromUnixSeconds(event.recorded_at().seconds()) +
                    absl::Nanoseconds(event.recorded_at().nanos());
  out.position = event.position();
  out.stream_version = event.stream_version();
  absl::StatusOr<eventstore::Hash> hash =
      HashField(event.hash(), event.position(), "hash");
  if (!hash.ok()) return hash.status();
  out.hash = *hash;
  absl::StatusOr<eventstore::Hash> payload_hash =
      HashField(event.payload_hash(), event.position(), "payload_hash");
  if (!payload_hash.ok()) return payload_hash.status();
  out.payload_hash = *payload_hash;
  return out;
}

}  // namespace plantrail::audit
