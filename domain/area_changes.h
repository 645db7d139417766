// What changed in one area between two of its states: the state at the
// start of a window (a council's previous meeting, a follow-up round) and
// the state at its end. The moves a planning office reports on: phase and
// health, the planned end (against the window's start and against the
// baseline), dependencies added and removed, closing and reopening, reports
// and corrections made in between.
//
// The comparison of two folded states, nothing else: which events fall in
// the window, and by which clock (recorded time or business date), is the
// caller's choice, so that a query over an index and a brute-force fold of
// every stream give the same answer by construction (issue: follow-up
// rounds, GetChanges). Pure functions; thread-safe.
#ifndef PLANTRAIL_DOMAIN_AREA_CHANGES_H_
#define PLANTRAIL_DOMAIN_AREA_CHANGES_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/time/civil_time.h"
#include "plantrail/stored/plan.pb.h"

namespace plantrail::domain {

template <typename Enum>
struct Move {
  Enum from{};
  Enum to{};
  bool operator==(const Move&) const = default;
};

struct AreaChanges {
  // Not there at the start (version 0), there at the end.
  bool registered = false;
  std::optional<Move<stored::Phase>> phase;
  std::optional<Move<stored::Health>> health;
  // The planned end's last day moved by this many days (later: positive),
  // when both states have a dated planned end and it moved.
  std::optional<int64_t> end_moved_days;
  // At the end of the window, against the baseline (area_schedule.h).
  std::optional<int64_t> slip_days_against_baseline;
  std::vector<stored::Dependency> dependencies_added;
  std::vector<stored::Dependency> dependencies_removed;
  // Open at the start (or not there), closed at the end; and the reverse.
  bool closed = false;
  bool reopened = false;
  // Status reports recorded in between, and entries of the area's history
  // that a correction recorded in between points at.
  uint32_t status_reports = 0;
  uint32_t corrected_entries = 0;

  // Nothing of the above: the area was silent or unchanged.
  bool empty() const;
};

AreaChanges CompareAreas(const stored::AreaState& start,
                         const stored::AreaState& end);

// A council's questions of a set of areas' changes.
struct ChangesSummary {
  uint32_t areas_changed = 0;
  // The planned end moved later.
  uint32_t slipped = 0;
  // Health moved to at risk or off track from anything else.
  uint32_t newly_at_risk = 0;
  uint32_t newly_off_track = 0;
  // Closed as completed in the window.
  uint32_t completed = 0;
  // Open at the end and without a status report in the window.
  uint32_t silent = 0;
};

void AddToSummary(const stored::AreaState& end, const AreaChanges& changes,
                  ChangesSummary& summary);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_AREA_CHANGES_H_
