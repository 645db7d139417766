// Private to the RocksDB store's .cc files (rocksdb_event_store.cc,
// rocksdb_verify.cc, rocksdb_cursors.cc): one class is split there by job,
// and the helpers more than one of them needs are declared once here rather
// than copied. Nothing outside those files includes it.
#ifndef PLANTRAIL_EVENTSTORE_ROCKSDB_INTERNAL_H_
#define PLANTRAIL_EVENTSTORE_ROCKSDB_INTERNAL_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"

namespace plantrail::eventstore::internal {

// RocksDB's `status` with the code a caller acts on: a full disk is
// ResourceExhausted, corruption DataLoss, a retryable failure Unavailable.
absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what);

inline absl::string_view View(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

}  // namespace plantrail::eventstore::internal

#endif  // PLANTRAIL_EVENTSTORE_ROCKSDB_INTERNAL_H_
