// Random command sequences over many areas. Afterwards every projection
// equals a fresh fold of the whole log, and GetArea as of position P equals
// the state folded from the log's first P events.
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sync.h"
#include "domain/evolve.h"
#include "domain/stored_twin.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "projections/area_state_projection.h"
#include "projections/history_projection.h"
#include "projections/runner.h"
#include "projections/stream_fold.h"
#include "services/plan_command_handler.h"
#include "services/plan_queries.h"
#include "tests/projections/random_plan_driver.h"
#include "tests/temp_dir.h"

namespace plantrail {
namespace {

using google::protobuf::util::MessageDifferencer;

// Every area's state after the log's first `up_to` events, folded here
// independently of the projections and of time travel.
std::map<std::string, stored::AreaState> FoldLog(
    const eventstore::EventStore& log, uint64_t up_to) {
  std::map<std::string, stored::AreaState> areas;
  for (uint64_t from = 1; from != 0 && from <= up_to;) {
    auto page = log.ReadAll({.from_position = from, .limit = 1000});
    EXPECT_TRUE(page.ok());
    if (!page.ok()) break;
    for (const auto& recorded : page->events) {
      if (recorded.position > up_to) break;
      auto record = projections::DecodePlanEvent(recorded);
      EXPECT_TRUE(record.ok());
      if (!record.ok() || !*record) continue;
      if (recorded.stream_id.rfind("area-", 0) != 0) continue;
      domain::EvolveArea(areas[recorded.stream_id.substr(5)], (*record)->event,
                         (*record)->context);
    }
    from = page->next_position;
  }
  return areas;
}

class PropertyTest : public ::testing::TestWithParam<unsigned> {};

TEST_P(PropertyTest, ProjectionsAndTimeTravelEqualAFreshFoldOfTheLog) {
  const unsigned seed = GetParam();
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::vector<std::unique_ptr<projections::Projection>> projections;
  projections.push_back(std::make_unique<projections::AreaStateProjection>());
  projections.push_back(std::make_unique<projections::HistoryProjection>());
  testing::DrivenLog driven;
  testing::DriveRandomPlan(seed, std::move(projections), driven);
  if (HasFatalFailure()) return;
  const uint64_t head = driven.head;
  auto* log = &driven.log;
  services::PlanQueries queries(log->get(), driven.runners[0].get(),
                                driven.runners[1].get(), nullptr);

  // Every projection equals a fresh fold of the whole log.
  const std::map<std::string, stored::AreaState> folded = FoldLog(**log, head);
  ASSERT_FALSE(folded.empty());
  for (const auto& [area_id, fold] : folded) {
    // As the queries present it: an area without a plan is named
    // areas/<id>.
    stored::AreaState expected = fold;
    expected.set_name(absl::StrCat("areas/", area_id));
    v1::GetAreaRequest request;
    request.set_area_id(area_id);
    auto answer = queries.GetArea(request);
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_TRUE(MessageDifferencer::Equals(
        domain::Twin<stored::AreaState>(answer->area()), expected))
        << area_id << "\nprojection: " << answer->area().ShortDebugString()
        << "\nfold:       " << expected.ShortDebugString();

    // One history entry per event of the area, plus the decisions naming it.
    size_t entries = 0;
    v1::GetHistoryRequest page_request;
    page_request.set_area_id(area_id);
    page_request.set_oldest_first(true);
    page_request.set_page_size(7);
    uint64_t last_position = 0;
    do {
      auto page = queries.GetHistory(page_request);
      ASSERT_TRUE(page.ok()) << page.status();
      for (const auto& entry : page->entries()) {
        EXPECT_GT(entry.position(), last_position);
        last_position = entry.position();
        ++entries;
      }
      page_request.set_page_token(page->next_page_token());
    } while (!page_request.page_token().empty());
    size_t decisions = 0;
    v1::ListDecisionsRequest decision_request;
    decision_request.set_area_id(area_id);
    decision_request.set_page_size(1000);
    auto listed = queries.ListDecisions(decision_request);
    ASSERT_TRUE(listed.ok());
    decisions = listed->decisions_size();
    EXPECT_EQ(entries, expected.version() + decisions) << area_id;
  }

  // Time travel: GetArea as of P equals the fold of the first P events.
  std::mt19937 random(seed);
  for (int i = 0; i < 25; ++i) {
    const uint64_t p = 1 + random() % head;
    const std::map<std::string, stored::AreaState> at_p = FoldLog(**log, p);
    for (const auto& [area_id, ignored] : folded) {
      v1::GetAreaRequest request;
      request.set_area_id(area_id);
      request.set_at_position(p);
      auto answer = queries.GetArea(request);
      auto it = at_p.find(area_id);
      if (it == at_p.end()) {
        EXPECT_EQ(answer.status().code(), absl::StatusCode::kNotFound);
        continue;
      }
      ASSERT_TRUE(answer.ok()) << answer.status();
      stored::AreaState expected = it->second;
      expected.set_name(absl::StrCat("areas/", area_id));
      EXPECT_TRUE(MessageDifferencer::Equals(
          domain::Twin<stored::AreaState>(answer->area()), expected))
          << area_id << " at " << p;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, PropertyTest, ::testing::Values(1u, 2u, 3u));

}  // namespace
}  // namespace plantrail

namespace plantrail {
namespace {

TEST(StaleTest, AnAreaWithoutRecentReportsIsStaleUntilItReports) {
  plantrail::testing::TempDir dir;
  // One clock for the log's recorded times and the queries' "now".
  absl::Time now =
      absl::FromCivil(absl::CivilDay(2024, 3, 1), absl::UTCTimeZone());
  auto log = eventstore::EventStore::Open(
      {.path = dir / "log",
       .durability = eventstore::Durability::kNoSync,
       .now = [&now] { return now; }});
  auto store = projections::ProjectionStore::Open(dir / "projections");
  ASSERT_TRUE(log.ok() && store.ok());
  auto areas = projections::ProjectionRunner::Start(
      log->get(), store->get(),
      std::make_unique<projections::AreaStateProjection>());
  ASSERT_TRUE(areas.ok());
  services::PlanQueries queries(log->get(), areas->get(), areas->get(), nullptr,
                                [&now] { return now; });
  services::PlanCommandHandler handler(log->get());
  auto send = [&](const auto& command) {
    Notification done;
    handler.Handle(services::Principal{.name = "t"}, command,
                   [&](absl::StatusOr<v1::CommandResult> result) {
                     EXPECT_TRUE(result.ok()) << result.status();
                     done.Notify();
                   });
    done.WaitForNotification();
  };
  for (const char* id : {"quiet", "busy"}) {
    v1::RegisterAreaRequest r;
    r.set_area_id(id);
    r.set_title(id);
    r.set_support_area("3.7");
    send(r);
  }
  auto stale = [&](uint32_t days) {
    EXPECT_TRUE((*areas)
                    ->WaitApplied((*log)->HeadPosition(),
                                  absl::Now() + absl::Seconds(30))
                    .ok());
    v1::ListAreasRequest request;
    request.set_stale_days(days);
    std::vector<std::string> ids;
    auto listed = queries.ListAreas(request);
    EXPECT_TRUE(listed.ok()) << listed.status();
    for (const auto& area : listed->areas()) ids.push_back(area.area_id());
    return ids;
  };
  EXPECT_TRUE(stale(5).empty());
  now += absl::Hours(24 * 10);
  EXPECT_EQ(stale(5), (std::vector<std::string>{"busy", "quiet"}));
  EXPECT_TRUE(stale(11).empty());
  // "busy" reports on day 10; on day 12 only "quiet" is stale.
  v1::ReportStatusRequest report;
  report.set_area_id("busy");
  report.set_phase(v1::PHASE_IN_PROGRESS);
  report.set_health(v1::HEALTH_ON_TRACK);
  report.set_narrative("moving");
  send(report);
  now += absl::Hours(24 * 2);
  EXPECT_EQ(stale(5), (std::vector<std::string>{"quiet"}));
  // Closed areas are not stale: nobody reports on them.
  v1::CloseAreaRequest close;
  close.set_area_id("quiet");
  close.set_outcome(v1::OUTCOME_CANCELLED);
  close.set_reason("merged into busy");
  send(close);
  EXPECT_TRUE(stale(5).empty());
}

}  // namespace
}  // namespace plantrail
