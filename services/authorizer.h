// The one place that decides who may call what. Every RPC of every service
// asks it first, with its full method name; it finds the caller (a bearer
// token, else a verified client certificate whose subject holds grants) and
// checks the caller's roles against one table. Refusals are written to the
// security log.
//
// Thread safety: Authorize may be called concurrently.
#ifndef PLANTRAIL_SERVICES_AUTHORIZER_H_
#define PLANTRAIL_SERVICES_AUTHORIZER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "grpcpp/server_context.h"
#include "services/principal.h"
#include "services/token_registry.h"

namespace plantrail::services {

class Authorizer {
 public:
  // `tokens` must outlive the authorizer. Refusals are appended to
  // `security_log_fd` (one line each, one write(2) per line), which the
  // authorizer owns and closes; -1: not written. A peer address
  // with more than `failures_per_minute` failed authentications in a minute
  // has its further failures refused (RESOURCE_EXHAUSTED) for a while,
  // doubling from a second up to a minute as failures go on; valid
  // credentials from that address are served all the same.
  Authorizer(const TokenRegistry* tokens, int security_log_fd,
             int failures_per_minute = 30);
  ~Authorizer();
  Authorizer(const Authorizer&) = delete;
  Authorizer& operator=(const Authorizer&) = delete;

  // The caller of `method` ("/plantrail.v1.Admin/Verify") if it may call
  // it: UNAUTHENTICATED without valid credentials, PERMISSION_DENIED
  // without a role the table allows.
  absl::StatusOr<Principal> Authorize(
      const grpc::CallbackServerContext& context,
      absl::string_view method) const;

  // Checks again, now, the credentials `caller` was authorised with for
  // `method` (a long-lived call's, at its token's revocation or expiry):
  // the caller as it stands now, or why it may no longer call `method`
  // (UNAUTHENTICATED for a revoked or expired token, PERMISSION_DENIED for
  // a certificate whose grants are gone or no longer allow it). A refusal
  // is written to the security log with `peer`.
  absl::StatusOr<Principal> Reauthorize(const Principal& caller,
                                        absl::string_view method,
                                        absl::string_view peer) const;

  // The roles that may call `method`; nullptr for a method not in the table
  // (refused to everyone).
  static const std::vector<v1::Role>* RolesFor(absl::string_view method);
  // Every method in the table.
  static std::vector<std::string> Methods();

  // Whether `principal` may read the security stream (token grants and
  // revocations): auditors and admins only, by every route.
  static bool MayReadSecurityStream(const Principal& principal);

  // Writes a refusal decided after Authorize (a planner's scope, a stream
  // the caller may not write) to the security log, as Authorize writes its
  // own: every refusal is on record.
  void LogRefusal(const grpc::CallbackServerContext& context,
                  absl::string_view principal, absl::string_view method,
                  const absl::Status& status) const;
  // The same, for a refusal decided away from the call's context (a
  // subscription ended at its token's revocation): `peer` as gRPC names it.
  void LogRefusal(absl::string_view peer, absl::string_view principal,
                  absl::string_view method, const absl::Status& status) const;

 private:
  absl::StatusOr<Principal> Identify(
      const grpc::CallbackServerContext& context) const;
  // What the live grants of a certificate's `subject` allow it.
  absl::StatusOr<Principal> CertificateGrants(absl::string_view subject) const;
  // `principal` if one of its roles may call `method`; else (logged)
  // PERMISSION_DENIED naming the roles that may.
  absl::StatusOr<Principal> Allow(Principal principal, absl::string_view peer,
                                  absl::string_view method) const;

  // Counts a failed authentication from `peer` (an address, no port).
  void Failed(const std::string& peer, absl::Time now) const;
  // How long `peer` is still refused; zero when it is not.
  absl::Duration Blocked(const std::string& peer, absl::Time now) const;

  struct Failures {
    int count = 0;
    absl::Time window_start;
    absl::Time blocked_until;
    absl::Duration backoff;
  };

  const TokenRegistry* const tokens_;
  const int failures_per_minute_;
  mutable Mutex failures_mu_;
  mutable std::map<std::string, Failures> failures_
      ABSL_GUARDED_BY(failures_mu_);
  // Lines go out with one write(2) each on an O_APPEND descriptor, whole
  // even when calls refuse concurrently.
  const int log_fd_;
};

// The full method name of `Service`'s method `name`, e.g.
// MethodName<v1::Admin>("Verify") == "/plantrail.v1.Admin/Verify".
template <typename Service>
std::string MethodName(absl::string_view name) {
  return absl::StrCat("/", Service::service_full_name(), "/", name);
}

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_AUTHORIZER_H_
