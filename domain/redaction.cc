#include "domain/redaction.h"

#include <algorithm>

#include "domain/event_codec.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "plantrail/stored/field_options.pb.h"
#include "plantrail/stored/plan.pb.h"

namespace plantrail::domain {
namespace {

using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;

// Calls `visit` with the message, field and index (-1: singular) of every
// free-text value set in `message`, at any depth.
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
    } else if (IsFreeText(*field)) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          visit(message, *field, i);
        }
      } else {
        visit(message, *field, -1);
      }
    }
  }
}

std::string GetText(const Message& message, const FieldDescriptor& field,
                    int index) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  return index < 0 ? reflection->GetString(message, &field)
                   : reflection->GetRepeatedString(message, &field, index);
}

void SetText(Message& message, const FieldDescriptor& field, int index,
             std::string text) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (index < 0) {
    reflection->SetString(&message, &field, std::move(text));
  } else {
    reflection->SetRepeatedString(&message, &field, index, std::move(text));
  }
}

void ClearFreeText(Message& message) {
  ForEachFreeText(message, [](Message& m, const FieldDescriptor& field,
                              int index) { SetText(m, field, index, ""); });
}

}  // namespace

bool IsFreeText(const FieldDescriptor& field) {
  return field.cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
         field.options().GetExtension(stored::text_class) == stored::TEXT_FREE;
}

bool IsFreeTextAreaField(absl::string_view name) {
  const FieldDescriptor* field =
      stored::AreaState::descriptor()->FindFieldByName(std::string(name));
  return field != nullptr && IsFreeText(*field);
}

stored::PlanEvent WithoutFreeText(const stored::PlanEvent& event) {
  stored::PlanEvent redacted = event;
  ClearFreeText(redacted);
  return redacted;
}

std::vector<std::string> FreeTexts(const stored::PlanEvent& event) {
  stored::PlanEvent copy = event;
  std::vector<std::string> texts;
  ForEachFreeText(copy,
                  [&](Message& m, const FieldDescriptor& field, int index) {
                    std::string text = GetText(m, field, index);
                    if (!text.empty()) texts.push_back(std::move(text));
                  });
  return texts;
}

stored::PlanEvent WithoutTexts(const stored::PlanEvent& event,
                               const std::vector<std::string>& texts) {
  stored::PlanEvent narrowed = event;
  ForEachFreeText(
      narrowed, [&](Message& m, const FieldDescriptor& field, int index) {
        if (std::find(texts.begin(), texts.end(), GetText(m, field, index)) !=
            texts.end()) {
          SetText(m, field, index, "");
        }
      });
  return narrowed;
}

absl::StatusOr<std::string> RedactedPlanPayload(absl::string_view type,
                                                absl::string_view payload) {
  absl::StatusOr<stored::PlanEvent> event = DecodeEvent(type, payload);
  if (!event.ok()) return event.status();
  return EncodeEvent(WithoutFreeText(*event)).payload;
}

}  // namespace plantrail::domain
