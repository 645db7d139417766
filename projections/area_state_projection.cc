#include "projections/area_state_projection.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "domain/streams.h"
#include "projections/stream_fold.h"

namespace plantrail::projections {
std::string AreaKey(absl::string_view area_id) {
  return absl::StrCat(kAreaKeyPrefix, area_id);
}

std::string DecisionKey(absl::string_view decision_id) {
  return absl::StrCat(kDecisionKeyPrefix, decision_id);
}

std::string PlanKey(absl::string_view plan_id) {
  return absl::StrCat(kPlanKeyPrefix, plan_id);
}

absl::Status AreaStateProjection::Apply(const eventstore::RecordedEvent& event,
                                        StateWriter& state) {
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<PlanEventRecord> record,
                             DecodePlanEvent(event));
  if (!record) return absl::OkStatus();
  absl::string_view stream = event.stream_id;
  if (absl::ConsumePrefix(&stream, domain::kAreaStreamPrefix)) {
    const std::string key = AreaKey(stream);
    PLANTRAIL_ASSIGN_OR_RETURN(stored::AreaState * area,
                               StagedMessage<stored::AreaState>(state, key));
    domain::EvolveArea(*area, record->event, record->context);
  } else if (absl::ConsumePrefix(&stream, domain::kDecisionStreamPrefix)) {
    const std::string key = DecisionKey(stream);
    PLANTRAIL_ASSIGN_OR_RETURN(
        stored::DecisionState * decision,
        StagedMessage<stored::DecisionState>(state, key));
    domain::EvolveDecision(*decision, record->event, record->context);
  } else if (absl::ConsumePrefix(&stream, domain::kPlanStreamPrefix)) {
    const std::string key = PlanKey(stream);
    PLANTRAIL_ASSIGN_OR_RETURN(stored::PlanState * plan,
                               StagedMessage<stored::PlanState>(state, key));
    domain::EvolvePlan(*plan, record->event, record->context);
  }
  return absl::OkStatus();
}

}  // namespace plantrail::projections
