// GetChanges over 10,000 areas and 1,000,000 events: the log is written
// once (no fsync) as 100 rounds in which every area gets one event, with
// recorded times about 86 seconds apart (some 1,000 days in all); the area
// state and changes projections catch up before the timed loops. Windows of
// a week, a month and a year at the end of the history, on both clocks, and
// one that no event falls in. See README.md.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "bench/bench_util.h"
#include "eventstore/event_store.h"
#include "projections/area_state_projection.h"
#include "projections/changes_projection.h"
#include "projections/runner.h"
#include "services/plan_queries.h"

namespace plantrail {
namespace {

constexpr int kAreas = 10'000;
constexpr int kRounds = 100;
const absl::CivilDay kFirstDay(2022, 1, 1);

struct World {
  std::filesystem::path dir;
  absl::Time clock;
  std::unique_ptr<eventstore::EventStore> log;
  std::unique_ptr<projections::ProjectionStore> store;
  std::unique_ptr<projections::ProjectionRunner> areas;
  std::unique_ptr<projections::ProjectionRunner> changes;
  std::unique_ptr<services::PlanQueries> queries;
  absl::CivilDay last_day;
  double write_seconds = 0;
  double projection_seconds = 0;
};

World* world = nullptr;

// Round 0 registers each area; later rounds are mostly status reports (with
// the date they speak for), now and then a schedule revision.
stored::PlanEvent EventOf(int area, int round) {
  stored::PlanEvent event;
  if (round == 0) {
    stored::AreaRegistered& r = *event.mutable_area_registered();
    r.set_area_id(absl::StrCat("A", area));
    r.set_title(absl::StrCat("Area ", area));
    r.set_support_area(absl::StrCat("3.", area % 7 + 1));
    r.mutable_planned_end()->set_precision(stored::PLAN_DATE_PRECISION_YEAR);
    r.mutable_planned_end()->set_year(2025);
    r.mutable_planned_end()->set_text("2025");
    r.set_phase(stored::PHASE_PLANNED);
    return event;
  }
  if (round % 10 == 0) {
    stored::ScheduleRevised& r = *event.mutable_schedule_revised();
    r.mutable_new_end()->set_precision(stored::PLAN_DATE_PRECISION_YEAR);
    r.mutable_new_end()->set_year(2025 + round / 10);
    r.mutable_new_end()->set_text(absl::StrCat(2025 + round / 10));
    r.set_reason("re-planned");
    return event;
  }
  stored::StatusReport& r = *event.mutable_status_reported()->mutable_report();
  r.set_phase(stored::PHASE_IN_PROGRESS);
  r.set_health((area + round) % 5 == 0 ? stored::HEALTH_AT_RISK
                                       : stored::HEALTH_ON_TRACK);
  r.set_narrative(absl::StrCat("Report ", round, " of area ", area));
  const absl::CivilDay reported =
      absl::ToCivilDay(world->clock, absl::UTCTimeZone()) - 3;
  r.mutable_reported_on()->set_precision(stored::PLAN_DATE_PRECISION_DAY);
  r.mutable_reported_on()->set_year(static_cast<int>(reported.year()));
  r.mutable_reported_on()->set_month(reported.month());
  r.mutable_reported_on()->set_day(reported.day());
  r.mutable_reported_on()->set_text(absl::FormatCivilTime(reported));
  return event;
}

void Build(const benchmark::State&) {
  if (world != nullptr) return;
  world = new World;
  world->dir = bench::MakeBenchDir("changes-bench");
  world->clock = absl::FromCivil(kFirstDay, absl::UTCTimeZone());
  world->log = *eventstore::EventStore::Open(
      {.path = world->dir / "log",
       .durability = eventstore::Durability::kNoSync,
       .now = [] { return world->clock += absl::Seconds(86); }});
  absl::Time start = absl::Now();
  for (int round = 0; round < kRounds; ++round) {
    for (int area = 0; area < kAreas; ++area) {
      eventstore::AppendRequest append{.stream_id =
                                           absl::StrCat("area-A", area)};
      append.events.push_back(bench::Encoded(EventOf(area, round)));
      if (!world->log->Append(std::move(append)).ok()) std::abort();
    }
  }
  world->write_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  world->last_day = absl::ToCivilDay(world->clock, absl::UTCTimeZone());
  world->store =
      *projections::ProjectionStore::Open(world->dir / "projections");
  start = absl::Now();
  world->areas = *projections::ProjectionRunner::Start(
      world->log.get(), world->store.get(),
      std::make_unique<projections::AreaStateProjection>());
  world->changes = *projections::ProjectionRunner::Start(
      world->log.get(), world->store.get(),
      std::make_unique<projections::ChangesProjection>());
  const uint64_t head = world->log->HeadPosition();
  const absl::Time deadline = absl::Now() + absl::Minutes(30);
  if (!world->areas->WaitApplied(head, deadline).ok() ||
      !world->changes->WaitApplied(head, deadline).ok()) {
    std::abort();
  }
  world->projection_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const absl::Time today =
      absl::FromCivil(world->last_day, absl::UTCTimeZone());
  world->queries = std::make_unique<services::PlanQueries>(
      world->log.get(), world->areas.get(), world->areas.get(),
      world->changes.get(), [today] { return today; });
}

// The window of the last `days` days of the history (0: one before it all).
void Changes(benchmark::State& state, int days, bool business) {
  v1::GetChangesRequest request;
  if (days == 0) {
    request.set_since(absl::FormatCivilTime(kFirstDay - 30));
    request.set_until(absl::FormatCivilTime(kFirstDay - 1));
  } else {
    request.set_since(absl::FormatCivilTime(world->last_day - (days - 1)));
  }
  request.set_basis(business ? v1::CHANGE_BASIS_BUSINESS
                             : v1::CHANGE_BASIS_RECORDED);
  int changed = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    auto answer = world->queries->GetChanges(request);
    if (!answer.ok()) {
      state.SkipWithError(std::string(answer.status().message()).c_str());
      break;
    }
    changed = answer->areas_size();
    bytes = answer->ByteSizeLong();
    benchmark::DoNotOptimize(answer);
  }
  state.counters["areas"] = kAreas;
  state.counters["events"] = static_cast<double>(kAreas) * kRounds;
  state.counters["areas_changed"] = changed;
  state.counters["answer_bytes"] = static_cast<double>(bytes);
  state.counters["write_events_per_s"] =
      static_cast<double>(kAreas) * kRounds / world->write_seconds;
  state.counters["projection_events_per_s"] =
      static_cast<double>(kAreas) * kRounds / world->projection_seconds;
}

void BM_ChangesQuietWindow(benchmark::State& state) {
  Changes(state, 0, false);
}
void BM_ChangesLastWeekRecorded(benchmark::State& state) {
  Changes(state, 7, false);
}
void BM_ChangesLastMonthRecorded(benchmark::State& state) {
  Changes(state, 30, false);
}
void BM_ChangesLastMonthBusiness(benchmark::State& state) {
  Changes(state, 30, true);
}
void BM_ChangesLastYearRecorded(benchmark::State& state) {
  Changes(state, 365, false);
}
void BM_ChangesLastWeekBusiness(benchmark::State& state) {
  Changes(state, 7, true);
}
void BM_ChangesLastYearBusiness(benchmark::State& state) {
  Changes(state, 365, true);
}

void Configure(benchmark::internal::Benchmark* benchmark) {
  benchmark->Setup(Build)->UseRealTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_ChangesQuietWindow)->Apply(Configure);
BENCHMARK(BM_ChangesLastWeekRecorded)->Apply(Configure);
BENCHMARK(BM_ChangesLastMonthRecorded)->Apply(Configure);
BENCHMARK(BM_ChangesLastMonthBusiness)->Apply(Configure);
BENCHMARK(BM_ChangesLastYearRecorded)->Apply(Configure);
BENCHMARK(BM_ChangesLastWeekBusiness)->Apply(Configure);
BENCHMARK(BM_ChangesLastYearBusiness)->Apply(Configure);

}  // namespace
}  // namespace plantrail

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (plantrail::world != nullptr) {
    // Stop the runners before the stores they read from.
    plantrail::world->queries.reset();
    plantrail::world->changes.reset();
    plantrail::world->areas.reset();
    plantrail::world->store.reset();
    plantrail::world->log.reset();
    std::error_code ignored;
    std::filesystem::remove_all(plantrail::world->dir, ignored);
  }
  return 0;
}
