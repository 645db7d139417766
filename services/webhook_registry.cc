#include "services/webhook_registry.h"

#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "domain/metadata_keys.h"
#include "domain/streams.h"
#include "domain/timestamps.h"
#include "logging/log.h"
#include "plantrail/stored/plan_events.pb.h"
#include "plantrail/stored/system_events.pb.h"
#include "services/event_store_proto.h"
#include "services/private_file.h"
#include "services/subscriptions.h"
#include "services/token_registry.h"
#include "webhooks/signature.h"

namespace plantrail::services {
namespace {

using domain::FromTimestamp;
using domain::ToTimestamp;

constexpr size_t kMaxReason = 200;
constexpr absl::Duration kDefaultOverlap = absl::Hours(24);
constexpr absl::Duration kLongestOverlap = absl::Hours(24 * 7);

std::string CursorOf(absl::string_view endpoint_id, uint32_t generation) {
  return absl::StrCat("webhook:", endpoint_id, ":", generation);
}

absl::Status CheckText(absl::string_view field, absl::string_view text,
                       bool required) {
  if (required && text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": required [rule: webhook-reason]"));
  }
  if (text.size() > kMaxReason) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", text.size(), " bytes, at most ", kMaxReason,
                     " [rule: webhook-text]"));
  }
  return absl::OkStatus();
}

// The event types a plan stream holds: the messages of PlanEvent's oneof.
absl::Status CheckEventTypes(
    const google::protobuf::RepeatedPtrField<std::string>& types) {
  const google::protobuf::Descriptor* plan_event =
      stored::PlanEvent::descriptor();
  for (int i = 0; i < types.size(); ++i) {
    bool known = false;
    std::vector<std::string> names;
    for (int f = 0; f < plan_event->field_count(); ++f) {
      const google::protobuf::FieldDescriptor* field = plan_event->field(f);
      if (field->message_type() == nullptr) continue;
      names.push_back(field->message_type()->name());
      known = known || field->message_type()->name() == types[i];
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "event_types[", i, "]: \"", types[i],
          "\" is not an event type of a plan (one of ",
          absl::StrJoin(names, ", "), ") [rule: webhook-event-types]"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RandomId() {
  PLANTRAIL_ASSIGN_OR_RETURN(std::string key,
                             webhooks::SecretBox::GenerateKey());
  return absl::StrCat("wh-", absl::BytesToHexString(key.substr(0, 6)));
}

}  // namespace

absl::StatusOr<webhooks::SecretBox> OpenWebhookKey(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    const std::string hex(absl::StripAsciiWhitespace(text.str()));
    if (hex.size() != 2 * webhooks::SecretBox::kKeyBytes ||
        !std::all_of(hex.begin(), hex.end(), absl::ascii_isxdigit)) {
      return absl::FailedPreconditionError(
          absl::StrCat("webhook key file ", path, ": must hold ",
                       2 * webhooks::SecretBox::kKeyBytes,
                       " hex digits [rule: webhook-key-file]"));
    }
    return webhooks::SecretBox::FromKey(absl::HexStringToBytes(hex));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(std::string key,
                             webhooks::SecretBox::GenerateKey());
  PLANTRAIL_RETURN_IF_ERROR(
      WritePrivateFile(path, absl::StrCat(absl::BytesToHexString(key), "\n")));
  return webhooks::SecretBox::FromKey(key);
}

absl::StatusOr<std::unique_ptr<WebhookRegistry>> WebhookRegistry::Open(
    eventstore::EventStore* log, webhooks::SecretBox box,
    webhooks::AddressPolicy addresses,
    webhook_delivery::Dispatcher* dispatcher) {
  std::unique_ptr<WebhookRegistry> registry(
      new WebhookRegistry(log, std::move(box), addresses, dispatcher));
  PLANTRAIL_RETURN_IF_ERROR(registry->CatchUp());
  return registry;
}

void WebhookRegistry::StartDelivery(webhook_delivery::Dispatcher* dispatcher) {
  MutexLock lock(&mu_);
  dispatcher_ = dispatcher;
  for (const auto& [id, endpoint] : endpoints_) {
    if (endpoint.info.state() != v1::WEBHOOK_REMOVED) Configure(endpoint);
  }
}

absl::Status WebhookRegistry::CatchUp() {
  MutexLock lock(&mu_);
  std::set<const Endpoint*> changed;
  PLANTRAIL_ASSIGN_OR_RETURN(
      read_version_,
      ReadSecurityStream(*log_, read_version_,
                         [&](const eventstore::RecordedEvent& event)
                             ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                               if (const Endpoint* endpoint = Apply(event)) {
                                 changed.insert(endpoint);
                               }
                             }));
  for (const Endpoint* endpoint : changed) {
    if (endpoint->info.state() == v1::WEBHOOK_REMOVED) {
      if (dispatcher_ != nullptr) {
        dispatcher_->Remove(endpoint->info.endpoint_id());
      }
    } else {
      Configure(*endpoint);
    }
  }
  return absl::OkStatus();
}

const WebhookRegistry::Endpoint* WebhookRegistry::Apply(
    const eventstore::RecordedEvent& event) {
  if (event.position <= folded_position_) return nullptr;
  folded_position_ = event.position;
  auto actor_it = event.metadata.find(domain::kActorKey);
  const std::string actor =
      actor_it == event.metadata.end() ? "" : actor_it->second;
  const google::protobuf::Timestamp at = ToTimestamp(event.recorded_at);
  if (event.type == "WebhookAdded") {
    stored::WebhookAdded added;
    if (!added.ParseFromString(event.payload)) return nullptr;
    Endpoint& endpoint = endpoints_[added.endpoint_id()];
    v1::WebhookEndpoint& info = endpoint.info;
    info.set_endpoint_id(added.endpoint_id());
    info.set_url(added.url());
    info.set_description(added.description());
    *info.mutable_plans() = added.plans();
    *info.mutable_support_areas() = added.support_areas();
    *info.mutable_event_types() = added.event_types();
    info.set_pause_when_failing(added.pause_when_failing());
    info.set_state(v1::WEBHOOK_ACTIVE);
    *info.mutable_created_at() = at;
    info.set_created_by(actor);
    endpoint.sealed_secret = added.sealed_secret();
    endpoint.after_position = added.after_position();
    return &endpoint;
  }
  // The other events name an endpoint added before them; one they do not
  // find (or an event that does not parse) changes nothing.
  auto named = [this](const std::string& endpoint_id)
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                     auto it = endpoints_.find(endpoint_id);
                     return it == endpoints_.end()
                                ? static_cast<Endpoint*>(nullptr)
                                : &it->second;
                   };
  Endpoint* changed = nullptr;
  if (event.type == "WebhookPaused") {
    stored::WebhookPaused paused;
    Endpoint* endpoint = paused.ParseFromString(event.payload)
                             ? named(paused.endpoint_id())
                             : nullptr;
    if (endpoint == nullptr) return nullptr;
    changed = endpoint;
    v1::WebhookEndpoint& info = endpoint->info;
    info.set_state(v1::WEBHOOK_PAUSED);
    info.set_paused_reason(paused.reason());
    *info.mutable_paused_at() = at;
    info.set_paused_by(actor);
  } else if (event.type == "WebhookResumed") {
    stored::WebhookResumed resumed;
    Endpoint* endpoint = resumed.ParseFromString(event.payload)
                             ? named(resumed.endpoint_id())
                             : nullptr;
    if (endpoint == nullptr) return nullptr;
    changed = endpoint;
    v1::WebhookEndpoint& info = endpoint->info;
    info.set_state(v1::WEBHOOK_ACTIVE);
    info.clear_paused_reason();
    info.clear_paused_at();
    info.clear_paused_by();
  } else if (event.type == "WebhookSecretRotated") {
    stored::WebhookSecretRotated rotated;
    Endpoint* endpoint = rotated.ParseFromString(event.payload)
                             ? named(rotated.endpoint_id())
                             : nullptr;
    if (endpoint == nullptr) return nullptr;
    changed = endpoint;
    endpoint->previous_sealed_secret = endpoint->sealed_secret;
    endpoint->sealed_secret = rotated.sealed_secret();
    endpoint->previous_until = FromTimestamp(rotated.previous_until());
  } else if (event.type == "WebhookReplayed") {
    stored::WebhookReplayed replayed;
    Endpoint* endpoint = replayed.ParseFromString(event.payload)
                             ? named(replayed.endpoint_id())
                             : nullptr;
    if (endpoint == nullptr) return nullptr;
    changed = endpoint;
    ++endpoint->generation;
    endpoint->after_position = replayed.after_position();
    endpoint->info.set_replays(endpoint->generation);
  } else if (event.type == "WebhookRemoved") {
    stored::WebhookRemoved removed;
    Endpoint* endpoint = removed.ParseFromString(event.payload)
                             ? named(removed.endpoint_id())
                             : nullptr;
    if (endpoint == nullptr) return nullptr;
    changed = endpoint;
    endpoint->info.set_state(v1::WEBHOOK_REMOVED);
    *endpoint->info.mutable_removed_at() = at;
    endpoint->info.set_removed_by(actor);
  }
  // Other types (tokens', or a newer version's) are not ours.
  return changed;
}

absl::Status WebhookRegistry::Record(const std::string& by,
                                     const std::string& id,
                                     const google::protobuf::Message& event) {
  eventstore::AppendRequest append{.stream_id = kSecurityStream};
  append.events.push_back(SystemEvent(event, by));
  PLANTRAIL_ASSIGN_OR_RETURN(eventstore::AppendResult result,
                             log_->Append(std::move(append)));
  eventstore::RecordedEvent recorded;
  recorded.type = event.GetDescriptor()->name();
  event.SerializeToString(&recorded.payload);
  recorded.metadata[domain::kActorKey] = by;
  recorded.recorded_at = absl::Now();
  recorded.position = result.last_position;
  Apply(recorded);
  const Endpoint& endpoint = endpoints_.at(id);
  if (endpoint.info.state() == v1::WEBHOOK_REMOVED) {
    if (dispatcher_ != nullptr) dispatcher_->Remove(id);
  } else {
    Configure(endpoint);
  }
  logging::Info("webhook endpoint changed",
                {{"endpoint", id}, {"change", recorded.type}, {"by", by}});
  return absl::OkStatus();
}

void WebhookRegistry::Configure(const Endpoint& endpoint) {
  if (dispatcher_ == nullptr) return;
  const v1::WebhookEndpoint& info = endpoint.info;
  webhook_delivery::EndpointConfig config{
      .endpoint_id = info.endpoint_id(),
      .url = info.url(),
      .filter = {.support_areas = {info.support_areas().begin(),
                                   info.support_areas().end()},
                 .plans = {info.plans().begin(), info.plans().end()}},
      .cursor = CursorOf(info.endpoint_id(), endpoint.generation),
      .after_position = endpoint.after_position,
      .paused = info.state() == v1::WEBHOOK_PAUSED,
      .pause_when_failing = info.pause_when_failing(),
  };
  config.filter.event_types = {info.event_types().begin(),
                               info.event_types().end()};
  auto key_of = [&](const std::string& sealed) -> absl::StatusOr<std::string> {
    PLANTRAIL_ASSIGN_OR_RETURN(std::string secret,
                               box_.Open(sealed, info.endpoint_id()));
    return webhooks::SecretKey("secret", secret);
  };
  absl::StatusOr<std::string> key = key_of(endpoint.sealed_secret);
  if (!key.ok()) {
    // The key file is not the one that sealed it: nothing can be signed.
    logging::Error(
        "webhook endpoint's secret does not open with this "
        "server's webhook key; not delivering",
        {{"endpoint", info.endpoint_id()}, {"error", key.status().ToString()}});
    config.paused = true;
    dispatcher_->Configure(std::move(config));
    return;
  }
  config.keys.push_back({.key = *std::move(key)});
  if (!endpoint.previous_sealed_secret.empty() &&
      endpoint.previous_until > absl::Now()) {
    absl::StatusOr<std::string> previous =
        key_of(endpoint.previous_sealed_secret);
    if (previous.ok()) {
      config.keys.push_back(
          {.key = *std::move(previous), .until = endpoint.previous_until});
    }
  }
  dispatcher_->Configure(std::move(config));
}

v1::WebhookEndpoint WebhookRegistry::InfoOf(const Endpoint& endpoint) const {
  v1::WebhookEndpoint info = endpoint.info;
  if (endpoint.previous_until > absl::Now()) {
    *info.mutable_previous_secret_until() =
        ToTimestamp(endpoint.previous_until);
  }
  info.set_head_position(log_->HeadPosition());
  info.set_delivered_position(endpoint.after_position);
  if (info.state() == v1::WEBHOOK_REMOVED || dispatcher_ == nullptr) {
    return info;
  }
  std::optional<webhook_delivery::EndpointStatus> status =
      dispatcher_->Status(info.endpoint_id());
  if (!status) return info;
  const absl::Time now = absl::Now();
  // A worker that has not begun yet reports 0.
  info.set_delivered_position(
      std::max(status->delivered_position, endpoint.after_position));
  info.set_delivered(status->delivered);
  info.set_failed(status->failed);
  info.set_retries(status->retries);
  info.set_last_error(status->last_error);
  if (status->last_error_at != absl::InfinitePast()) {
    *info.mutable_last_error_at() = ToTimestamp(status->last_error_at);
  }
  if (status->retrying()) {
    *info.mutable_failing_since() = ToTimestamp(status->failing_since);
  }
  if (status->failing && info.state() == v1::WEBHOOK_ACTIVE) {
    info.set_state(v1::WEBHOOK_FAILING);
  }
  if (status->next_attempt_at != absl::InfinitePast()) {
    *info.mutable_next_attempt_at() = ToTimestamp(status->next_attempt_at);
  }
  if (status->last_delivered_at != absl::InfinitePast()) {
    *info.mutable_last_delivered_at() = ToTimestamp(status->last_delivered_at);
  }
  if (status->oldest_undelivered_at != absl::InfinitePast()) {
    info.set_lag_seconds(absl::ToDoubleSeconds(
        std::max(absl::ZeroDuration(), now - status->oldest_undelivered_at)));
  }
  info.set_lag_events(info.head_position() > info.delivered_position()
                          ? info.head_position() - info.delivered_position()
                          : 0);
  return info;
}

absl::StatusOr<const WebhookRegistry::Endpoint*> WebhookRegistry::Find(
    absl::string_view endpoint_id, bool live) const {
  auto it = endpoints_.find(endpoint_id);
  if (it == endpoints_.end()) {
    return absl::NotFoundError(
        absl::StrCat("endpoint_id: no webhook endpoint \"", endpoint_id,
                     "\" [rule: webhook-exists]"));
  }
  if (live && it->second.info.state() == v1::WEBHOOK_REMOVED) {
    return absl::FailedPreconditionError(
        absl::StrCat("endpoint_id: ", endpoint_id,
                     " was removed [rule: webhook-removed-is-final]"));
  }
  return &it->second;
}

absl::StatusOr<v1::AddWebhookResponse> WebhookRegistry::Add(
    const Principal& by, const v1::AddWebhookRequest& request) {
  PLANTRAIL_ASSIGN_OR_RETURN(webhooks::EndpointUrl url,
                             webhooks::ParseEndpointUrl("url", request.url()));
  PLANTRAIL_RETURN_IF_ERROR(webhooks::CheckScheme("url", url, addresses_));
  absl::StatusOr<std::string> address =
      webhooks::ResolvePermitted("url", url, addresses_);
  // A host that does not resolve yet is the receiver's to fix; one that
  // resolves where the server may not go is refused now.
  if (absl::IsPermissionDenied(address.status()) ||
      absl::IsInvalidArgument(address.status())) {
    return address.status();
  }
  if (request.plans().empty()) {
    return absl::InvalidArgumentError(
        "plans: at least one plan whose events the endpoint gets "
        "[rule: webhook-plans]");
  }
  for (int i = 0; i < request.plans_size(); ++i) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        uint64_t version, log_->StreamVersion(absl::StrCat(
                              domain::kPlanStreamPrefix, request.plans(i))));
    if (version == 0) {
      return absl::NotFoundError(absl::StrCat("plans[", i, "]: no plan \"",
                                              request.plans(i),
                                              "\" [rule: plan-exists]"));
    }
  }
  v1::SubscriptionFilter filter;
  *filter.mutable_plans() = request.plans();
  *filter.mutable_support_areas() = request.support_areas();
  *filter.mutable_event_types() = request.event_types();
  PLANTRAIL_RETURN_IF_ERROR(CheckSubscriptionFilter(filter));
  PLANTRAIL_RETURN_IF_ERROR(CheckEventTypes(request.event_types()));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckText("description", request.description(), false));
  const uint64_t head = log_->HeadPosition();
  if (request.has_after_position() && request.after_position() > head) {
    return absl::InvalidArgumentError(
        absl::StrCat("after_position: ", request.after_position(),
                     " is beyond the log's head (", head, ")"));
  }

  MutexLock lock(&mu_);
  size_t live = 0;
  for (const auto& [id, endpoint] : endpoints_) {
    live += endpoint.info.state() != v1::WEBHOOK_REMOVED;
  }
  if (live >= kMaxWebhooks) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a server delivers to at most ", kMaxWebhooks,
                     " webhook endpoints; remove one first [rule: "
                     "webhook-limit]"));
  }
  std::string id;
  do {
    PLANTRAIL_ASSIGN_OR_RETURN(id, RandomId());
  } while (endpoints_.contains(id));
  PLANTRAIL_ASSIGN_OR_RETURN(std::string secret, webhooks::GenerateSecret());
  stored::WebhookAdded added;
  added.set_endpoint_id(id);
  added.set_url(request.url());
  added.set_description(request.description());
  *added.mutable_plans() = request.plans();
  *added.mutable_support_areas() = request.support_areas();
  *added.mutable_event_types() = request.event_types();
  PLANTRAIL_ASSIGN_OR_RETURN(*added.mutable_sealed_secret(),
                             box_.Seal(secret, id));
  added.set_secret_key_id(box_.key_id());
  added.set_after_position(request.has_after_position()
                               ? request.after_position()
                               : log_->HeadPosition());
  added.set_pause_when_failing(request.pause_when_failing());
  PLANTRAIL_RETURN_IF_ERROR(Record(by.name, added.endpoint_id(), added));
  v1::AddWebhookResponse response;
  response.set_secret(secret);
  *response.mutable_endpoint() = InfoOf(endpoints_.at(id));
  return response;
}

v1::ListWebhooksResponse WebhookRegistry::List(
    const v1::ListWebhooksRequest& request) const {
  MutexLock lock(&mu_);
  v1::ListWebhooksResponse response;
  for (const auto& [id, endpoint] : endpoints_) {
    if (endpoint.info.state() == v1::WEBHOOK_REMOVED &&
        !request.include_removed()) {
      continue;
    }
    *response.add_endpoints() = InfoOf(endpoint);
  }
  return response;
}

std::vector<v1::WebhookEndpoint> WebhookRegistry::Live() const {
  v1::ListWebhooksResponse all = List({});
  return {all.endpoints().begin(), all.endpoints().end()};
}

absl::StatusOr<v1::WebhookEndpoint> WebhookRegistry::Get(
    absl::string_view endpoint_id) const {
  MutexLock lock(&mu_);
  PLANTRAIL_ASSIGN_OR_RETURN(const Endpoint* endpoint,
                             Find(endpoint_id, false));
  return InfoOf(*endpoint);
}

absl::StatusOr<v1::WebhookEndpoint> WebhookRegistry::Pause(
    const Principal& by, const v1::PauseWebhookRequest& request) {
  PLANTRAIL_RETURN_IF_ERROR(CheckText("reason", request.reason(), true));
  MutexLock lock(&mu_);
  PLANTRAIL_ASSIGN_OR_RETURN(const Endpoint* endpoint,
                             Find(request.endpoint_id(), true));
  if (endpoint->info.state() == v1::WEBHOOK_PAUSED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "endpoint_id: ", request.endpoint_id(), " is paused already (by ",
        endpoint->info.paused_by(), ": ", endpoint->info.paused_reason(),
        ") [rule: webhook-pause-once]"));
  }
  stored::WebhookPaused paused;
  paused.set_endpoint_id(request.endpoint_id());
  paused.set_reason(request.reason());
  PLANTRAIL_RETURN_IF_ERROR(Record(by.name, paused.endpoint_id(), paused));
  return InfoOf(*endpoint);
}

void WebhookRegistry::PauseFailing(const std::string& endpoint_id,
                                   const std::string& reason) {
  MutexLock lock(&mu_);
  absl::StatusOr<const Endpoint*> endpoint = Find(endpoint_id, true);
  if (!endpoint.ok() || (*endpoint)->info.state() != v1::WEBHOOK_ACTIVE) {
    return;
  }
  stored::WebhookPaused paused;
  paused.set_endpoint_id(endpoint_id);
  paused.set_reason(reason.substr(0, kMaxReason));
  absl::Status recorded = Record(kServerActor, paused.endpoint_id(), paused);
  if (!recorded.ok()) {
    logging::Error("cannot record a failing webhook endpoint's pause",
                   {{"endpoint", endpoint_id}, {"error", recorded.ToString()}});
  }
}

absl::StatusOr<v1::WebhookEndpoint> WebhookRegistry::Resume(
    const Principal& by, const v1::ResumeWebhookRequest& request) {
  MutexLock lock(&mu_);
  PLANTRAIL_ASSIGN_OR_RETURN(const Endpoint* endpoint,
                             Find(request.endpoint_id(), true));
  if (endpoint->info.state() != v1::WEBHOOK_PAUSED) {
    return absl::FailedPreconditionError(
        absl::StrCat("endpoint_id: ", request.endpoint_id(),
                     " is not paused [rule: webhook-resume-paused]"));
  }
  stored::WebhookResumed resumed;
  resumed.set_endpoint_id(request.endpoint_id());
  PLANTRAIL_RETURN_IF_ERROR(Record(by.name, resumed.endpoint_id(), resumed));
  return InfoOf(*endpoint);
}

absl::StatusOr<v1::RotateWebhookSecretResponse> WebhookRegistry::RotateSecret(
    const Principal& by, const v1::RotateWebhookSecretRequest& request) {
  const absl::Duration overlap = request.overlap_seconds() == 0
                                     ? kDefaultOverlap
                                     : absl::Seconds(request.overlap_seconds());
  if (overlap > kLongestOverlap) {
    return absl::InvalidArgumentError(
        absl::StrCat("overlap_seconds: ", request.overlap_seconds(),
                     ", at most ", absl::ToInt64Seconds(kLongestOverlap),
                     " (7 days) [rule: webhook-overlap]"));
  }
  MutexLock lock(&mu_);
  PLANTRAIL_ASSIGN_OR_RETURN(const Endpoint* endpoint,
                             Find(request.endpoint_id(), true));
  PLANTRAIL_ASSIGN_OR_RETURN(std::string secret, webhooks::GenerateSecret());
  stored::WebhookSecretRotated rotated;
  rotated.set_endpoint_id(request.endpoint_id());
  PLANTRAIL_ASSIGN_OR_RETURN(*rotated.mutable_sealed_secret(),
                             box_.Seal(secret, request.endpoint_id()));
  rotated.set_secret_key_id(box_.key_id());
  *rotated.mutable_previous_until() = ToTimestamp(absl::Now() + overlap);
  PLANTRAIL_RETURN_IF_ERROR(Record(by.name, rotated.endpoint_id(), rotated));
  v1::RotateWebhookSecretResponse response;
  response.set_secret(secret);
  *response.mutable_endpoint() = InfoOf(*endpoint);
  return response;
}

absl::StatusOr<v1::WebhookEndpoint> WebhookRegistry::Replay(
    const Principal& by, const v1::ReplayWebhookRequest& request) {
  const uint64_t head = log_->HeadPosition();
  if (request.from_position() < 1 || request.from_position() > head + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("from_position: ", request.from_position(),
                     " must be 1 to the log's head + 1 (", head + 1, ")"));
  }
  MutexLock lock(&mu_);
  PLANTRAIL_ASSIGN_OR_RETURN(const Endpoint* endpoint,
                             Find(request.endpoint_id(), true));
  stored::WebhookReplayed replayed;
  replayed.set_endpoint_id(request.endpoint_id());
  replayed.set_after_position(request.from_position() - 1);
  PLANTRAIL_RETURN_IF_ERROR(Record(by.name, replayed.endpoint_id(), replayed));
  return InfoOf(*endpoint);
}

absl::StatusOr<v1::WebhookEndpoint> WebhookRegistry::Remove(
    const Principal& by, const v1::RemoveWebhookRequest& request) {
  PLANTRAIL_RETURN_IF_ERROR(CheckText("reason", request.reason(), true));
  MutexLock lock(&mu_);
  PLANTRAIL_ASSIGN_OR_RETURN(const Endpoint* endpoint,
                             Find(request.endpoint_id(), true));
  stored::WebhookRemoved removed;
  removed.set_endpoint_id(request.endpoint_id());
  removed.set_reason(request.reason());
  PLANTRAIL_RETURN_IF_ERROR(Record(by.name, removed.endpoint_id(), removed));
  return InfoOf(*endpoint);
}

}  // namespace plantrail::services
