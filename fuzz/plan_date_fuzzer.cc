// Plan dates from hostile text: PlanDate::Parse and ParsePlanRange read any
// bytes (a command's planned_start, an import's cell), FromProto any stored
// stored::PlanDate. Beyond not crashing, each must keep the promises of
// domain/plan_date.h and plan_date_proto.h:
//   - a date that reads reads the same again from its text() and from its
//     Canonical(), whose own Canonical() is itself, and survives
//     ToProto/FromProto with its period and its text (a stored date shows
//     what was written);
//   - a lone date is also a range that starts and ends with it;
//   - a range has a start or an end, each side reads the same from its own
//     text, it does not end before it starts, and its text reads as the same
//     range;
//   - a refusal is kInvalidArgument.
// Input: the text, or, after a first byte 0x00, a serialized stored::PlanDate.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "domain/plan_date.h"
#include "domain/plan_date_proto.h"
#include "fuzz/fuzz_check.h"
#include "plantrail/stored/plan.pb.h"

namespace plantrail::fuzz {
namespace {

using domain::PlanDate;
using domain::PlanRange;

std::string Show(const PlanDate& date) {
  return absl::StrCat(date.Canonical(), " written ", Escaped(date.text()));
}

void CheckRefusal(const absl::Status& status, absl::string_view input) {
  PLANTRAIL_FUZZ_CHECK(absl::IsInvalidArgument(status),
                       absl::StrCat(Escaped(input), ": ", Describe(status)));
}

// `date` as ToProto stores it reads back as the same period and text.
void CheckStored(const PlanDate& date) {
  const absl::StatusOr<PlanDate> stored = domain::FromProto(ToProto(date));
  PLANTRAIL_FUZZ_CHECK(
      stored.ok(), absl::StrCat(Show(date), ": ", Describe(stored.status())));
  PLANTRAIL_FUZZ_CHECK(*stored == date && stored->text() == date.text(),
                       absl::StrCat(Show(date), " stored as ", Show(*stored)));
}

// `date` reads as itself from `text`; returns what it read.
PlanDate ReadsAs(absl::string_view text, const PlanDate& date) {
  const absl::StatusOr<PlanDate> again = PlanDate::Parse(text);
  PLANTRAIL_FUZZ_CHECK(again.ok(), absl::StrCat(Show(date), ": ", Escaped(text),
                                                " ", Describe(again.status())));
  PLANTRAIL_FUZZ_CHECK(*again == date,
                       absl::StrCat(Show(date), ": ", Escaped(text),
                                    " reads as ", Show(*again)));
  return *again;
}

void CheckDate(const PlanDate& date) {
  PLANTRAIL_FUZZ_CHECK(ReadsAs(date.text(), date).text() == date.text(),
                       Show(date));
  const std::string canonical = date.Canonical();
  PLANTRAIL_FUZZ_CHECK(ReadsAs(canonical, date).Canonical() == canonical,
                       Show(date));
  const std::optional<absl::CivilDay> first = date.first_day();
  const std::optional<absl::CivilDay> last = date.last_day();
  PLANTRAIL_FUZZ_CHECK(first.has_value() == last.has_value(), Show(date));
  PLANTRAIL_FUZZ_CHECK(!first || *first <= *last, Show(date));
  PLANTRAIL_FUZZ_CHECK(domain::CompareByEnd(date, date) == 0, Show(date));
  CheckStored(date);
}

bool IsOngoing(const PlanDate& date) {
  return date.precision() == PlanDate::Precision::kOngoing;
}
bool IsAsSoonAsPossible(const PlanDate& date) {
  return date.precision() == PlanDate::Precision::kAsSoonAsPossible;
}

void CheckRange(const PlanRange& range, absl::string_view input) {
  PLANTRAIL_FUZZ_CHECK(range.start || range.end, Escaped(input));
  for (const std::optional<PlanDate>* side : {&range.start, &range.end}) {
    if (*side) CheckDate(**side);
  }
  if (range.start && range.end) {
    const PlanDate& start = *range.start;
    const PlanDate& end = *range.end;
    const auto both = [&] {
      return absl::StrCat(Escaped(input), ": ", Show(start), " to ", Show(end));
    };
    if (start.last_day() && end.last_day()) {
      PLANTRAIL_FUZZ_CHECK(*end.last_day() >= *start.first_day(), both());
    }
    PLANTRAIL_FUZZ_CHECK(!IsOngoing(start) || IsOngoing(end), both());
    PLANTRAIL_FUZZ_CHECK(!IsAsSoonAsPossible(end) || IsAsSoonAsPossible(start),
                         both());
  }
  const absl::StatusOr<PlanRange> again = domain::ParsePlanRange(range.text);
  PLANTRAIL_FUZZ_CHECK(again.ok(),
                       absl::StrCat(Escaped(input), " as ", Escaped(range.text),
                                    ": ", Describe(again.status())));
  for (const auto& [was, is] : {std::pair(&range.start, &again->start),
                                std::pair(&range.end, &again->end)}) {
    PLANTRAIL_FUZZ_CHECK(
        was->has_value() == is->has_value() &&
            (!*was || (**was == **is && (*was)->text() == (*is)->text())),
        absl::StrCat(Escaped(input), " reads differently from its text ",
                     Escaped(range.text)));
  }
}

void FuzzText(absl::string_view text) {
  const absl::StatusOr<PlanDate> date = PlanDate::Parse(text);
  const absl::StatusOr<PlanRange> range = domain::ParsePlanRange(text);
  if (!range.ok()) CheckRefusal(range.status(), text);
  if (range.ok()) CheckRange(*range, text);
  if (!date.ok()) {
    CheckRefusal(date.status(), text);
    return;
  }
  CheckDate(*date);
  // A lone date is both the start and the end of its range.
  PLANTRAIL_FUZZ_CHECK(
      range.ok(), absl::StrCat(Escaped(text), " is ", Show(*date),
                               " but no range: ", Describe(range.status())));
  PLANTRAIL_FUZZ_CHECK(
      range->start && *range->start == *date && range->end &&
          *range->end == *date,
      absl::StrCat(Escaped(text), " is ", Show(*date), " but not its range"));
}

void FuzzStored(absl::string_view bytes) {
  stored::PlanDate stored;
  if (!stored.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  const absl::StatusOr<PlanDate> date = domain::FromProto(stored);
  if (!date.ok()) {
    CheckRefusal(date.status(), stored.ShortDebugString());
    return;
  }
  CheckStored(*date);
}

// A leading 0 byte: the rest is a stored PlanDate; else it is text.
void FuzzInput(absl::string_view input) {
  if (!input.empty() && input[0] == '\0') {
    FuzzStored(input.substr(1));
  } else {
    FuzzText(input);
  }
}

}  // namespace
}  // namespace plantrail::fuzz

PLANTRAIL_FUZZ_TARGET(plantrail::fuzz::FuzzInput)
