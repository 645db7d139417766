#include "eventstore/rocksdb_stats.h"

#include <string>

#include "rocksdb/db.h"
#include "rocksdb/statistics.h"

namespace plantrail::eventstore {

RocksDbStats ReadRocksDbStats(rocksdb::DB& db,
                              const rocksdb::Statistics* statistics) {
  auto sum = [&db](const std::string& property) {
    uint64_t value = 0;
    // Aggregated over every column family (RocksDB 7.8 knows these).
    return db.GetAggregatedIntProperty(property, &value) ? value : 0;
  };
  RocksDbStats stats{
      .sst_files_bytes = sum(rocksdb::DB::Properties::kTotalSstFilesSize),
      .live_data_bytes = sum(rocksdb::DB::Properties::kEstimateLiveDataSize),
      .memtable_bytes = sum(rocksdb::DB::Properties::kCurSizeAllMemTables),
      .table_readers_bytes =
          sum(rocksdb::DB::Properties::kEstimateTableReadersMem),
      .pending_compaction_bytes =
          sum(rocksdb::DB::Properties::kEstimatePendingCompactionBytes),
      .running_compactions =
          sum(rocksdb::DB::Properties::kNumRunningCompactions),
      .running_flushes = sum(rocksdb::DB::Properties::kNumRunningFlushes),
      .background_errors = sum(rocksdb::DB::Properties::kBackgroundErrors),
  };
  // The block cache is shared by the families: not summed.
  uint64_t block_cache = 0;
  if (db.GetIntProperty(rocksdb::DB::Properties::kBlockCacheUsage,
                        &block_cache)) {
    stats.block_cache_bytes = block_cache;
  }
  if (statistics != nullptr) {
    stats.has_statistics = true;
    stats.bytes_written = statistics->getTickerCount(rocksdb::BYTES_WRITTEN);
    stats.bytes_read = statistics->getTickerCount(rocksdb::BYTES_READ);
    stats.wal_bytes = statistics->getTickerCount(rocksdb::WAL_FILE_BYTES);
    stats.compaction_bytes_written =
        statistics->getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
    stats.flush_bytes_written =
        statistics->getTickerCount(rocksdb::FLUSH_WRITE_BYTES);
    stats.block_cache_hits =
        statistics->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
    stats.block_cache_misses =
        statistics->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
    stats.stall_micros = statistics->getTickerCount(rocksdb::STALL_MICROS);
  }
  return stats;
}

}  // namespace plantrail::eventstore
