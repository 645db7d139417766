// Runs the real etcd (Debian's etcd-server, /usr/bin/etcd) as a child
// process: one member on 127.0.0.1, on two free ports (clients and peers),
// its data in a directory of the caller's, its log in `dir`/etcd.log.
//
// Its raft runs at 50 ms heartbeats and a 500 ms election timeout (etcd's
// defaults are 100 ms and 1 s): etcd raises every lease's TTL to at least
// 1.5 election timeouts, so that a test's 1 s lease lasts 1 s, not 2.
//
// A missing etcd fails the test (never skips it): scripts/setup installs
// etcd-server. Test binaries using this link PkgConfig::httplib (the health
// check) and plantrail::test_support.
#ifndef PLANTRAIL_TESTS_ETCD_PROCESS_H_
#define PLANTRAIL_TESTS_ETCD_PROCESS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

extern char** environ;

namespace plantrail::testing {

class EtcdProcess {
 public:
  static constexpr char kEtcdPath[] = "/usr/bin/etcd";

  EtcdProcess() = default;
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;
  ~EtcdProcess() { Stop(); }

  // Starts etcd with its data and log in `dir` (which must exist) and waits
  // (up to 20 s) until GET /health answers {"health":"true"}. Returns false
  // (and records a test failure naming the reason, with the log's end) when
  // it does not come up. Starts again on new ports, up to three times, when
  // etcd exits at once (another process took a port between our pick and
  // its bind).
  bool Start(const std::string& dir) {
    if (access(kEtcdPath, X_OK) != 0) {
      ADD_FAILURE() << kEtcdPath
                    << " is missing: scripts/setup installs etcd-server "
                       "(Debian's etcd, which the election tests run)";
      return false;
    }
    log_path_ = dir + "/etcd.log";
    std::string why;
    for (int attempt = 1; attempt <= 3; ++attempt) {
      const std::pair<int, int> ports = FreePorts();
      if (ports.first == 0) {
        ADD_FAILURE() << "cannot find two free loopback ports";
        return false;
      }
      port_ = ports.first;
      peer_port_ = ports.second;
      // A fresh data directory each time: a member's directory remembers
      // the peer URL it was created with.
      const std::string data_dir = absl::StrCat(dir, "/etcd-data-", attempt);
      if (!Spawn(data_dir)) {
        ADD_FAILURE() << "cannot spawn " << kEtcdPath;
        return false;
      }
      why = AwaitHealthy(std::chrono::seconds(20));
      if (why.empty()) return true;
      Stop();
      if (why.find("exited") == std::string::npos) break;
    }
    ADD_FAILURE() << "etcd did not come up: " << why << "; the end of "
                  << log_path_ << ":\n"
                  << LogTail(3000);
    return false;
  }

  // Kills etcd (SIGKILL) and waits for it; its ports close.
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  // "127.0.0.1:PORT", the clients' address.
  std::string endpoint() const { return absl::StrCat("127.0.0.1:", port_); }
  const std::string& log_path() const { return log_path_; }

  // The last `max` bytes of etcd's log, for a failure message.
  std::string LogTail(size_t max) const {
    std::ifstream in(log_path_);
    std::string log((std::istreambuf_iterator<char>(in)), {});
    return log.size() > max ? log.substr(log.size() - max) : log;
  }

  // Two distinct ports free on 127.0.0.1 now: both bound to port 0 at
  // once (so they differ), then closed for etcd to bind. {0, 0} when the
  // kernel gives none.
  static std::pair<int, int> FreePorts() {
    int ports[2] = {0, 0};
    int fds[2] = {-1, -1};
    for (int i = 0; i < 2; ++i) {
      fds[i] = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = 0;
      socklen_t length = sizeof(address);
      if (fds[i] < 0 ||
          bind(fds[i], reinterpret_cast<sockaddr*>(&address),
               sizeof(address)) != 0 ||
          getsockname(fds[i], reinterpret_cast<sockaddr*>(&address), &length) !=
              0) {
        break;
      }
      ports[i] = ntohs(address.sin_port);
    }
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
    if (ports[0] == 0 || ports[1] == 0) return {0, 0};
    return {ports[0], ports[1]};
  }

 private:
  bool Spawn(const std::string& data_dir) {
    const std::string client_url = absl::StrCat("http://127.0.0.1:", port_);
    const std::string peer_url = absl::StrCat("http://127.0.0.1:", peer_port_);
    std::vector<std::string> args = {
        kEtcdPath,
        "--name",
        "plantrail-test",
        "--data-dir",
        data_dir,
        "--listen-client-urls",
        client_url,
        "--advertise-client-urls",
        client_url,
        "--listen-peer-urls",
        peer_url,
        "--initial-advertise-peer-urls",
        peer_url,
        "--initial-cluster",
        absl::StrCat("plantrail-test=", peer_url),
        "--initial-cluster-state",
        "new",
        "--heartbeat-interval",
        "50",
        "--election-timeout",
        "500",
        "--logger",
        "zap",
        "--log-outputs",
        "stderr",
    };
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int spawned =
        posix_spawn(&pid_, kEtcdPath, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) pid_ = -1;
    return spawned == 0;
  }

  // Empty once etcd is healthy; else why not ("exited ..." when it died).
  std::string AwaitHealthy(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string last = "no answer to GET /health";
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::StrCat("etcd exited (wait status ", status, ")");
      }
      httplib::Client client("127.0.0.1", port_);
      client.set_connection_timeout(std::chrono::seconds(1));
      client.set_read_timeout(std::chrono::seconds(2));
      if (httplib::Result result = client.Get("/health")) {
        if (result->status == 200 &&
            result->body.find("\"health\":\"true\"") != std::string::npos) {
          return "";
        }
        last = absl::StrCat("GET /health answered ", result->status, " ",
                            result->body);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return absl::StrCat(last, " within ", limit.count(), " s");
  }

  pid_t pid_ = -1;
  int port_ = 0;
  int peer_port_ = 0;
  std::string log_path_;
};

}  // namespace plantrail::testing

#endif  // PLANTRAIL_TESTS_ETCD_PROCESS_H_
