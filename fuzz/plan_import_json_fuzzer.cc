// A hostile JSON plan file (`plantrail import plan.json`): ParsePlanJson on
// any bytes, then what import_checks.h asserts of every plan. Beyond that:
//   - nothing escapes as an exception, and a whole-file refusal is
//     kInvalidArgument;
//   - every element of "areas" and "decisions" becomes one row or one
//     problem (an area with its dependencies and reports, or a decision, is
//     applied or refused as a whole, docs/import-format.md).
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/import_checks.h"
#include "import/plan_file.h"
#include "nlohmann/json.hpp"

namespace plantrail::fuzz {
namespace {

using nlohmann::json;

// The number of elements of the list at `key`; 0 when there is none.
size_t ListSize(const json& document, const char* key) {
  auto it = document.find(key);
  return it != document.end() && it->is_array() ? it->size() : 0;
}

void FuzzJson(absl::string_view text) {
  const absl::StatusOr<plan_import::ImportedPlan> plan =
      plan_import::ParsePlanJson(text);
  if (!plan.ok()) {
    PLANTRAIL_FUZZ_CHECK(absl::IsInvalidArgument(plan.status()),
                         Describe(plan.status()));
    return;
  }
  // Read it once more, without exceptions, to count what the file lists.
  const json document = json::parse(text.begin(), text.end(), nullptr,
                                    /*allow_exceptions=*/false);
  PLANTRAIL_FUZZ_CHECK(document.is_object(), "a plan that is no JSON object");
  const size_t listed =
      ListSize(document, "areas") + ListSize(document, "decisions");
  PLANTRAIL_FUZZ_CHECK(
      plan->rows.size() + plan->problems.size() == listed,
      absl::StrCat(plan->rows.size(), " rows and ", plan->problems.size(),
                   " problems from ", listed, " areas and decisions"));
  CheckImportedPlan(*plan);
}

}  // namespace
}  // namespace plantrail::fuzz

PLANTRAIL_FUZZ_TARGET(plantrail::fuzz::FuzzJson)
