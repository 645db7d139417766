// plantrail.v1.Admin: integrity checks, signed digests, backups and
// statistics of the log; projections and tokens.
//
// Thread safety: all methods may run concurrently. The store must outlive
// the service.
#ifndef PLANTRAIL_SERVICES_ADMIN_SERVICE_H_
#define PLANTRAIL_SERVICES_ADMIN_SERVICE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "audit/signing_key.h"
#include "eventstore/event_store.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "projections/runner.h"
#include "services/authorizer.h"
#include "services/redactor.h"
#include "services/subscriptions.h"
#include "services/token_registry.h"
#include "services/webhook_registry.h"

namespace plantrail::services {

class AdminService final : public v1::Admin::CallbackService {
 public:
  // Every RPC asks `authorizer` first. All must outlive the service.
  // `data_dir` is the server's, where the signing key's files are.
  AdminService(eventstore::EventStore* store,
               std::vector<projections::ProjectionRunner*> projections,
               const SubscriptionHub* subscriptions, TokenRegistry* tokens,
               WebhookRegistry* webhooks, const Authorizer* authorizer,
               const audit::SigningKey* signing_key, std::string data_dir,
               std::function<void(const std::string& stream_id)>
                   after_redaction = nullptr)
      : store_(store),
        projections_(std::move(projections)),
        subscriptions_(subscriptions),
        tokens_(tokens),
        webhooks_(webhooks),
        authorizer_(authorizer),
        signing_key_(signing_key),
        data_dir_(std::move(data_dir)),
        redactor_(store, projections_, std::move(after_redaction)) {}

  // What GetStats says of replication, and what Promote does (both set
  // before serving).
  void SetReplicationState(std::function<v1::ReplicationStatus()> state) {
    replication_state_ = std::move(state);
  }
  using Promoter = std::function<absl::StatusOr<v1::PromoteResponse>(
      const Principal& by, const std::string& reason)>;
  void SetPromoter(Promoter promoter) { promoter_ = std::move(promoter); }

  grpc::ServerUnaryReactor* Verify(grpc::CallbackServerContext* context,
                                   const v1::VerifyRequest* request,
                                   v1::VerifyResponse* response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override;
  grpc::ServerUnaryReactor* GetDigest(grpc::CallbackServerContext* context,
                                      const v1::GetDigestRequest* request,
                                      v1::GetDigestResponse* response) override;
  grpc::ServerUnaryReactor* RedactEvent(
      grpc::CallbackServerContext* context,
      const v1::RedactEventRequest* request,
      v1::RedactEventResponse* response) override;
  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* context,
                                   const v1::BackupRequest* request,
                                   v1::BackupResponse* response) override;
  grpc::ServerUnaryReactor* ListProjections(
      grpc::CallbackServerContext* context,
      const v1::ListProjectionsRequest* request,
      v1::ListProjectionsResponse* response) override;
  grpc::ServerUnaryReactor* RebuildProjection(
      grpc::CallbackServerContext* context,
      const v1::RebuildProjectionRequest* request,
      v1::RebuildProjectionResponse* response) override;
  grpc::ServerUnaryReactor* CreateToken(
      grpc::CallbackServerContext* context,
      const v1::CreateTokenRequest* request,
      v1::CreateTokenResponse* response) override;
  grpc::ServerUnaryReactor* ListTokens(
      grpc::CallbackServerContext* context,
      const v1::ListTokensRequest* request,
      v1::ListTokensResponse* response) override;
  grpc::ServerUnaryReactor* RevokeToken(
      grpc::CallbackServerContext* context,
      const v1::RevokeTokenRequest* request,
      v1::RevokeTokenResponse* response) override;

  // Webhook endpoints (services/webhook_registry.h). Changes append and
  // wait for the fsync on the calling thread: rare, admin-only calls.
  grpc::ServerUnaryReactor* AddWebhook(
      grpc::CallbackServerContext* context,
      const v1::AddWebhookRequest* request,
      v1::AddWebhookResponse* response) override;
  grpc::ServerUnaryReactor* ListWebhooks(
      grpc::CallbackServerContext* context,
      const v1::ListWebhooksRequest* request,
      v1::ListWebhooksResponse* response) override;
  grpc::ServerUnaryReactor* GetWebhook(grpc::CallbackServerContext* context,
                                       const v1::GetWebhookRequest* request,
                                       v1::WebhookEndpoint* response) override;
  grpc::ServerUnaryReactor* PauseWebhook(
      grpc::CallbackServerContext* context,
      const v1::PauseWebhookRequest* request,
      v1::WebhookEndpoint* response) override;
  grpc::ServerUnaryReactor* ResumeWebhook(
      grpc::CallbackServerContext* context,
      const v1::ResumeWebhookRequest* request,
      v1::WebhookEndpoint* response) override;
  grpc::ServerUnaryReactor* RotateWebhookSecret(
      grpc::CallbackServerContext* context,
      const v1::RotateWebhookSecretRequest* request,
      v1::RotateWebhookSecretResponse* response) override;
  grpc::ServerUnaryReactor* ReplayWebhook(
      grpc::CallbackServerContext* context,
      const v1::ReplayWebhookRequest* request,
      v1::WebhookEndpoint* response) override;
  grpc::ServerUnaryReactor* RemoveWebhook(
      grpc::CallbackServerContext* context,
      const v1::RemoveWebhookRequest* request,
      v1::WebhookEndpoint* response) override;
  grpc::ServerUnaryReactor* Promote(grpc::CallbackServerContext* context,
                                    const v1::PromoteRequest* request,
                                    v1::PromoteResponse* response) override;

 private:
  eventstore::EventStore* const store_;
  const std::vector<projections::ProjectionRunner*> projections_;
  const SubscriptionHub* const subscriptions_;
  TokenRegistry* const tokens_;
  WebhookRegistry* const webhooks_;
  const Authorizer* const authorizer_;
  const audit::SigningKey* const signing_key_;
  const std::string data_dir_;
  // RedactEvent's logic (services/redactor.h); after projections_.
  const Redactor redactor_;
  std::function<v1::ReplicationStatus()> replication_state_;
  Promoter promoter_;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_ADMIN_SERVICE_H_
