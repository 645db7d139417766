// The plantrail server: the event store plus every gRPC service on it, the
// standard health service and server reflection.
//
// Thread safety: Shutdown() may be called from any thread, once; the other
// methods are const and safe at any time before destruction.
#ifndef PLANTRAIL_SERVICES_SERVER_H_
#define PLANTRAIL_SERVICES_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "audit/signing_key.h"
#include "common/sync.h"
#include "eventstore/event_store.h"
#include "grpcpp/server.h"
#include "metrics/http_endpoint.h"
#include "projections/projection_store.h"
#include "projections/runner.h"
#include "replication/follower.h"
#include "replication/lease_fence.h"
#include "replication/sync_gate.h"
#include "services/admin_service.h"
#include "services/authorizer.h"
#include "services/event_store_service.h"
#include "services/leader_election.h"
#include "services/plan_command_handler.h"
#include "services/plan_command_service.h"
#include "services/plan_queries.h"
#include "services/plan_query_service.h"
#include "services/replication_service.h"
#include "services/rpc_observer.h"
#include "services/subscriptions.h"
#include "services/token_registry.h"
#include "services/transport_security.h"
#include "services/webhook_registry.h"
#include "webhook_delivery/dispatcher.h"

namespace plantrail::services {

// Outbound webhooks (docs/webhooks.md).
struct WebhookOptions {
  // The key that seals the endpoints' signing secrets (64 hex digits,
  // created 0600 when missing); empty: <data_dir>/webhook.key.
  std::string key_file;
  // Endpoints on loopback addresses (and plain http:// to them): for tests
  // and a relay on the same machine.
  bool allow_loopback = false;
  // Endpoints on private and link-local networks (an intranet receiver).
  bool allow_private = false;
  // Certificate authorities (PEM) HTTPS endpoints are checked against;
  // empty: the system's.
  std::string ca_file;
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration io_timeout = absl::Seconds(10);
  absl::Duration first_retry = absl::Seconds(1);
  absl::Duration longest_retry = absl::Minutes(10);
  // How long an endpoint retries before it is failing (and one added with
  // pause_when_failing pauses itself).
  absl::Duration failing_after = absl::Hours(1);
};

// Replication (docs/replication.md): set `replica_of` and this server is a
// replica of that leader.
struct ReplicaOptions {
  // host:port of the leader to follow; empty: this server leads.
  std::string replica_of;
  // A file holding an admin token of the leader's, which the replica
  // presents; empty: none (mutual TLS with an admin's certificate).
  std::string token_file;
  // TLS to the leader: its CA bundle (PEM); with a certificate and key,
  // mutual TLS. All empty: plaintext (loopback and tests).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // How the leader names this replica; empty: the host name.
  std::string name;
};

// Synchronous replication (docs/replication.md): an append is acknowledged
// once `replicas` replicas hold it durably. Applies while this server leads
// (also after a promotion).
struct SyncReplicationOptions {
  // 0: asynchronous (acknowledged once durable here).
  int replicas = 0;
  // How long an append waits for them before it fails (UNAVAILABLE), or,
  // with fallback_async, is acknowledged anyway (said in the log and the
  // metrics).
  absl::Duration timeout = absl::Seconds(10);
  bool fallback_async = false;
};

// Where a former leader's unacknowledged records go when it rejoins as a
// replica (replication/rejoin.h), under the data directory.
inline constexpr char kQuarantineDirectory[] = "quarantine";

struct ServerOptions {
  // Where the server keeps its state: the log in <data_dir>/eventstore, the
  // projections (rebuildable from the log) in <data_dir>/projections, the
  // Ed25519 signing key in <data_dir>/signing.key (created on first start,
  // 0600) with its public half in signing.pub.
  std::string data_dir;
  // When set, the data directory (which must hold no log) is first filled
  // from this backup (see backup.h), which must verify.
  std::string restore_from;
  // host:port; port 0 picks a free one (see Server::port()).
  std::string listen = "127.0.0.1:50051";
  eventstore::Durability durability = eventstore::Durability::kSync;
  // TLS, mutual TLS, and whether plaintext may leave loopback.
  TransportSecurity transport;
  // A request larger than this is refused (RESOURCE_EXHAUSTED) before it
  // is read.
  int max_receive_message_bytes = 16 << 20;
  SubscriptionLimits subscriptions;
  // Failed authentications from one address in a minute before it is
  // slowed down.
  int failures_per_minute = 30;
  // Appends are refused (RESOURCE_EXHAUSTED) while the data directory's
  // disk has less free space than this, and go on by themselves once it
  // has more; projections pause at half of it. 0: no floor.
  uint64_t min_free_bytes = uint64_t{128} << 20;
  // The log's write-ahead log files are zeroed spares of this size
  // (eventstore::Options::wal_spare_bytes); 0: RocksDB's own files.
  uint64_t wal_spare_bytes = 0;
  // host:port of the Prometheus endpoint (GET /metrics); empty: none.
  std::string metrics_listen;
  WebhookOptions webhooks;
  ReplicaOptions replica;
  SyncReplicationOptions sync;
  // Automatic failover (docs/replication.md); replica.replica_of is then
  // decided by the election, not given.
  ElectionOptions election;
  // Called (from any thread, once) when the election moves this server and
  // it must restart in its new role; the daemon shuts down and exits so
  // that its supervisor starts it again.
  std::function<void(const std::string& why)> on_restart_needed;
};

// Checks what Start() would refuse without touching anything: the data
// directory named, the addresses well formed, the TLS files readable and
// consistent. The error names the setting and the rule.
absl::Status CheckServerOptions(const ServerOptions& options);

class Server {
 public:
  // Opens the store and starts serving; fails if the store cannot be opened
  // (for instance because another server holds it) or the address cannot
  // be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options);

  // Shuts down if Shutdown() was not called.
  ~Server();

  // The port actually bound.
  int port() const { return port_; }
  // The port of the metrics endpoint; 0 without one.
  int metrics_port() const;
  // host:port of the metrics endpoint; empty without one.
  std::string metrics_address() const;
  std::string address() const;
  eventstore::EventStore& store() const { return *store_; }
  // This server's role and its replicas or its leader, as GetStats says.
  v1::ReplicationStatus ReplicationState() const;

  // Admin.Promote: a replica becomes the leader in a new term.
  // FAILED_PRECONDITION when this server leads already.
  absl::StatusOr<v1::PromoteResponse> Promote(const Principal& by,
                                              const std::string& reason);
  // Where the first start wrote the admin token; empty on later starts.
  const std::string& created_admin_token() const {
    return created_admin_token_;
  }

  // Everything the metrics endpoint serves, in the Prometheus text format:
  // the log, the commit groups, reads, RPCs, subscriptions, projections,
  // both RocksDB databases, the disk and the process.
  std::string RenderMetrics() const;

  // Stops accepting calls, lets in-flight calls finish within `grace` (then
  // cancels them), finishes or fails every queued append and closes the
  // store. Acknowledged appends are durable; none is lost.
  void Shutdown(absl::Duration grace);

 private:
  Server() = default;
  // On a replica, after each replicated batch: the registries fold what
  // it brought, and a replicated redaction is erased from the files.
  void AfterReplicated(uint64_t last, bool rewrote);
  // A replica takes over (Promote, or the election's win): stops
  // following, begins a term, opens appends.
  absl::StatusOr<v1::PromoteResponse> TakeOver(const Principal& by,
                                               const std::string& how,
                                               const std::string& reason,
                                               int64_t revision);
  // Appends the LeaderTermBegan of a new term, past the acknowledgement
  // gate (no replica may be there to acknowledge it).
  absl::StatusOr<v1::PromoteResponse> BeginTerm(const Principal& by,
                                                const std::string& how,
                                                const std::string& reason,
                                                int64_t revision);
  // The address replicas and the election name this server by.
  std::string AdvertisedAddress() const;
  // The election moved this server: it stops accepting writes, and the
  // daemon restarts it in its new role.
  void RequestRestart(const std::string& why);
  // Starts delivering webhooks (a leader does; a replica once promoted).
  void StartWebhookDelivery();
  // A replica of a newer term met this leader: it accepts no more writes.
  void StepDown(uint64_t own_term, uint64_t newer_term);

  ServerOptions options_;
  int port_ = 0;
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<projections::ProjectionStore> projection_store_;
  std::unique_ptr<projections::ProjectionRunner> area_state_;
  std::unique_ptr<projections::ProjectionRunner> history_;
  std::unique_ptr<projections::ProjectionRunner> changes_;
  std::unique_ptr<PlanQueries> queries_;
  std::unique_ptr<PlanQueryService> query_service_;
  std::unique_ptr<SubscriptionHub> subscriptions_;
  std::unique_ptr<EventStoreService> event_store_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<audit::SigningKey> signing_key_;
  std::unique_ptr<TokenRegistry> tokens_;
  // Stopped before the registry and the store go.
  std::unique_ptr<webhook_delivery::Dispatcher> webhook_dispatcher_;
  std::unique_ptr<WebhookRegistry> webhooks_;
  std::unique_ptr<Authorizer> authorizer_;
  std::string created_admin_token_;
  std::unique_ptr<PlanCommandHandler> command_handler_;
  std::unique_ptr<PlanCommandService> command_service_;
  std::unique_ptr<RpcObserver> rpc_observer_;
  // Serves replicas (on a leader; a replica serves chained replicas too).
  std::unique_ptr<ReplicationService> replication_service_;
  // On a replica: follows the leader. Stopped before the registries go,
  // and for good when the replica is promoted.
  std::unique_ptr<replication::Follower> follower_;
  // Holds acknowledgements for synchronous replicas; null when none.
  std::unique_ptr<replication::SyncGate> sync_gate_;
  // With an election: acknowledgements only while the lease holds.
  std::unique_ptr<replication::LeaseFence> lease_fence_;
  // The gate the store answers through (the fence, or the sync gate).
  eventstore::AcknowledgementGate* ack_gate_ = nullptr;
  // With --election: keeps the role up (stopped first at shutdown).
  std::unique_ptr<LeaderElection> election_;
  // Serialises promotions; whether this server leads now, and why it
  // stopped leading if it was deposed.
  mutable Mutex role_mu_;
  bool leading_ ABSL_GUARDED_BY(role_mu_) = false;
  std::string deposed_ ABSL_GUARDED_BY(role_mu_);
  std::unique_ptr<grpc::Server> server_;
  // Last: stopped first, so that no scrape reads what is being destroyed.
  std::unique_ptr<metrics::MetricsEndpoint> metrics_endpoint_;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_SERVER_H_
