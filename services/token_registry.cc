#include "services/token_registry.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "domain/metadata_keys.h"
#include "domain/rules.h"
#include "domain/timestamps.h"
#include "google/protobuf/util/time_util.h"
#include "plantrail/stored/system_events.pb.h"
#include "services/event_store_proto.h"

namespace plantrail::services {
namespace {

using domain::FromTimestamp;
using domain::ToTimestamp;

std::string RevokedTokenId(absl::string_view payload) {
  stored::TokenRevoked revoked;
  revoked.ParseFromString(std::string(payload));
  return revoked.token_id();
}
using google::protobuf::util::TimeUtil;

constexpr char kTokenPrefix[] = "pt_";
constexpr uint32_t kMaxExpiryDays = 3650;

std::string Sha256(absl::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

absl::StatusOr<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()),
                 static_cast<int>(bytes)) != 1) {
    return absl::InternalError("no randomness for a token (OpenSSL RAND)");
  }
  return absl::BytesToHexString(raw);
}

absl::Status CheckPrincipalName(absl::string_view name) {
  const bool ok = !name.empty() && name.size() <= 128 &&
                  absl::ascii_isalnum(name[0]) &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return absl::ascii_isalnum(c) || c == '.' || c == '_' ||
                           c == '@' || c == '-';
                  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "principal: \"", name,
      "\" must be 1 to 128 characters [A-Za-z0-9][A-Za-z0-9._@-]* [rule: "
      "principal-syntax]"));
}

// When a token no longer authenticates, why; empty while it does.
std::string Dead(const v1::TokenInfo& info, absl::Time now) {
  if (info.revoked()) {
    return absl::StrCat("the token ", info.token_id(), " was revoked");
  }
  if (info.has_expires_at() && FromTimestamp(info.expires_at()) <= now) {
    return absl::StrCat("the token ", info.token_id(), " expired at ",
                        TimeUtil::ToString(info.expires_at()));
  }
  return "";
}

// Whom a live token stands for.
Principal PrincipalOf(const v1::TokenInfo& info) {
  Principal principal{.name = info.principal(),
                      .support_areas = {info.support_areas().begin(),
                                        info.support_areas().end()},
                      .plans = {info.plans().begin(), info.plans().end()},
                      .token_id = info.token_id()};
  for (int role : info.roles()) {
    principal.roles.push_back(static_cast<v1::Role>(role));
  }
  if (info.has_expires_at())
    principal.expires_at = FromTimestamp(info.expires_at());
  return principal;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenRegistry>> TokenRegistry::Open(
    eventstore::EventStore* log) {
  std::unique_ptr<TokenRegistry> registry(new TokenRegistry(log));
  PLANTRAIL_RETURN_IF_ERROR(registry->CatchUp());
  return registry;
}

absl::Status TokenRegistry::CatchUp() {
  std::vector<std::pair<std::string, std::string>> revoked;
  RevokedListener listener;
  {
    MutexLock lock(&mu_);
    PLANTRAIL_ASSIGN_OR_RETURN(
        read_version_,
        ReadSecurityStream(
            *log_, read_version_,
            [&](const eventstore::RecordedEvent& event)
                ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                  auto actor = event.metadata.find(domain::kActorKey);
                  if (Apply(event.type, event.payload,
                            actor == event.metadata.end() ? "" : actor->second,
                            event.recorded_at, event.position)) {
                    const std::string id = RevokedTokenId(event.payload);
                    revoked.emplace_back(id, tokens_.at(id).principal());
                  }
                }));
    listener = revoked_listener_;
  }
  if (listener) {
    for (const auto& [token_id, principal] : revoked) {
      listener(token_id, principal);
    }
  }
  return absl::OkStatus();
}

bool TokenRegistry::Apply(absl::string_view type, absl::string_view payload,
                          absl::string_view actor, absl::Time recorded_at,
                          uint64_t position) {
  if (position <= folded_position_) return false;
  folded_position_ = position;
  if (type == "TokenCreated") {
    stored::TokenCreated created;
    if (!created.ParseFromString(std::string(payload))) return false;
    v1::TokenInfo& info = tokens_[created.token_id()];
    info.set_token_id(created.token_id());
    info.set_principal(created.principal());
    *info.mutable_roles() = created.roles();
    *info.mutable_support_areas() = created.support_areas();
    *info.mutable_plans() = created.plans();
    if (created.has_expires_at()) {
      *info.mutable_expires_at() = created.expires_at();
    }
    info.set_note(created.note());
    *info.mutable_created_at() = ToTimestamp(recorded_at);
    info.set_created_by(std::string(actor));
    by_hash_[created.secret_sha256()] = created.token_id();
  } else if (type == "TokenRevoked") {
    stored::TokenRevoked revoked;
    if (!revoked.ParseFromString(std::string(payload))) return false;
    auto it = tokens_.find(revoked.token_id());
    if (it == tokens_.end() || it->second.revoked()) return false;
    it->second.set_revoked(true);
    *it->second.mutable_revoked_at() = ToTimestamp(recorded_at);
    it->second.set_revoked_by(std::string(actor));
    it->second.set_revoke_reason(revoked.reason());
    return true;
  }
  // Other types (written by a newer version) are not ours to interpret.
  return false;
}

absl::StatusOr<Principal> TokenRegistry::Authenticate(absl::string_view secret,
                                                      absl::Time now) const {
  if (!absl::StartsWith(secret, kTokenPrefix)) {
    return absl::UnauthenticatedError(
        "authorization: not a plantrail token (they start with \"pt_\")");
  }
  const std::string hash = Sha256(secret);
  MutexLock lock(&mu_);
  auto id = by_hash_.find(hash);
  if (id == by_hash_.end()) {
    return absl::UnauthenticatedError("authorization: unknown token");
  }
  const v1::TokenInfo& info = tokens_.at(id->second);
  if (std::string dead = Dead(info, now); !dead.empty()) {
    return absl::UnauthenticatedError(absl::StrCat("authorization: ", dead));
  }
  return PrincipalOf(info);
}

absl::StatusOr<Principal> TokenRegistry::AuthenticateId(
    absl::string_view token_id, absl::Time now) const {
  MutexLock lock(&mu_);
  auto it = tokens_.find(std::string(token_id));
  if (it == tokens_.end()) {
    return absl::UnauthenticatedError("authorization: unknown token");
  }
  if (std::string dead = Dead(it->second, now); !dead.empty()) {
    return absl::UnauthenticatedError(absl::StrCat("authorization: ", dead));
  }
  return PrincipalOf(it->second);
}

void TokenRegistry::SetRevokedListener(RevokedListener listener) {
  MutexLock lock(&mu_);
  revoked_listener_ = std::move(listener);
}

std::optional<Principal> TokenRegistry::GrantsOf(absl::string_view name,
                                                 absl::Time now) const {
  std::optional<Principal> principal;
  MutexLock lock(&mu_);
  for (const auto& [id, info] : tokens_) {
    if (info.principal() != name || !Dead(info, now).empty()) continue;
    if (!principal) principal = Principal{.name = std::string(name)};
    for (int role : info.roles()) {
      if (!principal->Has(static_cast<v1::Role>(role))) {
        principal->roles.push_back(static_cast<v1::Role>(role));
      }
    }
    principal->support_areas.insert(principal->support_areas.end(),
                                    info.support_areas().begin(),
                                    info.support_areas().end());
    principal->plans.insert(principal->plans.end(), info.plans().begin(),
                            info.plans().end());
    if (info.has_expires_at()) {
      principal->expires_at =
          std::min(principal->expires_at, FromTimestamp(info.expires_at()));
    }
  }
  return principal;
}

absl::StatusOr<std::pair<eventstore::AppendRequest, v1::CreateTokenResponse>>
TokenRegistry::Prepare(const Principal& by,
                       const v1::CreateTokenRequest& request) const {
  PLANTRAIL_RETURN_IF_ERROR(CheckPrincipalName(request.principal()));
  if (request.roles().empty()) {
    return absl::InvalidArgumentError(
        "roles: give at least one (admin, planner, auditor, reader, "
        "subscriber) [rule: token-has-roles]");
  }
  bool planner = false;
  bool only_planner_or_reader = true;
  for (int role : request.roles()) {
    if (role == v1::ROLE_UNSPECIFIED || !v1::Role_IsValid(role)) {
      return absl::InvalidArgumentError(
          absl::StrCat("roles: ", role, " is not a role [rule: known-role]"));
    }
    planner |= role == v1::ROLE_PLANNER;
    only_planner_or_reader &=
        role == v1::ROLE_PLANNER || role == v1::ROLE_READER;
  }
  // The change stream and the log below the plans are not cut by plan, so
  // a plan limit is only for the roles that work through the plan model.
  if (!request.plans().empty() && !only_planner_or_reader) {
    return absl::InvalidArgumentError(
        "plans: only planner and reader tokens are limited to plans [rule: "
        "plans-for-planners-and-readers]");
  }
  for (int i = 0; i < request.plans_size(); ++i) {
    PLANTRAIL_RETURN_IF_ERROR(
        domain::CheckPlanId(absl::StrCat("plans[", i, "]"), request.plans(i)));
  }
  if (!request.support_areas().empty() && !planner) {
    return absl::InvalidArgumentError(
        "support_areas: only a planner is limited to support areas [rule: "
        "support-areas-for-planners]");
  }
  if (request.expires_in_days() > 0 && request.expires_in_seconds() > 0) {
    return absl::InvalidArgumentError(
        "expires_in_seconds: give it or expires_in_days, not both [rule: "
        "one-expiry]");
  }
  if (request.expires_in_seconds() > kMaxExpiryDays * 86400u) {
    return absl::InvalidArgumentError(
        absl::StrCat("expires_in_seconds: at most ", kMaxExpiryDays,
                     " days [rule: token-expiry-limit]"));
  }
  if (request.expires_in_days() > kMaxExpiryDays) {
    return absl::InvalidArgumentError(
        absl::StrCat("expires_in_days: at most ", kMaxExpiryDays,
                     " [rule: token-expiry-limit]"));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(std::string secret, RandomHex(32));
  PLANTRAIL_ASSIGN_OR_RETURN(std::string id, RandomHex(6));
  secret = absl::StrCat(kTokenPrefix, secret);
  stored::TokenCreated created;
  created.set_token_id(absl::StrCat("tok-", id));
  created.set_principal(request.principal());
  *created.mutable_roles() = request.roles();
  *created.mutable_support_areas() = request.support_areas();
  *created.mutable_plans() = request.plans();
  if (request.expires_in_days() > 0) {
    *created.mutable_expires_at() =
        ToTimestamp(absl::Now() + absl::Hours(24) * request.expires_in_days());
  } else if (request.expires_in_seconds() > 0) {
    *created.mutable_expires_at() =
        ToTimestamp(absl::Now() + absl::Seconds(request.expires_in_seconds()));
  }
  created.set_secret_sha256(Sha256(secret));
  created.set_note(request.note());
  v1::CreateTokenResponse response;
  response.set_token(secret);
  v1::TokenInfo& info = *response.mutable_info();
  info.set_token_id(created.token_id());
  info.set_principal(created.principal());
  *info.mutable_roles() = created.roles();
  *info.mutable_support_areas() = created.support_areas();
  *info.mutable_plans() = created.plans();
  if (created.has_expires_at())
    *info.mutable_expires_at() = created.expires_at();
  info.set_note(created.note());
  info.set_created_by(by.name);
  eventstore::AppendRequest append{.stream_id = kSecurityStream};
  append.events.push_back(SystemEvent(created, by.name));
  return std::make_pair(std::move(append), std::move(response));
}

void TokenRegistry::Create(const Principal& by,
                           const v1::CreateTokenRequest& request,
                           CreateDone done) {
  auto prepared = Prepare(by, request);
  if (!prepared.ok()) {
    std::move(done)(prepared.status());
    return;
  }
  auto [append, response] = *std::move(prepared);
  eventstore::ProposedEvent event = append.events.front();
  log_->AppendAsync(
      std::move(append),
      [this, event = std::move(event), response = std::move(response),
       done = std::move(done)](
          absl::StatusOr<eventstore::AppendResult> result) mutable {
        if (!result.ok()) {
          std::move(done)(std::move(result).status());
          return;
        }
        const absl::Time now = absl::Now();
        {
          MutexLock lock(&mu_);
          Apply(event.type, event.payload, event.metadata[domain::kActorKey],
                now, result->last_position);
        }
        *response.mutable_info()->mutable_created_at() = ToTimestamp(now);
        std::move(done)(std::move(response));
      });
}

absl::StatusOr<v1::CreateTokenResponse> TokenRegistry::CreateNow(
    const Principal& by, const v1::CreateTokenRequest& request) {
  Notification done;
  absl::StatusOr<v1::CreateTokenResponse> answer;
  Create(by, request, [&](absl::StatusOr<v1::CreateTokenResponse> result) {
    answer = std::move(result);
    done.Notify();
  });
  done.WaitForNotification();
  return answer;
}

void TokenRegistry::Revoke(const Principal& by,
                           const v1::RevokeTokenRequest& request,
                           RevokeDone done) {
  {
    MutexLock lock(&mu_);
    auto it = tokens_.find(request.token_id());
    if (it == tokens_.end()) {
      std::move(done)(absl::NotFoundError(
          absl::StrCat("token_id: no token \"", request.token_id(), "\"")));
      return;
    }
    if (it->second.revoked()) {
      std::move(done)(absl::FailedPreconditionError(absl::StrCat(
          "token_id: ", request.token_id(), " is already revoked")));
      return;
    }
  }
  if (absl::StripAsciiWhitespace(request.reason()).empty()) {
    std::move(done)(absl::InvalidArgumentError(
        "reason: a revocation needs a reason [rule: reason-required]"));
    return;
  }
  stored::TokenRevoked revoked;
  revoked.set_token_id(request.token_id());
  revoked.set_reason(request.reason());
  eventstore::AppendRequest append{.stream_id = kSecurityStream};
  append.events.push_back(SystemEvent(revoked, by.name));
  eventstore::ProposedEvent event = append.events.front();
  log_->AppendAsync(
      std::move(append),
      [this, event = std::move(event), id = request.token_id(),
       done = std::move(done)](
          absl::StatusOr<eventstore::AppendResult> result) mutable {
        if (!result.ok()) {
          std::move(done)(std::move(result).status());
          return;
        }
        v1::RevokeTokenResponse response;
        RevokedListener listener;
        {
          MutexLock lock(&mu_);
          Apply(event.type, event.payload, event.metadata[domain::kActorKey],
                absl::Now(), result->last_position);
          *response.mutable_info() = tokens_.at(id);
          listener = revoked_listener_;
        }
        // Before the answer: once the admin hears the token is revoked,
        // nothing it opened goes on.
        if (listener) listener(id, response.info().principal());
        std::move(done)(std::move(response));
      });
}

std::vector<v1::TokenInfo> TokenRegistry::List() const {
  MutexLock lock(&mu_);
  std::vector<v1::TokenInfo> tokens;
  for (const auto& [id, info] : tokens_) tokens.push_back(info);
  return tokens;
}

bool TokenRegistry::empty() const {
  MutexLock lock(&mu_);
  return tokens_.empty();
}

}  // namespace plantrail::services
