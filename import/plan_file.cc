#include "import/plan_file.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "domain/decide.h"
#include "domain/plan_date.h"
#include "domain/plan_words.h"
#include "domain/streams.h"
#include "domain/text.h"
#include "import/csv.h"
#include "nlohmann/json.hpp"
#include "openssl/sha.h"

namespace plantrail::plan_import {
namespace {

using nlohmann::json;

// One dependency as the file gives it.
struct DependencySpec {
  std::string area;
  std::string external;
  std::string kind;
  std::string note;
};

// The fields of an area row, as text; turned into commands by AddArea.
struct AreaRecord {
  std::string id, title, support_area, group, rationale, desired_effect;
  std::vector<std::string> units, responsible_units;
  std::vector<DependencySpec> dependencies;
  std::string planned_start, planned_end, planned, phase;
};

struct ReportRecord {
  std::string area_id, reported_on, phase, health, note, next_report;
};

struct DecisionRecord {
  std::string id, reference, body, date, title, outcome;
  std::vector<std::string> areas;
};

template <typename Request>
Request WithImportId(Request request) {
  request.mutable_options()->set_command_id(ImportCommandId(request));
  return request;
}

absl::Status Required(absl::string_view field, const std::string& value) {
  if (!absl::StripAsciiWhitespace(value).empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": required [rule: import-required-field]"));
}

absl::Status AddArea(const AreaRecord& record, ImportRow& row) {
  PLANTRAIL_RETURN_IF_ERROR(Required("id", record.id));
  PLANTRAIL_RETURN_IF_ERROR(Required("title", record.title));
  PLANTRAIL_RETURN_IF_ERROR(Required("support_area", record.support_area));
  v1::RegisterAreaRequest registration;
  registration.set_area_id(record.id);
  registration.set_title(record.title);
  registration.set_support_area(record.support_area);
  registration.set_group(record.group);
  registration.set_rationale(record.rationale);
  registration.set_desired_effect(record.desired_effect);
  for (const std::string& unit : record.units) {
    registration.add_participating_units(unit);
  }
  for (const std::string& unit : record.responsible_units) {
    registration.add_responsible_units(unit);
  }
  if (!record.planned.empty()) {
    if (!record.planned_start.empty() || !record.planned_end.empty()) {
      return absl::InvalidArgumentError(
          "planned: give either planned or planned_start/planned_end "
          "[rule: one-way-to-plan]");
    }
    if (absl::Status status = domain::ParsePlanRange(record.planned).status();
        !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "planned: ", status.message(), " [rule: plan-date-syntax]"));
    }
    registration.set_planned_period(record.planned);
  }
  const std::pair<const std::string*, bool> dates[] = {
      {&record.planned_start, false}, {&record.planned_end, true}};
  for (const auto& [text, is_end] : dates) {
    if (text->empty()) continue;
    const char* field = is_end ? "planned_end" : "planned_start";
    PLANTRAIL_ASSIGN_OR_RETURN(std::string date,
                               ReadPlannedDate(*text, is_end, field));
    if (date != *text) {
      row.notices.push_back(
          absl::StrCat(field, ": read \"", *text, "\" as \"", date, "\""));
    }
    is_end ? registration.set_planned_end(date)
           : registration.set_planned_start(date);
  }
  if (!record.phase.empty()) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        v1::Phase phase, domain::ParseWords<v1::Phase>(record.phase, "phase"));
    registration.set_phase(phase);
  }
  row.commands.push_back(WithImportId(registration));
  for (size_t i = 0; i < record.dependencies.size(); ++i) {
    const DependencySpec& spec = record.dependencies[i];
    const std::string field = absl::StrCat("dependencies[", i, "]");
    v1::AddDependencyRequest dependency;
    dependency.set_area_id(record.id);
    if (spec.area.empty() == spec.external.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": give an area or an external name [rule: one-target]"));
    }
    spec.area.empty() ? dependency.set_external(spec.external)
                      : dependency.set_on_area_id(spec.area);
    if (!spec.kind.empty()) {
      PLANTRAIL_ASSIGN_OR_RETURN(v1::DependencyKind kind,
                                 domain::ParseWords<v1::DependencyKind>(
                                     spec.kind, absl::StrCat(field, ".kind")));
      dependency.set_kind(kind);
    }
    dependency.set_note(spec.note);
    row.commands.push_back(WithImportId(dependency));
  }
  return absl::OkStatus();
}

absl::Status AddReport(const ReportRecord& record, absl::string_view prefix,
                       ImportRow& row) {
  PLANTRAIL_RETURN_IF_ERROR(
      Required(absl::StrCat(prefix, "phase"), record.phase));
  PLANTRAIL_RETURN_IF_ERROR(
      Required(absl::StrCat(prefix, "health"), record.health));
  PLANTRAIL_RETURN_IF_ERROR(
      Required(absl::StrCat(prefix, "note"), record.note));
  v1::ReportStatusRequest report;
  report.set_area_id(record.area_id);
  PLANTRAIL_ASSIGN_OR_RETURN(v1::Phase phase,
                             domain::ParseWords<v1::Phase>(
                                 record.phase, absl::StrCat(prefix, "phase")));
  PLANTRAIL_ASSIGN_OR_RETURN(
      v1::Health health, domain::ParseWords<v1::Health>(
                             record.health, absl::StrCat(prefix, "health")));
  report.set_phase(phase);
  report.set_health(health);
  report.set_narrative(record.note);
  report.set_reported_on(record.reported_on);
  report.set_next_report_due(record.next_report);
  row.commands.push_back(WithImportId(report));
  return absl::OkStatus();
}

absl::Status AddDecision(const DecisionRecord& record, ImportRow& row) {
  PLANTRAIL_RETURN_IF_ERROR(Required("reference", record.reference));
  PLANTRAIL_RETURN_IF_ERROR(Required("body", record.body));
  PLANTRAIL_RETURN_IF_ERROR(Required("date", record.date));
  PLANTRAIL_RETURN_IF_ERROR(Required("title", record.title));
  if (record.areas.empty()) {
    return absl::InvalidArgumentError(
        "areas: a decision names at least one area [rule: "
        "decision-names-areas]");
  }
  v1::RecordDecisionRequest decision;
  decision.set_decision_id(record.id);
  decision.set_reference(record.reference);
  decision.set_body(record.body);
  decision.set_decided_on(record.date);
  decision.set_title(record.title);
  for (const std::string& area : record.areas) decision.add_area_ids(area);
  decision.set_outcome(record.outcome);
  row.commands.push_back(WithImportId(decision));
  return absl::OkStatus();
}

// "3.1.2", "external:Ladok (relates)", "3.5.1 (requires)".
DependencySpec ParseDependencyText(absl::string_view text) {
  DependencySpec spec;
  text = absl::StripAsciiWhitespace(text);
  for (absl::string_view kind : {"requires", "relates"}) {
    const std::string suffix = absl::StrCat("(", kind, ")");
    if (absl::EndsWith(text, suffix)) {
      spec.kind = std::string(kind);
      text = absl::StripAsciiWhitespace(
          text.substr(0, text.size() - suffix.size()));
    }
  }
  if (absl::ConsumePrefix(&text, "external:")) {
    spec.external = std::string(absl::StripAsciiWhitespace(text));
  } else {
    spec.area = std::string(text);
  }
  return spec;
}

// --- JSON -----------------------------------------------------------------

// Reads an object's fields strictly: only the expected keys, each of the
// expected type. The first problem is kept, named by its key.
class JsonFields {
 public:
  JsonFields(const json& object, std::string prefix)
      : object_(object), prefix_(std::move(prefix)) {
    if (!object_.is_object()) Fail("", "must be an object");
  }

  std::string String(const std::string& key) {
    seen_.insert(key);
    auto it = object_.find(key);
    if (!status_.ok() || it == object_.end() || it->is_null()) return "";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number()) return it->dump();  // "2024" written as 2024
    Fail(key, "must be a string");
    return "";
  }

  std::vector<std::string> Strings(const std::string& key) {
    seen_.insert(key);
    std::vector<std::string> values;
    auto it = object_.find(key);
    if (!status_.ok() || it == object_.end() || it->is_null()) return values;
    if (it->is_string()) return domain::SplitList(it->get<std::string>(), ';');
    if (!it->is_array()) {
      Fail(key, "must be a list of strings");
      return values;
    }
    for (const json& item : *it) {
      if (!item.is_string()) {
        Fail(key, "must be a list of strings");
        return {};
      }
      values.push_back(item.get<std::string>());
    }
    return values;
  }

  // The value at `key` (null when absent), for nested reading.
  const json& Value(const std::string& key) {
    seen_.insert(key);
    static const json kNull;
    auto it = object_.find(key);
    return it == object_.end() ? kNull : *it;
  }

  void Fail(absl::string_view key, absl::string_view rule) {
    if (!status_.ok()) return;
    status_ = absl::InvalidArgumentError(
        absl::StrCat(prefix_, key, key.empty() ? "" : ": ", rule));
  }

  // The first problem, or an unknown key (a typo would otherwise be
  // dropped silently).
  absl::Status Finish() {
    if (!status_.ok() || !object_.is_object()) return status_;
    for (const auto& [key, value] : object_.items()) {
      if (!seen_.contains(key)) {
        return absl::InvalidArgumentError(absl::StrCat(
            prefix_, key, ": unknown field [rule: import-known-fields]"));
      }
    }
    return absl::OkStatus();
  }

 private:
  const json& object_;
  std::string prefix_;
  std::set<std::string> seen_;
  absl::Status status_;
};

absl::StatusOr<ReportRecord> ReadJsonReport(const json& value,
                                            const std::string& area_id,
                                            const std::string& prefix) {
  JsonFields fields(value, prefix);
  ReportRecord report{.area_id = area_id,
                      .reported_on = fields.String("reported_on"),
                      .phase = fields.String("phase"),
                      .health = fields.String("health"),
                      .note = fields.String("note"),
                      .next_report = fields.String("next_report")};
  PLANTRAIL_RETURN_IF_ERROR(fields.Finish());
  return report;
}

absl::Status ReadJsonArea(const json& value, ImportRow& row) {
  JsonFields fields(value, "");
  AreaRecord area{.id = fields.String("id"),
                  .title = fields.String("title"),
                  .support_area = fields.String("support_area"),
                  .group = fields.String("group"),
                  .rationale = fields.String("rationale"),
                  .desired_effect = fields.String("desired_effect"),
                  .units = fields.Strings("units"),
                  .responsible_units = fields.Strings("responsible_units"),
                  .planned_start = fields.String("planned_start"),
                  .planned_end = fields.String("planned_end"),
                  .planned = fields.String("planned"),
                  .phase = fields.String("phase")};
  const json& dependencies = fields.Value("dependencies");
  if (!dependencies.is_null() && !dependencies.is_array()) {
    fields.Fail("dependencies", "must be a list");
  }
  for (size_t i = 0; dependencies.is_array() && i < dependencies.size(); ++i) {
    const json& item = dependencies[i];
    if (item.is_string()) {
      area.dependencies.push_back(ParseDependencyText(item.get<std::string>()));
      continue;
    }
    JsonFields dependency(item, absl::StrCat("dependencies[", i, "]."));
    area.dependencies.push_back({.area = dependency.String("area"),
                                 .external = dependency.String("external"),
                                 .kind = dependency.String("kind"),
                                 .note = dependency.String("note")});
    PLANTRAIL_RETURN_IF_ERROR(dependency.Finish());
  }
  const json& reports = fields.Value("reports");
  if (!reports.is_null() && !reports.is_array()) {
    fields.Fail("reports", "must be a list");
  }
  PLANTRAIL_RETURN_IF_ERROR(fields.Finish());
  PLANTRAIL_RETURN_IF_ERROR(AddArea(area, row));
  for (size_t i = 0; reports.is_array() && i < reports.size(); ++i) {
    const std::string prefix = absl::StrCat("reports[", i, "].");
    PLANTRAIL_ASSIGN_OR_RETURN(ReportRecord report,
                               ReadJsonReport(reports[i], area.id, prefix));
    PLANTRAIL_RETURN_IF_ERROR(AddReport(report, prefix, row));
  }
  return absl::OkStatus();
}

absl::Status ReadJsonDecision(const json& value, ImportRow& row) {
  JsonFields fields(value, "");
  DecisionRecord decision{.id = fields.String("id"),
                          .reference = fields.String("reference"),
                          .body = fields.String("body"),
                          .date = fields.String("date"),
                          .title = fields.String("title"),
                          .outcome = fields.String("outcome"),
                          .areas = fields.Strings("areas")};
  PLANTRAIL_RETURN_IF_ERROR(fields.Finish());
  return AddDecision(decision, row);
}

// --- CSV ------------------------------------------------------------------

constexpr absl::string_view kCsvColumns[] = {"record",
                                             "id",
                                             "title",
                                             "support_area",
                                             "group",
                                             "rationale",
                                             "desired_effect",
                                             "units",
                                             "responsible_units",
                                             "dependencies",
                                             "planned_start",
                                             "planned_end",
                                             "planned",
                                             "phase",
                                             "health",
                                             "reported_on",
                                             "note",
                                             "next_report",
                                             "decision_id",
                                             "reference",
                                             "body",
                                             "date",
                                             "areas",
                                             "outcome"};

}  // namespace

absl::StatusOr<std::string> ReadPlannedDate(absl::string_view text, bool is_end,
                                            absl::string_view field) {
  text = absl::StripAsciiWhitespace(text);
  absl::StatusOr<domain::PlanDate> whole = domain::PlanDate::Parse(text);
  if (whole.ok()) return std::string(text);
  // The dates the prose names: the longest readable run of words at each
  // place, left to right. The words left over must be words: a stray
  // number ("Q5 2023") means the text is a mistyped date, not prose.
  const std::vector<absl::string_view> words =
      absl::StrSplit(text, absl::ByAnyChar(" \t\n,;()"), absl::SkipEmpty());
  std::vector<std::string> found;
  bool stray_digits = false;
  for (size_t i = 0; i < words.size();) {
    size_t taken = 0;
    for (size_t n = std::min<size_t>(3, words.size() - i); n > 0; --n) {
      std::vector<absl::string_view> run(words.begin() + i,
                                         words.begin() + i + n);
      const std::string candidate = absl::StrJoin(run, " ");
      if (domain::PlanDate::Parse(candidate).ok()) {
        found.push_back(candidate);
        taken = n;
        break;
      }
    }
    if (taken == 0) {
      stray_digits |=
          std::any_of(words[i].begin(), words[i].end(), absl::ascii_isdigit);
    }
    i += taken == 0 ? 1 : taken;
  }
  if (stray_digits) found.clear();
  if (found.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", whole.status().message(), " [rule: plan-date-syntax]"));
  }
  return is_end ? found.back() : found.front();
}

std::string ImportCommandId(const google::protobuf::Message& command) {
  std::unique_ptr<google::protobuf::Message> copy(command.New());
  copy->CopyFrom(command);
  if (const auto* options = copy->GetDescriptor()->FindFieldByName("options")) {
    copy->GetReflection()->ClearField(copy.get(), options);
  }
  std::string bytes = copy->GetDescriptor()->full_name();
  bytes += '\0';
  // Deterministic: the same content gives the same bytes, and so the same id.
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy->SerializeToCodedStream(&coded);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         digest);
  return absl::StrCat("import-",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(digest), 20)));
}

std::string StreamOf(const ImportCommand& command,
                     absl::string_view stream_plan) {
  return std::visit(
      [stream_plan](const auto& request) -> std::string {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, v1::RecordDecisionRequest>) {
          absl::StatusOr<std::string> id = domain::DecisionIdOf(request);
          return domain::DecisionStream(stream_plan, id.ok() ? *id : "");
        } else {
          return domain::AreaStream(stream_plan, request.area_id());
        }
      },
      command);
}

void SetPlan(ImportedPlan& plan, const std::string& plan_id,
             const std::string& stream_plan) {
  plan.stream_plan = stream_plan;
  for (ImportRow& row : plan.rows) {
    for (ImportCommand& command : row.commands) {
      std::visit(
          [&](auto& request) {
            request.clear_options();
            request.set_plan_id(stream_plan);
            const std::string id = ImportCommandId(request);
            request.mutable_options()->set_command_id(id);
            request.set_plan_id(plan_id);
          },
          command);
    }
  }
}

namespace {

// The file's plan: an object with the plan's id and fields.
absl::Status ReadJsonPlan(const json& value, ImportedPlan& plan) {
  if (value.is_null()) return absl::OkStatus();
  JsonFields fields(value, "plan.");
  plan.plan_id = fields.String("id");
  v1::PlanFields given;
  // Only what the file gives is set: a field left out is left as it is.
  auto text = [&](const char* key) -> std::optional<std::string> {
    std::string value = fields.String(key);
    if (value.empty()) return std::nullopt;
    return value;
  };
  if (auto v = text("title")) given.set_title(*v);
  if (auto v = text("organisation")) given.set_organisation(*v);
  if (auto v = text("reference")) given.set_reference(*v);
  if (auto v = text("decided_by")) given.set_decided_by(*v);
  if (auto v = text("decided_on")) given.set_decided_on(*v);
  if (auto v = text("period")) given.set_period(*v);
  if (auto v = text("period_start")) given.set_period_start(*v);
  if (auto v = text("period_end")) given.set_period_end(*v);
  if (auto v = text("owner")) given.set_owner(*v);
  if (auto v = text("followed_up_by")) given.set_followed_up_by(*v);
  PLANTRAIL_RETURN_IF_ERROR(fields.Finish());
  plan.plan_fields = std::move(given);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ImportedPlan> ParsePlanJson(absl::string_view text) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::exception& e) {
    // Every json::exception, not only parse_error: a number too large for a
    // double ("1e400") is out_of_range.406, and an exception that escapes
    // here ends the CLI (found by fuzz/plan_import_json_fuzzer.cc).
    //   "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
    //   "[json.exception.out_of_range.406] number overflow parsing '1e400'"
    absl::string_view message = e.what();
    if (absl::ConsumePrefix(&message, "[json.exception.")) {
      const size_t end = message.find("] ");
      message.remove_prefix(end == absl::string_view::npos ? 0 : end + 2);
    }
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: ", message));
  }
  if (!document.is_object()) {
    return absl::InvalidArgumentError(
        "the file must hold one JSON object with \"areas\" and "
        "\"decisions\"");
  }
  JsonFields top(document, "");
  const std::string format = top.String("format");
  if (!format.empty() && format != "plantrail-plan/1") {
    return absl::InvalidArgumentError(
        absl::StrCat("format: \"", format, "\" is not plantrail-plan/1"));
  }
  const json& plan_object = top.Value("plan");
  const json& areas = top.Value("areas");
  const json& decisions = top.Value("decisions");
  PLANTRAIL_RETURN_IF_ERROR(top.Finish());
  ImportedPlan plan;
  PLANTRAIL_RETURN_IF_ERROR(ReadJsonPlan(plan_object, plan));
  auto read_list = [&plan](const json& list, absl::string_view name,
                           auto read) {
    if (list.is_null()) return absl::OkStatus();
    if (!list.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": must be a list"));
    }
    for (size_t i = 0; i < list.size(); ++i) {
      ImportRow row;
      row.where = absl::StrCat(name, "[", i, "]");
      if (list[i].is_object() && list[i].contains("id") &&
          list[i]["id"].is_string()) {
        absl::StrAppend(&row.where, " (", list[i]["id"].get<std::string>(),
                        ")");
      }
      if (absl::Status status = read(list[i], row); !status.ok()) {
        plan.problems.push_back(
            {.where = row.where, .message = std::string(status.message())});
      } else {
        plan.rows.push_back(std::move(row));
      }
    }
    return absl::OkStatus();
  };
  PLANTRAIL_RETURN_IF_ERROR(read_list(areas, "areas", ReadJsonArea));
  PLANTRAIL_RETURN_IF_ERROR(
      read_list(decisions, "decisions", ReadJsonDecision));
  return plan;
}

absl::StatusOr<ImportedPlan> ParsePlanCsv(absl::string_view text) {
  // Every command's strings go to the server as proto3 strings, which must
  // be UTF-8: a file saved as Latin-1 or Windows-1252 (what a spreadsheet
  // may call "CSV") would pass the check and then fail on the server row by
  // row, as requests it cannot parse (found by
  // fuzz/plan_import_csv_fuzzer.cc). JSON files are checked by the parser.
  if (const size_t valid = domain::Utf8Prefix(text); valid < text.size()) {
    const auto line = 1 + std::count(text.begin(), text.begin() + valid, '\n');
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line,
                     ": the file is not UTF-8; save it as UTF-8 (\"CSV "
                     "UTF-8\" in a spreadsheet) [rule: import-utf8]"));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(std::vector<CsvRecord> records, ReadCsv(text));
  if (records.empty()) {
    return absl::InvalidArgumentError("line 1: no header row");
  }
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < records[0].cells.size(); ++i) {
    const std::string name =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(records[0].cells[i]));
    if (std::find(std::begin(kCsvColumns), std::end(kCsvColumns), name) ==
        std::end(kCsvColumns)) {
      return absl::InvalidArgumentError(
          absl::StrCat("line 1: unknown column \"", name,
                       "\" (known: ", absl::StrJoin(kCsvColumns, ", "), ")"));
    }
    if (!column.emplace(name, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("line 1: column \"", name, "\" appears twice"));
    }
  }
  ImportedPlan plan;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    auto cell = [&](absl::string_view name) -> std::string {
      auto it = column.find(std::string(name));
      if (it == column.end() || it->second >= record.cells.size()) return "";
      return std::string(absl::StripAsciiWhitespace(record.cells[it->second]));
    };
    ImportRow row;
    row.where = absl::StrCat("line ", record.line);
    const std::string kind = absl::AsciiStrToLower(cell("record"));
    if (!cell("id").empty()) absl::StrAppend(&row.where, " (", cell("id"), ")");
    absl::Status status;
    if (record.cells.size() > records[0].cells.size()) {
      status = absl::InvalidArgumentError(absl::StrCat(
          "has ", record.cells.size(), " fields, the header ",
          records[0].cells.size(), " (a comma in an unquoted field?)"));
    } else if (kind.empty() || kind == "area") {
      std::vector<DependencySpec> dependencies;
      for (const std::string& text :
           domain::SplitList(cell("dependencies"), ';')) {
        dependencies.push_back(ParseDependencyText(text));
      }
      status = AddArea({.id = cell("id"),
                        .title = cell("title"),
                        .support_area = cell("support_area"),
                        .group = cell("group"),
                        .rationale = cell("rationale"),
                        .desired_effect = cell("desired_effect"),
                        .units = domain::SplitList(cell("units"), ';'),
                        .responsible_units =
                            domain::SplitList(cell("responsible_units"), ';'),
                        .dependencies = std::move(dependencies),
                        .planned_start = cell("planned_start"),
                        .planned_end = cell("planned_end"),
                        .planned = cell("planned"),
                        .phase = cell("phase")},
                       row);
    } else if (kind == "report") {
      status = Required("id", cell("id"));
      if (status.ok()) {
        status = AddReport({.area_id = cell("id"),
                            .reported_on = cell("reported_on"),
                            .phase = cell("phase"),
                            .health = cell("health"),
                            .note = cell("note"),
                            .next_report = cell("next_report")},
                           "", row);
      }
    } else if (kind == "decision") {
      status = AddDecision({.id = cell("decision_id"),
                            .reference = cell("reference"),
                            .body = cell("body"),
                            .date = cell("date"),
                            .title = cell("title"),
                            .outcome = cell("outcome"),
                            .areas = domain::SplitList(cell("areas"), ';')},
                           row);
    } else if (kind == "plan") {
      // The plan itself: its id (optional: else --plan), title, reference,
      // deciding body, decision date and period.
      if (plan.plan_fields.has_value()) {
        status = absl::InvalidArgumentError(
            "record: a file describes one plan; this is the second plan row");
      }
      if (status.ok()) {
        plan.plan_id = cell("id");
        v1::PlanFields fields;
        if (!cell("title").empty()) fields.set_title(cell("title"));
        if (!cell("reference").empty()) {
          fields.set_reference(cell("reference"));
        }
        if (!cell("body").empty()) fields.set_decided_by(cell("body"));
        if (!cell("date").empty()) fields.set_decided_on(cell("date"));
        if (!cell("planned").empty()) fields.set_period(cell("planned"));
        plan.plan_fields = std::move(fields);
        continue;  // not a row of commands
      }
    } else {
      status = absl::InvalidArgumentError(absl::StrCat(
          "record: \"", kind, "\" is not one of plan, area, report, decision"));
    }
    if (status.ok()) {
      plan.rows.push_back(std::move(row));
    } else {
      plan.problems.push_back(
          {.where = row.where, .message = std::string(status.message())});
    }
  }
  return plan;
}

absl::StatusOr<ImportedPlan> ReadPlanFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read \"", path, "\""));
  }
  std::ostringstream content;
  content << in.rdbuf();
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".json")) return ParsePlanJson(content.str());
  if (absl::EndsWith(lower, ".csv")) return ParsePlanCsv(content.str());
  return absl::InvalidArgumentError(
      absl::StrCat("\"", path,
                   "\": the file must end in .json or .csv (see "
                   "docs/import-format.md)"));
}

}  // namespace plantrail::plan_import
