#include "domain/event_codec.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace plantrail::domain {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const google::protobuf::OneofDescriptor& EventOneof() {
  return *stored::PlanEvent::descriptor()->FindOneofByName("event");
}

// The oneof field whose message type is named `type`, or null.
const FieldDescriptor* FieldForType(absl::string_view type) {
  const google::protobuf::OneofDescriptor& oneof = EventOneof();
  for (int i = 0; i < oneof.field_count(); ++i) {
    const FieldDescriptor* field = oneof.field(i);
    if (field->message_type()->name() == type) return field;
  }
  return nullptr;
}

}  // namespace

std::string EventType(const stored::PlanEvent& event) {
  const FieldDescriptor* field =
      event.GetReflection()->GetOneofFieldDescriptor(event, &EventOneof());
  return field == nullptr ? std::string() : field->message_type()->name();
}

std::string PayloadContentType(const google::protobuf::Descriptor& message) {
  return absl::StrCat("application/x-protobuf; messageType=plantrail.v1.",
                      message.name());
}

EncodedEvent EncodeEvent(const stored::PlanEvent& event) {
  const FieldDescriptor* field =
      event.GetReflection()->GetOneofFieldDescriptor(event, &EventOneof());
  EncodedEvent encoded;
  if (field == nullptr) return encoded;
  const Message& message = event.GetReflection()->GetMessage(event, field);
  encoded.type = field->message_type()->name();
  encoded.content_type = PayloadContentType(*field->message_type());
  // Deterministic, so that an idempotent retry produces the same bytes.
  {
    google::protobuf::io::StringOutputStream stream(&encoded.payload);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return encoded;
}

absl::StatusOr<stored::PlanEvent> DecodeEvent(absl::string_view type,
                                              absl::string_view payload) {
  const FieldDescriptor* field = FieldForType(type);
  if (field == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", type, "\" is not a plan event type"));
  }
  stored::PlanEvent event;
  Message* message = event.GetReflection()->MutableMessage(&event, field);
  if (!message->ParseFromArray(payload.data(),
                               static_cast<int>(payload.size()))) {
    return absl::DataLossError(
        absl::StrCat("a stored ", type, " does not parse"));
  }
  return event;
}

absl::StatusOr<stored::PlanEvent> DecodeForFold(absl::string_view type,
                                                absl::string_view payload) {
  absl::StatusOr<stored::PlanEvent> event = DecodeEvent(type, payload);
  if (absl::IsInvalidArgument(event.status())) return stored::PlanEvent();
  return event;
}

}  // namespace plantrail::domain
