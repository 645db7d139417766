// Bearer tokens: granted and revoked as events of the system stream
// `plantrail-security` (who granted what to whom, when, is in the log like
// every plan change), folded into memory at start. Only a token's SHA-256 is
// stored; the secret exists once, in the answer to its creation.
//
// Thread safety: every method may be called from any thread.
#ifndef PLANTRAIL_SERVICES_TOKEN_REGISTRY_H_
#define PLANTRAIL_SERVICES_TOKEN_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "eventstore/event_store.h"
#include "plantrail/v1/admin.pb.h"
#include "plantrail/v1/security.pb.h"
#include "services/principal.h"
#include "services/security_stream.h"

namespace plantrail::services {

class TokenRegistry {
 public:
  // Folds the security stream of `log`, which must outlive the registry.
  static absl::StatusOr<std::unique_ptr<TokenRegistry>> Open(
      eventstore::EventStore* log);

  // Who `secret` stands for; UNAUTHENTICATED when it is unknown, expired or
  // revoked (the message says which).
  absl::StatusOr<Principal> Authenticate(absl::string_view secret,
                                         absl::Time now) const;
  // Who the token `token_id` stands for, as Authenticate: for checking
  // again, later, the credentials a long-lived call began with.
  absl::StatusOr<Principal> AuthenticateId(absl::string_view token_id,
                                           absl::Time now) const;
  // What the live tokens granted to `name` allow it (a client certificate's
  // subject is such a name); nullopt when nothing is granted to it.
  std::optional<Principal> GrantsOf(absl::string_view name,
                                    absl::Time now) const;

  // Called with a token's id and principal once its revocation is recorded
  // and before Revoke answers; on the log's writer thread, so it must not
  // block. One listener; set it before serving, clear it (nullptr) before
  // the listener goes away.
  using RevokedListener = std::function<void(const std::string& token_id,
                                             const std::string& principal)>;
  void SetRevokedListener(RevokedListener listener);

  using CreateDone =
      absl::AnyInvocable<void(absl::StatusOr<v1::CreateTokenResponse>) &&>;
  using RevokeDone =
      absl::AnyInvocable<void(absl::StatusOr<v1::RevokeTokenResponse>) &&>;
  // Validates, appends the event, then answers; `done` runs once, possibly
  // on the log's writer thread, and must not block.
  void Create(const Principal& by, const v1::CreateTokenRequest& request,
              CreateDone done);
  void Revoke(const Principal& by, const v1::RevokeTokenRequest& request,
              RevokeDone done);
  // Blocking Create, for the first start.
  absl::StatusOr<v1::CreateTokenResponse> CreateNow(
      const Principal& by, const v1::CreateTokenRequest& request);

  std::vector<v1::TokenInfo> List() const;
  bool empty() const;

  // Folds what the security stream holds beyond what the registry has
  // folded: on a replica, whose log grows by replication rather than
  // through Create and Revoke. A revocation it folds reaches the revoked
  // listener as Revoke's would. Events folded already are skipped, so it
  // may be called at any time.
  absl::Status CatchUp();

 private:
  explicit TokenRegistry(eventstore::EventStore* log) : log_(log) {}

  // Folds one event of the security stream, at `position` of the log;
  // whether it revoked a live token.
  bool Apply(absl::string_view type, absl::string_view payload,
             absl::string_view actor, absl::Time recorded_at, uint64_t position)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The event that grants `request`, and the secret.
  absl::StatusOr<std::pair<eventstore::AppendRequest, v1::CreateTokenResponse>>
  Prepare(const Principal& by, const v1::CreateTokenRequest& request) const;

  eventstore::EventStore* const log_;
  mutable Mutex mu_;
  std::map<std::string, v1::TokenInfo> tokens_ ABSL_GUARDED_BY(mu_);
  // SHA-256 of the secret (raw bytes) -> token id.
  std::map<std::string, std::string> by_hash_ ABSL_GUARDED_BY(mu_);
  RevokedListener revoked_listener_ ABSL_GUARDED_BY(mu_);
  // The log position of the last event folded, and the stream version
  // CatchUp reads from next.
  uint64_t folded_position_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t read_version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_TOKEN_REGISTRY_H_
