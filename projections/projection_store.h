// Where projections keep their state: a RocksDB of its own (rebuildable from
// the log, so written without fsync), one column family per copy of a
// projection, "<name>.<generation>", and a `meta` family naming the live
// generation of each.
//
// A rebuild writes a new generation (the shadow) and promotes it: one write
// to `meta` makes it live, then the old family is dropped. Readers pin the
// family they started with (shared ownership of its handle), so dropping it
// never cuts a query short.
//
// Thread safety: all methods may be called concurrently.
#ifndef PLANTRAIL_PROJECTIONS_PROJECTION_STORE_H_
#define PLANTRAIL_PROJECTIONS_PROJECTION_STORE_H_

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "eventstore/disk_full.h"
#include "eventstore/rocksdb_stats.h"
#include "google/protobuf/message.h"
#include "projections/projection.h"
#include "rocksdb/db.h"

namespace plantrail::projections {

// Decoded messages by key, at most `kCapacity` of them (whole batches are
// dropped when it overflows: simple, and a cold cache only costs reads).
struct DecodedCache {
  static constexpr size_t kCapacity = 4096;
  absl::flat_hash_map<std::string, std::unique_ptr<google::protobuf::Message>>
      messages;
};

// One copy (generation) of one projection's state.
class StateCopy {
 public:
  StateCopy(rocksdb::DB* db,
            std::shared_ptr<rocksdb::ColumnFamilyHandle> family,
            uint64_t generation);

  uint64_t generation() const { return generation_; }
  // The checkpoint last committed through this copy (or noted at open).
  uint64_t persisted_checkpoint() const {
    return persisted_.load(std::memory_order_acquire);
  }
  void NotePersistedCheckpoint(uint64_t checkpoint) const {
    persisted_.store(checkpoint, std::memory_order_release);
  }
  // The checkpoint as committed (0: nothing applied yet).
  absl::StatusOr<uint64_t> ReadCheckpoint() const;
  // The checkpoint with the log's chain hash there, as the projection saw
  // it when it applied that event (nullopt at checkpoint 0, or for a copy
  // written before checkpoints carried hashes). Lets Verify tell a
  // projection folded from another (or a rewritten) log.
  struct Checkpoint {
    uint64_t position = 0;
    std::optional<eventstore::Hash> hash;
  };
  absl::StatusOr<Checkpoint> ReadCheckpointWithHash() const;

  // The projection layout (Projection::layout) the copy was folded under:
  // 1 for a copy written before layouts were kept.
  absl::StatusOr<uint32_t> ReadLayout() const;
  absl::Status WriteLayout(uint32_t layout) const;

  // A reader of the committed state as of now, pinned to a RocksDB
  // snapshot: everything it reads, checkpoint included, is of one moment.
  std::shared_ptr<const StateReader> Reader() const;

  // A batch of writes to this copy, committed with a new checkpoint.
  class Batch {
   public:
    explicit Batch(const StateCopy* copy);
    StateWriter& writer() { return *writer_; }
    // Commits every write and `checkpoint` (with the chain hash of the event
    // there) in one WriteBatch (no fsync).
    absl::Status Commit(uint64_t checkpoint,
                        const eventstore::Hash& checkpoint_hash);
    // Whether anything was written (or staged) in this batch.
    bool has_writes() const;
    // What the batch holds in memory until it commits: the bytes put (keys
    // and values) and the number of messages staged.
    size_t bytes() const;
    size_t staged() const;

   private:
    const StateCopy* copy_;
    std::unique_ptr<StateWriter> writer_;
  };

 private:
  friend class Batch;
  rocksdb::DB* const db_;
  const std::shared_ptr<rocksdb::ColumnFamilyHandle> family_;
  const uint64_t generation_;
  mutable std::atomic<uint64_t> persisted_{0};
  // Staged messages as the last batch committed them, kept decoded for the
  // next batches (bounded), so a busy key is not read and parsed again on
  // every page. Only the thread that writes batches touches it (the
  // runner's).
  mutable DecodedCache decoded_;
};

class ProjectionStore {
 public:
  static absl::StatusOr<std::unique_ptr<ProjectionStore>> Open(
      const std::string& path);
  ~ProjectionStore();

  // The live copy of `name`, created empty at generation 1 on first use.
  absl::StatusOr<std::shared_ptr<StateCopy>> Live(const std::string& name);
  // A new, empty copy of `name` at the next generation; replaces any
  // unfinished shadow.
  absl::StatusOr<std::shared_ptr<StateCopy>> CreateShadow(
      const std::string& name);
  // Makes `shadow` the live copy of `name` and drops the previous one.
  absl::Status Promote(const std::string& name,
                       const std::shared_ptr<StateCopy>& shadow);

  // After a redaction, once the copies rebuilt from the redacted log are
  // live: makes sure no file keeps what the dropped copies held. Waits
  // until `deadline` for readers to let go of dropped copies
  // (kDeadlineExceeded if one does not), flushes every family, so that no
  // WAL file is needed for what was written before, and deletes the files
  // that made obsolete (the dropped copies' tables, old WAL files) before
  // it returns.
  absl::Status EraseDropped(absl::Time deadline);

  // After a write failed for lack of space (kResourceExhausted): brings the
  // database back to writing if there is space again (see
  // eventstore::ResumeAfterNoSpace); fails while there is none, and for
  // good (kFailedPrecondition) after a failed WAL write.
  absl::Status ResumeAfterNoSpace();

  // The database's directory.
  const std::string& path() const { return path_; }

  // Size, memory and compaction of the database (for metrics).
  eventstore::RocksDbStats Stats() const;

 private:
  ProjectionStore(std::string path, rocksdb::DB* db,
                  std::map<std::string, rocksdb::ColumnFamilyHandle*> families,
                  std::shared_ptr<eventstore::NoSpaceListener> no_space);
  absl::StatusOr<std::shared_ptr<StateCopy>> Create(const std::string& name,
                                                    uint64_t generation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Drop(const std::string& family_name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<rocksdb::ColumnFamilyHandle> Share(
      rocksdb::ColumnFamilyHandle* handle);

  const std::string path_;
  rocksdb::DB* const db_;
  const std::shared_ptr<eventstore::NoSpaceListener> no_space_;
  rocksdb::ColumnFamilyHandle* meta_;
  Mutex mu_;
  // Open families by name (meta excluded), shared with readers.
  std::map<std::string, std::shared_ptr<rocksdb::ColumnFamilyHandle>> families_
      ABSL_GUARDED_BY(mu_);
  // Dropped families whose handles readers still hold. Locked after mu_
  // (a handle's last owner may let go under mu_).
  Mutex dropped_mu_ ABSL_ACQUIRED_AFTER(mu_);
  absl::flat_hash_set<const rocksdb::ColumnFamilyHandle*> dropped_
      ABSL_GUARDED_BY(dropped_mu_);
};

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_PROJECTION_STORE_H_
