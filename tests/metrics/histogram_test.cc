// Buckets, sum and count, and the snapshot invariants Prometheus relies on,
// also while other threads observe.
#include "metrics/histogram.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::metrics {
namespace {

using ::testing::ElementsAre;

#ifdef NDEBUG
constexpr bool kDebugBuild = false;
#else
constexpr bool kDebugBuild = true;
#endif

// The invariants a scrape needs, whatever happens meanwhile.
void ExpectConsistent(const Histogram::Snapshot& snapshot) {
  ASSERT_EQ(snapshot.cumulative_counts.size(),
            snapshot.upper_bounds.size() + 1);
  for (size_t i = 1; i < snapshot.cumulative_counts.size(); ++i) {
    EXPECT_LE(snapshot.cumulative_counts[i - 1], snapshot.cumulative_counts[i])
        << "bucket " << i;
  }
  EXPECT_EQ(snapshot.cumulative_counts.back(), snapshot.count);
}

TEST(MetricsHistogramTest, EmptyHistogramReadsZero) {
  const Histogram histogram({1, 2});
  const Histogram::Snapshot snapshot = histogram.Read();
  EXPECT_THAT(snapshot.upper_bounds, ElementsAre(1, 2));
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(0, 0, 0));
  EXPECT_EQ(snapshot.count, 0u);
  EXPECT_EQ(snapshot.sum, 0);
}

TEST(MetricsHistogramTest, ValueEqualToABoundIsInThatBucket) {
  Histogram histogram({1, 2, 5});
  for (double value : {-3.0, 0.5, 1.0}) histogram.Observe(value);  // le=1
  for (double value : {1.5, 2.0}) histogram.Observe(value);        // le=2
  histogram.Observe(5);                                            // le=5
  for (double value : {5.0001, 1e300}) histogram.Observe(value);   // +Inf
  const Histogram::Snapshot snapshot = histogram.Read();
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(3, 5, 6, 8));
  EXPECT_EQ(snapshot.count, 8u);
}

TEST(MetricsHistogramTest, SumAndCount) {
  Histogram histogram({0.5, 1});
  // Binary fractions, so that the sum is exact.
  for (double value : {0.25, 0.5, 0.75, 1.5, -0.125}) histogram.Observe(value);
  const Histogram::Snapshot snapshot = histogram.Read();
  EXPECT_EQ(snapshot.sum, 2.875);
  EXPECT_EQ(snapshot.count, 5u);
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(3, 4, 5));
}

TEST(MetricsHistogramTest, NanCountsInInfBucketAndPoisonsSum) {
  Histogram histogram({1});
  histogram.Observe(std::nan(""));
  const Histogram::Snapshot snapshot = histogram.Read();
  EXPECT_THAT(snapshot.cumulative_counts, ElementsAre(0, 1));
  EXPECT_TRUE(std::isnan(snapshot.sum));
}

TEST(MetricsHistogramTest, TrailingInfBoundIsImplied) {
  const Histogram histogram({1, 2, HUGE_VAL});
  EXPECT_THAT(histogram.upper_bounds(), ElementsAre(1, 2));
  EXPECT_EQ(histogram.Read().cumulative_counts.size(), 3u);
}

TEST(MetricsHistogramTest, NoBoundsLeavesTheInfBucket) {
  Histogram histogram({});
  histogram.Observe(7);
  EXPECT_THAT(histogram.Read().cumulative_counts, ElementsAre(1));
}

TEST(MetricsHistogramDeathTest, BoundsOutOfOrderAreAProgrammingError) {
  EXPECT_DEBUG_DEATH(Histogram({1, 3, 2, 4}), "strictly increasing");
  EXPECT_DEBUG_DEATH(Histogram({1, std::nan("")}), "strictly increasing");
  EXPECT_DEBUG_DEATH(Histogram({-HUGE_VAL, 1}), "strictly increasing");
  if (!kDebugBuild) {
    EXPECT_THAT(Histogram({1, 3, 2, 4}).upper_bounds(), ElementsAre(1, 3, 4));
    EXPECT_THAT(Histogram({1, 1, std::nan("")}).upper_bounds(), ElementsAre(1));
  }
}

TEST(MetricsHistogramTest, ExponentialBounds) {
  EXPECT_THAT(Histogram::ExponentialBounds(0.25, 2, 4),
              ElementsAre(0.25, 0.5, 1, 2));
  EXPECT_THAT(Histogram::ExponentialBounds(1, 10, 1), ElementsAre(1));
}

TEST(MetricsHistogramDeathTest, ExponentialBoundsNeedGrowth) {
  EXPECT_DEBUG_DEATH(Histogram::ExponentialBounds(0, 2, 3), "start > 0");
  EXPECT_DEBUG_DEATH(Histogram::ExponentialBounds(1, 1, 3), "factor > 1");
  EXPECT_DEBUG_DEATH(Histogram::ExponentialBounds(1, 2, 0), "count >= 1");
  if (!kDebugBuild) {
    EXPECT_TRUE(Histogram::ExponentialBounds(1, 0.5, 3).empty());
  }
}

TEST(MetricsHistogramTest, ConcurrentObserversGiveExactTotals) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  Histogram histogram({1, 2, 3});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Thread t observes t + 1: whole numbers, so the sum is exact.
    threads.emplace_back([&histogram, t] {
      for (int i = 0; i < kPerThread; ++i) histogram.Observe(t + 1);
    });
  }
  for (std::thread& thread : threads) thread.join();
  const Histogram::Snapshot snapshot = histogram.Read();
  EXPECT_THAT(
      snapshot.cumulative_counts,
      ElementsAre(kPerThread, 2 * kPerThread, 3 * kPerThread, 4 * kPerThread));
  EXPECT_EQ(snapshot.count, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(snapshot.sum, double{kPerThread} * (1 + 2 + 3 + 4));
}

TEST(MetricsHistogramTest, SnapshotsStayConsistentWhileObserving) {
  constexpr int kThreads = 3;
  constexpr int kPerThread = 50000;
  Histogram histogram(Histogram::ExponentialBounds(1, 2, 8));
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&histogram, &running, t] {
      for (int i = 0; i < kPerThread; ++i) histogram.Observe((i + t) % 300);
      running.fetch_sub(1);
    });
  }
  uint64_t last_count = 0;
  int reads = 0;
  // Reads until every observer finished, then once more: at least one read,
  // however the threads are scheduled.
  bool observers_done = false;
  while (!observers_done) {
    observers_done = running.load() == 0;
    const Histogram::Snapshot snapshot = histogram.Read();
    ExpectConsistent(snapshot);
    EXPECT_GE(snapshot.count, last_count);
    last_count = snapshot.count;
    ++reads;
    if (::testing::Test::HasFailure()) break;
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_GE(reads, 1);
  EXPECT_EQ(histogram.Read().count, uint64_t{kThreads} * kPerThread);
}

}  // namespace
}  // namespace plantrail::metrics
