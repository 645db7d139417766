#include "domain/redaction.h"

#include <algorithm>

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

// Calls `visit` with the message and field of every singular free-text
// field set in `message`, at any depth.
template <typename Visit>
void ForEachFreeText(Message& message, const Visit& visit) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          ForEachFreeText(
              *reflection->MutableRepeatedMessage(&message, field, i), visit);
        }
      } else {
        ForEachFreeText(*reflection->MutableMessage(&message, field), visit);
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
               !field->is_repeated() && IsFreeTextField(field->name())) {
      visit(message, *field);
    }
  }
}

void ClearFreeText(Message& message) {
  ForEachFreeText(message, [](Message& m, const FieldDescriptor& field) {
    m.GetReflection()->SetString(&m, &field, "");
  });
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

std::vector<std::string> FreeTexts(const v1::PlanEvent& event) {
  v1::PlanEvent copy = event;
  std::vector<std::string> texts;
  ForEachFreeText(copy, [&](Message& m, const FieldDescriptor& field) {
    std::string text = m.GetReflection()->GetString(m, &field);
    if (!text.empty()) texts.push_back(std::move(text));
  });
  return texts;
}

v1::PlanEvent WithoutTexts(const v1::PlanEvent& event,
                           const std::vector<std::string>& texts) {
  v1::PlanEvent narrowed = event;
  ForEachFreeText(narrowed, [&](Message& m, const FieldDescriptor& field) {
    const google::protobuf::Reflection* reflection = m.GetReflection();
    if (std::find(texts.begin(), texts.end(),
                  reflection->GetString(m, &field)) != texts.end()) {
      reflection->SetString(&m, &field, "");
    }
  });
  return narrowed;
}

absl::StatusOr<std::string> RedactedPlanPayload(absl::string_view type,
                                                absl::string_view payload) {
  absl::StatusOr<v1::PlanEvent> event = DecodeEvent(type, payload);
  if (!event.ok()) return event.status();
  return EncodeEvent(WithoutFreeText(*event)).payload;
}

}  // namespace plantrail::domain
