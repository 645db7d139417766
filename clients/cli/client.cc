#include "clients/cli/client.h"

#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace plantrail::cli {

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": cannot read \"", path, "\""));
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

namespace {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    const ConnectionOptions& options) {
  const bool tls = options.tls || !options.tls_ca_file.empty() ||
                   !options.tls_cert_file.empty() ||
                   !options.tls_key_file.empty();
  if (!tls) return grpc::InsecureChannelCredentials();
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key: give both or neither (mutual TLS needs the "
        "certificate and its key)");
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadFile(options.tls_ca_file, "--tls-ca");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
  }
  if (!options.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert =
        ReadFile(options.tls_cert_file, "--tls-cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadFile(options.tls_key_file, "--tls-key");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const ConnectionOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      Credentials(options);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments arguments;
  if (!options.tls_server_name.empty()) {
    arguments.SetSslTargetNameOverride(options.tls_server_name);
  }
  // Answers can be large (a whole plan's areas, an export page).
  arguments.SetMaxReceiveMessageSize(64 << 20);
  return std::unique_ptr<Client>(new Client(
      options,
      grpc::CreateCustomChannel(options.server, *credentials, arguments)));
}

Client::Client(ConnectionOptions options,
               std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      commands_(v1::PlanCommands::NewStub(channel_)),
      queries_(v1::PlanQueries::NewStub(channel_)),
      events_(v1::EventStore::NewStub(channel_)),
      admin_(v1::Admin::NewStub(channel_)) {}

std::optional<std::string> LeaderOf(const absl::Status& status) {
  constexpr absl::string_view kLead = "send them to the leader at ";
  constexpr absl::string_view kRule = " [rule: writes-go-to-the-leader]";
  if (!absl::IsFailedPrecondition(status)) return std::nullopt;
  absl::string_view message = status.message();
  const size_t at = message.find(kLead);
  const size_t rule = message.find(kRule);
  if (at == absl::string_view::npos || rule == absl::string_view::npos ||
      rule < at + kLead.size()) {
    return std::nullopt;
  }
  return std::string(
      message.substr(at + kLead.size(), rule - at - kLead.size()));
}

absl::Status Client::MoveTo(const std::string& server) {
  ConnectionOptions options = options_;
  options.server = server;
  PLANTRAIL_ASSIGN_OR_RETURN(std::unique_ptr<Client> moved, Connect(options));
  std::cerr << "plantrail: " << options_.server
            << " is a replica; sending the write to its leader at " << server
            << "\n";
  options_ = std::move(moved->options_);
  channel_ = std::move(moved->channel_);
  commands_ = std::move(moved->commands_);
  queries_ = std::move(moved->queries_);
  events_ = std::move(moved->events_);
  admin_ = std::move(moved->admin_);
  return absl::OkStatus();
}

std::unique_ptr<grpc::ClientContext> Client::NewContext() const {
  return NewContext(absl::Now() + options_.timeout);
}

std::unique_ptr<grpc::ClientContext> Client::NewContext(
    absl::Time deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (deadline != absl::InfiniteFuture()) {
    context->set_deadline(absl::ToChronoTime(deadline));
  }
  if (!options_.token.empty()) {
    context->AddMetadata("authorization",
                         absl::StrCat("Bearer ", options_.token));
  }
  return context;
}

absl::StatusOr<uint64_t> Client::HeadPosition() {
  v1::ReadAllRequest request;
  request.set_from_position(std::numeric_limits<uint64_t>::max());
  request.set_limit(1);
  v1::ReadAllResponse response;
  if (absl::Status status =
          Call(&v1::EventStore::Stub::ReadAll, *events_, request, response);
      !status.ok()) {
    return status;
  }
  return response.head_position();
}

absl::Status Client::FromGrpc(const grpc::Status& status) const {
  if (status.ok()) return absl::OkStatus();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  const std::string& message = status.error_message();
  if (code != absl::StatusCode::kUnavailable ||
      message.find("connect") == std::string::npos) {
    return absl::Status(code, message);
  }
  // Say what is likely wrong: nothing listening, or a TLS mismatch.
  const bool refused = message.find("refused") != std::string::npos;
  const bool tls = options_.tls || !options_.tls_ca_file.empty() ||
                   !options_.tls_cert_file.empty();
  std::string hint;
  if (refused) {
    hint = "is it running? --server or PLANTRAIL_SERVER names another";
  } else if (tls) {
    hint =
        "the TLS handshake failed: does --tls-ca sign the server's "
        "certificate, does the server speak TLS, and does it want a client "
        "certificate (--tls-cert, --tls-key) signed by its --tls-client-ca?";
  } else {
    hint =
        "the connection was closed: does the server want TLS (--tls-ca, and "
        "for mutual TLS --tls-cert and --tls-key)?";
  }
  return absl::Status(
      code, absl::StrCat("cannot reach plantraild at ", options_.server, " (",
                         hint, "): ", message));
}

}  // namespace plantrail::cli
