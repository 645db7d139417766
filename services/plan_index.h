// What the plan queries share: the plans a query sees (PlanIndex), a
// listing's plan filter, date filters, the scan of a projection's
// messages and the change records of areas. Plain values and functions;
// thread-compatible.
#ifndef PLANTRAIL_SERVICES_PLAN_INDEX_H_
#define PLANTRAIL_SERVICES_PLAN_INDEX_H_

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "domain/area_changes.h"
#include "domain/plan_date.h"
#include "domain/streams.h"
#include "plantrail/stored/plan.pb.h"
#include "plantrail/v1/plan_queries.pb.h"
#include "projections/projection.h"

namespace plantrail::services {

// The plans as the projection holds them, and which holds the unplanned
// areas; read per query (a server has few plans).
struct PlanIndex {
  std::map<std::string, stored::PlanState> plans;
  std::string holder;

  // The plans the caller may see; empty: all, and areas without a plan.
  std::vector<std::string> visible;

  // The plan an area (or decision) of `plan_id` (as stored) belongs to.
  const std::string& EffectivePlan(const std::string& plan_id) const {
    return plan_id.empty() ? holder : plan_id;
  }
  // The qualified id (stream name) of an area or decision of `plan_id` (as
  // stored): the holder's keep the names from before plans.
  std::string QualifiedIdOf(const std::string& plan_id,
                            absl::string_view id) const {
    const std::string& effective = EffectivePlan(plan_id);
    const auto plan = plans.find(effective);
    const bool unplanned_names =
        effective.empty() ||
        (plan != plans.end() && plan->second.holds_unplanned());
    return domain::QualifiedId(unplanned_names ? "" : effective, id);
  }
  // Whether the caller may see what belongs to `plan_id` (effective).
  bool Sees(const std::string& plan_id) const {
    return visible.empty() ||
           (!plan_id.empty() && std::find(visible.begin(), visible.end(),
                                          plan_id) != visible.end());
  }
  // PERMISSION_DENIED for a plan the caller may not see.
  absl::Status RequireVisible(const std::string& plan_id) const {
    if (Sees(plan_id)) return absl::OkStatus();
    return absl::PermissionDeniedError(absl::StrCat(
        "plan_id: ",
        plan_id.empty() ? std::string("areas without a plan are")
                        : absl::StrCat("plan \"", plan_id, "\" is"),
        " outside the caller's plans (", absl::StrJoin(visible, ", "),
        ") [rule: plan-scope]"));
  }
};

// plans/{plan_id}/areas/{area_id}, or areas/{area_id} without a plan.
inline std::string AreaName(absl::string_view plan_id,
                            absl::string_view area_id) {
  return plan_id.empty() ? absl::StrCat("areas/", area_id)
                         : absl::StrCat("plans/", plan_id, "/areas/", area_id);
}

// An area as the contract shows it: with its plan (the holder's, for an
// area recorded without one) and its resource name. `Area` is the stored
// state or its API twin.
template <typename Area>
void Present(const PlanIndex& plans, Area& area) {
  area.set_plan_id(plans.EffectivePlan(area.plan_id()));
  area.set_name(AreaName(area.plan_id(), area.area_id()));
}

// The plans in the area-state projection as `reader` sees them, for a
// caller who may see `visible` (empty: everything).
absl::StatusOr<PlanIndex> LoadPlans(const projections::StateReader& reader,
                                    const std::vector<std::string>& visible);

// A listing's plan filter: empty for every plan, else a known plan the
// caller may see (NOT_FOUND, PERMISSION_DENIED `[rule: plan-scope]`).
absl::Status CheckPlanFilter(const PlanIndex& plans, absl::string_view plan_id);

// A query's date filter as a plan date; nullopt when empty;
// INVALID_ARGUMENT naming `field` when it does not read.
absl::StatusOr<std::optional<domain::PlanDate>> ParseFilterDate(
    absl::string_view field, absl::string_view text);

// Every message of type `Message` under `prefix`, in key order; kDataLoss
// naming the key of one that does not parse.
template <typename Message>
absl::StatusOr<std::vector<Message>> ScanAll(
    const projections::StateReader& reader, absl::string_view prefix) {
  PLANTRAIL_ASSIGN_OR_RETURN(auto entries, reader.Scan(prefix, "", ~size_t{0}));
  std::vector<Message> messages(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!messages[i].ParseFromString(entries[i].second)) {
      return absl::DataLossError(
          absl::StrCat("stored ", entries[i].first, " does not parse"));
    }
  }
  return messages;
}

// The change record of an area between two of its states (GetChanges,
// GetFollowUp), as the contract shows it.
v1::AreaChange DescribeAreaChange(const PlanIndex& plans,
                                  const stored::AreaState& start,
                                  const stored::AreaState& end,
                                  const domain::AreaChanges& changes);

// A decision as a change record names it.
v1::DecisionRef DecisionRefOf(const PlanIndex& plans,
                              const stored::DecisionState& decision);

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PLAN_INDEX_H_
