// Follow-up rounds end to end, through the real plantraild over gRPC: who
// reported in time, late or not at all; a closed round answers the same
// whenever it is asked; a report naming a closed round is refused, also
// when it races the closing; later reports count for the next round.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "plantrail/v1/plan_events.pb.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"
#include "tests/e2e/grpc_reply.h"
#include "tests/e2e/server_test.h"

namespace plantrail {
namespace {

using ::plantrail::testing::Reply;
using ::plantrail::testing::Succeeded;

::testing::Matcher<const Reply<v1::CommandResult>&> Refused(
    grpc::StatusCode code, std::vector<std::string> parts) {
  return ::plantrail::testing::FailsWith(code, std::move(parts));
}

class FollowUpE2eTest : public plantrail::testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    queries_ = v1::PlanQueries::NewStub(channel_);
  }

  template <typename Request>
  Reply<v1::CommandResult> Send(const Request& request) {
    Reply<v1::CommandResult> reply;
    reply.status = Invoke(Context().get(), request, &reply.response);
    if (reply.status.ok()) {
      last_position_ = std::max(last_position_, reply.response.position());
    }
    return reply;
  }

  template <typename Request>
  v1::CommandResult Do(const Request& request) {
    Reply<v1::CommandResult> reply = Send(request);
    EXPECT_THAT(reply, Succeeded()) << request.ShortDebugString();
    return reply.response;
  }

  // Plan "pitea-2017" with areas 1..4 (1 and 2 in support area "A", 3 and
  // 4 in "B").
  void RegisterPlan() {
    v1::RegisterPlanRequest plan;
    plan.set_plan_id("pitea-2017");
    plan.mutable_fields()->set_title("Åtgärdsplan grundskolans ledning");
    plan.mutable_fields()->set_followed_up_by("Barn- och utbildningsnämnden");
    Do(plan);
    for (const char* id : {"1", "2", "3", "4"}) {
      v1::RegisterAreaRequest area;
      area.set_plan_id("pitea-2017");
      area.set_area_id(id);
      area.set_title(absl::StrCat("Area ", id));
      area.set_support_area(std::string(id) < "3" ? "A" : "B");
      area.set_planned_end("mars 2018");
      Do(area);
    }
  }

  v1::ReportStatusRequest Report(const std::string& area_id,
                                 const std::string& reported_on,
                                 const std::string& round_id) {
    v1::ReportStatusRequest report;
    report.set_plan_id("pitea-2017");
    report.set_area_id(area_id);
    report.set_phase(v1::PHASE_IN_PROGRESS);
    report.set_health(v1::HEALTH_ON_TRACK);
    report.set_narrative(absl::StrCat("Report of ", area_id));
    report.set_reported_on(reported_on);
    report.set_round_id(round_id);
    return report;
  }

  v1::OpenFollowUpRequest Open(const std::string& round_id,
                               const std::string& report_date) {
    v1::OpenFollowUpRequest open;
    open.set_plan_id("pitea-2017");
    open.set_round_id(round_id);
    open.set_title(absl::StrCat("Återrapport ", round_id));
    open.set_report_date(report_date);
    return open;
  }

  v1::CloseFollowUpRequest Close(const std::string& round_id) {
    v1::CloseFollowUpRequest close;
    close.set_plan_id("pitea-2017");
    close.set_round_id(round_id);
    return close;
  }

  Reply<v1::GetFollowUpResponse> GetFollowUp(const std::string& round_id) {
    v1::GetFollowUpRequest request;
    request.set_plan_id("pitea-2017");
    request.set_round_id(round_id);
    request.set_min_position(last_position_);
    Reply<v1::GetFollowUpResponse> reply;
    reply.status =
        queries_->GetFollowUp(Context().get(), request, &reply.response);
    return reply;
  }

  // The report state per area id.
  static std::map<std::string, v1::RoundReport> States(
      const v1::GetFollowUpResponse& round) {
    std::map<std::string, v1::RoundReport> states;
    for (const v1::FollowUpArea& area : round.areas()) {
      states[area.area_id()] = area.report();
    }
    return states;
  }

  std::unique_ptr<v1::PlanQueries::Stub> queries_;
  uint64_t last_position_ = 0;
};

TEST_F(FollowUpE2eTest, InTimeLateMissingClosedAndFrozenAtClosing) {
  RegisterPlan();
  // Before the first round opens: not a report for it.
  Do(Report("3", "2018-01-02", ""));
  const v1::CommandResult opened = Do(Open("2018-01", "2018-01-10"));
  EXPECT_EQ(opened.stream_id(), "plan-pitea-2017");
  EXPECT_EQ(opened.event_type(), "FollowUpOpened");
  Do(Report("1", "2018-01-10", "2018-01"));
  // Without naming the round, dated after its report date: late.
  Do(Report("2", "2018-01-20", ""));
  v1::CloseAreaRequest close_area;
  close_area.set_plan_id("pitea-2017");
  close_area.set_area_id("4");
  close_area.set_outcome(v1::OUTCOME_COMPLETED);
  close_area.set_reason("Done");
  Do(close_area);

  const Reply<v1::GetFollowUpResponse> open = GetFollowUp("2018-01");
  ASSERT_THAT(open, Succeeded());
  EXPECT_FALSE(open.response.round().closed());
  using M = std::map<std::string, v1::RoundReport>;
  EXPECT_EQ(States(open.response), (M{{"1", v1::ROUND_REPORT_IN_TIME},
                                      {"2", v1::ROUND_REPORT_LATE},
                                      {"3", v1::ROUND_REPORT_MISSING},
                                      {"4", v1::ROUND_REPORT_CLOSED}}));
  EXPECT_EQ(open.response.summary().expected(), 4u);
  EXPECT_EQ(open.response.summary().missing(), 1u);
  // By support area, then area id.
  ASSERT_EQ(open.response.areas_size(), 4);
  EXPECT_EQ(open.response.areas(0).area().support_area(), "A");
  EXPECT_EQ(open.response.areas(2).area_id(), "3");
  EXPECT_EQ(open.response.areas(0).latest_report().narrative(), "Report of 1");
  EXPECT_EQ(open.response.areas(0).latest_report().round_id(), "2018-01");

  const v1::CommandResult closed = Do(Close("2018-01"));
  const Reply<v1::GetFollowUpResponse> frozen = GetFollowUp("2018-01");
  ASSERT_THAT(frozen, Succeeded());
  EXPECT_TRUE(frozen.response.round().closed());
  EXPECT_EQ(frozen.response.position(), closed.position());
  EXPECT_EQ(frozen.response.round().closed_position(), closed.position());
  // The chain hash it states is the log's at that position.
  v1::GetDigestRequest digest_request;
  digest_request.set_position(closed.position());
  v1::GetDigestResponse digest;
  ASSERT_TRUE(admin_->GetDigest(Context().get(), digest_request, &digest).ok());
  EXPECT_EQ(frozen.response.chain_hash(),
            absl::BytesToHexString(digest.digest().head_hash()));

  // A report naming the closed round is refused with its rule.
  EXPECT_THAT(Send(Report("3", "2018-01-30", "2018-01")),
              Refused(grpc::StatusCode::FAILED_PRECONDITION,
                      {"round_id", "[rule: closed-round-is-frozen]"}));
  // Later reports, a slip and a renamed plan change nothing of it.
  Do(Report("3", "2018-05-30", ""));
  v1::ReviseScheduleRequest slip;
  slip.set_plan_id("pitea-2017");
  slip.set_area_id("1");
  slip.set_planned_end("oktober 2018");
  slip.set_reason("The system rollout is late");
  Do(slip);
  v1::RevisePlanRequest rename;
  rename.set_plan_id("pitea-2017");
  rename.mutable_fields()->set_title("Renamed later");
  rename.set_reason("A new name");
  Do(rename);
  const Reply<v1::GetFollowUpResponse> again = GetFollowUp("2018-01");
  ASSERT_THAT(again, Succeeded());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      frozen.response, again.response))
      << again.response.ShortDebugString();
  EXPECT_EQ(again.response.plan().title(), "Åtgärdsplan grundskolans ledning");

  // The next round: every area open when it opened; area 3's report since
  // the previous round closed counts for it; area 1's slip shows.
  Do(Open("2018-06", "2018-06-15"));
  const Reply<v1::GetFollowUpResponse> next = GetFollowUp("");
  ASSERT_THAT(next, Succeeded());
  EXPECT_EQ(next.response.round().round_id(), "2018-06");
  EXPECT_EQ(next.response.previous_round().round_id(), "2018-01");
  EXPECT_EQ(next.response.since_position(), closed.position());
  EXPECT_EQ(States(next.response), (M{{"1", v1::ROUND_REPORT_MISSING},
                                      {"2", v1::ROUND_REPORT_MISSING},
                                      {"3", v1::ROUND_REPORT_IN_TIME}}));
  ASSERT_TRUE(next.response.areas(0).has_changes());
  EXPECT_EQ(next.response.areas(0).changes().end_after().text(),
            "oktober 2018");
  EXPECT_GT(next.response.areas(0).changes().end_moved_days(), 0);
  EXPECT_EQ(next.response.summary().changed(), 2u);  // 1 slipped, 3 reported

  // Rounds are the plan's: GetPlan lists them.
  v1::GetPlanRequest get_plan;
  get_plan.set_plan_id("pitea-2017");
  get_plan.set_min_position(last_position_);
  v1::GetPlanResponse plan;
  ASSERT_TRUE(queries_->GetPlan(Context().get(), get_plan, &plan).ok());
  ASSERT_EQ(plan.plan().rounds_size(), 2);
  EXPECT_TRUE(plan.plan().rounds(0).closed());
  EXPECT_FALSE(plan.plan().rounds(1).closed());
}

TEST_F(FollowUpE2eTest, RefusalsNameTheirRule) {
  RegisterPlan();
  Do(Open("2018-01", "2018-01-10"));
  EXPECT_THAT(Send(Open("2018-06", "2018-06-15")),
              Refused(grpc::StatusCode::FAILED_PRECONDITION,
                      {"round_id", "[rule: one-open-round]"}));
  EXPECT_THAT(Send(Report("1", "2018-01-10", "2017-12")),
              Refused(grpc::StatusCode::NOT_FOUND,
                      {"round_id", "[rule: round-exists]"}));
  EXPECT_THAT(Send(Close("2017-12")),
              Refused(grpc::StatusCode::NOT_FOUND,
                      {"round_id", "[rule: round-exists]"}));
  const Reply<v1::GetFollowUpResponse> unknown = GetFollowUp("2017-12");
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(unknown.status.error_message(), ::testing::HasSubstr("round_id"));
}

// Reports naming the round race its closing: each is either before the
// closing in the log, or refused; none lands after it.
TEST_F(FollowUpE2eTest, AReportNeverLandsInARoundAfterItClosed) {
  RegisterPlan();
  Do(Open("2018-01", "2018-01-10"));
  std::atomic<bool> stop = false;
  std::atomic<int> accepted = 0;
  std::atomic<int> refused = 0;
  std::vector<std::thread> reporters;
  for (const char* id : {"1", "2", "3"}) {
    reporters.emplace_back([&, area = std::string(id)] {
      auto stub = v1::PlanCommands::NewStub(channel_);
      while (!stop) {
        v1::CommandResult result;
        const grpc::Status status = stub->ReportStatus(
            Context().get(), Report(area, "2018-01-10", "2018-01"), &result);
        if (status.ok()) {
          ++accepted;
        } else {
          EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
              << status.error_message();
          ++refused;
          return;  // closed: the round stays closed
        }
      }
    });
  }
  while (accepted < 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const v1::CommandResult closed = Do(Close("2018-01"));
  stop = true;
  for (std::thread& reporter : reporters) reporter.join();
  EXPECT_GE(accepted, 10);
  size_t naming = 0;
  for (const char* id : {"1", "2", "3"}) {
    for (const v1::RecordedEvent& event :
         ReadStream(absl::StrCat("area-pitea-2017:", id))) {
      if (event.type() != "StatusReported") continue;
      v1::StatusReported report;
      ASSERT_TRUE(report.ParseFromString(event.payload()));
      if (report.report().round_id() != "2018-01") continue;
      ++naming;
      EXPECT_LT(event.position(), closed.position());
    }
  }
  EXPECT_EQ(naming, static_cast<size_t>(accepted.load()));
}

}  // namespace
}  // namespace plantrail
