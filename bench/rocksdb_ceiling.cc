// The ceiling for bench/run: raw RocksDB, no plantrail. Each of --threads
// threads writes one WriteBatch of --batch puts at a time (a key of its own
// and a value the size of an event record), with WriteOptions::sync as
// plantrail's default durability has it; RocksDB's own write group merges
// concurrent writers. Prints one JSON object: puts/s, p50, p99 per write.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/loop_result.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

int main(int argc, char** argv) {
  std::string path;
  int threads = 1, batch = 1, value_bytes = 300;
  double seconds = 5, warmup = 1;
  bool sync = true;
  CLI::App app{"rocksdb_ceiling: raw RocksDB durable writes"};
  app.add_option("--path", path)->required();
  app.add_option("--threads", threads);
  app.add_option("--batch", batch);
  app.add_option("--value-bytes", value_bytes,
                 "About a stored event: payload, header and hashes");
  app.add_option("--seconds", seconds);
  app.add_option("--warmup", warmup);
  app.add_option("--sync", sync);
  CLI11_PARSE(app, argc, argv);

  std::filesystem::remove_all(path);
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened = rocksdb::DB::Open(options, path, &raw);
  if (!opened.ok()) {
    std::cerr << opened.ToString() << "\n";
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value(value_bytes, 'v');
  const absl::Time measure_from = absl::Now() + absl::Seconds(warmup);
  const absl::Time stop_at = measure_from + absl::Seconds(seconds);
  std::vector<std::vector<int64_t>> latencies(threads);
  std::vector<uint64_t> writes(threads, 0);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      rocksdb::WriteOptions write_options;
      write_options.sync = sync;
      for (uint64_t n = 0;; ++n) {
        rocksdb::WriteBatch writes_batch;
        for (int b = 0; b < batch; ++b) {
          char key[16];
          const uint64_t id = n * batch + b;
          std::snprintf(key, sizeof(key), "%03d%012llu", t,
                        static_cast<unsigned long long>(id));
          writes_batch.Put(key, value).PermitUncheckedError();
        }
        const absl::Time issued = absl::Now();
        if (!db->Write(write_options, &writes_batch).ok()) std::abort();
        const absl::Time finished = absl::Now();
        if (issued >= measure_from && finished <= stop_at) {
          ++writes[t];
          latencies[t].push_back(absl::ToInt64Microseconds(finished - issued));
        }
        if (finished >= stop_at) break;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  std::vector<int64_t> all;
  uint64_t total = 0;
  for (int t = 0; t < threads; ++t) {
    all.insert(all.end(), latencies[t].begin(), latencies[t].end());
    total += writes[t];
  }
  const nlohmann::ordered_json json = plantrail::bench::LoopResult(
      "rocksdb", threads, batch, total, seconds, std::move(all));
  std::cout << json.dump() << std::endl;
  db.reset();
  std::filesystem::remove_all(path);
  return 0;
}
