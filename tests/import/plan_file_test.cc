// The import file formats (docs/import-format.md): what each row becomes,
// where each problem is reported, and ids that stay the same between runs.
#include "import/plan_file.h"

#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::plan_import {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

template <typename T>
const T& As(const ImportCommand& command) {
  return std::get<T>(command);
}

TEST(PlanCsvTest, AreaAndReportRowsBecomeTheirCommands) {
  const absl::StatusOr<ImportedPlan> plan = ParsePlanCsv(
      "record,id,title,support_area,units,dependencies,planned_start,"
      "planned_end,reported_on,phase,health,note,next_report\n"
      "area,1,\"Rektor, mandat\",Skolledarskap,BUF;HR,2;external:Kommunen "
      "(relates),HT17,mars 2018,,,,,\n"
      "report,1,,,,,,,2018-01-10,in progress,On-Track,\"Sa \"\"klart\"\"\","
      "juni 2018\n"
      "area,2,Rutiner,Skolledarskap,,,,VT18,,,,,\n");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->problems, SizeIs(0));
  ASSERT_THAT(plan->rows, SizeIs(3));

  const ImportRow& area = plan->rows[0];
  EXPECT_EQ(area.where, "line 2 (1)");
  ASSERT_THAT(area.commands, SizeIs(3));
  const auto& registration = As<v1::RegisterAreaRequest>(area.commands[0]);
  EXPECT_EQ(registration.title(), "Rektor, mandat");
  EXPECT_THAT(registration.participating_units(), ElementsAre("BUF", "HR"));
  EXPECT_EQ(registration.planned_start(), "HT17");
  EXPECT_EQ(registration.planned_end(), "mars 2018");
  const auto& on_area = As<v1::AddDependencyRequest>(area.commands[1]);
  EXPECT_EQ(on_area.on_area_id(), "2");
  const auto& external = As<v1::AddDependencyRequest>(area.commands[2]);
  EXPECT_EQ(external.external(), "Kommunen");
  EXPECT_EQ(external.kind(), v1::DEPENDENCY_KIND_RELATES);

  const auto& report = As<v1::ReportStatusRequest>(plan->rows[1].commands[0]);
  EXPECT_EQ(plan->rows[1].where, "line 3 (1)");
  EXPECT_EQ(report.area_id(), "1");
  EXPECT_EQ(report.phase(), v1::PHASE_IN_PROGRESS);
  EXPECT_EQ(report.health(), v1::HEALTH_ON_TRACK);
  EXPECT_EQ(report.narrative(), "Sa \"klart\"");
  EXPECT_EQ(report.reported_on(), "2018-01-10");
  EXPECT_EQ(report.next_report_due(), "juni 2018");
}

TEST(PlanCsvTest, EveryBadRowIsNamedByItsLineAndTheRule) {
  const absl::StatusOr<ImportedPlan> plan = ParsePlanCsv(
      "record,id,title,support_area,planned_end,phase,health,note\n"
      "area,ok,Fine,S,2024,,,\n"
      "area,bad-date,Date,S,Q5 2023,,,\n"
      "report,ok,,,,bogus,on track,x\n"
      "area,,No id,S,,,,\n"
      "\"area\",multi,\"Two\nlines\",S,,,,\n"
      "area,late,Late,S,Q5 2024,,,\n"
      "thing,x,,,,,,\n");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_THAT(plan->rows, SizeIs(2));
  EXPECT_EQ(plan->rows[0].where, "line 2 (ok)");
  EXPECT_EQ(plan->rows[1].where, "line 6 (multi)");
  ASSERT_THAT(plan->problems, SizeIs(5));
  EXPECT_EQ(plan->problems[0].where, "line 3 (bad-date)");
  EXPECT_THAT(plan->problems[0].message, HasSubstr("planned_end"));
  EXPECT_THAT(plan->problems[0].message, HasSubstr("Q5 2023"));
  EXPECT_EQ(plan->problems[1].where, "line 4 (ok)");
  EXPECT_THAT(plan->problems[1].message, HasSubstr("phase: \"bogus\""));
  EXPECT_EQ(plan->problems[2].where, "line 5");
  EXPECT_THAT(plan->problems[2].message, HasSubstr("id: required"));
  // The quoted line break in line 6 moves the next row to line 8.
  EXPECT_EQ(plan->problems[3].where, "line 8 (late)");
  EXPECT_THAT(
      plan->problems[4].message,
      HasSubstr("\"thing\" is not one of plan, area, report, decision"));
}

TEST(PlanCsvTest, FileErrorsAreWholeFileErrors) {
  EXPECT_THAT(ParsePlanCsv("record,id,colour\n").status().message(),
              HasSubstr("line 1: unknown column \"colour\""));
  EXPECT_THAT(ParsePlanCsv("id,id\n").status().message(),
              HasSubstr("appears twice"));
  EXPECT_THAT(ParsePlanCsv("id,title\nx,\"never closed\n").status().message(),
              HasSubstr("line 2: a quoted field is never closed"));
  EXPECT_FALSE(ParsePlanCsv("").ok());
}

// Found by fuzz/plan_import_csv_fuzzer.cc: a file in Latin-1 or
// Windows-1252 passed the check and gave commands the server cannot parse
// (proto3 strings are UTF-8). RFC 3629 is the rule, as protobuf has it.
TEST(PlanCsvTest, AFileThatIsNotUtf8IsAWholeFileError) {
  const std::string header = "id,title,support_area\n";
  const absl::StatusOr<ImportedPlan> latin1 =
      ParsePlanCsv(header +
                   "1,Rektorernas mandat,S\n2,F\xf6rs\xe4kra st\xf6"
                   "d,S\n");
  ASSERT_FALSE(latin1.ok());
  EXPECT_EQ(latin1.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(latin1.status().message(),
              HasSubstr("line 3: the file is not UTF-8"));
  EXPECT_THAT(latin1.status().message(), HasSubstr("[rule: import-utf8]"));
  for (const char* bad : {
           "\xc0\xaf",          // overlong "/"
           "\xe0\x80\xaf",      // overlong "/"
           "\xed\xa0\x80",      // a surrogate
           "\xf4\x90\x80\x80",  // above U+10FFFF
           "\xf8\x88\x80\x80",  // no such lead byte
           "\xc3",              // cut short
       }) {
    EXPECT_FALSE(ParsePlanCsv(header + "1,T,S" + bad + "\n").ok())
        << absl::CHexEscape(bad);
  }
  const absl::StatusOr<ImportedPlan> utf8 =
      ParsePlanCsv("\xef\xbb\xbf" + header +
                   "1,F\xc3\xb6rs\xc3\xa4kra st\xc3\xb6"
                   "d \xe2\x80\x93 \xf0\x9f\x93\x85,S\n");
  ASSERT_TRUE(utf8.ok()) << utf8.status();
  EXPECT_THAT(utf8->rows, SizeIs(1));
}

TEST(PlanCsvTest, ExtraFieldsInARowAreRefused) {
  const absl::StatusOr<ImportedPlan> plan =
      ParsePlanCsv("id,title,support_area\n1,a,b,c\n");
  ASSERT_TRUE(plan.ok());
  ASSERT_THAT(plan->problems, SizeIs(1));
  EXPECT_THAT(plan->problems[0].message, HasSubstr("has 4 fields"));
}

TEST(PlanJsonTest, AreasWithReportsAndDecisions) {
  const absl::StatusOr<ImportedPlan> plan = ParsePlanJson(R"({
    "format": "plantrail-plan/1",
    "plan": {"title": "Handlingsplan", "reference": "V-2022-0218"},
    "areas": [
      {"id": "3.1.1", "title": "A", "support_area": "3.1",
       "units": ["GVS"], "planned": "Q4 2022-Q4 2023", "phase": "in progress",
       "dependencies": ["3.1.2", {"external": "Ladok", "kind": "relates"}],
       "reports": [{"reported_on": "2023-01-10", "phase": "in progress",
                    "health": "at risk", "note": "slow"}]},
      {"id": "3.1.2", "title": "B", "support_area": "3.1",
       "planned_start": "Första steg HT23", "planned_end": 2024}
    ],
    "decisions": [{"reference": "V-2022-0218", "body": "rektor",
                   "date": "2023-04-05", "title": "Adopted",
                   "areas": ["3.1.1", "3.1.2"]}]
  })");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->problems, SizeIs(0));
  ASSERT_THAT(plan->rows, SizeIs(3));
  EXPECT_EQ(plan->rows[0].where, "areas[0] (3.1.1)");
  ASSERT_THAT(plan->rows[0].commands, SizeIs(4));
  EXPECT_EQ(
      As<v1::RegisterAreaRequest>(plan->rows[0].commands[0]).planned_period(),
      "Q4 2022-Q4 2023");
  EXPECT_EQ(As<v1::ReportStatusRequest>(plan->rows[0].commands[3]).health(),
            v1::HEALTH_AT_RISK);
  const auto& b = As<v1::RegisterAreaRequest>(plan->rows[1].commands[0]);
  EXPECT_EQ(b.planned_start(), "HT23");
  EXPECT_EQ(b.planned_end(), "2024");
  EXPECT_THAT(plan->rows[1].notices,
              ElementsAre("planned_start: read \"Första steg HT23\" as "
                          "\"HT23\""));
  const auto& decision =
      As<v1::RecordDecisionRequest>(plan->rows[2].commands[0]);
  EXPECT_THAT(decision.area_ids(), ElementsAre("3.1.1", "3.1.2"));
  EXPECT_EQ(StreamOf(plan->rows[2].commands[0]),
            "decision-V-2022-0218-2023-04-05");
}

TEST(PlanJsonTest, ProblemsAreNamedByPathAndField) {
  const absl::StatusOr<ImportedPlan> plan = ParsePlanJson(R"({
    "areas": [
      {"id": "a", "title": "A", "support_area": "S", "rational": "typo"},
      {"id": "b", "title": "B", "support_area": "S",
       "reports": [{"phase": "planned", "health": "sunny", "note": "x"}]},
      {"id": "c", "title": "C", "support_area": "S", "units": [1, 2]},
      {"id": "d", "title": "D", "support_area": "S"}
    ]
  })");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_THAT(plan->rows, SizeIs(1));
  EXPECT_EQ(plan->rows[0].where, "areas[3] (d)");
  ASSERT_THAT(plan->problems, SizeIs(3));
  EXPECT_EQ(plan->problems[0].where, "areas[0] (a)");
  EXPECT_THAT(plan->problems[0].message,
              HasSubstr("rational: unknown field [rule: import-known-fields]"));
  EXPECT_EQ(plan->problems[1].where, "areas[1] (b)");
  EXPECT_THAT(plan->problems[1].message,
              HasSubstr("reports[0].health: \"sunny\" is not one of"));
  EXPECT_THAT(plan->problems[2].message,
              HasSubstr("units: must be a list of strings"));
}

TEST(PlanJsonTest, NotJsonSaysWhere) {
  const absl::StatusOr<ImportedPlan> plan =
      ParsePlanJson("{\n  \"areas\": [\n,");
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("line 3"));
  EXPECT_THAT(ParsePlanJson("[]").status().message(),
              HasSubstr("one JSON object"));
  EXPECT_THAT(ParsePlanJson(R"({"format": "other/2"})").status().message(),
              HasSubstr("format"));
}

// Found by fuzz/plan_import_json_fuzzer.cc: nlohmann::json throws
// out_of_range, not parse_error, for a number no double holds, and the
// exception ended the CLI.
TEST(PlanJsonTest, ANumberTooLargeForADoubleIsNotValidJson) {
  for (const char* text : {
           R"({"areas": [{"id": "1", "title": "T", "support_area": "S",
                          "planned_end": 1e400}]})",
           "4e555555555555555555555555555555555555555555555555555554eplan}",
       }) {
    const absl::StatusOr<ImportedPlan> plan = ParsePlanJson(text);
    ASSERT_FALSE(plan.ok()) << text;
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(plan.status().message(),
                HasSubstr("not valid JSON: number overflow"));
  }
  // The message keeps what nlohmann says, without its exception's name.
  EXPECT_THAT(std::string(ParsePlanJson("{,").status().message()),
              ::testing::StartsWith("not valid JSON: parse error at line 1"));
}

TEST(ImportCommandIdTest, SameContentSameIdOtherContentOtherId) {
  v1::ReportStatusRequest a;
  a.set_area_id("1");
  a.set_narrative("on track");
  v1::ReportStatusRequest b = a;
  b.mutable_options()->set_command_id("whatever");  // options do not count
  EXPECT_EQ(ImportCommandId(a), ImportCommandId(b));
  b.set_narrative("at risk");
  EXPECT_NE(ImportCommandId(a), ImportCommandId(b));
  // The same fields in another command type are another command.
  v1::AddDependencyRequest c;
  c.set_area_id("1");
  v1::ReportStatusRequest d;
  d.set_area_id("1");
  EXPECT_NE(ImportCommandId(c), ImportCommandId(d));
  EXPECT_THAT(ImportCommandId(a),
              ::testing::MatchesRegex("import-[0-9a-f]{40}"));
}

TEST(ReadPlannedDateTest, ProseAroundADate) {
  EXPECT_EQ(*ReadPlannedDate("HT23", false, "f"), "HT23");
  EXPECT_EQ(*ReadPlannedDate("Första steg HT23", false, "f"), "HT23");
  EXPECT_EQ(*ReadPlannedDate("Pilot HT 23", false, "f"), "HT 23");
  EXPECT_EQ(*ReadPlannedDate("Första steg HT23 och fullt implementerat 2024",
                             true, "f"),
            "2024");
  EXPECT_EQ(*ReadPlannedDate("Första steg HT23 och fullt implementerat 2024",
                             false, "f"),
            "HT23");
  EXPECT_EQ(*ReadPlannedDate("Klart till mars 2018", true, "f"), "mars 2018");
  const absl::StatusOr<std::string> none =
      ReadPlannedDate("när det passar", true, "planned_end");
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("planned_end: "));
  // A mistyped date is not prose around a date.
  EXPECT_FALSE(ReadPlannedDate("Q5 2023", true, "f").ok());
  EXPECT_FALSE(ReadPlannedDate("vecka 12 2024", true, "f").ok());
}

}  // namespace
}  // namespace plantrail::plan_import
