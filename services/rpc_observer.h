// Watches the RPCs the server handles: unary calls through a gRPC server
// interceptor, Subscribe streams through their reactor (StartCall(); the
// standard health service's Watch stream is not counted). For each call it
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
#include <chrono>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "common/sync.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"
#include "metrics/exposition.h"
#include "metrics/histogram.h"

namespace plantrail::services {

inline constexpr char kRequestIdHeader[] = "x-request-id";

class RpcObserver {
 public:
  RpcObserver() = default;
  RpcObserver(const RpcObserver&) = delete;
  RpcObserver& operator=(const RpcObserver&) = delete;

  // For ServerBuilder::experimental().SetInterceptorCreators; the factory
  // refers to this observer. It intercepts unary calls only: with an
  // interceptor, gRPC 1.51's server-streaming writes can abort the process
  // (the next message serialized into the buffer of the previous one), so
  // a streaming handler reports its call itself through StartCall().
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

  // One call, counted as started when made and as handled (with its
  // duration, and a log line when the line's level is on) by Finish().
  // Not thread-safe: one call's handler at a time.
  class Call {
   public:
    Call(MethodStats* stats, std::string method);
    Call(Call&&) = default;
    // A usable id the client sent (empty: none).
    void set_request_id(std::string id) { request_id_ = std::move(id); }
    void MessageReceived();
    void MessageSent();
    // Returns the id to send back as x-request-id in the trailing
    // metadata: the client's, or the one the call was logged with; empty
    // when there is neither.
    std::string Finish(grpc::StatusCode code, const std::string& message,
                       const std::string& peer);
    bool finished() const { return finished_; }

   private:
    MethodStats* stats_;
    std::string method_;
    std::chrono::steady_clock::time_point start_;
    std::string request_id_;
    bool finished_ = false;
  };

  // A streaming call that `context` serves, with the client's request id.
  Call StartCall(const char* full_method,
                 grpc::experimental::ServerRpcInfo::Type type,
                 const grpc::CallbackServerContext& context);

  // The stats of `full_method` ("/package.Service/Method"); at most
  // kMaxMethods distinct ones, the rest share one entry (service and
  // method "unknown"), so that a client inventing method names cannot grow
  // the metrics without bound.
  MethodStats& StatsFor(const char* full_method,
                        grpc::experimental::ServerRpcInfo::Type type);

  static constexpr size_t kMaxMethods = 200;

 private:
  mutable Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<MethodStats>> methods_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_RPC_OBSERVER_H_
