#include "audit/chain_check.h"

#include <functional>

#include "eventstore/record_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eventstore/test_util.h"
#include "tests/temp_dir.h"

namespace plantrail::audit {
namespace {

namespace rf = eventstore::record_format;
using ::plantrail::eventstore::ExpectedVersion;
using ::plantrail::eventstore::RecordedEvent;
using ::plantrail::eventstore::testing::Event;
using ::plantrail::eventstore::testing::OpenStore;
using ::plantrail::eventstore::testing::ReadEverything;
using ::plantrail::eventstore::testing::Request;
using ::testing::HasSubstr;

// Events as the real log writes them, with metadata.
std::vector<RecordedEvent> LoggedEvents(const std::string& path) {
  auto store = OpenStore(path, eventstore::Durability::kNoSync);
  for (int i = 1; i <= 6; ++i) {
    eventstore::ProposedEvent event =
        Event("StatusReported", absl::StrCat("{\"report\":", i, "}"));
    event.metadata = {{"actor", "anna"}, {"reason", "monthly"}};
    EXPECT_TRUE(store
                    ->Append(Request(absl::StrCat("area-", i % 2),
                                     ExpectedVersion::Any(), {event}))
                    .ok());
  }
  return ReadEverything(*store);
}

TEST(ChainCheckTest, RecomputesTheLogsOwnHashes) {
  plantrail::testing::TempDir dir;
  const std::vector<RecordedEvent> events = LoggedEvents(dir.path());
  ChainCheck chain;
  for (const RecordedEvent& event : events) {
    ASSERT_TRUE(chain.Add(event).ok()) << event.position;
  }
  EXPECT_EQ(chain.position(), 6u);
  EXPECT_EQ(chain.hash(), events.back().hash);
}

TEST(ChainCheckTest, AStartInTheMiddleIsAnchoredByThePreviousHash) {
  plantrail::testing::TempDir dir;
  const std::vector<RecordedEvent> events = LoggedEvents(dir.path());
  ChainCheck chain(3, events[2].hash);
  for (size_t i = 3; i < events.size(); ++i) {
    ASSERT_TRUE(chain.Add(events[i]).ok());
  }
  EXPECT_EQ(chain.hash(), events.back().hash);
  ChainCheck wrong_anchor(3, events[1].hash);
  EXPECT_FALSE(wrong_anchor.Add(events[3]).ok());
}

TEST(ChainCheckTest, EachKindOfChangeIsCaughtAtItsPosition) {
  plantrail::testing::TempDir dir;
  const std::vector<RecordedEvent> events = LoggedEvents(dir.path());
  const std::vector<std::pair<std::string, std::function<void(RecordedEvent&)>>>
      changes = {
          {"payload does not match",
           [](RecordedEvent& e) { e.payload = "{\"report\":99}"; }},
          {"chain hash does not follow",
           [](RecordedEvent& e) { e.metadata["actor"] = "mallory"; }},
          {"chain hash does not follow",
           [](RecordedEvent& e) { e.recorded_at += absl::Seconds(1); }},
          {"chain hash does not follow",
           [](RecordedEvent& e) { e.stream_id = "area-9"; }},
          {"chain hash does not follow",
           [](RecordedEvent& e) {
             e.payload = "{}";
             e.payload_hash = rf::Sha256(e.payload);
           }},
          {"position 4 is missing", [](RecordedEvent& e) { e.position = 5; }},
      };
  for (const auto& [problem, change] : changes) {
    SCOPED_TRACE(problem);
    ChainCheck chain;
    absl::Status status;
    for (RecordedEvent event : events) {
      if (event.position == 4) change(event);
      status = chain.Add(event);
      if (!status.ok()) break;
    }
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(status.message(), HasSubstr(problem));
    EXPECT_THAT(status.message(), HasSubstr("position 4"));
    EXPECT_EQ(chain.position(), 3u);
  }
}

TEST(ChainCheckTest, ARedactedPayloadCountsByItsKeptHash) {
  plantrail::testing::TempDir dir;
  std::vector<RecordedEvent> events = LoggedEvents(dir.path());
  events[3].payload = "";  // The tombstone; payload_hash is the original's.
  ChainCheck chain;
  for (const RecordedEvent& event : events) {
    ASSERT_TRUE(
        chain.Add(event, /*payload_redacted=*/event.position == 4).ok());
  }
  EXPECT_EQ(chain.hash(), events.back().hash);
}

}  // namespace
}  // namespace plantrail::audit
