// `plantrail watch ...` run in the background for the CLI's end-to-end
// tests, and its --json lines parsed. A header of its own because three
// test files use it: the watch tests (cli_events_e2e_test.cc), the
// subscriber limits (cli_admin_e2e_test.cc) and a plans test
// (cli_import_e2e_test.cc).
#ifndef PLANTRAIL_TESTS_E2E_CLI_WATCH_H_
#define PLANTRAIL_TESTS_E2E_CLI_WATCH_H_

#include <signal.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/cli_harness.h"

namespace plantrail::cli_testing {

// `plantrail watch ...` running in the background, read line by line.
class Watch {
 public:
  Watch(std::vector<std::string> args, std::vector<std::string> env) {
    args.insert(args.begin(), kCli);
    started_ = child_.Start(std::move(args), std::move(env), Stdin::kClosed);
    EXPECT_TRUE(started_) << "cannot spawn watch";
  }

  // Reads until `done(lines)` holds (false at the deadline).
  bool ReadUntil(
      const std::function<bool(const std::vector<std::string>&)>& done) {
    return started_ && child_.ReadUntil([&] { return done(CompleteLines()); },
                                        absl::Now() + kPatience);
  }

  // The lines so far (a partly written last line is left out).
  std::vector<std::string> CompleteLines() const {
    const std::string& out = child_.out();
    return Lines(out.substr(0, out.rfind('\n') + 1));
  }

  // SIGINT, as Ctrl-C: the exit code.
  int Interrupt() {
    child_.Signal(SIGINT);
    return child_.Wait(absl::Now() + kPatience);
  }

  const std::string& err() const { return child_.err(); }

 private:
  Child child_;
  bool started_ = false;
};

inline std::vector<json> ParseLines(const std::vector<std::string>& lines) {
  std::vector<json> events;
  for (const std::string& line : lines) {
    events.push_back(json::parse(line, nullptr, false));
    EXPECT_TRUE(events.back().is_object()) << line;
  }
  return events;
}

}  // namespace plantrail::cli_testing

#endif  // PLANTRAIL_TESTS_E2E_CLI_WATCH_H_
