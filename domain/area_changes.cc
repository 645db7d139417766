#include "domain/area_changes.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "domain/area_schedule.h"

namespace plantrail::domain {
namespace {

// A dependency is the same dependency when it points at the same thing in
// the same way; its note may be reworded.
std::string DependencyKey(const stored::Dependency& dependency) {
  return dependency.has_external()
             ? absl::StrCat("x\t", dependency.external(), "\t",
                            dependency.kind())
             : absl::StrCat("a\t", dependency.plan_id(), "\t",
                            dependency.area_id(), "\t", dependency.kind());
}

std::map<std::string, const stored::Dependency*> ByKey(
    const stored::AreaState& area) {
  std::map<std::string, const stored::Dependency*> keyed;
  for (const stored::Dependency& dependency : area.dependencies()) {
    keyed.emplace(DependencyKey(dependency), &dependency);
  }
  return keyed;
}

}  // namespace

bool AreaChanges::empty() const {
  return !registered && !phase && !health && !end_moved_days &&
         dependencies_added.empty() && dependencies_removed.empty() &&
         !closed && !reopened && status_reports == 0 && corrected_entries == 0;
}

AreaChanges CompareAreas(const stored::AreaState& start,
                         const stored::AreaState& end) {
  AreaChanges changes;
  if (end.version() == 0) return changes;  // not there at the end either
  const bool existed = start.version() > 0;
  changes.registered = !existed;
  if (start.phase() != end.phase()) {
    changes.phase = Move<stored::Phase>{start.phase(), end.phase()};
  }
  if (start.health() != end.health()) {
    changes.health = Move<stored::Health>{start.health(), end.health()};
  }
  if (existed && start.has_planned_end() && end.has_planned_end()) {
    const std::optional<absl::CivilDay> before = LastDayOf(start.planned_end());
    const std::optional<absl::CivilDay> after = LastDayOf(end.planned_end());
    if (before && after && *before != *after) {
      changes.end_moved_days = *after - *before;
    }
  }
  changes.slip_days_against_baseline = SlipDaysAgainstBaseline(end);
  const auto before = ByKey(start);
  const auto after = ByKey(end);
  for (const auto& [key, dependency] : after) {
    if (!before.contains(key))
      changes.dependencies_added.push_back(*dependency);
  }
  for (const auto& [key, dependency] : before) {
    if (!after.contains(key)) {
      changes.dependencies_removed.push_back(*dependency);
    }
  }
  changes.closed = end.closed() && !start.closed();
  changes.reopened = existed && start.closed() && !end.closed();
  // Both only grow along a stream; a pair of states from two streams
  // counts nothing rather than wrapping around.
  if (end.status_reports() > start.status_reports()) {
    changes.status_reports = end.status_reports() - start.status_reports();
  }
  if (end.corrected_positions_size() > start.corrected_positions_size()) {
    changes.corrected_entries = static_cast<uint32_t>(
        end.corrected_positions_size() - start.corrected_positions_size());
  }
  return changes;
}

void AddToSummary(const stored::AreaState& end, const AreaChanges& changes,
                  ChangesSummary& summary) {
  if (end.version() == 0) return;
  if (!changes.empty()) ++summary.areas_changed;
  if (changes.end_moved_days && *changes.end_moved_days > 0) ++summary.slipped;
  if (changes.health) {
    if (changes.health->to == stored::HEALTH_AT_RISK) ++summary.newly_at_risk;
    if (changes.health->to == stored::HEALTH_OFF_TRACK)
      ++summary.newly_off_track;
  }
  if (changes.closed && end.outcome() == stored::OUTCOME_COMPLETED) {
    ++summary.completed;
  }
  if (!end.closed() && changes.status_reports == 0) ++summary.silent;
}

}  // namespace plantrail::domain
