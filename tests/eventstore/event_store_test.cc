#include "eventstore/event_store.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/sync.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eventstore/test_util.h"
#include "tests/temp_dir.h"

namespace plantrail::eventstore {
namespace {

using ::plantrail::eventstore::testing::Event;
using ::plantrail::eventstore::testing::OpenStore;
using ::plantrail::eventstore::testing::ReadEverything;
using ::plantrail::eventstore::testing::Request;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kId1[] = "11111111-1111-4111-8111-111111111111";
constexpr char kId2[] = "22222222-2222-4222-8222-222222222222";
constexpr char kId3[] = "33333333-3333-4333-8333-333333333333";

class EventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenStore(dir_.path()); }
  void Reopen() {
    store_.reset();
    store_ = OpenStore(dir_.path());
  }

  plantrail::testing::TempDir dir_;
  std::unique_ptr<RocksDbEventStore> store_;
};

TEST_F(EventStoreTest, PositionsAreGlobalAndVersionsPerStreamWithoutGaps) {
  ASSERT_TRUE(store_
                  ->Append(Request("area-1", ExpectedVersion::Any(),
                                   {Event("A", "1"), Event("A", "2")}))
                  .ok());
  ASSERT_TRUE(
      store_
          ->Append(Request("area-2", ExpectedVersion::Any(), {Event("B", "3")}))
          .ok());
  auto third = store_->Append(
      Request("area-1", ExpectedVersion::Any(), {Event("A", "4")}));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->first_position, 4u);
  EXPECT_EQ(third->first_version, 3u);

  std::vector<RecordedEvent> all = ReadEverything(*store_);
  ASSERT_EQ(all.size(), 4u);
  std::vector<std::pair<uint64_t, uint64_t>> positions_and_versions;
  for (const RecordedEvent& event : all) {
    positions_and_versions.emplace_back(event.position, event.stream_version);
  }
  EXPECT_THAT(positions_and_versions,
              ElementsAre(std::pair{1u, 1u}, std::pair{2u, 2u},
                          std::pair{3u, 1u}, std::pair{4u, 3u}));
  EXPECT_EQ(all[3].payload, "4");
  EXPECT_EQ(store_->HeadPosition(), 4u);

  Reopen();
  auto next = store_->Append(
      Request("area-2", ExpectedVersion::Any(), {Event("B", "5")}));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->first_position, 5u) << "positions continue after a restart";
  EXPECT_EQ(next->first_version, 2u);
}

TEST_F(EventStoreTest, RecordedEventCarriesWhatWasProposedAndServerStamps) {
  ProposedEvent event = Event("StatusReported", R"({"phase":"planned"})", kId1);
  event.metadata = {{"actor", "anna"}, {"reason", "quarterly"}};
  const absl::Time before = absl::Now() - absl::Seconds(1);
  ASSERT_TRUE(
      store_->Append(Request("area-7", ExpectedVersion::NoStream(), {event}))
          .ok());
  auto page = store_->ReadStream({.stream_id = "area-7"});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->events.size(), 1u);
  const RecordedEvent& stored = page->events[0];
  EXPECT_EQ(stored.event_id, kId1);
  EXPECT_EQ(stored.stream_id, "area-7");
  EXPECT_EQ(stored.type, "StatusReported");
  EXPECT_EQ(stored.payload, R"({"phase":"planned"})");
  EXPECT_EQ(stored.content_type, "application/json");
  EXPECT_EQ(stored.metadata, event.metadata);
  EXPECT_GT(stored.recorded_at, before);
  EXPECT_LT(stored.recorded_at, absl::Now() + absl::Seconds(1));
  EXPECT_NE(stored.hash, Hash{});
}

TEST_F(EventStoreTest, GeneratesEventIdsAndDefaultsTheContentType) {
  ProposedEvent event = Event("A", "x");
  event.content_type.clear();
  auto result =
      store_->Append(Request("s-1", ExpectedVersion::Any(), {event, event}));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->event_ids.size(), 2u);
  EXPECT_NE(result->event_ids[0], result->event_ids[1]);
  auto page = store_->ReadStream({.stream_id = "s-1"});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events[0].event_id, result->event_ids[0]);
  EXPECT_EQ(page->events[0].content_type, "application/octet-stream");
}

TEST_F(EventStoreTest, ExpectedVersionIsCheckedAndAMismatchWritesNothing) {
  // No stream yet.
  EXPECT_TRUE(store_
                  ->Append(Request("a", ExpectedVersion::StreamExists(),
                                   {Event("A", "")}))
                  .status()
                  .code() == absl::StatusCode::kAborted);
  EXPECT_EQ(
      store_->Append(Request("a", ExpectedVersion::Exact(1), {Event("A", "")}))
          .status()
          .code(),
      absl::StatusCode::kAborted);
  ASSERT_TRUE(
      store_
          ->Append(Request("a", ExpectedVersion::NoStream(), {Event("A", "")}))
          .ok());
  // Now at version 1.
  absl::Status conflict =
      store_
          ->Append(Request("a", ExpectedVersion::NoStream(),
                           {Event("A", ""), Event("A", "")}))
          .status();
  EXPECT_EQ(conflict.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(conflict.message(), HasSubstr("version 1"));
  EXPECT_EQ(CurrentVersionOf(conflict), 1u);

  absl::Status stale =
      store_->Append(Request("a", ExpectedVersion::Exact(3), {Event("A", "")}))
          .status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(CurrentVersionOf(stale), 1u);
  EXPECT_EQ(store_->HeadPosition(), 1u) << "a conflict wrote something";

  EXPECT_TRUE(store_
                  ->Append(Request("a", ExpectedVersion::StreamExists(),
                                   {Event("A", "")}))
                  .ok());
  EXPECT_TRUE(
      store_->Append(Request("a", ExpectedVersion::Exact(2), {Event("A", "")}))
          .ok());
  EXPECT_TRUE(
      store_->Append(Request("a", ExpectedVersion::Any(), {Event("A", "")}))
          .ok());
  EXPECT_EQ(store_->HeadPosition(), 4u);
  // A missing stream's current version is 0.
  EXPECT_EQ(
      CurrentVersionOf(store_
                           ->Append(Request("b", ExpectedVersion::Exact(2),
                                            {Event("A", "")}))
                           .status()),
      0u);
}

TEST_F(EventStoreTest, AnAppendThatFailsAnyCheckWritesNoneOfItsEvents) {
  ASSERT_TRUE(
      store_->Append(Request("a", ExpectedVersion::Any(), {Event("A", "")}))
          .ok());
  // The third event breaks a rule: the first two must not be written either.
  absl::Status invalid = store_
                             ->Append(Request("a", ExpectedVersion::Any(),
                                              {Event("A", "1"), Event("A", "2"),
                                               Event("not a type", "3")}))
                             .status();
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.message(), HasSubstr("events[2].type"));
  // The second event reuses a stored id with other content.
  ASSERT_TRUE(store_
                  ->Append(Request("a", ExpectedVersion::Any(),
                                   {Event("A", "x", kId1)}))
                  .ok());
  absl::Status reused =
      store_
          ->Append(Request("a", ExpectedVersion::Any(),
                           {Event("A", "y", kId2), Event("A", "z", kId1)}))
          .status();
  EXPECT_EQ(reused.code(), absl::StatusCode::kAlreadyExists);
  std::vector<RecordedEvent> all = ReadEverything(*store_);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(store_->HeadPosition(), 2u);
  auto page = store_->ReadStream({.stream_id = "a"});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->last_version, 2u);
}

TEST_F(EventStoreTest, RetryWithTheSameIdsReturnsTheOriginalPositions) {
  auto original = store_->Append(
      Request("area-1", ExpectedVersion::NoStream(),
              {Event("A", "one", kId1), Event("A", "two", kId2)}));
  ASSERT_TRUE(original.ok()) << original.status();
  ASSERT_TRUE(
      store_
          ->Append(Request("area-2", ExpectedVersion::Any(), {Event("B", "")}))
          .ok());

  // The retry carries the original expected version, which no longer holds:
  // it must still succeed, because it is the same append.
  auto retry = store_->Append(
      Request("area-1", ExpectedVersion::NoStream(),
              {Event("A", "one", kId1), Event("A", "two", kId2)}));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->first_position, original->first_position);
  EXPECT_EQ(retry->last_position, original->last_position);
  EXPECT_EQ(retry->first_version, 1u);
  EXPECT_EQ(retry->last_version, 2u);
  EXPECT_EQ(store_->HeadPosition(), 3u) << "a retry wrote something";

  // The same holds after a restart: idempotency is durable.
  Reopen();
  auto after_restart = store_->Append(
      Request("area-1", ExpectedVersion::NoStream(),
              {Event("A", "one", kId1), Event("A", "two", kId2)}));
  ASSERT_TRUE(after_restart.ok()) << after_restart.status();
  EXPECT_TRUE(after_restart->replayed);
  EXPECT_EQ(after_restart->first_position, 1u);
  EXPECT_EQ(after_restart->last_position, 2u);
  EXPECT_EQ(store_->HeadPosition(), 3u);
  EXPECT_EQ(ReadEverything(*store_).size(), 3u);
}

TEST_F(EventStoreTest, PartialOrInconsistentReuseOfIdsFailsClearly) {
  ASSERT_TRUE(
      store_
          ->Append(Request("area-1", ExpectedVersion::Any(),
                           {Event("A", "one", kId1), Event("A", "two", kId2)}))
          .ok());
  struct Case {
    std::string name;
    AppendRequest request;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"some ids new",
       Request("area-1", ExpectedVersion::Any(),
               {Event("A", "one", kId1), Event("A", "three", kId3)}),
       "events[1].event_id was not"},
      {"new id first",
       Request("area-1", ExpectedVersion::Any(),
               {Event("A", "three", kId3), Event("A", "one", kId1)}),
       "events[0].event_id was not"},
      {"subset of the original",
       Request("area-1", ExpectedVersion::Any(), {Event("A", "one", kId1)}),
       "in an append of 2 events"},
      {"another stream",
       Request("area-9", ExpectedVersion::Any(),
               {Event("A", "one", kId1), Event("A", "two", kId2)}),
       "already appended to stream \"area-1\""},
      {"other payload",
       Request("area-1", ExpectedVersion::Any(),
               {Event("A", "one", kId1), Event("A", "changed", kId2)}),
       "different type, content type or payload"},
      {"reordered",
       Request("area-1", ExpectedVersion::Any(),
               {Event("A", "two", kId2), Event("A", "one", kId1)}),
       "a retry must repeat"},
  };
  for (const Case& c : cases) {
    absl::Status status = store_->Append(c.request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << c.name;
    EXPECT_THAT(status.message(), HasSubstr(c.message)) << c.name;
  }
  EXPECT_EQ(store_->HeadPosition(), 2u) << "a refused append wrote something";
}

TEST_F(EventStoreTest, AppendTogetherCommitsEveryStreamOrNone) {
  ASSERT_TRUE(
      store_
          ->Append(Request("b", ExpectedVersion::NoStream(), {Event("B", "")}))
          .ok());
  // The second request's expected version fails: the first stages nothing.
  absl::StatusOr<std::vector<AppendResult>> refused = store_->AppendTogether(
      {Request("a", ExpectedVersion::NoStream(), {Event("A", "1")}),
       Request("b", ExpectedVersion::NoStream(), {Event("B", "2")})});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(refused.status().message(), HasSubstr("requests[1]."));
  EXPECT_EQ(store_->HeadPosition(), 1u) << "half of a refused append landed";
  EXPECT_EQ(*store_->StreamVersion("a"), 0u);

  // A limit or syntax rule: refused before anything is queued.
  absl::StatusOr<std::vector<AppendResult>> invalid = store_->AppendTogether(
      {Request("a", ExpectedVersion::Any(), {Event("A", "1")}),
       Request("c", ExpectedVersion::Any(), {Event("not a type", "2")})});
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.status().message(), HasSubstr("requests[1].events[0]"));
  absl::StatusOr<std::vector<AppendResult>> twice = store_->AppendTogether(
      {Request("a", ExpectedVersion::Any(), {Event("A", "1")}),
       Request("a", ExpectedVersion::Any(), {Event("A", "2")})});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(twice.status().message(), HasSubstr("requests[1].stream_id"));
  EXPECT_EQ(store_->AppendTogether({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->HeadPosition(), 1u);

  // Accepted: consecutive positions in request order, one version per
  // stream.
  absl::StatusOr<std::vector<AppendResult>> both = store_->AppendTogether(
      {Request("a", ExpectedVersion::NoStream(),
               {Event("A", "1", kId1), Event("A", "2", kId2)}),
       Request("b", ExpectedVersion::Exact(1), {Event("B", "3", kId3)})});
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0].first_position, 2u);
  EXPECT_EQ((*both)[0].last_position, 3u);
  EXPECT_EQ((*both)[0].last_version, 2u);
  EXPECT_EQ((*both)[1].first_position, 4u);
  EXPECT_EQ((*both)[1].first_version, 2u);
  EXPECT_FALSE((*both)[0].replayed);
  std::vector<RecordedEvent> all = ReadEverything(*store_);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[1].stream_id, "a");
  EXPECT_EQ(all[3].stream_id, "b");
  EXPECT_TRUE(store_->Verify().ok());

  // A retry of the whole, also after a restart, is the first result.
  Reopen();
  absl::StatusOr<std::vector<AppendResult>> retry = store_->AppendTogether(
      {Request("a", ExpectedVersion::NoStream(),
               {Event("A", "1", kId1), Event("A", "2", kId2)}),
       Request("b", ExpectedVersion::Exact(1), {Event("B", "3", kId3)})});
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE((*retry)[0].replayed);
  EXPECT_TRUE((*retry)[1].replayed);
  EXPECT_EQ((*retry)[1].first_position, 4u);
  // A retry of one part with a new part: neither is written.
  absl::StatusOr<std::vector<AppendResult>> mixed = store_->AppendTogether(
      {Request("c", ExpectedVersion::NoStream(), {Event("C", "new")}),
       Request("b", ExpectedVersion::Exact(1), {Event("B", "3", kId3)})});
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->HeadPosition(), 4u);
  EXPECT_EQ(*store_->StreamVersion("c"), 0u);
}

TEST_F(EventStoreTest, AnAppendTogetherMayHoldConditionsOnOtherStreams) {
  const std::vector<ProposedEvent> no_events;
  ASSERT_TRUE(store_
                  ->Append(Request("plan", ExpectedVersion::NoStream(),
                                   {Event("Registered", "")}))
                  .ok());
  absl::StatusOr<std::vector<AppendResult>> held = store_->AppendTogether(
      {Request("area-1", ExpectedVersion::NoStream(), {Event("A", "")}),
       Request("plan", ExpectedVersion::Exact(1), no_events)});
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ((*held)[0].first_position, 2u);
  EXPECT_EQ((*held)[1].last_version, 1u);
  EXPECT_EQ((*held)[1].first_position, 0u) << "a condition writes nothing";
  EXPECT_EQ(*store_->StreamVersion("plan"), 1u);
  EXPECT_EQ(store_->HeadPosition(), 2u);

  // Once the condition's stream has moved, the append is refused whole.
  ASSERT_TRUE(store_
                  ->Append(Request("plan", ExpectedVersion::Exact(1),
                                   {Event("Closed", "")}))
                  .ok());
  absl::StatusOr<std::vector<AppendResult>> stale = store_->AppendTogether(
      {Request("area-2", ExpectedVersion::NoStream(), {Event("A", "")}),
       Request("plan", ExpectedVersion::Exact(1), no_events)});
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(stale.status().message(), HasSubstr("requests[1]."));
  EXPECT_EQ(CurrentVersionOf(stale.status()), 2u);
  EXPECT_EQ(store_->HeadPosition(), 3u);
  EXPECT_EQ(*store_->StreamVersion("area-2"), 0u);

  // Conditions alone append nothing, and are refused as such.
  EXPECT_EQ(store_
                ->AppendTogether(
                    {Request("plan", ExpectedVersion::Exact(2), no_events)})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      store_
          ->AppendTogether(
              {Request("area-3", ExpectedVersion::Any(), {Event("A", "")}),
               Request("bad stream", ExpectedVersion::Any(), no_events)})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(EventStoreTest, ARefusedAppendTogetherLeavesItsCommitGroupWhole) {
  // Appends before and after a refused AppendTogether in one commit group
  // keep consecutive positions: the refused one's staging is undone.
  store_->PauseWriterForTesting();
  Mutex mu;
  std::vector<absl::StatusOr<AppendResult>> singles;
  absl::Status together_status;
  int done = 0;
  auto single = [&](absl::StatusOr<AppendResult> result) {
    MutexLock lock(&mu);
    singles.push_back(std::move(result));
    ++done;
  };
  store_->AppendAsync(
      Request("x", ExpectedVersion::NoStream(), {Event("X", "1")}), single);
  store_->AppendTogetherAsync(
      {Request("y", ExpectedVersion::NoStream(), {Event("Y", "2")}),
       Request("x", ExpectedVersion::NoStream(), {Event("X", "3")})},
      [&](absl::StatusOr<std::vector<AppendResult>> result) {
        MutexLock lock(&mu);
        together_status = result.status();
        ++done;
      });
  store_->AppendAsync(
      Request("z", ExpectedVersion::NoStream(), {Event("Z", "4")}), single);
  store_->ResumeWriterForTesting();
  {
    MutexLock lock(&mu);
    mu.Await([&] { return done == 3; });
  }
  EXPECT_EQ(together_status.code(), absl::StatusCode::kAborted)
      << "x was written earlier in the same group";
  ASSERT_EQ(singles.size(), 2u);
  ASSERT_TRUE(singles[0].ok() && singles[1].ok());
  EXPECT_EQ(singles[0]->first_position, 1u);
  EXPECT_EQ(singles[1]->first_position, 2u);
  EXPECT_EQ(*store_->StreamVersion("y"), 0u);
  std::vector<RecordedEvent> all = ReadEverything(*store_);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].stream_id, "z");
  EXPECT_TRUE(store_->Verify().ok());
}

TEST_F(EventStoreTest, ReadsStreamsForwardsAndBackwardsInPages) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(store_
                    ->Append(Request("s", ExpectedVersion::Any(),
                                     {Event("A", absl::StrCat(i))}))
                    .ok());
    ASSERT_TRUE(store_
                    ->Append(Request("s-other", ExpectedVersion::Any(),
                                     {Event("B", "")}))
                    .ok());
  }
  auto versions = [](const StreamPage& page) {
    std::vector<uint64_t> out;
    for (const auto& event : page.events) out.push_back(event.stream_version);
    return out;
  };
  auto first = store_->ReadStream({.stream_id = "s", .limit = 2});
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(versions(*first), ElementsAre(1, 2));
  EXPECT_EQ(first->next_version, 3u);
  EXPECT_EQ(first->last_version, 5u);
  auto last =
      store_->ReadStream({.stream_id = "s", .from_version = 4, .limit = 10});
  ASSERT_TRUE(last.ok());
  EXPECT_THAT(versions(*last), ElementsAre(4, 5));
  EXPECT_EQ(last->next_version, 0u) << "the end is marked";

  auto backward = store_->ReadStream(
      {.stream_id = "s", .direction = ReadDirection::kBackward, .limit = 3});
  ASSERT_TRUE(backward.ok());
  EXPECT_THAT(versions(*backward), ElementsAre(5, 4, 3));
  EXPECT_EQ(backward->next_version, 2u);
  auto rest = store_->ReadStream({.stream_id = "s",
                                  .direction = ReadDirection::kBackward,
                                  .from_version = 2});
  ASSERT_TRUE(rest.ok());
  EXPECT_THAT(versions(*rest), ElementsAre(2, 1));
  EXPECT_EQ(rest->next_version, 0u);
  EXPECT_EQ(rest->events[1].payload, "1");

  auto beyond = store_->ReadStream({.stream_id = "s", .from_version = 6});
  ASSERT_TRUE(beyond.ok());
  EXPECT_TRUE(beyond->events.empty());

  EXPECT_EQ(store_->ReadStream({.stream_id = "nope"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(EventStoreTest, ReadsTheLogInPages) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(store_
                    ->Append(Request(absl::StrCat("s-", i % 3),
                                     ExpectedVersion::Any(), {Event("A", "")}))
                    .ok());
  }
  auto page = store_->ReadAll({.from_position = 0, .limit = 10});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 10u);
  EXPECT_EQ(page->events.front().position, 1u);
  EXPECT_EQ(page->next_position, 11u);
  EXPECT_EQ(page->head_position, 25u);
  auto tail = store_->ReadAll({.from_position = 21, .limit = 10});
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->events.size(), 5u);
  EXPECT_EQ(tail->next_position, 0u);
  auto past = store_->ReadAll({.from_position = 26});
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->events.empty());
}

TEST_F(EventStoreTest, AcknowledgedAppendsAreFsyncedByDefault) {
  const Stats before = store_->GetStats();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        store_->Append(Request("s", ExpectedVersion::Any(), {Event("A", "")}))
            .ok());
  }
  const Stats after = store_->GetStats();
  EXPECT_EQ(after.synced_commits - before.synced_commits, 5u);
  // RocksDB's own count of WAL syncs: the fsync really happened.
  EXPECT_GE(after.wal_syncs - before.wal_syncs, 5u);
}

TEST(EventStoreDurabilityTest, NoSyncModeSkipsTheFsyncAndSaysSo) {
  plantrail::testing::TempDir dir;
  auto store = OpenStore(dir.path(), Durability::kNoSync);
  ASSERT_NE(store, nullptr);
  const Stats before = store->GetStats();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        store->Append(Request("s", ExpectedVersion::Any(), {Event("A", "")}))
            .ok());
  }
  const Stats after = store->GetStats();
  EXPECT_EQ(after.synced_commits, before.synced_commits);
  EXPECT_EQ(after.wal_syncs, before.wal_syncs);
  EXPECT_EQ(after.commit_groups - before.commit_groups, 5u);
}

TEST_F(EventStoreTest, RecordedTimeNeverGoesBackwards) {
  plantrail::testing::TempDir dir;
  absl::Time clock = absl::FromUnixSeconds(2'000'000'000);
  auto store = RocksDbEventStore::Open(
      Options{.path = dir.path(), .now = [&clock] { return clock; }});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(
      (*store)
          ->Append(Request("s", ExpectedVersion::Any(), {Event("A", "")}))
          .ok());
  clock -= absl::Hours(1);  // the wall clock steps back
  ASSERT_TRUE(
      (*store)
          ->Append(Request("s", ExpectedVersion::Any(), {Event("A", "")}))
          .ok());
  std::vector<RecordedEvent> all = ReadEverything(**store);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].recorded_at, absl::FromUnixSeconds(2'000'000'000));
  EXPECT_GE(all[1].recorded_at, all[0].recorded_at);
}

TEST_F(EventStoreTest, VerifyAcceptsAnIntactChain) {
  for (int i = 0; i < 20; ++i) {
    ProposedEvent event = Event("A", absl::StrCat("payload ", i));
    event.metadata = {{"n", absl::StrCat(i)}};
    ASSERT_TRUE(store_
                    ->Append(Request(absl::StrCat("s-", i % 4),
                                     ExpectedVersion::Any(), {event}))
                    .ok());
  }
  auto report = store_->Verify();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->events_checked, 20u);
  EXPECT_EQ(report->head_position, 20u);
  EXPECT_EQ(report->head_hash, ReadEverything(*store_).back().hash);
}

TEST_F(EventStoreTest, LooksUpStreamVersionsAndEventsById) {
  EXPECT_EQ(*store_->StreamVersion("s"), 0u);
  ASSERT_TRUE(
      store_
          ->Append(Request("s", ExpectedVersion::Any(),
                           {Event("A", "one", kId1), Event("A", "two")}))
          .ok());
  EXPECT_EQ(*store_->StreamVersion("s"), 2u);
  EXPECT_EQ(store_->StreamVersion("not a stream").status().code(),
            absl::StatusCode::kInvalidArgument);

  auto found = store_->ReadEvent(absl::AsciiStrToUpper(kId1));
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->payload, "one");
  EXPECT_EQ((*found)->position, 1u);
  auto missing = store_->ReadEvent(kId2);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_EQ(store_->ReadEvent("nope").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EventStoreTest, CursorsOnlyMoveForwardAndSurviveARestart) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        store_->Append(Request("s", ExpectedVersion::Any(), {Event("A", "")}))
            .ok());
  }
  EXPECT_EQ(*store_->LoadCursor("group:billing"), 0u);
  EXPECT_EQ(*store_->SaveCursor("group:billing", 3), 3u);
  EXPECT_EQ(*store_->SaveCursor("group:billing", 2), 3u) << "never backwards";
  EXPECT_EQ(store_->SaveCursor("group:billing", 6).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "not beyond the head";
  EXPECT_EQ(store_->SaveCursor("bad name", 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  Reopen();
  EXPECT_EQ(*store_->LoadCursor("group:billing"), 3u);
  EXPECT_EQ(*store_->LoadCursor("group:other"), 0u);
}

TEST_F(EventStoreTest, ACursorKeepsItsFirstOwnerAndReadsOwnerlessOnes) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        store_->Append(Request("s", ExpectedVersion::Any(), {Event("A", "")}))
            .ok());
  }
  // SaveCursor writes what versions before owners wrote: 8 bytes, nobody's.
  ASSERT_EQ(*store_->SaveCursor("group:pay", 1), 1u);
  EXPECT_EQ(store_->LoadOwnedCursor("group:pay")->owner, "");
  absl::StatusOr<EventStore::Cursor> saved =
      store_->SaveOwnedCursor("group:pay", 1, "anna");
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->owner, "anna") << "claimed without moving";
  saved = store_->SaveOwnedCursor("group:pay", 4, "bob");
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->owner, "anna");
  EXPECT_EQ(saved->position, 1u) << "another's save moves nothing";
  EXPECT_EQ(store_->SaveOwnedCursor("group:pay", 3, "anna")->position, 3u);
  EXPECT_EQ(*store_->SaveCursor("group:pay", 4), 4u) << "no owner: any";
  Reopen();
  saved = store_->LoadOwnedCursor("group:pay");
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(saved->position, 4u);
  EXPECT_EQ(saved->owner, "anna");
  EXPECT_EQ(*store_->LoadCursor("group:pay"), 4u);
}

TEST_F(EventStoreTest, ClosingFinishesEveryQueuedAppend) {
  store_->PauseWriterForTesting();
  std::vector<absl::StatusOr<AppendResult>> results(3);
  plantrail::Mutex mu;
  int done = 0;
  for (int i = 0; i < 3; ++i) {
    store_->AppendAsync(Request("s", ExpectedVersion::Any(), {Event("A", "")}),
                        [&, i](absl::StatusOr<AppendResult> result) {
                          plantrail::MutexLock lock(&mu);
                          results[i] = std::move(result);
                          ++done;
                        });
  }
  store_.reset();  // closes while three appends wait in the queue
  EXPECT_EQ(done, 3);
  for (const auto& result : results)
    EXPECT_TRUE(result.ok()) << result.status();
  store_ = OpenStore(dir_.path());
  EXPECT_EQ(store_->HeadPosition(), 3u);
}

}  // namespace
}  // namespace plantrail::eventstore
