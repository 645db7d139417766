// The EventStore on an embedded RocksDB. See event_store.h for the contract
// and record_format.h for the bytes.
//
// One writer thread owns all mutable log state (next position, last hash,
// last recorded-at): it takes every queued append, checks it against the
// committed state plus what the group has staged so far, and commits the
// group as one WriteBatch with one fsync. After a failed commit it refuses
// every later append, because it cannot know what reached the disk (the
// LevelDB rule); reopening recovers from the WAL.
//
// Readers use RocksDB directly; a commit group becomes visible atomically.
//
// The class is defined in four files, one a job: rocksdb_event_store.cc
// (opening, the writer, reads), rocksdb_verify.cc (Verify, HashAt),
// rocksdb_cursors.cc (the consumer cursors) and rocksdb_replication.cc
// (reading and writing stored records as they are).
#ifndef PLANTRAIL_EVENTSTORE_ROCKSDB_EVENT_STORE_H_
#define PLANTRAIL_EVENTSTORE_ROCKSDB_EVENT_STORE_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/sync.h"
#include "eventstore/disk_full.h"
#include "eventstore/event_store.h"
#include "eventstore/record_format.h"
#include "eventstore/uuid.h"
#include "metrics/histogram.h"
#include "rocksdb/db.h"
#include "rocksdb/statistics.h"

namespace plantrail::eventstore {

class RocksDbEventStore final : public EventStore {
 public:
  static absl::StatusOr<std::unique_ptr<RocksDbEventStore>> Open(
      const Options& options);

  ~RocksDbEventStore() override;

  void AppendAsync(AppendRequest request, AppendCallback done) override;
  void AppendTogetherAsync(std::vector<AppendRequest> requests,
                           AppendTogetherCallback done) override;
  void RedactAsync(RedactRequest request, AppendCallback done) override;
  absl::StatusOr<StreamPage> ReadStream(
      const ReadStreamRequest& request) const override;
  absl::StatusOr<LogPage> ReadAll(const ReadAllRequest& request) const override;
  absl::StatusOr<uint64_t> StreamVersion(
      absl::string_view stream_id) const override;
  absl::StatusOr<std::vector<std::string>> ListStreams(
      absl::string_view prefix, size_t limit) const override;
  absl::StatusOr<std::optional<RecordedEvent>> ReadEvent(
      absl::string_view event_id) const override;
  absl::StatusOr<uint64_t> SaveCursor(absl::string_view name,
                                      uint64_t position) override;
  absl::StatusOr<uint64_t> LoadCursor(absl::string_view name) const override;
  absl::StatusOr<Cursor> LoadOwnedCursor(absl::string_view name) const override;
  absl::StatusOr<Cursor> SaveOwnedCursor(absl::string_view name,
                                         uint64_t position,
                                         absl::string_view owner) override;
  absl::StatusOr<VerifyReport> Verify(
      const VerifyOptions& options) const override;
  using EventStore::Verify;
  absl::StatusOr<Hash> HashAt(uint64_t position) const override;
  absl::Status CreateCheckpoint(const std::string& directory) const override;
  absl::Status EraseOverwritten(uint64_t first, uint64_t last) override;
  absl::StatusOr<std::vector<StoredRecord>> ReadStoredRecords(
      uint64_t first, size_t max_records, size_t max_bytes) const override;
  void AppendStoredAsync(std::vector<StoredRecord> records,
                         ReplicateCallback done) override;
  void RefuseAppends(absl::Status refusal, std::string exempt_stream) override;
  void SetAcknowledgementGate(AcknowledgementGate* gate) override;
  uint64_t HeadPosition() const override;
  uint64_t WaitForHead(uint64_t position, absl::Time deadline) const override;
  uint64_t AddCommitListener(
      std::function<void(uint64_t head)> listener) override;
  void RemoveCommitListener(uint64_t id) override;
  Stats GetStats() const override;

  // While paused the writer takes nothing from the queue, so tests can line
  // up concurrent appends and watch them commit as one group.
  void PauseWriterForTesting();
  void ResumeWriterForTesting();
  size_t QueuedAppendsForTesting() const;

 private:
  struct PendingAppend {
    AppendRequest request;
    std::vector<Uuid> ids;
    // Which ids the client chose (only those can be retries).
    std::vector<bool> client_ids;
    size_t bytes = 0;
    AppendCallback done;
    // For a redaction: the payloads it replaces (the redacted event's
    // first), and the redacted event's metadata keys it clears.
    std::vector<PayloadRewrite> rewrites;
    std::vector<std::string> cleared_metadata;
    std::chrono::steady_clock::time_point enqueued;
    // For an AppendTogether: the appends after this one, committed with it
    // or not at all, and the callback that gets every result (`done` is
    // then empty).
    std::vector<PendingAppend> together;
    AppendTogetherCallback done_together;
    // For AppendStoredAsync: the records copied from another store, and
    // the callback (`done` is then empty).
    std::vector<StoredRecord> stored;
    ReplicateCallback done_stored;
  };
  // What the writer knows of an event id: on disk or staged in this group.
  struct KnownEvent {
    record_format::EventIdEntry entry;
    std::string stream_id;
    uint64_t version = 0;
    std::string type;
    std::string content_type;
    Hash payload_hash{};
    bool redacted = false;
  };
  // What the writer has staged in the current group and not yet committed.
  struct GroupState {
    uint64_t next_position;
    Hash last_hash;
    absl::flat_hash_map<std::string, record_format::StreamHead> stream_heads;
    absl::flat_hash_map<Uuid, KnownEvent> event_ids;
    // Positions redacted by this group.
    absl::flat_hash_set<uint64_t> redacted;
    size_t written_appends = 0;
    size_t written_events = 0;
    // The latest recorded_at of the stored records this group copied.
    absl::Time last_recorded_at = absl::InfinitePast();
    // The hashes of the stored records this group copied, by position, for
    // a rewrite of one of them later in the group.
    struct ChainedHashes {
      Hash hash;
      Hash header_hash;
      Hash payload_hash;
    };
    absl::flat_hash_map<uint64_t, ChainedHashes> stored_hashes;
  };
  // An event found by its id, with the append it came in.
  struct StoredEvent {
    record_format::EventIdEntry entry;
    RecordedEvent event;
  };

  RocksDbEventStore(const Options& options, rocksdb::DB* db,
                    std::vector<rocksdb::ColumnFamilyHandle*> families,
                    std::shared_ptr<rocksdb::Statistics> statistics,
                    std::shared_ptr<NoSpaceListener> no_space);
  absl::Status Recover();
  // Open's removal of a quarantined tail (Options::remove_records_after).
  absl::Status RemoveRecordsAfter(uint64_t position);
  void Enqueue(AppendRequest request, std::vector<PayloadRewrite> rewrites,
               std::vector<std::string> cleared_metadata, AppendCallback done);
  // Checks `request` (ValidateAppend) and gives its events their ids.
  absl::StatusOr<PendingAppend> Prepare(AppendRequest request) const;
  // Queues `pending`, or fails it when the store is closing, or when it is
  // an append (not stored records) and appends are refused.
  void Push(PendingAppend pending);
  // Calls whichever callback `pending` has with `status`.
  static void Fail(PendingAppend& pending, absl::Status status);
  // What a redaction rewrites: the redacted records, and when it cleared
  // metadata values, the record_format::kRedactedHeaderKey value for its
  // record's first event.
  struct Rewritten {
    std::vector<RecordedEvent> events;
    std::optional<std::string> redacted_header;
  };
  // The redacted records of a redaction, checked against what is committed
  // and staged; nothing is written.
  absl::StatusOr<Rewritten> PrepareRedaction(const PendingAppend& pending,
                                             const GroupState& group) const;
  void WriterLoop();
  // After a write failed for lack of space: tries (at most every
  // kResumeInterval) to bring RocksDB back to writing; clears write_error_
  // when it did. Writer thread only.
  void MaybeResume();
  void CommitGroup(std::vector<PendingAppend>& group);
  absl::StatusOr<AppendResult> Stage(const PendingAppend& pending,
                                     absl::Time recorded_at,
                                     rocksdb::WriteBatch& batch,
                                     GroupState& group);
  // An AppendTogether's request without events: checks its expected
  // version against what is committed and staged.
  absl::StatusOr<AppendResult> CheckCondition(const AppendRequest& condition,
                                              const GroupState& group) const;
  // Stages an AppendTogether: all of its appends, or (batch and group as
  // they were) none.
  absl::StatusOr<std::vector<AppendResult>> StageTogether(
      const PendingAppend& pending, absl::Time recorded_at,
      rocksdb::WriteBatch& batch, GroupState& group);
  // Stages the records of an AppendStoredAsync, all or (batch and group as
  // they were) none; rocksdb_replication.cc.
  absl::Status StageStored(const PendingAppend& pending,
                           rocksdb::WriteBatch& batch, GroupState& group);
  absl::Status StageStoredRecord(const StoredRecord& stored,
                                 rocksdb::WriteBatch& batch, GroupState& group);
  absl::Status StageRewritten(const StoredRecord& stored,
                              const StoredRecord::Rewritten& rewritten,
                              rocksdb::WriteBatch& batch, GroupState& group);
  absl::StatusOr<AppendResult> Replay(const PendingAppend& pending,
                                      const std::vector<KnownEvent>& known);
  absl::StatusOr<std::optional<StoredEvent>> ReadStoredEvent(
      const Uuid& id) const;
  absl::StatusOr<std::optional<KnownEvent>> LookUpEventId(
      const Uuid& id, const GroupState& group) const;
  absl::StatusOr<record_format::StreamHead> LookUpStreamHead(
      absl::string_view stream_id, const GroupState* group) const;
  absl::StatusOr<std::vector<RecordedEvent>> ReadPositions(
      const std::vector<uint64_t>& positions) const;

  const Options options_;
  // The Env of the zeroed WAL files (Options::wal_spare_bytes), or null;
  // outlives db_, which the destructor deletes first.
  std::unique_ptr<rocksdb::Env> env_;
  rocksdb::DB* const db_;
  const std::vector<rocksdb::ColumnFamilyHandle*> families_;
  rocksdb::ColumnFamilyHandle* const events_;
  rocksdb::ColumnFamilyHandle* const streams_;
  rocksdb::ColumnFamilyHandle* const stream_heads_;
  rocksdb::ColumnFamilyHandle* const event_ids_;
  rocksdb::ColumnFamilyHandle* const meta_;
  const std::shared_ptr<rocksdb::Statistics> statistics_;
  const std::shared_ptr<NoSpaceListener> no_space_;

  mutable Mutex mu_;
  std::deque<PendingAppend> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status refusal_ ABSL_GUARDED_BY(mu_);
  std::string refusal_exempt_ ABSL_GUARDED_BY(mu_);

  // Owned by the writer thread (and by Recover before it starts).
  uint64_t next_position_ = 1;
  Hash last_hash_{};
  absl::Time last_recorded_at_ = absl::UnixEpoch();
  absl::Status write_error_;
  FreeSpaceFloor floor_;
  static constexpr absl::Duration kResumeInterval = absl::Milliseconds(100);
  bool out_of_space_ = false;
  std::string no_space_failure_;  // RocksDB's words for the failed write
  absl::Time next_resume_attempt_ = absl::InfinitePast();

  std::atomic<uint64_t> head_position_{0};
  std::atomic<AcknowledgementGate*> gate_{nullptr};
  // Serialises cursor updates (read, compare, write).
  mutable Mutex cursor_mu_;
  // Wakes WaitForHead() callers on every commit (and on close).
  mutable Mutex head_mu_;
  bool closing_ ABSL_GUARDED_BY(head_mu_) = false;
  std::map<uint64_t, std::function<void(uint64_t)>> listeners_
      ABSL_GUARDED_BY(head_mu_);
  uint64_t next_listener_ ABSL_GUARDED_BY(head_mu_) = 1;
  std::atomic<uint64_t> appends_{0};
  std::atomic<uint64_t> events_appended_{0};
  std::atomic<uint64_t> replayed_appends_{0};
  std::atomic<uint64_t> rejected_appends_{0};
  std::atomic<uint64_t> commit_groups_{0};
  std::atomic<uint64_t> synced_commits_{0};
  mutable std::atomic<uint64_t> stream_reads_{0};
  mutable std::atomic<uint64_t> log_reads_{0};
  mutable std::atomic<uint64_t> events_read_{0};
  // 100 us to about 6.5 s, and 1 to 1024 events.
  metrics::Histogram append_seconds_{
      metrics::Histogram::ExponentialBounds(0.0001, 2, 17)};
  metrics::Histogram commit_seconds_{
      metrics::Histogram::ExponentialBounds(0.0001, 2, 17)};
  metrics::Histogram group_events_{
      metrics::Histogram::ExponentialBounds(1, 2, 11)};

  std::thread writer_;
};

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_EVENTSTORE_ROCKSDB_EVENT_STORE_H_
