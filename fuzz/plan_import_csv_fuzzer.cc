// A hostile CSV plan file (`plantrail import plan.csv`): ParsePlanCsv on any
// bytes, then what import_checks.h asserts of every plan. Beyond that:
//   - a whole-file refusal is kInvalidArgument;
//   - every line after the header becomes one row or one problem (a CSV row
//     is applied or refused as a whole, docs/import-format.md);
//   - what ReadCsv reads, written back with CsvCell, reads as the same cells
//     (export writes what import reads, import/csv.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/import_checks.h"
#include "import/csv.h"
#include "import/plan_file.h"

namespace plantrail::fuzz {
namespace {

// `records` as a CSV file. A BOM first, so that a first cell that begins
// with one keeps it (ReadCsv drops one BOM); a record of one empty cell is
// `""`, as RFC 4180 writers put it, since an empty line is no record.
std::string WriteCsv(const std::vector<plan_import::CsvRecord>& records) {
  std::string out = "\xEF\xBB\xBF";
  for (const plan_import::CsvRecord& record : records) {
    if (record.cells.size() == 1 && record.cells[0].empty()) {
      out += "\"\"\n";
      continue;
    }
    for (size_t i = 0; i < record.cells.size(); ++i) {
      if (i > 0) out += ',';
      out += plan_import::CsvCell(record.cells[i]);
    }
    out += '\n';
  }
  return out;
}

void CheckCsvRoundTrip(const std::vector<plan_import::CsvRecord>& records) {
  const std::string written = WriteCsv(records);
  const absl::StatusOr<std::vector<plan_import::CsvRecord>> again =
      plan_import::ReadCsv(written);
  PLANTRAIL_FUZZ_CHECK(again.ok(), absl::StrCat(Escaped(written), ": ",
                                                Describe(again.status())));
  PLANTRAIL_FUZZ_CHECK(again->size() == records.size(),
                       absl::StrCat(Escaped(written), " has ", again->size(),
                                    " records, not ", records.size()));
  for (size_t i = 0; i < records.size(); ++i) {
    PLANTRAIL_FUZZ_CHECK((*again)[i].cells == records[i].cells,
                         absl::StrCat("record ", i, " of ", Escaped(written),
                                      " reads differently"));
  }
}

void FuzzCsv(absl::string_view text) {
  const absl::StatusOr<std::vector<plan_import::CsvRecord>> records =
      plan_import::ReadCsv(text);
  const absl::StatusOr<plan_import::ImportedPlan> plan =
      plan_import::ParsePlanCsv(text);
  if (!records.ok()) {
    PLANTRAIL_FUZZ_CHECK(absl::IsInvalidArgument(records.status()),
                         Describe(records.status()));
    PLANTRAIL_FUZZ_CHECK(!plan.ok(), "ParsePlanCsv reads what ReadCsv cannot");
  } else {
    CheckCsvRoundTrip(*records);
  }
  if (!plan.ok()) {
    PLANTRAIL_FUZZ_CHECK(absl::IsInvalidArgument(plan.status()),
                         Describe(plan.status()));
    return;
  }
  PLANTRAIL_FUZZ_CHECK(
      plan->rows.size() + plan->problems.size() + 1 == records->size(),
      absl::StrCat(plan->rows.size(), " rows and ", plan->problems.size(),
                   " problems from ", records->size(), " records"));
  CheckImportedPlan(*plan);
}

}  // namespace
}  // namespace plantrail::fuzz

PLANTRAIL_FUZZ_TARGET(plantrail::fuzz::FuzzCsv)
