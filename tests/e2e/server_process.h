// Runs the real plantraild binary as a child process on a free loopback port.
#ifndef PLANTRAIL_TESTS_E2E_SERVER_PROCESS_H_
#define PLANTRAIL_TESTS_E2E_SERVER_PROCESS_H_

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

extern char** environ;

namespace plantrail::testing {

class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (pid_ > 0) Stop(SIGKILL);
  }

  // Starts plantraild on 127.0.0.1:0 with `data_dir` and waits (up to 30 s)
  // for the line that names its port. Returns false (and records a test
  // failure) when it does not come up.
  bool Start(const std::string& data_dir,
             std::vector<std::string> extra_args = {}) {
    data_dir_ = data_dir;
    std::vector<std::string> args = {PLANTRAILD_PATH, "--data-dir", data_dir,
                                     "--listen", listen_};
    // Zeroed WAL spares of 1 MiB, not the default 32: the same mechanism
    // (crash tests included), without 32 MiB of zeros per server start.
    if (std::find(extra_args.begin(), extra_args.end(), "--wal-spare-mb") ==
        extra_args.end()) {
      args.insert(args.end(), {"--wal-spare-mb", "1"});
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    int fds[2];
    if (pipe(fds) != 0) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    if (!stderr_path_.empty()) {
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO,
                                       stderr_path_.c_str(),
                                       O_WRONLY | O_CREAT | O_APPEND, 0600);
    }
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int spawned = posix_spawn(&pid_, PLANTRAILD_PATH, &actions, nullptr,
                                    argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (spawned != 0) {
      close(fds[0]);
      ADD_FAILURE() << "cannot spawn " << PLANTRAILD_PATH;
      return false;
    }
    stdout_ = fds[0];
    std::string line;
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (line.find('\n') == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd poll_fd{.fd = stdout_, .events = POLLIN};
      if (poll(&poll_fd, 1, 1000) <= 0) continue;
      char buffer[512];
      const ssize_t n = read(stdout_, buffer, sizeof(buffer));
      if (n <= 0) break;
      line.append(buffer, n);
    }
    const std::string marker = "listening on 127.0.0.1:";
    const size_t at = line.find(marker);
    if (at == std::string::npos) {
      ADD_FAILURE() << "plantraild did not come up; it printed: " << line;
      Stop(SIGKILL);
      return false;
    }
    const size_t start = at + marker.size();
    const size_t end = line.find(' ', start);
    if (!absl::SimpleAtoi(line.substr(start, end - start), &port_)) {
      ADD_FAILURE() << "no port in: " << line;
      return false;
    }
    const std::string metrics_marker = "metrics on http://127.0.0.1:";
    const size_t metrics_at = line.find(metrics_marker);
    metrics_port_ = 0;
    if (metrics_at != std::string::npos) {
      const size_t metrics_start = metrics_at + metrics_marker.size();
      const size_t metrics_end = line.find('/', metrics_start);
      if (!absl::SimpleAtoi(
              line.substr(metrics_start, metrics_end - metrics_start),
              &metrics_port_)) {
        ADD_FAILURE() << "no metrics port in: " << line;
        return false;
      }
    }
    return true;
  }

  // The address the next Start() listens on (default 127.0.0.1:0, a free
  // port); a loopback one.
  void ListenOn(std::string listen) { listen_ = std::move(listen); }

  // Waits up to `limit` for the server to exit by itself; its raw wait
  // status, or -1 when it is still running.
  int WaitForExit(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        if (stdout_ >= 0) close(stdout_);
        stdout_ = -1;
        return status;
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      usleep(20000);
    }
  }

  // Where the next Start() sends the server's stderr (its log), appending;
  // empty: inherited.
  void CaptureStderrTo(std::string path) { stderr_path_ = std::move(path); }

  // Sends `signal` and waits for the exit. Returns the raw wait status.
  int Stop(int signal = SIGTERM) {
    if (pid_ <= 0) return -1;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (stdout_ >= 0) close(stdout_);
    stdout_ = -1;
    return status;
  }

  pid_t pid() const { return pid_; }
  // The admin token the server's first start wrote into its data directory.
  std::string AdminToken() const {
    std::ifstream in(data_dir_ + "/admin.token");
    std::string token;
    std::getline(in, token);
    return token;
  }
  int port() const { return port_; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  // With --metrics-listen 127.0.0.1:0; 0 without.
  int metrics_port() const { return metrics_port_; }

 private:
  std::string listen_ = "127.0.0.1:0";
  pid_t pid_ = -1;
  int metrics_port_ = 0;
  std::string stderr_path_;
  int stdout_ = -1;
  int port_ = 0;
  std::string data_dir_;
};

// Runs plantraild to completion with `args` and returns its exit status and
// what it wrote to stderr.
inline std::pair<int, std::string> RunPlantraild(
    std::vector<std::string> args) {
  args.insert(args.begin(), PLANTRAILD_PATH);
  int fds[2];
  if (pipe(fds) != 0) return {-1, ""};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid;
  const int spawned = posix_spawn(&pid, PLANTRAILD_PATH, &actions, nullptr,
                                  argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  std::string output;
  if (spawned == 0) {
    char buffer[512];
    for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) {
      output.append(buffer, n);
    }
  }
  close(fds[0]);
  int status = -1;
  if (spawned == 0) waitpid(pid, &status, 0);
  return {status, output};
}

}  // namespace plantrail::testing

#endif  // PLANTRAIL_TESTS_E2E_SERVER_PROCESS_H_
