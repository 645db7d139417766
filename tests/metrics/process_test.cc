// The process metrics are present and plausible for this very process, and
// a /proc text that is not what proc(5) describes is refused, not trusted.
#include "metrics/process.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/sync.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/exposition.h"

namespace plantrail::metrics {
namespace {

using ::testing::Ge;
using ::testing::HasSubstr;
using ::testing::Optional;

TEST(MetricsProcessTest, StatsArePlausible) {
  const ProcessStats stats = ReadProcessStats();
  ASSERT_TRUE(stats.cpu_seconds && stats.resident_memory_bytes &&
              stats.virtual_memory_bytes && stats.open_fds && stats.max_fds &&
              stats.start_time_seconds && stats.threads);
  EXPECT_GE(*stats.cpu_seconds, 0);
  EXPECT_GT(*stats.resident_memory_bytes, 0);
  EXPECT_GE(*stats.virtual_memory_bytes, *stats.resident_memory_bytes);
  EXPECT_GT(*stats.open_fds, 0);
  EXPECT_GE(*stats.max_fds, *stats.open_fds);
  EXPECT_GE(*stats.threads, 1);
  // Started within the last day, and not later than now (boot time is whole
  // seconds, rounded down, so the start never comes out late).
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(*stats.start_time_seconds, now + 1);
  EXPECT_GT(*stats.start_time_seconds, now - 24 * 3600);
}

TEST(MetricsProcessTest, CountsOpenFds) {
  const double before = *ReadProcessStats().open_fds;
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_THAT(ReadProcessStats().open_fds, Optional(before + 1));
  close(fd);
  EXPECT_THAT(ReadProcessStats().open_fds, Optional(before));
}

TEST(MetricsProcessTest, CountsThreads) {
  const double before = *ReadProcessStats().threads;
  Notification release;
  std::thread waiting([&release] { release.WaitForNotification(); });
  // At least: a sanitizer's runtime may start a thread of its own with ours.
  EXPECT_THAT(ReadProcessStats().threads, Optional(Ge(before + 1)));
  release.Notify();
  waiting.join();
}

TEST(MetricsProcessTest, WritesTheStandardFamilies) {
  Exposition out;
  WriteProcessMetrics(out);
  const std::string text = std::move(out).Text();
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"
                              "process_cpu_seconds_total "));
  for (const char* gauge :
       {"process_resident_memory_bytes", "process_virtual_memory_bytes",
        "process_open_fds", "process_max_fds", "process_start_time_seconds",
        "process_threads"}) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat("# TYPE ", gauge, " gauge\n",
                                             gauge, " ")));
  }
}

// A stat line with every field of proc(5) up to 52: field N holds N, but
// for the ones the metrics use.
std::string StatLine(const std::string& comm) {
  std::string line = absl::StrCat("4242 (", comm, ") S");
  for (int field = 4; field <= 52; ++field) {
    int value = field;
    if (field == 14) value = 300;      // utime
    if (field == 15) value = 200;      // stime
    if (field == 20) value = 7;        // num_threads
    if (field == 22) value = 12345;    // starttime
    if (field == 23) value = 1 << 20;  // vsize
    if (field == 24) value = 256;      // rss
    absl::StrAppend(&line, " ", value);
  }
  return line + "\n";
}

TEST(MetricsProcessTest, ParsesStatWhateverTheCommandName) {
  for (const std::string comm : {"plantraild", "a b", "x) (y", ")", "(("}) {
    SCOPED_TRACE(comm);
    const std::optional<internal::ProcStat> stat =
        internal::ParseProcStat(StatLine(comm));
    ASSERT_TRUE(stat.has_value());
    EXPECT_EQ(stat->utime_ticks, 300u);
    EXPECT_EQ(stat->stime_ticks, 200u);
    EXPECT_EQ(stat->num_threads, 7u);
    EXPECT_EQ(stat->starttime_ticks, 12345u);
    EXPECT_EQ(stat->vsize_bytes, 1u << 20);
    EXPECT_EQ(stat->rss_pages, 256u);
  }
}

TEST(MetricsProcessTest, RefusesStatThatIsNotOne) {
  const std::string full = StatLine("p");
  for (const std::string& text :
       {std::string(), std::string("4242 p S 1 2 3"),
        full.substr(0, full.find(" 256 ")),
        absl::StrReplaceAll(full, {{" 300 ", " 3x0 "}}),
        std::string("4242 (p) S -1 -2 -3 -4 -5 -6 -7 -8 -9 -10 -11 -12 -13 "
                    "-14 -15 -16 -17 -18 -19 -20 -21")}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(internal::ParseProcStat(text).has_value());
  }
}

TEST(MetricsProcessTest, ParsesBootTime) {
  EXPECT_THAT(internal::ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\n"
                                      "processes 9\n"),
              Optional(1700000000u));
  EXPECT_EQ(internal::ParseBootTime("cpu  1 2 3\n"), std::nullopt);
  EXPECT_EQ(internal::ParseBootTime("btime soon\n"), std::nullopt);
}

}  // namespace
}  // namespace plantrail::metrics
