// What Prometheus itself says about our exposition: `promtool check metrics`
// parses it and lints it (names, suffixes, units, help), as a scrape would.
// promtool comes with Debian's prometheus package, which scripts/setup
// installs; without it the test fails rather than pass unchecked.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "metrics/exposition.h"
#include "metrics/histogram.h"
#include "metrics/process.h"
#include "tests/temp_dir.h"

namespace plantrail::metrics {
namespace {

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    const std::string candidate = std::string(dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

struct Outcome {
  int exit_status = -1;
  std::string output;  // stdout and stderr
};

// Runs `promtool check metrics` on `text`.
Outcome CheckMetrics(const std::string& text) {
  const std::string promtool = FindOnPath("promtool");
  if (promtool.empty()) {
    ADD_FAILURE() << "promtool is not on PATH: run scripts/setup (it "
                     "installs Debian's prometheus package, which has it)";
    return {};
  }
  const testing::TempDir dir;
  const std::string input = dir / "metrics.txt";
  std::ofstream(input) << text;
  const std::string command =
      "'" + promtool + "' check metrics < '" + input + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return {};
  }
  Outcome outcome;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    outcome.output.append(buffer, n);
  }
  const int status = pclose(pipe);
  outcome.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

TEST(MetricsPromtoolTest, RealisticExpositionPassesCheckMetrics) {
  Histogram append_seconds(Histogram::ExponentialBounds(0.0001, 2, 17));
  Histogram group_events(Histogram::ExponentialBounds(1, 2, 11));
  for (int i = 0; i < 1000; ++i) {
    append_seconds.Observe(0.00003 * i);
    group_events.Observe(i % 40);
  }
  Exposition out;
  out.Family("plantrail_appends_total", Type::kCounter, "Appends, by result.");
  out.Sample(1200, {{"result", "ok"}});
  out.Sample(3, {{"result", "conflict"}});
  out.Sample(0, {{"result", "invalid \"argument\"\nor\\worse"}});
  out.Family("plantrail_subscribers", Type::kGauge,
             "Open subscriptions.\nOne line per stream.");
  out.Sample(2, {{"stream", "area-1"}, {"principal", "ops"}});
  out.Sample(0, {{"stream", "ärea-2"}, {"principal", ""}});
  out.Family("plantrail_head_position", Type::kGauge,
             "Position of the last event.");
  out.Sample(12345678901);
  out.Family("plantrail_disk_free_ratio", Type::kGauge,
             "Free space on the data disk.");
  out.Sample(0.731);
  out.Family("plantrail_append_duration_seconds", Type::kHistogram,
             "Time from an append's arrival to its acknowledgement.");
  out.Sample(append_seconds.Read(), {{"durability", "fsync"}});
  out.Sample(Histogram(Histogram::ExponentialBounds(0.0001, 2, 17)).Read(),
             {{"durability", "none"}});
  out.Family("plantrail_commit_group_events", Type::kHistogram,
             "Events per group commit.");
  out.Sample(group_events.Read());
  WriteProcessMetrics(out);
  const std::string text = std::move(out).Text();

  const Outcome outcome = CheckMetrics(text);
  EXPECT_EQ(outcome.exit_status, 0) << outcome.output;
  EXPECT_EQ(outcome.output, "") << text;
}

// The harness would pass anything if promtool's complaints went unseen.
TEST(MetricsPromtoolTest, PromtoolComplainsAboutALintProblem) {
  const Outcome outcome = CheckMetrics(
      "# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n");
  EXPECT_NE(outcome.exit_status, 0);
  EXPECT_NE(outcome.output.find("_total"), std::string::npos) << outcome.output;
}

}  // namespace
}  // namespace plantrail::metrics
