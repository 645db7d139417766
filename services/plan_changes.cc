// PlanQueries::GetChanges: what changed in a window, per area and in sum.
// Each area's state before the window and at its end, compared by
// domain::CompareAreas; how the two states are found depends on the clock
// (see the comment on `ends_of` below).
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "domain/area_changes.h"
#include "domain/area_schedule.h"
#include "domain/rules.h"
#include "domain/stored_twin.h"
#include "domain/timestamps.h"
#include "google/protobuf/wrappers.pb.h"
#include "projections/area_state_projection.h"
#include "projections/changes_projection.h"
#include "projections/stream_fold.h"
#include "services/plan_index.h"
#include "services/plan_queries.h"

namespace plantrail::services {
namespace {

using projections::ChangeClock;
using projections::PlanEventRecord;

struct Window {
  ChangeClock clock;
  absl::CivilDay since;
  absl::CivilDay until;
  // The answer's log position: nothing after it counts.
  uint64_t position;

  // The business-date fold's filters (the recorded clock reads steps).
  bool BeforeStart(const PlanEventRecord& record) const {
    return record.context.position <= position &&
           projections::BusinessDay(record) < since;
  }
  bool ByEnd(const PlanEventRecord& record) const {
    return record.context.position <= position &&
           projections::BusinessDay(record) <= until;
  }
};

// The position in an index or step key: its last eight bytes.
uint64_t PositionOf(absl::string_view key) {
  uint64_t at = 0;
  for (size_t i = key.size() - 8; i < key.size(); ++i) {
    at = (at << 8) | static_cast<unsigned char>(key[i]);
  }
  return at;
}

// The first position recorded on `day` or after it, or 0 when there is
// none; with `reverse`, the last one before `day`, or 0.
absl::StatusOr<uint64_t> RecordedPosition(const projections::StateReader& index,
                                          absl::CivilDay day, bool reverse) {
  PLANTRAIL_ASSIGN_OR_RETURN(
      auto entries,
      index.Scan(projections::RecordedIndexPrefix(),
                 projections::RecordedIndexKey(day, 0), 1, reverse));
  return entries.empty() ? 0 : PositionOf(entries.front().first);
}

// The area `current` (its state now, under `qualified`) as it was after the
// log's first `cut` positions: itself when nothing of it came later, else
// its last step up to `cut` (version 0 when it had none yet).
absl::StatusOr<stored::AreaState> AreaAt(
    projections::StateReader::Cursor& steps, const std::string& qualified,
    const stored::AreaState& current, uint64_t cut) {
  if (current.position() <= cut) return current;
  PLANTRAIL_ASSIGN_OR_RETURN(
      auto entry,
      steps.LastAtOrBefore(projections::AreaStepPrefix(qualified),
                           projections::AreaStepKey(qualified, cut)));
  stored::AreaState step;
  if (entry && !step.ParseFromString(entry->second)) {
    return absl::DataLossError(
        absl::StrCat("the step of area ", qualified, " does not parse"));
  }
  return step;
}

// Whether the area's events came in the order of their business days (false
// too for a copy of the changes projection that does not know).
absl::StatusOr<bool> InBusinessOrder(const projections::StateReader& index,
                                     const std::string& qualified) {
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<std::string> last_day,
                             index.Get(projections::AreaLastDayKey(qualified)));
  google::protobuf::UInt64Value last;
  return last_day && last.ParseFromString(*last_day) &&
         last.value() != projections::kOutOfOrder;
}

// For an area in the order of its business days: the position of its last
// event of a business day before `day` (0 when none).
absl::StatusOr<uint64_t> LastBefore(projections::StateReader::Cursor& days,
                                    const std::string& qualified,
                                    absl::CivilDay day) {
  PLANTRAIL_ASSIGN_OR_RETURN(
      auto entry,
      days.LastAtOrBefore(projections::AreaDayPrefix(qualified),
                          projections::AreaDayKey(qualified, day, 0)));
  return entry ? PositionOf(entry->first) : 0;
}

absl::StatusOr<absl::CivilDay> WindowDay(absl::string_view field,
                                         absl::string_view text, bool first) {
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<domain::PlanDate> date,
                             ParseFilterDate(field, text));
  const std::optional<absl::CivilDay> day = !date   ? std::nullopt
                                            : first ? date->first_day()
                                                    : date->last_day();
  if (!day) {
    return absl::InvalidArgumentError(absl::StrCat(
        field,
        ": give a date such as \"2024-03-01\", \"2024-03\" or \"VT24\""));
  }
  return *day;
}

std::string IsoDay(absl::CivilDay day) { return absl::FormatCivilTime(day); }

}  // namespace

absl::StatusOr<v1::GetChangesResponse> PlanQueries::GetChanges(
    const v1::GetChangesRequest& request,
    const std::vector<std::string>& visible) const {
  if (request.since().empty()) {
    return absl::InvalidArgumentError(
        "since: required: the window's first day, e.g. \"2024-03-01\"");
  }
  Window window{};
  switch (request.basis()) {
    case v1::CHANGE_BASIS_UNSPECIFIED:
    case v1::CHANGE_BASIS_RECORDED:
      window.clock = ChangeClock::kRecorded;
      break;
    case v1::CHANGE_BASIS_BUSINESS:
      window.clock = ChangeClock::kBusiness;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("basis: ", request.basis(), " is not a basis"));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(window.since,
                             WindowDay("since", request.since(), true));
  if (request.until().empty()) {
    window.until = domain::UtcDay(now_());
  } else {
    PLANTRAIL_ASSIGN_OR_RETURN(window.until,
                               WindowDay("until", request.until(), false));
  }
  if (window.until < window.since) {
    return domain::Refuse(
        absl::StatusCode::kInvalidArgument, "window-order",
        absl::StrCat("until: ", IsoDay(window.until), " is before since ",
                     IsoDay(window.since)));
  }
  if (changes_ == nullptr) {
    return absl::FailedPreconditionError(
        "GetChanges: the changes projection is not running");
  }
  // The caller's min_position holds for both projections (the service
  // waited for the index; the area states fold the same events and are
  // rarely behind it).
  if (request.min_position() > 0) {
    PLANTRAIL_RETURN_IF_ERROR(areas_->WaitApplied(
        request.min_position(), absl::Now() + absl::Seconds(30)));
  }
  // Both as of one position: nothing after it counts, wherever it shows.
  projections::ProjectionRunner::LiveState area_state =
      areas_->LiveWithApplied();
  projections::ProjectionRunner::LiveState index_state =
      changes_->LiveWithApplied();
  const std::shared_ptr<const projections::StateReader>& reader =
      area_state.reader;
  const std::shared_ptr<const projections::StateReader>& index =
      index_state.reader;
  window.position = std::min(area_state.applied, index_state.applied);
  PLANTRAIL_ASSIGN_OR_RETURN(PlanIndex plans, LoadPlans(*reader, visible));
  PLANTRAIL_RETURN_IF_ERROR(CheckPlanFilter(plans, request.plan_id()));
  auto in_scope = [&](const std::string& stored_plan_id) {
    const std::string& plan_id = plans.EffectivePlan(stored_plan_id);
    return plans.Sees(plan_id) &&
           (request.plan_id().empty() || plan_id == request.plan_id());
  };

  PLANTRAIL_ASSIGN_OR_RETURN(
      std::shared_ptr<const std::vector<stored::AreaState>> all,
      AllAreas(*reader));

  // Each area's state before the window and at its end.
  //
  // Recorded time never goes backwards, so by the recorded clock both are
  // the area after a prefix of the log: its last step up to the cut, one
  // seek in the changes projection (none when it has not changed since).
  //
  // By business date the same holds for an area whose events came in the
  // order of their business days (most do): the events of a day or earlier
  // are a prefix of its stream, found by one seek in its business-day
  // entries. An area whose events did not is folded from its stream, once
  // for both states.
  const std::unique_ptr<projections::StateReader::Cursor> cursor =
      index->NewCursor();
  std::function<absl::StatusOr<projections::AreaWindow>(
      const std::string&, const stored::AreaState&)>
      ends_of;
  if (window.clock == ChangeClock::kRecorded) {
    PLANTRAIL_ASSIGN_OR_RETURN(const uint64_t first_in,
                               RecordedPosition(*index, window.since, false));
    PLANTRAIL_ASSIGN_OR_RETURN(
        const uint64_t last_by_end,
        RecordedPosition(*index, window.until + 1, true));
    const uint64_t start_cut = first_in == 0
                                   ? window.position
                                   : std::min(first_in - 1, window.position);
    const uint64_t end_cut = std::min(last_by_end, window.position);
    ends_of = [&cursor, start_cut, end_cut](const std::string& qualified,
                                            const stored::AreaState& area)
        -> absl::StatusOr<projections::AreaWindow> {
      projections::AreaWindow ends;
      PLANTRAIL_ASSIGN_OR_RETURN(ends.end,
                                 AreaAt(*cursor, qualified, area, end_cut));
      if (ends.end.position() <= start_cut) {
        ends.start = ends.end;
      } else {
        PLANTRAIL_ASSIGN_OR_RETURN(ends.start,
                                   AreaAt(*cursor, qualified, area, start_cut));
      }
      return ends;
    };
  } else {
    ends_of = [this, &index, &cursor, &window](const std::string& qualified,
                                               const stored::AreaState& area)
        -> absl::StatusOr<projections::AreaWindow> {
      PLANTRAIL_ASSIGN_OR_RETURN(const bool in_order,
                                 InBusinessOrder(*index, qualified));
      if (in_order) {
        PLANTRAIL_ASSIGN_OR_RETURN(
            const uint64_t start_at,
            LastBefore(*cursor, qualified, window.since));
        PLANTRAIL_ASSIGN_OR_RETURN(
            const uint64_t end_at,
            LastBefore(*cursor, qualified, window.until + 1));
        projections::AreaWindow ends;
        PLANTRAIL_ASSIGN_OR_RETURN(ends.end,
                                   AreaAt(*cursor, qualified, area,
                                          std::min(end_at, window.position)));
        if (start_at == end_at) {
          ends.start = ends.end;
        } else {
          PLANTRAIL_ASSIGN_OR_RETURN(
              ends.start, AreaAt(*cursor, qualified, area,
                                 std::min(start_at, window.position)));
        }
        return ends;
      }
      // Out of order: its stream folded once for both states.
      return projections::FoldAreaWindow(
          *log_, qualified,
          [&window](const PlanEventRecord& record) {
            return window.BeforeStart(record);
          },
          [&window](const PlanEventRecord& record) {
            return window.ByEnd(record);
          });
    };
  }

  // The areas in scope at the end of the window: the changed ones, and the
  // others' states at the end (which a decision may add to the changed).
  struct Changed {
    stored::AreaState start;
    stored::AreaState end;
    domain::AreaChanges changes;
    std::vector<v1::DecisionRef> decisions;
  };
  std::map<std::string, Changed> changed;
  std::map<std::string, stored::AreaState> unchanged;
  domain::ChangesSummary summary;
  uint32_t areas_in_scope = 0;
  for (const stored::AreaState& area : *all) {
    if (!in_scope(area.plan_id())) continue;
    const std::string qualified =
        plans.QualifiedIdOf(area.plan_id(), area.area_id());
    PLANTRAIL_ASSIGN_OR_RETURN(projections::AreaWindow ends,
                               ends_of(qualified, area));
    if (ends.end.version() == 0) continue;  // not registered by the end
    if (!request.support_area().empty() &&
        ends.end.support_area() != request.support_area()) {
      continue;
    }
    ++areas_in_scope;
    domain::AreaChanges changes = domain::CompareAreas(ends.start, ends.end);
    domain::AddToSummary(ends.end, changes, summary);
    if (changes.empty()) {
      unchanged.emplace(qualified, std::move(ends.end));
    } else {
      changed.emplace(qualified, Changed{.start = std::move(ends.start),
                                         .end = std::move(ends.end),
                                         .changes = std::move(changes)});
    }
  }

  // Decisions recorded in the window, on the areas they name.
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::vector<stored::DecisionState> decisions,
      ScanAll<stored::DecisionState>(*reader, projections::kDecisionKeyPrefix));
  // In the order they were recorded, which each area's list keeps.
  std::sort(decisions.begin(), decisions.end(),
            [](const stored::DecisionState& a, const stored::DecisionState& b) {
              return a.position() < b.position();
            });
  uint32_t decisions_in_window = 0;
  for (const stored::DecisionState& decision : decisions) {
    if (decision.version() == 0 || decision.position() > window.position) {
      continue;
    }
    const std::string& plan_id = plans.EffectivePlan(decision.plan_id());
    if (!plans.Sees(plan_id)) continue;
    std::optional<absl::CivilDay> day =
        window.clock == ChangeClock::kBusiness
            ? domain::FirstDayOf(decision.decided_on())
            : std::nullopt;
    if (!day)
      day = domain::UtcDay(domain::FromTimestamp(decision.recorded_at()));
    if (*day < window.since || *day > window.until) continue;
    v1::DecisionRef ref = DecisionRefOf(plans, decision);
    // A decision of the plan asked about counts; one of another plan only
    // when it names an area listed (and with a support area asked for,
    // only then).
    bool counted = request.support_area().empty() &&
                   (request.plan_id().empty() || plan_id == request.plan_id());
    std::vector<std::string> named;
    for (const std::string& area_id : decision.area_ids()) {
      named.push_back(plans.QualifiedIdOf(decision.plan_id(), area_id));
    }
    for (const stored::AreaRef& other : decision.other_plan_areas()) {
      named.push_back(plans.QualifiedIdOf(other.plan_id(), other.area_id()));
    }
    for (const std::string& qualified : named) {
      auto it = changed.find(qualified);
      if (it == changed.end()) {
        // An area the decision is all that changed of.
        auto area = unchanged.find(qualified);
        if (area == unchanged.end()) continue;  // out of scope or not there
        stored::AreaState end = std::move(area->second);
        unchanged.erase(area);
        stored::AreaState start = end;
        it = changed
                 .emplace(qualified, Changed{.start = std::move(start),
                                             .end = std::move(end)})
                 .first;
        ++summary.areas_changed;
      }
      std::vector<v1::DecisionRef>& refs = it->second.decisions;
      if (refs.empty() || refs.back().decision_id() != ref.decision_id() ||
          refs.back().plan_id() != ref.plan_id()) {
        refs.push_back(ref);
      }
      counted = true;
    }
    if (counted) ++decisions_in_window;
  }

  v1::GetChangesResponse response;
  response.set_basis(window.clock == ChangeClock::kRecorded
                         ? v1::CHANGE_BASIS_RECORDED
                         : v1::CHANGE_BASIS_BUSINESS);
  response.set_since(IsoDay(window.since));
  response.set_until(IsoDay(window.until));
  response.set_position(window.position);
  std::vector<v1::AreaChange> listed;
  listed.reserve(changed.size());
  for (auto& [qualified, area] : changed) {
    v1::AreaChange change =
        DescribeAreaChange(plans, area.start, area.end, area.changes);
    for (v1::DecisionRef& ref : area.decisions) {
      *change.add_decisions() = std::move(ref);
    }
    listed.push_back(std::move(change));
  }
  std::sort(listed.begin(), listed.end(),
            [](const v1::AreaChange& a, const v1::AreaChange& b) {
              return std::tie(a.plan_id(), a.area_id()) <
                     std::tie(b.plan_id(), b.area_id());
            });
  for (v1::AreaChange& change : listed) {
    *response.add_areas() = std::move(change);
  }
  v1::ChangesSummary& sum = *response.mutable_summary();
  sum.set_areas(areas_in_scope);
  sum.set_areas_changed(summary.areas_changed);
  sum.set_slipped(summary.slipped);
  sum.set_newly_at_risk(summary.newly_at_risk);
  sum.set_newly_off_track(summary.newly_off_track);
  sum.set_completed(summary.completed);
  sum.set_silent(summary.silent);
  sum.set_decisions(decisions_in_window);
  return response;
}

}  // namespace plantrail::services
