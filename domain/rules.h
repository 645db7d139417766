// How the plan model says no. Every refusal names the field (as the contract
// spells it) or the rule, so that a person can act on it:
//   "reason: a schedule revision needs a reason [rule: reason-required]"
#ifndef PLANTRAIL_DOMAIN_RULES_H_
#define PLANTRAIL_DOMAIN_RULES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace plantrail::domain {

// A refusal with `code`, saying `what` and naming `rule`.
absl::Status Refuse(absl::StatusCode code, absl::string_view rule,
                    absl::string_view what);

// Input limits of plan fields; each returns INVALID_ARGUMENT naming `field`.
struct TextLimits {
  static constexpr size_t kId = 64;
  // A plan's id is part of every stream id of its areas.
  static constexpr size_t kPlanId = 32;
  static constexpr size_t kLine = 300;
  static constexpr size_t kName = 200;
  static constexpr size_t kReason = 2000;
  static constexpr size_t kText = 10000;
  static constexpr size_t kUnits = 50;
  static constexpr size_t kDecisionAreas = 500;
  static constexpr size_t kCommandId = 128;
  // A date or period as written ("Start april 2023 – slut december 2023").
  static constexpr size_t kDate = 100;
};

// [A-Za-z0-9][A-Za-z0-9._-]*, at most TextLimits::kId: area and decision ids.
absl::Status CheckId(absl::string_view field, absl::string_view id);
// The same syntax, at most TextLimits::kPlanId: plan ids.
absl::Status CheckPlanId(absl::string_view field, absl::string_view id);
// One line of text: no control characters, at most `max` bytes; `required`
// refuses empty (after trimming spaces).
absl::Status CheckLine(absl::string_view field, absl::string_view text,
                       size_t max, bool required);
// Free text (newlines and tabs allowed), at most `max` bytes.
absl::Status CheckText(absl::string_view field, absl::string_view text,
                       size_t max, bool required);
// A reason, required for every revision and correction.
absl::Status CheckReason(absl::string_view field, absl::string_view reason,
                         absl::string_view what_needs_it);
// Unit names: each one line, distinct, at most TextLimits::kUnits of them.
absl::Status CheckUnits(absl::string_view field,
                        const std::vector<std::string>& units);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_RULES_H_
