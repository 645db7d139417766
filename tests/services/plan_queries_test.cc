// Portfolio counts and the dependency graph, from commands through the
// projections, with a fixed clock.
#include "services/plan_queries.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "common/sync.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/area_state_projection.h"
#include "projections/history_projection.h"
#include "services/plan_command_handler.h"
#include "tests/proto_text.h"
#include "tests/temp_dir.h"

namespace plantrail::services {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

using ::plantrail::testing::Pb;

class PlanQueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = eventstore::EventStore::Open(
        {.path = dir_ / "log",
         .durability = eventstore::Durability::kNoSync,
         .now = [this] { return now_; }});
    ASSERT_TRUE(log.ok());
    log_ = *std::move(log);
    auto store = projections::ProjectionStore::Open(dir_ / "projections");
    ASSERT_TRUE(store.ok());
    store_ = *std::move(store);
    areas_ = *projections::ProjectionRunner::Start(
        log_.get(), store_.get(),
        std::make_unique<projections::AreaStateProjection>());
    history_ = *projections::ProjectionRunner::Start(
        log_.get(), store_.get(),
        std::make_unique<projections::HistoryProjection>());
    handler_ = std::make_unique<PlanCommandHandler>(log_.get(),
                                                    [this] { return now_; });
    queries_ =
        std::make_unique<PlanQueries>(log_.get(), areas_.get(), history_.get(),
                                      nullptr, [this] { return now_; });
  }

  void TearDown() override {
    queries_.reset();
    handler_.reset();
    history_.reset();
    areas_.reset();
  }

  template <typename Request>
  void Send(const std::string& text) {
    Notification done;
    handler_->Handle(Principal{.name = "t"}, Pb<Request>(text),
                     [&](absl::StatusOr<v1::CommandResult> result) {
                       EXPECT_TRUE(result.ok()) << result.status() << "\n"
                                                << text;
                       done.Notify();
                     });
    done.WaitForNotification();
  }

  void CatchUp() {
    ASSERT_TRUE(
        areas_
            ->WaitApplied(log_->HeadPosition(), absl::Now() + absl::Seconds(30))
            .ok());
  }

  absl::Time now_ =
      absl::FromCivil(absl::CivilDay(2024, 3, 1), absl::UTCTimeZone());
  plantrail::testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> log_;
  std::unique_ptr<projections::ProjectionStore> store_;
  std::unique_ptr<projections::ProjectionRunner> areas_;
  std::unique_ptr<projections::ProjectionRunner> history_;
  std::unique_ptr<PlanCommandHandler> handler_;
  std::unique_ptr<PlanQueries> queries_;
};

TEST_F(PlanQueriesTest, PortfolioCountsPerSupportAreaAndOverall) {
  // Finance: one on track, one slipped twice and late, one closed.
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "f1"
                                     title: "F1"
                                     support_area: "finance"
                                     planned_period: "HT23-HT24")pb");
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "f2"
                                     title: "F2"
                                     support_area: "finance"
                                     planned_period: "VT23-2023-12-31")pb");
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "f3"
                                     title: "F3"
                                     support_area: "finance")pb");
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "h1"
                                     title: "H1"
                                     support_area: "hr"
                                     planned_end: "Q4 2025")pb");
  Send<v1::ReportStatusRequest>(R"pb(area_id: "f1"
                                     phase: PHASE_IN_PROGRESS
                                     health: HEALTH_ON_TRACK
                                     narrative: "ok"
                                     next_report_due: "2024-03-10")pb");
  Send<v1::ReviseScheduleRequest>(R"pb(area_id: "f2"
                                       planned_end: "2024-01-31"
                                       reason: "late")pb");
  Send<v1::ReviseScheduleRequest>(R"pb(area_id: "f2"
                                       planned_end: "2024-02-10"
                                       reason: "later")pb");
  Send<v1::ReportStatusRequest>(R"pb(area_id: "f2"
                                     phase: PHASE_IN_PROGRESS
                                     health: HEALTH_OFF_TRACK
                                     narrative: "behind"
                                     reported_on: "2024-02-01"
                                     next_report_due: "2024-02-20")pb");
  Send<v1::CloseAreaRequest>(R"pb(area_id: "f3"
                                  outcome: OUTCOME_CANCELLED
                                  reason: "dropped")pb");
  now_ += absl::Hours(24 * 40);  // 2024-04-10: everyone is quiet for 40 days
  CatchUp();

  auto portfolio = queries_->GetPortfolio({});
  ASSERT_TRUE(portfolio.ok()) << portfolio.status();
  const v1::PortfolioSlice& all = portfolio->overall();
  EXPECT_EQ(all.areas(), 4u);
  EXPECT_EQ(all.open(), 3u);
  EXPECT_EQ(all.by_phase().at("PHASE_IN_PROGRESS"), 2u);
  EXPECT_EQ(all.by_phase().at("PHASE_CANCELLED"), 1u);
  EXPECT_EQ(all.by_health().at("HEALTH_OFF_TRACK"), 1u);
  EXPECT_EQ(all.overdue(), 1u);  // f2 (ends 2024-02-10)
  EXPECT_EQ(all.slipped_against_baseline(), 1u);
  EXPECT_EQ(all.slip_days_against_baseline(), 41);  // 2023-12-31 -> 2024-02-10
  EXPECT_EQ(all.slipped_against_previous(), 1u);
  EXPECT_EQ(all.slip_days_against_previous(), 10);  // 2024-01-31 -> 2024-02-10
  EXPECT_EQ(all.stale(), 3u);  // open and quiet for 30+ days
  EXPECT_EQ(all.reports_late(), 2u);
  ASSERT_EQ(portfolio->support_areas_size(), 2);
  EXPECT_EQ(portfolio->support_areas(0).support_area(), "finance");
  EXPECT_EQ(portfolio->support_areas(0).areas(), 3u);
  EXPECT_EQ(portfolio->support_areas(1).support_area(), "hr");
  EXPECT_EQ(portfolio->support_areas(1).overdue(), 0u);

  v1::GetPortfolioRequest hr;
  hr.set_support_area("hr");
  hr.set_stale_days(60);
  auto only_hr = queries_->GetPortfolio(hr);
  ASSERT_TRUE(only_hr.ok());
  EXPECT_EQ(only_hr->overall().areas(), 1u);
  EXPECT_EQ(only_hr->overall().stale(), 0u);

  // A report due in five days counts as due, not late.
  Send<v1::ReportStatusRequest>(R"pb(area_id: "h1"
                                     phase: PHASE_PLANNED
                                     health: HEALTH_ON_TRACK
                                     narrative: "soon"
                                     next_report_due: "2024-04-15")pb");
  CatchUp();
  only_hr = queries_->GetPortfolio(hr);
  EXPECT_EQ(only_hr->overall().reports_due(), 1u);
}

TEST_F(PlanQueriesTest, ListAreasByPlannedEndFollowsHowEndsCompare) {
  // Registered in an order that sorts neither way by itself.
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "asap"
                                     title: "A"
                                     support_area: "s"
                                     planned_end: "snarast")pb");
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "none"
                                     title: "N"
                                     support_area: "s")pb");
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "vt24"
                                     title: "V"
                                     support_area: "s"
                                     planned_end: "VT24")pb");
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "ongoing"
                                     title: "O"
                                     support_area: "s"
                                     planned_end: "Löpande")pb");
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "day"
                                     title: "D"
                                     support_area: "s"
                                     planned_end: "2025-01-15")pb");
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "ht23"
                                     title: "H"
                                     support_area: "s"
                                     planned_end: "HT23")pb");
  CatchUp();
  v1::ListAreasRequest request;
  request.set_sort(v1::AREA_SORT_PLANNED_END);
  auto listed = queries_->ListAreas(request);
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::vector<std::string> ids;
  for (const v1::AreaState& area : listed->areas()) {
    ids.push_back(area.area_id());
  }
  // Latest first: ongoing has no end, dated ends by their last day, as soon
  // as possible before any of them; an area without an end comes last.
  EXPECT_THAT(ids,
              ElementsAre("ongoing", "day", "vt24", "ht23", "asap", "none"));
}

TEST_F(PlanQueriesTest, DependenciesUpstreamDownstreamCyclesAndDelays) {
  // data office <- budget <- reporting; budget also needs Ladok;
  // reporting and budget form a cycle via "relates".
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "data"
                                     title: "Data office"
                                     support_area: "3.5"
                                     planned_end: "HT23")pb");
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "budget"
                                     title: "Budget"
                                     support_area: "3.4"
                                     planned_start: "2023-11-01"
                                     planned_end: "VT24")pb");
  Send<v1::RegisterAreaRequest>(R"pb(area_id: "report"
                                     title: "Reporting"
                                     support_area: "3.4"
                                     planned_start: "Q2 2024")pb");
  Send<v1::AddDependencyRequest>(R"pb(area_id: "budget" on_area_id: "data")pb");
  Send<v1::AddDependencyRequest>(R"pb(area_id: "budget" external: "Ladok")pb");
  Send<v1::AddDependencyRequest>(
      R"pb(area_id: "report" on_area_id: "budget")pb");
  Send<v1::AddDependencyRequest>(R"pb(area_id: "data"
                                      on_area_id: "report"
                                      kind: DEPENDENCY_KIND_RELATES)pb");
  CatchUp();

  v1::GetDependenciesRequest request;
  request.set_area_id("budget");
  request.set_if_end("2024-05-15");
  auto graph = queries_->GetDependencies(request);
  ASSERT_TRUE(graph.ok()) << graph.status();
  std::vector<std::string> upstream;
  for (const auto& link : graph->upstream()) {
    upstream.push_back(link.area_id() + "->" +
                       (link.dependency().has_area_id()
                            ? link.dependency().area_id()
                            : link.dependency().external()) +
                       "@" + std::to_string(link.depth()));
  }
  EXPECT_THAT(upstream, ElementsAre("budget->data@1", "budget->Ladok@1",
                                    "data->report@2", "report->budget@3"));
  std::vector<std::string> downstream;
  for (const auto& link : graph->downstream()) {
    downstream.push_back(link.area_id() + "@" + std::to_string(link.depth()));
  }
  // The last link closes the cycle back to the area itself.
  EXPECT_THAT(downstream, ElementsAre("report@1", "data@2", "budget@3"));
  ASSERT_EQ(graph->cycles_size(), 1);
  EXPECT_THAT(graph->cycles(0).area_ids(),
              ElementsAre("budget", "data", "report", "budget"));
  EXPECT_THAT(graph->cycle_area_ids(), ElementsAre("budget", "data", "report"));
  EXPECT_FALSE(graph->truncated());
  // Reporting requires budget and starts in Q2 2024 (April 1): a budget
  // ending 2024-05-15 overruns it by 45 days. Data only relates.
  ASSERT_EQ(graph->delayed_size(), 1);
  EXPECT_EQ(graph->delayed(0).area_id(), "report");
  EXPECT_EQ(graph->delayed(0).days_overrun(), 45);

  request.set_if_end("snarast");
  EXPECT_EQ(queries_->GetDependencies(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.set_if_end("");
  request.set_area_id("nope");
  EXPECT_EQ(queries_->GetDependencies(request).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace plantrail::services
