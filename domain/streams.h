// Which stream holds what. A development area is the stream
// "area-<area_id>", a council decision "decision-<decision_id>". The plan
// model owns these prefixes: only the command service writes to them.
#ifndef PLANTRAIL_DOMAIN_STREAMS_H_
#define PLANTRAIL_DOMAIN_STREAMS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace plantrail::domain {

inline constexpr char kAreaStreamPrefix[] = "area-";
inline constexpr char kDecisionStreamPrefix[] = "decision-";
// Reserved for the server's own records (tokens, redactions, ...).
inline constexpr char kSystemStreamPrefix[] = "plantrail-";

std::string AreaStream(absl::string_view area_id);
std::string DecisionStream(absl::string_view decision_id);

// True for every stream the plan model owns, which the low-level
// EventStore.Append must refuse.
bool IsPlanStream(absl::string_view stream_id);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_STREAMS_H_
