// Which stream holds what. A plan is the stream "plan-<plan_id>"; its areas
// are "area-<plan_id>:<area_id>" and its decisions
// "decision-<plan_id>:<decision_id>" (':' is in no id, so the two parts
// never blur). Areas and decisions recorded without a plan (before plans
// existed, or on a server that has none) are "area-<area_id>" and
// "decision-<decision_id>"; the plan that holds them (PlanState.
// holds_unplanned) keeps using those names, so adopting them rewrites
// nothing. The plan model owns these prefixes: only the command service
// writes to them.
#ifndef PLANTRAIL_DOMAIN_STREAMS_H_
#define PLANTRAIL_DOMAIN_STREAMS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace plantrail::domain {

inline constexpr char kPlanStreamPrefix[] = "plan-";
inline constexpr char kAreaStreamPrefix[] = "area-";
inline constexpr char kDecisionStreamPrefix[] = "decision-";
// Reserved for the server's own records (tokens, redactions, ...).
inline constexpr char kSystemStreamPrefix[] = "plantrail-";
// Between a plan's id and an area's (or decision's) in a stream id.
inline constexpr char kPlanSeparator = ':';

std::string PlanStream(absl::string_view plan_id);
// `stream_plan` is the plan part of the stream id: the plan's id, or empty
// for the unplanned names (see StreamPlanOf).
std::string AreaStream(absl::string_view stream_plan,
                       absl::string_view area_id);
std::string DecisionStream(absl::string_view stream_plan,
                           absl::string_view decision_id);
// The unplanned names.
std::string AreaStream(absl::string_view area_id);
std::string DecisionStream(absl::string_view decision_id);

// What a plan-model stream id names. For "area-kth:3.1": kind kArea,
// stream_plan "kth", id "3.1"; for "area-3.1": stream_plan empty.
struct PlanStreamName {
  enum class Kind { kNone, kPlan, kArea, kDecision };
  Kind kind = Kind::kNone;
  std::string stream_plan;
  std::string id;
};
PlanStreamName ParseStreamName(absl::string_view stream_id);

// The part after "area-" or "decision-" of an area's or decision's stream:
// "<plan_id>:<id>" or "<id>". Projections key their state by it, so that
// two plans' area "3.1" are two keys.
std::string QualifiedId(absl::string_view stream_plan, absl::string_view id);

// True for every stream the plan model owns, which the low-level
// EventStore.Append must refuse.
bool IsPlanStream(absl::string_view stream_id);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_STREAMS_H_
