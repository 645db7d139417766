// decide: (state, command, facts) -> the event the command becomes, or the
// rule it breaks. Pure: everything it needs beyond the stream's own state
// comes in `Facts`, gathered by the caller.
//
// Every command becomes exactly one event. Refusals use the codes of the
// contract (plan_commands.proto): INVALID_ARGUMENT for malformed input,
// NOT_FOUND for unknown areas, decisions and entries, ALREADY_EXISTS for
// what may exist once, FAILED_PRECONDITION when the area's state forbids it
// (closed, already open, nothing would change). Each message names the field
// and the rule ("[rule: reason-required]").
#ifndef PLANTRAIL_DOMAIN_DECIDE_H_
#define PLANTRAIL_DOMAIN_DECIDE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "plantrail/stored/plan.pb.h"
#include "plantrail/stored/plan_events.pb.h"
#include "plantrail/v1/plan_commands.pb.h"

namespace plantrail::domain {

// An event in the log, as far as a correction needs to know it.
struct EventRef {
  uint64_t position = 0;
  std::string stream_id;
  std::string event_id;
  std::string type;
};

// What decide needs to know beyond the state of the command's own stream.
struct Facts {
  // Now, for defaults such as a status report's date.
  absl::Time now = absl::UnixEpoch();
  // The plan part of the stream ids of the command's plan (see
  // domain/streams.h): the plan's id, or empty for the unplanned names.
  std::string stream_plan;
  // Of the areas and decisions the command names, those that exist.
  absl::flat_hash_set<std::string> existing_areas;
  absl::flat_hash_set<std::string> existing_decisions;
  // The event at CorrectEntryRequest.position, if there is one.
  std::optional<EventRef> event_at_position;
  // RegisterPlan: the plan that holds the unplanned areas, if one does.
  std::string unplanned_holder;
  // RecordDecision: of the areas of other plans it names, those that exist
  // (OtherPlanAreaKey).
  absl::flat_hash_set<std::string> existing_other_plan_areas;
  // ClosePlan, OpenFollowUp: the ids of the plan's open areas.
  std::vector<std::string> open_areas;
  // ReportStatus naming a round: the follow-up rounds of the area's plan.
  google::protobuf::RepeatedPtrField<stored::FollowUpRound> rounds;
};

// The most areas a follow-up round may list (OpenFollowUpRequest).
inline constexpr size_t kMaxRoundAreas = 10000;

// The round of `rounds` with `round_id`, or null.
const stored::FollowUpRound* FindRound(
    const google::protobuf::RepeatedPtrField<stored::FollowUpRound>& rounds,
    absl::string_view round_id);

// The key of an area of another plan in Facts::existing_other_plan_areas.
std::string OtherPlanAreaKey(absl::string_view plan_id,
                             absl::string_view area_id);

// Checks what every command may carry (command id, correlation ids).
absl::Status CheckOptions(const v1::CommandOptions& options);

absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::RegisterAreaRequest& command,
                                         const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(
    const stored::AreaState& area, const v1::ReviseDetailsRequest& command,
    const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::ReportStatusRequest& command,
                                         const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(
    const stored::AreaState& area, const v1::ReviseScheduleRequest& command,
    const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(
    const stored::AreaState& area, const v1::AddDependencyRequest& command,
    const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(
    const stored::AreaState& area, const v1::RemoveDependencyRequest& command,
    const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::ChangeUnitsRequest& command,
                                         const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::CloseAreaRequest& command,
                                         const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::ReopenAreaRequest& command,
                                         const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::CorrectEntryRequest& command,
                                         const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(
    const stored::DecisionState& decision,
    const v1::RecordDecisionRequest& command, const Facts& facts);

absl::StatusOr<stored::PlanEvent> Decide(const stored::PlanState& plan,
                                         const v1::RegisterPlanRequest& command,
                                         const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(const stored::PlanState& plan,
                                         const v1::RevisePlanRequest& command,
                                         const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(const stored::PlanState& plan,
                                         const v1::ClosePlanRequest& command,
                                         const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(const stored::PlanState& plan,
                                         const v1::ReopenPlanRequest& command,
                                         const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(const stored::PlanState& plan,
                                         const v1::OpenFollowUpRequest& command,
                                         const Facts& facts);
absl::StatusOr<stored::PlanEvent> Decide(
    const stored::PlanState& plan, const v1::CloseFollowUpRequest& command,
    const Facts& facts);

// A command as everyone who must agree with the server runs it (the
// server's command handler, the import check, the fuzzers): the options
// every command may carry (CheckOptions), then the command decided on its
// stream's state. Fold the event with Evolve (evolve.h) to go on.
template <typename State, typename Command>
absl::StatusOr<stored::PlanEvent> Execute(const State& state,
                                          const Command& command,
                                          const Facts& facts) {
  if (absl::Status options = CheckOptions(command.options()); !options.ok()) {
    return options;
  }
  return Decide(state, command, facts);
}

// OK when `plan` (the state of plan `plan_id`) exists and is open, so that
// `what` (an area or decision command) may change it: NOT_FOUND for an
// unknown plan, FAILED_PRECONDITION for a closed one.
absl::Status RequirePlanOpen(const stored::PlanState& plan,
                             absl::string_view plan_id, absl::string_view what);

// The id of the decision a RecordDecisionRequest records: its decision_id,
// or one derived from reference and date ("V-2022-0218-2023-04-05").
absl::StatusOr<std::string> DecisionIdOf(
    const v1::RecordDecisionRequest& command);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_DECIDE_H_
