#include "metrics/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace plantrail::metrics {
namespace {

// The whole of a small file. /proc files report a size of 0, hence reading to
// the end rather than by size.
std::optional<std::string> ReadSmallFile(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return std::nullopt;
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

std::optional<uint64_t> ParseUint(absl::string_view text) {
  uint64_t value = 0;
  const auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  // The directory stream holds a descriptor of its own while we count; it is
  // not one of the process's.
  const std::string own = std::to_string(dirfd(dir));
  double count = 0;
  while (const dirent* entry = readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == ".." || name == own) continue;
    ++count;
  }
  closedir(dir);
  return count;
}

std::optional<double> MaxFds() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
  // RLIM_INFINITY becomes 2^64 - 1 as a double, as the Go client writes
  // "unlimited".
  return static_cast<double>(limit.rlim_cur);
}

}  // namespace

namespace internal {

std::optional<ProcStat> ParseProcStat(std::string_view std_text) {
  // Debian's Abseil has an absl::string_view of its own.
  const absl::string_view text(std_text.data(), std_text.size());
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the
  // fields start after the last ')'.
  const size_t paren = text.rfind(')');
  if (paren == absl::string_view::npos) return std::nullopt;
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::StripAsciiWhitespace(text.substr(paren + 1)), ' ',
                     absl::SkipEmpty());
  // fields[0] is field 3 of proc(5), "state"; field N is fields[N - 3].
  auto field = [&fields](size_t number) -> std::optional<uint64_t> {
    if (number - 3 >= fields.size()) return std::nullopt;
    return ParseUint(fields[number - 3]);
  };
  const std::optional<uint64_t> utime = field(14), stime = field(15),
                                threads = field(20), starttime = field(22),
                                vsize = field(23), rss = field(24);
  if (!utime || !stime || !threads || !starttime || !vsize || !rss) {
    return std::nullopt;
  }
  return ProcStat{.utime_ticks = *utime,
                  .stime_ticks = *stime,
                  .num_threads = *threads,
                  .starttime_ticks = *starttime,
                  .vsize_bytes = *vsize,
                  .rss_pages = *rss};
}

std::optional<uint64_t> ParseBootTime(std::string_view std_text) {
  const absl::string_view text(std_text.data(), std_text.size());
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      return ParseUint(absl::StripAsciiWhitespace(line));
    }
  }
  return std::nullopt;
}

}  // namespace internal

ProcessStats ReadProcessStats() {
  ProcessStats stats;
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  const long page_size = sysconf(_SC_PAGESIZE);
  std::optional<internal::ProcStat> stat;
  if (std::optional<std::string> text = ReadSmallFile("/proc/self/stat")) {
    stat = internal::ParseProcStat(*text);
  }
  if (stat) {
    if (ticks_per_second > 0) {
      stats.cpu_seconds =
          static_cast<double>(stat->utime_ticks + stat->stime_ticks) /
          static_cast<double>(ticks_per_second);
    }
    if (page_size > 0) {
      stats.resident_memory_bytes =
          static_cast<double>(stat->rss_pages) * static_cast<double>(page_size);
    }
    stats.virtual_memory_bytes = static_cast<double>(stat->vsize_bytes);
    stats.threads = static_cast<double>(stat->num_threads);
    std::optional<uint64_t> boot_time;
    if (std::optional<std::string> text = ReadSmallFile("/proc/stat")) {
      boot_time = internal::ParseBootTime(*text);
    }
    if (boot_time && ticks_per_second > 0) {
      stats.start_time_seconds = static_cast<double>(*boot_time) +
                                 static_cast<double>(stat->starttime_ticks) /
                                     static_cast<double>(ticks_per_second);
    }
  }
  stats.open_fds = CountOpenFds();
  stats.max_fds = MaxFds();
  return stats;
}

void WriteProcessMetrics(Exposition& out) {
  const ProcessStats stats = ReadProcessStats();
  struct Metric {
    const char* name;
    Type type;
    const char* help;
    const std::optional<double>& value;
  };
  // Names and help as the Go client writes them.
  const Metric metrics[] = {
      {"process_cpu_seconds_total", Type::kCounter,
       "Total user and system CPU time spent in seconds.", stats.cpu_seconds},
      {"process_resident_memory_bytes", Type::kGauge,
       "Resident memory size in bytes.", stats.resident_memory_bytes},
      {"process_virtual_memory_bytes", Type::kGauge,
       "Virtual memory size in bytes.", stats.virtual_memory_bytes},
      {"process_open_fds", Type::kGauge, "Number of open file descriptors.",
       stats.open_fds},
      {"process_max_fds", Type::kGauge,
       "Maximum number of open file descriptors.", stats.max_fds},
      {"process_start_time_seconds", Type::kGauge,
       "Start time of the process since unix epoch in seconds.",
       stats.start_time_seconds},
      {"process_threads", Type::kGauge, "Number of OS threads in the process.",
       stats.threads},
  };
  for (const Metric& metric : metrics) {
    if (!metric.value) continue;
    out.Family(metric.name, metric.type, metric.help);
    out.Sample(*metric.value);
  }
}

}  // namespace plantrail::metrics
