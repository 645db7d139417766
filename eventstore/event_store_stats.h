// The event store's counters (EventStore::GetStats): appends, commit groups,
// reads, latency histograms and the RocksDB database underneath. Apart from
// the value types of event.h because it holds metrics and RocksDB types,
// which readers of events (audit/, the CLI) need not see.
#ifndef PLANTRAIL_EVENTSTORE_EVENT_STORE_STATS_H_
#define PLANTRAIL_EVENTSTORE_EVENT_STORE_STATS_H_

#include <cstdint>

#include "eventstore/rocksdb_stats.h"
#include "metrics/histogram.h"

namespace plantrail::eventstore {

// Counters since the store was opened.
struct Stats {
  uint64_t head_position = 0;
  uint64_t appends = 0;
  uint64_t events_appended = 0;
  uint64_t replayed_appends = 0;
  uint64_t rejected_appends = 0;
  // Each commit group is one RocksDB WriteBatch; a synced one has one fsync.
  uint64_t commit_groups = 0;
  uint64_t synced_commits = 0;
  // WAL syncs RocksDB itself counted (its WAL_FILE_SYNCED ticker): the
  // evidence that synced commits reached the disk.
  uint64_t wal_syncs = 0;
  // Reads: ReadStream and ReadAll calls that succeeded, and the events
  // they returned.
  uint64_t stream_reads = 0;
  uint64_t log_reads = 0;
  uint64_t events_read = 0;
  // Seconds from an append being queued for the writer (after validation)
  // to its callback (queueing, the commit and its fsync), per append; seconds
  // per commit group's write (with its fsync); events per committed group.
  metrics::Histogram::Snapshot append_seconds;
  metrics::Histogram::Snapshot commit_seconds;
  metrics::Histogram::Snapshot group_events;
  // The database underneath: size, memory, compaction, errors.
  RocksDbStats storage;
};

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_EVENTSTORE_EVENT_STORE_STATS_H_
