// Watches every RPC the server handles, through a gRPC server interceptor:
//  - counts calls started and finished by service, method and status code,
//    with a histogram of their duration and counters of messages, under the
//    names go-grpc-prometheus made the norm (grpc_server_handled_total,
//    grpc_server_handling_seconds, ...), so existing dashboards fit;
//  - gives each call that is logged a request id: the client's
//    x-request-id when it sent a usable one (1 to 64 of [A-Za-z0-9._:-]),
//    else 16 random hex digits. It is on the call's log line and goes back
//    to the client as x-request-id in the trailing metadata (a usable id
//    the client sent always comes back). Calls that are not logged (OK calls
//    above debug) get no new id: it would cost every call a header that
//    nobody can look up;
//  - writes one log line per finished call: debug when it succeeded, info
//    for what the client got wrong (INVALID_ARGUMENT, NOT_FOUND, ...),
//    warning for UNKNOWN, UNIMPLEMENTED and DEADLINE_EXCEEDED, error for
//    INTERNAL and DATA_LOSS. The line has the method, code, duration, peer
//    and the status message; never metadata, so never a token.
//
// Thread safety: all methods may be called from any thread. The observer
// must outlive the gRPC server it is installed in.
#ifndef PLANTRAIL_SERVICES_RPC_OBSERVER_H_
#define PLANTRAIL_SERVICES_RPC_OBSERVER_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/sync.h"
#include "grpcpp/support/server_interceptor.h"
#include "metrics/exposition.h"
#include "metrics/histogram.h"

namespace plantrail::services {

inline constexpr char kRequestIdHeader[] = "x-request-id";

class RpcObserver {
 public:
  // `served`: the full names ("/plantrail.v1.EventStore/Append") of the
  // methods the server serves; each gets series of its own. Any other name
  // a client sends is counted under service and method "unknown", so that
  // invented names neither grow the metrics nor push real methods out.
  explicit RpcObserver(std::vector<std::string> served);
  RpcObserver(const RpcObserver&) = delete;
  RpcObserver& operator=(const RpcObserver&) = delete;

  // For ServerBuilder::experimental().SetInterceptorCreators; the factory
  // refers to this observer.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

  void WriteMetrics(metrics::Exposition& out) const;

  // What is counted per method.
  struct MethodStats {
    MethodStats(std::string service, std::string method, std::string type);
    const std::string service;
    const std::string method;
    const std::string type;  // unary, server_stream, ...
    std::atomic<uint64_t> started{0};
    // By grpc::StatusCode, 0 (OK) to 16 (UNAUTHENTICATED).
    std::array<std::atomic<uint64_t>, 17> handled{};
    std::atomic<uint64_t> messages_received{0};
    std::atomic<uint64_t> messages_sent{0};
    metrics::Histogram handling_seconds;
  };

  // The stats of `full_method` ("/package.Service/Method") when it is
  // served; else the one entry of service and method "unknown".
  MethodStats& StatsFor(const char* full_method,
                        grpc::experimental::ServerRpcInfo::Type type);

 private:
  const absl::flat_hash_set<std::string> served_;
  mutable Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<MethodStats>> methods_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_RPC_OBSERVER_H_
