// Who is calling. Every RPC learns its principal from the call context, and
// the command service stamps it as the actor of every event; no request
// field can set it.
#ifndef PLANTRAIL_SERVICES_PRINCIPAL_H_
#define PLANTRAIL_SERVICES_PRINCIPAL_H_

#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"

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

// Until token authentication exists, every caller is one local principal
// (the server's operator). The code path is the real one: the principal
// comes from the call, never from the request.
class LocalAuthenticator final : public Authenticator {
 public:
  explicit LocalAuthenticator(std::string name) : name_(std::move(name)) {}
  absl::StatusOr<Principal> Authenticate(
      const grpc::CallbackServerContext& context) const override {
    return Principal{.name = name_};
  }

 private:
  const std::string name_;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PRINCIPAL_H_
