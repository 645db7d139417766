// Reading a plan file (docs/import-format.md) into the commands that import
// it. Parsing only: nothing here talks to a server, and the plan's rules are
// checked later (import/import_check.h) on the server's state.
//
// A file is a list of rows. A row is what is applied or refused as a whole:
// in JSON, an area with its dependencies and reports, or a decision; in CSV,
// one line. Each row says where it stands in the file ("line 12",
// "areas[3] (3.4.2)"), so every refusal can point at it.
//
// Every command gets an id derived from its content, so importing the same
// file twice writes nothing the second time (the server answers replays).
//
// Pure functions; thread-safe.
#ifndef PLANTRAIL_IMPORT_PLAN_FILE_H_
#define PLANTRAIL_IMPORT_PLAN_FILE_H_

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "plantrail/v1/plan_commands.pb.h"

namespace plantrail::plan_import {

using ImportCommand =
    std::variant<v1::RegisterAreaRequest, v1::AddDependencyRequest,
                 v1::ReportStatusRequest, v1::RecordDecisionRequest>;

struct ImportRow {
  // "line 12" (CSV) or "areas[3] (3.4.2)" (JSON).
  std::string where;
  std::vector<ImportCommand> commands;
  // How the row was read where it was not literal ("planned_start: read
  // \"Första steg HT23\" as \"HT23\"").
  std::vector<std::string> notices;
};

// A row the parser could not read; it is not among the plan's rows.
struct ImportProblem {
  std::string where;
  std::string message;
};

struct ImportedPlan {
  std::vector<ImportRow> rows;
  std::vector<ImportProblem> problems;
  // The plan the file describes: its id (JSON `plan.id`, a CSV `plan` row's
  // id; empty when the file names none) and the fields it gives.
  std::string plan_id;
  std::optional<v1::PlanFields> plan_fields;
  // The plan part of the stream ids of the plan imported into (see
  // domain/streams.h), once SetPlan has said which.
  std::string stream_plan;
};

// Imports `plan` into plan `plan_id`, whose streams are named with
// `stream_plan` (empty for a plan holding the unplanned areas, or none):
// every command names the plan, and its command id is derived with the
// plan's stream part in it, so that one file imported into two plans gives
// two sets of ids, and into the unplanned names the ids of before plans.
void SetPlan(ImportedPlan& plan, const std::string& plan_id,
             const std::string& stream_plan);

// Whole-file errors (not JSON at all, no header, unknown columns) are
// INVALID_ARGUMENT; problems with single rows are in `problems`.
absl::StatusOr<ImportedPlan> ParsePlanJson(absl::string_view text);
absl::StatusOr<ImportedPlan> ParsePlanCsv(absl::string_view text);
// By the file's extension (.json or .csv); NOT_FOUND if it cannot be read.
absl::StatusOr<ImportedPlan> ReadPlanFile(const std::string& path);

// The id an import gives a command: "import-" and a SHA-256 of its content
// (without its options), so it is the same whenever the same file is read.
std::string ImportCommandId(const google::protobuf::Message& command);

// A planned start or end as written: itself when it is a plan date, else
// the date it names within prose ("Första steg HT23" -> "HT23"): the first
// one for a start, the last one for an end. INVALID_ARGUMENT naming `field`
// when it names none.
absl::StatusOr<std::string> ReadPlannedDate(absl::string_view text, bool is_end,
                                            absl::string_view field);

// The stream of the area or decision a command is about, its ids named with
// `stream_plan` (domain/streams.h).
std::string StreamOf(const ImportCommand& command,
                     absl::string_view stream_plan = "");

}  // namespace plantrail::plan_import

#endif  // PLANTRAIL_IMPORT_PLAN_FILE_H_
