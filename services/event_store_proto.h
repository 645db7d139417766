// Conversions between the contract's messages (plantrail.v1) and the event
// store's values. Decoding checks what only the contract can get wrong
// (unset enums); the store checks everything else.
#ifndef PLANTRAIL_SERVICES_EVENT_STORE_PROTO_H_
#define PLANTRAIL_SERVICES_EVENT_STORE_PROTO_H_

#include "absl/status/statusor.h"
#include "eventstore/event.h"
#include "google/protobuf/message.h"
#include "plantrail/v1/event_store.pb.h"

namespace plantrail::services {

absl::StatusOr<eventstore::AppendRequest> FromProto(
    const v1::AppendRequest& request);
absl::StatusOr<eventstore::ReadStreamRequest> FromProto(
    const v1::ReadStreamRequest& request);
eventstore::ReadAllRequest FromProto(const v1::ReadAllRequest& request);

void ToProto(const eventstore::AppendResult& result,
             v1::AppendResponse& response);
void ToProto(eventstore::RecordedEvent event, v1::RecordedEvent& out);
void ToProto(eventstore::StreamPage page, v1::ReadStreamResponse& response);
void ToProto(eventstore::LogPage page, v1::ReadAllResponse& response);

// An event of a system stream (security, redactions): the message's name as
// type, its binary encoding as payload with a content type naming it, and
// the actor in the metadata.
eventstore::ProposedEvent SystemEvent(const google::protobuf::Message& event,
                                      absl::string_view actor);

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_EVENT_STORE_PROTO_H_
