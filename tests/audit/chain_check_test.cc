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

// The log with event 4's "reason" metadata redacted: its header keeps the
// hash it was appended with, and the redaction's record (position 7) binds
// what is left of it.
std::vector<RecordedEvent> LoggedWithARedactedHeader(const std::string& path) {
  LoggedEvents(path);
  auto store = OpenStore(path, eventstore::Durability::kNoSync);
  eventstore::RedactRequest redaction{
      .position = 4,
      .tombstone = "{}",
      .cleared_metadata = {"reason"},
      .record = Request("plantrail-redactions", ExpectedVersion::Any(),
                        {Event("PayloadRedacted", "why")})};
  EXPECT_TRUE(store->Redact(std::move(redaction)).ok());
  return ReadEverything(*store);
}

TEST(ChainCheckTest, ARedactedHeaderCountsByItsKeptHashAndItsBinding) {
  plantrail::testing::TempDir dir;
  const std::vector<RecordedEvent> events =
      LoggedWithARedactedHeader(dir.path());
  ASSERT_EQ(events.size(), 7u);
  ASSERT_TRUE(events[3].header_hash.has_value());
  EXPECT_EQ(events[3].metadata.at("reason"), rf::kRedactedValue);
  ChainCheck chain;
  for (const RecordedEvent& event : events) {
    ASSERT_TRUE(chain.Add(event, event.redacted).ok()) << event.position;
    // Unbound from the redacted header to the redaction's record.
    EXPECT_EQ(chain.unbound_headers().contains(4),
              event.position >= 4 && event.position < 7);
  }
  EXPECT_EQ(chain.hash(), events.back().hash);
  EXPECT_TRUE(chain.unbound_headers().empty());
}

TEST(ChainCheckTest, WhatIsLeftOfARedactedHeaderIsCheckedAgainstItsBinding) {
  plantrail::testing::TempDir dir;
  const std::vector<RecordedEvent> events =
      LoggedWithARedactedHeader(dir.path());
  const std::vector<std::pair<std::string, std::function<void(RecordedEvent&)>>>
      changes = {
          // The kept hash covers the header as appended only: the binding
          // catches a change to the rest.
          {"position 4: the redacted header is not the one its redaction "
           "recorded (position 7)",
           [](RecordedEvent& e) { e.metadata["actor"] = "mallory"; }},
          {"position 4: the redacted header is not the one its redaction "
           "recorded (position 7)",
           [](RecordedEvent& e) { e.type = "Forged"; }},
          {"position 4: the chain hash does not follow",
           [](RecordedEvent& e) { e.header_hash->at(0) ^= 1; }},
          {"position 4: the chain hash does not follow",
           [](RecordedEvent& e) { e.header_hash.reset(); }},
      };
  for (const auto& [problem, change] : changes) {
    SCOPED_TRACE(problem);
    ChainCheck chain;
    absl::Status status;
    for (RecordedEvent event : events) {
      if (event.position == 4) change(event);
      status = chain.Add(event, event.redacted);
      if (!status.ok()) break;
    }
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(status.message(), HasSubstr(problem));
  }
  // A walk that ends before the redaction's record cannot check it, and
  // says so.
  ChainCheck chain;
  for (size_t i = 0; i < 6; ++i) {
    ASSERT_TRUE(chain.Add(events[i], events[i].redacted).ok());
  }
  EXPECT_EQ(chain.unbound_headers().size(), 1u);
  EXPECT_TRUE(chain.unbound_headers().contains(4));
}

TEST(ChainCheckTest, AHeaderHashSurvivesTheGrpcForm) {
  plantrail::testing::TempDir dir;
  const std::vector<RecordedEvent> events =
      LoggedWithARedactedHeader(dir.path());
  v1::RecordedEvent proto;
  proto.set_position(4);
  proto.set_hash(std::string(32, 'h'));
  proto.set_payload_hash(std::string(32, 'p'));
  auto plain = FromProto(proto);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->header_hash.has_value());
  const eventstore::Hash& kept = *events[3].header_hash;
  proto.set_header_hash(reinterpret_cast<const char*>(kept.data()),
                        kept.size());
  auto redacted = FromProto(proto);
  ASSERT_TRUE(redacted.ok());
  EXPECT_EQ(redacted->header_hash, kept);
  proto.set_header_hash("short");
  EXPECT_EQ(FromProto(proto).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace plantrail::audit
