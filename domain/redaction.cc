#include "domain/redaction.h"

#include "absl/container/flat_hash_set.h"
#include "domain/event_codec.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace plantrail::domain {
namespace {

using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;

// The free-text fields of the plan's messages. Titles, ids, references and
// units are structure, not free text.
const absl::flat_hash_set<absl::string_view>& FreeTextFields() {
  static const auto* fields = new absl::flat_hash_set<absl::string_view>{
      "rationale", "desired_effect", "narrative",    "reason",    "note",
      "body",      "outcome",        "outcome_text", "correction"};
  return *fields;
}

void ClearFreeText(Message& message) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          ClearFreeText(
              *reflection->MutableRepeatedMessage(&message, field, i));
        }
      } else {
        ClearFreeText(*reflection->MutableMessage(&message, field));
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
               !field->is_repeated() && IsFreeTextField(field->name())) {
      reflection->SetString(&message, field, "");
    }
  }
}

}  // namespace

bool IsFreeTextField(absl::string_view name) {
  return FreeTextFields().contains(name);
}

v1::PlanEvent WithoutFreeText(const v1::PlanEvent& event) {
  v1::PlanEvent redacted = event;
  ClearFreeText(redacted);
  return redacted;
}

absl::StatusOr<std::string> RedactedPlanPayload(absl::string_view type,
                                                absl::string_view payload) {
  absl::StatusOr<v1::PlanEvent> event = DecodeEvent(type, payload);
  if (!event.ok()) return event.status();
  return EncodeEvent(WithoutFreeText(*event)).payload;
}

}  // namespace plantrail::domain
