// PlanQueries::GetFollowUp: a follow-up round as its meeting sees it.
//
// Everything is folded from the log up to one position, the round's
// closing for a closed round (so that the answer, and a document made from
// it, is the same whenever it is asked), else the area-state projection's:
// the plan, and per expected area its stream once, which gives its state
// at the start of the round's window and at its end and the reports in
// between. A round has the areas of one plan (tens, hundreds), so reading
// their streams is cheap; no projection of its own is needed.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "domain/area_changes.h"
#include "domain/decide.h"
#include "domain/plan_date_proto.h"
#include "domain/rules.h"
#include "domain/stored_twin.h"
#include "domain/text.h"
#include "domain/timestamps.h"
#include "projections/area_state_projection.h"
#include "projections/stream_fold.h"
#include "services/plan_index.h"
#include "services/plan_queries.h"

namespace plantrail::services {
namespace {

using projections::PlanEventRecord;

// The round's plan: an empty plan_id is the only plan the caller sees.
absl::StatusOr<std::string> RoundPlan(const PlanIndex& plans,
                                      const std::string& plan_id) {
  if (!plan_id.empty()) {
    PLANTRAIL_RETURN_IF_ERROR(domain::CheckPlanId("plan_id", plan_id));
    PLANTRAIL_RETURN_IF_ERROR(plans.RequireVisible(plan_id));
    if (!plans.plans.contains(plan_id)) {
      return absl::NotFoundError(
          absl::StrCat("plan_id: plan \"", plan_id, "\" is not registered"));
    }
    return plan_id;
  }
  std::vector<std::string> seen;
  for (const auto& [id, plan] : plans.plans) {
    if (plans.Sees(id)) seen.push_back(id);
  }
  if (seen.size() == 1) return seen.front();
  if (seen.empty()) {
    return absl::NotFoundError(
        "plan_id: no plan is registered (follow-up rounds belong to plans)");
  }
  return domain::Refuse(
      absl::StatusCode::kInvalidArgument, "plan-required",
      absl::StrCat("plan_id: required: the server holds several plans (",
                   absl::StrJoin(seen, ", "), ")"));
}

// The last day a plan date covers, when it has one.
std::optional<absl::CivilDay> LastDay(const stored::PlanDate& date) {
  absl::StatusOr<domain::PlanDate> parsed = domain::FromProto(date);
  if (!parsed.ok()) return std::nullopt;
  return parsed->last_day();
}

std::optional<absl::CivilDay> FirstDay(const stored::PlanDate& date) {
  absl::StatusOr<domain::PlanDate> parsed = domain::FromProto(date);
  if (!parsed.ok()) return std::nullopt;
  return parsed->first_day();
}

// One expected area of the round, read from its stream.
struct RoundArea {
  std::string qualified;
  stored::AreaState start;
  stored::AreaState end;
  // The round's reports, in order, with their events' context.
  std::vector<std::pair<stored::StatusReport, domain::EventContext>> reports;
};

}  // namespace

absl::StatusOr<v1::GetFollowUpResponse> PlanQueries::GetFollowUp(
    const v1::GetFollowUpRequest& request,
    const std::vector<std::string>& visible) const {
  if (!request.round_id().empty()) {
    PLANTRAIL_RETURN_IF_ERROR(domain::CheckId("round_id", request.round_id()));
  }
  std::shared_ptr<const projections::StateReader> reader = areas_->Live();
  PLANTRAIL_ASSIGN_OR_RETURN(PlanIndex plans, LoadPlans(*reader, visible));
  PLANTRAIL_ASSIGN_OR_RETURN(const std::string plan_id,
                             RoundPlan(plans, request.plan_id()));
  const uint64_t live = reader->checkpoint();
  const auto by_live = [live](const PlanEventRecord& record) {
    return record.context.position <= live;
  };
  PLANTRAIL_ASSIGN_OR_RETURN(stored::PlanState plan,
                             projections::FoldPlan(*log_, plan_id, by_live));
  if (plan.rounds().empty()) {
    return absl::NotFoundError(absl::StrCat("round_id: plan \"", plan_id,
                                            "\" has no follow-up round yet"));
  }
  int index = plan.rounds_size() - 1;
  if (!request.round_id().empty()) {
    while (index >= 0 && plan.rounds(index).round_id() != request.round_id()) {
      --index;
    }
    if (index < 0) {
      return absl::NotFoundError(absl::StrCat("round_id: plan \"", plan_id,
                                              "\" has no follow-up round \"",
                                              request.round_id(), "\""));
    }
  }
  const stored::FollowUpRound round = plan.rounds(index);
  // The round's window: after the previous round closed (for the first
  // round, after it opened) through its own closing, or through now.
  const uint64_t cut = round.closed() ? round.closed_position() : live;
  const uint64_t since = index > 0 ? plan.rounds(index - 1).closed_position()
                                   : round.opened_position();
  const auto by_cut = [cut](const PlanEventRecord& record) {
    return record.context.position <= cut;
  };
  if (round.closed()) {
    PLANTRAIL_ASSIGN_OR_RETURN(plan,
                               projections::FoldPlan(*log_, plan_id, by_cut));
  }

  const std::optional<absl::CivilDay> due = LastDay(round.report_date());
  v1::GetFollowUpResponse response;
  v1::FollowUpSummary& summary = *response.mutable_summary();
  std::vector<v1::FollowUpArea> listed;
  std::map<std::string, size_t> by_qualified;
  for (const std::string& area_id : round.expected_area_ids()) {
    RoundArea area{.qualified = plans.QualifiedIdOf(plan_id, area_id)};
    PLANTRAIL_RETURN_IF_ERROR(projections::ForEachPlanEvent(
        *log_, domain::AreaStream(area.qualified),
        [&](const PlanEventRecord& record) {
          const uint64_t at = record.context.position;
          if (at > cut) return;
          if (at <= since) {
            domain::EvolveArea(area.start, record.event, record.context);
          }
          domain::EvolveArea(area.end, record.event, record.context);
          if (at > since && record.event.has_status_reported()) {
            area.reports.emplace_back(record.event.status_reported().report(),
                                      record.context);
          }
        }));
    if (area.end.version() == 0) {
      return absl::DataLossError(
          absl::StrCat("round \"", round.round_id(), "\" expects area \"",
                       area_id, "\", which the log does not hold"));
    }
    v1::FollowUpArea& out = listed.emplace_back();
    out.set_plan_id(plan_id);
    out.set_area_id(area_id);
    out.set_name(AreaName(plan_id, area_id));
    stored::AreaState shown = area.end;
    Present(plans, shown);
    *out.mutable_area() = domain::Twin<v1::AreaState>(shown);
    out.set_reports(area.reports.size());
    bool in_time = false;
    for (const auto& [report, context] : area.reports) {
      const std::optional<absl::CivilDay> day = FirstDay(report.reported_on());
      if (!due || !day || *day <= *due) in_time = true;
    }
    summary.set_expected(summary.expected() + 1);
    if (area.end.closed()) {
      out.set_report(v1::ROUND_REPORT_CLOSED);
      summary.set_closed(summary.closed() + 1);
    } else if (area.reports.empty()) {
      out.set_report(v1::ROUND_REPORT_MISSING);
      summary.set_missing(summary.missing() + 1);
    } else if (in_time) {
      out.set_report(v1::ROUND_REPORT_IN_TIME);
      summary.set_in_time(summary.in_time() + 1);
    } else {
      out.set_report(v1::ROUND_REPORT_LATE);
      summary.set_late(summary.late() + 1);
    }
    if (!area.reports.empty()) {
      const auto& [report, context] = area.reports.back();
      *out.mutable_latest_report() = domain::Twin<v1::StatusReport>(report);
      out.set_report_position(context.position);
      domain::SetTimestamp(*out.mutable_report_recorded_at(),
                           context.recorded_at);
      out.set_report_recorded_by(context.actor);
    }
    const domain::AreaChanges changes =
        domain::CompareAreas(area.start, area.end);
    if (!changes.empty()) {
      *out.mutable_changes() =
          DescribeAreaChange(plans, area.start, area.end, changes);
    }
    by_qualified.emplace(area.qualified, listed.size() - 1);
  }

  // The decisions recorded in the window, on the expected areas they name.
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::vector<stored::DecisionState> decisions,
      ScanAll<stored::DecisionState>(*reader, projections::kDecisionKeyPrefix));
  std::sort(decisions.begin(), decisions.end(),
            [](const stored::DecisionState& a, const stored::DecisionState& b) {
              return a.position() < b.position();
            });
  for (const stored::DecisionState& decision : decisions) {
    if (decision.version() == 0 || decision.position() <= since ||
        decision.position() > cut) {
      continue;
    }
    std::vector<std::string> named;
    for (const std::string& area_id : decision.area_ids()) {
      named.push_back(plans.QualifiedIdOf(decision.plan_id(), area_id));
    }
    for (const stored::AreaRef& other : decision.other_plan_areas()) {
      named.push_back(plans.QualifiedIdOf(other.plan_id(), other.area_id()));
    }
    for (const std::string& qualified : named) {
      auto it = by_qualified.find(qualified);
      if (it == by_qualified.end()) continue;
      v1::FollowUpArea& area = listed[it->second];
      v1::AreaChange& change = *area.mutable_changes();
      if (change.area_id().empty()) {
        // A decision is all that changed of it.
        change.set_plan_id(area.plan_id());
        change.set_area_id(area.area_id());
        change.set_name(area.name());
        change.set_title(area.area().title());
        change.set_support_area(area.area().support_area());
        change.set_phase(area.area().phase());
        change.set_health(area.area().health());
      }
      if (change.decisions().empty() ||
          change.decisions().rbegin()->decision_id() !=
              decision.decision_id()) {
        *change.add_decisions() = DecisionRefOf(plans, decision);
      }
    }
  }
  for (const v1::FollowUpArea& area : listed) {
    if (area.has_changes()) summary.set_changed(summary.changed() + 1);
  }
  std::stable_sort(listed.begin(), listed.end(),
                   [](const v1::FollowUpArea& a, const v1::FollowUpArea& b) {
                     if (a.area().support_area() != b.area().support_area()) {
                       return domain::NaturalLess(a.area().support_area(),
                                                  b.area().support_area());
                     }
                     return domain::NaturalLess(a.area_id(), b.area_id());
                   });
  for (v1::FollowUpArea& area : listed) {
    *response.add_areas() = std::move(area);
  }

  *response.mutable_plan() = domain::Twin<v1::PlanState>(plan);
  // As of the cut: a round closed after it shows open.
  *response.mutable_round() = domain::Twin<v1::FollowUpRound>(round);
  if (index > 0) {
    *response.mutable_previous_round() =
        domain::Twin<v1::FollowUpRound>(plan.rounds(index - 1));
  }
  response.set_position(cut);
  response.set_since_position(since);
  PLANTRAIL_ASSIGN_OR_RETURN(eventstore::Hash hash, log_->HashAt(cut));
  response.set_chain_hash(absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(hash.data()), hash.size())));
  return response;
}

}  // namespace plantrail::services
