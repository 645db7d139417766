// Redaction: the one change the log makes to a stored event. The payload
// goes, its hash stays, the chain still verifies (also against an anchor
// taken before), and the redaction's own record lands in the same commit.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "eventstore/record_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eventstore/raw_db.h"
#include "tests/eventstore/test_util.h"
#include "tests/files_holding.h"
#include "tests/temp_dir.h"

namespace plantrail::eventstore {
namespace {

namespace rf = record_format;
using ::plantrail::eventstore::testing::Event;
using ::plantrail::eventstore::testing::OpenStore;
using ::plantrail::eventstore::testing::ReadEverything;
using ::plantrail::eventstore::testing::Request;
using ::testing::HasSubstr;

class RedactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenStore(dir_.path(), Durability::kNoSync);
    for (int i = 1; i <= 5; ++i) {
      ASSERT_TRUE(
          store_
              ->Append(Request("area-1", ExpectedVersion::Any(),
                               {Event("StatusReported",
                                      absl::StrCat("anna's phone is ", i))}))
              .ok());
    }
  }

  RedactRequest Redaction(uint64_t position, std::string id = "") {
    ProposedEvent record =
        Event("PayloadRedacted", "because the law says so", std::move(id));
    return RedactRequest{.position = position,
                         .tombstone = "{}",
                         .record = Request("plantrail-redactions",
                                           ExpectedVersion::Any(), {record})};
  }

  plantrail::testing::TempDir dir_;
  std::unique_ptr<RocksDbEventStore> store_;
};

TEST_F(RedactionTest, ThePayloadGoesItsHashStaysAndTheChainVerifies) {
  const auto before = ReadEverything(*store_);
  auto anchor = store_->HashAt(5);
  ASSERT_TRUE(anchor.ok());

  auto redacted = store_->Redact(Redaction(3));
  ASSERT_TRUE(redacted.ok()) << redacted.status();
  EXPECT_EQ(redacted->first_position, 6u);

  const auto after = ReadEverything(*store_);
  ASSERT_EQ(after.size(), 6u);
  EXPECT_TRUE(after[2].redacted);
  EXPECT_EQ(after[2].payload, "{}");
  EXPECT_EQ(after[2].payload_hash, before[2].payload_hash);
  EXPECT_EQ(after[2].hash, before[2].hash);
  for (int i : {0, 1, 3, 4}) {
    EXPECT_FALSE(after[i].redacted);
    EXPECT_EQ(after[i].payload, before[i].payload);
  }
  EXPECT_EQ(after[5].stream_id, "plantrail-redactions");
  // A digest taken before the redaction still holds after it.
  auto report = store_->Verify({.anchor = ChainAnchor{5, *anchor}});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->head_position, 6u);

  // And across a reopen.
  store_.reset();
  store_ = OpenStore(dir_.path(), Durability::kNoSync);
  auto event = store_->ReadAll({.from_position = 3, .limit = 1});
  ASSERT_TRUE(event.ok());
  EXPECT_TRUE(event->events[0].redacted);
  EXPECT_EQ(event->events[0].payload, "{}");
}

TEST_F(RedactionTest, ARedactionIsRefusedWholeWhenItCannotBeMade) {
  EXPECT_EQ(store_->Redact(Redaction(9)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Redact(Redaction(0)).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->Redact(Redaction(2)).ok());
  const absl::Status twice = store_->Redact(Redaction(2)).status();
  EXPECT_EQ(twice.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(twice.message(), HasSubstr("position: 2 is already redacted"));
  // A refused redaction appends nothing either.
  EXPECT_EQ(store_->HeadPosition(), 6u);
  RedactRequest bad_record = Redaction(4);
  bad_record.record.expected_version = ExpectedVersion::NoStream();
  EXPECT_EQ(store_->Redact(bad_record).status().code(),
            absl::StatusCode::kAborted);
  auto untouched = store_->ReadAll({.from_position = 4, .limit = 1});
  ASSERT_TRUE(untouched.ok());
  EXPECT_FALSE(untouched->events[0].redacted);
  EXPECT_EQ(store_->HeadPosition(), 6u);
}

TEST_F(RedactionTest, ARetriedRedactionRedactsNothingAgain) {
  const std::string id = "6b1d3c1e-2f4a-4e7b-9c1d-0a1b2c3d4e5f";
  auto first = store_->Redact(Redaction(1, id));
  ASSERT_TRUE(first.ok());
  auto retry = store_->Redact(Redaction(1, id));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->first_position, first->first_position);
  EXPECT_EQ(store_->HeadPosition(), 6u);
}

TEST_F(RedactionTest, TwoRedactionsOfOneEventInOneCommitGroupOneWins) {
  store_->PauseWriterForTesting();
  std::vector<absl::Status> results(2);
  Notification done[2];
  for (int i = 0; i < 2; ++i) {
    store_->RedactAsync(Redaction(4), [&, i](absl::StatusOr<AppendResult> r) {
      results[i] = r.status();
      done[i].Notify();
    });
  }
  store_->ResumeWriterForTesting();
  for (auto& d : done) d.WaitForNotification();
  EXPECT_TRUE(results[0].ok()) << results[0];
  EXPECT_EQ(results[1].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->HeadPosition(), 6u);
}

TEST_F(RedactionTest, LaterPayloadsAreNarrowedInTheSameCommit) {
  const auto before = ReadEverything(*store_);
  RedactRequest redaction = Redaction(2);
  redaction.also.push_back(
      {.position = 4, .tombstone = "narrowed", .replaces = before[3].payload});
  auto redacted = store_->Redact(std::move(redaction));
  ASSERT_TRUE(redacted.ok()) << redacted.status();

  const auto after = ReadEverything(*store_);
  EXPECT_TRUE(after[1].redacted);
  EXPECT_TRUE(after[3].redacted);
  EXPECT_EQ(after[3].payload, "narrowed");
  EXPECT_EQ(after[3].payload_hash, before[3].payload_hash);
  EXPECT_FALSE(after[2].redacted);
  auto report = store_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;

  // An event redacted in part may be narrowed again, but only from what
  // it holds now: one prepared from its older payload would bring back
  // what the first redaction took.
  RedactRequest stale = Redaction(4);
  stale.replaces = before[3].payload;
  EXPECT_EQ(store_->Redact(stale).status().code(), absl::StatusCode::kAborted);
  RedactRequest unguarded = Redaction(4);
  EXPECT_EQ(store_->Redact(unguarded).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->HeadPosition(), 6u);
  RedactRequest again = Redaction(4);
  again.replaces = "narrowed";
  ASSERT_TRUE(store_->Redact(again).ok());
  auto event = store_->ReadAll({.from_position = 4, .limit = 1});
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->events[0].payload, "{}");
}

TEST_F(RedactionTest, ARetryOfARedactedEventAnswersAlikeWhateverItsPayload) {
  const std::string id = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b";
  auto appended = store_->Append(Request("custom", ExpectedVersion::Any(),
                                         {Event("Note", "salary 41000", id)}));
  ASSERT_TRUE(appended.ok());
  ASSERT_TRUE(store_->Redact(Redaction(appended->first_position)).ok());

  const absl::Status right =
      store_
          ->Append(Request("custom", ExpectedVersion::Any(),
                           {Event("Note", "salary 41000", id)}))
          .status();
  const absl::Status wrong =
      store_
          ->Append(Request("custom", ExpectedVersion::Any(),
                           {Event("Note", "salary 42000", id)}))
          .status();
  EXPECT_EQ(right.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(right, wrong);
  EXPECT_THAT(right.message(), HasSubstr("redacted"));
}

TEST_F(RedactionTest, NoFileKeepsTheRedactedPayloadOnceErased) {
  store_.reset();
  store_ = OpenStore(dir_.path(), Durability::kSync);
  const std::string marker = "PERSONNUMMER-19700101-1234";
  auto appended =
      store_->Append(Request("area-2", ExpectedVersion::Any(),
                             {Event("StatusReported", "call " + marker)}));
  ASSERT_TRUE(appended.ok());
  // One copy in a table file too, not only in the WAL and memtable.
  ASSERT_TRUE(store_->EraseOverwritten(1, 0).ok());
  ASSERT_FALSE(::plantrail::testing::FilesHolding(dir_.path(), marker).empty());
  ASSERT_TRUE(store_
                  ->Append(Request("area-2", ExpectedVersion::Any(),
                                   {Event("StatusReported", "later")}))
                  .ok());

  ASSERT_TRUE(store_->Redact(Redaction(appended->first_position)).ok());
  ASSERT_TRUE(
      store_
          ->EraseOverwritten(appended->first_position, appended->first_position)
          .ok());

  EXPECT_THAT(::plantrail::testing::FilesHolding(dir_.path(), marker),
              ::testing::IsEmpty());
  plantrail::testing::TempDir copies;
  ASSERT_TRUE(store_->CreateCheckpoint(copies / "checkpoint").ok());
  EXPECT_THAT(::plantrail::testing::FilesHolding(copies.path(), marker),
              ::testing::IsEmpty());
  auto report = store_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  // And the store opens and reads again from what is left.
  store_.reset();
  store_ = OpenStore(dir_.path(), Durability::kSync);
  auto event =
      store_->ReadAll({.from_position = appended->first_position, .limit = 1});
  ASSERT_TRUE(event.ok());
  EXPECT_TRUE(event->events[0].redacted);
}

// An event of a custom stream whose metadata holds free text.
ProposedEvent NoteWithMetadata(const std::string& note) {
  ProposedEvent event = Event("Note", "call Anna");
  event.metadata = {{"actor", "admin"},
                    {"correlation_id", "c-17"},
                    {"note", note},
                    {"ticket", "HR-2026-118"}};
  return event;
}

TEST_F(RedactionTest, ClearedMetadataGoesTheHeaderKeepsItsHashAndVerifies) {
  auto appended =
      store_->Append(Request("hr-notes", ExpectedVersion::Any(),
                             {NoteWithMetadata("Anna Svensson's sick leave")}));
  ASSERT_TRUE(appended.ok());
  ASSERT_EQ(appended->first_position, 6u);
  const RecordedEvent before = ReadEverything(*store_)[5];
  auto anchor = store_->HashAt(6);
  ASSERT_TRUE(anchor.ok());

  RedactRequest redaction = Redaction(6);
  redaction.cleared_metadata = {"note", "ticket"};
  auto redacted = store_->Redact(std::move(redaction));
  ASSERT_TRUE(redacted.ok()) << redacted.status();

  auto check = [&](const std::vector<RecordedEvent>& log) {
    ASSERT_EQ(log.size(), 7u);
    const RecordedEvent& after = log[5];
    EXPECT_EQ(after.metadata, (Metadata{{"actor", "admin"},
                                        {"correlation_id", "c-17"},
                                        {"note", "[redacted]"},
                                        {"ticket", "[redacted]"}}));
    // Structure stays.
    EXPECT_EQ(after.position, before.position);
    EXPECT_EQ(after.stream_id, before.stream_id);
    EXPECT_EQ(after.stream_version, before.stream_version);
    EXPECT_EQ(after.type, before.type);
    EXPECT_EQ(after.event_id, before.event_id);
    EXPECT_EQ(after.content_type, before.content_type);
    EXPECT_EQ(after.recorded_at, before.recorded_at);
    EXPECT_EQ(after.hash, before.hash);
    EXPECT_EQ(after.payload_hash, before.payload_hash);
    EXPECT_TRUE(after.redacted);
    // The hash of the header as appended is kept...
    EXPECT_EQ(after.header_hash, rf::Sha256(rf::EncodeHeader(before)));
    EXPECT_EQ(
        rf::ChainHash(log[4].hash, *after.header_hash, after.payload_hash),
        after.hash);
    // ... and the redaction's record binds the header as it is now.
    EXPECT_EQ(
        log[6].metadata.at(rf::kRedactedHeaderKey),
        rf::EncodeRedactedHeader(
            {.position = 6, .hash = rf::Sha256(rf::EncodeHeader(after))}));
    // No other event's header changed.
    for (int i : {0, 1, 2, 3, 4}) {
      EXPECT_FALSE(log[i].header_hash.has_value());
    }
  };
  check(ReadEverything(*store_));
  auto report = store_->Verify({.anchor = ChainAnchor{6, *anchor}});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;

  // As stored: flags 0x03 and the kept hash after the header.
  store_.reset();
  {
    RawDb raw(dir_.path());
    auto view = rf::ViewRecord(RecordAt(raw, 6));
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(view->flags, rf::kFlagRedacted | rf::kFlagHeaderRedacted);
    EXPECT_EQ(view->header_hash, rf::Sha256(rf::EncodeHeader(before)));
    EXPECT_EQ(rf::DecodeRecord(RecordAt(raw, 5))->header_hash, std::nullopt);
  }
  store_ = OpenStore(dir_.path(), Durability::kNoSync);
  check(ReadEverything(*store_));
  report = store_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(RedactionTest, ARedactionClearsOnlyMetadataTheEventHasAndOnlyOnce) {
  ASSERT_TRUE(store_
                  ->Append(Request("hr-notes", ExpectedVersion::Any(),
                                   {NoteWithMetadata("sick leave")}))
                  .ok());
  RedactRequest unknown = Redaction(6);
  unknown.cleared_metadata = {"note", "nope"};
  const absl::Status refused = store_->Redact(std::move(unknown)).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("has no metadata key \"nope\""));
  EXPECT_EQ(store_->HeadPosition(), 6u);
  EXPECT_FALSE(ReadEverything(*store_)[5].redacted);

  // Nothing to clear (already the marker, or no key): no header redaction.
  RedactRequest nothing = Redaction(2);
  ASSERT_TRUE(store_->Redact(std::move(nothing)).ok());
  EXPECT_FALSE(ReadEverything(*store_)[1].header_hash.has_value());
  EXPECT_FALSE(
      ReadEverything(*store_)[6].metadata.contains(rf::kRedactedHeaderKey));

  // A header narrowed as part of an earlier redaction is not cleared
  // again: its binding would no longer hold.
  const auto before = ReadEverything(*store_);
  RedactRequest first = Redaction(3);
  first.also.push_back(
      {.position = 6, .tombstone = "narrowed", .replaces = before[5].payload});
  ASSERT_TRUE(store_->Redact(std::move(first)).ok());
  RedactRequest own = Redaction(6);
  own.replaces = "narrowed";
  own.cleared_metadata = {"note"};
  ASSERT_TRUE(store_->Redact(std::move(own)).ok());
  RedactRequest again = Redaction(6);
  again.replaces = "{}";
  again.cleared_metadata = {"note"};
  ASSERT_TRUE(store_->Redact(std::move(again)).ok())
      << "clearing what is already cleared changes nothing";
  RedactRequest more = Redaction(6);
  more.replaces = "{}";
  more.cleared_metadata = {"ticket"};
  const absl::Status twice = store_->Redact(std::move(more)).status();
  EXPECT_EQ(twice.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(twice.message(), HasSubstr("a header is redacted once"));
  const auto after = ReadEverything(*store_);
  EXPECT_EQ(after[5].header_hash, rf::Sha256(rf::EncodeHeader(before[5])));
  EXPECT_EQ(after[5].metadata.at("ticket"), "HR-2026-118");
  auto report = store_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(RedactionTest, NoAppendSetsTheBindingOfARedactedHeader) {
  ProposedEvent forged = Event("Note", "x");
  forged.metadata[rf::kRedactedHeaderKey] =
      rf::EncodeRedactedHeader({.position = 1, .hash = rf::Sha256("x")});
  const absl::Status refused =
      store_->Append(Request("hr-notes", ExpectedVersion::Any(), {forged}))
          .status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("redacted_header"));
  RedactRequest redaction = Redaction(1);
  redaction.record.events[0].metadata = forged.metadata;
  EXPECT_EQ(store_->Redact(std::move(redaction)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->HeadPosition(), 5u);
}

TEST_F(RedactionTest, NoFileKeepsAClearedMetadataValueOnceErased) {
  store_.reset();
  store_ = OpenStore(dir_.path(), Durability::kSync);
  const std::string marker = "PERSONNUMMER-19700101-1234";
  auto appended = store_->Append(
      Request("hr-notes", ExpectedVersion::Any(),
              {NoteWithMetadata(absl::StrCat("Anna ", marker))}));
  ASSERT_TRUE(appended.ok());
  ASSERT_TRUE(store_->EraseOverwritten(1, 0).ok());
  ASSERT_FALSE(::plantrail::testing::FilesHolding(dir_.path(), marker).empty());

  RedactRequest redaction = Redaction(appended->first_position);
  redaction.cleared_metadata = {"note"};
  ASSERT_TRUE(store_->Redact(std::move(redaction)).ok());
  ASSERT_TRUE(
      store_
          ->EraseOverwritten(appended->first_position, appended->first_position)
          .ok());

  EXPECT_THAT(::plantrail::testing::FilesHolding(dir_.path(), marker),
              ::testing::IsEmpty());
  auto report = store_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

}  // namespace
}  // namespace plantrail::eventstore
