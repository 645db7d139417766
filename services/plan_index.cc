#include "services/plan_index.h"

#include "common/status_macros.h"
#include "domain/rules.h"
#include "projections/area_state_projection.h"

namespace plantrail::services {

absl::StatusOr<PlanIndex> LoadPlans(const projections::StateReader& reader,
                                    const std::vector<std::string>& visible) {
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::vector<stored::PlanState> plans,
      ScanAll<stored::PlanState>(reader, projections::kPlanKeyPrefix));
  PlanIndex index;
  index.visible = visible;
  for (stored::PlanState& plan : plans) {
    if (plan.plan_id().empty()) continue;  // an unknown event's trace
    plan.set_name(absl::StrCat("plans/", plan.plan_id()));
    if (plan.holds_unplanned()) index.holder = plan.plan_id();
    std::string id = plan.plan_id();
    index.plans.emplace(std::move(id), std::move(plan));
  }
  return index;
}

// A listing's plan filter: empty for every plan, else a known plan.
absl::Status CheckPlanFilter(const PlanIndex& plans,
                             absl::string_view plan_id) {
  if (plan_id.empty()) return absl::OkStatus();
  PLANTRAIL_RETURN_IF_ERROR(domain::CheckPlanId("plan_id", plan_id));
  PLANTRAIL_RETURN_IF_ERROR(plans.RequireVisible(std::string(plan_id)));
  if (!plans.plans.contains(std::string(plan_id))) {
    return absl::NotFoundError(
        absl::StrCat("plan_id: plan \"", plan_id, "\" is not registered"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<domain::PlanDate>> ParseFilterDate(
    absl::string_view field, absl::string_view text) {
  if (text.empty()) return std::nullopt;
  absl::StatusOr<domain::PlanDate> date = domain::PlanDate::Parse(text);
  if (!date.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", date.status().message()));
  }
  return *std::move(date);
}

}  // namespace plantrail::services
