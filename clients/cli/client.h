// The CLI's connection to plantraild: one channel, the four services' stubs,
// and the per-call context (deadline, bearer token). gRPC statuses become
// absl::Status here, keeping the server's code and message, so the rest of
// the CLI deals in one error type.
//
// Not thread-safe to configure; calls on the stubs are (gRPC's guarantee).
#ifndef PLANTRAIL_CLIENTS_CLI_CLIENT_H_
#define PLANTRAIL_CLIENTS_CLI_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"

namespace plantrail::cli {

// The whole file; kInvalidArgument naming `what` (the flag that named it)
// when it cannot be read.
absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view what);

struct ConnectionOptions {
  // host:port.
  std::string server = "127.0.0.1:50051";
  // TLS: used when `tls` is set or any file is given. The CA file verifies
  // the server (system roots when empty); cert and key identify the client
  // (mutual TLS).
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  // Overrides the name checked against the server's certificate.
  std::string tls_server_name;
  // Sent as `authorization: Bearer <token>` when not empty.
  std::string token;
  // Every call's deadline.
  absl::Duration timeout = absl::Seconds(30);
  // A write refused by a replica goes to the leader it names (once), with
  // a note on stderr; false: the refusal is reported.
  bool follow_leader = true;
};

// The leader a replica's refusal of a write names ("... send them to the
// leader at HOST:PORT [rule: writes-go-to-the-leader]"), if `status` is one.
std::optional<std::string> LeaderOf(const absl::Status& status);

class Client {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const ConnectionOptions& options);

  // A context with the deadline and the token. `deadline` overrides the
  // default timeout (absl::InfiniteFuture() for streams that run until
  // cancelled).
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  std::unique_ptr<grpc::ClientContext> NewContext(absl::Time deadline) const;

  v1::PlanCommands::Stub& commands() { return *commands_; }
  v1::PlanQueries::Stub& queries() { return *queries_; }
  v1::EventStore::Stub& events() { return *events_; }
  v1::Admin::Stub& admin() { return *admin_; }

  // The log's head. Queries wait for it (min_position), so a query run
  // right after a command sees the command, even from another process.
  absl::StatusOr<uint64_t> HeadPosition();

  const ConnectionOptions& options() const { return options_; }

  // Calls a unary RPC with a fresh context. A write a replica refuses is
  // sent to its leader (follow_leader), and the client stays with it.
  template <typename Stub, typename Request, typename Response>
  absl::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Request&, Response*),
                    Stub& stub, const Request& request, Response& response) {
    std::unique_ptr<grpc::ClientContext> context = NewContext();
    absl::Status status =
        FromGrpc((stub.*method)(context.get(), request, &response));
    if (!options_.follow_leader) return status;
    const std::optional<std::string> leader = LeaderOf(status);
    if (!leader || *leader == options_.server) return status;
    if (absl::Status moved = MoveTo(*leader); !moved.ok()) return status;
    context = NewContext();
    return FromGrpc(
        (StubOf<Stub>().*method)(context.get(), request, &response));
  }

  // The server's code and message; UNAVAILABLE says which server could not
  // be reached.
  absl::Status FromGrpc(const grpc::Status& status) const;

 private:
  explicit Client(ConnectionOptions options,
                  std::shared_ptr<grpc::Channel> channel);
  // Connects to `server` instead (same credentials), saying so on stderr.
  absl::Status MoveTo(const std::string& server);
  template <typename Stub>
  Stub& StubOf() {
    if constexpr (std::is_same_v<Stub, v1::PlanCommands::Stub>) {
      return *commands_;
    } else if constexpr (std::is_same_v<Stub, v1::PlanQueries::Stub>) {
      return *queries_;
    } else if constexpr (std::is_same_v<Stub, v1::EventStore::Stub>) {
      return *events_;
    } else {
      return *admin_;
    }
  }

  ConnectionOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PlanCommands::Stub> commands_;
  std::unique_ptr<v1::PlanQueries::Stub> queries_;
  std::unique_ptr<v1::EventStore::Stub> events_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

}  // namespace plantrail::cli

#endif  // PLANTRAIL_CLIENTS_CLI_CLIENT_H_
