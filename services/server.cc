#include "services/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "domain/timestamps.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "logging/log.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "projections/area_state_projection.h"
#include "projections/changes_projection.h"
#include "projections/history_projection.h"
#include "replication/rejoin.h"
#include "replication/terms.h"
#include "services/backup.h"
#include "services/decode_errors.h"
#include "services/event_store_proto.h"
#include "services/private_file.h"

namespace plantrail::services {
namespace {

// The server's name in a webhook event's CloudEvents source: its host
// name, which receivers of several servers tell them apart by.
std::string ServerName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "plantrail";
  }
  return name;
}

// The token a replica presents to its leader: the first line of `path`.
absl::StatusOr<std::string> ReadReplicaToken(const std::string& path) {
  if (path.empty()) return std::string();
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token) || token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replica-token-file: cannot read a token from \"", path, "\""));
  }
  return std::string(absl::StripAsciiWhitespace(token));
}

// A replica's start: when its log holds records its leader's does not (a
// former leader's unacknowledged tail), they go to a quarantine file and
// the log is reopened without them, and the projections, which folded
// them, are rebuilt from the log (replication/rejoin.h). A leader that
// cannot be reached is not waited for: the follower checks again.
absl::Status Rejoin(const replication::LeaderConnection& leader,
                    const ServerOptions& options,
                    const std::filesystem::path& data_dir,
                    std::unique_ptr<eventstore::EventStore>& store) {
  absl::StatusOr<replication::Fork> fork =
      replication::FindFork(*store, leader);
  if (!fork.ok()) {
    logging::Warning(
        "cannot ask the leader whether this log forked; "
        "following anyway",
        {{"leader", leader.leader},
         {"problem", std::string(fork.status().message())}});
    return absl::OkStatus();
  }
  if (fork->agrees) return absl::OkStatus();
  if (!fork->quarantine) {
    logging::Error("this log forked from the leader's; not following",
                   {{"leader", leader.leader}, {"problem", fork->refusal}});
    return absl::OkStatus();
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      const std::string file,
      replication::WriteQuarantine(*store, *fork, leader.leader,
                                   (data_dir / kQuarantineDirectory).string()));
  store.reset();
  PLANTRAIL_ASSIGN_OR_RETURN(store,
                             eventstore::EventStore::Open(eventstore::Options{
                                 .path = (data_dir / "eventstore").string(),
                                 .durability = options.durability,
                                 .min_free_bytes = options.min_free_bytes,
                                 .wal_spare_bytes = options.wal_spare_bytes,
                                 .remove_records_after = fork->position,
                             }));
  std::error_code ignored;
  std::filesystem::remove_all(data_dir / "projections", ignored);
  logging::Warning(
      "rejoined as a replica: the records this server wrote after the "
      "position its successor agrees with were moved to a quarantine file "
      "(never acknowledged by a replica); projections are rebuilt",
      {{"after_position", absl::StrCat(fork->position)},
       {"records", absl::StrCat(fork->head - fork->position)},
       {"term", absl::StrCat(fork->term)},
       {"leader_term", absl::StrCat(fork->leader_term)},
       {"file", file}});
  return absl::OkStatus();
}

// The first start of an empty server grants an admin token and leaves it
// where only the server's user can read it (and the CLI finds it).
absl::StatusOr<std::string> CreateFirstAdminToken(
    TokenRegistry& tokens, const std::filesystem::path& path) {
  v1::CreateTokenRequest request;
  request.set_principal("admin");
  request.add_roles(v1::ROLE_ADMIN);
  request.set_note("created by the server's first start");
  PLANTRAIL_ASSIGN_OR_RETURN(
      v1::CreateTokenResponse created,
      tokens.CreateNow(Principal{.name = "plantraild"}, request));
  PLANTRAIL_RETURN_IF_ERROR(
      WritePrivateFile(path.string(), created.token() + "\n"));
  return path.string();
}

// Creates the data directory, 0700 (what it holds is the server's alone:
// the log, tokens, the signing key), with whatever parents are missing. An
// existing directory keeps the mode its operator gave it.
absl::Status MakeDataDirectory(const std::filesystem::path& given) {
  std::filesystem::path data_dir = given.lexically_normal();
  if (!data_dir.has_filename()) data_dir = data_dir.parent_path();  // "d/"
  std::error_code error;
  if (!std::filesystem::exists(data_dir, error) && !error) {
    if (data_dir.has_parent_path()) {
      std::filesystem::create_directories(data_dir.parent_path(), error);
    }
    if (!error && mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
      error = std::error_code(errno, std::generic_category());
    }
  }
  if (error) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data_dir: cannot create ", data_dir.string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

// `listen` ("host:port") with the port actually bound.
std::string WithPort(absl::string_view listen, int port) {
  const size_t colon = listen.rfind(':');
  if (colon != absl::string_view::npos) listen = listen.substr(0, colon);
  return absl::StrCat(listen, ":", port);
}

}  // namespace

absl::Status CheckServerOptions(const ServerOptions& options) {
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError("data-dir: must name a directory");
  }
  PLANTRAIL_RETURN_IF_ERROR(
      metrics::ParseListenAddress(options.listen, "listen").status());
  if (!options.metrics_listen.empty()) {
    PLANTRAIL_RETURN_IF_ERROR(
        metrics::ParseListenAddress(options.metrics_listen, "metrics-listen")
            .status());
  }
  const ReplicaOptions& replica = options.replica;
  if (!options.election.etcd.empty()) {
    PLANTRAIL_RETURN_IF_ERROR(
        election::ParseEtcdEndpoints(options.election.etcd, "election")
            .status());
    if (!replica.replica_of.empty()) {
      return absl::InvalidArgumentError(
          "replica-of: not with election (the election says whom to follow)");
    }
    if (replica.token_file.empty()) {
      return absl::InvalidArgumentError(
          "replica-token-file: required with election (a server that loses "
          "follows the winner with it)");
    }
    const absl::string_view named = options.election.advertise.empty()
                                        ? absl::string_view(options.listen)
                                        : options.election.advertise;
    if (absl::EndsWith(named, ":0") || absl::StartsWith(named, "0.0.0.0") ||
        absl::StartsWith(named, "[::]")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "advertise-address: with election, the address others reach this "
          "server at must be named (\"",
          named, "\" is not one); set it, or listen on a host and port"));
    }
    // The token is read when the server follows (the first server of a
    // cluster leads, and writes the admin token that file will hold).
    PLANTRAIL_RETURN_IF_ERROR(ReplicaChannelCredentials(replica.ca_file,
                                                        replica.cert_file,
                                                        replica.key_file)
                                  .status());
  } else if (replica.replica_of.empty()) {
    if (!replica.token_file.empty() || !replica.ca_file.empty() ||
        !replica.cert_file.empty() || !replica.key_file.empty()) {
      return absl::InvalidArgumentError(
          "replica-token-file, replica-ca-file, replica-cert-file, "
          "replica-key-file: only with replica-of");
    }
  } else {
    PLANTRAIL_RETURN_IF_ERROR(
        metrics::ParseListenAddress(replica.replica_of, "replica-of").status());
    PLANTRAIL_RETURN_IF_ERROR(ReplicaChannelCredentials(replica.ca_file,
                                                        replica.cert_file,
                                                        replica.key_file)
                                  .status());
    PLANTRAIL_RETURN_IF_ERROR(ReadReplicaToken(replica.token_file).status());
  }
  return ServerCredentialsFor(options.transport, options.listen).status();
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options) {
  PLANTRAIL_RETURN_IF_ERROR(CheckServerOptions(options));
  // Before anything is opened: a server that may not listen touches nothing.
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ServerCredentials> credentials,
      ServerCredentialsFor(options.transport, options.listen));
  const std::filesystem::path data_dir(options.data_dir);
  PLANTRAIL_RETURN_IF_ERROR(MakeDataDirectory(data_dir));

  if (!options.restore_from.empty()) {
    PLANTRAIL_RETURN_IF_ERROR(
        RestoreBackup(options.restore_from, options.data_dir));
  }

  std::unique_ptr<Server> server(new Server());
  server->options_ = options;
  PLANTRAIL_ASSIGN_OR_RETURN(audit::SigningKey signing_key,
                             audit::SigningKey::LoadOrCreate(
                                 (data_dir / kSigningKeyFile).string(),
                                 (data_dir / kSigningPublicKeyFile).string()));
  server->signing_key_ =
      std::make_unique<audit::SigningKey>(std::move(signing_key));
  PLANTRAIL_ASSIGN_OR_RETURN(server->store_,
                             eventstore::EventStore::Open(eventstore::Options{
                                 .path = (data_dir / "eventstore").string(),
                                 .durability = options.durability,
                                 .min_free_bytes = options.min_free_bytes,
                                 .wal_spare_bytes = options.wal_spare_bytes,
                             }));
  std::optional<ElectedRole> elected;
  if (!options.election.etcd.empty()) {
    // The election says whom to follow, or that this server leads.
    PLANTRAIL_ASSIGN_OR_RETURN(
        server->election_,
        LeaderElection::Create(options.election, server->AdvertisedAddress()));
    PLANTRAIL_ASSIGN_OR_RETURN(const replication::Term term,
                               replication::LastTerm(*server->store_));
    PLANTRAIL_ASSIGN_OR_RETURN(elected, server->election_->Decide(term.term));
    if (!elected->lead) server->options_.replica.replica_of = elected->leader;
    logging::Info("election decided",
                  {{"role", elected->lead ? "leader" : "replica"},
                   {"leader", elected->lead ? server->AdvertisedAddress()
                                            : elected->leader}});
  }
  const bool replica = !server->options_.replica.replica_of.empty();
  replication::LeaderConnection leader;
  if (replica) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        leader.credentials,
        ReplicaChannelCredentials(server->options_.replica.ca_file,
                                  server->options_.replica.cert_file,
                                  server->options_.replica.key_file));
    PLANTRAIL_ASSIGN_OR_RETURN(
        leader.token, ReadReplicaToken(server->options_.replica.token_file));
    leader.leader = server->options_.replica.replica_of;
    PLANTRAIL_RETURN_IF_ERROR(
        Rejoin(leader, options, data_dir, server->store_));
  }
  if (replica) {
    // Before anything could write: a replica's log takes records from its
    // leader only.
    server->store_->RefuseAppends(
        absl::FailedPreconditionError(absl::StrCat(
            "this server is a replica and accepts no writes; send them to the "
            "leader at ",
            server->options_.replica.replica_of,
            " [rule: writes-go-to-the-leader]")),
        replication::kLeadershipStream);
  }
  {
    MutexLock lock(&server->role_mu_);
    server->leading_ = !replica;
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      server->projection_store_,
      projections::ProjectionStore::Open((data_dir / "projections").string()));
  // Projections stop writing at half the log's floor: the log, which
  // nothing can rebuild, keeps the last of the space.
  const projections::ProjectionRunner::Options runner_options{
      .min_free_bytes = options.min_free_bytes / 2};
  PLANTRAIL_ASSIGN_OR_RETURN(
      server->area_state_,
      projections::ProjectionRunner::Start(
          server->store_.get(), server->projection_store_.get(),
          std::make_unique<projections::AreaStateProjection>(),
          runner_options));
  PLANTRAIL_ASSIGN_OR_RETURN(
      server->history_,
      projections::ProjectionRunner::Start(
          server->store_.get(), server->projection_store_.get(),
          std::make_unique<projections::HistoryProjection>(), runner_options));
  PLANTRAIL_ASSIGN_OR_RETURN(
      server->changes_,
      projections::ProjectionRunner::Start(
          server->store_.get(), server->projection_store_.get(),
          std::make_unique<projections::ChangesProjection>(), runner_options));
  server->queries_ = std::make_unique<PlanQueries>(
      server->store_.get(), server->area_state_.get(), server->history_.get(),
      server->changes_.get());
  PLANTRAIL_ASSIGN_OR_RETURN(server->tokens_,
                             TokenRegistry::Open(server->store_.get()));
  // A replica's tokens are its leader's, replicated.
  if (!replica && server->tokens_->empty()) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        server->created_admin_token_,
        CreateFirstAdminToken(*server->tokens_, data_dir / "admin.token"));
  }
  if (options.sync.replicas > 0) {
    // After the first start's own writes: nothing could replicate them
    // yet, and replicas take them when they connect.
    server->sync_gate_ =
        std::make_unique<replication::SyncGate>(replication::SyncOptions{
            .replicas = options.sync.replicas,
            .timeout = options.sync.timeout,
            .fallback_async = options.sync.fallback_async});
  }
  server->ack_gate_ = server->sync_gate_.get();
  if (elected) {
    // Answers only while the lease that made this server lead holds.
    server->lease_fence_ =
        std::make_unique<replication::LeaseFence>(server->sync_gate_.get());
    server->ack_gate_ = server->lease_fence_.get();
  }
  if (server->ack_gate_ != nullptr) {
    server->store_->SetAcknowledgementGate(server->ack_gate_);
  }
  {
    const WebhookOptions& hooks = options.webhooks;
    const webhooks::AddressPolicy addresses{
        .allow_loopback = hooks.allow_loopback,
        .allow_private = hooks.allow_private};
    PLANTRAIL_ASSIGN_OR_RETURN(
        webhooks::SecretBox box,
        OpenWebhookKey(hooks.key_file.empty()
                           ? (data_dir / kWebhookKeyFile).string()
                           : hooks.key_file));
    PLANTRAIL_ASSIGN_OR_RETURN(
        server->webhooks_,
        WebhookRegistry::Open(server->store_.get(), std::move(box), addresses,
                              nullptr));
    // Only the leader delivers: a replica would send every event again.
    if (!replica) server->StartWebhookDelivery();
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      const int security_log,
      OpenPrivateFileForAppend((data_dir / "security.log").string()));
  server->authorizer_ = std::make_unique<Authorizer>(
      server->tokens_.get(), security_log, options.failures_per_minute);
  server->query_service_ = std::make_unique<PlanQueryService>(
      server->queries_.get(), server->authorizer_.get());
  server->subscriptions_ = std::make_unique<SubscriptionHub>(
      server->store_.get(), server->authorizer_.get(), options.subscriptions);
  server->tokens_->SetRevokedListener(
      [hub = server->subscriptions_.get()](const std::string& token_id,
                                           const std::string& principal) {
        hub->Revoked(token_id, principal);
      });
  server->event_store_service_ = std::make_unique<EventStoreService>(
      server->store_.get(), server->subscriptions_.get(),
      server->authorizer_.get());
  PLANTRAIL_ASSIGN_OR_RETURN(std::string fingerprint_key,
                             FingerprintKeyOf(*server->signing_key_));
  server->command_handler_ = std::make_unique<PlanCommandHandler>(
      server->store_.get(), [] { return absl::Now(); },
      std::move(fingerprint_key));
  server->admin_service_ = std::make_unique<AdminService>(
      server->store_.get(),
      std::vector<projections::ProjectionRunner*>{server->area_state_.get(),
                                                  server->history_.get(),
                                                  server->changes_.get()},
      server->subscriptions_.get(), server->tokens_.get(),
      server->webhooks_.get(), server->authorizer_.get(),
      server->signing_key_.get(), options.data_dir,
      [handler = server->command_handler_.get()](const std::string& stream) {
        handler->StreamRedacted(stream);
      });
  server->command_service_ = std::make_unique<PlanCommandService>(
      server->command_handler_.get(), server->authorizer_.get());
  server->replication_service_ = std::make_unique<ReplicationService>(
      server->store_.get(), server->authorizer_.get(), server->sync_gate_.get(),
      [raw = server.get()](uint64_t own, uint64_t newer) {
        raw->StepDown(own, newer);
      });
  server->admin_service_->SetReplicationState(
      [raw = server.get()] { return raw->ReplicationState(); });
  server->admin_service_->SetPromoter(
      [raw = server.get()](const Principal& by, const std::string& reason) {
        return raw->Promote(by, reason);
      });

  if (elected && elected->lead) {
    // Elected at start: a new term, before anyone can write in it.
    PLANTRAIL_ASSIGN_OR_RETURN(
        const v1::PromoteResponse began,
        server->BeginTerm(Principal{.name = "plantraild"}, "elected",
                          "won the election on etcd at start",
                          elected->revision));
    PLANTRAIL_RETURN_IF_ERROR(server->election_->RecordTerm(began.term()));
  }

  // Both are process-wide switches that must be set before a builder exists.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  // The metrics count served methods by name, and any other name as one.
  std::vector<std::string> served = Authorizer::Methods();
  served.insert(served.end(),
                {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
                 "/grpc.reflection.v1alpha.ServerReflection/"
                 "ServerReflectionInfo"});
  server->rpc_observer_ = std::make_unique<RpcObserver>(std::move(served));
  grpc::ServerBuilder builder;
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  // First: its status is sent through the interceptors in order, so the
  // observer counts and logs the INVALID_ARGUMENT it makes of a request
  // that could not be decoded.
  interceptors.push_back(DecodeErrorInterceptorFactory());
  interceptors.push_back(server->rpc_observer_->InterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.RegisterService(server->event_store_service_.get());
  builder.RegisterService(server->admin_service_.get());
  builder.RegisterService(server->command_service_.get());
  builder.RegisterService(server->query_service_.get());
  builder.RegisterService(server->replication_service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("listen: cannot serve on ", options.listen,
                     " (address in use or not valid?)"));
  }
  grpc::HealthCheckServiceInterface* health =
      server->server_->GetHealthCheckService();
  health->SetServingStatus(true);
  // Per service too, so that a client asks about the service it needs: on a
  // replica, reads are served and commands are the leader's.
  for (const char* service :
       {v1::EventStore::service_full_name(), v1::Admin::service_full_name(),
        v1::PlanQueries::service_full_name(),
        v1::Replication::service_full_name()}) {
    health->SetServingStatus(service, true);
  }
  health->SetServingStatus(v1::PlanCommands::service_full_name(), !replica);
  if (replica) {
    Server* const raw = server.get();
    server->follower_ = replication::Follower::Start(
        server->store_.get(),
        replication::FollowerOptions{
            .leader = server->options_.replica.replica_of,
            .credentials = leader.credentials,
            .token = leader.token,
            .replica_name = server->options_.replica.name.empty()
                                ? ServerName()
                                : server->options_.replica.name,
            .on_applied = [raw](uint64_t, uint64_t last, bool rewrote) {
              raw->AfterReplicated(last, rewrote);
            }});
  }
  if (elected) {
    Server* const raw = server.get();
    server->election_->Start(
        *elected,
        LeaderElection::Hooks{
            .promote = [raw](int64_t revision) -> absl::StatusOr<uint64_t> {
              PLANTRAIL_ASSIGN_OR_RETURN(
                  const v1::PromoteResponse response,
                  raw->TakeOver(Principal{.name = "plantraild"}, "elected",
                                "the leader's lease ran out; won the "
                                "election on etcd",
                                revision));
              return response.term();
            },
            .caught_up_at = [raw]() -> absl::Time {
              if (raw->follower_ == nullptr) return absl::InfinitePast();
              const replication::FollowerStatus status =
                  raw->follower_->Status();
              // A synchronous replica holds every acknowledged append
              // however far behind the leader's head it reads; an
              // asynchronous one only when it was at the head.
              return raw->options_.sync.replicas > 0 ? status.last_heard
                                                     : status.last_caught_up;
            },
            .valid_until =
                [raw](absl::Time until) {
                  if (raw->lease_fence_ != nullptr) {
                    raw->lease_fence_->ValidUntil(until);
                  }
                },
            .restart =
                [raw](const std::string& why) { raw->RequestRestart(why); }});
  }
  if (!options.metrics_listen.empty()) {
    // The endpoint renders from every part above, all of which exist now.
    Server* const raw = server.get();
    PLANTRAIL_ASSIGN_OR_RETURN(
        server->metrics_endpoint_,
        metrics::MetricsEndpoint::Start(
            options.metrics_listen, [raw] { return raw->RenderMetrics(); }));
  }
  return server;
}

int Server::metrics_port() const {
  return metrics_endpoint_ != nullptr ? metrics_endpoint_->port() : 0;
}

Server::~Server() {
  if (server_ != nullptr) Shutdown(absl::Seconds(5));
}

std::string Server::address() const { return WithPort(options_.listen, port_); }

std::string Server::metrics_address() const {
  if (metrics_endpoint_ == nullptr) return "";
  return WithPort(options_.metrics_listen, metrics_endpoint_->port());
}

v1::ReplicationStatus Server::ReplicationState() const {
  v1::ReplicationStatus state;
  bool leading;
  {
    MutexLock lock(&role_mu_);
    leading = leading_;
    state.set_problem(deposed_);
  }
  if (absl::StatusOr<replication::Term> term = replication::LastTerm(*store_);
      term.ok()) {
    state.set_term(term->term);
  }
  if (leading || follower_ == nullptr) {
    state.set_role(v1::ReplicationStatus::LEADER);
  } else {
    state.set_role(v1::ReplicationStatus::REPLICA);
    state.set_leader(options_.replica.replica_of);
    const replication::FollowerStatus followed = follower_->Status();
    switch (followed.state) {
      case replication::FollowerStatus::State::kConnecting:
        state.set_follow_state(v1::ReplicationStatus::CONNECTING);
        break;
      case replication::FollowerStatus::State::kFollowing:
        state.set_follow_state(v1::ReplicationStatus::FOLLOWING);
        break;
      case replication::FollowerStatus::State::kStopped:
        state.set_follow_state(v1::ReplicationStatus::STOPPED);
        break;
    }
    state.set_problem(followed.problem);
    state.set_leader_head(followed.leader_head);
    state.set_lag_events(followed.lag_events());
    state.set_lag_seconds(followed.lag_seconds());
  }
  for (v1::ReplicaStatus& status : replication_service_->Replicas()) {
    *state.add_replicas() = std::move(status);
  }
  for (const replication::QuarantineSummary& file : replication::ListQuarantine(
           (std::filesystem::path(options_.data_dir) / kQuarantineDirectory)
               .string())) {
    v1::QuarantineFile& out = *state.add_quarantined();
    out.set_path(file.path);
    out.set_after_position(file.after_position);
    out.set_records(file.records);
    out.set_term(file.term);
    out.set_leader(file.leader);
    out.set_leader_term(file.leader_term);
    *out.mutable_written_at() = domain::ToTimestamp(file.written_at);
  }
  if (sync_gate_ != nullptr) {
    const replication::SyncGate::Stats sync = sync_gate_->GetStats();
    state.set_sync_replicas(sync.required);
    state.set_asynchronous(sync.asynchronous);
  }
  return state;
}

absl::StatusOr<v1::PromoteResponse> Server::Promote(const Principal& by,
                                                    const std::string& reason) {
  if (reason.empty()) {
    return absl::InvalidArgumentError(
        "reason: required (why this replica takes over)");
  }
  return TakeOver(by, "promoted", reason, 0);
}

absl::StatusOr<v1::PromoteResponse> Server::TakeOver(const Principal& by,
                                                     const std::string& how,
                                                     const std::string& reason,
                                                     int64_t revision) {
  MutexLock lock(&role_mu_);
  if (leading_ || follower_ == nullptr) {
    return absl::FailedPreconditionError(
        "this server is the leader already; promote a replica");
  }
  // Nothing arrives from the old leader from here on.
  follower_->Stop();
  AfterReplicated(store_->HeadPosition(), /*rewrote=*/false);
  PLANTRAIL_ASSIGN_OR_RETURN(v1::PromoteResponse response,
                             BeginTerm(by, how, reason, revision));
  store_->RefuseAppends(absl::OkStatus(), "");
  leading_ = true;
  StartWebhookDelivery();
  server_->GetHealthCheckService()->SetServingStatus(
      v1::PlanCommands::service_full_name(), true);
  logging::Warning("promoted: this server leads now",
                   {{"term", absl::StrCat(response.term())},
                    {"position", absl::StrCat(response.position())},
                    {"by", by.name},
                    {"how", how},
                    {"reason", reason}});
  return response;
}

absl::StatusOr<v1::PromoteResponse> Server::BeginTerm(const Principal& by,
                                                      const std::string& how,
                                                      const std::string& reason,
                                                      int64_t revision) {
  PLANTRAIL_ASSIGN_OR_RETURN(replication::Term last,
                             replication::LastTerm(*store_));
  stored::LeaderTermBegan began;
  began.set_term(last.term + 1);
  began.set_leader(options_.replica.name.empty() ? ServerName()
                                                 : options_.replica.name);
  began.set_address(AdvertisedAddress());
  began.set_previous_term(last.term);
  began.set_previous_head(store_->HeadPosition());
  began.set_how(how);
  began.set_reason(reason);
  began.set_election_revision(revision);
  eventstore::AppendRequest append{
      .stream_id = replication::kLeadershipStream,
      .expected_version =
          last.version == 0 ? eventstore::ExpectedVersion::NoStream()
                            : eventstore::ExpectedVersion::Exact(last.version)};
  append.events.push_back(SystemEvent(began, by.name));
  // The term's first record needs no replica: there may be none yet (the
  // old leader is gone). Nothing else appends meanwhile: a replica refuses
  // appends until it is written, and a leader starting is not serving yet.
  store_->SetAcknowledgementGate(nullptr);
  absl::StatusOr<eventstore::AppendResult> recorded =
      store_->Append(std::move(append));
  store_->SetAcknowledgementGate(ack_gate_);
  if (!recorded.ok()) return recorded.status();
  v1::PromoteResponse response;
  response.set_term(began.term());
  response.set_position(recorded->first_position);
  return response;
}

std::string Server::AdvertisedAddress() const {
  if (!options_.election.advertise.empty()) return options_.election.advertise;
  return port_ != 0 ? address() : options_.listen;
}

void Server::RequestRestart(const std::string& why) {
  if (lease_fence_ != nullptr) lease_fence_->Close();
  store_->RefuseAppends(absl::UnavailableError(absl::StrCat(
                            "this server is changing its role and restarts: ",
                            why, " [rule: one-leader-a-term]")),
                        "");
  {
    MutexLock lock(&role_mu_);
    deposed_ = why;
  }
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(
        v1::PlanCommands::service_full_name(), false);
  }
  logging::Warning("restarting in a new role", {{"why", why}});
  if (options_.on_restart_needed) options_.on_restart_needed(why);
}

void Server::StepDown(uint64_t own_term, uint64_t newer_term) {
  const std::string why = absl::StrCat(
      "this server was deposed: a replica holds leadership term ", newer_term,
      ", newer than this server's ", own_term,
      "; it accepts no writes. Restart it as a replica of the current leader "
      "(--replica-of) [rule: one-leader-a-term]");
  store_->RefuseAppends(absl::FailedPreconditionError(why), "");
  {
    MutexLock lock(&role_mu_);
    if (!deposed_.empty()) return;
    deposed_ = why;
  }
  server_->GetHealthCheckService()->SetServingStatus(
      v1::PlanCommands::service_full_name(), false);
  logging::Error("deposed", {{"term", absl::StrCat(own_term)},
                             {"newer_term", absl::StrCat(newer_term)}});
}

void Server::StartWebhookDelivery() {
  const WebhookOptions& hooks = options_.webhooks;
  webhook_dispatcher_ = std::make_unique<webhook_delivery::Dispatcher>(
      store_.get(),
      webhook_delivery::DispatcherOptions{
          .source = ServerName(),
          .post = {.addresses = {.allow_loopback = hooks.allow_loopback,
                                 .allow_private = hooks.allow_private},
                   .connect_timeout = hooks.connect_timeout,
                   .io_timeout = hooks.io_timeout,
                   .ca_file = hooks.ca_file},
          .retry = {.first = hooks.first_retry, .longest = hooks.longest_retry},
          .failing_after = hooks.failing_after,
          .on_give_up = [this](const std::string& id,
                               const std::string& reason) {
            webhooks_->PauseFailing(id, reason);
          }});
  webhooks_->StartDelivery(webhook_dispatcher_.get());
}

void Server::AfterReplicated(uint64_t last, bool rewrote) {
  // Tokens granted or revoked and endpoints changed on the leader hold
  // here from now on.
  if (absl::Status caught_up = tokens_->CatchUp(); !caught_up.ok()) {
    logging::Error("cannot fold replicated tokens",
                   {{"problem", std::string(caught_up.message())}});
  }
  if (absl::Status caught_up = webhooks_->CatchUp(); !caught_up.ok()) {
    logging::Error("cannot fold replicated webhook endpoints",
                   {{"problem", std::string(caught_up.message())}});
  }
  if (rewrote) {
    // A redaction replicated: no copy of what it replaced may stay in this
    // server's files either.
    if (absl::Status erased = store_->EraseOverwritten(1, last); !erased.ok()) {
      logging::Error("cannot erase what a replicated redaction replaced",
                     {{"problem", std::string(erased.message())}});
    }
  }
}

void Server::Shutdown(absl::Duration grace) {
  if (server_ == nullptr) return;
  if (metrics_endpoint_ != nullptr) metrics_endpoint_->Stop();
  server_->GetHealthCheckService()->SetServingStatus(false);
  // A leader gives its key up, so that a replica takes over at once.
  if (election_ != nullptr) election_->Stop();
  // First: what it writes would reach registries that are going.
  if (follower_ != nullptr) follower_->Stop();
  replication_service_->EndAll();
  // Queries waiting for a position would otherwise hold the shutdown until
  // their own deadlines.
  area_state_->Stop();
  history_->Stop();
  changes_->Stop();
  subscriptions_->EndAll();
  // A request under way finishes (bounded by the webhook timeouts).
  if (webhook_dispatcher_ != nullptr) webhook_dispatcher_->Stop();
  // Waits for in-flight calls; appends among them finish when their commit
  // group does, because the store's writer keeps running until the store is
  // closed below.
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
  server_.reset();
  event_store_service_.reset();
  replication_service_.reset();
  follower_.reset();
  admin_service_.reset();
  tokens_->SetRevokedListener(nullptr);
  subscriptions_.reset();
  command_service_.reset();
  command_handler_.reset();
  authorizer_.reset();
  tokens_.reset();
  webhooks_.reset();
  webhook_dispatcher_.reset();
  query_service_.reset();
  queries_.reset();
  area_state_.reset();
  history_.reset();
  changes_.reset();
  projection_store_.reset();
  store_.reset();
  rpc_observer_.reset();
}

}  // namespace plantrail::services
