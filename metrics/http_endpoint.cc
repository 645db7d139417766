#include "metrics/http_endpoint.h"

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <exception>

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

constexpr size_t kThreads = 2;
constexpr time_t kTimeoutSeconds = 5;
constexpr char kText[] = "text/plain; charset=utf-8";

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
  auto server = std::make_unique<httplib::Server>();
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
  self->server_->new_task_queue = [self]() -> httplib::TaskQueue* {
    auto* pool = new httplib::ThreadPool(kThreads);
    self->accepting_.Notify();
    return pool;
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
