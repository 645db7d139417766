// The CLI end to end, `import`: plan files (JSON and CSV) checked, dry-run
// and applied, and plans through the CLI, each on a server of its own.
// Apart from cli_e2e_test.cc (the plan's commands), one feature a file; the
// same binary, e2e_cli_test.
#include "tests/e2e/cli_harness.h"
#include "tests/e2e/cli_watch.h"

namespace plantrail {
namespace {

using namespace ::plantrail::cli_testing;  // NOLINT: the harness is this file's
                                           // vocabulary

// --- import ---------------------------------------------------------------

// A server of its own: these tests count every area and every event.
class CliImportTest : public CliTest {
 protected:
  static std::string Example(const std::string& name) {
    return absl::StrCat(kSourceDir, "/examples/", name);
  }
  static uint64_t AreaTotal(std::vector<std::string> filters = {}) {
    std::vector<std::string> args = {"area", "list"};
    args.insert(args.end(), filters.begin(), filters.end());
    json response = RunJson(args);
    return response.is_null() ? 0 : response["total"].get<uint64_t>();
  }
  static std::string WriteFile(const std::string& name,
                               const std::string& content) {
    const std::string path = TempPath(name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
};

TEST_F(CliImportTest, KthPlanDryRunThenImportThenAgain) {
  const std::string plan = Example("kth-action-plan.json");
  const uint64_t head = Head();
  const uint64_t areas = AreaTotal();
  const size_t decisions = RunJson({"decision", "list"})["decisions"].size();

  const CliResult dry =
      Run({"import", plan, "--dry-run"}, {.stdin_mode = Stdin::kClosed});
  ASSERT_EQ(dry.exit_code, 0) << dry;
  EXPECT_THAT(dry.out, HasSubstr(": 75 rows, 75 accepted, 0 refused; "));
  EXPECT_THAT(dry.out, HasSubstr("(dry run: nothing written)\n"));
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(AreaTotal(), areas);
  json dry_json = RunJson({"import", plan, "--dry-run"});
  EXPECT_EQ(dry_json["dry_run"], true);
  EXPECT_EQ(dry_json["rows"], 75);
  EXPECT_EQ(dry_json["rows_refused"], 0);
  const uint64_t to_send = dry_json["commands_to_send"].get<uint64_t>();
  EXPECT_GT(to_send, 75u);
  EXPECT_EQ(Head(), head);

  const CliResult imported = Run({"import", plan});
  ASSERT_EQ(imported.exit_code, 0) << imported;
  EXPECT_THAT(imported.out, HasSubstr(absl::StrCat(to_send,
                                                   " commands applied, 0 were "
                                                   "imported before\n")));
  EXPECT_EQ(AreaTotal(), areas + 72);
  EXPECT_EQ(Head(), head + to_send);
  EXPECT_EQ(ShowJson("3.1.1")["title"], "Inresande utbytesstudenter");
  EXPECT_THAT(ShowJson("3.1.1")["dependencies"], SizeIs(3));
  EXPECT_THAT(RunJson({"decision", "list"})["decisions"],
              SizeIs(decisions + 3));

  // Again: nothing is written, and it says so.
  const CliResult again = Run({"import", plan});
  ASSERT_EQ(again.exit_code, 0) << again;
  EXPECT_THAT(again.out, HasSubstr(absl::StrCat("0 commands applied, ", to_send,
                                                " were imported before\n")));
  EXPECT_EQ(Head(), head + to_send);
  json again_json = RunJson({"import", plan, "--dry-run"});
  EXPECT_EQ(again_json["commands_to_send"], 0);
  EXPECT_EQ(again_json["commands_already_imported"], to_send);
  EXPECT_EQ(AreaTotal(), areas + 72);
  EXPECT_THAT(RunOk({"admin", "verify"}), StartsWith("chain: ok, "));
}

TEST_F(CliImportTest, PiteaCsvKeepsTheReportsBusinessDates) {
  const std::string plan = Example("pitea-school-leadership.csv");
  const CliResult imported = Run({"import", plan});
  ASSERT_EQ(imported.exit_code, 0) << imported;
  EXPECT_THAT(imported.out, HasSubstr(": 19 rows, 19 accepted, 0 refused; "));
  EXPECT_EQ(AreaTotal({"--support-area", "Grundskolans ledningsfunktion"}), 9u);

  // Area 3's report speaks for 2018-01-10, whenever it was recorded.
  const std::string history = RunOk({"history", "3"});
  EXPECT_THAT(history, HasSubstr("\n2018-01-10  #"));
  EXPECT_THAT(history, HasSubstr("status reported, by admin (recorded "));
  EXPECT_THAT(history, HasSubstr("\"Not started, although it was due in "
                                 "December 2017."));
  EXPECT_THAT(history, HasSubstr("    decision: bun-2017-atgardsplan\n"));
  json entries = RunJson({"history", "3"})["entries"];
  bool report_found = false;
  for (json& entry : entries) {
    if (entry["event_type"] == "StatusReported") {
      report_found = true;
      EXPECT_EQ(entry["business_date"]["text"], "2018-01-10");
    }
  }
  EXPECT_TRUE(report_found);

  json as_of = ShowJson("3", {"--business-date", "2018-01-10"});
  EXPECT_EQ(as_of["latest_report"]["reported_on"]["text"], "2018-01-10");
  EXPECT_EQ(as_of["health"], "HEALTH_AT_RISK");
  EXPECT_EQ(as_of["latest_report"]["next_report_due"]["text"], "juni 2018");
  EXPECT_THAT(
      RunOk({"area", "show", "1", "--business-date", "2018-01-10"}),
      AllOf(HasField("latest report", "2018-01-10: \"On schedule\\..*"),
            HasField("phase", "in progress"), HasField("health", "on track")));
  // The day before, no report had been made.
  EXPECT_EQ(ShowJson("3", {"--business-date", "2018-01-09"})["status_reports"],
            0);
  EXPECT_THAT(RunJson({"decision", "list", "--area", "3"})["decisions"],
              SizeIs(1));
}

// Plans through the CLI, on a server of their own: the two examples as two
// plans, the same file in a third, and what a command without --plan does.
class CliPlansTest : public CliImportTest {};

TEST_F(CliPlansTest, TheExamplesAreTwoPlansOnOneServer) {
  const CliResult kth =
      Run({"import", Example("kth-action-plan.json"), "--plan", "kth-vs-2023"});
  ASSERT_EQ(kth.exit_code, 0) << kth;
  EXPECT_THAT(kth.out, HasSubstr("plan kth-vs-2023 registered\n"));
  const CliResult pitea = Run({"import", Example("pitea-school-leadership.csv"),
                               "--plan", "pitea-skolledning-2017"});
  ASSERT_EQ(pitea.exit_code, 0) << pitea;
  EXPECT_THAT(pitea.out, HasSubstr(": 19 rows, 19 accepted, 0 refused; "));

  json plans = RunJson({"plan", "list"})["plans"];
  ASSERT_THAT(plans, SizeIs(2));
  EXPECT_EQ(plans[0]["plan_id"], "kth-vs-2023");
  EXPECT_EQ(plans[0]["title"],
            "Handlingsplan för utveckling av verksamhetsstödet vid KTH");
  EXPECT_EQ(plans[0]["organisation"], "KTH");
  EXPECT_EQ(plans[0]["reference"], "V-2022-0218");
  EXPECT_EQ(plans[0]["decided_on"]["text"], "2023-04-05");
  EXPECT_EQ(plans[1]["plan_id"], "pitea-skolledning-2017");
  EXPECT_EQ(plans[1]["decided_by"], "Barn- och utbildningsnämnden");
  EXPECT_THAT(RunOk({"plan", "list"}), HasSubstr("kth-vs-2023"));

  EXPECT_EQ(RunJson({"portfolio", "--plan", "kth-vs-2023"})["overall"]["areas"],
            72);
  EXPECT_EQ(RunJson({"portfolio", "--plan",
                     "pitea-skolledning-2017"})["overall"]["areas"],
            9);
  EXPECT_EQ(RunJson({"portfolio"})["overall"]["areas"], 81);
  EXPECT_THAT(RunOk({"plan", "show", "pitea-skolledning-2017"}),
              HasSubstr("9 (9 open"));

  // Without --plan, an area command must say which plan.
  const CliResult which = Run({"area", "show", "3"});
  EXPECT_EQ(which.exit_code, 2) << which;
  EXPECT_THAT(which.err, AllOf(HasSubstr("kth-vs-2023"),
                               HasSubstr("pitea-skolledning-2017"),
                               HasSubstr("[rule: plan-required]")));
  EXPECT_EQ(ShowJson("3", {"--plan", "pitea-skolledning-2017"})["plan_id"],
            "pitea-skolledning-2017");
  const CliResult env = Run({"--json", "area", "show", "3"},
                            {.env = {"PLANTRAIL_PLAN=pitea-skolledning-2017"}});
  EXPECT_EQ(env.exit_code, 0) << env;

  // Again into its plan: nothing new. The same file into a third plan:
  // the same area ids, kept apart.
  const CliResult again =
      Run({"import", Example("kth-action-plan.json"), "--plan", "kth-vs-2023"});
  ASSERT_EQ(again.exit_code, 0) << again;
  EXPECT_THAT(again.out, HasSubstr(" 0 commands applied, "));
  const CliResult copy =
      Run({"import", Example("kth-action-plan.json"), "--plan", "kth-copy"});
  ASSERT_EQ(copy.exit_code, 0) << copy;
  EXPECT_EQ(RunJson({"area", "list", "--plan", "kth-copy"})["total"], 72);
  RunOk({"reschedule", "3.1.3", "--plan", "kth-copy", "--end", "VT30",
         "--reason", "Only the copy moves"});
  EXPECT_EQ(ShowJson("3.1.3", {"--plan", "kth-copy"})["planned_end"]["text"],
            "VT30");
  EXPECT_NE(ShowJson("3.1.3", {"--plan", "kth-vs-2023"})["planned_end"]["text"],
            "VT30");
  EXPECT_THAT(RunOk({"history", "3.1.3", "--plan", "kth-copy"}),
              HasSubstr("Only the copy moves"));
  EXPECT_THAT(RunOk({"history", "3.1.3", "--plan", "kth-vs-2023"}),
              Not(HasSubstr("Only the copy moves")));

  // A dependency across plans, seen from the other side.
  RunOk({"depend", "2", "--plan", "pitea-skolledning-2017", "--on",
         "plans/kth-vs-2023/areas/3.1.1", "--note", "Shared system"});
  EXPECT_THAT(RunOk({"deps", "3.1.1", "--plan", "kth-vs-2023", "--downstream"}),
              HasSubstr("plans/pitea-skolledning-2017/areas/2 -> "
                        "plans/kth-vs-2023/areas/3.1.1 - Shared system\n"));

  // One page per plan and an index linking them.
  const std::string dir = TempPath("plans-report");
  const CliResult index = Run({"report", "--index", dir});
  ASSERT_EQ(index.exit_code, 0) << index;
  std::ifstream in(dir + "/index.html");
  const std::string html((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  EXPECT_THAT(html, AllOf(HasSubstr("href=\"kth-vs-2023.html\""),
                          HasSubstr("href=\"pitea-skolledning-2017.html\""),
                          HasSubstr("href=\"kth-copy.html\"")));
  EXPECT_TRUE(std::ifstream(dir + "/pitea-skolledning-2017.html").good());
  const CliResult one =
      Run({"--json", "report", "--html", TempPath("pitea.html"), "--plan",
           "pitea-skolledning-2017"});
  ASSERT_EQ(one.exit_code, 0) << one;
  EXPECT_THAT(one.out, HasSubstr("\"areas\":9"));

  // The plan's own commands.
  EXPECT_EQ(
      Run({"plan", "close", "kth-copy", "--reason", "Only a copy"}).exit_code,
      1);
  RunOk(
      {"plan", "revise", "kth-copy", "--title", "A copy", "--reason", "Named"});
  EXPECT_THAT(RunOk({"plan", "show", "kth-copy"}), HasSubstr("A copy"));
  // Closing a plan with its open areas in one commit.
  RunOk({"plan", "register", "tiny", "--title", "Tiny"});
  for (const char* area : {"1", "2"}) {
    RunOk({"--plan", "tiny", "area", "register", area, "--title", "T",
           "--support-area", "S"});
  }
  const CliResult bad_closure = Run({"plan", "close", "tiny", "--reason", "R",
                                     "--close-area", "1:completed"});
  EXPECT_EQ(bad_closure.exit_code, 2) << bad_closure;
  EXPECT_THAT(bad_closure.err, HasSubstr("AREA=OUTCOME"));
  EXPECT_THAT(
      RunOk({"plan", "close", "tiny", "--reason", "Done", "--close-area",
             "1=completed", "--close-area", "2=cancelled:Not needed"}),
      HasSubstr("closed plan tiny and its areas 1, 2"));
  EXPECT_THAT(RunOk({"--plan", "tiny", "area", "show", "2"}),
              HasSubstr("Not needed"));

  // watch --plan: that plan's events only. Three plans were registered,
  // kth-copy last: once its registration is out, the others (in order,
  // before it) would have been too.
  Watch watch({"watch", "--from", "0", "--plan", "kth-copy", "--type",
               "PlanRegistered", "--json"},
              Environment({}));
  ASSERT_TRUE(watch.ReadUntil([](const std::vector<std::string>& lines) {
    return absl::c_any_of(lines, [](const std::string& line) {
      return absl::StrContains(line, "\"stream_id\":\"plan-kth-copy\"");
    });
  })) << watch.err();
  EXPECT_EQ(watch.Interrupt(), 0) << watch.err();
  std::vector<json> registered = ParseLines(watch.CompleteLines());
  ASSERT_THAT(registered, SizeIs(1));
  EXPECT_EQ(registered[0]["stream_id"], "plan-kth-copy");
}

TEST_F(CliImportTest, BadCsvRowsAreListedAndOnlyGoodRowsApplied) {
  const std::string sa = "SA bad csv";
  const std::string file = WriteFile(
      "bad.csv",
      "record,id,title,support_area,planned_end,phase,health,reported_on,note\n"
      "area,bc-good-1,Good one,SA bad csv,2030,planned,,,\n"          // line 2
      "area,bc-date,Bad date,SA bad csv,Q5 2023,,,,\n"                // line 3
      "area,bc-phase,Bad phase,SA bad csv,2030,sideways,,,\n"         // line 4
      "report,bc-nobody,,,,in progress,on track,2018-01-10,Who?\n"    // line 5
      "area,bc-good-2,\"Good, two\",SA bad csv,2031,,,,\n"            // line 6
      "report,bc-good-1,,,,in progress,at risk,2018-01-10,Fine\n"     // line 7
      "report,bc-date,,,,in progress,on track,2018-01-10,Orphan\n");  // line 8
  const uint64_t head = Head();

  const CliResult dry = Run({"import", file, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 1) << dry;
  EXPECT_EQ(Head(), head);
  EXPECT_THAT(dry.out,
              AllOf(HasSubstr("refused: line 3 (bc-date): planned_end: "),
                    HasSubstr("Q5 2023")));
  EXPECT_THAT(dry.out, HasSubstr("refused: line 4 (bc-phase): phase: "
                                 "\"sideways\" is not one of"));
  EXPECT_THAT(dry.out, MatchesRegex("(.|\n)*refused: line 5 \\(bc-nobody\\): "
                                    ".*bc-nobody.* is not registered "
                                    "\\[rule: area-exists\\]\n(.|\n)*"));
  // A report for an area whose row failed fails too.
  EXPECT_THAT(dry.out, HasSubstr("refused: line 8 (bc-date): "));
  EXPECT_THAT(dry.out, Not(HasSubstr("line 2 ")));
  EXPECT_THAT(dry.out, Not(HasSubstr("line 6 ")));
  EXPECT_THAT(dry.out, Not(HasSubstr("line 7 ")));
  EXPECT_THAT(dry.out, HasSubstr(": 7 rows, 3 accepted, 4 refused; "));
  EXPECT_THAT(dry.err, HasSubstr("4 rows were refused"));
  EXPECT_THAT(dry.err, HasSubstr("(INVALID_ARGUMENT)"));

  json dry_json = [&] {
    const CliResult r = Run({"--json", "import", file, "--dry-run"});
    EXPECT_EQ(r.exit_code, 1) << r;
    return json::parse(r.out, nullptr, false);
  }();
  ASSERT_TRUE(dry_json.is_object());
  std::vector<std::string> where;
  for (json& refusal : dry_json["refused"]) {
    where.push_back(refusal["where"].get<std::string>());
  }
  EXPECT_THAT(where,
              UnorderedElementsAre("line 3 (bc-date)", "line 4 (bc-phase)",
                                   "line 5 (bc-nobody)", "line 8 (bc-date)"));
  EXPECT_EQ(Head(), head);

  const CliResult imported = Run({"import", file});
  EXPECT_EQ(imported.exit_code, 1) << imported;
  EXPECT_THAT(imported.out, HasSubstr("refused: line 4 (bc-phase)"));
  EXPECT_THAT(imported.err, HasSubstr("refused and not applied"));
  EXPECT_THAT(ListIds({"--support-area", sa}),
              ElementsAre("bc-good-1", "bc-good-2"));
  EXPECT_EQ(ShowJson("bc-good-2")["title"], "Good, two");
  EXPECT_EQ(ShowJson("bc-good-1")["latest_report"]["narrative"], "Fine");
  const CliResult missing = Run({"area", "show", "bc-phase"});
  EXPECT_EQ(missing.exit_code, 1) << missing;
}

TEST_F(CliImportTest, BadJsonEntriesAreNamedByTheirPath) {
  const std::string file = WriteFile("bad.json", R"({
  "format": "plantrail-plan/1",
  "areas": [
    {"id": "bj-good", "title": "Good", "support_area": "SA bad json",
     "planned_end": "2030",
     "reports": [{"reported_on": "2018-01-10", "phase": "in progress",
                  "health": "on track", "note": "Fine"}]},
    {"id": "bj-field", "title": "Typo", "support_area": "SA bad json",
     "colour": "blue"},
    {"id": "bj-health", "title": "Sunny", "support_area": "SA bad json",
     "reports": [{"phase": "in progress", "health": "sunny", "note": "?"}]}
  ],
  "decisions": [
    {"reference": "BJ-1", "body": "Board", "date": "2024-01-01",
     "title": "About the good one", "areas": ["bj-good"]},
    {"reference": "BJ-2", "body": "Board", "date": "2024-01-01",
     "title": "About a bad one", "areas": ["bj-health"]}
  ]
})");
  const uint64_t head = Head();
  const CliResult dry = Run({"import", file, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 1) << dry;
  EXPECT_EQ(Head(), head);
  EXPECT_THAT(dry.out,
              HasSubstr("refused: areas[1] (bj-field): colour: "
                        "unknown field [rule: import-known-fields]\n"));
  EXPECT_THAT(dry.out, HasSubstr("refused: areas[2] (bj-health): "
                                 "reports[0].health: \"sunny\" is not one of"));
  EXPECT_THAT(dry.out, HasSubstr("refused: decisions[1]: "));
  EXPECT_THAT(dry.out, Not(HasSubstr("areas[0]")));
  EXPECT_THAT(dry.out, Not(HasSubstr("decisions[0]")));

  const CliResult imported = Run({"import", file});
  EXPECT_EQ(imported.exit_code, 1) << imported;
  EXPECT_THAT(ListIds({"--support-area", "SA bad json"}),
              ElementsAre("bj-good"));
  EXPECT_EQ(ShowJson("bj-good")["latest_report"]["narrative"], "Fine");
  EXPECT_THAT(RunJson({"decision", "list", "--body", "Board"})["decisions"],
              SizeIs(1));
}

TEST_F(CliImportTest, UnterminatedQuoteRefusesTheWholeFile) {
  // A quote never closed swallows the rest of the file: nothing can be told
  // apart, so nothing is applied and the line is named.
  const std::string file =
      WriteFile("unterminated.csv",
                "record,id,title,support_area\n"
                "area,uq-good,Good,SA unterminated\n"
                "area,uq-bad,\"Never closed,SA unterminated\n"
                "area,uq-after,After,SA unterminated\n");
  const uint64_t head = Head();
  for (bool dry_run : {true, false}) {
    std::vector<std::string> args = {"import", file};
    if (dry_run) args.push_back("--dry-run");
    const CliResult result = Run(args);
    EXPECT_EQ(result.exit_code, 1) << result;
    ASSERT_THAT(Lines(result.err), SizeIs(1)) << result;
    EXPECT_THAT(result.err,
                HasSubstr("line 3: a quoted field is never closed"));
    EXPECT_THAT(result.err, HasSubstr("(INVALID_ARGUMENT)"));
  }
  EXPECT_EQ(Head(), head);
  EXPECT_THAT(ListIds({"--support-area", "SA unterminated"}), IsEmpty());
}

}  // namespace
}  // namespace plantrail
