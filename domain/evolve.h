// evolve: state + event -> state. The one fold of the plan model, used by the
// command service (to decide on current state), by projections and by time
// travel (fold a stream up to a point).
//
// Evolve never fails: events are facts that passed decide when they were
// recorded, so it applies whatever it is given. An event of a type it does
// not know (written by a newer version) only advances version and position.
#ifndef PLANTRAIL_DOMAIN_EVOLVE_H_
#define PLANTRAIL_DOMAIN_EVOLVE_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "plantrail/stored/plan.pb.h"
#include "plantrail/stored/plan_events.pb.h"

namespace plantrail::domain {

// Where and when an event was recorded, and by whom: from the log and the
// event's metadata, not from its payload.
struct EventContext {
  uint64_t position = 0;
  uint64_t version = 0;
  absl::Time recorded_at;
  std::string actor;
};

// Whether two dependencies point at the same area or external name (kind
// and note aside): an area depends on a target at most once.
bool SameTarget(const stored::Dependency& a, const stored::Dependency& b);

void EvolveArea(stored::AreaState& state, const stored::PlanEvent& event,
                const EventContext& context);
void EvolveDecision(stored::DecisionState& state,
                    const stored::PlanEvent& event,
                    const EventContext& context);
void EvolvePlan(stored::PlanState& state, const stored::PlanEvent& event,
                const EventContext& context);

// The one of the three the state's type calls for.
inline void Evolve(stored::AreaState& state, const stored::PlanEvent& event,
                   const EventContext& context) {
  EvolveArea(state, event, context);
}
inline void Evolve(stored::DecisionState& state, const stored::PlanEvent& event,
                   const EventContext& context) {
  EvolveDecision(state, event, context);
}
inline void Evolve(stored::PlanState& state, const stored::PlanEvent& event,
                   const EventContext& context) {
  EvolvePlan(state, event, context);
}

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_EVOLVE_H_
