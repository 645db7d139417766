// Plans end to end: several plans on one server, each with its own areas,
// decisions, portfolio and history, through the real plantraild over gRPC.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "plantrail/v1/plan_events.pb.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"
#include "tests/e2e/grpc_reply.h"
#include "tests/e2e/server_test.h"

namespace plantrail {
namespace {

using ::plantrail::testing::FailsWith;
using ::plantrail::testing::Reply;
using ::plantrail::testing::Succeeded;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

::testing::Matcher<const Reply<v1::CommandResult>&> Refused(
    grpc::StatusCode code, std::vector<std::string> parts) {
  return FailsWith(code, std::move(parts));
}

class PlansE2eTest : public plantrail::testing::ServerTest {
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

  v1::CommandResult RegisterPlan(const std::string& plan_id,
                                 const std::string& title,
                                 bool adopt_unplanned = false) {
    v1::RegisterPlanRequest request;
    request.set_plan_id(plan_id);
    request.mutable_fields()->set_title(title);
    request.mutable_fields()->set_organisation("KTH");
    request.mutable_fields()->set_reference("V-2022-0218");
    request.mutable_fields()->set_decided_by("Universitetsdirektören");
    request.mutable_fields()->set_decided_on("2023-04-05");
    request.mutable_fields()->set_period("2023-2025");
    request.set_adopt_unplanned(adopt_unplanned);
    return Do(request);
  }

  Reply<v1::CommandResult> RegisterArea(const std::string& plan_id,
                                        const std::string& area_id,
                                        const std::string& title,
                                        const std::string& planned_start = "",
                                        const std::string& planned_end = "") {
    v1::RegisterAreaRequest request;
    request.set_plan_id(plan_id);
    request.set_area_id(area_id);
    request.set_title(title);
    request.set_support_area("3.1");
    request.set_planned_start(planned_start);
    request.set_planned_end(planned_end);
    return Send(request);
  }

  template <typename Request>
  Request At(const std::string& plan_id, const std::string& area_id) {
    Request request;
    request.set_plan_id(plan_id);
    request.set_area_id(area_id);
    return request;
  }

  Reply<v1::GetAreaResponse> GetArea(const std::string& plan_id,
                                     const std::string& area_id) {
    v1::GetAreaRequest request = At<v1::GetAreaRequest>(plan_id, area_id);
    request.set_min_position(last_position_);
    Reply<v1::GetAreaResponse> reply;
    reply.status = queries_->GetArea(Context().get(), request, &reply.response);
    return reply;
  }

  std::vector<std::string> ListAreaNames(const std::string& plan_id) {
    v1::ListAreasRequest request;
    request.set_plan_id(plan_id);
    request.set_min_position(last_position_);
    v1::ListAreasResponse response;
    const grpc::Status status =
        queries_->ListAreas(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> names;
    for (const v1::AreaState& area : response.areas()) {
      names.push_back(area.name());
    }
    return names;
  }

  std::vector<std::string> HistoryTypes(const std::string& plan_id,
                                        const std::string& area_id) {
    v1::GetHistoryRequest request = At<v1::GetHistoryRequest>(plan_id, area_id);
    request.set_oldest_first(true);
    request.set_min_position(last_position_);
    v1::GetHistoryResponse response;
    const grpc::Status status =
        queries_->GetHistory(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> types;
    for (const v1::HistoryEntry& entry : response.entries()) {
      types.push_back(entry.event_type());
    }
    return types;
  }

  uint64_t Head() {
    v1::GetStatsResponse stats;
    EXPECT_TRUE(admin_->GetStats(Context().get(), {}, &stats).ok());
    return stats.head_position();
  }

  std::unique_ptr<v1::PlanQueries::Stub> queries_;
  uint64_t last_position_ = 0;
};

TEST_F(PlansE2eTest, TwoPlansWithTheSameAreaIdsLiveSideBySide) {
  EXPECT_EQ(RegisterPlan("kth-vs-2023", "Administrativt stöd").stream_id(),
            "plan-kth-vs-2023");
  RegisterPlan("kth-ls-2023", "Ledningsstöd");
  const Reply<v1::CommandResult> vs =
      RegisterArea("kth-vs-2023", "3.1", "Inresande studenter");
  ASSERT_THAT(vs, Succeeded());
  EXPECT_EQ(vs.response.stream_id(), "area-kth-vs-2023:3.1");
  const Reply<v1::CommandResult> ls =
      RegisterArea("kth-ls-2023", "3.1", "Ledningens stöd");
  ASSERT_THAT(ls, Succeeded());
  EXPECT_EQ(ls.response.stream_id(), "area-kth-ls-2023:3.1");
  // The same id twice in one plan is still once.
  EXPECT_THAT(RegisterArea("kth-vs-2023", "3.1", "Again"),
              Refused(grpc::StatusCode::ALREADY_EXISTS,
                      {"area_id", "[rule: register-once]"}));

  auto report = At<v1::ReportStatusRequest>("kth-ls-2023", "3.1");
  report.set_phase(v1::PHASE_IN_PROGRESS);
  report.set_health(v1::HEALTH_AT_RISK);
  report.set_narrative("Behind");
  Do(report);
  v1::RecordDecisionRequest decision;
  decision.set_plan_id("kth-ls-2023");
  decision.set_reference("V-2023-0001");
  decision.set_body("Rektor");
  decision.set_decided_on("2023-05-01");
  decision.set_title("Ledningsstöd prioriteras");
  decision.add_area_ids("3.1");
  EXPECT_EQ(Do(decision).stream_id(),
            "decision-kth-ls-2023:V-2023-0001-2023-05-01");

  const Reply<v1::GetAreaResponse> vs_area = GetArea("kth-vs-2023", "3.1");
  ASSERT_THAT(vs_area, Succeeded());
  EXPECT_EQ(vs_area.response.area().title(), "Inresande studenter");
  EXPECT_EQ(vs_area.response.area().plan_id(), "kth-vs-2023");
  EXPECT_EQ(vs_area.response.area().name(), "plans/kth-vs-2023/areas/3.1");
  EXPECT_EQ(vs_area.response.area().health(), v1::HEALTH_UNKNOWN);
  const Reply<v1::GetAreaResponse> ls_area = GetArea("kth-ls-2023", "3.1");
  ASSERT_THAT(ls_area, Succeeded());
  EXPECT_EQ(ls_area.response.area().title(), "Ledningens stöd");
  EXPECT_EQ(ls_area.response.area().health(), v1::HEALTH_AT_RISK);

  EXPECT_THAT(ListAreaNames("kth-vs-2023"),
              ElementsAre("plans/kth-vs-2023/areas/3.1"));
  EXPECT_THAT(ListAreaNames(""),
              UnorderedElementsAre("plans/kth-vs-2023/areas/3.1",
                                   "plans/kth-ls-2023/areas/3.1"));
  // Each history is its own plan's, the decision in its plan's only.
  EXPECT_THAT(HistoryTypes("kth-vs-2023", "3.1"),
              ElementsAre("AreaRegistered"));
  EXPECT_THAT(
      HistoryTypes("kth-ls-2023", "3.1"),
      ElementsAre("AreaRegistered", "StatusReported", "DecisionRecorded"));

  v1::ListDecisionsRequest decisions;
  decisions.set_plan_id("kth-vs-2023");
  decisions.set_min_position(last_position_);
  v1::ListDecisionsResponse listed;
  ASSERT_TRUE(
      queries_->ListDecisions(Context().get(), decisions, &listed).ok());
  EXPECT_EQ(listed.decisions_size(), 0);
  decisions.set_plan_id("kth-ls-2023");
  ASSERT_TRUE(
      queries_->ListDecisions(Context().get(), decisions, &listed).ok());
  ASSERT_EQ(listed.decisions_size(), 1);
  EXPECT_EQ(listed.decisions(0).plan_id(), "kth-ls-2023");

  v1::GetPortfolioRequest portfolio;
  portfolio.set_plan_id("kth-ls-2023");
  portfolio.set_min_position(last_position_);
  v1::GetPortfolioResponse counts;
  ASSERT_TRUE(queries_->GetPortfolio(Context().get(), portfolio, &counts).ok());
  EXPECT_EQ(counts.overall().areas(), 1u);
  EXPECT_EQ(counts.overall().by_health().at("HEALTH_AT_RISK"), 1u);

  v1::GetPlanRequest get_plan;
  get_plan.set_plan_id("kth-ls-2023");
  get_plan.set_min_position(last_position_);
  v1::GetPlanResponse plan;
  ASSERT_TRUE(queries_->GetPlan(Context().get(), get_plan, &plan).ok());
  EXPECT_EQ(plan.plan().title(), "Ledningsstöd");
  EXPECT_EQ(plan.plan().organisation(), "KTH");
  EXPECT_EQ(plan.plan().decided_on().text(), "2023-04-05");
  EXPECT_EQ(plan.plan().period_start().year(), 2023);
  EXPECT_EQ(plan.plan().period_end().year(), 2025);
  EXPECT_EQ(plan.portfolio().areas(), 1u);
  EXPECT_EQ(plan.decisions(), 1u);

  v1::ListPlansRequest list_plans;
  list_plans.set_min_position(last_position_);
  v1::ListPlansResponse plans;
  ASSERT_TRUE(queries_->ListPlans(Context().get(), list_plans, &plans).ok());
  ASSERT_EQ(plans.plans_size(), 2);
  EXPECT_EQ(plans.plans(0).plan_id(), "kth-ls-2023");
  EXPECT_EQ(plans.plans(1).name(), "plans/kth-vs-2023");
}

TEST_F(PlansE2eTest, AnEmptyPlanIdIsTheOnlyPlanAndRequiredWithSeveral) {
  RegisterPlan("kth-vs-2023", "Administrativt stöd");
  const Reply<v1::CommandResult> only = RegisterArea("", "1", "One");
  ASSERT_THAT(only, Succeeded());
  EXPECT_EQ(only.response.stream_id(), "area-kth-vs-2023:1");
  EXPECT_THAT(GetArea("", "1"), Succeeded());

  RegisterPlan("pitea-2017", "Skolledarskap");
  EXPECT_THAT(RegisterArea("", "2", "Two"),
              Refused(grpc::StatusCode::INVALID_ARGUMENT,
                      {"plan_id", "kth-vs-2023", "pitea-2017",
                       "[rule: plan-required]"}));
  EXPECT_THAT(
      GetArea("", "1"),
      FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                std::vector<std::string>{"plan_id", "[rule: plan-required]"}));
  EXPECT_THAT(RegisterArea("no-such-plan", "2", "Two"),
              Refused(grpc::StatusCode::NOT_FOUND,
                      {"plan_id", "no-such-plan", "[rule: plan-exists]"}));
  EXPECT_THAT(RegisterArea("bad plan", "2", "Two"),
              Refused(grpc::StatusCode::INVALID_ARGUMENT, {"plan_id"}));
  EXPECT_THAT(GetArea("pitea-2017", "1"),
              FailsWith(grpc::StatusCode::NOT_FOUND,
                        std::vector<std::string>{"area_id", "\"1\""}));
}

TEST_F(PlansE2eTest, ClosingAPlanWithOpenAreasIsRefusedAndNamesThem) {
  RegisterPlan("pitea-2017", "Skolledarskap");
  ASSERT_THAT(RegisterArea("pitea-2017", "A1", "Rektorernas uppdrag"),
              Succeeded());
  ASSERT_THAT(RegisterArea("pitea-2017", "A2", "Stöd till rektorer"),
              Succeeded());
  auto close_area = At<v1::CloseAreaRequest>("pitea-2017", "A1");
  close_area.set_outcome(v1::OUTCOME_COMPLETED);
  close_area.set_reason("Klart");
  Do(close_area);

  const uint64_t head = Head();
  v1::ClosePlanRequest close;
  close.set_plan_id("pitea-2017");
  close.set_reason("Planperioden är slut");
  EXPECT_THAT(Send(close), Refused(grpc::StatusCode::FAILED_PRECONDITION,
                                   {"plan_id", "1 open area", "\"A2\"",
                                    "[rule: close-plan-with-areas-closed]"}));
  EXPECT_EQ(Head(), head) << "a refused close writes nothing";

  close_area.set_area_id("A2");
  close_area.set_outcome(v1::OUTCOME_CANCELLED);
  Do(close_area);
  EXPECT_EQ(Do(close).stream_id(), "plan-pitea-2017");
  // A closed plan is settled: no new areas, no changes, until reopened.
  EXPECT_THAT(RegisterArea("pitea-2017", "A3", "Ny"),
              Refused(grpc::StatusCode::FAILED_PRECONDITION,
                      {"plan_id", "[rule: closed-plan-is-settled]"}));
  EXPECT_THAT(Send(close), Refused(grpc::StatusCode::FAILED_PRECONDITION,
                                   {"[rule: close-once]"}));
  v1::ReopenPlanRequest reopen;
  reopen.set_plan_id("pitea-2017");
  reopen.set_reason("Förlängd");
  Do(reopen);
  EXPECT_THAT(RegisterArea("pitea-2017", "A3", "Ny"), Succeeded());
}

TEST_F(PlansE2eTest, ClosingAPlanClosesTheAreasItNamesInTheSameCommit) {
  RegisterPlan("kth-vs-2023", "Verksamhetsstöd");
  for (const char* area : {"3.1", "3.2", "3.3"}) {
    ASSERT_THAT(RegisterArea("kth-vs-2023", area, "Område"), Succeeded());
  }
  auto close_area = At<v1::CloseAreaRequest>("kth-vs-2023", "3.3");
  close_area.set_outcome(v1::OUTCOME_COMPLETED);
  close_area.set_reason("Klart");
  Do(close_area);

  v1::ClosePlanRequest close;
  close.set_plan_id("kth-vs-2023");
  close.set_reason("Ersatt av 2026 års plan");
  close.mutable_options()->set_command_id("close-kth-vs-2023");
  auto closure = [&](const std::string& area_id, v1::Outcome outcome) {
    v1::AreaClosure* added = close.add_close_areas();
    added->set_area_id(area_id);
    added->set_outcome(outcome);
    added->set_outcome_text("Flyttat till 2026 års plan");
  };
  const uint64_t head = Head();
  // One open area left out: refused, naming it, nothing written.
  closure("3.1", v1::OUTCOME_COMPLETED);
  EXPECT_THAT(Send(close), Refused(grpc::StatusCode::FAILED_PRECONDITION,
                                   {"1 open area", "\"3.2\"", "close_areas",
                                    "[rule: close-plan-with-areas-closed]"}));
  // An area that is closed already, or not the plan's, or named twice.
  v1::ClosePlanRequest wrong = close;
  wrong.add_close_areas()->set_area_id("3.3");
  EXPECT_THAT(Send(wrong),
              Refused(grpc::StatusCode::FAILED_PRECONDITION,
                      {"close_areas[1].area_id", "not an open area",
                       "[rule: close-plan-closes-open-areas]"}));
  wrong = close;
  wrong.add_close_areas()->set_area_id("3.1");
  EXPECT_THAT(Send(wrong), Refused(grpc::StatusCode::INVALID_ARGUMENT,
                                   {"close_areas[1].area_id", "twice"}));
  // The last area's outcome breaks CloseArea's rule: the plan and the
  // first area stay open too.
  closure("3.2", v1::OUTCOME_UNSPECIFIED);
  EXPECT_THAT(Send(close),
              Refused(grpc::StatusCode::INVALID_ARGUMENT,
                      {"close_areas[1].outcome", "[rule: outcome-required]"}));
  EXPECT_EQ(Head(), head) << "a refused close writes nothing";

  close.mutable_close_areas(1)->set_outcome(v1::OUTCOME_CANCELLED);
  const v1::CommandResult closed = Do(close);
  EXPECT_EQ(closed.stream_id(), "plan-kth-vs-2023");
  EXPECT_EQ(closed.event_type(), "PlanClosed");
  ASSERT_EQ(closed.also_written_size(), 2);
  EXPECT_EQ(closed.also_written(0).stream_id(), "area-kth-vs-2023:3.1");
  EXPECT_EQ(closed.also_written(0).event_type(), "AreaClosed");
  EXPECT_EQ(closed.also_written(1).stream_id(), "area-kth-vs-2023:3.2");
  // One commit: the three events sit at consecutive positions.
  EXPECT_EQ(closed.also_written(0).position(), closed.position() + 1);
  EXPECT_EQ(closed.also_written(1).position(), closed.position() + 2);
  last_position_ = closed.also_written(1).position();
  EXPECT_EQ(Head(), head + 3);

  Reply<v1::GetAreaResponse> first = GetArea("kth-vs-2023", "3.1");
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  EXPECT_TRUE(first.response.area().closed());
  EXPECT_EQ(first.response.area().outcome(), v1::OUTCOME_COMPLETED);
  EXPECT_EQ(first.response.area().outcome_text(), "Flyttat till 2026 års plan");
  Reply<v1::GetAreaResponse> second = GetArea("kth-vs-2023", "3.2");
  ASSERT_TRUE(second.status.ok());
  EXPECT_EQ(second.response.area().outcome(), v1::OUTCOME_CANCELLED);
  EXPECT_THAT(HistoryTypes("kth-vs-2023", "3.2"),
              ElementsAre("AreaRegistered", "AreaClosed"));

  // A retry with the same command id writes nothing again.
  const v1::CommandResult retry = Do(close);
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.position(), closed.position());
  EXPECT_EQ(Head(), head + 3);
}

TEST_F(PlansE2eTest, ADecisionMayNameAreasOfOtherPlans) {
  RegisterPlan("kth-vs-2023", "Verksamhetsstöd");
  RegisterPlan("kth-ls-2023", "Ledningsstöd");
  ASSERT_THAT(RegisterArea("kth-vs-2023", "1", "Ett"), Succeeded());
  ASSERT_THAT(RegisterArea("kth-ls-2023", "1", "Ett, ledningsstöd"),
              Succeeded());
  v1::RecordDecisionRequest decision;
  decision.set_plan_id("kth-vs-2023");
  decision.set_decision_id("ledningsradet-2024-03");
  decision.set_reference("V-2024-0101");
  decision.set_body("Ledningsrådet");
  decision.set_decided_on("2024-03-12");
  decision.set_title("Samordna område 1 i båda planerna");
  decision.add_area_ids("1");
  auto name_other = [](v1::RecordDecisionRequest& request,
                       const std::string& plan_id, const std::string& area_id) {
    v1::AreaRef* other = request.add_other_plan_areas();
    other->set_plan_id(plan_id);
    other->set_area_id(area_id);
  };

  const uint64_t head = Head();
  v1::RecordDecisionRequest wrong = decision;
  name_other(wrong, "kth-vs-2023", "1");
  EXPECT_THAT(Send(wrong),
              Refused(grpc::StatusCode::INVALID_ARGUMENT,
                      {"other_plan_areas[0].plan_id",
                       "[rule: other-plan-areas-are-other-plans]"}));
  wrong = decision;
  name_other(wrong, "kth-ls-2023", "9");
  EXPECT_THAT(Send(wrong), Refused(grpc::StatusCode::NOT_FOUND,
                                   {"other_plan_areas[0]", "\"9\"",
                                    "[rule: decision-on-known-areas]"}));
  wrong = decision;
  name_other(wrong, "no-such-plan", "1");
  EXPECT_THAT(Send(wrong),
              Refused(grpc::StatusCode::NOT_FOUND, {"other_plan_areas[0]"}));
  wrong = decision;
  name_other(wrong, "kth-ls-2023", "1");
  name_other(wrong, "kth-ls-2023", "1");
  EXPECT_THAT(Send(wrong), Refused(grpc::StatusCode::INVALID_ARGUMENT,
                                   {"other_plan_areas[1]", "twice"}));
  EXPECT_EQ(Head(), head) << "a refused decision writes nothing";

  name_other(decision, "kth-ls-2023", "1");
  EXPECT_EQ(Do(decision).stream_id(),
            "decision-kth-vs-2023:ledningsradet-2024-03");
  // It shows in the history of the areas of both plans.
  EXPECT_THAT(HistoryTypes("kth-vs-2023", "1"),
              ElementsAre("AreaRegistered", "DecisionRecorded"));
  EXPECT_THAT(HistoryTypes("kth-ls-2023", "1"),
              ElementsAre("AreaRegistered", "DecisionRecorded"));
  // It belongs to its own plan, and concerns the other plan's area.
  v1::ListDecisionsRequest list;
  list.set_min_position(last_position_);
  list.set_plan_id("kth-ls-2023");
  v1::ListDecisionsResponse decisions;
  ASSERT_TRUE(queries_->ListDecisions(Context().get(), list, &decisions).ok());
  EXPECT_EQ(decisions.decisions_size(), 0);
  list.set_area_id("1");
  ASSERT_TRUE(queries_->ListDecisions(Context().get(), list, &decisions).ok());
  ASSERT_EQ(decisions.decisions_size(), 1);
  EXPECT_EQ(decisions.decisions(0).plan_id(), "kth-vs-2023");
  ASSERT_EQ(decisions.decisions(0).other_plan_areas_size(), 1);
  EXPECT_EQ(decisions.decisions(0).other_plan_areas(0).plan_id(),
            "kth-ls-2023");
  list.set_plan_id("kth-vs-2023");
  ASSERT_TRUE(queries_->ListDecisions(Context().get(), list, &decisions).ok());
  EXPECT_EQ(decisions.decisions_size(), 1);

  // What changed in the other plan since 2000, by business date (the
  // registrations are there from the start): its area, with the decision
  // of the first plan that names it, counted in its summary.
  v1::GetChangesRequest changes_request;
  changes_request.set_min_position(last_position_);
  changes_request.set_plan_id("kth-ls-2023");
  changes_request.set_since("2000-01-01");
  changes_request.set_basis(v1::CHANGE_BASIS_BUSINESS);
  v1::GetChangesResponse changes;
  ASSERT_TRUE(
      queries_->GetChanges(Context().get(), changes_request, &changes).ok());
  EXPECT_EQ(changes.basis(), v1::CHANGE_BASIS_BUSINESS);
  ASSERT_EQ(changes.areas_size(), 1);
  EXPECT_EQ(changes.areas(0).name(), "plans/kth-ls-2023/areas/1");
  EXPECT_FALSE(changes.areas(0).registered());
  ASSERT_EQ(changes.areas(0).decisions_size(), 1);
  EXPECT_EQ(changes.areas(0).decisions(0).plan_id(), "kth-vs-2023");
  EXPECT_EQ(changes.areas(0).decisions(0).decision_id(),
            "ledningsradet-2024-03");
  EXPECT_EQ(changes.summary().decisions(), 1u);
  EXPECT_EQ(changes.summary().areas(), 1u);
  // Before the decision's date, by business date, nothing changed there.
  changes_request.set_until("2024-03-11");
  ASSERT_TRUE(
      queries_->GetChanges(Context().get(), changes_request, &changes).ok());
  EXPECT_EQ(changes.areas_size(), 0);
  EXPECT_EQ(changes.summary().decisions(), 0u);
}

TEST_F(PlansE2eTest, RegisterAndRevisePlanCheckTheirFields) {
  v1::RegisterPlanRequest request;
  request.set_plan_id("kth-vs-2023");
  EXPECT_THAT(Send(request),
              Refused(grpc::StatusCode::INVALID_ARGUMENT,
                      {"fields.title", "[rule: title-required]"}));
  request.mutable_fields()->set_title("Plan");
  request.mutable_fields()->set_period_start("2025");
  request.mutable_fields()->set_period_end("2023");
  EXPECT_THAT(Send(request),
              Refused(grpc::StatusCode::INVALID_ARGUMENT,
                      {"fields.period_end", "[rule: end-after-start]"}));
  request.set_plan_id(std::string(33, 'p'));
  EXPECT_THAT(Send(request),
              Refused(grpc::StatusCode::INVALID_ARGUMENT, {"plan_id"}));
  request.set_plan_id("kth-vs-2023");
  request.mutable_fields()->clear_period_end();
  Do(request);
  EXPECT_THAT(Send(request), Refused(grpc::StatusCode::ALREADY_EXISTS,
                                     {"plan_id", "[rule: register-once]"}));

  v1::RevisePlanRequest revise;
  revise.set_plan_id("kth-vs-2023");
  revise.mutable_fields()->set_title("Plan");
  EXPECT_THAT(Send(revise),
              Refused(grpc::StatusCode::INVALID_ARGUMENT, {"reason"}));
  revise.set_reason("Nytt namn");
  EXPECT_THAT(Send(revise), Refused(grpc::StatusCode::FAILED_PRECONDITION,
                                    {"[rule: revision-changes-something]"}));
  revise.mutable_fields()->set_title("Handlingsplan för administrativt stöd");
  revise.mutable_fields()->set_followed_up_by("Ledningsrådet");
  Do(revise);

  const std::vector<v1::RecordedEvent> events = ReadStream("plan-kth-vs-2023");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type(), "PlanRevised");
  v1::PlanRevised revised;
  ASSERT_TRUE(revised.ParseFromString(events[1].payload()));
  EXPECT_EQ(revised.before().title(), "Plan");
  EXPECT_EQ(revised.after().title(), "Handlingsplan för administrativt stöd");
  EXPECT_FALSE(revised.before().has_followed_up_by());
  EXPECT_EQ(revised.after().followed_up_by(), "Ledningsrådet");
  EXPECT_EQ(revised.reason(), "Nytt namn");
}

TEST_F(PlansE2eTest, ADependencyMayCrossPlansAndShowsDownstreamThere) {
  RegisterPlan("kth-vs-2023", "Administrativt stöd");
  RegisterPlan("kth-ls-2023", "Ledningsstöd");
  ASSERT_THAT(RegisterArea("kth-vs-2023", "3.1", "Ladok", "2023", "VT24"),
              Succeeded());
  ASSERT_THAT(RegisterArea("kth-ls-2023", "2", "Uppföljning", "HT23", "2025"),
              Succeeded());
  auto depend = At<v1::AddDependencyRequest>("kth-ls-2023", "2");
  depend.set_on_area_id("3.1");
  depend.set_on_plan_id("kth-vs-2023");
  Do(depend);
  // The same id in its own plan is another area, which does not exist.
  auto local = At<v1::AddDependencyRequest>("kth-ls-2023", "2");
  local.set_on_area_id("3.1");
  EXPECT_THAT(Send(local),
              Refused(grpc::StatusCode::NOT_FOUND, {"on_area_id", "[rule: "}));

  v1::GetDependenciesRequest request =
      At<v1::GetDependenciesRequest>("kth-vs-2023", "3.1");
  request.set_if_end("VT25");
  request.set_min_position(last_position_);
  v1::GetDependenciesResponse response;
  ASSERT_TRUE(
      queries_->GetDependencies(Context().get(), request, &response).ok());
  ASSERT_EQ(response.downstream_size(), 1);
  EXPECT_EQ(response.downstream(0).plan_id(), "kth-ls-2023");
  EXPECT_EQ(response.downstream(0).area_id(), "2");
  EXPECT_EQ(response.downstream(0).dependency().plan_id(), "kth-vs-2023");
  ASSERT_EQ(response.delayed_size(), 1);
  EXPECT_EQ(response.delayed(0).plan_id(), "kth-ls-2023");
  EXPECT_EQ(response.delayed(0).area_id(), "2");

  const Reply<v1::GetAreaResponse> area = GetArea("kth-ls-2023", "2");
  ASSERT_THAT(area, Succeeded());
  ASSERT_EQ(area.response.area().dependencies_size(), 1);
  EXPECT_EQ(area.response.area().dependencies(0).plan_id(), "kth-vs-2023");
}

TEST_F(PlansE2eTest, AServerWithoutPlansKeepsUnplannedAreasUntilAPlanAdopts) {
  // As before plans existed: no plan, areas without one.
  const Reply<v1::CommandResult> old = RegisterArea("", "3.1.1", "Gammal");
  ASSERT_THAT(old, Succeeded());
  EXPECT_EQ(old.response.stream_id(), "area-3.1.1");
  Reply<v1::GetAreaResponse> before = GetArea("", "3.1.1");
  ASSERT_THAT(before, Succeeded());
  EXPECT_EQ(before.response.area().plan_id(), "");
  EXPECT_EQ(before.response.area().name(), "areas/3.1.1");

  RegisterPlan("kth-vs-2023", "Administrativt stöd", /*adopt_unplanned=*/true);
  Reply<v1::GetAreaResponse> adopted = GetArea("kth-vs-2023", "3.1.1");
  ASSERT_THAT(adopted, Succeeded());
  EXPECT_EQ(adopted.response.area().plan_id(), "kth-vs-2023");
  EXPECT_EQ(adopted.response.area().name(), "plans/kth-vs-2023/areas/3.1.1");
  // Its new areas keep the unplanned names: one namespace, nothing moved.
  const Reply<v1::CommandResult> added =
      RegisterArea("kth-vs-2023", "3.1.2", "Ny");
  ASSERT_THAT(added, Succeeded());
  EXPECT_EQ(added.response.stream_id(), "area-3.1.2");
  EXPECT_THAT(
      RegisterArea("kth-vs-2023", "3.1.1", "Igen"),
      Refused(grpc::StatusCode::ALREADY_EXISTS, {"[rule: register-once]"}));

  v1::RegisterPlanRequest second;
  second.set_plan_id("kth-ls-2023");
  second.mutable_fields()->set_title("Ledningsstöd");
  second.set_adopt_unplanned(true);
  EXPECT_THAT(Send(second), Refused(grpc::StatusCode::FAILED_PRECONDITION,
                                    {"adopt_unplanned", "kth-vs-2023",
                                     "[rule: one-plan-holds-unplanned]"}));
  second.set_adopt_unplanned(false);
  Do(second);
  EXPECT_THAT(ListAreaNames("kth-vs-2023"),
              ElementsAre("plans/kth-vs-2023/areas/3.1.1",
                          "plans/kth-vs-2023/areas/3.1.2"));
  EXPECT_THAT(ListAreaNames("kth-ls-2023"), ElementsAre());
}

}  // namespace
}  // namespace plantrail
