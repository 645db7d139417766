#include "domain/plan_words.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace plantrail::domain {
namespace {

using google::protobuf::EnumDescriptor;

// "in-progress", "IN_PROGRESS", " In  progress" -> "in progress".
std::string Normalise(absl::string_view text) {
  std::string words = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  std::replace(words.begin(), words.end(), '-', ' ');
  std::replace(words.begin(), words.end(), '_', ' ');
  return absl::StrJoin(absl::StrSplit(words, ' ', absl::SkipEmpty()), " ");
}

}  // namespace

std::string EnumWords(const EnumDescriptor& descriptor, int number) {
  const auto* value = descriptor.FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat(number);
  std::string prefix;  // "DependencyKind" -> "DEPENDENCY_KIND_"
  for (char c : descriptor.name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix += '_';
    prefix += absl::ascii_toupper(c);
  }
  prefix += '_';
  absl::string_view name = value->name();
  absl::ConsumePrefix(&name, prefix);
  return Normalise(name);
}

absl::StatusOr<int> ParseEnumWords(const EnumDescriptor& descriptor,
                                   absl::string_view text,
                                   absl::string_view field) {
  const std::string wanted = Normalise(text);
  std::vector<std::string> accepted;
  for (int i = 0; i < descriptor.value_count(); ++i) {
    const int number = descriptor.value(i)->number();
    if (number == 0) continue;
    const std::string words = EnumWords(descriptor, number);
    if (wanted == words || wanted == Normalise(descriptor.value(i)->name())) {
      return number;
    }
    accepted.push_back(absl::StrCat("\"", words, "\""));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": \"", text, "\" is not one of ",
                   absl::StrJoin(accepted, ", "), " [rule: known-value]"));
}

std::string EventTypeWords(absl::string_view type) {
  std::string words;
  for (char c : type) {
    if (absl::ascii_isupper(c)) {
      if (!words.empty()) words += ' ';
      words += absl::ascii_tolower(c);
    } else {
      words += c;
    }
  }
  return words;
}

std::string FieldWords(absl::string_view field) {
  return absl::StrReplaceAll(field, {{"_", " "}});
}

}  // namespace plantrail::domain
