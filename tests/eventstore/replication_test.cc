// Copying a log record by record (ReadStoredRecords -> AppendStored): the
// copy has the same bytes at the same positions, redactions included, and
// a record that does not chain, does not decode exactly, or does not
// follow the copy's head is refused with nothing written.
#include <string>
#include <vector>

#include "eventstore/record_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eventstore/raw_db.h"
#include "tests/eventstore/test_util.h"
#include "tests/temp_dir.h"

namespace plantrail::eventstore {
namespace {

namespace rf = record_format;
using ::plantrail::eventstore::testing::Event;
using ::plantrail::eventstore::testing::OpenStore;
using ::plantrail::eventstore::testing::Request;
using ::testing::HasSubstr;

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    leader_ = OpenStore(leader_dir_.path() + "/log", Durability::kNoSync);
    replica_ = OpenStore(replica_dir_.path() + "/log", Durability::kNoSync);
    ASSERT_NE(leader_, nullptr);
    ASSERT_NE(replica_, nullptr);
  }

  void Load(int appends) {
    for (int i = 0; i < appends; ++i) {
      std::vector<ProposedEvent> events;
      for (int e = 0; e <= i % 3; ++e) {
        events.push_back(Event("StatusReported", absl::StrCat("report ", i)));
      }
      ASSERT_TRUE(leader_
                      ->Append(Request(absl::StrCat("area-", i % 4),
                                       ExpectedVersion::Any(), events))
                      .ok());
    }
  }

  // Copies everything the replica lacks, `page` records at a time.
  absl::Status CatchUp(size_t page = 7) {
    for (;;) {
      auto records = leader_->ReadStoredRecords(replica_->HeadPosition() + 1,
                                                page, 1 << 20);
      if (!records.ok()) return records.status();
      if (records->empty()) return absl::OkStatus();
      if (absl::Status applied = replica_->AppendStored(*std::move(records));
          !applied.ok()) {
        return applied;
      }
    }
  }

  // Every stored record of `store`, as bytes.
  static std::vector<std::string> Bytes(const EventStore& store) {
    std::vector<std::string> all;
    auto records = store.ReadStoredRecords(1, 1 << 20, 1 << 30);
    EXPECT_TRUE(records.ok()) << records.status();
    if (records.ok()) {
      for (auto& record : *records) all.push_back(record.record);
    }
    return all;
  }

  plantrail::testing::TempDir leader_dir_;
  plantrail::testing::TempDir replica_dir_;
  std::unique_ptr<RocksDbEventStore> leader_;
  std::unique_ptr<RocksDbEventStore> replica_;
};

TEST_F(ReplicationTest, TheCopyIsByteIdenticalRedactionsIncluded) {
  Load(20);
  ASSERT_TRUE(CatchUp().ok());
  // A redaction of a record the replica already has: its commit ships the
  // rewritten record with the redaction's own.
  RedactRequest redaction{
      .position = 3,
      .tombstone = "{}",
      .record = Request("plantrail-redactions", ExpectedVersion::Any(),
                        {Event("PayloadRedacted", "the law says so")})};
  ProposedEvent noted = Event("StatusReported", "call anna");
  noted.metadata = {{"note", "anna's phone"}};
  const auto with_note =
      leader_->Append(Request("area-9", ExpectedVersion::Any(), {noted}));
  ASSERT_TRUE(with_note.ok());
  ASSERT_TRUE(leader_->Redact(std::move(redaction)).ok());
  Load(5);
  RedactRequest header{
      .position = with_note->first_position,
      .tombstone = "{}",
      .cleared_metadata = {"note"},
      .record = Request("plantrail-redactions", ExpectedVersion::Any(),
                        {Event("PayloadRedacted", "and the note")})};
  ASSERT_TRUE(leader_->Redact(std::move(header)).ok());
  ASSERT_TRUE(CatchUp(3).ok());

  EXPECT_EQ(replica_->HeadPosition(), leader_->HeadPosition());
  EXPECT_EQ(Bytes(*replica_), Bytes(*leader_));
  auto report = replica_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->head_hash, *leader_->HashAt(leader_->HeadPosition()));
  // The indexes follow: streams read, and an idempotent retry is told from
  // a new append on the copy as on the original.
  auto area = replica_->ReadStream({.stream_id = "area-1"});
  ASSERT_TRUE(area.ok());
  EXPECT_EQ(area->last_version, *leader_->StreamVersion("area-1"));
  auto copied = replica_->ReadEvent(with_note->event_ids[0]);
  ASSERT_TRUE(copied.ok() && copied->has_value());
  EXPECT_TRUE((*copied)->redacted);
}

TEST_F(ReplicationTest, AReplicaThatStartsLateGetsTheRedactedBytes) {
  Load(6);
  ASSERT_TRUE(leader_
                  ->Redact({.position = 2,
                            .tombstone = "{}",
                            .record = Request(
                                "plantrail-redactions", ExpectedVersion::Any(),
                                {Event("PayloadRedacted", "the law")})})
                  .ok());
  ASSERT_TRUE(CatchUp().ok());
  EXPECT_EQ(Bytes(*replica_), Bytes(*leader_));
}

TEST_F(ReplicationTest, RedactionsWrittenBeforeRewriteEntriesStillCopy) {
  // A log from before replication: its redaction has no rewrite entry (the
  // entry is deleted here, leaving the bytes an older build wrote).
  Load(6);
  auto redacted = leader_->Redact(
      {.position = 2,
       .tombstone = "{}",
       .record = Request("plantrail-redactions", ExpectedVersion::Any(),
                         {Event("PayloadRedacted", "the law")})});
  ASSERT_TRUE(redacted.ok());
  leader_.reset();
  {
    RawDb raw(leader_dir_.path() + "/log");
    ASSERT_FALSE(
        raw.Get("meta", rf::RewriteKey(redacted->first_position)).empty());
    raw.Delete("meta", rf::RewriteKey(redacted->first_position));
  }
  leader_ = OpenStore(leader_dir_.path() + "/log", Durability::kNoSync);
  // A copy made now holds the record as redacted already.
  ASSERT_TRUE(CatchUp().ok());
  EXPECT_EQ(Bytes(*replica_), Bytes(*leader_));
  auto report = replica_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(ReplicationTest, AnIdempotentRetryOnTheCopyIsAReplay) {
  Load(3);
  auto original = leader_->Append(Request(
      "area-1", ExpectedVersion::Any(),
      {Event("StatusReported", "a", "11111111-1111-4111-8111-111111111111"),
       Event("StatusReported", "b", "22222222-2222-4222-8222-222222222222")}));
  ASSERT_TRUE(original.ok());
  ASSERT_TRUE(CatchUp().ok());
  auto retried = replica_->Append(Request(
      "area-1", ExpectedVersion::Any(),
      {Event("StatusReported", "a", "11111111-1111-4111-8111-111111111111"),
       Event("StatusReported", "b", "22222222-2222-4222-8222-222222222222")}));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(retried->replayed);
  EXPECT_EQ(retried->first_position, original->first_position);
}

TEST_F(ReplicationTest, AFlippedByteIsRefusedNamingItsPositionNothingWritten) {
  Load(10);
  auto records = leader_->ReadStoredRecords(1, 100, 1 << 20);
  ASSERT_TRUE(records.ok());
  ASSERT_GE(records->size(), 12u);
  // Every byte of record 12 in turn: none passes, and the copy stays empty.
  const std::string original = (*records)[11].record;
  for (size_t i = 0; i < original.size(); ++i) {
    std::vector<StoredRecord> altered = *records;
    // Bit 0 of the flags byte (outside the chain) included.
    altered[11].record[i] ^= 0x01;
    const absl::Status refused = replica_->AppendStored(std::move(altered));
    ASSERT_FALSE(refused.ok()) << "byte " << i << " passed";
    EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss) << refused;
    EXPECT_THAT(refused.message(), HasSubstr("position 12")) << refused;
    EXPECT_EQ(replica_->HeadPosition(), 0u);
  }
  EXPECT_TRUE(replica_->AppendStored(*std::move(records)).ok());
}

TEST_F(ReplicationTest, RecordsMustFollowTheHead) {
  Load(5);
  auto records = leader_->ReadStoredRecords(3, 100, 1 << 20);
  ASSERT_TRUE(records.ok());
  const absl::Status refused = replica_->AppendStored(*std::move(records));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(),
              HasSubstr("the next record must be at position 1"));
  EXPECT_EQ(replica_->HeadPosition(), 0u);
}

TEST_F(ReplicationTest, AForeignRewriteIsRefused) {
  Load(4);
  auto records = leader_->ReadStoredRecords(1, 100, 1 << 20);
  ASSERT_TRUE(records.ok());
  // Position 4 claims to rewrite position 2 with its own unredacted bytes.
  (*records)[3].rewritten.push_back(
      {.position = 2, .record = (*records)[1].record});
  const absl::Status refused = replica_->AppendStored(*std::move(records));
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("rewrites position 2"));
  EXPECT_EQ(replica_->HeadPosition(), 0u);
}

TEST_F(ReplicationTest, RefusedAppendsWriteNothingButStoredRecordsGoOn) {
  Load(3);
  replica_->RefuseAppends(
      absl::FailedPreconditionError(
          "this server is a replica of leader:50051 and accepts no writes"),
      "plantrail-leadership");
  auto refused =
      replica_->Append(Request("area-1", ExpectedVersion::Any(),
                               {Event("StatusReported", "on the replica")}));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("leader:50051"));
  auto together = replica_->AppendTogether(
      {Request("area-1", ExpectedVersion::Any(), {Event("T", "x")})});
  EXPECT_EQ(together.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CatchUp().ok());
  EXPECT_EQ(replica_->HeadPosition(), leader_->HeadPosition());
  // Promoted: appends go on after the copied records, on the same chain.
  // The exempt stream takes an append meanwhile (the new term's record);
  // a redaction or an AppendTogether naming it does not.
  auto term = replica_->Append(Request("plantrail-leadership",
                                       ExpectedVersion::NoStream(),
                                       {Event("LeaderTermBegan", "term 1")}));
  ASSERT_TRUE(term.ok()) << term.status();
  auto together_exempt = replica_->AppendTogether({Request(
      "plantrail-leadership", ExpectedVersion::Any(), {Event("T", "x")})});
  EXPECT_EQ(together_exempt.status().code(),
            absl::StatusCode::kFailedPrecondition);
  replica_->RefuseAppends(absl::OkStatus(), "");
  auto appended =
      replica_->Append(Request("area-1", ExpectedVersion::Any(),
                               {Event("StatusReported", "now the leader")}));
  ASSERT_TRUE(appended.ok()) << appended.status();
  EXPECT_EQ(appended->first_position, leader_->HeadPosition() + 2);
  auto report = replica_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(ReplicationTest, ACopyReopensWhereItStopped) {
  Load(8);
  ASSERT_TRUE(CatchUp().ok());
  const uint64_t head = replica_->HeadPosition();
  replica_.reset();
  replica_ = OpenStore(replica_dir_.path() + "/log", Durability::kNoSync);
  EXPECT_EQ(replica_->HeadPosition(), head);
  Load(4);
  ASSERT_TRUE(CatchUp().ok());
  EXPECT_EQ(Bytes(*replica_), Bytes(*leader_));
}

TEST_F(ReplicationTest, ARemovedTailLeavesTheLogAsItWasAtThatPosition) {
  Load(6);
  const uint64_t kept = leader_->HeadPosition();
  const auto kept_bytes = Bytes(*leader_);
  const uint64_t area_1 = *leader_->StreamVersion("area-1");
  ASSERT_TRUE(leader_->SaveCursor("consumer", kept).ok());
  // The tail: appends to old and new streams, with client ids, a cursor
  // that acknowledged it.
  ASSERT_TRUE(
      leader_
          ->Append(Request("area-1", ExpectedVersion::Any(),
                           {Event("StatusReported", "tail",
                                  "33333333-3333-4333-8333-333333333333")}))
          .ok());
  ASSERT_TRUE(leader_
                  ->Append(Request("area-new", ExpectedVersion::NoStream(),
                                   {Event("AreaRegistered", "tail")}))
                  .ok());
  ASSERT_TRUE(leader_->SaveCursor("consumer", kept + 2).ok());
  leader_.reset();

  auto reopened =
      RocksDbEventStore::Open(Options{.path = leader_dir_.path() + "/log",
                                      .durability = Durability::kNoSync,
                                      .remove_records_after = kept});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  leader_ = *std::move(reopened);
  EXPECT_EQ(leader_->HeadPosition(), kept);
  EXPECT_EQ(Bytes(*leader_), kept_bytes);
  EXPECT_EQ(*leader_->StreamVersion("area-1"), area_1);
  EXPECT_EQ(*leader_->StreamVersion("area-new"), 0u);
  EXPECT_EQ(*leader_->LoadCursor("consumer"), kept);
  EXPECT_FALSE(
      leader_->ReadEvent("33333333-3333-4333-8333-333333333333")->has_value());
  // The log goes on from there, on the same chain; the removed id is free.
  auto again =
      leader_->Append(Request("area-1", ExpectedVersion::Exact(area_1),
                              {Event("StatusReported", "the successor's",
                                     "33333333-3333-4333-8333-333333333333")}));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->first_position, kept + 1);
  EXPECT_FALSE(again->replayed);
  auto report = leader_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

}  // namespace
}  // namespace plantrail::eventstore
