// The harness of the CLI's end-to-end tests: the real `plantrail` binary,
// run as a child process with an environment of the test's making
// (PLANTRAIL_SERVER names the test's server; HOME and XDG_DATA_HOME point
// into a temporary directory, so no real admin.token is read), against the
// real plantraild on a free loopback port; and CliTest, the fixture with one
// server per test suite and helpers for the commonest commands.
//
// Nothing sleeps a fixed time: what takes a while (a projection rebuild, a
// watched event) is polled for with a generous deadline.
#ifndef PLANTRAIL_TESTS_E2E_CLI_HARNESS_H_
#define PLANTRAIL_TESTS_E2E_CLI_HARNESS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/server_process.h"
#include "tests/temp_dir.h"

namespace plantrail::cli_testing {

using ::nlohmann::json;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

constexpr char kCli[] = PLANTRAIL_CLI_PATH;
constexpr char kSourceDir[] = PLANTRAIL_SOURCE_DIR;
// The principal of the first start's admin token, which the tests use.
constexpr char kActor[] = "admin";

// A bound on anything a test waits for: a hang fails the test instead of
// holding it forever. Not a timing expectation.
constexpr absl::Duration kPatience = absl::Seconds(60);

// --- Running the CLI ------------------------------------------------------

enum class Stdin { kDevNull, kClosed };

// A child process with its stdout and stderr on pipes, read as it writes
// them (so it never blocks on a full pipe).
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    CloseFd(out_fd_);
    CloseFd(err_fd_);
  }

  // Starts `args` (args[0] is the binary) with exactly `env` as its
  // environment and default signal handling.
  bool Start(std::vector<std::string> args, std::vector<std::string> env,
             Stdin stdin_mode) {
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) return false;
    if (pipe2(err, O_CLOEXEC) != 0) {
      close(out[0]);
      close(out[1]);
      return false;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdin_mode == Stdin::kClosed) {
      posix_spawn_file_actions_addclose(&actions, STDIN_FILENO);
    } else {
      posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                       O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    // Whatever the test runner ignores or blocks, the CLI starts with the
    // defaults a shell would give it.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int signal : {SIGINT, SIGTERM, SIGPIPE}) sigaddset(&defaults, signal);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> argv, envp;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    for (std::string& var : env) envp.push_back(var.data());
    envp.push_back(nullptr);
    const int spawned = posix_spawn(&pid_, argv[0], &actions, &attributes,
                                    argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(out[1]);
    close(err[1]);
    if (spawned != 0) {
      pid_ = -1;
      close(out[0]);
      close(err[0]);
      return false;
    }
    out_fd_ = out[0];
    err_fd_ = err[0];
    return true;
  }

  // Reads until `done()` holds, both pipes are closed or the deadline
  // passes. Returns whether `done()` holds.
  bool ReadUntil(const std::function<bool()>& done, absl::Time deadline) {
    while (!done()) {
      if (out_fd_ < 0 && err_fd_ < 0) return false;
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      ReadSome(std::min(left, absl::Milliseconds(500)));
    }
    return true;
  }

  // Reads to the end and reaps the child: its exit code, or -1 when it did
  // not exit by itself (a signal; or killed at the deadline, recorded as a
  // failure).
  int Wait(absl::Time deadline) {
    ReadUntil([] { return false; }, deadline);
    int status = 0;
    while (true) {
      const pid_t reaped = waitpid(pid_, &status, WNOHANG);
      if (reaped == pid_) break;
      if (reaped < 0 || absl::Now() > deadline) {
        ADD_FAILURE() << "the child did not exit in time; killed";
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      // Its pipes are closed: it is exiting. Poll for that.
      poll(nullptr, 0, 5);
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void Signal(int signal) {
    if (pid_ > 0) kill(pid_, signal);
  }

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  static void CloseFd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }

  void ReadSome(absl::Duration wait) {
    pollfd fds[2];
    nfds_t count = 0;
    for (int fd : {out_fd_, err_fd_}) {
      if (fd >= 0) fds[count++] = {.fd = fd, .events = POLLIN, .revents = 0};
    }
    if (poll(fds, count, absl::ToInt64Milliseconds(wait)) <= 0) return;
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      const bool is_out = fds[i].fd == out_fd_;
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        (is_out ? out_ : err_).append(buffer, n);
      } else {
        CloseFd(is_out ? out_fd_ : err_fd_);
      }
    }
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
};

// What one run of the CLI did.
struct CliResult {
  std::vector<std::string> args;
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::ostream& operator<<(std::ostream& os, const CliResult& result) {
  return os << "\n$ plantrail " << absl::StrJoin(result.args, " ")
            << "\nexit code: " << result.exit_code << "\n--- stdout:\n"
            << result.out << "--- stderr:\n"
            << result.err << "---";
}

// proto3 JSON prints 64-bit integers as strings; 32-bit ones as numbers.
inline uint64_t U64(const json& value) {
  if (value.is_string()) return std::stoull(value.get<std::string>());
  return value.get<uint64_t>();
}

// Each line of `text`, without the line ends.
inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// The strings of a JSON array.
inline std::vector<std::string> Strings(const json& array) {
  std::vector<std::string> strings;
  for (const json& item : array) strings.push_back(item.get<std::string>());
  return strings;
}

// "  support area:    3.1 Utbildning": a field of `area show`, however it is
// aligned.
inline ::testing::Matcher<std::string> HasField(const std::string& name,
                                                const std::string& value) {
  return MatchesRegex(
      absl::StrCat("(.|\n)*\n  ", name, ": +", value, "\n(.|\n)*"));
}

// A loopback port that refuses connections: bound, never listening, and
// kept bound so nothing else takes it.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd_ < 0 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
            0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot bind a loopback port";
      return;
    }
    port_ = ntohs(address.sin_port);
  }
  ~ClosedPort() {
    if (fd_ >= 0) close(fd_);
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// --- The fixture ----------------------------------------------------------

// One plantraild, and a home directory of its own, per test suite.
struct SuiteServer {
  testing::TempDir dir;
  testing::ServerProcess server;
  bool up = false;
};

struct RunOptions {
  // PLANTRAIL_SERVER; empty: the suite's server.
  std::string server;
  Stdin stdin_mode = Stdin::kDevNull;
  // PLANTRAIL_TOKEN; unset: the suite server's admin token; empty: none.
  std::optional<std::string> token;
  // More of the environment, NAME=VALUE.
  std::vector<std::string> env;
};

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite_ = new SuiteServer;
    std::filesystem::create_directories(suite_->dir / "home");
    suite_->up = suite_->server.Start(suite_->dir / "data");
  }

  static void TearDownTestSuite() {
    delete suite_;
    suite_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(suite_ != nullptr && suite_->up) << "plantraild is not up";
  }

  static std::string ServerAddress() { return suite_->server.address(); }
  static std::string TempPath(const std::string& name) {
    return suite_->dir / name;
  }

  // The CLI's whole environment: nothing of the test runner's leaks in.
  static std::vector<std::string> Environment(const RunOptions& options) {
    const std::string home = suite_->dir / "home";
    std::vector<std::string> env = {
        "PATH=/usr/bin:/bin", absl::StrCat("HOME=", home),
        absl::StrCat("XDG_DATA_HOME=", home, "/share"),
        absl::StrCat("PLANTRAIL_SERVER=", options.server.empty()
                                              ? ServerAddress()
                                              : options.server)};
    const std::string token =
        options.token.value_or(suite_->server.AdminToken());
    if (!token.empty()) env.push_back(absl::StrCat("PLANTRAIL_TOKEN=", token));
    env.insert(env.end(), options.env.begin(), options.env.end());
    return env;
  }

  // Runs `plantrail args...` to its end.
  static CliResult Run(std::vector<std::string> args,
                       const RunOptions& options = {}) {
    CliResult result;
    result.args = args;
    args.insert(args.begin(), kCli);
    Child child;
    if (!child.Start(std::move(args), Environment(options),
                     options.stdin_mode)) {
      ADD_FAILURE() << "cannot spawn " << kCli;
      return result;
    }
    result.exit_code = child.Wait(absl::Now() + kPatience);
    result.out = child.out();
    result.err = child.err();
    return result;
  }

  // Runs `plantrail --json args...`, expects success and one JSON object
  // on stdout, and returns it (null after a recorded failure).
  static json RunJson(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    const CliResult result = Run(args);
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.err, "") << result;
    const std::vector<std::string> lines = Lines(result.out);
    EXPECT_THAT(lines, SizeIs(1)) << result;
    json parsed = json::parse(result.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(parsed.is_object()) << result;
    return parsed.is_object() ? parsed : json();
  }

  // Runs a command that must succeed, and returns what it printed.
  static std::string RunOk(const std::vector<std::string>& args) {
    const CliResult result = Run(args);
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.err, "") << result;
    return result.out;
  }

  // Registers `id` in `support_area` (plus `extra` flags); its position.
  static uint64_t Register(const std::string& id,
                           const std::string& support_area,
                           std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "area",       "register",       id,          "--title",
        "Area " + id, "--support-area", support_area};
    args.insert(args.end(), extra.begin(), extra.end());
    json result = RunJson(args);
    return result.is_null() ? 0 : U64(result["position"]);
  }

  // Reports a status; the CommandResult.
  static json Status(const std::string& id, const std::string& phase,
                     const std::string& health, const std::string& note,
                     std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"status",   id,     "--phase", phase,
                                     "--health", health, "--note",  note};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunJson(args);
  }

  static uint64_t Head() {
    json stats = RunJson({"admin", "stats"});
    return stats.is_null() ? 0 : U64(stats["head_position"]);
  }

  static json ShowJson(const std::string& id,
                       std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"area", "show", id};
    args.insert(args.end(), extra.begin(), extra.end());
    json response = RunJson(args);
    return response.is_null() ? json() : response["area"];
  }

  // The ids `area list` answers with `filters`.
  static std::vector<std::string> ListIds(std::vector<std::string> filters) {
    std::vector<std::string> args = {"area", "list"};
    args.insert(args.end(), filters.begin(), filters.end());
    json response = RunJson(args);
    std::vector<std::string> ids;
    if (response.is_null()) return ids;
    for (json& area : response["areas"]) {
      ids.push_back(area["area_id"].get<std::string>());
    }
    EXPECT_EQ(response["total"].get<size_t>(), ids.size());
    return ids;
  }

  static inline SuiteServer* suite_ = nullptr;
};

}  // namespace plantrail::cli_testing

#endif  // PLANTRAIL_TESTS_E2E_CLI_HARNESS_H_
