// The command handler without gRPC, so that its concurrency (one command per
// stream, continuations on its own threads) runs under ThreadSanitizer.
#include "services/plan_command_handler.h"

#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sync.h"
#include "domain/event_codec.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace plantrail::services {
namespace {

class PlanCommandHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = eventstore::EventStore::Open(
        {.path = dir_.path(), .durability = eventstore::Durability::kNoSync});
    ASSERT_TRUE(store.ok()) << store.status();
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

  plantrail::testing::TempDir dir_;
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
