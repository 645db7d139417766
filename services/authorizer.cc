#include "services/authorizer.h"

#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "domain/plan_commands.h"
#include "domain/plan_words.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "services/transport_security.h"

namespace plantrail::services {
namespace {

using Roles = std::vector<v1::Role>;

constexpr size_t kMaxReasonBytes = 1000;

const Roles kAdmin = {v1::ROLE_ADMIN};
const Roles kPlanners = {v1::ROLE_ADMIN, v1::ROLE_PLANNER};
const Roles kReaders = {v1::ROLE_ADMIN, v1::ROLE_PLANNER, v1::ROLE_AUDITOR,
                        v1::ROLE_READER};
const Roles kEveryone = {v1::ROLE_ADMIN, v1::ROLE_PLANNER, v1::ROLE_AUDITOR,
                         v1::ROLE_READER, v1::ROLE_SUBSCRIBER};
const Roles kFollowers = {v1::ROLE_ADMIN, v1::ROLE_AUDITOR,
                          v1::ROLE_SUBSCRIBER};
const Roles kAckers = {v1::ROLE_ADMIN, v1::ROLE_SUBSCRIBER};
const Roles kAuditors = {v1::ROLE_ADMIN, v1::ROLE_AUDITOR};

// Who may call what: one row per RPC. A method missing here is refused to
// everyone (a test checks that every method of every service is here).
const std::map<std::string, const Roles*, std::less<>>& Table() {
  static const auto* table = [] {
    auto* rows = new std::map<std::string, const Roles*, std::less<>>{
        // The log. Reading it is open to every role (it holds what the
        // queries answer from); writing below the plan model is an admin's.
        {"/plantrail.v1.EventStore/Append", &kAdmin},
        {"/plantrail.v1.EventStore/ReadStream", &kEveryone},
        {"/plantrail.v1.EventStore/ReadAll", &kEveryone},
        {"/plantrail.v1.EventStore/Subscribe", &kFollowers},
        {"/plantrail.v1.EventStore/Ack", &kAckers},
        // Reading the plan.
        {"/plantrail.v1.PlanQueries/ListPlans", &kReaders},
        {"/plantrail.v1.PlanQueries/GetPlan", &kReaders},
        {"/plantrail.v1.PlanQueries/GetArea", &kReaders},
        {"/plantrail.v1.PlanQueries/ListAreas", &kReaders},
        {"/plantrail.v1.PlanQueries/GetHistory", &kReaders},
        {"/plantrail.v1.PlanQueries/ListDecisions", &kReaders},
        {"/plantrail.v1.PlanQueries/GetPortfolio", &kReaders},
        {"/plantrail.v1.PlanQueries/GetChanges", &kReaders},
        {"/plantrail.v1.PlanQueries/GetFollowUp", &kReaders},
        {"/plantrail.v1.PlanQueries/GetDependencies", &kReaders},
        // Operating the server.
        {"/plantrail.v1.Admin/Verify", &kAuditors},
        {"/plantrail.v1.Admin/GetStats", &kAuditors},
        {"/plantrail.v1.Admin/GetDigest", &kAuditors},
        {"/plantrail.v1.Admin/Backup", &kAdmin},
        {"/plantrail.v1.Admin/RedactEvent", &kAdmin},
        {"/plantrail.v1.Admin/ListProjections", &kAuditors},
        {"/plantrail.v1.Admin/RebuildProjection", &kAdmin},
        {"/plantrail.v1.Admin/CreateToken", &kAdmin},
        {"/plantrail.v1.Admin/ListTokens", &kAuditors},
        {"/plantrail.v1.Admin/RevokeToken", &kAdmin},
        // Where plan data leaves the server: an admin's to say; auditors
        // see where it goes.
        {"/plantrail.v1.Admin/AddWebhook", &kAdmin},
        {"/plantrail.v1.Admin/ListWebhooks", &kAuditors},
        {"/plantrail.v1.Admin/GetWebhook", &kAuditors},
        {"/plantrail.v1.Admin/PauseWebhook", &kAdmin},
        {"/plantrail.v1.Admin/ResumeWebhook", &kAdmin},
        {"/plantrail.v1.Admin/RotateWebhookSecret", &kAdmin},
        {"/plantrail.v1.Admin/ReplayWebhook", &kAdmin},
        {"/plantrail.v1.Admin/RemoveWebhook", &kAdmin},
        {"/plantrail.v1.Admin/Promote", &kAdmin},
        // A replica takes the whole log, security stream included: it
        // authenticates as an administrator.
        {"/plantrail.v1.Replication/Follow", &kAdmin},
        {"/plantrail.v1.Replication/GetChainHashes", &kAdmin},
    };
    // Changing the plan: every command (domain/plan_commands.h) is a
    // planner's; which plans and areas is the handler's to check.
    domain::ForEachPlanCommand([rows](auto type, size_t) {
      using Request = typename decltype(type)::type;
      rows->emplace(
          MethodName<v1::PlanCommands>(domain::PlanCommandName<Request>()),
          &kPlanners);
    });
    return rows;
  }();
  return *table;
}

std::string RolesWords(const std::vector<v1::Role>& roles) {
  std::vector<std::string> words;
  for (v1::Role role : roles) words.push_back(domain::Words(role));
  return words.empty() ? "no role" : absl::StrJoin(words, ", ");
}

// "ipv4:127.0.0.1:45974" -> "ipv4:127.0.0.1": failures count per address,
// whatever port a client connects from.
std::string PeerAddress(absl::string_view peer) {
  // Only ipv4:/ipv6: peers end in a port; unix: peers are a path.
  if (!absl::StartsWith(peer, "ipv4:") && !absl::StartsWith(peer, "ipv6:")) {
    return std::string(peer);
  }
  return std::string(peer.substr(0, peer.rfind(':')));
}

}  // namespace

Authorizer::Authorizer(const TokenRegistry* tokens, int security_log_fd,
                       int failures_per_minute)
    : tokens_(tokens),
      failures_per_minute_(failures_per_minute),
      log_fd_(security_log_fd) {}

Authorizer::~Authorizer() {
  if (log_fd_ >= 0) close(log_fd_);
}

const std::vector<v1::Role>* Authorizer::RolesFor(absl::string_view method) {
  auto it = Table().find(method);
  return it == Table().end() ? nullptr : it->second;
}

std::vector<std::string> Authorizer::Methods() {
  std::vector<std::string> methods;
  for (const auto& [method, roles] : Table()) methods.push_back(method);
  return methods;
}

absl::StatusOr<Principal> Authorizer::Identify(
    const grpc::CallbackServerContext& context) const {
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    absl::string_view value(it->second.data(), it->second.size());
    if (!absl::ConsumePrefix(&value, "Bearer ")) {
      return absl::UnauthenticatedError(
          "authorization: expected \"Bearer <token>\"");
    }
    return tokens_->Authenticate(absl::StripAsciiWhitespace(value),
                                 absl::Now());
  }
  if (std::optional<std::string> subject =
          ClientCertificatePrincipal(context)) {
    return CertificateGrants(*subject);
  }
  return absl::UnauthenticatedError(
      "no credentials: send \"authorization: Bearer <token>\" (the server's "
      "first start wrote an admin token to <data-dir>/admin.token), or a "
      "client certificate");
}

absl::StatusOr<Principal> Authorizer::CertificateGrants(
    absl::string_view subject) const {
  std::optional<Principal> granted = tokens_->GrantsOf(subject, absl::Now());
  if (!granted) {
    return absl::PermissionDeniedError(absl::StrCat(
        subject,
        " (by client certificate) holds no grant: an admin grants one with "
        "`plantrail admin token create --principal ",
        subject, " --role ...`"));
  }
  return *std::move(granted);
}

absl::StatusOr<Principal> Authorizer::Authorize(
    const grpc::CallbackServerContext& context,
    absl::string_view method) const {
  absl::StatusOr<Principal> principal = Identify(context);
  if (!principal.ok()) {
    // The slow-down applies to failures only: valid credentials are never
    // held back by someone else's noise from the same address (every local
    // client shares 127.0.0.1). Telling a valid token from junk gains a
    // guesser nothing: tokens are 256 random bits.
    const std::string peer = PeerAddress(context.peer());
    const absl::Time now = absl::Now();
    if (const absl::Duration wait = Blocked(peer, now);
        wait > absl::ZeroDuration()) {
      absl::Status slowed = absl::ResourceExhaustedError(
          absl::StrCat("authorization: too many failed authentications from ",
                       peer, "; try again in ",
                       absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))),
                       " s [rule: auth-slowdown]"));
      LogRefusal(context, "", method, slowed);
      return slowed;
    }
    if (absl::IsUnauthenticated(principal.status())) Failed(peer, now);
    LogRefusal(context, "", method, principal.status());
    return principal.status();
  }
  return Allow(*std::move(principal), context.peer(), method);
}

bool Authorizer::MayReadSecurityStream(const Principal& principal) {
  return principal.Has(v1::ROLE_ADMIN) || principal.Has(v1::ROLE_AUDITOR);
}

absl::StatusOr<Principal> Authorizer::Reauthorize(
    const Principal& caller, absl::string_view method,
    absl::string_view peer) const {
  absl::StatusOr<Principal> principal =
      caller.token_id.empty()
          ? CertificateGrants(caller.name)
          : tokens_->AuthenticateId(caller.token_id, absl::Now());
  if (!principal.ok()) {
    LogRefusal(peer, caller.name, method, principal.status());
    return principal.status();
  }
  return Allow(*std::move(principal), peer, method);
}

absl::StatusOr<Principal> Authorizer::Allow(Principal principal,
                                            absl::string_view peer,
                                            absl::string_view method) const {
  const std::vector<v1::Role>* allowed = RolesFor(method);
  if (allowed != nullptr) {
    for (v1::Role role : *allowed) {
      if (principal.Has(role)) return principal;
    }
  }
  absl::Status denied = absl::PermissionDeniedError(
      absl::StrCat(principal.name, " (", RolesWords(principal.roles),
                   ") may not call ", method, "; it needs one of: ",
                   allowed == nullptr ? "nobody may" : RolesWords(*allowed)));
  LogRefusal(peer, principal.name, method, denied);
  return denied;
}

void Authorizer::Failed(const std::string& peer, absl::Time now) const {
  MutexLock lock(&failures_mu_);
  if (failures_.size() > 10000) {
    // Forget peers that have been quiet for a minute; the map stays small.
    for (auto it = failures_.begin(); it != failures_.end();) {
      it = now - it->second.window_start > absl::Minutes(1) &&
                   now >= it->second.blocked_until
               ? failures_.erase(it)
               : std::next(it);
    }
  }
  Failures& failures = failures_[peer];
  if (now - failures.window_start > absl::Minutes(1)) {
    failures.count = 0;
    failures.window_start = now;
  }
  if (++failures.count <= failures_per_minute_) return;
  failures.backoff =
      std::clamp(failures.backoff * 2, absl::Seconds(1), absl::Minutes(1));
  failures.blocked_until = now + failures.backoff;
}

absl::Duration Authorizer::Blocked(const std::string& peer,
                                   absl::Time now) const {
  MutexLock lock(&failures_mu_);
  auto it = failures_.find(peer);
  if (it == failures_.end() || now >= it->second.blocked_until) {
    return absl::ZeroDuration();
  }
  return it->second.blocked_until - now;
}

void Authorizer::LogRefusal(const grpc::CallbackServerContext& context,
                            absl::string_view principal,
                            absl::string_view method,
                            const absl::Status& status) const {
  LogRefusal(context.peer(), principal, method, status);
}

void Authorizer::LogRefusal(absl::string_view peer, absl::string_view principal,
                            absl::string_view method,
                            const absl::Status& status) const {
  // One line per refusal: time, peer, principal (if known), RPC, code and
  // reason. Never the token itself, and never more than a screenful of what
  // a caller sent (a reason may quote it).
  const std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                       absl::UTCTimeZone()),
      " peer=", peer, " principal=\"", absl::CEscape(principal),
      "\" rpc=", method, " code=", absl::StatusCodeToString(status.code()),
      " reason=\"", absl::CEscape(status.message().substr(0, kMaxReasonBytes)),
      status.message().size() > kMaxReasonBytes ? "..." : "", "\"\n");
  if (log_fd_ < 0) return;
  // A refusal that cannot be logged does not change the refusal; the log's
  // trouble shows on its own (disk full is watched, docs/reliability.md).
  [[maybe_unused]] const ssize_t written =
      write(log_fd_, line.data(), line.size());
}

}  // namespace plantrail::services
