// The lease fence: an acknowledgement goes out only while the leadership
// lease is known valid, checked when it would go out.
#include "replication/lease_fence.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replication/sync_gate.h"

namespace plantrail::replication {
namespace {

using ::testing::HasSubstr;

absl::Status Released(LeaseFence& fence, uint64_t position) {
  absl::Status result = absl::UnknownError("not released");
  fence.Hold(position,
             [&](absl::Status status) { result = std::move(status); });
  return result;
}

TEST(LeaseFenceTest, AcknowledgesOnlyWithinTheLease) {
  LeaseFence fence(nullptr);
  const absl::Status before = Released(fence, 1);
  EXPECT_EQ(before.code(), absl::StatusCode::kUnavailable) << "no lease yet";
  EXPECT_THAT(before.message(), HasSubstr("[rule: leader-holds-lease]"));
  fence.ValidUntil(absl::Now() + absl::Seconds(30));
  EXPECT_TRUE(Released(fence, 2).ok());
  // A lease never moves back.
  fence.ValidUntil(absl::Now() - absl::Seconds(1));
  EXPECT_TRUE(Released(fence, 3).ok());
  fence.Close();
  EXPECT_EQ(Released(fence, 4).code(), absl::StatusCode::kUnavailable);
  fence.ValidUntil(absl::Now() + absl::Seconds(30));
  EXPECT_EQ(Released(fence, 5).code(), absl::StatusCode::kUnavailable)
      << "closed for good";
}

TEST(LeaseFenceTest, ALeaseThatRunsOutWhileAReplicaIsAwaitedStopsTheAnswer) {
  SyncGate sync({.replicas = 1, .timeout = absl::Seconds(30)});
  LeaseFence fence(&sync);
  fence.ValidUntil(absl::Now() + absl::Milliseconds(50));
  absl::Status result = absl::UnknownError("not released");
  fence.Hold(7, [&](absl::Status status) { result = std::move(status); });
  EXPECT_EQ(result.code(), absl::StatusCode::kUnknown) << "waits for it";
  absl::SleepFor(absl::Milliseconds(100));  // paused past the lease
  sync.Durable(1, 7);
  EXPECT_EQ(result.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace plantrail::replication
