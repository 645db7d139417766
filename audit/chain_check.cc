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

absl::Time TimeOf(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

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
  // A header whose metadata a redaction cleared chains by the hash of the
  // header as appended, which the event states.
  const eventstore::Hash hash =
      rf::ChainHash(hash_, rf::HeaderHash(event), event.payload_hash);
  if (hash != event.hash) {
    return absl::DataLossError(absl::StrCat(
        "position ", event.position,
        ": the chain hash does not follow from the previous hash, the "
        "header and the payload hash"));
  }
  if (auto bound = event.metadata.find(rf::kRedactedHeaderKey);
      bound != event.metadata.end()) {
    absl::StatusOr<rf::RedactedHeader> header =
        rf::DecodeRedactedHeader(bound->second);
    if (!header.ok()) {
      return absl::DataLossError(absl::StrCat("position ", event.position, ": ",
                                              header.status().message()));
    }
    if (auto unbound = unbound_.find(header->position);
        unbound != unbound_.end()) {
      if (unbound->second != header->hash) {
        return absl::DataLossError(absl::StrCat(
            "position ", header->position,
            ": the redacted header is not the one its redaction recorded "
            "(position ",
            event.position, ")"));
      }
      unbound_.erase(unbound);
    }
  }
  if (event.header_hash) {
    unbound_[event.position] = rf::Sha256(rf::EncodeHeader(event));
  }
  position_ = event.position;
  hash_ = hash;
  return absl::OkStatus();
}

absl::Status ChainCheck::Add(const v1::RecordedEvent& event) {
  absl::StatusOr<eventstore::RecordedEvent> stored = FromProto(event);
  if (!stored.ok()) return stored.status();
  return Add(*stored, event.redacted());
}

std::string HeaderBytes(const v1::RecordedEvent& event) {
  eventstore::RecordedEvent stored;
  stored.event_id = event.event_id();
  stored.stream_id = event.stream_id();
  stored.type = event.type();
  stored.content_type = event.content_type();
  stored.metadata.insert(event.metadata().begin(), event.metadata().end());
  stored.recorded_at = TimeOf(event.recorded_at());
  stored.position = event.position();
  stored.stream_version = event.stream_version();
  return rf::EncodeHeader(stored);
}

absl::StatusOr<v1::RecordedEvent> FromHeaderBytes(absl::string_view header) {
  absl::StatusOr<eventstore::RecordedEvent> stored = rf::DecodeHeader(header);
  if (!stored.ok()) return stored.status();
  v1::RecordedEvent event;
  event.set_event_id(stored->event_id);
  event.set_stream_id(stored->stream_id);
  event.set_type(stored->type);
  event.set_content_type(stored->content_type);
  event.mutable_metadata()->insert(stored->metadata.begin(),
                                   stored->metadata.end());
  const int64_t micros = absl::ToUnixMicros(stored->recorded_at);
  event.mutable_recorded_at()->set_seconds(
      micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000));
  event.mutable_recorded_at()->set_nanos(static_cast<int32_t>(
      (micros - event.recorded_at().seconds() * 1000000) * 1000));
  event.set_position(stored->position);
  event.set_stream_version(stored->stream_version);
  return event;
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
  out.recorded_at = TimeOf(event.recorded_at());
  out.position = event.position();
  out.stream_version = event.stream_version();
  out.redacted = event.redacted();
  absl::StatusOr<eventstore::Hash> hash =
      HashField(event.hash(), event.position(), "hash");
  if (!hash.ok()) return hash.status();
  out.hash = *hash;
  absl::StatusOr<eventstore::Hash> payload_hash =
      HashField(event.payload_hash(), event.position(), "payload_hash");
  if (!payload_hash.ok()) return payload_hash.status();
  out.payload_hash = *payload_hash;
  if (!event.header_hash().empty()) {
    absl::StatusOr<eventstore::Hash> header_hash =
        HashField(event.header_hash(), event.position(), "header_hash");
    if (!header_hash.ok()) return header_hash.status();
    out.header_hash = *header_hash;
  }
  return out;
}

}  // namespace plantrail::audit
