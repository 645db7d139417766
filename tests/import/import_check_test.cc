// The import's check: the server's rules, decided on the server's state in
// the order the import sends, with refusals that cascade to the rows that
// need a refused row, and nothing counted twice on a second run.
#include "import/import_check.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::plan_import {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

class FakeView : public PlanView {
 public:
  absl::StatusOr<StreamSnapshot> Stream(const std::string& stream_id) override {
    ++reads[stream_id];
    auto it = streams.find(stream_id);
    return it == streams.end() ? StreamSnapshot() : it->second;
  }
  std::map<std::string, StreamSnapshot> streams;
  std::map<std::string, int> reads;
};

const absl::Time kNow =
    absl::FromCivil(absl::CivilDay(2024, 1, 15), absl::UTCTimeZone());

ImportedPlan Csv(const std::string& text) {
  absl::StatusOr<ImportedPlan> plan = ParsePlanCsv(text);
  EXPECT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->problems, IsEmpty());
  return *plan;
}

constexpr char kHeader[] =
    "record,id,title,support_area,dependencies,planned_start,planned_end,"
    "reported_on,phase,health,note,next_report,reference,body,date,areas\n";

TEST(ImportCheckTest, AValidPlanPassesAndEveryCommandIsToBeSent) {
  FakeView view;
  const ImportedPlan plan = Csv(absl::StrCat(
      kHeader,
      // Depends on an area defined later in the file: registrations go first.
      "area,a,A,S,b,2023,2024,,,,,,,,,\n"
      "report,a,,,,,,2023-06-01,in progress,on track,ok,HT23,,,,\n"
      "area,b,B,S,,2023,HT24,,,,,,,,,\n"
      "decision,,Adopted,,,,,,,,,,V-1,board,2023-01-10,a;b\n"));
  const absl::StatusOr<ImportVerdict> verdict = CheckImport(plan, view, kNow);
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  for (const std::string& refusal : verdict->refusals) {
    EXPECT_EQ(refusal, "");
  }
  EXPECT_EQ(verdict->commands_to_send, 5);
  EXPECT_EQ(verdict->commands_already_done, 0);
  // Each stream is read once.
  for (const auto& [stream, reads] : view.reads) EXPECT_EQ(reads, 1) << stream;
}

TEST(ImportCheckTest, ARefusedRowTakesTheRowsThatNeedItWithIt) {
  FakeView view;
  const ImportedPlan plan = Csv(absl::StrCat(
      kHeader,
      "area,bad,Ends before it starts,S,,2025,2023,,,,,,,,,\n"  // line 2
      "report,bad,,,,,,2023-06-01,in progress,on track,x,,,,,\n"
      "area,needs-bad,N,S,bad,,,,,,,,,,,\n"
      "decision,,D,,,,,,,,,,V-2,board,2023-01-10,bad;fine\n"
      "area,fine,F,S,,,,,,,,,,,,\n"));
  const absl::StatusOr<ImportVerdict> verdict = CheckImport(plan, view, kNow);
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  ASSERT_EQ(verdict->refusals.size(), 5);
  EXPECT_THAT(verdict->refusals[0], HasSubstr("planned_end"));
  EXPECT_THAT(verdict->refusals[1], HasSubstr("\"bad\" is not registered"));
  EXPECT_THAT(verdict->refusals[2], HasSubstr("bad"));
  EXPECT_THAT(verdict->refusals[3], HasSubstr("bad"));
  EXPECT_EQ(verdict->refusals[4], "");
  EXPECT_EQ(verdict->commands_to_send, 1);
}

TEST(ImportCheckTest, ARowRefusedAfterItsRegistrationIsWithdrawnWhole) {
  // The JSON row registers the area, then a report breaks a rule: the area
  // is not registered either, and the decision naming it fails with it.
  FakeView view;
  absl::StatusOr<ImportedPlan> plan = ParsePlanJson(R"({
    "areas": [
      {"id": "x", "title": "X", "support_area": "S",
       "reports": [{"reported_on": "2023-06-01", "phase": "in progress",
                    "health": "on track", "note": "n",
                    "next_report": "2023-01-01"}]},
      {"id": "y", "title": "Y", "support_area": "S"}
    ],
    "decisions": [{"reference": "V-3", "body": "b", "date": "2023-02-01",
                   "title": "t", "areas": ["x", "y"]}]
  })");
  ASSERT_TRUE(plan.ok()) << plan.status();
  const absl::StatusOr<ImportVerdict> verdict = CheckImport(*plan, view, kNow);
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_THAT(verdict->refusals[0], HasSubstr("next_report"));
  EXPECT_EQ(verdict->refusals[1], "");
  EXPECT_THAT(verdict->refusals[2], HasSubstr("\"x\""));
  EXPECT_EQ(verdict->commands_to_send, 1);
}

TEST(ImportCheckTest, WhatTheServerAlreadyHasIsNotSentAgain) {
  const ImportedPlan plan = Csv(
      absl::StrCat(kHeader, "area,a,A,S,,2023,2024,,,,,,,,,\n",
                   "report,a,,,,,,2023-06-01,in progress,on track,ok,,,,,\n"));
  // The server holds the area from an earlier run of the same import.
  FakeView view;
  StreamSnapshot& stream = view.streams["area-a"];
  stream.area.set_area_id("a");
  stream.area.set_version(2);
  for (const ImportRow& row : plan.rows) {
    for (const ImportCommand& command : row.commands) {
      std::visit(
          [&](const auto& request) {
            stream.command_ids.insert(request.options().command_id());
          },
          command);
    }
  }
  const absl::StatusOr<ImportVerdict> verdict = CheckImport(plan, view, kNow);
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(verdict->refusals[0], "");
  EXPECT_EQ(verdict->refusals[1], "");
  EXPECT_EQ(verdict->commands_to_send, 0);
  EXPECT_EQ(verdict->commands_already_done, 2);

  // Registered by someone else (other command ids): the registration is
  // refused, as the server would refuse it.
  stream.command_ids.clear();
  const absl::StatusOr<ImportVerdict> again = CheckImport(plan, view, kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(again->refusals[0], HasSubstr("already registered"));
  EXPECT_EQ(again->refusals[1], "");  // the report fits the existing area
}

}  // namespace
}  // namespace plantrail::plan_import
