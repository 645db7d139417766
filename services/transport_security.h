// How the server is reached: TLS, mutual TLS, and the rule that plaintext
// stays on loopback. Anything that crosses a network is encrypted unless
// the operator says, with a flag named for what it is, that it need not be.
#ifndef PLANTRAIL_SERVICES_TRANSPORT_SECURITY_H_
#define PLANTRAIL_SERVICES_TRANSPORT_SECURITY_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_context.h"

namespace plantrail::services {

struct TransportSecurity {
  // PEM files: the server's certificate (chain) and key. Both or neither.
  std::string cert_file;
  std::string key_file;
  // A CA (PEM) that client certificates must chain to: mutual TLS, every
  // client presents a certificate, and its subject becomes the principal.
  // Needs cert_file and key_file.
  std::string client_ca_file;
  // Serve plaintext on an address other than loopback. Off by default: the
  // server refuses to start instead.
  bool insecure_plaintext = false;
};

// Whether "host:port" names a loopback address (127.0.0.0/8, ::1,
// localhost). An empty host, 0.0.0.0 and [::] listen on every interface.
bool IsLoopback(absl::string_view listen);

// The credentials a replica connects to its leader with: TLS checked
// against `ca_file` (the system's roots when empty), presenting `cert_file`
// and `key_file` when given (mutual TLS); plaintext when all three are
// empty. INVALID_ARGUMENT names the flag (replica-ca-file, ...).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
ReplicaChannelCredentials(const std::string& ca_file,
                          const std::string& cert_file,
                          const std::string& key_file);

// The credentials to listen on `listen` with. INVALID_ARGUMENT names the
// flag when the files are unreadable or incomplete; FAILED_PRECONDITION
// when plaintext would leave loopback without insecure_plaintext.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const TransportSecurity& security, absl::string_view listen);

// The verified client certificate's subject of this call, as a principal
// name: its common name, else the whole subject; nullopt without one.
std::optional<std::string> ClientCertificatePrincipal(
    const grpc::CallbackServerContext& context);

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_TRANSPORT_SECURITY_H_
