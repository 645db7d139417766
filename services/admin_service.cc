#include "services/admin_service.h"

#include <map>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "audit/digest.h"
#include "common/status_macros.h"
#include "services/backup.h"
#include "services/grpc_status.h"
#include "services/page_token.h"
#include "services/plan_command_handler.h"
#include "services/redactor.h"

namespace plantrail::services {
namespace {

// A broken chain, a log that no longer extends the digest, or a projection
// folded from another log are findings in the response, not RPC errors.
absl::Status VerifyInto(
    const eventstore::EventStore& store, const audit::SigningKey& key,
    const std::vector<projections::ProjectionRunner*>& projections,
    const v1::VerifyRequest& request, v1::VerifyResponse& response) {
  eventstore::VerifyOptions options;
  std::string digest_problem;
  if (request.has_digest()) {
    const v1::Digest& digest = request.digest();
    if (absl::Status checked = audit::CheckDigest(digest); !checked.ok()) {
      digest_problem = absl::StrCat("the digest: ", checked.message());
    } else if (digest.public_key() != key.public_key()) {
      digest_problem =
          absl::StrCat("the digest was signed by key ", digest.key_id(),
                       "; this server signs with ", key.key_id());
    } else {
      options.anchor = eventstore::ChainAnchor{
          .position = digest.position(),
          .hash = *audit::HashFromBytes(digest.head_hash(), "head_hash")};
    }
  }
  PLANTRAIL_ASSIGN_OR_RETURN(eventstore::VerifyReport report,
                             store.Verify(options));
  response.set_ok(report.ok);
  response.set_events_checked(report.events_checked);
  response.set_head_position(report.head_position);
  response.set_head_hash(report.head_hash.data(), report.head_hash.size());
  response.set_first_broken_position(report.first_broken_position);
  response.set_problem(report.problem);
  if (report.ok && !digest_problem.empty()) {
    response.set_ok(false);
    response.set_first_broken_position(request.digest().position());
    response.set_problem(digest_problem);
  }
  response.set_digest_ok(request.has_digest() && response.ok());
  for (const projections::ProjectionRunner* runner : projections) {
    const projections::CheckpointCheck check = runner->VerifyCheckpoint();
    v1::ProjectionCheck& out = *response.add_projections();
    out.set_name(check.name);
    out.set_checkpoint(check.checkpoint);
    out.set_ok(check.ok);
    out.set_problem(check.problem);
    if (!check.ok) response.set_ok(false);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Digest> DigestOf(const eventstore::EventStore& store,
                                    const audit::SigningKey& key,
                                    uint64_t position) {
  const uint64_t head = store.HeadPosition();
  if (head == 0) {
    return absl::FailedPreconditionError("the log is empty: nothing to sign");
  }
  if (position > head) {
    return absl::InvalidArgumentError(absl::StrCat(
        "position: ", position, " is beyond the log's head (", head, ")"));
  }
  if (position == 0) position = head;
  PLANTRAIL_ASSIGN_OR_RETURN(eventstore::Hash hash, store.HashAt(position));
  return audit::SignDigest(key, position, hash, head, absl::Now());
}

void StatsInto(const eventstore::EventStore& store,
               v1::GetStatsResponse& response) {
  const eventstore::Stats stats = store.GetStats();
  response.set_head_position(stats.head_position);
  response.set_appends(stats.appends);
  response.set_events_appended(stats.events_appended);
  response.set_replayed_appends(stats.replayed_appends);
  response.set_commit_groups(stats.commit_groups);
  response.set_synced_commits(stats.synced_commits);
  response.set_rejected_appends(stats.rejected_appends);
  response.set_wal_syncs(stats.wal_syncs);
}

void StatusInto(const projections::RunnerStatus& status,
                v1::ProjectionStatus& out) {
  out.set_name(status.name);
  switch (status.state) {
    case projections::RunnerStatus::State::kRunning:
      out.set_state(v1::PROJECTION_STATE_RUNNING);
      break;
    case projections::RunnerStatus::State::kRebuilding:
      out.set_state(v1::PROJECTION_STATE_REBUILDING);
      break;
    case projections::RunnerStatus::State::kFailed:
      out.set_state(v1::PROJECTION_STATE_FAILED);
      break;
  }
  out.set_checkpoint(status.checkpoint);
  out.set_head_position(status.head_position);
  out.set_lag(status.head_position > status.checkpoint
                  ? status.head_position - status.checkpoint
                  : 0);
  out.set_rebuild_checkpoint(status.rebuild_checkpoint);
  out.set_generation(status.generation);
  out.set_events_applied(status.events_applied);
  out.set_error(status.error);
}

}  // namespace

// Verify walks the whole log, which takes a while on a big one: a callback
// thread is tied up for that time, which an admin-only RPC can afford.
grpc::ServerUnaryReactor* AdminService::Verify(
    grpc::CallbackServerContext* context, const v1::VerifyRequest* request,
    v1::VerifyResponse* response) {
  if (absl::StatusOr<Principal> caller =
          authorizer_->Authorize(*context, MethodName<v1::Admin>("Verify"));
      !caller.ok()) {
    return FinishUnary(context, caller.status());
  }
  return FinishUnary(context, VerifyInto(*store_, *signing_key_, projections_,
                                         *request, *response));
}

grpc::ServerUnaryReactor* AdminService::GetDigest(
    grpc::CallbackServerContext* context, const v1::GetDigestRequest* request,
    v1::GetDigestResponse* response) {
  if (absl::StatusOr<Principal> caller =
          authorizer_->Authorize(*context, MethodName<v1::Admin>("GetDigest"));
      !caller.ok()) {
    return FinishUnary(context, caller.status());
  }
  absl::StatusOr<v1::Digest> digest =
      DigestOf(*store_, *signing_key_, request->position());
  if (digest.ok()) *response->mutable_digest() = *std::move(digest);
  return FinishUnary(context, digest.status());
}

// A redaction answers only once no copy of the text is left on disk, which
// takes a flush, a compaction and the projections' rebuild: this ties up a
// callback thread for a while, as a backup does; an admin-only RPC, rare,
// can afford it.
grpc::ServerUnaryReactor* AdminService::RedactEvent(
    grpc::CallbackServerContext* context, const v1::RedactEventRequest* request,
    v1::RedactEventResponse* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("RedactEvent"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  absl::StatusOr<v1::RedactEventResponse> redacted =
      redactor_.Redact(*caller, *request);
  if (redacted.ok()) *response = *std::move(redacted);
  return FinishUnary(context, redacted.status());
}

// A backup flushes and copies the log and then verifies the copy, which
// ties up a callback thread for a while: an admin-only RPC can afford it.
grpc::ServerUnaryReactor* AdminService::Backup(
    grpc::CallbackServerContext* context, const v1::BackupRequest* request,
    v1::BackupResponse* response) {
  if (absl::StatusOr<Principal> caller =
          authorizer_->Authorize(*context, MethodName<v1::Admin>("Backup"));
      !caller.ok()) {
    return FinishUnary(context, caller.status());
  }
  absl::StatusOr<v1::BackupResponse> written =
      WriteBackup(*store_, *signing_key_, data_dir_, request->directory());
  if (written.ok()) *response = *std::move(written);
  return FinishUnary(context, written.status());
}

grpc::ServerUnaryReactor* AdminService::GetStats(
    grpc::CallbackServerContext* context, const v1::GetStatsRequest* request,
    v1::GetStatsResponse* response) {
  if (absl::StatusOr<Principal> caller =
          authorizer_->Authorize(*context, MethodName<v1::Admin>("GetStats"));
      !caller.ok()) {
    return FinishUnary(context, caller.status());
  }
  StatsInto(*store_, *response);
  response->set_live_subscriptions(subscriptions_->live());
  if (replication_state_)
    *response->mutable_replication() = replication_state_();
  return FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* AdminService::ListProjections(
    grpc::CallbackServerContext* context,
    const v1::ListProjectionsRequest* request,
    v1::ListProjectionsResponse* response) {
  if (absl::StatusOr<Principal> caller = authorizer_->Authorize(
          *context, MethodName<v1::Admin>("ListProjections"));
      !caller.ok()) {
    return FinishUnary(context, caller.status());
  }
  absl::StatusOr<std::optional<PageCursor>> cursor =
      DecodePageToken("projections", *request, request->page_token());
  if (!cursor.ok()) return FinishUnary(context, cursor.status());
  std::map<std::string, const projections::ProjectionRunner*> by_name;
  for (const projections::ProjectionRunner* runner : projections_) {
    by_name.emplace(runner->name(), runner);
  }
  const uint32_t page_size = PageSizeOf(request->page_size());
  for (const auto& [name, runner] : by_name) {
    if (*cursor && name <= (*cursor)->after) continue;
    if (static_cast<uint32_t>(response->projections_size()) == page_size) {
      response->set_next_page_token(
          EncodePageToken("projections", *request,
                          {.after = response->projections().rbegin()->name()}));
      break;
    }
    StatusInto(runner->Status(), *response->add_projections());
  }
  return FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* AdminService::RebuildProjection(
    grpc::CallbackServerContext* context,
    const v1::RebuildProjectionRequest* request,
    v1::RebuildProjectionResponse* response) {
  if (absl::StatusOr<Principal> caller = authorizer_->Authorize(
          *context, MethodName<v1::Admin>("RebuildProjection"));
      !caller.ok()) {
    return FinishUnary(context, caller.status());
  }
  for (projections::ProjectionRunner* runner : projections_) {
    if (runner->name() != request->name()) continue;
    absl::Status started = runner->Rebuild();
    if (started.ok()) StatusInto(runner->Status(), *response->mutable_status());
    return FinishUnary(context, started);
  }
  std::string names;
  for (const projections::ProjectionRunner* runner : projections_) {
    absl::StrAppend(&names, names.empty() ? "" : ", ", runner->name());
  }
  return FinishUnary(context, absl::NotFoundError(absl::StrCat(
                                  "name: no projection \"", request->name(),
                                  "\"; there are: ", names)));
}

grpc::ServerUnaryReactor* AdminService::CreateToken(
    grpc::CallbackServerContext* context, const v1::CreateTokenRequest* request,
    v1::CreateTokenResponse* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("CreateToken"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  tokens_->Create(*caller, *request,
                  [context, reactor,
                   response](absl::StatusOr<v1::CreateTokenResponse> created) {
                    if (created.ok()) *response = *std::move(created);
                    reactor->Finish(ToGrpcStatus(created.status(), context));
                  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::ListTokens(
    grpc::CallbackServerContext* context, const v1::ListTokensRequest* request,
    v1::ListTokensResponse* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("ListTokens"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  absl::StatusOr<std::optional<PageCursor>> cursor =
      DecodePageToken("tokens", *request, request->page_token());
  if (!cursor.ok()) return FinishUnary(context, cursor.status());
  const uint32_t page_size = PageSizeOf(request->page_size());
  // A token id never changes: going on after the last one given lists each
  // token that existed at the first page exactly once.
  for (v1::TokenInfo& info : tokens_->List()) {
    if (*cursor && info.token_id() <= (*cursor)->after) continue;
    if (static_cast<uint32_t>(response->tokens_size()) == page_size) {
      response->set_next_page_token(
          EncodePageToken("tokens", *request,
                          {.after = response->tokens().rbegin()->token_id()}));
      break;
    }
    *response->add_tokens() = std::move(info);
  }
  return FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* AdminService::RevokeToken(
    grpc::CallbackServerContext* context, const v1::RevokeTokenRequest* request,
    v1::RevokeTokenResponse* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("RevokeToken"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  tokens_->Revoke(*caller, *request,
                  [context, reactor,
                   response](absl::StatusOr<v1::RevokeTokenResponse> revoked) {
                    if (revoked.ok()) *response = *std::move(revoked);
                    reactor->Finish(ToGrpcStatus(revoked.status(), context));
                  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::AddWebhook(
    grpc::CallbackServerContext* context, const v1::AddWebhookRequest* request,
    v1::AddWebhookResponse* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("AddWebhook"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  auto answer = webhooks_->Add(*caller, *request);
  if (answer.ok()) *response = *std::move(answer);
  return FinishUnary(context, answer.status());
}

grpc::ServerUnaryReactor* AdminService::ListWebhooks(
    grpc::CallbackServerContext* context,
    const v1::ListWebhooksRequest* request,
    v1::ListWebhooksResponse* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("ListWebhooks"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  *response = webhooks_->List(*request);
  return FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* AdminService::GetWebhook(
    grpc::CallbackServerContext* context, const v1::GetWebhookRequest* request,
    v1::WebhookEndpoint* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("GetWebhook"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  auto answer = webhooks_->Get(request->endpoint_id());
  if (answer.ok()) *response = *std::move(answer);
  return FinishUnary(context, answer.status());
}

grpc::ServerUnaryReactor* AdminService::PauseWebhook(
    grpc::CallbackServerContext* context,
    const v1::PauseWebhookRequest* request, v1::WebhookEndpoint* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("PauseWebhook"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  auto answer = webhooks_->Pause(*caller, *request);
  if (answer.ok()) *response = *std::move(answer);
  return FinishUnary(context, answer.status());
}

grpc::ServerUnaryReactor* AdminService::ResumeWebhook(
    grpc::CallbackServerContext* context,
    const v1::ResumeWebhookRequest* request, v1::WebhookEndpoint* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("ResumeWebhook"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  auto answer = webhooks_->Resume(*caller, *request);
  if (answer.ok()) *response = *std::move(answer);
  return FinishUnary(context, answer.status());
}

grpc::ServerUnaryReactor* AdminService::RotateWebhookSecret(
    grpc::CallbackServerContext* context,
    const v1::RotateWebhookSecretRequest* request,
    v1::RotateWebhookSecretResponse* response) {
  absl::StatusOr<Principal> caller = authorizer_->Authorize(
      *context, MethodName<v1::Admin>("RotateWebhookSecret"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  auto answer = webhooks_->RotateSecret(*caller, *request);
  if (answer.ok()) *response = *std::move(answer);
  return FinishUnary(context, answer.status());
}

grpc::ServerUnaryReactor* AdminService::ReplayWebhook(
    grpc::CallbackServerContext* context,
    const v1::ReplayWebhookRequest* request, v1::WebhookEndpoint* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("ReplayWebhook"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  auto answer = webhooks_->Replay(*caller, *request);
  if (answer.ok()) *response = *std::move(answer);
  return FinishUnary(context, answer.status());
}

grpc::ServerUnaryReactor* AdminService::RemoveWebhook(
    grpc::CallbackServerContext* context,
    const v1::RemoveWebhookRequest* request, v1::WebhookEndpoint* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("RemoveWebhook"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  auto answer = webhooks_->Remove(*caller, *request);
  if (answer.ok()) *response = *std::move(answer);
  return FinishUnary(context, answer.status());
}

grpc::ServerUnaryReactor* AdminService::Promote(
    grpc::CallbackServerContext* context, const v1::PromoteRequest* request,
    v1::PromoteResponse* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::Admin>("Promote"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  if (!promoter_) {
    return FinishUnary(context,
                       absl::UnimplementedError("promotion is not wired"));
  }
  auto answer = promoter_(*caller, request->reason());
  if (answer.ok()) *response = *std::move(answer);
  return FinishUnary(context, answer.status());
}

}  // namespace plantrail::services
