#include "domain/rules.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace plantrail::domain {
namespace {

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '_' || c == '-';
}

absl::Status Invalid(absl::string_view field, absl::string_view rule,
                     absl::string_view what) {
  return Refuse(absl::StatusCode::kInvalidArgument, rule,
                absl::StrCat(field, ": ", what));
}

absl::Status CheckSize(absl::string_view field, absl::string_view text,
                       size_t max, bool required) {
  if (required && absl::StripAsciiWhitespace(text).empty()) {
    return Invalid(field, "required", "must not be empty");
  }
  if (text.size() > max) {
    return Invalid(field, "length",
                   absl::StrCat("must be at most ", max, " bytes (got ",
                                text.size(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Refuse(absl::StatusCode code, absl::string_view rule,
                    absl::string_view what) {
  return absl::Status(code, absl::StrCat(what, " [rule: ", rule, "]"));
}

absl::Status CheckId(absl::string_view field, absl::string_view id) {
  PLANTRAIL_RETURN_IF_ERROR(CheckSize(field, id, TextLimits::kId, true));
  bool ok = absl::ascii_isalnum(static_cast<unsigned char>(id[0]));
  for (char c : id) ok = ok && IsIdChar(c);
  if (!ok) {
    return Invalid(field, "id-syntax",
                   absl::StrCat("\"", absl::CEscape(id),
                                "\" must match [A-Za-z0-9][A-Za-z0-9._-]*"));
  }
  return absl::OkStatus();
}

absl::Status CheckPlanId(absl::string_view field, absl::string_view id) {
  PLANTRAIL_RETURN_IF_ERROR(CheckSize(field, id, TextLimits::kPlanId, true));
  return CheckId(field, id);
}

absl::Status CheckLine(absl::string_view field, absl::string_view text,
                       size_t max, bool required) {
  PLANTRAIL_RETURN_IF_ERROR(CheckSize(field, text, max, required));
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Invalid(field, "single-line",
                     "must be one line without control characters");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckText(absl::string_view field, absl::string_view text,
                       size_t max, bool required) {
  PLANTRAIL_RETURN_IF_ERROR(CheckSize(field, text, max, required));
  for (char c : text) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' &&
         c != '\r') ||
        c == 0x7f) {
      return Invalid(field, "text", "must not contain control characters");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckReason(absl::string_view field, absl::string_view reason,
                         absl::string_view what_needs_it) {
  if (absl::StripAsciiWhitespace(reason).empty()) {
    return Invalid(field, "reason-required",
                   absl::StrCat(what_needs_it, " needs a reason"));
  }
  return CheckText(field, reason, TextLimits::kReason, true);
}

absl::Status CheckUnits(absl::string_view field,
                        const std::vector<std::string>& units) {
  if (units.size() > TextLimits::kUnits) {
    return Invalid(field, "length",
                   absl::StrCat("must name at most ", TextLimits::kUnits,
                                " units (got ", units.size(), ")"));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (size_t i = 0; i < units.size(); ++i) {
    const std::string unit_field = absl::StrCat(field, "[", i, "]");
    PLANTRAIL_RETURN_IF_ERROR(
        CheckLine(unit_field, units[i], TextLimits::kName, true));
    if (!seen.insert(units[i]).second) {
      return Invalid(unit_field, "distinct",
                     absl::StrCat("\"", units[i], "\" is named twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace plantrail::domain
