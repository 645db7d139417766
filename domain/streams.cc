#include "domain/streams.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace plantrail::domain {

std::string PlanStream(absl::string_view plan_id) {
  return absl::StrCat(kPlanStreamPrefix, plan_id);
}

std::string QualifiedId(absl::string_view stream_plan, absl::string_view id) {
  if (stream_plan.empty()) return std::string(id);
  return absl::StrCat(stream_plan, std::string(1, kPlanSeparator), id);
}

std::string AreaStream(absl::string_view stream_plan,
                       absl::string_view area_id) {
  return absl::StrCat(kAreaStreamPrefix, QualifiedId(stream_plan, area_id));
}

std::string DecisionStream(absl::string_view stream_plan,
                           absl::string_view decision_id) {
  return absl::StrCat(kDecisionStreamPrefix,
                      QualifiedId(stream_plan, decision_id));
}

std::string AreaStream(absl::string_view area_id) {
  return AreaStream("", area_id);
}

std::string DecisionStream(absl::string_view decision_id) {
  return DecisionStream("", decision_id);
}

PlanStreamName ParseStreamName(absl::string_view stream_id) {
  PlanStreamName name;
  absl::string_view rest = stream_id;
  if (absl::ConsumePrefix(&rest, kPlanStreamPrefix)) {
    name.kind = PlanStreamName::Kind::kPlan;
    name.id = std::string(rest);
    return name;
  }
  if (absl::ConsumePrefix(&rest, kAreaStreamPrefix)) {
    name.kind = PlanStreamName::Kind::kArea;
  } else if (absl::ConsumePrefix(&rest, kDecisionStreamPrefix)) {
    name.kind = PlanStreamName::Kind::kDecision;
  } else {
    return name;
  }
  const size_t separator = rest.find(kPlanSeparator);
  if (separator == absl::string_view::npos) {
    name.id = std::string(rest);
  } else {
    name.stream_plan = std::string(rest.substr(0, separator));
    name.id = std::string(rest.substr(separator + 1));
  }
  return name;
}

bool IsPlanStream(absl::string_view stream_id) {
  return absl::StartsWith(stream_id, kPlanStreamPrefix) ||
         absl::StartsWith(stream_id, kAreaStreamPrefix) ||
         absl::StartsWith(stream_id, kDecisionStreamPrefix) ||
         absl::StartsWith(stream_id, kSystemStreamPrefix);
}

}  // namespace plantrail::domain
