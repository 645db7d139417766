// The command handler without gRPC, so that its concurrency (one command per
// stream, continuations on its own threads) runs under ThreadSanitizer.
#include "services/plan_command_handler.h"

#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sync.h"
#include "domain/event_codec.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace plantrail::services {
namespace {

class PlanCommandHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = eventstore::RocksDbEventStore::Open(
        {.path = dir_.path(), .durability = eventstore::Durability::kNoSync});
    ASSERT_TRUE(store.ok()) << store.status();
    rocksdb_ = store->get();
    store_ = *std::move(store);
    handler_ = std::make_unique<PlanCommandHandler>(store_.get());
  }
  void TearDown() override {
    handler_.reset();
    store_.reset();
  }

  template <typename Request>
  absl::StatusOr<v1::CommandResult> Run(const Request& command) {
    Notification done;
    absl::StatusOr<v1::CommandResult> result;
    handler_->Handle(principal_, command,
                     [&](absl::StatusOr<v1::CommandResult> outcome) {
                       result = std::move(outcome);
                       done.Notify();
                     });
    done.WaitForNotification();
    return result;
  }

  static v1::RegisterAreaRequest Register(const std::string& id) {
    v1::RegisterAreaRequest request;
    request.set_area_id(id);
    request.set_title("Shared budget follow-up");
    request.set_support_area("3.4");
    return request;
  }

  static v1::ReportStatusRequest Report(const std::string& id, int n) {
    v1::ReportStatusRequest request;
    request.set_area_id(id);
    request.set_phase(v1::PHASE_IN_PROGRESS);
    request.set_health(v1::HEALTH_ON_TRACK);
    request.set_narrative(absl::StrCat("report ", n));
    return request;
  }

  // Starts `command`; its outcome arrives in `*result`, then `*done`.
  template <typename Request>
  void Start(const Request& command, absl::StatusOr<v1::CommandResult>* result,
             Notification* done) {
    handler_->Handle(principal_, command,
                     [result, done](absl::StatusOr<v1::CommandResult> outcome) {
                       *result = std::move(outcome);
                       done->Notify();
                     });
  }

  // Waits (a bounded while) until `count` appends wait in the paused store.
  void AwaitQueuedAppends(size_t count) {
    const absl::Time give_up = absl::Now() + absl::Seconds(1);
    while (rocksdb_->QueuedAppendsForTesting() < count &&
           absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  // Plan "kth-vs-2023" with area "1", closed: a plan that may close.
  void RegisterClosablePlan() {
    v1::RegisterPlanRequest plan;
    plan.set_plan_id("kth-vs-2023");
    plan.mutable_fields()->set_title("Verksamhetsstöd");
    ASSERT_TRUE(Run(plan).ok());
    v1::RegisterAreaRequest area = Register("1");
    area.set_plan_id("kth-vs-2023");
    ASSERT_TRUE(Run(area).ok());
    v1::CloseAreaRequest close;
    close.set_plan_id("kth-vs-2023");
    close.set_area_id("1");
    close.set_outcome(v1::OUTCOME_COMPLETED);
    close.set_reason("Done");
    ASSERT_TRUE(Run(close).ok());
  }

  static v1::ClosePlanRequest ClosePlan() {
    v1::ClosePlanRequest close;
    close.set_plan_id("kth-vs-2023");
    close.set_reason("Period over");
    return close;
  }

  plantrail::testing::TempDir dir_;
  eventstore::RocksDbEventStore* rocksdb_ = nullptr;
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<PlanCommandHandler> handler_;
  const Principal principal_{.name = "planner-anna"};
};

TEST_F(PlanCommandHandlerTest, ConcurrentCommandsOnOneAreaAllLandInOrder) {
  ASSERT_TRUE(Run(Register("3.4.2")).ok());
  ASSERT_TRUE(Run(Register("3.4.3")).ok());
  constexpr int kThreads = 8;
  constexpr int kReports = 10;
  Mutex mu;
  std::vector<absl::StatusOr<v1::CommandResult>> results;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kReports; ++i) {
        // Half the threads on each of two areas: one queue each, shared
        // commit groups.
        auto result = Run(Report(t % 2 == 0 ? "3.4.2" : "3.4.3", i));
        MutexLock lock(&mu);
        results.push_back(std::move(result));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::pair<std::string, uint64_t>> versions;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_TRUE(versions.emplace(result->stream_id(), result->version()).second)
        << "two commands got one version";
  }
  EXPECT_EQ(*store_->StreamVersion("area-3.4.2"), 1u + kThreads / 2 * kReports);
  EXPECT_EQ(*store_->StreamVersion("area-3.4.3"), 1u + kThreads / 2 * kReports);
}

TEST_F(PlanCommandHandlerTest, TheActorIsThePrincipal) {
  auto result = Run(Register("3.4.2"));
  ASSERT_TRUE(result.ok()) << result.status();
  auto event = store_->ReadEvent(result->event_id());
  ASSERT_TRUE(event.ok() && event->has_value());
  EXPECT_EQ((*event)->metadata.at(kActorKey), "planner-anna");
}

TEST_F(PlanCommandHandlerTest, ConcurrentRetriesOfOneCommandWriteOnce) {
  v1::RegisterAreaRequest command = Register("3.4.2");
  command.mutable_options()->set_command_id("register-3.4.2");
  std::vector<absl::StatusOr<v1::CommandResult>> results(6);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] { result = Run(command); });
  }
  for (auto& thread : threads) thread.join();
  int written = 0;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->position(), 1u);
    written += result->replayed() ? 0 : 1;
  }
  EXPECT_EQ(written, 1);
  EXPECT_EQ(store_->HeadPosition(), 1u);
}

}  // namespace
}  // namespace plantrail::services

namespace plantrail::services {
namespace {

// An area that opens while its plan closes: whichever commits first, the
// other decides on it, so a closed plan never holds an open area. The store
// is paused so that the first command's append waits uncommitted while the
// second is submitted.
TEST_F(PlanCommandHandlerTest, AnAreaOpeningFirstKeepsItsPlanFromClosing) {
  RegisterClosablePlan();
  rocksdb_->PauseWriterForTesting();
  absl::StatusOr<v1::CommandResult> opened, closed;
  Notification opened_done, closed_done;
  v1::RegisterAreaRequest area = Register("2");
  area.set_plan_id("kth-vs-2023");
  Start(area, &opened, &opened_done);
  AwaitQueuedAppends(1);
  Start(ClosePlan(), &closed, &closed_done);
  // Were ClosePlan to decide now (on a log without area 2), its append
  // would join the queue.
  AwaitQueuedAppends(2);
  rocksdb_->ResumeWriterForTesting();
  opened_done.WaitForNotification();
  closed_done.WaitForNotification();
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(closed.status().code(), absl::StatusCode::kFailedPrecondition)
      << closed.status();
  EXPECT_THAT(std::string(closed.status().message()),
              ::testing::HasSubstr("\"2\""));
  EXPECT_EQ(*store_->StreamVersion("plan-kth-vs-2023"), 1u);
}

TEST_F(PlanCommandHandlerTest, APlanClosingFirstKeepsAnAreaFromOpening) {
  RegisterClosablePlan();
  rocksdb_->PauseWriterForTesting();
  absl::StatusOr<v1::CommandResult> opened, closed;
  Notification opened_done, closed_done;
  Start(ClosePlan(), &closed, &closed_done);
  AwaitQueuedAppends(1);
  v1::RegisterAreaRequest area = Register("2");
  area.set_plan_id("kth-vs-2023");
  Start(area, &opened, &opened_done);
  AwaitQueuedAppends(2);
  rocksdb_->ResumeWriterForTesting();
  opened_done.WaitForNotification();
  closed_done.WaitForNotification();
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition)
      << opened.status();
  EXPECT_THAT(std::string(opened.status().message()),
              ::testing::HasSubstr("[rule: closed-plan-is-settled]"));
  EXPECT_EQ(*store_->StreamVersion("area-kth-vs-2023:2"), 0u);
}

}  // namespace
}  // namespace plantrail::services
