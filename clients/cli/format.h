// How the CLI writes the plan for people: dates as the plan wrote them,
// times, dependencies, history entries, aligned tables. The words for
// phases, healths and event types are the domain's (domain/plan_words.h).
//
// Pure functions; thread-safe.
#ifndef PLANTRAIL_CLIENTS_CLI_FORMAT_H_
#define PLANTRAIL_CLIENTS_CLI_FORMAT_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"
#include "plantrail/v1/plan.pb.h"
#include "plantrail/v1/plan_queries.pb.h"
#include "plantrail/v1/security.pb.h"

namespace plantrail::cli {

// As the plan wrote it ("HT 23"); empty when unset.
std::string DateText(const v1::PlanDate& date);
// "2024-01-10 09:12 UTC".
std::string TimeText(const google::protobuf::Timestamp& time);
// "2024-01-10".
std::string DayText(const google::protobuf::Timestamp& time);

// A dependency as one short phrase: "3.1.2 (requires)", "external: Ladok".
std::string DependencyText(const v1::Dependency& dependency);

// A history entry as people read it: a heading line (business date,
// position, what happened, who) and one indented line per change, reason,
// decision, text and correction.
void PrintHistoryEntry(const v1::HistoryEntry& entry, std::ostream& out);

// `text` with its control characters written as escapes ("\n", "\t",
// "\x1b", "\u009b" for the C1 controls): what the server holds may come
// from anyone, and printed as it is a newline would forge a row of a table
// and an escape sequence would drive the terminal.
std::string OneLine(absl::string_view text);

// Columns aligned by display width (UTF-8 aware: "Ekonomi- och
// löneavdelningen" is as wide as it looks). Each row is one line: cells go
// through OneLine. Cells longer than `max_width` are cut with "…".
class Table {
 public:
  explicit Table(std::vector<std::string> headings, size_t max_width = 48);
  void AddRow(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headings_;
  std::vector<std::vector<std::string>> rows_;
  size_t max_width_;
};

// One area's changes in a window (GetChanges, GetFollowUp), in the plan's
// words, a line each.
std::vector<std::string> ChangeLines(const v1::AreaChange& change);

}  // namespace plantrail::cli

#endif  // PLANTRAIL_CLIENTS_CLI_FORMAT_H_
