// The HTTP endpoint Prometheus scrapes, on cpp-httplib. A library of its own,
// plantrail::metrics_http, so that the libraries which only keep metrics
// (plantrail::metrics) do not link httplib and what it needs.
//
//   GET /metrics   200, the text Render() returns, Content-Type
//                  Exposition::kContentType (gzip or brotli when the client
//                  accepts it, as Prometheus does)
//   GET /          200, a short text/plain pointing at /metrics
//   GET elsewhere  404
//   any path with a method other than GET or HEAD: 405, Allow: GET, HEAD
//   HEAD           as GET, without the body
//
// The endpoint serves with two threads: a scrape is one request every few
// seconds, and the threads are taken from the server the metrics are about.
// Each connection serves one request and is closed (scrapes are seconds
// apart, longer than any keep-alive worth holding a thread for). A client
// gets 5 seconds from its connect to send the whole request, and 5 more to
// read the whole response; past either it is cut, however it trickles
// bytes. Connections that have sent nothing yet wait on one polling thread,
// not on the two that answer (at most 256 of them; beyond, the oldest is
// closed), so idle connections cannot keep a scrape from being answered. A
// Render() that throws answers 500 (httplib catches the exception; it
// never escapes).
//
// Thread safety: Render is called on the endpoint's threads, possibly two at
// once. Stop() and port() may be called from any thread; Stop() returns once
// the endpoint is stopped, also when another thread stopped it first.
#ifndef PLANTRAIL_METRICS_HTTP_ENDPOINT_H_
#define PLANTRAIL_METRICS_HTTP_ENDPOINT_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/sync.h"

// httplib.h stays out of this header: Debian's build of it is a compiled
// library whose header needs the configuration macros it was built with
// (metrics/CMakeLists.txt), which users of the endpoint need not know.
namespace httplib {
class Server;
}  // namespace httplib

namespace plantrail::metrics {

// Splits `listen` ("HOST:PORT"; an IPv6 host in brackets, "[::1]:9477") into
// the host (without brackets) and the port. The host is a host name or IPv4
// address ([A-Za-z0-9._-]+) or a bracketed IPv6 address; the port is 0 to
// 65535 (0: any free port). Fails with kInvalidArgument: `flag`, ": ", the
// address and the rule it breaks. `flag` names the setting the address came
// from, so that other listen addresses (the gRPC one) are checked alike.
absl::StatusOr<std::pair<std::string, int>> ParseListenAddress(
    std::string_view listen, std::string_view flag = "metrics-listen");

class MetricsEndpoint {
 public:
  // The whole exposition text of one scrape.
  using Render = std::function<std::string()>;

  // Binds `listen` (see ParseListenAddress) and serves. Returns once the
  // socket is bound and listening, so that a scrape right after succeeds.
  // Fails with kInvalidArgument for a malformed address or an empty
  // `render`, kUnavailable when the address cannot be bound (in use, not a
  // local address, a privileged port).
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, Render render);

  // Stops and joins.
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // The bound port (the one chosen when `listen` asked for port 0).
  int port() const { return port_; }

  // Closes the listening socket, finishes the requests in progress and joins
  // the threads. Idempotent.
  void Stop();

 private:
  MetricsEndpoint(std::unique_ptr<httplib::Server> server, int port);

  const std::unique_ptr<httplib::Server> server_;
  const int port_;
  // Notified once the listening thread accepts connections (or gave up), so
  // that Start() returns only when Stop() can stop it: httplib's stop() does
  // nothing before its accept loop has begun.
  Notification accepting_;
  Mutex mu_;
  std::thread listener_ ABSL_GUARDED_BY(mu_);
};

}  // namespace plantrail::metrics

#endif  // PLANTRAIL_METRICS_HTTP_ENDPOINT_H_
