// RocksDbEventStore's consumer cursors: a consumer's acknowledged position
// (and, for a group, its owner), kept in a column family of their own.
// Apart from rocksdb_event_store.cc because they are a job of their own:
// they write nothing of the log and take none of the writer's locks, only
// cursor_mu_.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "common/sync.h"
#include "eventstore/limits.h"
#include "eventstore/record_format.h"
#include "eventstore/rocksdb_event_store.h"
#include "eventstore/rocksdb_internal.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/status.h"

namespace plantrail::eventstore {
namespace rf = record_format;
using internal::FromRocks;

absl::StatusOr<uint64_t> RocksDbEventStore::LoadCursor(
    absl::string_view name) const {
  PLANTRAIL_ASSIGN_OR_RETURN(Cursor cursor, LoadOwnedCursor(name));
  return cursor.position;
}

absl::StatusOr<EventStore::Cursor> RocksDbEventStore::LoadOwnedCursor(
    absl::string_view name) const {
  PLANTRAIL_RETURN_IF_ERROR(ValidateStreamId("name", name, options_.limits));
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), families_[5],
               absl::StrCat(rf::kCursorKeyPrefix, name), &value);
  if (status.IsNotFound()) return Cursor{};
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(status, "cannot read a cursor"));
  absl::string_view in = value;
  Cursor cursor;
  if (!rf::ConsumeU64(in, cursor.position)) {
    return absl::DataLossError("a cursor is shorter than 8 bytes");
  }
  cursor.owner = std::string(in);
  return cursor;
}

absl::StatusOr<uint64_t> RocksDbEventStore::SaveCursor(absl::string_view name,
                                                       uint64_t position) {
  PLANTRAIL_ASSIGN_OR_RETURN(Cursor cursor,
                             SaveOwnedCursor(name, position, ""));
  return cursor.position;
}

absl::StatusOr<EventStore::Cursor> RocksDbEventStore::SaveOwnedCursor(
    absl::string_view name, uint64_t position, absl::string_view owner) {
  PLANTRAIL_RETURN_IF_ERROR(ValidateStreamId("name", name, options_.limits));
  // A reader may have been given an event of a commit whose head the writer
  // has not published yet (ReadAll reads on to what RocksDB holds): such a
  // position is in the log, and acknowledging it is fine.
  if (position > HeadPosition() && !HashAt(position).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("position: ", position, " is beyond the log's head (",
                     HeadPosition(), ")"));
  }
  MutexLock lock(&cursor_mu_);
  PLANTRAIL_ASSIGN_OR_RETURN(const Cursor current, LoadOwnedCursor(name));
  if (!owner.empty() && !current.owner.empty() && current.owner != owner) {
    return current;
  }
  Cursor next = current;
  next.position = std::max(current.position, position);
  if (next.owner.empty()) next.owner = std::string(owner);
  if (next.position == current.position && next.owner == current.owner) {
    return current;
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  PLANTRAIL_RETURN_IF_ERROR(FromRocks(
      db_->Put(sync, families_[5], absl::StrCat(rf::kCursorKeyPrefix, name),
               absl::StrCat(rf::PositionKey(next.position), next.owner)),
      "cannot save a cursor"));
  return next;
}

}  // namespace plantrail::eventstore
