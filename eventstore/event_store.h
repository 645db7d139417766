// The append-only event log. It knows nothing about plans: streams, events,
// positions and hashes only.
//
// Guarantees (docs/architecture.md, "The log", names the test of each):
//  - Every event has a global position 1, 2, 3, ... with no gaps and no
//    reordering, and a version 1, 2, 3, ... within its stream.
//  - An append to one stream is atomic: all of its events or none; so is
//    an AppendTogether to several streams.
//  - An append is acknowledged only once durable (WAL fsync'd), unless the
//    store was opened with Durability::kNoSync.
//  - An expected-version mismatch writes nothing and fails with kAborted; the
//    status carries the stream's current version (CurrentVersionOf).
//  - Appends are idempotent by event id, durably, across restarts.
//  - Nothing is updated or deleted, with one exception that the chain
//    survives: Redact replaces a payload by a tombstone, keeping its hash,
//    and may clear metadata values, keeping the header's hash, in the same
//    commit as an event that records the redaction.
//  - Every event is hash-chained: hash(n) = SHA-256(hash(n-1) ||
//    SHA-256(header(n)) || SHA-256(payload(n))), hash(0) = 32 zero bytes;
//    the header and payload hashes are those of the event as appended
//    (record_format.h).
//
// Thread safety: every method may be called from any thread concurrently.
// Appends are checked, ordered and committed by one writer thread in groups
// (one WriteBatch, one fsync per group); reads never block the writer.
#ifndef PLANTRAIL_EVENTSTORE_EVENT_STORE_H_
#define PLANTRAIL_EVENTSTORE_EVENT_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eventstore/event.h"
#include "eventstore/event_store_stats.h"
#include "eventstore/limits.h"

namespace plantrail::eventstore {

enum class Durability {
  // Every commit group is fsync'd before any of its appends is acknowledged.
  kSync,
  // No fsync: an OS crash or power loss may lose acknowledged appends. For
  // tests and bulk import only; the server logs a warning when it is used.
  kNoSync,
};

struct Options {
  // Directory of the RocksDB database; created if missing.
  std::string path;
  Durability durability = Durability::kSync;
  Limits limits;
  // Upper bounds on one commit group.
  size_t max_group_appends = 1024;
  size_t max_group_bytes = 32 << 20;
  // Appends are refused (kResourceExhausted) while the disk of `path` has
  // less free space than this, and go on by themselves once it has more
  // (see disk_full.h). 0: no floor.
  uint64_t min_free_bytes = 0;
  // When above 0, the log's write-ahead log files are written with this
  // many zeros before RocksDB uses them, so that a commit's fdatasync
  // overwrites written blocks instead of growing the file (zeroed_wal.h);
  // a spare file of this size stays in `path`. 0: RocksDB's own files.
  uint64_t wal_spare_bytes = 0;
  // The clock that stamps recorded_at; tests may replace it.
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // The one way records ever leave the log: when set and below the head,
  // Open removes every record after this position (with their index
  // entries; consumer cursors beyond it move back to it) in one synced
  // commit before anything else. Only for a former leader rejoining its
  // successor, after the records were written to a quarantine file
  // (replication/rejoin.h): they were never acknowledged by a replica, and
  // the successor's history replaces them. A redaction among them stays
  // applied to the earlier record it redacted.
  std::optional<uint64_t> remove_records_after;
};

// What an acknowledgement waits for beyond the local commit: synchronous
// replication holds each append's answer until enough replicas have its
// last position durably (docs/replication.md).
class AcknowledgementGate {
 public:
  virtual ~AcknowledgementGate() = default;
  // Called on the store's writer thread after a commit, once for each
  // append it acknowledges, with the append's last position (an
  // idempotent replay's too: its events must be replicated before it is
  // acknowledged again). Must not block: `release` runs later, exactly
  // once, on any thread, with OK to acknowledge or the status to fail the
  // append with.
  virtual void Hold(uint64_t position,
                    absl::AnyInvocable<void(absl::Status) &&> release) = 0;
};

class EventStore {
 public:
  using AppendCallback =
      absl::AnyInvocable<void(absl::StatusOr<AppendResult>) &&>;
  using AppendTogetherCallback =
      absl::AnyInvocable<void(absl::StatusOr<std::vector<AppendResult>>) &&>;

  // Opens (or creates) the store at options.path. Fails if another process
  // holds it open, or if its last record does not decode (kDataLoss).
  static absl::StatusOr<std::unique_ptr<EventStore>> Open(
      const Options& options);

  // Finishes every queued append (or fails it), then closes the database.
  virtual ~EventStore() = default;

  // Queues an append and returns at once; `done` runs exactly once, on the
  // writer thread or (for requests refused before queueing) on the caller's,
  // and must not block.
  //
  // Errors: kInvalidArgument (a limit or syntax rule, naming the field),
  // kAborted (expected version), kAlreadyExists (an event id already used by
  // another append), kUnavailable (closing, or refusing writes after a
  // failed commit), kResourceExhausted (disk full).
  //
  // Idempotency: when every event id was stored before by one earlier append
  // of exactly these events (same ids in the same order, same stream, type,
  // content type and payload), the result is that append's, with replayed
  // set, and nothing is written. Any partial or inconsistent reuse of ids
  // fails with kAlreadyExists.
  virtual void AppendAsync(AppendRequest request, AppendCallback done) = 0;

  // Blocking form of AppendAsync.
  absl::StatusOr<AppendResult> Append(AppendRequest request);

  // Appends to several streams in one commit: every request's events, at
  // consecutive positions in the order given, or nothing at all. Each
  // request is checked as AppendAsync checks it (limits, expected version,
  // event ids), and the first that fails fails the whole, its error naming
  // it as `requests[i]`. For a command whose events belong to several
  // streams (closing a plan with its last open areas).
  //
  // A request without events is a condition only: its expected version must
  // hold (kAborted otherwise, as for an append), and nothing is written to
  // its stream; its result has the stream's version and no positions. So a
  // command can write one stream on the condition that another has not
  // moved (an area registered only while its plan is still open).
  //
  // Idempotency: when every request with events is a retry of the same
  // earlier AppendTogether, the results are the earlier ones, each with
  // replayed set, and nothing is written; a retry of some requests only
  // fails with kAlreadyExists. kInvalidArgument also when `requests` is
  // empty, has no events at all, or names one stream twice. Results are in
  // request order.
  virtual void AppendTogetherAsync(std::vector<AppendRequest> requests,
                                   AppendTogetherCallback done) = 0;
  absl::StatusOr<std::vector<AppendResult>> AppendTogether(
      std::vector<AppendRequest> requests);

  // Appends `request.record` and, in the same commit, replaces the payload
  // of the event at `request.position` with the tombstone, and those of
  // `request.also` (see RedactRequest), and clears the metadata values
  // each names in `cleared_metadata`. Checked like an append, plus:
  // kNotFound when a position is not committed, kFailedPrecondition when
  // one is already redacted (and `replaces` is unset), kAborted when one
  // no longer holds what `replaces` says, kInvalidArgument for a
  // `cleared_metadata` key the event does not have. An idempotent retry of
  // the record redacts nothing again.
  //
  // Idempotency and redaction: a retry of an append whose events were
  // redacted since fails with kFailedPrecondition whatever payload it
  // carries, so that retries cannot test guesses of the redacted text
  // against the stored payload hash.
  virtual void RedactAsync(RedactRequest request, AppendCallback done) = 0;
  absl::StatusOr<AppendResult> Redact(RedactRequest request);

  // kNotFound when the stream has no events.
  virtual absl::StatusOr<StreamPage> ReadStream(
      const ReadStreamRequest& request) const = 0;
  virtual absl::StatusOr<LogPage> ReadAll(
      const ReadAllRequest& request) const = 0;

  // The stream's last version; 0 when it has no events.
  virtual absl::StatusOr<uint64_t> StreamVersion(
      absl::string_view stream_id) const = 0;

  // The ids of the streams with events whose id starts with `prefix`, in
  // byte order, at most `limit`. Committed streams only.
  virtual absl::StatusOr<std::vector<std::string>> ListStreams(
      absl::string_view prefix, size_t limit) const = 0;

  // The event with this id (canonical UUID text, any case), if stored.
  virtual absl::StatusOr<std::optional<RecordedEvent>> ReadEvent(
      absl::string_view event_id) const = 0;

  // Named positions in the log that outlive restarts (a consumer group's
  // acknowledged position, say). Saving never moves a cursor backwards; it
  // returns the cursor's position afterwards. Synced. Names follow the
  // stream id syntax.
  virtual absl::StatusOr<uint64_t> SaveCursor(absl::string_view name,
                                              uint64_t position) = 0;
  // 0 for a cursor never saved.
  virtual absl::StatusOr<uint64_t> LoadCursor(absl::string_view name) const = 0;

  // A cursor and whom it belongs to.
  struct Cursor {
    uint64_t position = 0;
    // Empty: nobody's (never claimed, or saved before owners were kept).
    std::string owner;
  };
  // As LoadCursor, with the owner.
  virtual absl::StatusOr<Cursor> LoadOwnedCursor(
      absl::string_view name) const = 0;
  // As SaveCursor, on behalf of `owner`, atomically: a cursor nobody owns
  // becomes `owner`'s (also when its position does not move); one another
  // owns is left as it is. An empty `owner` claims nothing and moves any
  // cursor (SaveCursor is that). Returns the cursor afterwards: its owner
  // tells whether the save happened. The owner is never changed once set.
  virtual absl::StatusOr<Cursor> SaveOwnedCursor(absl::string_view name,
                                                 uint64_t position,
                                                 absl::string_view owner) = 0;

  // Walks the whole chain on a snapshot and names the first broken position
  // (with an anchor: also where the log stopped extending it). A redacted
  // header must match the binding its redaction's record carries
  // (record_format.h); a mismatch names the redacted position.
  virtual absl::StatusOr<VerifyReport> Verify(
      const VerifyOptions& options) const = 0;
  absl::StatusOr<VerifyReport> Verify() const { return Verify({}); }

  // The chain hash stored with the event at `position`: kNotFound beyond
  // the head, kDataLoss when the record does not decode. Not a check of the
  // chain (Verify is).
  virtual absl::StatusOr<Hash> HashAt(uint64_t position) const = 0;

  // Writes an openable copy of the log as of one moment (a RocksDB
  // checkpoint: hard links where the filesystem allows, with the WAL it
  // needs) into `directory`, which must not exist. Appends go on meanwhile;
  // the copy holds a prefix of the log, complete appends only.
  virtual absl::Status CreateCheckpoint(const std::string& directory) const = 0;

  // After a redaction: makes sure no copy of what the positions `first` to
  // `last` held before stays in the store's files. Flushes every column
  // family (so no WAL file is needed for them any more), compacts their
  // key range down to the bottommost level, and deletes the files that
  // made obsolete (WAL files too) before it returns. A read that was under
  // way keeps the files it reads until it ends; RocksDB deletes them then.
  // first > last: only the flush and the deletions.
  virtual absl::Status EraseOverwritten(uint64_t first, uint64_t last) = 0;

  // Replication (docs/replication.md). The stored records from `first` on,
  // as they are now, at most `max_records` and about `max_bytes` (at least
  // one record when there is one); empty beyond the head.
  virtual absl::StatusOr<std::vector<StoredRecord>> ReadStoredRecords(
      uint64_t first, size_t max_records, size_t max_bytes) const = 0;

  // Writes records read from another store (ReadStoredRecords) at the same
  // positions, with the same bytes, in one commit, after checking each:
  // the first is at the head + 1 and the others follow it (else
  // kFailedPrecondition); each record decodes, is encoded exactly as this
  // build encodes it, its payload hash is that of its payload (unless
  // redacted), its chain hash is recomputed from the one before, and its
  // stream version follows its stream's (else kDataLoss naming the
  // position and what is wrong). A rewritten record must keep its position,
  // its chain, header and payload hashes, and be redacted. Nothing is
  // written unless everything holds. Synced like an append; `done` runs
  // once, as AppendAsync's. Accepted also while appends are refused.
  using ReplicateCallback = absl::AnyInvocable<void(absl::Status) &&>;
  virtual void AppendStoredAsync(std::vector<StoredRecord> records,
                                 ReplicateCallback done) = 0;
  absl::Status AppendStored(std::vector<StoredRecord> records);

  // From now on every acknowledged append (AppendAsync, AppendTogether,
  // RedactAsync; not AppendStoredAsync) passes `gate` first; nullptr: none.
  // `gate` must outlive the store or be unset before it goes. Set it
  // before appends begin.
  virtual void SetAcknowledgementGate(AcknowledgementGate* gate) = 0;

  // While `refusal` is not OK, every append, AppendTogether and redaction
  // fails with it and writes nothing (a replica's log takes records from
  // its leader only), except an AppendAsync to `exempt_stream` (the one
  // that records a change of leadership, written before appends open);
  // OkStatus() accepts them again (a promotion).
  virtual void RefuseAppends(absl::Status refusal,
                             std::string exempt_stream) = 0;

  // The last committed position (0 when empty).
  virtual uint64_t HeadPosition() const = 0;

  // Calls `listener` with the new head after every commit, on the writer
  // thread: it must be quick and must not block (wake someone up). Returns
  // an id for RemoveCommitListener.
  virtual uint64_t AddCommitListener(
      std::function<void(uint64_t head)> listener) = 0;
  virtual void RemoveCommitListener(uint64_t id) = 0;

  // Blocks until the head reaches `position`, the store closes, or
  // `deadline` passes; returns the head then. For tailers of the log.
  virtual uint64_t WaitForHead(uint64_t position,
                               absl::Time deadline) const = 0;
  virtual Stats GetStats() const = 0;
};

// The kAborted failure of an expected-version check, carrying the stream's
// current version (0: no stream) for CurrentVersionOf.
absl::Status VersionConflict(absl::string_view stream_id,
                             const ExpectedVersion& expected, uint64_t current);

// The stream's current version carried by a kAborted expected-version
// failure, if `status` is one.
std::optional<uint64_t> CurrentVersionOf(const absl::Status& status);

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_EVENTSTORE_EVENT_STORE_H_
