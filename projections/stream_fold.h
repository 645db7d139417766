// Plan events read back from the log: decoded, with the context evolve needs,
// and folded per stream. Shared by the command service (decide on current
// state), the projections and time travel.
#ifndef PLANTRAIL_PROJECTIONS_STREAM_FOLD_H_
#define PLANTRAIL_PROJECTIONS_STREAM_FOLD_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "domain/evolve.h"
#include "domain/metadata_keys.h"
#include "eventstore/event_store.h"
#include "plantrail/stored/plan.pb.h"
#include "plantrail/stored/plan_events.pb.h"

namespace plantrail::projections {

// Event metadata key holding the actor (stamped by the command service).
using domain::kActorKey;

struct PlanEventRecord {
  stored::PlanEvent event;
  domain::EventContext context;
};

// The plan event in `recorded`: nullopt for events outside plan streams; an
// empty event (EVENT_NOT_SET) for a plan event type this version does not
// know; kDataLoss for a payload that does not parse.
absl::StatusOr<std::optional<PlanEventRecord>> DecodePlanEvent(
    const eventstore::RecordedEvent& recorded);

// Calls `visit` with each plan event of the stream `stream_id` (from its
// version `from_version` on), in order; an event of a type this version
// does not know is visited empty (EVENT_NOT_SET).
absl::Status ForEachPlanEvent(
    const eventstore::EventStore& log, const std::string& stream_id,
    const std::function<void(const PlanEventRecord&)>& visit,
    uint64_t from_version = 1);

// Areas and decisions are named by their qualified id (domain::QualifiedId:
// "<plan_id>:<area_id>", or the bare id for the unplanned names), which is
// their stream id without its prefix.
//
// Folds the area's stream; `include` (when given) decides per event whether
// it counts (time travel). An area with no events folds to an empty state
// (version 0).
using EventFilter = std::function<bool(const PlanEventRecord&)>;
absl::StatusOr<stored::AreaState> FoldArea(
    const eventstore::EventStore& log, absl::string_view qualified_id,
    const EventFilter& include = nullptr);
// Brings a folded area up to date: folds only the events after
// state.version().
absl::StatusOr<stored::AreaState> FoldAreaAfter(
    const eventstore::EventStore& log, absl::string_view qualified_id,
    stored::AreaState state);
// The area at both ends of a window, from one read of its stream: `start`
// folds the events `at_start` includes, `end` those `at_end` includes.
struct AreaWindow {
  stored::AreaState start;
  stored::AreaState end;
};
absl::StatusOr<AreaWindow> FoldAreaWindow(const eventstore::EventStore& log,
                                          absl::string_view qualified_id,
                                          const EventFilter& at_start,
                                          const EventFilter& at_end);

// The day an event speaks for: a status report's reported_on (its first
// day), else the day it was recorded (UTC). A registration is of no day
// (absl::CivilDay::min()): an area exists from its registration whenever
// that was recorded, so that history imported later can be viewed as of its
// own dates. GetArea's business_date and GetChanges' business basis.
absl::CivilDay BusinessDay(const PlanEventRecord& record);

// domain::UtcDay and BusinessDay for a fold that asks event after event:
// it remembers the last day worked out (most events of a log share their
// recorded day, and a status report's date with the one before). Not
// thread-safe.
class DayMemo {
 public:
  absl::CivilDay UtcDay(absl::Time time);
  absl::CivilDay BusinessDay(const PlanEventRecord& record);

 private:
  // The UTC day of [begins_, ends_).
  absl::Time begins_ = absl::InfiniteFuture();
  absl::Time ends_ = absl::InfinitePast();
  absl::CivilDay day_;
  // The last report date (as bytes) and its first day.
  std::string reported_on_;
  bool has_reported_on_ = false;
  std::optional<absl::CivilDay> reported_day_;
  std::string scratch_;
};

absl::StatusOr<stored::DecisionState> FoldDecision(
    const eventstore::EventStore& log, absl::string_view qualified_id);
absl::StatusOr<stored::PlanState> FoldPlan(
    const eventstore::EventStore& log, absl::string_view plan_id,
    const EventFilter& include = nullptr);

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_STREAM_FOLD_H_
