#include "services/event_store_proto.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "domain/event_codec.h"
#include "domain/metadata_keys.h"
#include "domain/timestamps.h"

namespace plantrail::services {

absl::StatusOr<eventstore::AppendRequest> FromProto(
    const v1::AppendRequest& request) {
  eventstore::AppendRequest out;
  out.stream_id = request.stream_id();
  const v1::ExpectedVersion& expected = request.expected_version();
  switch (expected.kind_case()) {
    case v1::ExpectedVersion::KIND_NOT_SET:
    case v1::ExpectedVersion::kAny:
      out.expected_version = eventstore::ExpectedVersion::Any();
      break;
    case v1::ExpectedVersion::kNoStream:
      out.expected_version = eventstore::ExpectedVersion::NoStream();
      break;
    case v1::ExpectedVersion::kStreamExists:
      out.expected_version = eventstore::ExpectedVersion::StreamExists();
      break;
    case v1::ExpectedVersion::kExact:
      out.expected_version =
          eventstore::ExpectedVersion::Exact(expected.exact());
      break;
  }
  out.events.reserve(request.events_size());
  for (const v1::ProposedEvent& event : request.events()) {
    out.events.push_back(eventstore::ProposedEvent{
        .event_id = event.event_id(),
        .type = event.type(),
        .payload = event.payload(),
        .content_type = event.content_type(),
        .metadata = {event.metadata().begin(), event.metadata().end()},
    });
  }
  return out;
}

absl::StatusOr<eventstore::ReadStreamRequest> FromProto(
    const v1::ReadStreamRequest& request) {
  eventstore::ReadStreamRequest out{
      .stream_id = request.stream_id(),
      .from_version = request.from_version(),
      .limit = request.limit(),
  };
  switch (request.direction()) {
    case v1::READ_DIRECTION_FORWARD:
      out.direction = eventstore::ReadDirection::kForward;
      break;
    case v1::READ_DIRECTION_BACKWARD:
      out.direction = eventstore::ReadDirection::kBackward;
      break;
    default:
      return absl::InvalidArgumentError(
          "direction: must be READ_DIRECTION_FORWARD or "
          "READ_DIRECTION_BACKWARD");
  }
  return out;
}

eventstore::ReadAllRequest FromProto(const v1::ReadAllRequest& request) {
  return eventstore::ReadAllRequest{.from_position = request.from_position(),
                                    .limit = request.limit()};
}

void ToProto(const eventstore::AppendResult& result,
             v1::AppendResponse& response) {
  response.set_first_position(result.first_position);
  response.set_last_position(result.last_position);
  response.set_first_version(result.first_version);
  response.set_last_version(result.last_version);
  for (const std::string& id : result.event_ids) response.add_event_ids(id);
  response.set_replayed(result.replayed);
}

void ToProto(eventstore::RecordedEvent event, v1::RecordedEvent& out) {
  out.set_event_id(std::move(event.event_id));
  out.set_stream_id(std::move(event.stream_id));
  out.set_type(std::move(event.type));
  out.set_payload(std::move(event.payload));
  out.set_content_type(std::move(event.content_type));
  for (auto& [key, value] : event.metadata) {
    (*out.mutable_metadata())[key] = std::move(value);
  }
  domain::SetTimestamp(*out.mutable_recorded_at(), event.recorded_at);
  out.set_position(event.position);
  out.set_stream_version(event.stream_version);
  out.set_hash(event.hash.data(), event.hash.size());
  out.set_payload_hash(event.payload_hash.data(), event.payload_hash.size());
  out.set_redacted(event.redacted);
  if (event.header_hash) {
    out.set_header_hash(event.header_hash->data(), event.header_hash->size());
  }
}

void ToProto(eventstore::StreamPage page, v1::ReadStreamResponse& response) {
  for (eventstore::RecordedEvent& event : page.events) {
    ToProto(std::move(event), *response.add_events());
  }
  response.set_next_version(page.next_version);
  response.set_last_version(page.last_version);
}

void ToProto(eventstore::LogPage page, v1::ReadAllResponse& response) {
  for (eventstore::RecordedEvent& event : page.events) {
    ToProto(std::move(event), *response.add_events());
  }
  response.set_next_position(page.next_position);
  response.set_head_position(page.head_position);
}

eventstore::ProposedEvent SystemEvent(const google::protobuf::Message& event,
                                      absl::string_view actor) {
  eventstore::ProposedEvent proposed;
  proposed.type = event.GetDescriptor()->name();
  proposed.content_type = domain::PayloadContentType(*event.GetDescriptor());
  event.SerializeToString(&proposed.payload);
  proposed.metadata[domain::kActorKey] = std::string(actor);
  return proposed;
}

}  // namespace plantrail::services
