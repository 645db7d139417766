#include "metrics/http_endpoint.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <deque>
#include <exception>
#include <optional>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/quote.h"
#include "common/status_macros.h"
#include "httplib.h"
#include "metrics/exposition.h"

namespace plantrail::metrics {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kThreads = 2;
constexpr time_t kTimeoutSeconds = 5;
constexpr auto kTimeout = std::chrono::seconds(kTimeoutSeconds);
// Connections waiting for their first byte; beyond this many, the one that
// has waited longest is closed (each would be closed at its timeout anyway).
constexpr size_t kMaxWaiting = 256;
constexpr char kText[] = "text/plain; charset=utf-8";

// Milliseconds from now to `deadline` for poll(): 0 once it has passed.
int MillisUntil(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 60'000));
}

bool PollFor(int sock, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd fd{.fd = sock, .events = events, .revents = 0};
    const int ready = poll(&fd, 1, MillisUntil(deadline));
    if (ready > 0) return true;
    if (ready == 0 || errno != EINTR) return false;
  }
}

void CloseSocket(int sock) {
  shutdown(sock, SHUT_RDWR);
  close(sock);
}

void Address(const sockaddr_storage& address, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof(text));
    port = ntohs(v4.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof(text));
    port = ntohs(v6.sin6_port);
  }
  ip = text;
}

// One connection's socket for httplib, with deadlines for the whole of the
// request and the whole of the response rather than httplib's per read and
// per write: a client that sends a byte now and then (slowloris) is cut at
// the deadline all the same.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(int sock, Clock::time_point request_deadline)
      : sock_(sock), request_deadline_(request_deadline) {}

  bool is_readable() const override {
    return PollFor(sock_, POLLIN, request_deadline_);
  }
  bool is_writable() const override {
    return PollFor(sock_, POLLOUT, ResponseDeadline());
  }

  ssize_t read(char* ptr, size_t size) override {
    // httplib reads the request line and headers a byte at a time.
    if (next_ == buffer_.size()) {
      if (!is_readable()) return -1;
      buffer_.resize(4096);
      ssize_t n;
      do {
        n = recv(sock_, buffer_.data(), buffer_.size(), 0);
      } while (n < 0 && errno == EINTR);
      buffer_.resize(n > 0 ? static_cast<size_t>(n) : 0);
      next_ = 0;
      if (n <= 0) return n;
    }
    const size_t n = std::min(size, buffer_.size() - next_);
    std::copy_n(buffer_.data() + next_, n, ptr);
    next_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (getpeername(sock_, reinterpret_cast<sockaddr*>(&address), &length) ==
        0) {
      Address(address, ip, port);
    }
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (getsockname(sock_, reinterpret_cast<sockaddr*>(&address), &length) ==
        0) {
      Address(address, ip, port);
    }
  }
  int socket() const override { return sock_; }

 private:
  // The response gets its own time, from its first byte.
  Clock::time_point ResponseDeadline() const {
    if (!response_deadline_) response_deadline_ = Clock::now() + kTimeout;
    return *response_deadline_;
  }

  const int sock_;
  const Clock::time_point request_deadline_;
  mutable std::optional<Clock::time_point> response_deadline_;
  std::vector<char> buffer_;
  size_t next_ = 0;
};

class Dispatcher;

// httplib's server, with its connections handed to a Dispatcher instead of
// straight to a thread.
class Server final : public httplib::Server {
 public:
  // Reads one request from `sock` and answers it, within the deadlines of a
  // DeadlineStream. Does not close `sock`.
  void Answer(int sock, Clock::time_point request_deadline) {
    DeadlineStream stream(sock, request_deadline);
    bool closed = false;
    process_request(stream, /*close_connection=*/true, closed, nullptr);
  }

  // Set by the task queue httplib asks for as its accept loop starts.
  std::atomic<Dispatcher*> dispatcher{nullptr};

 private:
  // httplib's accept loop hands every accepted socket here (through the
  // task queue, which runs it at once).
  bool process_and_close_socket(int sock) override;
};

// Where connections wait: one thread polls every connection that has not
// sent anything yet, without holding a worker, and closes those that stay
// silent past the timeout; a connection that has something to read goes to
// one of kThreads workers, which has kTimeout from the accept for the whole
// request. So idle connections cannot take the workers from a scrape, and a
// slow one holds a worker for kTimeout at most.
//
// httplib's task queue: it calls enqueue() on its accept thread and
// shutdown() once, when the accept loop ends.
class Dispatcher final : public httplib::TaskQueue {
 public:
  explicit Dispatcher(Server* server) : server_(server) {
    if (pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) wake_[0] = wake_[1] = -1;
    poller_ = std::thread([this] { Poll(); });
    for (size_t i = 0; i < kThreads; ++i) {
      workers_.emplace_back([this] { Work(); });
    }
  }

  ~Dispatcher() override {
    if (wake_[0] >= 0) close(wake_[0]);
    if (wake_[1] >= 0) close(wake_[1]);
  }

  // `task` is httplib's "process and close this socket", which lands in
  // Admit() at once.
  void enqueue(std::function<void()> task) override { task(); }

  void shutdown() override {
    server_->dispatcher = nullptr;
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    Wake();
    poller_.join();
    for (std::thread& worker : workers_) worker.join();
    MutexLock lock(&mu_);
    for (const Connection& connection : incoming_) CloseSocket(connection.sock);
    for (const Connection& connection : ready_) CloseSocket(connection.sock);
    incoming_.clear();
    ready_.clear();
  }

  void Admit(int sock) {
    {
      MutexLock lock(&mu_);
      if (!stopping_) {
        incoming_.push_back(
            {.sock = sock, .deadline = Clock::now() + kTimeout});
        sock = -1;
      }
    }
    if (sock >= 0) {
      CloseSocket(sock);
      return;
    }
    Wake();
  }

 private:
  struct Connection {
    int sock;
    Clock::time_point deadline;
  };

  void Wake() {
    const char byte = 0;
    if (wake_[1] >= 0) (void)!::write(wake_[1], &byte, 1);
  }

  void Poll() {
    std::deque<Connection> waiting;  // oldest first
    std::vector<pollfd> fds;
    for (;;) {
      {
        MutexLock lock(&mu_);
        if (stopping_) break;
        waiting.insert(waiting.end(), incoming_.begin(), incoming_.end());
        incoming_.clear();
      }
      while (waiting.size() > kMaxWaiting) {
        CloseSocket(waiting.front().sock);
        waiting.pop_front();
      }
      fds.assign(1, pollfd{.fd = wake_[0], .events = POLLIN, .revents = 0});
      Clock::time_point next = Clock::now() + std::chrono::seconds(1);
      for (const Connection& connection : waiting) {
        fds.push_back({.fd = connection.sock, .events = POLLIN, .revents = 0});
        next = std::min(next, connection.deadline);
      }
      if (poll(fds.data(), fds.size(), MillisUntil(next)) < 0 &&
          errno != EINTR) {
        break;
      }
      if (fds[0].revents != 0) {
        char drain[64];
        while (::read(wake_[0], drain, sizeof(drain)) > 0) {
        }
      }
      const Clock::time_point now = Clock::now();
      std::deque<Connection> still;
      std::vector<Connection> readable;
      for (size_t i = 0; i < waiting.size(); ++i) {
        if (fds[i + 1].revents != 0) {
          readable.push_back(waiting[i]);  // a request, or a hang-up
        } else if (now >= waiting[i].deadline) {
          CloseSocket(waiting[i].sock);
        } else {
          still.push_back(waiting[i]);
        }
      }
      waiting.swap(still);
      if (!readable.empty()) {
        MutexLock lock(&mu_);
        ready_.insert(ready_.end(), readable.begin(), readable.end());
      }
    }
    for (const Connection& connection : waiting) CloseSocket(connection.sock);
  }

  void Work() {
    for (;;) {
      Connection connection;
      {
        MutexLock lock(&mu_);
        mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || !ready_.empty();
        });
        if (stopping_) return;
        connection = ready_.front();
        ready_.pop_front();
      }
      server_->Answer(connection.sock, connection.deadline);
      CloseSocket(connection.sock);
    }
  }

  Server* const server_;
  int wake_[2] = {-1, -1};
  Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Connection> incoming_ ABSL_GUARDED_BY(mu_);
  std::deque<Connection> ready_ ABSL_GUARDED_BY(mu_);
  std::thread poller_;
  std::vector<std::thread> workers_;
};

bool Server::process_and_close_socket(int sock) {
  Dispatcher* const to = dispatcher.load();
  if (to == nullptr) {
    CloseSocket(sock);
    return false;
  }
  to->Admit(sock);
  return true;
}

absl::Status Malformed(std::string_view flag, std::string_view listen,
                       std::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(
      absl::string_view(flag.data(), flag.size()), ": ",
      QuoteForMessage(absl::string_view(listen.data(), listen.size()), 60),
      ": ", absl::string_view(rule.data(), rule.size())));
}

bool IsHostNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '-' || c == '_';
}

// Inside the brackets: hex digits, colons, dots (an embedded IPv4 address)
// and a zone after '%' ("fe80::1%eth0").
bool IsIpv6Char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == ':' ||
         c == '.' || c == '%' || c == '_' || c == '-';
}

// SO_REUSEADDR lets a restarted server bind while connections of the last
// one linger in TIME_WAIT. httplib's default also sets SO_REUSEPORT, with
// which a second process binds the same port and the kernel splits the
// scrapes between the two: binding a port in use must fail instead.
void SetSocketOptions(int sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

void Serve(httplib::Server& server, MetricsEndpoint::Render render) {
  server.set_socket_options(SetSocketOptions);
  server.set_keep_alive_max_count(1);
  server.set_keep_alive_timeout(kTimeoutSeconds);
  server.set_read_timeout(kTimeoutSeconds, 0);
  server.set_write_timeout(kTimeoutSeconds, 0);
  // No route reads a body.
  server.set_payload_max_length(64 << 10);
  server.set_pre_routing_handler(
      [](const httplib::Request& request, httplib::Response& response) {
        if (request.method == "GET" || request.method == "HEAD") {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        response.status = 405;
        response.set_header("Allow", "GET, HEAD");
        response.set_content("method not allowed: GET /metrics\n", kText);
        return httplib::Server::HandlerResponse::Handled;
      });
  server.Get("/metrics",
             [render = std::move(render)](const httplib::Request&,
                                          httplib::Response& response) {
               response.set_content(render(), Exposition::kContentType);
             });
  server.Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("plantrail: Prometheus metrics at /metrics\n", kText);
  });
  server.Get(".*", [](const httplib::Request&, httplib::Response& response) {
    response.status = 404;
    response.set_content("not found: metrics are at /metrics\n", kText);
  });
  server.set_exception_handler([](const httplib::Request&,
                                  httplib::Response& response,
                                  std::exception_ptr) {
    response.status = 500;
    response.set_content("internal error: the metrics could not be rendered\n",
                         kText);
  });
}

}  // namespace

absl::StatusOr<std::pair<std::string, int>> ParseListenAddress(
    std::string_view listen, std::string_view flag) {
  if (listen.empty()) {
    return Malformed(flag, listen, "must not be empty; expected HOST:PORT");
  }
  if (listen.find("://") != std::string_view::npos) {
    return Malformed(flag, listen,
                     "must be HOST:PORT, without a scheme (no http://)");
  }
  std::string_view host;
  std::string_view port;
  if (listen.front() == '[') {
    const size_t close = listen.find(']');
    if (close == std::string_view::npos) {
      return Malformed(flag, listen, "an IPv6 host in brackets needs its ']'");
    }
    host = listen.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos ||
        !std::all_of(host.begin(), host.end(), IsIpv6Char)) {
      return Malformed(flag, listen,
                       "the host in brackets must be an IPv6 address, as "
                       "in [::1]:9477");
    }
    if (close + 1 >= listen.size() || listen[close + 1] != ':') {
      return Malformed(flag, listen, "must be HOST:PORT, as in [::1]:9477");
    }
    port = listen.substr(close + 2);
  } else {
    const size_t colon = listen.find(':');
    if (colon == std::string_view::npos) {
      return Malformed(flag, listen, "must be HOST:PORT, as in 127.0.0.1:9477");
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (port.find(':') != std::string_view::npos) {
      return Malformed(flag, listen,
                       "an IPv6 host must be in brackets, as in [::1]:9477");
    }
    if (host.empty()) {
      return Malformed(flag, listen,
                       "the host must not be empty (0.0.0.0 listens on every "
                       "interface)");
    }
    if (!std::all_of(host.begin(), host.end(), IsHostNameChar)) {
      return Malformed(flag, listen,
                       "the host must be an IPv4 address or a host name "
                       "([A-Za-z0-9._-])");
    }
  }
  int number = 0;
  const auto [end, error] =
      std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || port.size() > 5 || error != std::errc() ||
      end != port.data() + port.size() || number < 0 || number > 65535) {
    return Malformed(flag, listen,
                     "the port must be a number from 0 to 65535 (0: any free "
                     "port)");
  }
  return std::make_pair(std::string(host), number);
}

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<httplib::Server> server,
                                 int port)
    : server_(std::move(server)), port_(port) {}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen, Render render) {
  PLANTRAIL_ASSIGN_OR_RETURN(auto address, ParseListenAddress(listen));
  if (!render) {
    return absl::InvalidArgumentError(
        "MetricsEndpoint::Start: render must not be empty");
  }
  auto server = std::make_unique<Server>();
  Server* const http = server.get();
  Serve(*server, std::move(render));
  const auto& [host, requested_port] = address;
  int port = requested_port;
  const bool bound = requested_port == 0
                         ? (port = server->bind_to_any_port(host)) >= 0
                         : server->bind_to_port(host, requested_port);
  if (!bound) {
    return absl::UnavailableError(absl::StrCat(
        "metrics-listen: cannot listen on ",
        QuoteForMessage(absl::string_view(listen.data(), listen.size()), 60),
        " (is the port in use, the address not local, or the port "
        "privileged?)"));
  }
  auto endpoint =
      absl::WrapUnique(new MetricsEndpoint(std::move(server), port));
  MetricsEndpoint* self = endpoint.get();
  // httplib calls new_task_queue once its accept loop is about to begin,
  // after it marked itself running: from then on, stop() stops it.
  self->server_->new_task_queue = [self, http]() -> httplib::TaskQueue* {
    auto* dispatcher = new Dispatcher(http);
    http->dispatcher = dispatcher;
    self->accepting_.Notify();
    return dispatcher;
  };
  {
    MutexLock lock(&self->mu_);
    self->listener_ = std::thread([self] {
      self->server_->listen_after_bind();
      // Also when httplib gave up before accepting anything.
      self->accepting_.Notify();
    });
  }
  self->accepting_.WaitForNotification();
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() { Stop(); }

void MetricsEndpoint::Stop() {
  MutexLock lock(&mu_);
  if (!listener_.joinable()) return;
  server_->stop();
  listener_.join();
}

}  // namespace plantrail::metrics
