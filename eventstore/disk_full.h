// What the log and the projections do about a full disk.
//
// First line: a floor under the free space of the data directory's disk.
// Below it, writes are refused before they reach RocksDB (appends fail with
// kResourceExhausted, projections wait), and they go on by themselves once
// space is freed, the way Elasticsearch's flood-stage watermark or etcd's
// quota work. RocksDB then never meets a full disk through our own writes.
//
// Second line, for a disk filled by something else faster than the floor
// is checked: RocksDB reports NoSpace and refuses every write until
// DB::Resume(). RocksDB 7.8 resumes cleanly from a failed flush or
// compaction, but not from a failed WAL write: the WAL file writer that
// failed stays in use, and the next write to it aborts the process (an
// assertion in Debian's build). NoSpaceListener tells the two apart, and
// ResumeAfterNoSpace() only resumes the first kind.
#ifndef PLANTRAIL_EVENTSTORE_DISK_FULL_H_
#define PLANTRAIL_EVENTSTORE_DISK_FULL_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rocksdb/db.h"
#include "rocksdb/listener.h"

namespace plantrail::eventstore {

// Bytes an unprivileged process may still write on the filesystem holding
// `path` (statvfs f_bavail).
absl::StatusOr<uint64_t> FreeBytes(const std::string& path);

// A floor under the free space of `path`'s filesystem, read at most every
// `recheck` (statvfs is cheap, but not free at 20,000 commits a second).
// 0 bytes means no floor. Thread-compatible: one thread checks.
class FreeSpaceFloor {
 public:
  FreeSpaceFloor(std::string path, uint64_t min_free_bytes,
                 absl::Duration recheck = absl::Milliseconds(20));

  // OK, or kResourceExhausted saying how much is free and what the floor
  // is. A filesystem that cannot be asked counts as having space (the
  // writes themselves then tell).
  absl::Status Check();
  uint64_t min_free_bytes() const { return min_free_bytes_; }

 private:
  const std::string path_;
  const uint64_t min_free_bytes_;
  const absl::Duration recheck_;
  absl::Time next_check_ = absl::InfinitePast();
  absl::Status last_;
};

// Registered in a database's options; notes whether a write to its WAL
// failed for lack of space. Thread-safe.
class NoSpaceListener : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason,
                         rocksdb::Status* error) override;
  bool wal_write_failed() const { return wal_write_failed_.load(); }

 private:
  std::atomic<bool> wal_write_failed_{false};
};

// After a write failed for lack of space: DB::Resume(), then a synced
// marker and a flush of every family in `families` (and the default one),
// so that the memtables move to SST files and a new WAL begins. Refuses
// (kFailedPrecondition: restart the server once space is freed) when a
// WAL write failed; fails while there is still no space. Callers keep
// their own writes away until it returns OK.
absl::Status ResumeAfterNoSpace(
    rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
    const NoSpaceListener& listener);

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_EVENTSTORE_DISK_FULL_H_
