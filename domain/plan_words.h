// The plan's words for its enums and names, in one place for the server's
// messages, the history projection, the CLI, the timeline and the import:
// PHASE_IN_PROGRESS is "in progress", DEPENDENCY_KIND_REQUIRES "requires",
// the event type ScheduleRevised "schedule revised".
//
// Reading is lenient about case and separators ("IN_PROGRESS",
// "in-progress" and "In progress" are one phase) and a refusal names the
// field, the accepted words and the rule, like every other refusal.
//
// Pure functions over the generated descriptors; thread-safe.
#ifndef PLANTRAIL_DOMAIN_PLAN_WORDS_H_
#define PLANTRAIL_DOMAIN_PLAN_WORDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace plantrail::domain {

// The value's name without its enum's prefix, in lower-case words:
// PHASE_UNSPECIFIED is "unspecified". A number the enum does not know is
// written as the number.
std::string EnumWords(const google::protobuf::EnumDescriptor& descriptor,
                      int number);

template <typename Enum>
std::string Words(Enum value) {
  return EnumWords(*google::protobuf::GetEnumDescriptor<Enum>(),
                   static_cast<int>(value));
}

// The value `text` names, by its words or its full name; never the unset
// value (0). Refuses with INVALID_ARGUMENT naming `field` and the accepted
// words [rule: known-value].
absl::StatusOr<int> ParseEnumWords(
    const google::protobuf::EnumDescriptor& descriptor, absl::string_view text,
    absl::string_view field);

template <typename Enum>
absl::StatusOr<Enum> ParseWords(absl::string_view text,
                                absl::string_view field) {
  absl::StatusOr<int> number =
      ParseEnumWords(*google::protobuf::GetEnumDescriptor<Enum>(), text, field);
  if (!number.ok()) return number.status();
  return static_cast<Enum>(*number);
}

// "ScheduleRevised" -> "schedule revised".
std::string EventTypeWords(absl::string_view type);
// "planned_end" -> "planned end".
std::string FieldWords(absl::string_view field);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_PLAN_WORDS_H_
