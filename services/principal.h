// Who is calling. Every RPC learns its principal from the call context, and
// the command service stamps it as the actor of every event; no request
// field can set it.
#ifndef PLANTRAIL_SERVICES_PRINCIPAL_H_
#define PLANTRAIL_SERVICES_PRINCIPAL_H_

#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "services/transport_security.h"

namespace plantrail::services {

struct Principal {
  std::string name;
};

// Thread-safe: called concurrently for every RPC.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // kUnauthenticated when the caller cannot be established.
  virtual absl::StatusOr<Principal> Authenticate(
      const grpc::CallbackServerContext& context) const = 0;
};

// The caller as the transport knows it: a client that presented a verified
// certificate (mutual TLS) is its certificate's subject; any other caller
// is one local principal (the server's operator) until token
// authentication exists. Either way the principal comes from the call,
// never from the request.
class PeerAuthenticator final : public Authenticator {
 public:
  explicit PeerAuthenticator(std::string local_principal)
      : local_principal_(std::move(local_principal)) {}
  absl::StatusOr<Principal> Authenticate(
      const grpc::CallbackServerContext& context) const override {
    if (std::optional<std::string> subject =
            ClientCertificatePrincipal(context)) {
      return Principal{.name = *std::move(subject)};
    }
    return Principal{.name = local_principal_};
  }

 private:
  const std::string local_principal_;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PRINCIPAL_H_
