#include "services/transport_security.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpcpp/security/auth_context.h"

namespace plantrail::services {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  if (in) content << in.rdbuf();
  if (!in || content.str().find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read a PEM file at \"", path, "\""));
  }
  return content.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
ReplicaChannelCredentials(const std::string& ca_file,
                          const std::string& cert_file,
                          const std::string& key_file) {
  if (ca_file.empty() && cert_file.empty() && key_file.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        "replica-cert-file and replica-key-file: give both or neither");
  }
  grpc::SslCredentialsOptions ssl;
  if (!ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(ca_file, "replica-ca-file");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadPem(cert_file, "replica-cert-file");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(key_file, "replica-key-file");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

bool IsLoopback(absl::string_view listen) {
  absl::string_view host = listen;
  if (const size_t colon = host.rfind(':'); colon != absl::string_view::npos &&
                                            !absl::EndsWith(host, "]") &&
                                            host.find(':') == colon) {
    host = host.substr(0, colon);  // "127.0.0.1:50051", "localhost:1"
  } else if (absl::StartsWith(host, "[")) {
    host = host.substr(1, host.find(']') - 1);  // "[::1]:50051"
  }
  if (host == "localhost") return true;
  // An address, parsed as one: a name such as "127.a.b.c" is not an
  // address and could resolve anywhere.
  const std::string text(host);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const TransportSecurity& security, absl::string_view listen) {
  const bool tls = !security.cert_file.empty() || !security.key_file.empty();
  if (!tls) {
    if (!security.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls-client-ca: mutual TLS needs the server's own --tls-cert and "
          "--tls-key");
    }
    if (!IsLoopback(listen) && !security.insecure_plaintext) {
      return absl::FailedPreconditionError(absl::StrCat(
          "listen: ", listen,
          " is not a loopback address, and plaintext would cross the "
          "network: give --tls-cert and --tls-key (see docs/security.md), "
          "or --insecure-plaintext if something else encrypts the traffic"));
    }
    return grpc::InsecureServerCredentials();
  }
  if (security.cert_file.empty() || security.key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key: give both (the certificate and its key)");
  }
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  absl::StatusOr<std::string> cert = ReadPem(security.cert_file, "--tls-cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(security.key_file, "--tls-key");
  if (!key.ok()) return key.status();
  ssl.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  if (!security.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        ReadPem(security.client_ca_file, "--tls-client-ca");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

std::optional<std::string> ClientCertificatePrincipal(
    const grpc::CallbackServerContext& context) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return std::nullopt;
  for (const char* property : {"x509_common_name", "x509_subject"}) {
    const std::vector<grpc::string_ref> values =
        auth->FindPropertyValues(property);
    if (!values.empty() && values.front().size() > 0) {
      return std::string(values.front().data(), values.front().size());
    }
  }
  return std::nullopt;
}

}  // namespace plantrail::services
