// The standard process metrics of Prometheus client libraries, read from
// /proc (Linux only), so that the usual dashboards and alerts (CPU, memory,
// file descriptors, restarts) work for the server unchanged.
//
// Thread safety: every function may be called from any thread at once.
#ifndef PLANTRAIL_METRICS_PROCESS_H_
#define PLANTRAIL_METRICS_PROCESS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "metrics/exposition.h"

namespace plantrail::metrics {

// What the process metrics are made of; a field that could not be read is
// nullopt.
struct ProcessStats {
  std::optional<double> cpu_seconds;  // utime + stime
  std::optional<double> resident_memory_bytes;
  std::optional<double> virtual_memory_bytes;
  std::optional<double> open_fds;
  std::optional<double> max_fds;             // the soft RLIMIT_NOFILE
  std::optional<double> start_time_seconds;  // since the Unix epoch
  std::optional<double> threads;
};

ProcessStats ReadProcessStats();

// Writes process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds and process_threads (gauges but the first), each
// as its own family. A metric that cannot be read is left out, family and
// all; nothing here fails or throws.
void WriteProcessMetrics(Exposition& out);

namespace internal {

// The fields of /proc/[pid]/stat the metrics use, parsed from its text
// (proc(5)); nullopt when the text is not a stat line.
struct ProcStat {
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  uint64_t num_threads = 0;
  uint64_t starttime_ticks = 0;  // after boot
  uint64_t vsize_bytes = 0;
  uint64_t rss_pages = 0;
};
std::optional<ProcStat> ParseProcStat(std::string_view text);

// The boot time (the "btime" line) from the text of /proc/stat.
std::optional<uint64_t> ParseBootTime(std::string_view text);

}  // namespace internal
}  // namespace plantrail::metrics

#endif  // PLANTRAIL_METRICS_PROCESS_H_
