#include "domain/evolve.h"

#include <algorithm>

#include "domain/timestamps.h"
#include "google/protobuf/timestamp.pb.h"

namespace plantrail::domain {
namespace {

void ApplyDetails(stored::AreaState& state,
                  const stored::AreaDetails& details) {
  if (details.has_title()) state.set_title(details.title());
  if (details.has_rationale()) state.set_rationale(details.rationale());
  if (details.has_desired_effect()) {
    state.set_desired_effect(details.desired_effect());
  }
  if (details.has_support_area()) {
    state.set_support_area(details.support_area());
  }
  if (details.has_group()) state.set_group(details.group());
}

void ApplyPlanDetails(stored::PlanState& state,
                      const stored::PlanDetails& details) {
  if (details.has_title()) state.set_title(details.title());
  if (details.has_organisation()) {
    state.set_organisation(details.organisation());
  }
  if (details.has_reference()) state.set_reference(details.reference());
  if (details.has_decided_by()) state.set_decided_by(details.decided_by());
  if (details.has_decided_on()) {
    *state.mutable_decided_on() = details.decided_on();
  }
  if (details.has_period_start()) {
    *state.mutable_period_start() = details.period_start();
  }
  if (details.has_period_end()) {
    *state.mutable_period_end() = details.period_end();
  }
  if (details.has_owner()) state.set_owner(details.owner());
  if (details.has_followed_up_by()) {
    state.set_followed_up_by(details.followed_up_by());
  }
}

}  // namespace

bool SameTarget(const stored::Dependency& a, const stored::Dependency& b) {
  if (a.target_case() != b.target_case()) return false;
  return a.target_case() == stored::Dependency::kAreaId
             ? a.area_id() == b.area_id() && a.plan_id() == b.plan_id()
             : a.external() == b.external();
}

void EvolveArea(stored::AreaState& state, const stored::PlanEvent& event,
                const EventContext& context) {
  switch (event.event_case()) {
    case stored::PlanEvent::kAreaRegistered: {
      const stored::AreaRegistered& e = event.area_registered();
      state.set_area_id(e.area_id());
      state.set_plan_id(e.plan_id());
      state.set_title(e.title());
      state.set_support_area(e.support_area());
      state.set_group(e.group());
      state.set_rationale(e.rationale());
      state.set_desired_effect(e.desired_effect());
      *state.mutable_participating_units() = e.participating_units();
      *state.mutable_responsible_units() = e.responsible_units();
      if (e.has_planned_start()) {
        *state.mutable_planned_start() = e.planned_start();
        *state.mutable_baseline_start() = e.planned_start();
      }
      if (e.has_planned_end()) {
        *state.mutable_planned_end() = e.planned_end();
        *state.mutable_baseline_end() = e.planned_end();
      }
      state.set_phase(e.phase() == stored::PHASE_UNSPECIFIED
                          ? stored::PHASE_PLANNED
                          : e.phase());
      state.set_health(stored::HEALTH_UNKNOWN);
      SetTimestamp(*state.mutable_registered_at(), context.recorded_at);
      state.set_registered_by(context.actor);
      break;
    }
    case stored::PlanEvent::kAreaDetailsRevised:
      ApplyDetails(state, event.area_details_revised().after());
      break;
    case stored::PlanEvent::kStatusReported: {
      const stored::StatusReport& report = event.status_reported().report();
      state.set_phase(report.phase());
      state.set_health(report.health());
      *state.mutable_latest_report() = report;
      state.set_latest_report_position(context.position);
      SetTimestamp(*state.mutable_latest_report_recorded_at(),
                   context.recorded_at);
      state.set_status_reports(state.status_reports() + 1);
      break;
    }
    case stored::PlanEvent::kScheduleRevised: {
      const stored::ScheduleRevised& e = event.schedule_revised();
      // An unset date in the event is an unset date in the plan; clear_*
      // (not Clear() on the field) so that the field is absent again.
      if (e.has_new_start()) {
        *state.mutable_planned_start() = e.new_start();
      } else {
        state.clear_planned_start();
      }
      if (e.has_new_end()) {
        *state.mutable_planned_end() = e.new_end();
      } else {
        state.clear_planned_end();
      }
      if (e.has_previous_start()) {
        *state.mutable_previous_start() = e.previous_start();
      } else {
        state.clear_previous_start();
      }
      if (e.has_previous_end()) {
        *state.mutable_previous_end() = e.previous_end();
      } else {
        state.clear_previous_end();
      }
      if (e.has_baseline_start()) {
        *state.mutable_baseline_start() = e.baseline_start();
      }
      if (e.has_baseline_end())
        *state.mutable_baseline_end() = e.baseline_end();
      state.set_schedule_revisions(state.schedule_revisions() + 1);
      break;
    }
    case stored::PlanEvent::kDependencyAdded:
      *state.add_dependencies() = event.dependency_added().dependency();
      break;
    case stored::PlanEvent::kDependencyRemoved: {
      auto* dependencies = state.mutable_dependencies();
      const stored::Dependency& removed =
          event.dependency_removed().dependency();
      dependencies->erase(
          std::remove_if(dependencies->begin(), dependencies->end(),
                         [&](const stored::Dependency& d) {
                           return SameTarget(d, removed);
                         }),
          dependencies->end());
      break;
    }
    case stored::PlanEvent::kUnitsChanged: {
      const stored::UnitsChanged& e = event.units_changed();
      *state.mutable_participating_units() = e.participating_after();
      *state.mutable_responsible_units() = e.responsible_after();
      break;
    }
    case stored::PlanEvent::kAreaClosed: {
      const stored::AreaClosed& e = event.area_closed();
      state.set_closed(true);
      state.set_outcome(e.outcome());
      state.set_outcome_text(e.outcome_text());
      state.set_phase(e.outcome() == stored::OUTCOME_CANCELLED
                          ? stored::PHASE_CANCELLED
                          : stored::PHASE_COMPLETED);
      break;
    }
    case stored::PlanEvent::kAreaReopened:
      state.set_closed(false);
      state.set_outcome(stored::OUTCOME_UNSPECIFIED);
      state.clear_outcome_text();
      state.set_phase(event.area_reopened().phase());
      break;
    case stored::PlanEvent::kEntryCorrected:
      state.add_corrected_positions(event.entry_corrected().position());
      break;
    case stored::PlanEvent::kDecisionRecorded:
    case stored::PlanEvent::kPlanRegistered:
    case stored::PlanEvent::kPlanRevised:
    case stored::PlanEvent::kPlanClosed:
    case stored::PlanEvent::kPlanReopened:
    case stored::PlanEvent::kFollowUpOpened:
    case stored::PlanEvent::kFollowUpClosed:
    case stored::PlanEvent::EVENT_NOT_SET:
      break;
  }
  state.set_version(context.version);
  state.set_position(context.position);
  SetTimestamp(*state.mutable_updated_at(), context.recorded_at);
  state.set_updated_by(context.actor);
}

void EvolveDecision(stored::DecisionState& state,
                    const stored::PlanEvent& event,
                    const EventContext& context) {
  if (event.has_decision_recorded()) {
    const stored::DecisionRecorded& e = event.decision_recorded();
    state.set_decision_id(e.decision_id());
    state.set_plan_id(e.plan_id());
    state.set_reference(e.reference());
    state.set_body(e.body());
    *state.mutable_decided_on() = e.decided_on();
    state.set_title(e.title());
    *state.mutable_area_ids() = e.area_ids();
    *state.mutable_other_plan_areas() = e.other_plan_areas();
    state.set_outcome(e.outcome());
    SetTimestamp(*state.mutable_recorded_at(), context.recorded_at);
    state.set_recorded_by(context.actor);
  }
  state.set_version(context.version);
  state.set_position(context.position);
}

void EvolvePlan(stored::PlanState& state, const stored::PlanEvent& event,
                const EventContext& context) {
  switch (event.event_case()) {
    case stored::PlanEvent::kPlanRegistered: {
      const stored::PlanRegistered& e = event.plan_registered();
      state.set_plan_id(e.plan_id());
      ApplyPlanDetails(state, e.details());
      state.set_holds_unplanned(e.holds_unplanned());
      SetTimestamp(*state.mutable_registered_at(), context.recorded_at);
      state.set_registered_by(context.actor);
      break;
    }
    case stored::PlanEvent::kPlanRevised:
      ApplyPlanDetails(state, event.plan_revised().after());
      state.set_revisions(state.revisions() + 1);
      break;
    case stored::PlanEvent::kPlanClosed:
      state.set_closed(true);
      state.set_closing_reason(event.plan_closed().reason());
      break;
    case stored::PlanEvent::kPlanReopened:
      state.set_closed(false);
      state.set_closing_reason(event.plan_reopened().reason());
      break;
    case stored::PlanEvent::kFollowUpOpened: {
      stored::FollowUpRound& round = *state.add_rounds();
      round = event.follow_up_opened().round();
      round.set_opened_position(context.position);
      SetTimestamp(*round.mutable_opened_at(), context.recorded_at);
      round.set_opened_by(context.actor);
      break;
    }
    case stored::PlanEvent::kFollowUpClosed:
      for (stored::FollowUpRound& round : *state.mutable_rounds()) {
        if (round.round_id() != event.follow_up_closed().round_id()) continue;
        round.set_closed(true);
        round.set_closed_position(context.position);
        SetTimestamp(*round.mutable_closed_at(), context.recorded_at);
        round.set_closed_by(context.actor);
        round.set_closing_note(event.follow_up_closed().note());
      }
      break;
    default:
      break;
  }
  state.set_version(context.version);
  state.set_position(context.position);
  SetTimestamp(*state.mutable_updated_at(), context.recorded_at);
  state.set_updated_by(context.actor);
}

}  // namespace plantrail::domain
