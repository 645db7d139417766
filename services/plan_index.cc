#include "services/plan_index.h"

#include "common/status_macros.h"
#include "domain/rules.h"
#include "domain/stored_twin.h"
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

v1::AreaChange DescribeAreaChange(const PlanIndex& plans,
                                  const stored::AreaState& start,
                                  const stored::AreaState& end,
                                  const domain::AreaChanges& changes) {
  v1::AreaChange change;
  change.set_plan_id(plans.EffectivePlan(end.plan_id()));
  change.set_area_id(end.area_id());
  change.set_name(AreaName(change.plan_id(), end.area_id()));
  change.set_title(end.title());
  change.set_support_area(end.support_area());
  change.set_registered(changes.registered);
  if (changes.phase) {
    change.set_phase_before(domain::Twin<v1::Phase>(changes.phase->from));
    change.set_phase_after(domain::Twin<v1::Phase>(changes.phase->to));
  }
  if (changes.health) {
    change.set_health_before(domain::Twin<v1::Health>(changes.health->from));
    change.set_health_after(domain::Twin<v1::Health>(changes.health->to));
  }
  if (changes.end_moved_days) {
    *change.mutable_end_before() =
        domain::Twin<v1::PlanDate>(start.planned_end());
    *change.mutable_end_after() = domain::Twin<v1::PlanDate>(end.planned_end());
    change.set_end_moved_days(*changes.end_moved_days);
  }
  if (changes.slip_days_against_baseline) {
    change.set_slip_days_against_baseline(*changes.slip_days_against_baseline);
  }
  for (const stored::Dependency& added : changes.dependencies_added) {
    *change.add_dependencies_added() = domain::Twin<v1::Dependency>(added);
  }
  for (const stored::Dependency& removed : changes.dependencies_removed) {
    *change.add_dependencies_removed() = domain::Twin<v1::Dependency>(removed);
  }
  change.set_closed(changes.closed);
  if (changes.closed) {
    change.set_outcome(domain::Twin<v1::Outcome>(end.outcome()));
  }
  change.set_reopened(changes.reopened);
  change.set_status_reports(changes.status_reports);
  change.set_corrected_entries(changes.corrected_entries);
  change.set_phase(domain::Twin<v1::Phase>(end.phase()));
  change.set_health(domain::Twin<v1::Health>(end.health()));
  if (end.has_planned_end()) {
    *change.mutable_planned_end() =
        domain::Twin<v1::PlanDate>(end.planned_end());
  }
  if (end.has_latest_report()) {
    *change.mutable_latest_report() =
        domain::Twin<v1::StatusReport>(end.latest_report());
  }
  return change;
}

v1::DecisionRef DecisionRefOf(const PlanIndex& plans,
                              const stored::DecisionState& decision) {
  v1::DecisionRef ref;
  ref.set_plan_id(plans.EffectivePlan(decision.plan_id()));
  ref.set_decision_id(decision.decision_id());
  ref.set_title(decision.title());
  ref.set_reference(decision.reference());
  ref.set_body(decision.body());
  *ref.mutable_decided_on() = domain::Twin<v1::PlanDate>(decision.decided_on());
  return ref;
}

}  // namespace plantrail::services
