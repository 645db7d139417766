// What an operator watches of a RocksDB database: its size on disk, memory,
// compaction backlog, errors and stalls. Read from RocksDB's properties and
// (when the database has one) its Statistics object; cheap enough for every
// metrics scrape (no file is read).
#ifndef PLANTRAIL_EVENTSTORE_ROCKSDB_STATS_H_
#define PLANTRAIL_EVENTSTORE_ROCKSDB_STATS_H_

#include <cstdint>

namespace rocksdb {
class DB;
class Statistics;
}  // namespace rocksdb

namespace plantrail::eventstore {

struct RocksDbStats {
  // Properties, summed over the column families.
  uint64_t sst_files_bytes = 0;      // rocksdb.total-sst-files-size
  uint64_t live_data_bytes = 0;      // rocksdb.estimate-live-data-size
  uint64_t memtable_bytes = 0;       // rocksdb.cur-size-all-mem-tables
  uint64_t table_readers_bytes = 0;  // rocksdb.estimate-table-readers-mem
  uint64_t pending_compaction_bytes = 0;
  uint64_t running_compactions = 0;
  uint64_t running_flushes = 0;
  uint64_t background_errors = 0;  // rocksdb.background-errors
  uint64_t block_cache_bytes = 0;  // rocksdb.block-cache-usage (shared)
  // Tickers; only with Statistics (has_statistics), zero without.
  bool has_statistics = false;
  uint64_t bytes_written = 0;
  uint64_t bytes_read = 0;
  uint64_t wal_bytes = 0;
  uint64_t compaction_bytes_written = 0;
  uint64_t flush_bytes_written = 0;
  uint64_t block_cache_hits = 0;
  uint64_t block_cache_misses = 0;
  uint64_t stall_micros = 0;
};

// `statistics` may be null.
RocksDbStats ReadRocksDbStats(rocksdb::DB& db,
                              const rocksdb::Statistics* statistics);

}  // namespace plantrail::eventstore

#endif  // PLANTRAIL_EVENTSTORE_ROCKSDB_STATS_H_
