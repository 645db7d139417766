// The projection runner: resumes from its checkpoint without applying an
// event twice or skipping one, rebuilds into a shadow copy while the log
// grows and queries keep reading, and lets readers wait for a position.
#include "projections/runner.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eventstore/record_format.h"
#include "gtest/gtest.h"
#include "plantrail/stored/plan.pb.h"
#include "tests/temp_dir.h"

namespace plantrail::projections {
namespace {

namespace rf = eventstore::record_format;

// Adds one to the counter under "count".
absl::Status AddOne(StateWriter& state) {
  auto count = state.Get("count");
  if (!count.ok()) return count.status();
  uint64_t n = 0;
  if (count->has_value()) {
    absl::string_view bytes = **count;
    rf::ConsumeU64(bytes, n);
  }
  state.Put("count", rf::PositionKey(n + 1));
  return absl::OkStatus();
}

// Records every position it applies ("seen/<position>") and how many it has
// applied ("count"); refuses to apply a position twice.
class CountingProjection final : public Projection {
 public:
  explicit CountingProjection(std::atomic<int>* applied = nullptr)
      : applied_(applied) {}
  std::string name() const override { return "counting"; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     StateWriter& state) override {
    const std::string key =
        absl::StrCat("seen/", rf::PositionKey(event.position));
    auto seen = state.Get(key);
    if (!seen.ok()) return seen.status();
    if (seen->has_value()) {
      return absl::InternalError(
          absl::StrCat("position ", event.position, " applied twice"));
    }
    state.Put(key, "1");
    if (absl::Status counted = AddOne(state); !counted.ok()) return counted;
    if (applied_ != nullptr) applied_->fetch_add(1);
    return absl::OkStatus();
  }

 private:
  std::atomic<int>* applied_;
};

uint64_t Count(const StateReader& reader) {
  auto count = reader.Get("count");
  if (!count.ok() || !count->has_value()) return 0;
  absl::string_view bytes = **count;
  uint64_t n = 0;
  rf::ConsumeU64(bytes, n);
  return n;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = eventstore::EventStore::Open(
        {.path = dir_ / "log", .durability = eventstore::Durability::kNoSync});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    OpenProjections();
  }

  void OpenProjections() {
    auto store = ProjectionStore::Open(dir_ / "projections");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::unique_ptr<ProjectionRunner> StartRunner(std::atomic<int>* applied,
                                                uint32_t page_size = 100) {
    auto runner = ProjectionRunner::Start(
        log_.get(), store_.get(), std::make_unique<CountingProjection>(applied),
        {.page_size = page_size});
    EXPECT_TRUE(runner.ok()) << runner.status();
    return runner.ok() ? *std::move(runner) : nullptr;
  }

  void Append(int events) {
    for (int i = 0; i < events; i += 50) {
      eventstore::AppendRequest request{.stream_id = "s"};
      for (int j = i; j < std::min(events, i + 50); ++j) {
        request.events.push_back({.type = "E", .payload = absl::StrCat(j)});
      }
      ASSERT_TRUE(log_->Append(std::move(request)).ok());
    }
  }

  void ExpectEverySeenOnce(const StateReader& reader, uint64_t head) {
    auto seen = reader.Scan("seen/", "", ~size_t{0});
    ASSERT_TRUE(seen.ok());
    ASSERT_EQ(seen->size(), head) << "an event was skipped";
    for (uint64_t i = 0; i < head; ++i) {
      ASSERT_EQ((*seen)[i].first,
                absl::StrCat("seen/", rf::PositionKey(i + 1)));
    }
    EXPECT_EQ(Count(reader), head);
  }

  plantrail::testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> log_;
  std::unique_ptr<ProjectionStore> store_;
};

TEST_F(RunnerTest, ResumesFromItsCheckpointWithoutRepeatingOrSkipping) {
  Append(2000);
  std::atomic<int> applied{0};
  {
    auto runner = StartRunner(&applied, 100);
    ASSERT_TRUE(runner->WaitApplied(700, absl::Now() + absl::Seconds(30)).ok());
  }  // stopped somewhere between 700 and 2000
  const int first_run = applied.load();
  ASSERT_GE(first_run, 700);
  store_.reset();  // and the projection store closed and reopened
  OpenProjections();
  Append(500);
  // The committed checkpoint is exactly what was applied with the state.
  auto live = store_->Live("counting");
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(*(*live)->ReadCheckpoint(), static_cast<uint64_t>(first_run));
  auto runner = StartRunner(&applied);
  ASSERT_TRUE(runner->WaitApplied(2500, absl::Now() + absl::Seconds(30)).ok());
  EXPECT_EQ(applied.load(), 2500) << "every event applied exactly once";
  EXPECT_EQ(runner->Status().events_applied, 2500u - first_run);
  EXPECT_EQ(runner->Status().state, RunnerStatus::State::kRunning);
  ExpectEverySeenOnce(*runner->Live(), 2500);
}

TEST_F(RunnerTest, RebuildsIntoAShadowWhileTheLogGrowsAndReadersRead) {
  Append(3000);
  auto runner = StartRunner(nullptr, 100);
  ASSERT_TRUE(runner->WaitApplied(3000, absl::Now() + absl::Seconds(30)).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::thread writer([&] {
    for (int i = 0; i < 40 && !stop; ++i) Append(25);
  });
  std::thread reader([&] {
    while (!stop) {
      std::shared_ptr<const StateReader> live = runner->Live();
      // A reader is a snapshot: its state holds exactly its checkpoint.
      // A half-built copy would hold fewer.
      const uint64_t count = Count(*live);
      EXPECT_EQ(count, live->checkpoint()) << "saw a half-built state";
      EXPECT_GE(count, 3000u);
      reads.fetch_add(1);
    }
  });
  ASSERT_TRUE(runner->Rebuild().ok());
  EXPECT_EQ(runner->Rebuild().code(), absl::StatusCode::kFailedPrecondition);
  for (int i = 0; i < 600 && runner->Status().generation == 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  writer.join();
  stop = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  const RunnerStatus status = runner->Status();
  EXPECT_EQ(status.generation, 2u) << "the shadow replaced the live copy";
  EXPECT_EQ(status.state, RunnerStatus::State::kRunning);
  const uint64_t head = log_->HeadPosition();
  ASSERT_TRUE(runner->WaitApplied(head, absl::Now() + absl::Seconds(30)).ok());
  ExpectEverySeenOnce(*runner->Live(), head);

  // The promoted copy is the live one after a restart too.
  runner.reset();
  store_.reset();
  OpenProjections();
  runner = StartRunner(nullptr);
  EXPECT_EQ(runner->Status().generation, 2u);
  EXPECT_EQ(runner->Status().checkpoint, head);
}

// A projection that keeps what CountingProjection keeps, under a new
// layout, and marks each event it folded.
class RelaidProjection final : public Projection {
 public:
  std::string name() const override { return "counting"; }
  uint32_t layout() const override { return 2; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     StateWriter& state) override {
    PLANTRAIL_RETURN_IF_ERROR(counting_.Apply(event, state));
    state.Put(absl::StrCat("layout2/", rf::PositionKey(event.position)), "");
    return absl::OkStatus();
  }

 private:
  CountingProjection counting_;
};

TEST_F(RunnerTest, ACopyOfAnotherLayoutIsFoldedAnewBesideIt) {
  Append(1000);
  {
    auto runner = StartRunner(nullptr);
    ASSERT_TRUE(
        runner->WaitApplied(1000, absl::Now() + absl::Seconds(30)).ok());
    EXPECT_EQ(*store_->Live("counting").value()->ReadLayout(), 1u);
  }
  // The projection changed what it keeps: at start, the old copy keeps
  // answering while a new one folds the log from position 1.
  auto started = ProjectionRunner::Start(log_.get(), store_.get(),
                                         std::make_unique<RelaidProjection>(),
                                         {.page_size = 50});
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<ProjectionRunner> runner = *std::move(started);
  EXPECT_EQ(Count(*runner->Live()), 1000u);
  for (int i = 0; i < 600 && runner->Status().generation == 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(runner->Status().generation, 2u);
  ASSERT_TRUE(runner->WaitApplied(1000, absl::Now() + absl::Seconds(30)).ok());
  std::shared_ptr<const StateReader> live = runner->Live();
  ExpectEverySeenOnce(*live, 1000);
  auto marked = live->Scan("layout2/", "", ~size_t{0});
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(marked->size(), 1000u) << "every event folded by the new layout";
  EXPECT_EQ(*store_->Live("counting").value()->ReadLayout(), 2u);

  // Started again under the same layout: nothing is folded anew.
  runner.reset();
  started = ProjectionRunner::Start(log_.get(), store_.get(),
                                    std::make_unique<RelaidProjection>(), {});
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ((*started)->Status().generation, 2u);
  EXPECT_EQ((*started)->Status().state, RunnerStatus::State::kRunning);
}

TEST_F(RunnerTest, ReadersWaitForAPositionOrTheirDeadline) {
  auto runner = StartRunner(nullptr);
  Append(10);
  EXPECT_TRUE(runner->WaitApplied(10, absl::Now() + absl::Seconds(30)).ok());
  absl::Status late =
      runner->WaitApplied(11, absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(late.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(late.message().find("not yet at 11"), absl::string_view::npos);
  // A waiter is released as soon as its position is applied.
  std::thread later([&] { Append(1); });
  EXPECT_TRUE(runner->WaitApplied(11, absl::Now() + absl::Seconds(30)).ok());
  later.join();
}

class FailingProjection final : public Projection {
 public:
  std::string name() const override { return "failing"; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     StateWriter& state) override {
    if (event.position == 3) return absl::DataLossError("cannot fold this");
    state.Put("last", rf::PositionKey(event.position));
    return absl::OkStatus();
  }
};

TEST_F(RunnerTest, AFailingProjectionStopsAndSaysWhereRatherThanSkip) {
  Append(5);
  auto runner = ProjectionRunner::Start(log_.get(), store_.get(),
                                        std::make_unique<FailingProjection>(),
                                        {.page_size = 1});
  ASSERT_TRUE(runner.ok());
  absl::Status waited =
      (*runner)->WaitApplied(5, absl::Now() + absl::Seconds(30));
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable);
  const RunnerStatus status = (*runner)->Status();
  EXPECT_EQ(status.state, RunnerStatus::State::kFailed);
  EXPECT_EQ(status.checkpoint, 2u);
  EXPECT_NE(status.error.find("at position 3"), std::string::npos)
      << status.error;
}

}  // namespace
}  // namespace plantrail::projections

namespace plantrail::projections {
namespace {

class CheckpointCheckTest : public RunnerTest {
 protected:
  // Folds a log of 150 events, then puts one of `events` in its place.
  void FoldThenReplaceLog(int events) {
    Append(150);
    {
      auto runner = StartRunner(nullptr);
      ASSERT_TRUE(
          runner->WaitApplied(150, absl::Now() + absl::Seconds(30)).ok());
    }
    ReplaceLog(events);
  }

  // Replaces the log with another one of `events` events whose payloads
  // differ, the way a log restored from elsewhere or rewritten would.
  void ReplaceLog(int events) {
    log_.reset();
    std::filesystem::remove_all(dir_ / "log");
    auto log = eventstore::EventStore::Open(
        {.path = dir_ / "log", .durability = eventstore::Durability::kNoSync});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    eventstore::AppendRequest request{.stream_id = "s"};
    for (int j = 0; j < events; ++j) {
      request.events.push_back({.type = "E", .payload = absl::StrCat("x", j)});
    }
    ASSERT_TRUE(log_->Append(std::move(request)).ok());
  }
};

TEST_F(CheckpointCheckTest, AProjectionFoldedFromThisLogChecksOut) {
  Append(150);
  auto runner = StartRunner(nullptr);
  ASSERT_TRUE(runner->WaitApplied(150, absl::Now() + absl::Seconds(30)).ok());
  const CheckpointCheck check = runner->VerifyCheckpoint();
  EXPECT_TRUE(check.ok) << check.problem;
  EXPECT_EQ(check.name, "counting");
  EXPECT_EQ(check.checkpoint, 150u);
}

TEST_F(CheckpointCheckTest, AProjectionFoldedFromAnotherLogIsCaught) {
  FoldThenReplaceLog(150);
  auto runner = StartRunner(nullptr);
  const CheckpointCheck check = runner->VerifyCheckpoint();
  EXPECT_FALSE(check.ok);
  EXPECT_EQ(check.checkpoint, 150u);
  EXPECT_NE(check.problem.find("chain hash differs from the log's"),
            std::string::npos)
      << check.problem;
}

TEST_F(CheckpointCheckTest, ACheckpointBeyondTheLogsHeadIsCaught) {
  FoldThenReplaceLog(20);
  auto runner = StartRunner(nullptr);
  const CheckpointCheck check = runner->VerifyCheckpoint();
  EXPECT_FALSE(check.ok);
  EXPECT_NE(check.problem.find("beyond the log's head (20)"), std::string::npos)
      << check.problem;
}

TEST_F(CheckpointCheckTest, AnEmptyProjectionHasNothingToCheck) {
  auto runner = StartRunner(nullptr);
  const CheckpointCheck check = runner->VerifyCheckpoint();
  EXPECT_TRUE(check.ok) << check.problem;
  EXPECT_EQ(check.checkpoint, 0u);
}

}  // namespace
}  // namespace plantrail::projections

namespace plantrail::projections {
namespace {

// Counts events of type "E" and ignores the rest (writes nothing for them).
class SelectiveProjection final : public Projection {
 public:
  std::string name() const override { return "selective"; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     StateWriter& state) override {
    if (event.type != "E") return absl::OkStatus();
    if (absl::Status counted = AddOne(state); !counted.ok()) return counted;
    return absl::OkStatus();
  }
};

class QuietPagesTest : public RunnerTest {
 protected:
  void AppendOf(const std::string& type, int events) {
    eventstore::AppendRequest request{.stream_id = "s"};
    for (int j = 0; j < events; ++j) {
      request.events.push_back({.type = type, .payload = absl::StrCat(j)});
    }
    ASSERT_TRUE(log_->Append(std::move(request)).ok());
  }
  std::unique_ptr<ProjectionRunner> StartSelective() {
    auto runner = ProjectionRunner::Start(
        log_.get(), store_.get(), std::make_unique<SelectiveProjection>(),
        {.page_size = 100, .checkpoint_every_positions = 1000});
    EXPECT_TRUE(runner.ok()) << runner.status();
    return runner.ok() ? *std::move(runner) : nullptr;
  }
  uint64_t Persisted() {
    auto live = store_->Live("selective");
    EXPECT_TRUE(live.ok());
    return *(*live)->ReadCheckpoint();
  }
};

TEST_F(QuietPagesTest, PagesThatChangeNothingAreNotWrittenYetNothingIsLost) {
  AppendOf("E", 10);
  AppendOf("X", 300);
  {
    auto runner = StartSelective();
    ASSERT_TRUE(runner->WaitApplied(310, absl::Now() + absl::Seconds(30)).ok());
    EXPECT_EQ(runner->Status().checkpoint, 310u);
    EXPECT_EQ(Count(*runner->Live()), 10u);
  }
  // The quiet pages were not written: the committed checkpoint is the end of
  // the last page that changed something (pages of 100: 10 E and 90 X).
  EXPECT_EQ(Persisted(), 100u);
  AppendOf("E", 5);
  {
    // A restart reads the quiet events again, to no effect, and applies the
    // new ones once.
    auto runner = StartSelective();
    ASSERT_TRUE(runner->WaitApplied(315, absl::Now() + absl::Seconds(30)).ok());
    EXPECT_EQ(Count(*runner->Live()), 15u);
    EXPECT_TRUE(runner->VerifyCheckpoint().ok);
  }
  EXPECT_EQ(Persisted(), 315u);
  // However quiet the log, the checkpoint is written every so often.
  AppendOf("X", 1000);
  AppendOf("X", 500);
  {
    auto runner = StartSelective();
    ASSERT_TRUE(
        runner->WaitApplied(1815, absl::Now() + absl::Seconds(30)).ok());
  }
  EXPECT_GE(Persisted(), 1315u);
}

}  // namespace
}  // namespace plantrail::projections

namespace plantrail::projections {
namespace {

// Counts events per key (position % 3) in staged AreaStates' version field:
// state that lives decoded across pages.
class StagingProjection final : public Projection {
 public:
  std::string name() const override { return "staging"; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     StateWriter& state) override {
    absl::StatusOr<stored::AreaState*> counter =
        StagedMessage<stored::AreaState>(state,
                                         absl::StrCat("k", event.position % 3));
    if (!counter.ok()) return counter.status();
    (*counter)->set_version((*counter)->version() + 1);
    return absl::OkStatus();
  }
};

uint64_t Counted(const StateReader& reader, int key) {
  auto bytes = reader.Get(absl::StrCat("k", key));
  stored::AreaState counter;
  if (bytes.ok() && bytes->has_value()) counter.ParseFromString(**bytes);
  return counter.version();
}

TEST_F(RunnerTest, StagedStateCarriedAcrossPagesAndRestartsCountsEveryEvent) {
  Append(100);
  auto start = [&] {
    auto runner = ProjectionRunner::Start(log_.get(), store_.get(),
                                          std::make_unique<StagingProjection>(),
                                          {.page_size = 7});
    EXPECT_TRUE(runner.ok()) << runner.status();
    return runner.ok() ? *std::move(runner) : nullptr;
  };
  {
    auto runner = start();
    ASSERT_TRUE(runner->WaitApplied(100, absl::Now() + absl::Seconds(30)).ok());
    auto live = runner->Live();
    EXPECT_EQ(Counted(*live, 0) + Counted(*live, 1) + Counted(*live, 2), 100u);
    EXPECT_EQ(Counted(*live, 1), 34u);  // 1, 4, ..., 100
  }
  store_.reset();
  OpenProjections();
  Append(50);
  auto runner = start();
  ASSERT_TRUE(runner->WaitApplied(150, absl::Now() + absl::Seconds(30)).ok());
  auto live = runner->Live();
  EXPECT_EQ(Counted(*live, 0), 50u);
  EXPECT_EQ(Counted(*live, 1), 50u);
  EXPECT_EQ(Counted(*live, 2), 50u);
  // A rebuild (a new copy, a cold cache) folds to the same counts.
  ASSERT_TRUE(runner->Rebuild().ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (runner->Status().state == RunnerStatus::State::kRebuilding &&
         absl::Now() < deadline) {
    std::this_thread::yield();
  }
  live = runner->Live();
  EXPECT_EQ(Counted(*live, 0) + Counted(*live, 1) + Counted(*live, 2), 150u);
}

// A rebuild commits many pages in one batch; however small the batches it
// is allowed, what it folds is every event once, and the shadow it promotes
// answers at the live copy's position.
TEST_F(RunnerTest, ARebuildCommittedInBatchesOfAnySizeFoldsEveryEventOnce) {
  Append(1000);
  for (size_t batch_bytes : {size_t{1}, size_t{2000}, size_t{8} << 20}) {
    SCOPED_TRACE(absl::StrCat("shadow batches of ", batch_bytes, " bytes"));
    auto runner = ProjectionRunner::Start(
        log_.get(), store_.get(), std::make_unique<CountingProjection>(),
        {.page_size = 30, .shadow_batch_bytes = batch_bytes});
    ASSERT_TRUE(runner.ok()) << runner.status();
    const uint64_t generation = (*runner)->Status().generation;
    ASSERT_TRUE(
        (*runner)->WaitApplied(1000, absl::Now() + absl::Seconds(30)).ok());
    ASSERT_TRUE((*runner)->Rebuild().ok());
    Append(100);  // the log grows while the shadow folds
    for (int i = 0; i < 600 && (*runner)->Status().generation == generation;
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ((*runner)->Status().generation, generation + 1);
    const uint64_t head = log_->HeadPosition();
    ASSERT_TRUE(
        (*runner)->WaitApplied(head, absl::Now() + absl::Seconds(30)).ok());
    ExpectEverySeenOnce(*(*runner)->Live(), head);
    // What was promoted is what was committed.
    auto live = store_->Live("counting");
    ASSERT_TRUE(live.ok());
    EXPECT_EQ(*(*live)->ReadCheckpoint(), head);
  }
}

}  // namespace
}  // namespace plantrail::projections
