// Webhook endpoints: recorded in the security stream, folded back after a
// restart (also from bytes an older server wrote), their secrets only
// sealed, and every change refused with its rule when the endpoint's state
// does not allow it.
#include "services/webhook_registry.h"

#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "domain/metadata_keys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plantrail/stored/system_events.pb.h"
#include "services/event_store_proto.h"
#include "services/token_registry.h"
#include "tests/temp_dir.h"
#include "webhooks/signature.h"

namespace plantrail::services {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A fixed key, so that bytes sealed once stay openable in this test.
const std::string kKey(32, '\x01');

class WebhookRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Open();
    eventstore::AppendRequest plan{.stream_id = "plan-kth"};
    plan.events.push_back({.type = "PlanRegistered", .payload = "\x0a\x03kth"});
    ASSERT_TRUE(log_->Append(std::move(plan)).ok());
  }

  void Open() {
    registry_.reset();
    log_.reset();
    auto log = eventstore::EventStore::Open(
        {.path = dir_ / "log", .durability = eventstore::Durability::kNoSync});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    auto box = webhooks::SecretBox::FromKey(kKey);
    ASSERT_TRUE(box.ok());
    auto registry = WebhookRegistry::Open(log_.get(), *box,
                                          {.allow_loopback = true}, nullptr);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
  }

  v1::AddWebhookResponse Add() {
    v1::AddWebhookRequest request;
    request.set_url("http://127.0.0.1:9/hook");
    request.add_plans("kth");
    request.add_support_areas("3.1");
    request.add_event_types("StatusReported");
    request.set_description("the ticket system");
    auto added = registry_->Add(admin_, request);
    EXPECT_TRUE(added.ok()) << added.status();
    return added.ok() ? *added : v1::AddWebhookResponse();
  }

  // Every payload of the security stream, concatenated.
  std::string SecurityStreamBytes() {
    auto page = log_->ReadStream({.stream_id = kSecurityStream});
    EXPECT_TRUE(page.ok()) << page.status();
    std::string all;
    for (const auto& event : page->events) all += event.payload;
    return all;
  }

  testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> log_;
  std::unique_ptr<WebhookRegistry> registry_;
  const Principal admin_{.name = "anna", .roles = {v1::ROLE_ADMIN}};
};

TEST_F(WebhookRegistryTest,
       AnEndpointFoldsBackAfterARestartItsSecretOnlySealed) {
  const v1::AddWebhookResponse added = Add();
  EXPECT_TRUE(absl::StartsWith(added.secret(), "whsec_"));
  const std::string id = added.endpoint().endpoint_id();
  EXPECT_EQ(added.endpoint().state(), v1::WEBHOOK_ACTIVE);
  // Only new events: the head when it was added.
  EXPECT_EQ(added.endpoint().delivered_position(), 1u);

  const std::string stored = SecurityStreamBytes();
  EXPECT_THAT(stored, Not(HasSubstr(added.secret())));
  EXPECT_THAT(stored,
              Not(HasSubstr(*webhooks::SecretKey("secret", added.secret()))));

  Open();
  auto shown = registry_->Get(id);
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->url(), "http://127.0.0.1:9/hook");
  EXPECT_THAT(shown->plans(), ::testing::ElementsAre("kth"));
  EXPECT_THAT(shown->support_areas(), ::testing::ElementsAre("3.1"));
  EXPECT_THAT(shown->event_types(), ::testing::ElementsAre("StatusReported"));
  EXPECT_EQ(shown->created_by(), "anna");
  EXPECT_EQ(shown->description(), "the ticket system");
}

TEST_F(WebhookRegistryTest, EveryChangeTheStateDoesNotAllowIsRefusedByRule) {
  const std::string id = Add().endpoint().endpoint_id();
  auto status_of = [](const auto& result) { return result.status(); };

  v1::ResumeWebhookRequest resume;
  resume.set_endpoint_id(id);
  absl::Status refused = status_of(registry_->Resume(admin_, resume));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("[rule: webhook-resume-paused]"));

  v1::PauseWebhookRequest pause;
  pause.set_endpoint_id(id);
  refused = status_of(registry_->Pause(admin_, pause));
  EXPECT_TRUE(absl::IsInvalidArgument(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("reason"));
  pause.set_reason("the receiver moves");
  auto paused = registry_->Pause(admin_, pause);
  ASSERT_TRUE(paused.ok()) << paused.status();
  EXPECT_EQ(paused->state(), v1::WEBHOOK_PAUSED);
  EXPECT_EQ(paused->paused_by(), "anna");
  refused = status_of(registry_->Pause(admin_, pause));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("[rule: webhook-pause-once]"));

  v1::ReplayWebhookRequest replay;
  replay.set_endpoint_id(id);
  refused = status_of(registry_->Replay(admin_, replay));
  EXPECT_TRUE(absl::IsInvalidArgument(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("from_position"));

  v1::RotateWebhookSecretRequest rotate;
  rotate.set_endpoint_id(id);
  rotate.set_overlap_seconds(8 * 24 * 3600);
  refused = status_of(registry_->RotateSecret(admin_, rotate));
  EXPECT_THAT(refused.message(), HasSubstr("[rule: webhook-overlap]"));

  v1::RemoveWebhookRequest remove;
  remove.set_endpoint_id(id);
  remove.set_reason("retired");
  ASSERT_TRUE(registry_->Remove(admin_, remove).ok());
  refused = status_of(registry_->Resume(admin_, resume));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("[rule: webhook-removed-is-final]"));
  EXPECT_EQ(registry_->List({}).endpoints_size(), 0);
  v1::ListWebhooksRequest all;
  all.set_include_removed(true);
  EXPECT_EQ(registry_->List(all).endpoints_size(), 1);

  refused = registry_->Get("wh-000000000000").status();
  EXPECT_TRUE(absl::IsNotFound(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("[rule: webhook-exists]"));
}

TEST_F(WebhookRegistryTest, AddRefusesWhatItCannotDeliverSafely) {
  v1::AddWebhookRequest request;
  request.add_plans("kth");
  struct Case {
    std::string url;
    absl::StatusCode code;
    std::string rule;
  };
  for (const Case& c : {
           Case{"https://10.0.0.7/hook", absl::StatusCode::kPermissionDenied,
                "[rule: webhook-address]"},
           Case{"https://169.254.169.254/", absl::StatusCode::kPermissionDenied,
                "[rule: webhook-address]"},
           Case{"http://10.0.0.7/hook", absl::StatusCode::kInvalidArgument,
                "[rule: webhook-https]"},
           Case{"https://user:pw@127.0.0.1/",
                absl::StatusCode::kInvalidArgument, "[rule: webhook-url]"},
       }) {
    request.set_url(c.url);
    absl::Status refused = registry_->Add(admin_, request).status();
    EXPECT_EQ(refused.code(), c.code) << c.url << ": " << refused;
    EXPECT_THAT(refused.message(), HasSubstr(c.rule)) << c.url;
  }
  request.set_url("http://127.0.0.1:9/");
  request.clear_plans();
  EXPECT_THAT(registry_->Add(admin_, request).status().message(),
              HasSubstr("[rule: webhook-plans]"));
  request.add_plans("nope");
  EXPECT_TRUE(absl::IsNotFound(registry_->Add(admin_, request).status()));
}

// Bytes as a server wrote them: an endpoint added (its secret sealed under
// kKey with AES-256-GCM: nonce, ciphertext, tag; the endpoint id as
// additional data), paused by the server itself, replayed from position 5.
// Folded the same, and the secret opens, whatever reads them now.
TEST_F(WebhookRegistryTest, StoredWebhookBytesStillFoldToTheSameEndpoint) {
  const std::string id = "wh-0a1b2c3d4e5f";
  const std::string added = absl::HexStringToBytes(
      "0a0f77682d306131623263336434653566122368747470733a2f2f686f6f6b732e65"
      "78616d706c652e6f72672f706c616e747261696c1a077469636b65747322036b7468"
      "2a03332e31320e5374617475735265706f727465643a42000102030405060708090a"
      "0bcccee64343a14b1fb53bdeb6182e83fadfb43f7d9fc41544498374d0fbce52801e"
      "b296c522b433ec9e7bd4b92807ea96cb3fd3cf504d42017848025001");
  const std::string paused = absl::HexStringToBytes(
      "0a0f77682d30613162326333643465356612226661696c696e672073696e63652032"
      "3032362d31322d30373a204854545020353030");
  const std::string replayed =
      absl::HexStringToBytes("0a0f77682d3061316232633364346535661004");
  eventstore::AppendRequest append{.stream_id = kSecurityStream};
  for (const auto& [type, payload, actor] :
       {std::tuple<std::string, std::string, std::string>{"WebhookAdded", added,
                                                          "anna"},
        {"WebhookPaused", paused, kServerActor},
        {"WebhookReplayed", replayed, "anna"}}) {
    eventstore::ProposedEvent event{.type = type, .payload = payload};
    event.metadata[domain::kActorKey] = actor;
    append.events.push_back(std::move(event));
  }
  ASSERT_TRUE(log_->Append(std::move(append)).ok());
  Open();

  auto shown = registry_->Get(id);
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->url(), "https://hooks.example.org/plantrail");
  EXPECT_EQ(shown->description(), "tickets");
  EXPECT_THAT(shown->plans(), ::testing::ElementsAre("kth"));
  EXPECT_THAT(shown->support_areas(), ::testing::ElementsAre("3.1"));
  EXPECT_THAT(shown->event_types(), ::testing::ElementsAre("StatusReported"));
  EXPECT_TRUE(shown->pause_when_failing());
  EXPECT_EQ(shown->state(), v1::WEBHOOK_PAUSED);
  EXPECT_EQ(shown->paused_by(), kServerActor);
  EXPECT_THAT(shown->paused_reason(), HasSubstr("HTTP 500"));
  EXPECT_EQ(shown->replays(), 1u);
  EXPECT_EQ(shown->delivered_position(), 4u);

  stored::WebhookAdded decoded;
  ASSERT_TRUE(decoded.ParseFromString(added));
  auto box = webhooks::SecretBox::FromKey(kKey);
  auto secret = box->Open(decoded.sealed_secret(), id);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  EXPECT_FALSE(box->Open(decoded.sealed_secret(), "wh-another").ok());
}

}  // namespace
}  // namespace plantrail::services
