// Concurrent appends: one writer orders them, commits them in groups (one
// WriteBatch, one fsync each), and positions stay unique and gapless.
#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sync.h"
#include "gtest/gtest.h"
#include "tests/eventstore/test_util.h"
#include "tests/temp_dir.h"

namespace plantrail::eventstore {
namespace {

using ::plantrail::eventstore::testing::Event;
using ::plantrail::eventstore::testing::OpenStore;
using ::plantrail::eventstore::testing::ReadEverything;
using ::plantrail::eventstore::testing::Request;

TEST(GroupCommitTest, QueuedAppendsCommitAsOneBatchWithOneFsync) {
  plantrail::testing::TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  const Stats before = store->GetStats();

  store->PauseWriterForTesting();
  constexpr int kAppends = 16;
  plantrail::Mutex mu;
  int done = 0;
  std::vector<uint64_t> positions;
  for (int i = 0; i < kAppends; ++i) {
    store->AppendAsync(
        Request(absl::StrCat("s-", i), ExpectedVersion::NoStream(),
                {Event("A", "a"), Event("A", "b")}),
        [&](absl::StatusOr<AppendResult> result) {
          plantrail::MutexLock lock(&mu);
          EXPECT_TRUE(result.ok()) << result.status();
          if (result.ok()) positions.push_back(result->first_position);
          ++done;
        });
  }
  EXPECT_EQ(store->QueuedAppendsForTesting(), size_t{kAppends});
  store->ResumeWriterForTesting();
  {
    plantrail::MutexLock lock(&mu);
    mu.Await([&] { return done == kAppends; });
  }
  const Stats after = store->GetStats();
  EXPECT_EQ(after.commit_groups - before.commit_groups, 1u);
  EXPECT_EQ(after.synced_commits - before.synced_commits, 1u);
  EXPECT_EQ(after.wal_syncs - before.wal_syncs, 1u)
      << "one group must cost exactly one fsync";
  EXPECT_EQ(after.events_appended - before.events_appended, 32u);
  std::set<uint64_t> unique(positions.begin(), positions.end());
  EXPECT_EQ(unique.size(), size_t{kAppends});
  EXPECT_EQ(store->HeadPosition(), 32u);
}

// 16 threads append to their own streams and race on one shared stream with
// exact expected versions.
TEST(GroupCommitTest, ConcurrentAppendsStayGaplessAndOneWinsEachVersion) {
  plantrail::testing::TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 16;
  constexpr int kOwnAppends = 20;
  constexpr int kSharedAttempts = 20;

  plantrail::Mutex mu;
  // shared stream version -> the thread whose append got it
  std::map<uint64_t, int> shared_winners;
  int shared_conflicts = 0;
  std::atomic<int> failures{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string own = absl::StrCat("own-", t);
      for (int i = 0; i < kOwnAppends; ++i) {
        auto result = store->Append(
            Request(own, ExpectedVersion::Any(),
                    {Event("Own", absl::StrCat(t, ":", i)),
                     Event("Own", absl::StrCat(t, ":", i, "b"))}));
        if (!result.ok()) failures.fetch_add(1);
      }
      for (int i = 0; i < kSharedAttempts; ++i) {
        auto page = store->ReadStream({.stream_id = "shared",
                                       .direction = ReadDirection::kBackward,
                                       .limit = 1});
        const uint64_t seen = page.ok() ? page->last_version : 0;
        ExpectedVersion expected = seen == 0 ? ExpectedVersion::NoStream()
                                             : ExpectedVersion::Exact(seen);
        auto result = store->Append(
            Request("shared", expected, {Event("Shared", absl::StrCat(t))}));
        plantrail::MutexLock lock(&mu);
        if (result.ok()) {
          EXPECT_EQ(result->first_version, seen + 1);
          EXPECT_TRUE(shared_winners.emplace(result->first_version, t).second)
              << "two appends won version " << result->first_version;
        } else if (result.status().code() == absl::StatusCode::kAborted) {
          ++shared_conflicts;
          EXPECT_GT(CurrentVersionOf(result.status()).value_or(0), seen);
        } else {
          ADD_FAILURE() << result.status();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);

  const std::vector<RecordedEvent> all = ReadEverything(*store);
  const size_t expected_total =
      kThreads * kOwnAppends * 2 + shared_winners.size();
  ASSERT_EQ(all.size(), expected_total);
  std::map<std::string, uint64_t> versions;
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].position, i + 1) << "positions must be gapless";
    ASSERT_EQ(all[i].stream_version, ++versions[all[i].stream_id])
        << "stream versions must be gapless";
  }
  // Every shared version has exactly one winner, and the stored event is his.
  ASSERT_EQ(versions["shared"], shared_winners.size());
  for (const RecordedEvent& event : all) {
    if (event.stream_id != "shared") continue;
    EXPECT_EQ(event.payload,
              absl::StrCat(shared_winners.at(event.stream_version)));
  }
  EXPECT_EQ(shared_winners.size() + shared_conflicts,
            size_t{kThreads * kSharedAttempts});
  const Stats stats = store->GetStats();
  EXPECT_EQ(stats.synced_commits, stats.commit_groups);
  auto report = store->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST(GroupCommitTest, RetriesQueuedInTheSameGroupAsTheOriginalAreReplays) {
  plantrail::testing::TempDir dir;
  auto store = OpenStore(dir.path());
  ASSERT_NE(store, nullptr);
  store->PauseWriterForTesting();
  constexpr char kId[] = "44444444-4444-4444-8444-444444444444";
  std::vector<absl::StatusOr<AppendResult>> results;
  plantrail::Mutex mu;
  for (int i = 0; i < 2; ++i) {
    store->AppendAsync(
        Request("s", ExpectedVersion::NoStream(), {Event("A", "x", kId)}),
        [&](absl::StatusOr<AppendResult> result) {
          plantrail::MutexLock lock(&mu);
          results.push_back(std::move(result));
        });
  }
  store->ResumeWriterForTesting();
  {
    plantrail::MutexLock lock(&mu);
    mu.Await([&] { return results.size() == 2; });
  }
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  EXPECT_FALSE(results[0]->replayed);
  EXPECT_TRUE(results[1]->replayed);
  EXPECT_EQ(results[1]->first_position, results[0]->first_position);
  EXPECT_EQ(store->HeadPosition(), 1u);
}

}  // namespace
}  // namespace plantrail::eventstore
