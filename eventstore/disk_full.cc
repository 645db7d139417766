#include "eventstore/disk_full.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace plantrail::eventstore {

absl::StatusOr<uint64_t> FreeBytes(const std::string& path) {
  struct statvfs info;
  if (statvfs(path.c_str(), &info) != 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot read the free space of ", path, ": ", std::strerror(errno)));
  }
  return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
}

FreeSpaceFloor::FreeSpaceFloor(std::string path, uint64_t min_free_bytes,
                               absl::Duration recheck)
    : path_(std::move(path)),
      min_free_bytes_(min_free_bytes),
      recheck_(recheck) {}

absl::Status FreeSpaceFloor::Check() {
  if (min_free_bytes_ == 0) return absl::OkStatus();
  const absl::Time now = absl::Now();
  if (now < next_check_) return last_;
  next_check_ = now + recheck_;
  absl::StatusOr<uint64_t> free = FreeBytes(path_);
  if (!free.ok() || *free >= min_free_bytes_) {
    last_ = absl::OkStatus();
  } else {
    last_ = absl::ResourceExhaustedError(absl::StrCat(
        "the disk of ", path_, " has ", *free >> 20, " MiB free, under the ",
        min_free_bytes_ >> 20,
        " MiB floor (--min-free-mb): writes are refused until space is "
        "freed, then go on by themselves"));
  }
  return last_;
}

void NoSpaceListener::OnBackgroundError(rocksdb::BackgroundErrorReason reason,
                                        rocksdb::Status* error) {
  if (error != nullptr && error->IsNoSpace() &&
      (reason == rocksdb::BackgroundErrorReason::kWriteCallback ||
       reason == rocksdb::BackgroundErrorReason::kMemTable)) {
    wal_write_failed_ = true;
  }
}

absl::Status ResumeAfterNoSpace(
    rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
    const NoSpaceListener& listener) {
  if (listener.wal_write_failed()) {
    return absl::FailedPreconditionError(
        "a write to the write-ahead log failed for lack of space, and "
        "RocksDB cannot take up writing after that in the same process: "
        "free space, then restart plantraild (nothing acknowledged is lost)");
  }
  rocksdb::Status status = db.Resume();
  // The marker makes the default family's memtable non-empty, so that the
  // flush below switches to a new WAL even when every memtable was empty.
  if (status.ok()) {
    rocksdb::WriteOptions sync;
    sync.sync = true;
    status = db.Put(sync, db.DefaultColumnFamily(), "plantrail.dev/resumed-at",
                    absl::FormatTime(absl::Now()));
  }
  if (status.ok()) {
    std::vector<rocksdb::ColumnFamilyHandle*> all = families;
    if (std::find(all.begin(), all.end(), db.DefaultColumnFamily()) ==
        all.end()) {
      all.push_back(db.DefaultColumnFamily());
    }
    rocksdb::FlushOptions flush;
    flush.wait = true;
    flush.allow_write_stall = true;
    status = db.Flush(flush, all);
  }
  if (status.ok()) return absl::OkStatus();
  if (status.IsNoSpace()) {
    return absl::ResourceExhaustedError(
        absl::StrCat("still no space: ", status.ToString()));
  }
  return absl::UnavailableError(
      absl::StrCat("cannot resume writing: ", status.ToString()));
}

}  // namespace plantrail::eventstore
