// CSV as spreadsheets write it (RFC 4180), both ways: what import reads
// and export writes.
#ifndef PLANTRAIL_IMPORT_CSV_H_
#define PLANTRAIL_IMPORT_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace plantrail::plan_import {

struct CsvRecord {
  int line = 0;  // where the record starts, 1-based
  std::vector<std::string> cells;
};

// RFC 4180, with CRLF or LF line ends and quoted line breaks, and a
// spreadsheet's BOM skipped. An unterminated quote is a whole-file error
// naming its line.
absl::StatusOr<std::vector<CsvRecord>> ReadCsv(absl::string_view text);

// `text` as one CSV cell: quoted when it holds a comma, quote or line end.
std::string CsvCell(absl::string_view text);

}  // namespace plantrail::plan_import

#endif  // PLANTRAIL_IMPORT_CSV_H_
