#include "domain/streams.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace plantrail::domain {

std::string AreaStream(absl::string_view area_id) {
  return absl::StrCat(kAreaStreamPrefix, area_id);
}

std::string DecisionStream(absl::string_view decision_id) {
  return absl::StrCat(kDecisionStreamPrefix, decision_id);
}

bool IsPlanStream(absl::string_view stream_id) {
  return absl::StartsWith(stream_id, kAreaStreamPrefix) ||
         absl::StartsWith(stream_id, kDecisionStreamPrefix) ||
         absl::StartsWith(stream_id, kSystemStreamPrefix);
}

}  // namespace plantrail::domain
