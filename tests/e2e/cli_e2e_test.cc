// The administrators' CLI end to end: the real `plantrail` binary, run as a
// child process with an environment of the test's making (PLANTRAIL_SERVER
// names the test's server; HOME and XDG_DATA_HOME point into a temporary
// directory, so no real admin.token is read), against the real plantraild
// on a free loopback port. Every test checks the exit code, what the command
// printed (for people and as --json) and, for a change, its effect read back
// through another command.
//
// One server per test suite: tests use their own area ids and support
// areas, so they do not see each other's plan. Nothing sleeps a fixed time:
// what takes a while (a projection rebuild, a watched event) is polled for
// with a generous deadline.
//
// The plan's commands and what every command shares (retries, errors, help)
// are here; the same binary, e2e_cli_test, has one file a feature for the
// rest: cli_admin_e2e_test.cc (export, admin, tokens, TLS),
// cli_events_e2e_test.cc (watch, events) and cli_import_e2e_test.cc.
#include "tests/e2e/cli_harness.h"

namespace plantrail {
namespace {

using namespace ::plantrail::cli_testing;  // NOLINT: the harness is this file's
                                           // vocabulary

// --- Registering, showing, revising ---------------------------------------

TEST_F(CliTest, RegisterPrintsTheResultAndShowReadsItBack) {
  const CliResult registered =
      Run({"area",           "register",
           "reg-1",                                   //
           "--title",        "Digital exam support",  //
           "--support-area", "SA register",           //
           "--group",        "Exams",                 //
           "--start",        "HT23",                  //
           "--end",          "VT24",                  //
           "--units",        "GVS, ITA",              //
           "--responsible",  "GVS",                   //
           "--rationale",    "Fewer paper exams",     //
           "--effect",       "Faster grading",        //
           "--phase",        "in progress"});
  ASSERT_EQ(registered.exit_code, 0) << registered;
  EXPECT_THAT(registered.out,
              MatchesRegex("registered area reg-1 \\(area-reg-1 version 1, "
                           "position [0-9]+\\)\n"));
  EXPECT_EQ(registered.err, "");

  const std::string shown = RunOk({"area", "show", "reg-1"});
  EXPECT_THAT(shown, StartsWith("reg-1  Digital exam support\n"));
  EXPECT_THAT(shown, HasField("support area", "SA register"));
  EXPECT_THAT(shown, HasField("group", "Exams"));
  EXPECT_THAT(shown, HasField("phase", "in progress"));
  EXPECT_THAT(shown, HasField("health", "unknown"));
  EXPECT_THAT(shown, HasField("planned", "HT23 – VT24"));
  EXPECT_THAT(shown, HasField("units", "GVS, ITA"));
  EXPECT_THAT(shown, HasField("responsible", "GVS"));
  EXPECT_THAT(shown, HasField("rationale", "Fewer paper exams"));
  EXPECT_THAT(shown, HasField("desired effect", "Faster grading"));
  EXPECT_THAT(shown, HasField("registered", ".* UTC by admin"));
  EXPECT_THAT(shown,
              HasField("last change", ".*\\(version 1, position [0-9]+\\)"));

  json result =
      RunJson({"area", "register", "reg-2", "--title", "Exam archive",
               "--support-area", "SA register", "--period", "Q4 2022-Q4 2023"});
  EXPECT_EQ(result["stream_id"], "area-reg-2");
  EXPECT_EQ(U64(result["version"]), 1u);
  EXPECT_GT(U64(result["position"]), 0u);
  EXPECT_EQ(result["event_type"], "AreaRegistered");
  EXPECT_EQ(result["replayed"], false);

  json area = ShowJson("reg-2");
  EXPECT_EQ(area["area_id"], "reg-2");
  EXPECT_EQ(area["title"], "Exam archive");
  EXPECT_EQ(area["support_area"], "SA register");
  EXPECT_EQ(area["planned_start"]["text"], "Q4 2022");
  EXPECT_EQ(area["planned_end"]["text"], "Q4 2023");
  EXPECT_EQ(area["phase"], "PHASE_PLANNED");
  EXPECT_EQ(area["registered_by"], kActor);
  EXPECT_EQ(U64(area["version"]), 1u);
  EXPECT_EQ(U64(area["position"]), U64(result["position"]));
}

TEST_F(CliTest, JsonWorksBeforeAndAfterTheCommand) {
  Register("js-1", "SA json");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"--json", "area", "show", "js-1"},
           {"area", "show", "js-1", "--json"},
           {"area", "--json", "show", "js-1"}}) {
    const CliResult result = Run(args);
    ASSERT_EQ(result.exit_code, 0) << result;
    json parsed = json::parse(result.out, nullptr, false);
    ASSERT_TRUE(parsed.is_object()) << result;
    EXPECT_EQ(parsed["area"]["area_id"], "js-1") << result;
  }
  // --server may follow the command too, and wins over PLANTRAIL_SERVER.
  const CliResult result = Run({"admin", "stats", "--server", ServerAddress()},
                               {.server = ClosedPort().address()});
  EXPECT_EQ(result.exit_code, 0) << result;
}

TEST_F(CliTest, ReviseAndUnitsChangeWhatShowAndHistoryPrint) {
  Register("rev-1", "SA revise",
           {"--units", "GVS,ITA", "--responsible", "GVS"});
  const CliResult revised =
      Run({"area", "revise", "rev-1", "--title", "Digital exams", "--effect",
           "Fewer manual steps", "--reason", "Steering group review"});
  ASSERT_EQ(revised.exit_code, 0) << revised;
  EXPECT_THAT(revised.out,
              MatchesRegex("revised area rev-1 \\(area-rev-1 version 2, "
                           "position [0-9]+\\)\n"));

  json units =
      RunJson({"area", "units", "rev-1", "--participating", "GVS,ITA,EKO",
               "--responsible", "ITA", "--reason", "Finance joins"});
  EXPECT_EQ(units["event_type"], "UnitsChanged");
  EXPECT_EQ(U64(units["version"]), 3u);

  const std::string shown = RunOk({"area", "show", "rev-1"});
  EXPECT_THAT(shown, StartsWith("rev-1  Digital exams\n"));
  EXPECT_THAT(shown, HasField("desired effect", "Fewer manual steps"));
  EXPECT_THAT(shown, HasField("units", "GVS, ITA, EKO"));
  EXPECT_THAT(shown, HasField("responsible", "ITA"));

  const std::string history = RunOk({"history", "rev-1"});
  EXPECT_THAT(history, HasSubstr("title: Area rev-1 -> Digital exams\n"));
  EXPECT_THAT(history, HasSubstr("reason: Steering group review\n"));
  EXPECT_THAT(history, HasSubstr("reason: Finance joins\n"));

  // `units` with an empty list clears it.
  RunJson(
      {"area", "units", "rev-1", "--responsible", "", "--reason", "Nobody"});
  EXPECT_THAT(ShowJson("rev-1")["responsible_units"], IsEmpty());
  EXPECT_THAT(ShowJson("rev-1")["participating_units"], SizeIs(3));
}

TEST_F(CliTest, EveryWriteCommandAnswersJsonWithItsResult) {
  Register("wj-on", "SA write json");
  struct Step {
    std::vector<std::string> args;
    std::string event_type;
  };
  const std::vector<Step> steps = {
      {{"area", "register", "wj-1", "--title", "T", "--support-area",
        "SA write json", "--end", "2030"},
       "AreaRegistered"},
      {{"area", "revise", "wj-1", "--title", "T2", "--reason", "r"},
       "AreaDetailsRevised"},
      {{"area", "units", "wj-1", "--participating", "A", "--reason", "r"},
       "UnitsChanged"},
      {{"status", "wj-1", "--phase", "in progress", "--health", "on track",
        "--note", "n"},
       "StatusReported"},
      {{"reschedule", "wj-1", "--end", "2031", "--reason", "r"},
       "ScheduleRevised"},
      {{"depend", "wj-1", "--on", "wj-on"}, "DependencyAdded"},
      {{"undepend", "wj-1", "wj-on", "--reason", "r"}, "DependencyRemoved"},
      {{"close", "wj-1", "--outcome", "cancelled", "--reason", "r"},
       "AreaClosed"},
      {{"reopen", "wj-1", "--reason", "r"}, "AreaReopened"},
  };
  uint64_t position = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    json result = RunJson(steps[i].args);
    EXPECT_EQ(result["stream_id"], "area-wj-1");
    EXPECT_EQ(U64(result["version"]), i + 1);
    EXPECT_GT(U64(result["position"]), position);
    position = U64(result["position"]);
    EXPECT_EQ(result["event_type"], steps[i].event_type);
    EXPECT_EQ(result["replayed"], false);
    EXPECT_FALSE(result["event_id"].get<std::string>().empty());
  }
  json corrected = RunJson(
      {"correct", "wj-1", "--entry", absl::StrCat(position), "--reason", "r"});
  EXPECT_EQ(corrected["event_type"], "EntryCorrected");
  EXPECT_EQ(U64(corrected["version"]), steps.size() + 1);
  json decision =
      RunJson({"decision", "record", "WJ-1", "--body", "B", "--date", "2024",
               "--title", "T", "--areas", "wj-1"});
  EXPECT_EQ(decision["event_type"], "DecisionRecorded");
  EXPECT_EQ(decision["stream_id"], "decision-WJ-1-2024");

  // The area as it ended up: reopened (in progress by default), one
  // dependency added and removed, one correction.
  json area = ShowJson("wj-1");
  EXPECT_EQ(area["title"], "T2");
  EXPECT_EQ(area["phase"], "PHASE_IN_PROGRESS");
  EXPECT_EQ(area["closed"], false);
  EXPECT_THAT(area["dependencies"], IsEmpty());
  EXPECT_EQ(area["planned_end"]["text"], "2031");
  EXPECT_THAT(Strings(area["participating_units"]), ElementsAre("A"));
  EXPECT_THAT(Strings(area["corrected_positions"]),
              ElementsAre(absl::StrCat(position)));
}

// --- Status, schedule and time travel -------------------------------------

TEST_F(CliTest, StatusIsShownAsTheLatestReport) {
  Register("st-1", "SA status", {"--end", "2099"});
  const CliResult reported =
      Run({"status", "st-1", "--phase", "In-Progress", "--health", "at_risk",
           "--note", "Waiting for the Ladok upgrade", "--next-report",
           "mars 2099"});
  ASSERT_EQ(reported.exit_code, 0) << reported;
  EXPECT_THAT(reported.out,
              MatchesRegex("reported the status of area st-1 \\(area-st-1 "
                           "version 2, position [0-9]+\\)\n"));
  const std::string shown = RunOk({"area", "show", "st-1"});
  EXPECT_THAT(shown, HasField("phase", "in progress"));
  EXPECT_THAT(shown, HasField("health", "at risk"));
  EXPECT_THAT(shown, HasField("latest report",
                              ".*: \"Waiting for the Ladok upgrade\" \\(next "
                              "due mars 2099\\)"));
  json area = ShowJson("st-1");
  EXPECT_EQ(area["latest_report"]["narrative"],
            "Waiting for the Ladok upgrade");
  EXPECT_EQ(area["health"], "HEALTH_AT_RISK");
  EXPECT_EQ(area["status_reports"], 1);
}

TEST_F(CliTest, RescheduleIsInHistoryInSlippedAndNotInThePast) {
  const uint64_t registered =
      Register("rs-1", "SA reschedule", {"--start", "HT23", "--end", "VT24"});
  Register("rs-2", "SA reschedule", {"--start", "HT23", "--end", "VT24"});
  const CliResult rescheduled = Run({"reschedule", "rs-1", "--end", "HT24",
                                     "--reason", "Ladok upgrade moved"});
  ASSERT_EQ(rescheduled.exit_code, 0) << rescheduled;
  EXPECT_THAT(rescheduled.out,
              MatchesRegex("rescheduled area rs-1 \\(area-rs-1 version 2, "
                           "position [0-9]+\\)\n"));

  const std::string history = RunOk({"history", "rs-1"});
  EXPECT_THAT(history, HasSubstr("schedule revised, by admin"));
  EXPECT_THAT(history, HasSubstr("    planned end: VT24 -> HT24\n"));
  EXPECT_THAT(history, HasSubstr("    reason: Ladok upgrade moved\n"));

  EXPECT_THAT(ListIds({"--support-area", "SA reschedule", "--slipped"}),
              ElementsAre("rs-1"));
  const std::string listed =
      RunOk({"area", "list", "--support-area", "SA reschedule", "--slipped"});
  EXPECT_THAT(listed, HasSubstr("BASELINE END"));
  EXPECT_THAT(listed, MatchesRegex("(.|\n)*\nrs-1 .* HT24 +VT24\n1 area\n"));

  const std::string now = RunOk({"area", "show", "rs-1"});
  EXPECT_THAT(now, HasField("planned", "HT23 – HT24"));
  EXPECT_THAT(now, HasField("baseline", "HT23 – VT24 \\(1 revision\\)"));

  // As of a recorded time between the registration and the change.
  json entries = RunJson({"history", "rs-1", "--oldest-first"})["entries"];
  ASSERT_THAT(entries, SizeIs(2));
  absl::Time registered_at, rescheduled_at;
  std::string error;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full,
                              entries[0]["recorded_at"].get<std::string>(),
                              &registered_at, &error))
      << error;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full,
                              entries[1]["recorded_at"].get<std::string>(),
                              &rescheduled_at, &error))
      << error;
  ASSERT_LT(registered_at, rescheduled_at);
  const std::string between = absl::FormatTime(
      absl::RFC3339_full, registered_at + (rescheduled_at - registered_at) / 2,
      absl::UTCTimeZone());
  EXPECT_EQ(ShowJson("rs-1", {"--as-of", between})["planned_end"]["text"],
            "VT24");
  EXPECT_THAT(RunOk({"area", "show", "rs-1", "--as-of", between}),
              HasField("planned", "HT23 – VT24"));
  // As after the log's first N events.
  EXPECT_EQ(ShowJson("rs-1", {"--at-position",
                              absl::StrCat(registered)})["planned_end"]["text"],
            "VT24");
  EXPECT_EQ(
      ShowJson(
          "rs-1",
          {"--at-position",
           absl::StrCat(U64(entries[1]["position"]))})["planned_end"]["text"],
      "HT24");
  // Before it was registered there is nothing to show.
  const CliResult before =
      Run({"area", "show", "rs-1", "--as-of", "2000-01-01"});
  EXPECT_EQ(before.exit_code, 1) << before;
  EXPECT_THAT(before.err, HasSubstr("NOT_FOUND"));
}

TEST_F(CliTest, ShowByBusinessDateCountsReportsByTheirOwnDate) {
  Register("bd-1", "SA business date", {"--end", "2099"});
  Status("bd-1", "in progress", "on track", "January report",
         {"--reported-on", "2018-01-10"});
  Status("bd-1", "paused", "off track", "March report",
         {"--reported-on", "2018-03-01"});
  EXPECT_EQ(ShowJson("bd-1")["latest_report"]["narrative"], "March report");
  for (const char* date : {"2018-01-10", "2018-02-28"}) {
    json area = ShowJson("bd-1", {"--business-date", date});
    EXPECT_EQ(area["latest_report"]["narrative"], "January report") << date;
    EXPECT_EQ(area["phase"], "PHASE_IN_PROGRESS") << date;
  }
  // The registration counts whenever it was recorded.
  json before = ShowJson("bd-1", {"--business-date", "2017-12-31"});
  EXPECT_EQ(before["status_reports"], 0);
  EXPECT_EQ(before["phase"], "PHASE_PLANNED");
  EXPECT_THAT(RunOk({"area", "show", "bd-1", "--business-date", "2018-01-10"}),
              HasField("latest report", "2018-01-10: \"January report\""));
  // The history shows each report under the date it speaks for.
  const std::string history = RunOk({"history", "bd-1"});
  EXPECT_THAT(history, HasSubstr("\n2018-01-10  #"));
  EXPECT_THAT(history, HasSubstr("\n    \"January report\"\n"));
}

// --- Listing --------------------------------------------------------------

TEST_F(CliTest, ListFiltersBySupportAreaPhaseHealthAndDates) {
  const std::string sa = "SA list";
  Register("ls-overdue", sa, {"--start", "2019", "--end", "2020"});
  Register("ls-risk", sa, {"--end", "2099"});
  Status("ls-risk", "in progress", "at risk", "Late deliveries");
  Register("ls-slipped", sa, {"--start", "2030", "--end", "2031"});
  RunJson({"reschedule", "ls-slipped", "--end", "2032", "--reason", "Budget"});
  Register("ls-closed", sa, {"--end", "2020"});
  RunJson({"close", "ls-closed", "--outcome", "completed", "--reason", "Done"});
  Register("ls-widget", sa, {"--end", "2099"});
  RunJson({"area", "revise", "ls-widget", "--title", "The Special WIDGET",
           "--reason", "Clearer"});
  Register("ls-elsewhere", "SA list other", {"--end", "2020"});

  EXPECT_THAT(ListIds({"--support-area", sa}),
              ElementsAre("ls-closed", "ls-overdue", "ls-risk", "ls-slipped",
                          "ls-widget"));
  EXPECT_THAT(ListIds({"--support-area", sa, "--phase", "in progress"}),
              ElementsAre("ls-risk"));
  EXPECT_THAT(
      ListIds({"--support-area", sa, "--phase", "completed,in-progress"}),
      ElementsAre("ls-closed", "ls-risk"));
  EXPECT_THAT(ListIds({"--support-area", sa, "--health", "at risk"}),
              ElementsAre("ls-risk"));
  EXPECT_THAT(ListIds({"--support-area", sa, "--overdue"}),
              ElementsAre("ls-overdue"));
  EXPECT_THAT(ListIds({"--support-area", sa, "--slipped"}),
              ElementsAre("ls-slipped"));
  EXPECT_THAT(ListIds({"--support-area", sa, "--open"}),
              ElementsAre("ls-overdue", "ls-risk", "ls-slipped", "ls-widget"));
  EXPECT_THAT(ListIds({"--support-area", sa, "--title", "special widget"}),
              ElementsAre("ls-widget"));
  EXPECT_THAT(ListIds({"--title", "special widget"}), ElementsAre("ls-widget"));
  // Everything here was just reported or registered: nothing is a day stale.
  EXPECT_THAT(ListIds({"--support-area", sa, "--stale", "1"}), IsEmpty());
  EXPECT_THAT(ListIds({"--support-area", sa, "--open", "--sort", "end"}),
              ElementsAre("ls-risk", "ls-widget", "ls-slipped", "ls-overdue"));

  const std::string table =
      RunOk({"area", "list", "--support-area", sa, "--open"});
  const std::vector<std::string> lines = Lines(table);
  ASSERT_THAT(lines, SizeIs(6)) << table;
  EXPECT_THAT(lines[0], MatchesRegex("ID +SUPPORT AREA +TITLE +PHASE +HEALTH "
                                     "+START +END +BASELINE END"));
  EXPECT_THAT(lines[1], MatchesRegex("ls-overdue +SA list +Area ls-overdue +"
                                     "planned +unknown +2019 +2020"));
  EXPECT_THAT(lines[2], MatchesRegex("ls-risk +SA list .* in progress +at risk "
                                     "+2099"));
  EXPECT_EQ(lines[5], "4 areas");
}

// --- Dependencies ---------------------------------------------------------

TEST_F(CliTest, DependOnAreasAndExternalsThenUndepend) {
  const std::string sa = "SA deps";
  Register("dp-a", sa, {"--start", "2030", "--end", "2031"});
  Register("dp-b", sa, {"--start", "2032", "--end", "2033"});
  Register("dp-c", sa, {"--start", "2034", "--end", "2035"});
  const CliResult on =
      Run({"depend", "dp-b", "--on", "dp-a", "--note", "needs the archive"});
  ASSERT_EQ(on.exit_code, 0) << on;
  EXPECT_THAT(on.out, MatchesRegex("area dp-b now depends on dp-a \\(area-dp-b "
                                   "version 2, position [0-9]+\\)\n"));
  json external =
      RunJson({"depend", "dp-b", "--external", "Ladok", "--kind", "relates"});
  EXPECT_EQ(external["event_type"], "DependencyAdded");
  RunJson({"depend", "dp-c", "--on", "dp-b"});

  EXPECT_THAT(
      RunOk({"area", "show", "dp-b"}),
      HasField("dependencies",
               "dp-a - needs the archive; external: Ladok \\(relates\\)"));

  const std::string all = RunOk({"deps", "dp-a"});
  EXPECT_EQ(all,
            "upstream: none\n"
            "downstream:\n"
            "  dp-b -> dp-a - needs the archive\n"
            "    dp-c -> dp-b\n");

  json upstream = RunJson({"deps", "dp-b", "--upstream"});
  EXPECT_THAT(upstream["downstream"], IsEmpty());
  ASSERT_THAT(upstream["upstream"], SizeIs(2));
  std::set<std::string> targets;
  for (json& link : upstream["upstream"]) {
    EXPECT_EQ(link["area_id"], "dp-b");
    targets.insert(link["dependency"].contains("external")
                       ? "external:" +
                             link["dependency"]["external"].get<std::string>()
                       : link["dependency"]["area_id"].get<std::string>());
  }
  EXPECT_THAT(targets, UnorderedElementsAre("dp-a", "external:Ladok"));

  json downstream = RunJson({"deps", "dp-b", "--downstream"});
  EXPECT_THAT(downstream["upstream"], IsEmpty());
  ASSERT_THAT(downstream["downstream"], SizeIs(1));
  EXPECT_EQ(downstream["downstream"][0]["area_id"], "dp-c");
  EXPECT_EQ(RunOk({"deps", "dp-b", "--downstream"}),
            "downstream:\n  dp-c -> dp-b\n");

  // A later end for dp-a overruns dp-b's planned start.
  json delayed = RunJson({"deps", "dp-a", "--if-end", "2099"});
  ASSERT_THAT(delayed["delayed"], Not(IsEmpty()));
  EXPECT_EQ(delayed["delayed"][0]["area_id"], "dp-b");
  EXPECT_EQ(delayed["delayed"][0]["depth"], 1);
  EXPECT_GT(
      std::stoll(delayed["delayed"][0]["days_overrun"].get<std::string>()), 0);
  EXPECT_THAT(RunOk({"deps", "dp-a", "--if-end", "2099"}),
              AllOf(HasSubstr("an end of 2099 would delay:\n"),
                    HasSubstr("  dp-b (planned start 2032, overrun ")));
  EXPECT_THAT(RunOk({"deps", "dp-a", "--if-end", "2029"}),
              HasSubstr("an end of 2029 would delay: nothing\n"));

  const CliResult undepend =
      Run({"undepend", "dp-b", "dp-a", "--reason", "Done separately"});
  ASSERT_EQ(undepend.exit_code, 0) << undepend;
  EXPECT_THAT(undepend.out,
              StartsWith("area dp-b no longer depends on dp-a ("));
  const CliResult undepend_external = Run(
      {"undepend", "dp-b", "external:Ladok", "--reason", "Upgrade finished"});
  ASSERT_EQ(undepend_external.exit_code, 0) << undepend_external;
  EXPECT_THAT(ShowJson("dp-b")["dependencies"], IsEmpty());
  EXPECT_EQ(RunOk({"deps", "dp-a", "--downstream"}), "downstream: none\n");
  const std::string history = RunOk({"history", "dp-b"});
  EXPECT_THAT(history, HasSubstr("reason: Done separately\n"));
  EXPECT_THAT(history, HasSubstr("reason: Upgrade finished\n"));

  // A dependency that is not there.
  const CliResult again =
      Run({"undepend", "dp-b", "external:Ladok", "--reason", "Twice"});
  EXPECT_EQ(again.exit_code, 1) << again;
  EXPECT_THAT(again.err, HasSubstr("NOT_FOUND"));
}

// --- Closing, reopening, correcting ---------------------------------------

TEST_F(CliTest, CloseReopenAndCorrect) {
  const std::string sa = "SA close";
  Register("cl-1", sa, {"--end", "2099"});
  const CliResult closed =
      Run({"close", "cl-1", "--outcome", "completed", "--outcome-text",
           "Delivered", "--reason", "Delivered and evaluated"});
  ASSERT_EQ(closed.exit_code, 0) << closed;
  EXPECT_THAT(closed.out, MatchesRegex("closed area cl-1 \\(area-cl-1 version "
                                       "2, position [0-9]+\\)\n"));
  EXPECT_THAT(RunOk({"area", "show", "cl-1"}),
              AllOf(HasField("closed", "completed: Delivered"),
                    HasField("phase", "completed")));
  EXPECT_THAT(ListIds({"--support-area", sa, "--open"}), IsEmpty());
  EXPECT_THAT(ListIds({"--support-area", sa}), ElementsAre("cl-1"));

  // A closed area takes no status report.
  const CliResult refused = Run({"status", "cl-1", "--phase", "planned",
                                 "--health", "on track", "--note", "Too late"});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_THAT(refused.err, HasSubstr("FAILED_PRECONDITION"));

  const CliResult reopened = Run(
      {"reopen", "cl-1", "--reason", "Audit found gaps", "--phase", "planned"});
  ASSERT_EQ(reopened.exit_code, 0) << reopened;
  EXPECT_THAT(reopened.out,
              StartsWith("reopened area cl-1 (area-cl-1 version 3"));
  json area = ShowJson("cl-1");
  EXPECT_EQ(area["closed"], false);
  EXPECT_EQ(area["phase"], "PHASE_PLANNED");
  EXPECT_THAT(ListIds({"--support-area", sa, "--open"}), ElementsAre("cl-1"));

  // The close was a mistake: the entry stays, a correction points at it.
  json history = RunJson({"history", "cl-1", "--oldest-first"});
  ASSERT_THAT(history["entries"], SizeIs(3));
  ASSERT_EQ(history["entries"][1]["event_type"], "AreaClosed");
  const std::string close_position =
      absl::StrCat(U64(history["entries"][1]["position"]));
  const CliResult corrected =
      Run({"correct", "cl-1", "--entry", close_position, "--reason",
           "Closed by mistake", "--correction", "Was never delivered"});
  ASSERT_EQ(corrected.exit_code, 0) << corrected;
  EXPECT_THAT(corrected.out,
              StartsWith(absl::StrCat("corrected entry #", close_position,
                                      " of area cl-1 (area-cl-1 version 4")));
  json after = RunJson({"history", "cl-1"});
  ASSERT_THAT(after["entries"], SizeIs(4));
  json& correction = after["entries"][0];
  EXPECT_EQ(absl::StrCat(U64(correction["corrects_position"])), close_position);
  EXPECT_EQ(correction["reason"], "Closed by mistake");
  const std::string human = RunOk({"history", "cl-1"});
  EXPECT_THAT(human,
              HasSubstr(absl::StrCat("    corrects: #", close_position, "\n")));
  EXPECT_THAT(human,
              HasSubstr(absl::StrCat("    corrected by: #",
                                     U64(correction["position"]), "\n")));
  EXPECT_THAT(Strings(ShowJson("cl-1")["corrected_positions"]),
              ElementsAre(close_position));
}

// --- Decisions ------------------------------------------------------------

TEST_F(CliTest, DecisionsAreRecordedListedAndCited) {
  Register("dc-1", "SA decisions", {"--end", "2030"});
  Register("dc-2", "SA decisions", {"--end", "2030"});
  const CliResult recorded =
      Run({"decision", "record", "DEC-7", "--body", "Styrgrupp test", "--date",
           "2024-03-01", "--title", "Action plan adopted", "--areas",
           "dc-1,dc-2", "--outcome", "Adopted"});
  ASSERT_EQ(recorded.exit_code, 0) << recorded;
  EXPECT_THAT(
      recorded.out,
      MatchesRegex("recorded decision DEC-7 \\(decision-DEC-7-2024-03-01 "
                   "version 1, position [0-9]+\\)\n"));
  json named = RunJson({"decision", "record", "DEC-8", "--id", "dec-8",
                        "--body", "Ledningsråd test", "--date", "april 2024",
                        "--title", "Follow-up", "--areas", "dc-1"});
  EXPECT_EQ(named["stream_id"], "decision-dec-8");

  auto ids = [](json response) {
    std::vector<std::string> ids;
    for (json& d : response["decisions"]) {
      ids.push_back(d["decision_id"].get<std::string>());
    }
    return ids;
  };
  EXPECT_THAT(ids(RunJson({"decision", "list", "--area", "dc-2"})),
              ElementsAre("DEC-7-2024-03-01"));
  EXPECT_THAT(ids(RunJson({"decision", "list", "--area", "dc-1"})),
              UnorderedElementsAre("DEC-7-2024-03-01", "dec-8"));
  json by_body = RunJson({"decision", "list", "--body", "Styrgrupp test"});
  ASSERT_THAT(by_body["decisions"], SizeIs(1));
  EXPECT_EQ(by_body["decisions"][0]["title"], "Action plan adopted");
  EXPECT_EQ(by_body["decisions"][0]["outcome"], "Adopted");
  EXPECT_EQ(by_body["decisions"][0]["decided_on"]["text"], "2024-03-01");

  const std::vector<std::string> table =
      Lines(RunOk({"decision", "list", "--area", "dc-2"}));
  ASSERT_THAT(table, SizeIs(2));
  EXPECT_THAT(table[0],
              MatchesRegex("ID +REFERENCE +BODY +DATE +TITLE +AREAS"));
  EXPECT_THAT(table[1], MatchesRegex("DEC-7-2024-03-01 +DEC-7 +Styrgrupp test "
                                     "+2024-03-01 +Action plan adopted "
                                     "+dc-1,dc-2"));

  // A reschedule cites it; the area's history shows both.
  RunJson({"reschedule", "dc-1", "--end", "2031", "--reason", "As decided",
           "--decision", "DEC-7-2024-03-01"});
  const std::string history = RunOk({"history", "dc-1"});
  EXPECT_THAT(history, HasSubstr("2024-03-01  #"));
  EXPECT_THAT(history, HasSubstr("decision recorded, by admin\n"));
  EXPECT_THAT(history, HasSubstr("    decision: DEC-7-2024-03-01\n"));
  EXPECT_THAT(history, HasSubstr("    reason: As decided\n"));
  // A decision that does not exist cannot be cited.
  const CliResult unknown =
      Run({"reschedule", "dc-2", "--end", "2031", "--reason", "Because",
           "--decision", "no-such-decision"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
}

// --- History, portfolio ---------------------------------------------------

TEST_F(CliTest, HistoryLimitAndOrder) {
  const uint64_t registered = Register("hi-1", "SA history", {"--end", "2099"});
  for (const char* note : {"First", "Second", "Third"}) {
    Status("hi-1", "in progress", "on track", note);
  }
  const std::string oldest =
      RunOk({"history", "hi-1", "--limit", "2", "--oldest-first"});
  const std::vector<std::string> lines = Lines(oldest);
  ASSERT_THAT(lines, Not(IsEmpty()));
  EXPECT_THAT(lines[0],
              MatchesRegex(absl::StrCat("[0-9-]+  #", registered,
                                        "  area registered, by admin")));
  EXPECT_THAT(oldest, HasSubstr("\"First\""));
  EXPECT_THAT(oldest, Not(HasSubstr("\"Second\"")));
  EXPECT_EQ(lines.back(), "(more: raise --limit)");

  json limited = RunJson({"history", "hi-1", "--limit", "2", "--oldest-first"});
  ASSERT_THAT(limited["entries"], SizeIs(2));
  EXPECT_EQ(limited["entries"][0]["event_type"], "AreaRegistered");
  EXPECT_LT(U64(limited["entries"][0]["position"]),
            U64(limited["entries"][1]["position"]));

  json newest = RunJson({"history", "hi-1"});
  ASSERT_THAT(newest["entries"], SizeIs(4));
  EXPECT_EQ(newest["entries"][0]["text"], "Third");
  EXPECT_EQ(newest["entries"][3]["event_type"], "AreaRegistered");
  EXPECT_EQ(newest["entries"][0]["actor"], kActor);
  EXPECT_EQ(newest["next_page_token"], "");
  const std::string all = RunOk({"history", "hi-1"});
  EXPECT_THAT(all, Not(HasSubstr("(more")));
  EXPECT_LT(all.find("\"Third\""), all.find("\"First\""));
}

TEST_F(CliTest, ChangesSinceADayPerAreaAndInSum) {
  const std::string sa = "SA changes";
  // Yesterday (UTC): every change below is recorded in the window even if
  // the test runs across midnight.
  const std::string since = absl::FormatCivilTime(
      absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 1);
  Register("ch-1", sa, {"--start", "2024", "--end", "2030"});
  Register("ch-2", sa, {"--end", "2030"});
  Register("ch-3", sa, {"--end", "2030"});
  Status("ch-1", "in progress", "at risk", "Supplier late");
  RunJson({"reschedule", "ch-1", "--end", "2031", "--reason", "Budget"});
  RunJson({"depend", "ch-1", "--on", "ch-2"});
  RunJson({"close", "ch-2", "--outcome", "completed", "--reason", "Done"});
  RunJson({"decision", "record", "CH-1", "--body", "Council", "--date",
           "2024-03-01", "--title", "Keep going", "--areas", "ch-3"});

  json changes = RunJson({"changes", "--since", since, "--support-area", sa});
  EXPECT_EQ(changes["basis"], "CHANGE_BASIS_RECORDED");
  EXPECT_EQ(changes["since"], since);
  ASSERT_THAT(changes["areas"], SizeIs(3));
  json& one = changes["areas"][0];
  EXPECT_EQ(one["area_id"], "ch-1");
  EXPECT_EQ(one["registered"], true);
  EXPECT_EQ(one["phase_after"], "PHASE_IN_PROGRESS");
  EXPECT_EQ(one["health_after"], "HEALTH_AT_RISK");
  EXPECT_EQ(one["status_reports"], 1);
  ASSERT_THAT(one["dependencies_added"], SizeIs(1));
  EXPECT_EQ(one["dependencies_added"][0]["area_id"], "ch-2");
  EXPECT_EQ(changes["areas"][1]["closed"], true);
  EXPECT_EQ(changes["areas"][1]["outcome"], "OUTCOME_COMPLETED");
  ASSERT_THAT(changes["areas"][2]["decisions"], SizeIs(1));
  EXPECT_EQ(changes["areas"][2]["decisions"][0]["title"], "Keep going");
  json& sum = changes["summary"];
  EXPECT_EQ(sum["areas"], 3);
  EXPECT_EQ(sum["areas_changed"], 3);
  EXPECT_EQ(sum["completed"], 1);
  EXPECT_EQ(sum["newly_at_risk"], 1);
  // ch-3 is open and did not report.
  EXPECT_EQ(sum["silent"], 1);

  const std::string text =
      RunOk({"changes", "--since", since, "--support-area", sa});
  EXPECT_THAT(text, HasSubstr(absl::StrCat("changes from ", since)));
  EXPECT_THAT(text, HasSubstr("by recorded time"));
  EXPECT_THAT(text,
              HasSubstr("\nch-1  Area ch-1\n  registered: in progress, at "
                        "risk\n"));
  EXPECT_THAT(text, HasSubstr("  dependency added: ch-2"));
  EXPECT_THAT(text, HasSubstr("  closed: completed\n"));
  EXPECT_THAT(text,
              HasSubstr("  status reports: 1 (latest: \"Supplier late\")"));
  EXPECT_THAT(text, HasSubstr("Council): Keep going"));
  EXPECT_THAT(text, HasSubstr("3 areas: 3 changed, 0 slipped, 1 newly at risk, "
                              "0 newly off track, 1 completed, 1 silent"));

  // Before all of it: nothing changed then (and "tomorrow" is refused as a
  // window ending before it starts).
  json before = RunJson({"changes", "--since", "2020-01-01", "--until",
                         "2020-12-31", "--support-area", sa});
  EXPECT_THAT(before["areas"], SizeIs(0));
  EXPECT_EQ(before["summary"]["areas"], 0);
  const CliResult backwards =
      Run({"changes", "--since", "2024-03-01", "--until", "2024-02-01"});
  EXPECT_EQ(backwards.exit_code, 1) << backwards;
  EXPECT_THAT(backwards.err, HasSubstr("[rule: window-order]"));
  const CliResult bad_basis =
      Run({"changes", "--since", "2024-03-01", "--basis", "sometimes"});
  EXPECT_EQ(bad_basis.exit_code, 2) << bad_basis;
}

TEST_F(CliTest, PortfolioCountsPerSupportAreaAndOverall) {
  const std::string sa = "SA portfolio";
  Register("pf-1", sa, {"--end", "2099"});
  Status("pf-1", "in progress", "at risk", "Slow");
  Register("pf-2", sa, {"--end", "2099"});
  RunJson({"close", "pf-2", "--outcome", "completed", "--reason", "Done"});
  Register("pf-3", sa, {"--start", "2019", "--end", "2020"});

  json portfolio = RunJson({"portfolio", "--support-area", sa});
  ASSERT_THAT(portfolio["support_areas"], SizeIs(1));
  json& slice = portfolio["support_areas"][0];
  EXPECT_EQ(slice["support_area"], sa);
  EXPECT_EQ(slice["areas"], 3);
  EXPECT_EQ(slice["open"], 2);
  EXPECT_EQ(slice["by_phase"]["PHASE_IN_PROGRESS"], 1);
  EXPECT_EQ(slice["by_phase"]["PHASE_COMPLETED"], 1);
  EXPECT_EQ(slice["by_phase"]["PHASE_PLANNED"], 1);
  EXPECT_EQ(slice["by_health"]["HEALTH_AT_RISK"], 1);
  EXPECT_EQ(slice["overdue"], 1);

  json everything = RunJson({"portfolio"});
  EXPECT_GE(everything["overall"]["areas"].get<int>(), 3);
  bool found = false;
  for (json& s : everything["support_areas"]) {
    if (s["support_area"] == sa) {
      found = true;
      EXPECT_EQ(s["areas"], 3);
    }
  }
  EXPECT_TRUE(found);

  const std::vector<std::string> one =
      Lines(RunOk({"portfolio", "--support-area", sa}));
  ASSERT_THAT(one, SizeIs(2));
  EXPECT_THAT(one[0],
              MatchesRegex("SUPPORT AREA +AREAS +OPEN +IN PROGRESS +"
                           "COMPLETED +ON TRACK +AT RISK +OFF TRACK +"
                           "OVERDUE +SLIPPED +STALE +REPORTS DUE +LATE"));
  EXPECT_THAT(one[1], MatchesRegex("SA portfolio +3 +2 +1 +1 +0 +1 +0 +1 +0 "
                                   "\\(0 d\\) +0 +0 +0"));
  const std::string overall = RunOk({"portfolio"});
  EXPECT_THAT(overall, HasSubstr("\nSA portfolio "));
  EXPECT_THAT(Lines(overall).back(), StartsWith("all "));
}

// --- Retries and expected versions ----------------------------------------

TEST_F(CliTest, CommandIdRetryWritesNothing) {
  Register("ci-1", "SA retry");
  const std::vector<std::string> command = {
      "status",   "ci-1",   "--phase",   "in progress",  "--health",
      "on track", "--note", "Once only", "--command-id", "ci-1-status"};
  const CliResult first = Run(command);
  ASSERT_EQ(first.exit_code, 0) << first;
  EXPECT_THAT(first.out, StartsWith("reported the status of area ci-1"));
  const uint64_t head = Head();

  const CliResult second = Run(command);
  ASSERT_EQ(second.exit_code, 0) << second;
  EXPECT_EQ(second.out, "already done, nothing written: " + first.out);
  json third = RunJson(command);
  EXPECT_EQ(third["replayed"], true);
  EXPECT_EQ(U64(third["version"]), 2u);

  EXPECT_EQ(Head(), head);
  EXPECT_EQ(U64(ShowJson("ci-1")["version"]), 2u);
  EXPECT_THAT(RunJson({"history", "ci-1"})["entries"], SizeIs(2));

  // The same id for another command is refused.
  const CliResult reused =
      Run({"status", "ci-1", "--phase", "paused", "--health", "off track",
           "--note", "Different", "--command-id", "ci-1-status"});
  EXPECT_EQ(reused.exit_code, 1) << reused;
  EXPECT_THAT(reused.err, HasSubstr("ALREADY_EXISTS"));
  EXPECT_EQ(Head(), head);
}

TEST_F(CliTest, ExpectedVersionGuardsAgainstLostUpdates) {
  Register("ev-1", "SA expected");
  json ok = Status("ev-1", "in progress", "on track", "Checked",
                   {"--expected-version", "1"});
  EXPECT_EQ(U64(ok["version"]), 2u);
  const uint64_t head = Head();

  const CliResult stale =
      Run({"status", "ev-1", "--phase", "paused", "--health", "at risk",
           "--note", "Stale view", "--expected-version", "1"});
  EXPECT_EQ(stale.exit_code, 1) << stale;
  EXPECT_EQ(stale.out, "");
  EXPECT_THAT(Lines(stale.err), SizeIs(1)) << stale;
  EXPECT_THAT(stale.err, HasSubstr("ABORTED"));
  EXPECT_THAT(stale.err, HasSubstr("at version 2"));
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(ShowJson("ev-1")["phase"], "PHASE_IN_PROGRESS");
}

// --- Errors ---------------------------------------------------------------

TEST_F(CliTest, RefusalsExitOneWithOneLineNamingFieldAndCode) {
  const uint64_t head = Head();
  const CliResult bad_date =
      Run({"area", "register", "er-date", "--title", "Bad", "--support-area",
           "SA errors", "--end", "Q5 2023"});
  EXPECT_EQ(bad_date.exit_code, 1) << bad_date;
  EXPECT_EQ(bad_date.out, "");
  ASSERT_THAT(Lines(bad_date.err), SizeIs(1)) << bad_date;
  EXPECT_THAT(bad_date.err, StartsWith("plantrail: planned_end: "));
  EXPECT_THAT(bad_date.err, HasSubstr("Q5 2023"));
  EXPECT_THAT(bad_date.err, HasSubstr("(INVALID_ARGUMENT)\n"));
  EXPECT_EQ(Head(), head);

  const CliResult unknown = Run({"area", "show", "er-unknown"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  ASSERT_THAT(Lines(unknown.err), SizeIs(1)) << unknown;
  EXPECT_THAT(unknown.err, HasSubstr("er-unknown"));
  EXPECT_THAT(unknown.err, HasSubstr("(NOT_FOUND)\n"));
  const CliResult unknown_status =
      Run({"status", "er-unknown", "--phase", "planned", "--health", "on track",
           "--note", "Nobody home"});
  EXPECT_EQ(unknown_status.exit_code, 1) << unknown_status;
  EXPECT_THAT(unknown_status.err, HasSubstr("(NOT_FOUND)\n"));
  const CliResult unknown_history = Run({"history", "er-unknown"});
  EXPECT_EQ(unknown_history.exit_code, 1) << unknown_history;
  EXPECT_THAT(unknown_history.err, HasSubstr("NOT_FOUND"));

  Register("er-twice", "SA errors");
  const CliResult twice = Run({"area", "register", "er-twice", "--title",
                               "Again", "--support-area", "SA errors"});
  EXPECT_EQ(twice.exit_code, 1) << twice;
  ASSERT_THAT(Lines(twice.err), SizeIs(1)) << twice;
  EXPECT_THAT(twice.err, HasSubstr("already registered"));
  EXPECT_THAT(twice.err, HasSubstr("(ALREADY_EXISTS)\n"));
  EXPECT_EQ(ShowJson("er-twice")["title"], "Area er-twice");
}

TEST_F(CliTest, UsageErrorsExitTwoAndNeverReachTheServer) {
  // The server is not even there: a usage error is found before any call.
  ClosedPort closed;
  const RunOptions nowhere{.server = closed.address()};
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{"status", "us-1", "--phase", "planned", "--health", "on track"},
       "--note"},
      {{"area", "register", "us-1", "--title", "No support area"},
       "--support-area"},
      {{"area", "show"}, "ID"},
      {{"area", "list", "--bogus"}, "--bogus"},
      {{"area", "list", "--phase", "sideways"}, "--phase: \"sideways\""},
      {{"status", "us-1", "--phase", "sideways", "--health", "on track",
        "--note", "n"},
       "--phase: \"sideways\" is not one of"},
      {{"status", "us-1", "--phase", "planned", "--health", "sunny", "--note",
        "n"},
       "--health"},
      {{"close", "us-1", "--outcome", "abandoned", "--reason", "r"},
       "--outcome"},
      {{"area", "list", "--sort", "colour"}, "--sort"},
      {{"reschedule", "us-1", "--reason", "No dates"}, "--start, --end or"},
      {{"depend", "us-1"}, "exactly one of --on and --external"},
      {{"depend", "us-1", "--on", "a", "--external", "b"}, "--external"},
      {{"area", "show", "us-1", "--as-of", "yesterday"}, "--as-of"},
      {{"export", "--format", "xml"}, "--format"},
      {{"correct", "us-1", "--entry", "0", "--reason", "r"}, "--entry"},
      // A mistyped command is named.
      {{"frobnicate"}, "not expected: frobnicate"},
      {{"area", "frob"}, "not expected: frob"},
      {{}, "subcommand"},
  };
  for (const Case& c : cases) {
    const CliResult result = Run(c.args, nowhere);
    EXPECT_EQ(result.exit_code, 2) << result;
    EXPECT_EQ(result.out, "") << result;
    EXPECT_THAT(result.err, HasSubstr(c.mentions)) << result;
    EXPECT_THAT(result.err, Not(HasSubstr("cannot reach"))) << result;
  }
}

TEST_F(CliTest, ServerDownExitsOneSayingItCannotReachIt) {
  ClosedPort closed;
  const CliResult down = Run({"area", "list"}, {.server = closed.address(),
                                                .stdin_mode = Stdin::kClosed});
  EXPECT_EQ(down.exit_code, 1) << down;
  EXPECT_EQ(down.out, "");
  ASSERT_THAT(Lines(down.err), SizeIs(1)) << down;
  EXPECT_THAT(down.err, HasSubstr(absl::StrCat("cannot reach plantraild at ",
                                               closed.address())));
  EXPECT_THAT(down.err, HasSubstr("(UNAVAILABLE)\n"));

  // --server wins over PLANTRAIL_SERVER.
  const CliResult flag = Run({"--server", closed.address(), "admin", "stats"});
  EXPECT_EQ(flag.exit_code, 1) << flag;
  EXPECT_THAT(flag.err, HasSubstr("cannot reach"));

  const CliResult json_down =
      Run({"--json", "status", "sd-1", "--phase", "planned", "--health",
           "on track", "--note", "n"},
          {.server = closed.address()});
  EXPECT_EQ(json_down.exit_code, 1) << json_down;
  json error = json::parse(json_down.err, nullptr, false);
  ASSERT_TRUE(error.is_object()) << json_down;
  EXPECT_EQ(error["error"]["code"], "UNAVAILABLE");
  EXPECT_THAT(error["error"]["message"].get<std::string>(),
              HasSubstr("cannot reach"));
}

TEST_F(CliTest, JsonErrorsAreOneObjectOnStderr) {
  Register("je-1", "SA json errors");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string code;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{"area", "register", "je-2", "--title", "T", "--support-area", "S",
        "--end", "Q5 2023"},
       1,
       "INVALID_ARGUMENT",
       "planned_end"},
      {{"area", "show", "je-none"}, 1, "NOT_FOUND", "je-none"},
      {{"area", "register", "je-1", "--title", "T", "--support-area", "S"},
       1,
       "ALREADY_EXISTS",
       "je-1"},
      {{"status", "je-1", "--phase", "planned", "--health", "on track",
        "--note", "n", "--expected-version", "7"},
       1,
       "ABORTED",
       "at version 1"},
      {{"area", "list", "--phase", "sideways"},
       2,
       "INVALID_ARGUMENT",
       "--phase"},
      {{"status", "je-1", "--phase", "planned"},
       2,
       "INVALID_ARGUMENT",
       "--health"},
      {{"area", "list", "--bogus"}, 2, "INVALID_ARGUMENT", "--bogus"},
  };
  for (const Case& c : cases) {
    for (bool json_first : {true, false}) {
      std::vector<std::string> args = c.args;
      args.insert(json_first ? args.begin() : args.end(), "--json");
      const CliResult result = Run(args);
      EXPECT_EQ(result.exit_code, c.exit_code) << result;
      EXPECT_EQ(result.out, "") << result;
      ASSERT_THAT(Lines(result.err), SizeIs(1)) << result;
      json error = json::parse(result.err, nullptr, false);
      ASSERT_TRUE(error.is_object()) << result;
      ASSERT_TRUE(error.contains("error")) << result;
      EXPECT_EQ(error["error"]["code"], c.code) << result;
      EXPECT_THAT(error["error"]["message"].get<std::string>(),
                  HasSubstr(c.mentions))
          << result;
    }
  }
}

// --- Help -----------------------------------------------------------------

// The subcommands a help text lists.
std::vector<std::string> SubcommandsIn(const std::string& help) {
  std::vector<std::string> names;
  bool in_list = false;
  for (const std::string& line : Lines(help)) {
    if (line == "Subcommands:") {
      in_list = true;
    } else if (in_list && absl::StartsWith(line, "  ")) {
      absl::string_view name = absl::StripLeadingAsciiWhitespace(line);
      names.emplace_back(name.substr(0, name.find(' ')));
    } else if (in_list) {
      break;
    }
  }
  return names;
}

TEST_F(CliTest, HelpOnEveryCommandShowsAnExample) {
  ClosedPort closed;  // help never touches the network
  const CliResult top = Run({"--help"}, {.server = closed.address()});
  ASSERT_EQ(top.exit_code, 0) << top;
  EXPECT_THAT(top.out, HasSubstr("Examples:\n"));
  EXPECT_THAT(top.out, HasSubstr("Exit codes: 0 success, 1 refused or failed, "
                                 "2 usage."));
  // Every command, found by walking the help itself.
  std::vector<std::vector<std::string>> pending;
  for (const std::string& name : SubcommandsIn(top.out))
    pending.push_back({name});
  std::set<std::string> leaves;
  while (!pending.empty()) {
    std::vector<std::string> path = pending.back();
    pending.pop_back();
    std::vector<std::string> args = path;
    args.push_back("--help");
    const CliResult help = Run(args, {.server = closed.address()});
    EXPECT_EQ(help.exit_code, 0) << help;
    EXPECT_EQ(help.err, "") << help;
    EXPECT_THAT(help.out, HasSubstr(absl::StrCat("Usage: plantrail ",
                                                 absl::StrJoin(path, " "))))
        << help;
    const std::vector<std::string> children = SubcommandsIn(help.out);
    if (!children.empty()) {
      EXPECT_THAT(help.out, HasSubstr("Example")) << help;
      for (const std::string& child : children) {
        std::vector<std::string> next = path;
        next.push_back(child);
        pending.push_back(next);
      }
      continue;
    }
    // A command's own example: "Example:" or "Examples:" and a line that
    // runs it.
    const std::string joined = absl::StrJoin(path, " ");
    leaves.insert(joined);
    EXPECT_THAT(help.out, HasSubstr("\nExample")) << help;
    EXPECT_THAT(help.out, HasSubstr(absl::StrCat("\n  plantrail ", joined)))
        << help;
  }
  // The walk found them all (and more, should commands be added).
  for (const char* command :
       {"area register",   "area revise",   "area units",
        "area show",       "area list",     "status",
        "reschedule",      "depend",        "undepend",
        "close",           "reopen",        "correct",
        "decision record", "decision list", "history",
        "portfolio",       "deps",          "watch",
        "export",          "import",        "admin projections",
        "admin rebuild",   "admin verify",  "admin stats"}) {
    EXPECT_THAT(leaves, Contains(std::string(command)));
  }
}

}  // namespace
}  // namespace plantrail
