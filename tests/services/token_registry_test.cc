// Tokens: granted and revoked as events, folded back after a restart, only
// their hashes stored, and dead once expired or revoked.
#include "services/token_registry.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/sync.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/authorizer.h"
#include "tests/temp_dir.h"

namespace plantrail::services {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

class TokenRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    registry_.reset();
    log_.reset();
    auto log = eventstore::EventStore::Open(
        {.path = dir_ / "log", .durability = eventstore::Durability::kNoSync});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    auto registry = TokenRegistry::Open(log_.get());
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = *std::move(registry);
  }

  v1::CreateTokenResponse Create(const std::string& principal, v1::Role role,
                                 uint32_t days = 0) {
    v1::CreateTokenRequest request;
    request.set_principal(principal);
    request.add_roles(role);
    request.set_expires_in_days(days);
    auto created = registry_->CreateNow(admin_, request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : v1::CreateTokenResponse();
  }

  absl::Status Revoke(const std::string& id) {
    Notification done;
    absl::Status status;
    v1::RevokeTokenRequest request;
    request.set_token_id(id);
    request.set_reason("left");
    registry_->Revoke(admin_, request,
                      [&](absl::StatusOr<v1::RevokeTokenResponse> revoked) {
                        status = revoked.status();
                        done.Notify();
                      });
    done.WaitForNotification();
    return status;
  }

  testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> log_;
  std::unique_ptr<TokenRegistry> registry_;
  const Principal admin_{.name = "admin", .roles = {v1::ROLE_ADMIN}};
};

// What a subscription relies on to end with its credentials: the registry
// says which token was revoked, and the credentials can be checked again.
TEST_F(TokenRegistryTest, LongLivedCallsHearOfRevocationsAndAreCheckedAgain) {
  std::vector<std::pair<std::string, std::string>> revoked;
  // Runs before Revoke answers, which the test waits for.
  registry_->SetRevokedListener(
      [&](const std::string& token_id, const std::string& principal) {
        revoked.emplace_back(token_id, principal);
      });
  const v1::CreateTokenResponse follower =
      Create("anna", v1::ROLE_SUBSCRIBER, 1);
  Create("anna", v1::ROLE_READER);
  const Authorizer authorizer(registry_.get(), /*security_log_fd=*/-1);
  const std::string method = "/plantrail.v1.EventStore/Subscribe";
  const absl::StatusOr<Principal> by_token =
      registry_->Authenticate(follower.token(), absl::Now());
  ASSERT_TRUE(by_token.ok()) << by_token.status();
  EXPECT_EQ(by_token->token_id, follower.info().token_id());
  EXPECT_LT(by_token->expires_at, absl::Now() + absl::Hours(25));
  // A client certificate's subject: the grants of its name, which change
  // first when the subscriber grant expires.
  const Principal by_certificate{.name = "anna"};
  EXPECT_EQ(registry_->GrantsOf("anna", absl::Now())->expires_at,
            by_token->expires_at);
  EXPECT_TRUE(authorizer.Reauthorize(*by_token, method, "peer").ok());
  EXPECT_TRUE(authorizer.Reauthorize(by_certificate, method, "peer").ok());

  ASSERT_TRUE(Revoke(follower.info().token_id()).ok());
  EXPECT_THAT(revoked, ElementsAre(Pair(follower.info().token_id(), "anna")));
  const absl::Status token =
      authorizer.Reauthorize(*by_token, method, "peer").status();
  EXPECT_EQ(token.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(token.message(), HasSubstr("was revoked"));
  // The certificate still authenticates (a reader grant is left), but may
  // no longer follow the log.
  const absl::Status certificate =
      authorizer.Reauthorize(by_certificate, method, "peer").status();
  EXPECT_EQ(certificate.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(certificate.message(), HasSubstr("may not call"));
  registry_->SetRevokedListener(nullptr);
}

TEST_F(TokenRegistryTest, ATokenStandsForItsPrincipalAndRoles) {
  EXPECT_TRUE(registry_->empty());
  const v1::CreateTokenResponse created = Create("anna", v1::ROLE_PLANNER);
  EXPECT_THAT(created.token(), ::testing::MatchesRegex("pt_[0-9a-f]{64}"));
  const absl::StatusOr<Principal> anna =
      registry_->Authenticate(created.token(), absl::Now());
  ASSERT_TRUE(anna.ok()) << anna.status();
  EXPECT_EQ(anna->name, "anna");
  EXPECT_THAT(anna->roles, ElementsAre(v1::ROLE_PLANNER));
  EXPECT_EQ(registry_->Authenticate("pt_" + std::string(64, 'f'), absl::Now())
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenRegistryTest, AnExpiredTokenIsDead) {
  const v1::CreateTokenResponse created = Create("temp", v1::ROLE_READER, 1);
  EXPECT_TRUE(registry_->Authenticate(created.token(), absl::Now()).ok());
  const absl::StatusOr<Principal> later =
      registry_->Authenticate(created.token(), absl::Now() + absl::Hours(25));
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(later.status().message(), HasSubstr("expired"));
}

TEST_F(TokenRegistryTest, GrantsAndRevocationsSurviveAReopenAsEvents) {
  const v1::CreateTokenResponse kept = Create("ulla", v1::ROLE_AUDITOR);
  const v1::CreateTokenResponse dropped = Create("rita", v1::ROLE_READER);
  ASSERT_TRUE(Revoke(dropped.info().token_id()).ok());
  EXPECT_EQ(Revoke(dropped.info().token_id()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Revoke("tok-nope").code(), absl::StatusCode::kNotFound);
  Open();
  EXPECT_TRUE(registry_->Authenticate(kept.token(), absl::Now()).ok());
  const absl::StatusOr<Principal> revoked =
      registry_->Authenticate(dropped.token(), absl::Now());
  EXPECT_THAT(revoked.status().message(), HasSubstr("was revoked"));
  ASSERT_EQ(registry_->List().size(), 2u);
  // The log has the grants and the revocation, never a secret.
  auto page = log_->ReadStream({.stream_id = kSecurityStream});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 3u);
  for (const eventstore::RecordedEvent& event : page->events) {
    EXPECT_EQ(event.metadata.at("actor"), "admin");
    EXPECT_THAT(event.payload, Not(HasSubstr(kept.token())));
    EXPECT_THAT(event.payload, Not(HasSubstr(dropped.token())));
  }
  // A client certificate's subject gets what its live grants give.
  EXPECT_TRUE(registry_->GrantsOf("ulla", absl::Now()).has_value());
  EXPECT_FALSE(registry_->GrantsOf("rita", absl::Now()).has_value());
}

TEST_F(TokenRegistryTest, BadGrantsNameTheFieldAndTheRule) {
  v1::CreateTokenRequest request;
  request.set_principal("anna");
  EXPECT_THAT(registry_->CreateNow(admin_, request).status().message(),
              HasSubstr("[rule: token-has-roles]"));
  request.add_roles(v1::ROLE_READER);
  request.add_support_areas("3.4");
  EXPECT_THAT(registry_->CreateNow(admin_, request).status().message(),
              HasSubstr("[rule: support-areas-for-planners]"));
  request.clear_support_areas();
  request.set_principal("no spaces");
  EXPECT_THAT(registry_->CreateNow(admin_, request).status().message(),
              HasSubstr("[rule: principal-syntax]"));
  EXPECT_TRUE(registry_->empty());
}

}  // namespace
}  // namespace plantrail::services
