// What an area's schedule says on a day: whether it is overdue, and how far
// its planned end has slipped. One definition for the queries' filters and
// portfolio counts, the timeline and the reports, so that a listing and the
// page that draws it never disagree.
//
// Days are UTC calendar days; a plan date counts by its last day for an
// end ("Q4 2023" ends on 2023-12-31). Pure functions; thread-safe.
#ifndef PLANTRAIL_DOMAIN_AREA_SCHEDULE_H_
#define PLANTRAIL_DOMAIN_AREA_SCHEDULE_H_

#include <cstdint>
#include <optional>

#include "absl/time/civil_time.h"
#include "plantrail/stored/plan.pb.h"

namespace plantrail::domain {

// The first and the last day of a stored plan date; nullopt for one
// without days ("as soon as possible", "ongoing") or that does not read.
std::optional<absl::CivilDay> FirstDayOf(const stored::PlanDate& date);
std::optional<absl::CivilDay> LastDayOf(const stored::PlanDate& date);

// Open, with a dated planned end whose last day is before `today`.
bool IsOverdue(const stored::AreaState& area, absl::CivilDay today);

// Days from the baseline end (or the end before the last revision) to the
// planned end, both by their last day: positive when the end moved later.
// nullopt unless both ends are there and dated.
std::optional<int64_t> SlipDaysAgainstBaseline(const stored::AreaState& area);
std::optional<int64_t> SlipDaysAgainstPrevious(const stored::AreaState& area);

// The planned end lies after the baseline end.
bool HasSlipped(const stored::AreaState& area);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_AREA_SCHEDULE_H_
