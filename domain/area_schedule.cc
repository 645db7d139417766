#include "domain/area_schedule.h"

#include "absl/status/statusor.h"
#include "domain/plan_date.h"
#include "domain/plan_date_proto.h"

namespace plantrail::domain {
namespace {

std::optional<int64_t> DaysFromTo(bool has_from, const stored::PlanDate& from,
                                  bool has_to, const stored::PlanDate& to) {
  if (!has_from || !has_to) return std::nullopt;
  const std::optional<absl::CivilDay> first = LastDayOf(from);
  const std::optional<absl::CivilDay> last = LastDayOf(to);
  if (!first || !last) return std::nullopt;
  return *last - *first;
}

}  // namespace

std::optional<absl::CivilDay> FirstDayOf(const stored::PlanDate& date) {
  absl::StatusOr<PlanDate> parsed = FromProto(date);
  if (!parsed.ok()) return std::nullopt;
  return parsed->first_day();
}

std::optional<absl::CivilDay> LastDayOf(const stored::PlanDate& date) {
  absl::StatusOr<PlanDate> parsed = FromProto(date);
  if (!parsed.ok()) return std::nullopt;
  return parsed->last_day();
}

bool IsOverdue(const stored::AreaState& area, absl::CivilDay today) {
  if (area.closed() || !area.has_planned_end()) return false;
  const std::optional<absl::CivilDay> end = LastDayOf(area.planned_end());
  return end && *end < today;
}

std::optional<int64_t> SlipDaysAgainstBaseline(const stored::AreaState& area) {
  return DaysFromTo(area.has_baseline_end(), area.baseline_end(),
                    area.has_planned_end(), area.planned_end());
}

std::optional<int64_t> SlipDaysAgainstPrevious(const stored::AreaState& area) {
  return DaysFromTo(area.has_previous_end(), area.previous_end(),
                    area.has_planned_end(), area.planned_end());
}

bool HasSlipped(const stored::AreaState& area) {
  const std::optional<int64_t> days = SlipDaysAgainstBaseline(area);
  return days && *days > 0;
}

}  // namespace plantrail::domain
