// Plan events as the log stores them: type = the event message's name,
// payload = its binary protobuf encoding, content type naming the message.
#ifndef PLANTRAIL_DOMAIN_EVENT_CODEC_H_
#define PLANTRAIL_DOMAIN_EVENT_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "plantrail/stored/plan_events.pb.h"

namespace plantrail::domain {

struct EncodedEvent {
  std::string type;
  std::string payload;
  std::string content_type;
};

// `event` must have its oneof set.
EncodedEvent EncodeEvent(const stored::PlanEvent& event);

// kInvalidArgument for a type that is not a plan event; kDataLoss for a
// payload that does not parse as the type's message.
absl::StatusOr<stored::PlanEvent> DecodeEvent(absl::string_view type,
                                              absl::string_view payload);

// A stored event as every fold of a plan stream reads it (the server's
// projections and the CLI's import alike): a type this build does not know
// (a newer server wrote it) is an empty PlanEvent, which evolve counts as a
// version and otherwise leaves alone, so an older reader keeps working;
// kDataLoss for a known type whose payload does not parse.
absl::StatusOr<stored::PlanEvent> DecodeForFold(absl::string_view type,
                                                absl::string_view payload);

// The content type a stored message is written with. It names the message's
// twin in the contract ("application/x-protobuf;
// messageType=plantrail.v1.StatusReported"): the type a reader of the change
// stream decodes the payload with. Events stored before the stored schema
// had a package of its own carry the same text.
std::string PayloadContentType(const google::protobuf::Descriptor& message);

// The type name of the event set in `event` ("StatusReported").
std::string EventType(const stored::PlanEvent& event);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_EVENT_CODEC_H_
