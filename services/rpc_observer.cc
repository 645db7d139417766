#include "services/rpc_observer.h"

#include <chrono>
#include <iterator>
#include <optional>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "logging/log.h"

namespace plantrail::services {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

constexpr size_t kMaxRequestIdLength = 64;

// Status code names as Prometheus' gRPC conventions spell them.
constexpr std::array<const char*, 17> kCodeNames = {
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
};

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

logging::Level LevelFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return logging::Level::kDebug;
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return logging::Level::kWarning;
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
      return logging::Level::kError;
    default:
      return logging::Level::kInfo;
  }
}

bool UsableRequestId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string NewRequestId() {
  thread_local absl::BitGen random;
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(random));
}

class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(ServerRpcInfo* info, RpcObserver::MethodStats* stats)
      : info_(info), stats_(stats), start_(std::chrono::steady_clock::now()) {
    stats_->started.fetch_add(1, std::memory_order_relaxed);
  }

  ~CallInterceptor() override {
    // A call can end without a status sent (the client cancelled it, or
    // the server shut down): it counts as cancelled.
    if (!code_) Finished(grpc::StatusCode::CANCELLED, "");
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const auto* metadata = methods->GetRecvInitialMetadata();
      if (metadata != nullptr) {
        auto it = metadata->find(kRequestIdHeader);
        if (it != metadata->end()) {
          const absl::string_view id(it->second.data(), it->second.size());
          if (UsableRequestId(id)) request_id_ = std::string(id);
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE)) {
      stats_->messages_received.fetch_add(1, std::memory_order_relaxed);
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      stats_->messages_sent.fetch_add(1, std::memory_order_relaxed);
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (Finished(status.error_code(), status.error_message())) {
        methods->GetSendTrailingMetadata()->emplace(kRequestIdHeader,
                                                    request_id_);
      }
    }
    methods->Proceed();
  }

 private:
  // Counts the call and logs it if its level is on. Returns whether the
  // call has a request id for the client: one it gave, or the one it was
  // logged with.
  bool Finished(grpc::StatusCode code, const std::string& message) {
    code_ = code;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count();
    const size_t index = static_cast<size_t>(code) < kCodeNames.size()
                             ? static_cast<size_t>(code)
                             : static_cast<size_t>(grpc::StatusCode::UNKNOWN);
    stats_->handled[index].fetch_add(1, std::memory_order_relaxed);
    stats_->handling_seconds.Observe(seconds);
    const logging::Level level = LevelFor(code);
    if (!logging::Enabled(level)) return !request_id_.empty();
    // Made up only for a call that is logged: most calls are not, and an
    // id nobody can look up is not worth a header on every answer.
    if (request_id_.empty()) request_id_ = NewRequestId();
    const std::string peer = info_->server_context() != nullptr
                                 ? info_->server_context()->peer()
                                 : "";
    logging::Log(level, "rpc finished",
                 {{"request_id", request_id_},
                  {"method", info_->method()},
                  {"code", kCodeNames[index]},
                  {"duration_ms", seconds * 1000},
                  {"peer", peer},
                  {"error", message}});
    return true;
  }

  ServerRpcInfo* const info_;
  RpcObserver::MethodStats* const stats_;
  const std::chrono::steady_clock::time_point start_;
  std::string request_id_;
  std::optional<grpc::StatusCode> code_;
};

class Factory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(RpcObserver* observer) : observer_(observer) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      ServerRpcInfo* info) override {
    return new CallInterceptor(
        info, &observer_->StatsFor(info->method(), info->type()));
  }

 private:
  RpcObserver* const observer_;
};

}  // namespace

RpcObserver::MethodStats::MethodStats(std::string service, std::string method,
                                      std::string type)
    : service(std::move(service)),
      method(std::move(method)),
      type(std::move(type)),
      // 0.5 ms to about 16 s.
      handling_seconds(metrics::Histogram::ExponentialBounds(0.0005, 2, 16)) {}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
RpcObserver::InterceptorFactory() {
  return std::make_unique<Factory>(this);
}

RpcObserver::RpcObserver(std::vector<std::string> served)
    : served_(std::make_move_iterator(served.begin()),
              std::make_move_iterator(served.end())) {}

RpcObserver::MethodStats& RpcObserver::StatsFor(const char* full_method,
                                                ServerRpcInfo::Type type) {
  absl::string_view name = full_method != nullptr ? full_method : "";
  // Checked before any lock or allocation: an unauthenticated client may
  // send any name, and only served ones may make a series.
  if (!served_.contains(name)) name = "unknown";
  MutexLock lock(&mu_);
  if (auto it = methods_.find(name); it != methods_.end()) return *it->second;
  std::string key(name);
  std::string service = "unknown";
  std::string method = "unknown";
  // "/plantrail.v1.EventStore/Append"
  const size_t slash = name.rfind('/');
  if (name.size() >= 3 && name[0] == '/' && slash != 0 &&
      slash != absl::string_view::npos) {
    service = std::string(name.substr(1, slash - 1));
    method = std::string(name.substr(slash + 1));
  }
  auto [it, inserted] = methods_.try_emplace(key);
  if (inserted) {
    it->second = std::make_unique<MethodStats>(
        std::move(service), std::move(method), TypeName(type));
  }
  return *it->second;
}

void RpcObserver::WriteMetrics(metrics::Exposition& out) const {
  MutexLock lock(&mu_);
  auto labels = [](const MethodStats& stats) {
    return metrics::Labels{{"grpc_type", stats.type},
                           {"grpc_service", stats.service},
                           {"grpc_method", stats.method}};
  };
  out.Family("grpc_server_started_total", metrics::Type::kCounter,
             "RPCs started on the server.");
  for (const auto& [name, stats] : methods_) {
    out.Sample(static_cast<double>(stats->started.load()), labels(*stats));
  }
  out.Family("grpc_server_handled_total", metrics::Type::kCounter,
             "RPCs completed on the server, by status code.");
  for (const auto& [name, stats] : methods_) {
    for (size_t code = 0; code < kCodeNames.size(); ++code) {
      const uint64_t count = stats->handled[code].load();
      if (count == 0) continue;
      metrics::Labels with_code = labels(*stats);
      with_code.emplace_back("grpc_code", kCodeNames[code]);
      out.Sample(static_cast<double>(count), with_code);
    }
  }
  out.Family("grpc_server_handling_seconds", metrics::Type::kHistogram,
             "Time from the start of an RPC to its status, in seconds.");
  for (const auto& [name, stats] : methods_) {
    out.Sample(stats->handling_seconds.Read(), labels(*stats));
  }
  out.Family("grpc_server_msg_received_total", metrics::Type::kCounter,
             "Request messages received on the server.");
  for (const auto& [name, stats] : methods_) {
    out.Sample(static_cast<double>(stats->messages_received.load()),
               labels(*stats));
  }
  out.Family("grpc_server_msg_sent_total", metrics::Type::kCounter,
             "Response messages sent by the server.");
  for (const auto& [name, stats] : methods_) {
    out.Sample(static_cast<double>(stats->messages_sent.load()),
               labels(*stats));
  }
}

}  // namespace plantrail::services
