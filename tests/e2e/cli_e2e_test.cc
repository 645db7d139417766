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

// --- Export ---------------------------------------------------------------

TEST_F(CliTest, ExportWritesEveryEventWithItsHashAndASignedDigest) {
  Register("ex-1", "SA export", {"--start", "HT23", "--end", "VT24"});
  Status("ex-1", "in progress", "on track", "Going, \"well\"\nreally");
  RunJson({"reschedule", "ex-1", "--end", "HT24", "--reason", "Later"});

  // An area's export: every position of the log, the area's in full, the
  // rest as links, then the digest of the last.
  const std::string jsonl = RunOk({"export", "--area", "ex-1"});
  const std::vector<std::string> lines = Lines(jsonl);
  const uint64_t head = Head();
  ASSERT_EQ(lines.size(), head + 2) << jsonl;
  const json header = json::parse(lines.front());
  EXPECT_EQ(header["record"], "export");
  EXPECT_EQ(header["format"], "plantrail-export-v1");
  EXPECT_EQ(header["scope"]["stream"], "area-ex-1");
  EXPECT_EQ(header["first_position"], 1);
  const json digest = json::parse(lines.back());
  EXPECT_EQ(digest["record"], "digest");
  EXPECT_EQ(digest["position"], head);
  std::vector<std::string> types;
  for (size_t i = 1; i + 1 < lines.size(); ++i) {
    json record = json::parse(lines[i], nullptr, false);
    ASSERT_TRUE(record.is_object()) << lines[i];
    EXPECT_EQ(record["position"], i);
    EXPECT_THAT(record["hash"].get<std::string>(),
                MatchesRegex("[0-9a-f]{64}"));
    EXPECT_THAT(record["payload_hash"].get<std::string>(),
                MatchesRegex("[0-9a-f]{64}"));
    if (record["record"] == "link") {
      EXPECT_FALSE(record.contains("payload"));
      continue;
    }
    EXPECT_EQ(record["stream_id"], "area-ex-1");
    EXPECT_EQ(record["actor"], kActor);
    types.push_back(record["type"].get<std::string>());
    if (record["type"] == "StatusReported") {
      EXPECT_EQ(record["payload"]["report"]["narrative"],
                "Going, \"well\"\nreally");
    }
    if (record["type"] == "ScheduleRevised") {
      EXPECT_EQ(record["payload"]["reason"], "Later");
    }
  }
  EXPECT_THAT(types, ElementsAre("AreaRegistered", "StatusReported",
                                 "ScheduleRevised"));
  const std::string area_file = TempPath("ex-1.jsonl");
  std::ofstream(area_file) << jsonl;
  const CliResult checked = Run({"verify-export", area_file, "--public-key",
                                 TempPath("data/signing.pub")});
  EXPECT_EQ(checked.exit_code, 0) << checked;
  EXPECT_THAT(checked.out,
              HasSubstr(absl::StrCat("export ok: stream area-ex-1; positions "
                                     "1..",
                                     head, ", 3 events in full")));
  EXPECT_THAT(checked.out, HasSubstr("(the pinned key)"));
  EXPECT_THAT(checked.out, HasSubstr("it reaches the log's head"));

  // The whole log as CSV, to a file; the same checks hold offline.
  const std::string file = TempPath("export.csv");
  const CliResult written =
      Run({"export", "--all", "--format", "csv", "-o", file});
  ASSERT_EQ(written.exit_code, 0) << written;
  EXPECT_EQ(written.out, "");
  EXPECT_THAT(written.err, StartsWith(absl::StrCat("exported ", head,
                                                   " events (0 more "
                                                   "positions as links) to ",
                                                   file)));
  std::ifstream in(file);
  std::stringstream content;
  content << in.rdbuf();
  const std::vector<std::string> rows = Lines(content.str());
  ASSERT_EQ(rows.size(), head + 3);
  EXPECT_EQ(rows[0],
            "record,position,stream_id,version,type,event_id,recorded_at,"
            "actor,metadata,content_type,payload,payload_bytes,payload_hash,"
            "hash,redacted,redaction,header,details,header_hash");
  EXPECT_THAT(rows[2], StartsWith("event,1,"));
  EXPECT_THAT(rows.back(), StartsWith("digest,"));
  const json verdict = RunJson({"verify-export", file});
  EXPECT_EQ(verdict["ok"], true);
  EXPECT_EQ(verdict["events"], head);
  EXPECT_EQ(verdict["reaches_head"], true);

  // Edited by hand, it no longer verifies.
  std::string edited = content.str();
  const size_t at = edited.find("Later");
  ASSERT_NE(at, std::string::npos);
  edited.replace(at, 5, "Never");
  std::ofstream(TempPath("edited.csv")) << edited;
  const CliResult refused = Run({"verify-export", TempPath("edited.csv")});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_THAT(refused.err, HasSubstr("payload is not what the event's bytes "
                                     "say"));

  const CliResult unknown = Run({"export", "--area", "ex-none"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));
  const CliResult both = Run({"export", "--area", "ex-1", "--all"});
  EXPECT_EQ(both.exit_code, 2) << both;
  const CliResult bad_from = Run({"export", "--from", "last spring"});
  EXPECT_EQ(bad_from.exit_code, 2) << bad_from;
  EXPECT_THAT(bad_from.err, HasSubstr("--from"));
}

// --- Administration -------------------------------------------------------

TEST_F(CliTest, AdminProjectionsRebuildVerifyAndStats) {
  Register("ad-1", "SA admin");
  const uint64_t head = Head();

  const std::vector<std::string> table = Lines(RunOk({"admin", "projections"}));
  ASSERT_THAT(table, SizeIs(3));
  EXPECT_THAT(table[0], MatchesRegex("NAME +STATE +CHECKPOINT +HEAD +LAG +"
                                     "GENERATION +REBUILT TO +ERROR"));
  EXPECT_THAT(table, Contains(MatchesRegex("area_state +running +[0-9]+ .*")));
  EXPECT_THAT(table, Contains(MatchesRegex("history +running +[0-9]+ .*")));

  // Each projection's status, by name.
  auto statuses = [] {
    std::map<std::string, json> by_name;
    json response = RunJson({"admin", "projections"});
    for (json& p : response["projections"]) {
      by_name[p["name"].get<std::string>()] = p;
    }
    return by_name;
  };
  std::map<std::string, json> before = statuses();
  ASSERT_TRUE(before.contains("history") && before.contains("area_state"));
  EXPECT_EQ(before["history"]["state"], "PROJECTION_STATE_RUNNING");
  EXPECT_EQ(U64(before["history"]["checkpoint"]), head);
  EXPECT_EQ(U64(before["history"]["lag"]), 0u);

  const CliResult rebuild = Run({"admin", "rebuild", "history"});
  ASSERT_EQ(rebuild.exit_code, 0) << rebuild;
  EXPECT_EQ(rebuild.out,
            "rebuilding history (see plantrail admin projections)\n");
  json rebuild_json = RunJson({"admin", "rebuild", "area_state"});
  EXPECT_EQ(rebuild_json["status"]["name"], "area_state");
  // Done when a new generation of each is live and running; poll for it.
  auto rebuilt = [&](std::map<std::string, json> now) {
    for (const char* name : {"history", "area_state"}) {
      json& status = now.at(name);
      if (status["state"] != "PROJECTION_STATE_RUNNING" ||
          U64(status["generation"]) <= U64(before[name]["generation"])) {
        return false;
      }
    }
    return true;
  };
  std::map<std::string, json> now = statuses();
  const absl::Time deadline = absl::Now() + kPatience;
  while (!rebuilt(now) && absl::Now() < deadline) now = statuses();
  for (const char* name : {"history", "area_state"}) {
    EXPECT_EQ(now[name]["state"], "PROJECTION_STATE_RUNNING")
        << now[name].dump();
    EXPECT_EQ(U64(now[name]["generation"]), U64(before[name]["generation"]) + 1)
        << now[name].dump();
    EXPECT_EQ(now[name]["error"], "");
  }
  // The rebuilt copies answer.
  EXPECT_THAT(RunJson({"history", "ad-1"})["entries"], SizeIs(1));
  EXPECT_EQ(ShowJson("ad-1")["title"], "Area ad-1");

  const CliResult unknown = Run({"admin", "rebuild", "no-such-projection"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown;
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND"));

  EXPECT_THAT(RunOk({"admin", "verify"}),
              MatchesRegex(absl::StrCat(
                  "chain: ok, ", head, " events, head ", head,
                  ", head hash [0-9a-f]{64}\n"
                  "projection area_state: ok, checkpoint ",
                  head, "\nprojection history: ok, checkpoint ", head, "\n")));
  json verified = RunJson({"admin", "verify"});
  EXPECT_EQ(verified["ok"], true);
  EXPECT_EQ(U64(verified["server"]["events_checked"]), head);
  EXPECT_EQ(U64(verified["server"]["first_broken_position"]), 0u);

  const std::string stats = RunOk({"admin", "stats"});
  EXPECT_THAT(stats,
              MatchesRegex(absl::StrCat("STATISTIC +VALUE\nhead position +",
                                        head, "\n(.|\n)*")));
  EXPECT_THAT(stats, HasSubstr("\nlive subscriptions "));
  Register("ad-2", "SA admin");
  json after = RunJson({"admin", "stats"});
  EXPECT_EQ(U64(after["head_position"]), head + 1);
  EXPECT_GE(U64(after["events_appended"]), head + 1);
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

// --- tokens ---------------------------------------------------------------

TEST_F(CliTest, AdminTokensAreCreatedUsedListedAndRevoked) {
  const CliResult created =
      Run({"admin", "token", "create", "--principal", "tina", "--role",
           "reader", "--note", "tests"});
  ASSERT_EQ(created.exit_code, 0) << created;
  // The secret alone on stdout (for scripts); what it is on stderr.
  const std::string token(absl::StripTrailingAsciiWhitespace(created.out));
  EXPECT_THAT(token, MatchesRegex("pt_[0-9a-f]{64}"));
  EXPECT_THAT(created.err, HasSubstr("to tina (reader)"));

  const CliResult reads = Run({"area", "list"}, {.token = token});
  EXPECT_EQ(reads.exit_code, 0) << reads;
  const CliResult writes =
      Run({"area", "register", "tok-1", "--title", "T", "--support-area", "S"},
          {.token = token});
  EXPECT_EQ(writes.exit_code, 1) << writes;
  EXPECT_THAT(writes.err, HasSubstr("tina (reader) may not call"));
  EXPECT_THAT(writes.err, HasSubstr("(PERMISSION_DENIED)"));

  std::string id;
  json listed = RunJson({"admin", "token", "list"});
  for (json& info : listed["tokens"]) {
    if (info["principal"] == "tina") id = info["token_id"];
  }
  ASSERT_THAT(id, StartsWith("tok-"));
  EXPECT_THAT(RunOk({"admin", "token", "list"}),
              AllOf(HasSubstr(id), HasSubstr("tina"), Not(HasSubstr(token))));
  EXPECT_THAT(RunOk({"admin", "token", "revoke", id, "--reason", "done"}),
              HasSubstr("revoked " + id + " (tina)"));
  const CliResult after = Run({"area", "list"}, {.token = token});
  EXPECT_EQ(after.exit_code, 1) << after;
  EXPECT_THAT(after.err, HasSubstr("was revoked"));
  EXPECT_THAT(after.err, HasSubstr("(UNAUTHENTICATED)"));

  // Without any token the CLI says where one comes from.
  const CliResult none = Run({"area", "list"}, {.token = ""});
  EXPECT_EQ(none.exit_code, 1) << none;
  EXPECT_THAT(none.err, HasSubstr("admin.token"));
}

// --- watch ----------------------------------------------------------------

// `plantrail watch ...` running in the background, read line by line.
class Watch {
 public:
  Watch(std::vector<std::string> args, std::vector<std::string> env) {
    args.insert(args.begin(), kCli);
    started_ = child_.Start(std::move(args), std::move(env), Stdin::kClosed);
    EXPECT_TRUE(started_) << "cannot spawn watch";
  }

  // Reads until `done(lines)` holds (false at the deadline).
  bool ReadUntil(
      const std::function<bool(const std::vector<std::string>&)>& done) {
    return started_ && child_.ReadUntil([&] { return done(CompleteLines()); },
                                        absl::Now() + kPatience);
  }

  // The lines so far (a partly written last line is left out).
  std::vector<std::string> CompleteLines() const {
    const std::string& out = child_.out();
    return Lines(out.substr(0, out.rfind('\n') + 1));
  }

  // SIGINT, as Ctrl-C: the exit code.
  int Interrupt() {
    child_.Signal(SIGINT);
    return child_.Wait(absl::Now() + kPatience);
  }

  const std::string& err() const { return child_.err(); }

 private:
  Child child_;
  bool started_ = false;
};

std::vector<json> ParseLines(const std::vector<std::string>& lines) {
  std::vector<json> events;
  for (const std::string& line : lines) {
    events.push_back(json::parse(line, nullptr, false));
    EXPECT_TRUE(events.back().is_object()) << line;
  }
  return events;
}

TEST_F(CliTest, WatchPrintsChangesAsTheyHappenUntilCtrlC) {
  Watch watch({"watch", "--from", "0", "--json"}, Environment({}));
  Register("wa-1", "SA watch");
  Status("wa-1", "in progress", "at risk", "Seen live");
  const uint64_t head = Head();
  ASSERT_TRUE(watch.ReadUntil([&](const std::vector<std::string>& lines) {
    return lines.size() >= head;
  })) << watch.err();
  const int exit_code = watch.Interrupt();
  EXPECT_EQ(exit_code, 0) << watch.err();

  // Every event from the first, in order, then ours.
  std::vector<json> events = ParseLines(watch.CompleteLines());
  ASSERT_EQ(events.size(), head);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["position"], i + 1);
    EXPECT_THAT(events[i]["hash"].get<std::string>(),
                MatchesRegex("[0-9a-f]{64}"));
  }
  json& registered = events[head - 2];
  EXPECT_EQ(registered["stream_id"], "area-wa-1");
  EXPECT_EQ(registered["type"], "AreaRegistered");
  EXPECT_EQ(registered["payload"]["title"], "Area wa-1");
  json& reported = events[head - 1];
  EXPECT_EQ(reported["stream_id"], "area-wa-1");
  EXPECT_EQ(reported["version"], 2);
  EXPECT_EQ(reported["type"], "StatusReported");
  EXPECT_EQ(reported["actor"], kActor);
  EXPECT_EQ(reported["payload"]["report"]["narrative"], "Seen live");
  EXPECT_EQ(watch.err(), "");
}

TEST_F(CliTest, WatchFromResumesAfterThePosition) {
  Register("wr-1", "SA watch resume");
  json first = Status("wr-1", "in progress", "on track", "Before");
  json second = Status("wr-1", "in progress", "at risk", "After");
  const uint64_t from = U64(first["position"]);

  // People's lines: "#P  time  stream vN  what, by whom".
  Watch watch({"watch", "--from", absl::StrCat(from)}, Environment({}));
  ASSERT_TRUE(watch.ReadUntil(
      [](const std::vector<std::string>& lines) { return !lines.empty(); }));
  json third = Status("wr-1", "paused", "off track", "Live");
  ASSERT_TRUE(watch.ReadUntil(
      [](const std::vector<std::string>& lines) { return lines.size() >= 2; }));
  EXPECT_EQ(watch.Interrupt(), 0) << watch.err();
  const std::vector<std::string> lines = watch.CompleteLines();
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_THAT(lines[0],
              MatchesRegex(absl::StrCat("#", U64(second["position"]),
                                        "  [0-9-]+ [0-9:]+ UTC  area-wr-1 v3  "
                                        "status reported, by admin")));
  EXPECT_THAT(lines[1],
              StartsWith(absl::StrCat("#", U64(third["position"]), "  ")));
  EXPECT_THAT(watch.err(), HasSubstr("-- caught up at position"));
}

TEST_F(CliTest, WatchFiltersByTypeAndStreamPrefix) {
  const uint64_t from = Head();
  Register("wf-a", "SA watch filter");
  Register("wf-b", "SA watch filter");
  json a1 = Status("wf-a", "in progress", "on track", "a1");
  Status("wf-b", "in progress", "on track", "b1");
  RunJson({"area", "revise", "wf-a", "--title", "Renamed", "--reason", "r"});
  json a2 = Status("wf-a", "paused", "at risk", "a2");

  Watch watch({"watch", "--from", absl::StrCat(from), "--type",
               "StatusReported", "--stream-prefix", "area-wf-a", "--json"},
              Environment({}));
  ASSERT_TRUE(watch.ReadUntil([&](const std::vector<std::string>& lines) {
    return absl::c_any_of(lines, [&](const std::string& line) {
      return absl::StrContains(
          line, absl::StrCat("\"position\":", U64(a2["position"]), ","));
    });
  })) << watch.err();
  EXPECT_EQ(watch.Interrupt(), 0) << watch.err();
  std::vector<json> events = ParseLines(watch.CompleteLines());
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0]["position"], U64(a1["position"]));
  EXPECT_EQ(events[1]["position"], U64(a2["position"]));
  for (json& event : events) {
    EXPECT_EQ(event["type"], "StatusReported");
    EXPECT_EQ(event["stream_id"], "area-wf-a");
  }

  // Only the type: both areas' reports.
  Watch by_type({"watch", "--from", absl::StrCat(from), "--type",
                 "AreaRegistered", "--json"},
                Environment({}));
  ASSERT_TRUE(by_type.ReadUntil([](const std::vector<std::string>& lines) {
    return absl::c_any_of(lines, [](const std::string& line) {
      return absl::StrContains(line, "\"stream_id\":\"area-wf-b\"");
    });
  }));
  EXPECT_EQ(by_type.Interrupt(), 0) << by_type.err();
  std::vector<json> registrations = ParseLines(by_type.CompleteLines());
  ASSERT_THAT(registrations, SizeIs(2));
  EXPECT_EQ(registrations[0]["stream_id"], "area-wf-a");
  EXPECT_EQ(registrations[1]["stream_id"], "area-wf-b");
}

TEST_F(CliTest, WatchFromNowAndAConsumerGroupResumeWhereTheyShould) {
  // From now: nothing of the past, and what comes after. It says on
  // stderr when it is waiting, so the change is made after that.
  Watch live({"watch", "--from-now"}, Environment({}));
  ASSERT_TRUE(live.ReadUntil([&](const std::vector<std::string>&) {
    return absl::StrContains(live.err(), "caught up");
  })) << live.err();
  const uint64_t registered = Register("wn-1", "SA watch now");
  ASSERT_TRUE(live.ReadUntil([](const std::vector<std::string>& lines) {
    return !lines.empty();
  })) << live.err();
  EXPECT_EQ(live.Interrupt(), 0) << live.err();
  const std::vector<std::string> lines = live.CompleteLines();
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], StartsWith(absl::StrCat("#", registered, "  ")));
  EXPECT_THAT(lines[0], HasSubstr("area-wn-1 v1  area registered"));

  // A consumer group resumes after its acknowledged position.
  const uint64_t acked = U64(RunJson(
      {"events", "ack", "cli-group", absl::StrCat(registered)})["position"]);
  EXPECT_EQ(acked, registered);
  // An older ack never moves the group back.
  EXPECT_EQ(U64(RunJson({"events", "ack", "cli-group", "1"})["position"]),
            registered);
  const uint64_t next = Register("wn-2", "SA watch now");
  Watch group({"watch", "--group", "cli-group", "--json"}, Environment({}));
  ASSERT_TRUE(group.ReadUntil([](const std::vector<std::string>& lines) {
    return !lines.empty();
  })) << group.err();
  EXPECT_EQ(group.Interrupt(), 0) << group.err();
  std::vector<json> events = ParseLines(group.CompleteLines());
  ASSERT_THAT(events, Not(IsEmpty()));
  EXPECT_EQ(U64(events[0]["position"]), registered + 1);
  EXPECT_EQ(U64(events.back()["position"]), next);
}

TEST_F(CliTest, EventsAppendReadAndReadAllTheLogBelowThePlan) {
  const json appended =
      RunJson({"events", "append", "ledger-cli", "--type", "Noted", "--data",
               "hello", "--expected", "none", "--meta", "source=cli"});
  const uint64_t position = U64(appended["first_position"]);
  EXPECT_EQ(U64(appended["first_version"]), 1);

  // Expected versions are checked; plan streams are the plan model's.
  const CliResult conflict =
      Run({"events", "append", "ledger-cli", "--type", "Noted", "--data", "x",
           "--expected", "none"});
  EXPECT_EQ(conflict.exit_code, 1) << conflict;
  EXPECT_THAT(conflict.err, HasSubstr("(ABORTED)")) << conflict;
  const CliResult plan_stream =
      Run({"events", "append", "area-ev-1", "--type", "Noted", "--data", "x"});
  EXPECT_EQ(plan_stream.exit_code, 1) << plan_stream;
  EXPECT_THAT(plan_stream.err, HasSubstr("PERMISSION_DENIED")) << plan_stream;
  const CliResult bad = Run({"events", "append", "ledger-cli", "--type", "N",
                             "--expected", "sometimes"});
  EXPECT_EQ(bad.exit_code, 2) << bad;
  EXPECT_THAT(bad.err, HasSubstr("--expected")) << bad;

  RunJson({"events", "append", "ledger-cli", "--type", "Noted", "--data",
           "second", "--expected", "1"});
  const std::vector<json> stream =
      ParseLines(Lines(RunOk({"events", "read", "ledger-cli"})));
  ASSERT_THAT(stream, SizeIs(2));
  EXPECT_EQ(stream[0]["payload"], "hello");
  EXPECT_EQ(stream[0]["metadata"]["source"], "cli");
  EXPECT_EQ(stream[1]["payload"], "second");
  const std::vector<json> newest = ParseLines(Lines(
      RunOk({"events", "read", "ledger-cli", "--backward", "--limit", "1"})));
  ASSERT_THAT(newest, SizeIs(1));
  EXPECT_EQ(newest[0]["payload"], "second");

  const std::vector<json> log =
      ParseLines(Lines(RunOk({"events", "read-all", "--from",
                              absl::StrCat(position), "--limit", "1"})));
  ASSERT_THAT(log, SizeIs(1));
  EXPECT_EQ(U64(log[0]["position"]), position);
  EXPECT_EQ(log[0]["stream_id"], "ledger-cli");
}

// --- TLS and mutual TLS ---------------------------------------------------

// Two servers on certificates made by the test (openssl): one serving TLS,
// one demanding a client certificate from its CA (mutual TLS). A second CA
// signs what must be refused.
class CliTlsTest : public CliTest {
 protected:
  static void SetUpTestSuite() {
    CliTest::SetUpTestSuite();
    const std::string dir = TempPath("pki");
    std::filesystem::create_directories(dir);
    // EC keys: quick to make. The server's certificate names 127.0.0.1 and
    // localhost; "anna" is a client of the right CA, "mallory" of the other.
    const std::string script = absl::StrCat(
        "set -e; cd '", dir, "'\n",
        "key() { openssl genpkey -algorithm EC -pkeyopt "
        "ec_paramgen_curve:prime256v1 -out $1.key 2>/dev/null; }\n",
        "ca() { key $1; openssl req -x509 -new -key $1.key -out $1.pem "
        "-days 2 -subj \"/CN=$1\"; }\n",
        "cert() { key $1; openssl req -new -key $1.key -subj \"$3\" "
        "-out $1.csr; printf \"$4\" > $1.ext; openssl x509 -req -in $1.csr "
        "-CA $2.pem -CAkey $2.key -CAcreateserial -days 2 -extfile $1.ext "
        "-out $1.pem 2>/dev/null; }\n",
        "ca ca; ca other-ca\n",
        "cert server ca /CN=localhost "
        "'subjectAltName=DNS:localhost,IP:127.0.0.1\\n'\n",
        "cert anna ca '/O=KTH/CN=anna' 'extendedKeyUsage=clientAuth\\n'\n",
        "cert mallory other-ca '/CN=mallory' "
        "'extendedKeyUsage=clientAuth\\n'\n",
        "cert bob ca '/CN=bob' 'extendedKeyUsage=clientAuth\\n'\n",
        "cert carl ca '/CN=carl' 'extendedKeyUsage=clientAuth\\n'\n");
    pki_ready_ =
        std::system(absl::StrCat("sh -c \"$(cat <<'EOF'\n", script, "EOF\n)\"")
                        .c_str()) == 0;
    if (!pki_ready_) return;
    tls_ = new testing::ServerProcess;
    mtls_ = new testing::ServerProcess;
    tls_up_ = tls_->Start(
        TempPath("tls-data"),
        {"--tls-cert", Pki("server.pem"), "--tls-key", Pki("server.key")});
    // Small limits, so that they can be met.
    mtls_up_ = mtls_->Start(
        TempPath("mtls-data"),
        {"--tls-cert", Pki("server.pem"), "--tls-key", Pki("server.key"),
         "--tls-client-ca", Pki("ca.pem"), "--max-subscribers", "2",
         "--max-subscriptions-per-principal", "1", "--max-message-bytes",
         "1048576"});
    if (!mtls_up_) return;
    // What the client certificates' subjects may do there.
    for (const auto& [who, roles] :
         std::vector<std::pair<std::string, std::string>>{
             {"anna", "planner,subscriber"},
             {"bob", "subscriber"},
             {"carl", "subscriber"}}) {
      std::vector<std::string> grant = As("anna");
      grant.insert(grant.end(), {"admin", "token", "create", "--principal", who,
                                 "--role", roles});
      mtls_up_ &=
          Run(grant, {.server = mtls_->address(), .token = mtls_->AdminToken()})
              .exit_code == 0;
    }
  }

  static void TearDownTestSuite() {
    delete tls_;
    delete mtls_;
    tls_ = mtls_ = nullptr;
    CliTest::TearDownTestSuite();
  }

  void SetUp() override {
    CliTest::SetUp();
    ASSERT_TRUE(pki_ready_) << "openssl could not make the certificates";
    ASSERT_TRUE(tls_up_ && mtls_up_) << "a TLS server did not come up";
  }

  static std::string Pki(const std::string& file) {
    return TempPath(absl::StrCat("pki/", file));
  }

  // The CLI's TLS flags for the client certificate `who`.
  static std::vector<std::string> As(const std::string& who) {
    return {"--tls-ca",        Pki("ca.pem"), "--tls-cert",
            Pki(who + ".pem"), "--tls-key",   Pki(who + ".key")};
  }

  // `plantrail` with `flags` in front of `args`, against `server`: as its
  // admin (by the token of its first start), or as nobody but what the
  // flags say (a client certificate).
  static CliResult RunOn(const testing::ServerProcess& server,
                         std::vector<std::string> flags,
                         const std::vector<std::string>& args,
                         bool as_admin = true) {
    flags.insert(flags.end(), args.begin(), args.end());
    return Run(flags, {.server = server.address(),
                       .token = as_admin ? server.AdminToken() : ""});
  }

  static inline testing::ServerProcess* tls_ = nullptr;
  static inline testing::ServerProcess* mtls_ = nullptr;
  static inline bool pki_ready_ = false, tls_up_ = false, mtls_up_ = false;
};

TEST_F(CliTlsTest, TlsServesClientsThatTrustItsCaAndNoOneElse) {
  const std::vector<std::string> list = {"--json", "area", "list"};
  const CliResult trusted = RunOn(*tls_, {"--tls-ca", Pki("ca.pem")}, list);
  EXPECT_EQ(trusted.exit_code, 0) << trusted;

  const CliResult plaintext = RunOn(*tls_, {}, {"area", "list"});
  EXPECT_EQ(plaintext.exit_code, 1) << plaintext;
  EXPECT_THAT(plaintext.err, HasSubstr("does the server want TLS"))
      << plaintext;
  EXPECT_THAT(plaintext.err, HasSubstr("(UNAVAILABLE)")) << plaintext;

  const CliResult wrong_ca =
      RunOn(*tls_, {"--tls-ca", Pki("other-ca.pem")}, {"area", "list"});
  EXPECT_EQ(wrong_ca.exit_code, 1) << wrong_ca;
  EXPECT_THAT(wrong_ca.err, HasSubstr("TLS handshake failed")) << wrong_ca;
}

TEST_F(CliTlsTest, MutualTlsMakesTheCertificatesSubjectTheActor) {
  const std::vector<std::string> anna = {"--tls-ca",   Pki("ca.pem"),
                                         "--tls-cert", Pki("anna.pem"),
                                         "--tls-key",  Pki("anna.key")};
  const CliResult registered = RunOn(
      *mtls_, anna,
      {"area", "register", "tls-1", "--title", "T", "--support-area", "S"},
      /*as_admin=*/false);
  ASSERT_EQ(registered.exit_code, 0) << registered;
  const CliResult history =
      RunOn(*mtls_, anna, {"--json", "history", "tls-1"}, /*as_admin=*/false);
  ASSERT_EQ(history.exit_code, 0) << history;
  const json entries = json::parse(history.out)["entries"];
  ASSERT_THAT(entries, SizeIs(1));
  EXPECT_EQ(entries[0]["actor"], "anna");
}

TEST_F(CliTlsTest, MutualTlsRefusesNoCertificateAndAnotherCasCertificate) {
  const CliResult without =
      RunOn(*mtls_, {"--tls-ca", Pki("ca.pem")}, {"area", "list"});
  EXPECT_EQ(without.exit_code, 1) << without;
  EXPECT_THAT(without.err, HasSubstr("TLS handshake failed")) << without;

  const CliResult mallory = RunOn(
      *mtls_,
      {"--tls-ca", Pki("ca.pem"), "--tls-cert", Pki("mallory.pem"), "--tls-key",
       Pki("mallory.key")},
      {"area", "register", "tls-m", "--title", "T", "--support-area", "S"});
  EXPECT_EQ(mallory.exit_code, 1) << mallory;
  EXPECT_THAT(mallory.err, HasSubstr("(UNAVAILABLE)")) << mallory;
}

TEST_F(CliTlsTest, SubscribersAndRequestSizesAreLimited) {
  const std::vector<std::string> env =
      Environment({.server = mtls_->address(), .token = ""});
  auto watch_as = [&](const std::string& who) {
    std::vector<std::string> args = As(who);
    args.insert(args.end(), {"watch", "--from-now"});
    return std::make_unique<Watch>(args, env);
  };
  auto admitted = [](Watch& watch) {
    return watch.ReadUntil([&](const std::vector<std::string>&) {
      return absl::StrContains(watch.err(), "caught up");
    });
  };
  // The limits: 1 per principal, 2 in all.
  std::unique_ptr<Watch> anna = watch_as("anna");
  ASSERT_TRUE(admitted(*anna)) << anna->err();
  std::vector<std::string> again = As("anna");
  again.insert(again.end(), {"watch", "--from-now"});
  const CliResult second = RunOn(*mtls_, {}, again, /*as_admin=*/false);
  EXPECT_EQ(second.exit_code, 1) << second;
  EXPECT_THAT(second.err,
              HasSubstr("anna has 1 open subscriptions, the limit per "
                        "principal"))
      << second;
  EXPECT_THAT(second.err, HasSubstr("(RESOURCE_EXHAUSTED)")) << second;

  std::unique_ptr<Watch> bob = watch_as("bob");
  ASSERT_TRUE(admitted(*bob)) << bob->err();
  std::vector<std::string> carl = As("carl");
  carl.insert(carl.end(), {"watch", "--from-now"});
  const CliResult third = RunOn(*mtls_, {}, carl, /*as_admin=*/false);
  EXPECT_EQ(third.exit_code, 1) << third;
  EXPECT_THAT(third.err, HasSubstr("max-subscribers")) << third;

  // A subscription that ends frees its place (released as the server sees
  // the call end: try until it does).
  EXPECT_EQ(anna->Interrupt(), 0);
  bool readmitted = false;
  for (int attempt = 0; attempt < 100 && !readmitted; ++attempt) {
    std::unique_ptr<Watch> retry = watch_as("carl");
    readmitted = admitted(*retry);
    if (readmitted) {
      EXPECT_EQ(retry->Interrupt(), 0);
    }
  }
  EXPECT_TRUE(readmitted);
  EXPECT_EQ(bob->Interrupt(), 0);

  // A request over --max-message-bytes is refused before it is read.
  const std::string big = TempPath("big.txt");
  std::ofstream(big) << std::string(2 << 20, 'x');
  std::vector<std::string> append = As("anna");
  append.insert(append.end(), {"events", "append", "ledger-big", "--type",
                               "Big", "--data-file", big});
  const CliResult too_big = RunOn(*mtls_, {}, append, /*as_admin=*/false);
  EXPECT_EQ(too_big.exit_code, 1) << too_big;
  EXPECT_THAT(too_big.err, HasSubstr("(RESOURCE_EXHAUSTED)")) << too_big;
}

TEST_F(CliTlsTest, PlaintextOffLoopbackAndBadCertificatesKeepTheServerDown) {
  const std::string data = TempPath("refused-data");
  const auto [status, err] =
      testing::RunPlantraild({"--data-dir", data, "--listen", "0.0.0.0:0"});
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << err;
  EXPECT_THAT(err, HasSubstr("0.0.0.0:0 is not a loopback address"));
  EXPECT_THAT(err, HasSubstr("--insecure-plaintext"));
  EXPECT_FALSE(std::filesystem::exists(data)) << "nothing may be opened";

  const auto [bad_status, bad_err] = testing::RunPlantraild(
      {"--data-dir", data, "--listen", "127.0.0.1:0", "--tls-cert",
       Pki("missing.pem"), "--tls-key", Pki("server.key")});
  EXPECT_TRUE(WIFEXITED(bad_status) && WEXITSTATUS(bad_status) == 1) << bad_err;
  EXPECT_THAT(bad_err, HasSubstr("--tls-cert: cannot read a PEM file"));

  const auto [ca_status, ca_err] =
      testing::RunPlantraild({"--data-dir", data, "--listen", "127.0.0.1:0",
                              "--tls-client-ca", Pki("ca.pem")});
  EXPECT_TRUE(WIFEXITED(ca_status) && WEXITSTATUS(ca_status) == 1) << ca_err;
  EXPECT_THAT(ca_err, HasSubstr("--tls-client-ca: mutual TLS needs"));
}

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
