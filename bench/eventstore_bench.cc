// Store-level benchmarks of the event log: appends (durable and not, single
// and batched, one and sixteen threads) and reads, on a fresh store in a fresh
// temporary directory per run. No gRPC is involved. See README.md.
//
// Every benchmark reports items_per_second, where an item is one event
// appended or read.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eventstore/event.h"
#include "eventstore/event_store.h"

namespace plantrail::eventstore {
namespace {

// ~100 bytes, the size of a typical status report.
constexpr char kPayload[] =
    R"({"area":"3.4.2","phase":"in_progress","health":"at_risk",)"
    R"("reported_on":"2026-11-23","note":"Pilot slips"})";

constexpr int kReadStreamEvents = 1000;
constexpr uint32_t kReadStreamPage = 100;
constexpr int kReadAllEvents = 10000;
constexpr uint32_t kReadAllPage = 1000;
constexpr int kBatchSize = 100;

ProposedEvent MakeEvent() {
  return ProposedEvent{
      .type = "StatusReported",
      .payload = kPayload,
      .content_type = "application/json",
      .metadata = {{"correlation_id", "c-7f3a"}, {"source", "bench"}},
  };
}

AppendRequest MakeRequest(std::string stream_id, int events) {
  AppendRequest request{
      .stream_id = std::move(stream_id),
      .expected_version = ExpectedVersion::Any(),
  };
  request.events.reserve(events);
  for (int i = 0; i < events; ++i) request.events.push_back(MakeEvent());
  return request;
}

// The store of the current run, opened by a Setup function (once per run,
// before any benchmark thread starts) and closed by Teardown. Null when the
// setup failed; the benchmark then skips with `g_setup_error`.
std::unique_ptr<EventStore> g_store;
std::filesystem::path g_dir;
std::string g_setup_error;

bool OpenStore(Durability durability) {
  g_setup_error.clear();
  const char* tmp = getenv("TMPDIR");
  std::string pattern = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  pattern += "/plantrail-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    g_setup_error = "mkdtemp failed for " + pattern;
    return false;
  }
  g_dir = pattern;
  absl::StatusOr<std::unique_ptr<EventStore>> store = EventStore::Open(
      Options{.path = (g_dir / "db").string(), .durability = durability});
  if (!store.ok()) {
    g_setup_error = "Open: " + store.status().ToString();
    return false;
  }
  g_store = std::move(*store);
  return true;
}

bool Fill(const std::string& stream_id, int events) {
  for (int done = 0; done < events;) {
    const int n = std::min(events - done, 1000);
    absl::StatusOr<AppendResult> result =
        g_store->Append(MakeRequest(stream_id, n));
    if (!result.ok()) {
      g_setup_error = "prefill: " + result.status().ToString();
      g_store.reset();
      return false;
    }
    done += n;
  }
  return true;
}

void SetupSync(const benchmark::State&) { OpenStore(Durability::kSync); }
void SetupNoSync(const benchmark::State&) { OpenStore(Durability::kNoSync); }

void SetupReadStream(const benchmark::State&) {
  if (OpenStore(Durability::kNoSync)) Fill("read-stream", kReadStreamEvents);
}

void SetupReadAll(const benchmark::State&) {
  if (!OpenStore(Durability::kNoSync)) return;
  // 100 streams of 100 events, so that the log interleaves nothing but still
  // spans many streams.
  for (int s = 0; s < kReadAllEvents / 100; ++s) {
    if (!Fill("read-all-" + std::to_string(s), 100)) return;
  }
}

void Teardown(const benchmark::State&) {
  g_store.reset();  // Finishes queued appends and closes the database.
  if (!g_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(g_dir, ignored);
    g_dir.clear();
  }
}

bool Ready(benchmark::State& state) {
  if (g_store != nullptr) return true;
  state.SkipWithError(g_setup_error.empty() ? "no store"
                                            : g_setup_error.c_str());
  return false;
}

// Appends of `events_per_append` events to this thread's own stream, with
// expected version Any, one blocking Append at a time per thread.
void RunAppends(benchmark::State& state, int events_per_append) {
  if (!Ready(state)) return;
  const AppendRequest request = MakeRequest(
      "bench-" + std::to_string(state.thread_index()), events_per_append);
  for (auto _ : state) {
    absl::StatusOr<AppendResult> result = g_store->Append(request);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * events_per_append);
  // Counters are summed over threads, so only one thread reports this. The
  // other threads may still be finishing their last append; the figure is
  // taken when this one is done, which is close enough.
  if (state.thread_index() == 0) {
    const Stats stats = g_store->GetStats();
    if (stats.commit_groups > 0) {
      state.counters["events_per_commit"] =
          static_cast<double>(stats.events_appended) /
          static_cast<double>(stats.commit_groups);
    }
  }
}

void BM_AppendSync(benchmark::State& state) { RunAppends(state, 1); }
void BM_AppendSyncBatch100(benchmark::State& state) {
  RunAppends(state, kBatchSize);
}
void BM_AppendNoSync(benchmark::State& state) { RunAppends(state, 1); }

void BM_ReadStream(benchmark::State& state) {
  if (!Ready(state)) return;
  int64_t events = 0;
  for (auto _ : state) {
    uint64_t from = 1;
    while (from != 0) {
      absl::StatusOr<StreamPage> page =
          g_store->ReadStream({.stream_id = "read-stream",
                               .direction = ReadDirection::kForward,
                               .from_version = from,
                               .limit = kReadStreamPage});
      if (!page.ok()) {
        state.SkipWithError(page.status().ToString().c_str());
        return;
      }
      events += static_cast<int64_t>(page->events.size());
      benchmark::DoNotOptimize(page->events.data());
      from = page->next_version;
    }
  }
  state.SetItemsProcessed(events);
}

void BM_ReadAll(benchmark::State& state) {
  if (!Ready(state)) return;
  int64_t events = 0;
  for (auto _ : state) {
    uint64_t from = 1;
    while (from != 0) {
      absl::StatusOr<LogPage> page =
          g_store->ReadAll({.from_position = from, .limit = kReadAllPage});
      if (!page.ok()) {
        state.SkipWithError(page.status().ToString().c_str());
        return;
      }
      events += static_cast<int64_t>(page->events.size());
      benchmark::DoNotOptimize(page->events.data());
      from = page->next_position;
    }
  }
  state.SetItemsProcessed(events);
}

// An fsync takes from hundreds of microseconds to milliseconds, so the durable
// benchmarks get a longer minimum time than the default 0.5 s to collect
// enough commits; the whole binary runs in well under two minutes.
BENCHMARK(BM_AppendSync)
    ->Setup(SetupSync)
    ->Teardown(Teardown)
    ->MinTime(2.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AppendSync)
    ->Setup(SetupSync)
    ->Teardown(Teardown)
    ->MinTime(2.0)
    ->Threads(16)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AppendSyncBatch100)
    ->Setup(SetupSync)
    ->Teardown(Teardown)
    ->MinTime(2.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AppendNoSync)
    ->Setup(SetupNoSync)
    ->Teardown(Teardown)
    ->MinTime(1.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ReadStream)
    ->Setup(SetupReadStream)
    ->Teardown(Teardown)
    ->MinTime(1.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ReadAll)
    ->Setup(SetupReadAll)
    ->Teardown(Teardown)
    ->MinTime(1.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace plantrail::eventstore

BENCHMARK_MAIN();
