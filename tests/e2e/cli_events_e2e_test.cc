// The CLI end to end, the log below the plan: `watch` (live, resumed,
// filtered, in a consumer group) and the `events` commands. Apart from
// cli_e2e_test.cc (the plan's commands), one feature a file; the same
// binary, e2e_cli_test.
#include "tests/e2e/cli_harness.h"
#include "tests/e2e/cli_watch.h"

namespace plantrail {
namespace {

using namespace ::plantrail::cli_testing;  // NOLINT: the harness is this file's
                                           // vocabulary

// --- watch ----------------------------------------------------------------

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

}  // namespace
}  // namespace plantrail
