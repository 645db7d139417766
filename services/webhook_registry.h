// Webhook endpoints: added and changed as events of the system stream
// `plantrail-security` (where plan data leaves the server, and who said so,
// is in the log like a token's grant), folded into memory at start and
// handed to the dispatcher, which delivers. The signing secret exists in
// plain once, in the answer to its creation (or rotation); the log keeps it
// sealed with the server's webhook key (webhooks/secret_box.h).
//
// Every change is validated, appended and applied under one lock, so two
// admins changing one endpoint at once see one after the other.
//
// Thread safety: every method may be called from any thread.
#ifndef PLANTRAIL_SERVICES_WEBHOOK_REGISTRY_H_
#define PLANTRAIL_SERVICES_WEBHOOK_REGISTRY_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "eventstore/event_store.h"
#include "plantrail/v1/webhooks.pb.h"
#include "services/principal.h"
#include "services/security_stream.h"
#include "webhook_delivery/dispatcher.h"
#include "webhooks/endpoint_url.h"
#include "webhooks/secret_box.h"

namespace plantrail::services {

// Live (not removed) endpoints a server delivers to at most: each has a
// thread.
inline constexpr size_t kMaxWebhooks = 100;
// The actor of what the server records by itself (an endpoint pausing
// itself).
inline constexpr char kServerActor[] = "plantraild";

// The webhook key in `path`: 64 hex digits, created (0600) when missing.
absl::StatusOr<webhooks::SecretBox> OpenWebhookKey(const std::string& path);

class WebhookRegistry {
 public:
  // Folds the webhook events of the security stream of `log` and hands
  // every live endpoint to `dispatcher`; both must outlive the registry.
  static absl::StatusOr<std::unique_ptr<WebhookRegistry>> Open(
      eventstore::EventStore* log, webhooks::SecretBox box,
      webhooks::AddressPolicy addresses,
      webhook_delivery::Dispatcher* dispatcher);

  absl::StatusOr<v1::AddWebhookResponse> Add(
      const Principal& by, const v1::AddWebhookRequest& request);
  v1::ListWebhooksResponse List(const v1::ListWebhooksRequest& request) const;
  absl::StatusOr<v1::WebhookEndpoint> Get(absl::string_view endpoint_id) const;
  absl::StatusOr<v1::WebhookEndpoint> Pause(
      const Principal& by, const v1::PauseWebhookRequest& request);
  absl::StatusOr<v1::WebhookEndpoint> Resume(
      const Principal& by, const v1::ResumeWebhookRequest& request);
  absl::StatusOr<v1::RotateWebhookSecretResponse> RotateSecret(
      const Principal& by, const v1::RotateWebhookSecretRequest& request);
  absl::StatusOr<v1::WebhookEndpoint> Replay(
      const Principal& by, const v1::ReplayWebhookRequest& request);
  absl::StatusOr<v1::WebhookEndpoint> Remove(
      const Principal& by, const v1::RemoveWebhookRequest& request);

  // The dispatcher's report that an endpoint added with pause_when_failing
  // kept failing: recorded as a pause by the server. Not blocking the
  // caller on anything but the append.
  void PauseFailing(const std::string& endpoint_id, const std::string& reason);

  // Every live endpoint with its delivery status, for the metrics.
  std::vector<v1::WebhookEndpoint> Live() const;

  // Hands every live endpoint to `dispatcher` (which must outlive the
  // registry) and every change from now on: a replica delivers nothing
  // until it is promoted. Once.
  void StartDelivery(webhook_delivery::Dispatcher* dispatcher);

  // Folds what the security stream holds beyond what the registry has
  // folded (a replica's log grows by replication), handing changed
  // endpoints to the dispatcher; events folded already are skipped.
  absl::Status CatchUp();

 private:
  struct Endpoint {
    v1::WebhookEndpoint info;
    std::string sealed_secret;
    std::string previous_sealed_secret;
    absl::Time previous_until = absl::InfinitePast();
    uint32_t generation = 0;
    uint64_t after_position = 0;
  };

  WebhookRegistry(eventstore::EventStore* log, webhooks::SecretBox box,
                  webhooks::AddressPolicy addresses,
                  webhook_delivery::Dispatcher* dispatcher)
      : log_(log),
        box_(std::move(box)),
        addresses_(addresses),
        dispatcher_(dispatcher) {}

  // Folds one event of the security stream (others' types are passed);
  // the endpoint it changed, if any.
  const Endpoint* Apply(const eventstore::RecordedEvent& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends `event` (a Webhook* message of endpoint `id`) as `by`, then
  // applies it and tells the dispatcher.
  absl::Status Record(const std::string& by, const std::string& id,
                      const google::protobuf::Message& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // NOT_FOUND [rule: webhook-exists]; with `live`, FAILED_PRECONDITION
  // for a removed one [rule: webhook-removed-is-final].
  absl::StatusOr<const Endpoint*> Find(absl::string_view endpoint_id,
                                       bool live) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands the endpoint's configuration to the dispatcher.
  void Configure(const Endpoint& endpoint) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::WebhookEndpoint InfoOf(const Endpoint& endpoint) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  eventstore::EventStore* const log_;
  const webhooks::SecretBox box_;
  const webhooks::AddressPolicy addresses_;
  webhook_delivery::Dispatcher* dispatcher_ ABSL_GUARDED_BY(mu_);

  mutable Mutex mu_;
  std::map<std::string, Endpoint, std::less<>> endpoints_ ABSL_GUARDED_BY(mu_);
  // The log position of the last event folded, and the stream version
  // CatchUp reads from next.
  uint64_t folded_position_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t read_version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_WEBHOOK_REGISTRY_H_
