// The synchronous replication gate: an acknowledgement waits for N replicas'
// durable positions, fails after the timeout, or (fallback) goes on
// asynchronously until they catch up.
#include "replication/sync_gate.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::replication {
namespace {

using ::testing::HasSubstr;

// Records what each held append was released with.
struct Outcomes {
  Mutex mu;
  std::vector<std::pair<uint64_t, absl::Status>> released ABSL_GUARDED_BY(mu);

  absl::AnyInvocable<void(absl::Status) &&> For(uint64_t position) {
    return [this, position](absl::Status status) {
      MutexLock lock(&mu);
      released.emplace_back(position, std::move(status));
    };
  }
  size_t size() {
    MutexLock lock(&mu);
    return released.size();
  }
  std::vector<std::pair<uint64_t, absl::Status>> Take() {
    MutexLock lock(&mu);
    return released;
  }
  // Waits until `n` were released (at most 5 s).
  bool Await(size_t n) {
    MutexLock lock(&mu);
    return mu.AwaitWithDeadline([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                                    mu) { return released.size() >= n; },
                                absl::Now() + absl::Seconds(5));
  }
};

TEST(SyncGateTest, AnAppendWaitsForItsReplicaThenGoesInOrder) {
  Outcomes outcomes;
  SyncGate gate({.replicas = 1, .timeout = absl::Seconds(30)});
  gate.Durable(7, 10);
  gate.Hold(5, outcomes.For(5));  // already held by the replica
  EXPECT_EQ(outcomes.size(), 1u);
  gate.Hold(11, outcomes.For(11));
  gate.Hold(12, outcomes.For(12));
  gate.Hold(20, outcomes.For(20));
  EXPECT_EQ(outcomes.size(), 1u);
  // One acknowledgement covers a whole commit group.
  gate.Durable(7, 12);
  auto released = outcomes.Take();
  ASSERT_EQ(released.size(), 3u);
  EXPECT_EQ(released[1].first, 11u);
  EXPECT_EQ(released[2].first, 12u);
  for (const auto& [position, status] : released) EXPECT_TRUE(status.ok());
  EXPECT_EQ(gate.GetStats().waiting, 1u);
  gate.Durable(7, 25);
  EXPECT_EQ(outcomes.size(), 4u);
  EXPECT_EQ(gate.GetStats().synced_position, 25u);
}

TEST(SyncGateTest, TwoReplicasMeansTheSecondHighest) {
  Outcomes outcomes;
  SyncGate gate({.replicas = 2, .timeout = absl::Seconds(30)});
  gate.Hold(10, outcomes.For(10));
  gate.Durable(1, 50);
  EXPECT_EQ(outcomes.size(), 0u) << "one replica is not two";
  gate.Durable(2, 9);
  EXPECT_EQ(outcomes.size(), 0u);
  gate.Durable(2, 10);
  EXPECT_EQ(outcomes.size(), 1u);
  // A replica that goes away no longer counts.
  gate.Gone(2);
  gate.Hold(11, outcomes.For(11));
  gate.Durable(1, 60);
  EXPECT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(gate.GetStats().connected, 1);
}

TEST(SyncGateTest, WithoutItsReplicaAnAppendFailsAfterTheTimeout) {
  Outcomes outcomes;
  SyncGate gate({.replicas = 1, .timeout = absl::Milliseconds(100)});
  gate.Hold(3, outcomes.For(3));
  ASSERT_TRUE(outcomes.Await(1));
  const auto released = outcomes.Take();
  EXPECT_EQ(released[0].second.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(released[0].second.message(),
              HasSubstr("retry it with the same event ids"));
  EXPECT_THAT(released[0].second.message(), HasSubstr("[rule: sync-replicas]"));
  EXPECT_EQ(gate.GetStats().timed_out, 1u);
  EXPECT_FALSE(gate.GetStats().asynchronous);
}

TEST(SyncGateTest, TheFallbackGoesAsynchronousUntilReplicasCatchUp) {
  Outcomes outcomes;
  SyncGate gate({.replicas = 1,
                 .timeout = absl::Milliseconds(100),
                 .fallback_async = true});
  gate.Hold(3, outcomes.For(3));
  gate.Hold(4, outcomes.For(4));
  ASSERT_TRUE(outcomes.Await(2));
  for (const auto& [position, status] : outcomes.Take()) {
    EXPECT_TRUE(status.ok()) << status;
  }
  EXPECT_TRUE(gate.GetStats().asynchronous);
  // Asynchronous: acknowledged at once.
  gate.Hold(9, outcomes.For(9));
  EXPECT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(gate.GetStats().acknowledged_async, 3u);
  // A replica that holds less than what went without it: still async.
  gate.Durable(1, 5);
  EXPECT_TRUE(gate.GetStats().asynchronous);
  gate.Durable(1, 9);
  EXPECT_FALSE(gate.GetStats().asynchronous);
  gate.Hold(10, outcomes.For(10));
  EXPECT_EQ(outcomes.size(), 3u) << "synchronous again: it waits";
  gate.Durable(1, 10);
  EXPECT_EQ(outcomes.size(), 4u);
}

TEST(SyncGateTest, WhatIsHeldFailsWhenTheGateGoes) {
  Outcomes outcomes;
  {
    SyncGate gate({.replicas = 1, .timeout = absl::Seconds(30)});
    gate.Hold(3, outcomes.For(3));
  }
  const auto released = outcomes.Take();
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].second.code(), absl::StatusCode::kUnavailable);
}

TEST(SyncGateTest, ConcurrentHoldsAndAcknowledgementsReleaseEachOnce) {
  Outcomes outcomes;
  SyncGate gate({.replicas = 1, .timeout = absl::Seconds(30)});
  constexpr int kAppends = 2000;
  std::thread holder([&] {
    for (int i = 1; i <= kAppends; ++i) gate.Hold(i, outcomes.For(i));
  });
  std::thread replica([&] {
    for (int i = 1; i <= kAppends; i += 7) gate.Durable(1, i);
    gate.Durable(1, kAppends);
  });
  holder.join();
  replica.join();
  gate.Durable(1, kAppends);
  ASSERT_TRUE(outcomes.Await(kAppends));
  auto released = outcomes.Take();
  EXPECT_EQ(released.size(), static_cast<size_t>(kAppends));
  for (const auto& [position, status] : released) EXPECT_TRUE(status.ok());
}

}  // namespace
}  // namespace plantrail::replication
