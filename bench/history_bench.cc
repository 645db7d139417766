// GetHistory on an area with 100,000 events: a page costs a seek and a short
// scan, wherever it is in the history. The area's events are written once
// (no fsync) and projected before the timed loops; see README.md.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"
#include "eventstore/event_store.h"
#include "projections/area_state_projection.h"
#include "projections/history_projection.h"
#include "projections/runner.h"
#include "services/plan_queries.h"

namespace plantrail {
namespace {

constexpr int kEvents = 100'000;
constexpr char kArea[] = "3.4.2";

struct World {
  std::filesystem::path dir;
  std::unique_ptr<eventstore::EventStore> log;
  std::unique_ptr<projections::ProjectionStore> store;
  std::unique_ptr<projections::ProjectionRunner> areas;
  std::unique_ptr<projections::ProjectionRunner> history;
  std::unique_ptr<services::PlanQueries> queries;
  std::string middle_token;
  double projection_seconds = 0;
};

World* world = nullptr;

void Build(const benchmark::State&) {
  if (world != nullptr) return;
  world = new World;
  world->dir = bench::MakeBenchDir("history-bench");
  world->log = *eventstore::EventStore::Open(
      {.path = world->dir / "log",
       .durability = eventstore::Durability::kNoSync});
  stored::PlanEvent registered;
  registered.mutable_area_registered()->set_area_id(kArea);
  registered.mutable_area_registered()->set_title("Financial follow-up");
  registered.mutable_area_registered()->set_support_area("3.4");
  eventstore::AppendRequest first{.stream_id = absl::StrCat("area-", kArea)};
  first.events.push_back(bench::Encoded(registered));
  if (!world->log->Append(std::move(first)).ok()) std::abort();
  for (int i = 1; i < kEvents; i += 500) {
    eventstore::AppendRequest batch{.stream_id = absl::StrCat("area-", kArea)};
    for (int j = i; j < std::min(kEvents, i + 500); ++j) {
      stored::PlanEvent report;
      stored::StatusReport& r =
          *report.mutable_status_reported()->mutable_report();
      r.set_phase(stored::PHASE_IN_PROGRESS);
      r.set_health(j % 3 == 0 ? stored::HEALTH_AT_RISK
                              : stored::HEALTH_ON_TRACK);
      r.set_narrative(absl::StrCat("Weekly report ", j));
      batch.events.push_back(bench::Encoded(report));
    }
    if (!world->log->Append(std::move(batch)).ok()) std::abort();
  }
  world->store =
      *projections::ProjectionStore::Open(world->dir / "projections");
  const absl::Time start = absl::Now();
  world->areas = *projections::ProjectionRunner::Start(
      world->log.get(), world->store.get(),
      std::make_unique<projections::AreaStateProjection>());
  world->history = *projections::ProjectionRunner::Start(
      world->log.get(), world->store.get(),
      std::make_unique<projections::HistoryProjection>());
  const absl::Time deadline = absl::Now() + absl::Minutes(5);
  if (!world->areas->WaitApplied(kEvents, deadline).ok() ||
      !world->history->WaitApplied(kEvents, deadline).ok()) {
    std::abort();
  }
  world->projection_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  world->queries = std::make_unique<services::PlanQueries>(
      world->log.get(), world->areas.get(), world->history.get(), nullptr);
  // A token halfway through the history.
  v1::GetHistoryRequest request;
  request.set_area_id(kArea);
  request.set_oldest_first(true);
  request.set_page_size(1000);
  for (int i = 0; i < kEvents / 2000; ++i) {
    auto page = world->queries->GetHistory(request);
    request.set_page_token(page->next_page_token());
  }
  world->middle_token = request.page_token();
}

void Page(benchmark::State& state, bool oldest_first, bool middle) {
  v1::GetHistoryRequest request;
  request.set_area_id(kArea);
  request.set_oldest_first(oldest_first);
  request.set_page_size(100);
  if (middle) request.set_page_token(world->middle_token);
  for (auto _ : state) {
    auto page = world->queries->GetHistory(request);
    if (!page.ok() || page->entries_size() != 100) {
      state.SkipWithError("a page came back short");
      break;
    }
    benchmark::DoNotOptimize(page);
  }
  state.counters["history_events"] = kEvents;
  state.counters["projection_rebuild_events_per_s"] =
      2.0 * kEvents / world->projection_seconds;
  state.SetItemsProcessed(state.iterations() * 100);
}

void BM_HistoryFirstPageNewestFirst(benchmark::State& state) {
  Page(state, false, false);
}
void BM_HistoryFirstPageOldestFirst(benchmark::State& state) {
  Page(state, true, false);
}
void BM_HistoryPageInTheMiddle(benchmark::State& state) {
  Page(state, true, true);
}

BENCHMARK(BM_HistoryFirstPageNewestFirst)->Setup(Build)->UseRealTime();
BENCHMARK(BM_HistoryFirstPageOldestFirst)->Setup(Build)->UseRealTime();
BENCHMARK(BM_HistoryPageInTheMiddle)->Setup(Build)->UseRealTime();

}  // namespace
}  // namespace plantrail

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (plantrail::world != nullptr) {
    // Stop the runners before the stores they read from.
    plantrail::world->queries.reset();
    plantrail::world->history.reset();
    plantrail::world->areas.reset();
    plantrail::world->store.reset();
    plantrail::world->log.reset();
    std::error_code ignored;
    std::filesystem::remove_all(plantrail::world->dir, ignored);
  }
  return 0;
}
