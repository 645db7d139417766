#include "clients/cli/context.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace plantrail::cli {
namespace {

// Marks the CLI's own refusals of its arguments (exit code 2).
constexpr absl::string_view kUsagePayload = "plantrail.cli/usage";

// Where the server keeps its data by default (as plantraild decides it).
std::string DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return absl::StrCat(xdg, "/plantrail");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home ? home : ".", "/.local/share/plantrail");
}

absl::StatusOr<std::string> ReadToken(const std::string& path, bool required) {
  std::ifstream in(path);
  if (!in) {
    if (!required) return std::string();
    return UsageError(absl::StrCat("--token-file: cannot read \"", path, "\""));
  }
  std::ostringstream content;
  content << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(content.str()));
}

// One line: the server's (or the CLI's) message and the code.
void PrintError(const absl::Status& status, bool json, std::ostream& err) {
  const std::string code = absl::StatusCodeToString(status.code());
  if (json) {
    nlohmann::json error;
    error["error"] = {{"code", code},
                      {"message", std::string(status.message())}};
    err << error.dump() << "\n";
  } else {
    err << "plantrail: " << status.message() << " (" << code << ")\n";
  }
}

}  // namespace

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  // The server holds several plans and the command named none: as much a
  // usage error as a missing flag (the message lists the plans).
  if (absl::IsInvalidArgument(status) &&
      absl::StrContains(status.message(), "[rule: plan-required]")) {
    return true;
  }
  return status.GetPayload(kUsagePayload).has_value();
}

absl::StatusOr<Client*> Context::client() {
  if (client_ != nullptr) return client_.get();
  ConnectionOptions options = connection;
  options.timeout = absl::Seconds(timeout_seconds);
  if (options.token.empty()) {
    const bool explicit_file = !token_file.empty();
    absl::StatusOr<std::string> token = ReadToken(
        explicit_file ? token_file
                      : absl::StrCat(DefaultDataDir(), "/admin.token"),
        explicit_file);
    if (!token.ok()) return token.status();
    options.token = *std::move(token);
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return client.status();
  client_ = *std::move(client);
  return client_.get();
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // Printing our own messages cannot fail (no Any, no unknown types).
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

void Context::PrintJson(const google::protobuf::Message& message) {
  out_ << ToJson(message) << "\n";
}

void Context::Action(CLI::App* command, std::function<absl::Status()> action) {
  command->callback([this, action = std::move(action)] {
    absl::Status status = action();
    if (!status.ok() && status_.ok()) status_ = std::move(status);
  });
}

void AddGlobalOptions(CLI::App& app, Context& context) {
  app.option_defaults()->always_capture_default();
  app.add_option("--server", context.connection.server,
                 "plantraild's address, host:port")
      ->envname("PLANTRAIL_SERVER")
      ->capture_default_str();
  app.add_flag("--json", context.json,
               "Machine output: proto3 JSON, one object per line");
  app.add_option("--timeout", context.timeout_seconds,
                 "Seconds each call may take")
      ->check(CLI::PositiveNumber);
  app.add_option("--token", context.connection.token,
                 "Bearer token (else PLANTRAIL_TOKEN, --token-file, or the "
                 "default data directory's admin.token)")
      ->envname("PLANTRAIL_TOKEN");
  app.add_option("--token-file", context.token_file,
                 "File holding the bearer token (plantraild's first start "
                 "writes <data-dir>/admin.token)")
      ->envname("PLANTRAIL_TOKEN_FILE");
  app.add_option("--plan", context.plan,
                 "The plan of area commands and queries (else PLANTRAIL_PLAN; "
                 "else the server's only plan); listings: only this plan")
      ->envname("PLANTRAIL_PLAN");
  app.add_flag("--tls", context.connection.tls,
               "Use TLS (implied by any --tls-* file)");
  app.add_option("--tls-ca", context.connection.tls_ca_file,
                 "CA certificate (PEM) that signed the server's certificate");
  app.add_option("--tls-cert", context.connection.tls_cert_file,
                 "Client certificate (PEM) for mutual TLS");
  app.add_option("--tls-key", context.connection.tls_key_file,
                 "Client key (PEM) for mutual TLS");
  app.add_option("--tls-server-name", context.connection.tls_server_name,
                 "Name to check the server's certificate against");
  app.add_flag("!--no-follow-leader", context.connection.follow_leader,
               "Report a replica's refusal of a write instead of sending the "
               "write to the leader it names");
}

int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err) {
  Context context(out, err);
  CLI::App app(
      "plantrail: the administrators' CLI for plantraild, the auditable plan "
      "ledger.\nEvery command talks to the server over gRPC; --json gives "
      "machine output.",
      "plantrail");
  app.require_subcommand(1);
  // Global options may follow the command too (`plantrail admin stats
  // --json`): a subcommand hands options it does not know to its parent.
  // Inherited by every subcommand added below.
  app.fallthrough();
  app.footer(
      "Examples:\n"
      "  plantrail import examples/kth-action-plan.json\n"
      "  plantrail portfolio\n"
      "  plantrail reschedule 3.1.1 --end VT24 --reason \"Ladok upgrade "
      "moved\"\n"
      "  plantrail history 3.1.1\n"
      "Exit codes: 0 success, 1 refused or failed, 2 usage.");
  AddGlobalOptions(app, context);
  AddPlanCommands(app, context);
  AddQueryCommands(app, context);
  AddStreamCommands(app, context);
  AddImportCommands(app, context);
  AddPlanAdminCommands(app, context);
  AddReportCommand(app, context);
  AddAdminCommands(app, context);
  AddEventCommands(app, context);
  AddAuditCommands(app, context);
  AddFollowUpCommands(app, context);
  AddWebhookCommands(app, context);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& parse_error) {
    // "A subcommand is required" hides a misspelt command: name it.
    std::optional<CLI::ExtrasError> misspelt;
    if (const std::vector<std::string> unknown = app.remaining(true);
        dynamic_cast<const CLI::RequiredError*>(&parse_error) != nullptr &&
        !unknown.empty()) {
      misspelt.emplace(unknown);
    }
    const CLI::ParseError& e = misspelt ? *misspelt : parse_error;
    // --json asks for machine-readable errors, also when the arguments
    // themselves are wrong (CLI11 may stop before it reaches --json).
    const bool json =
        context.json || std::any_of(argv + 1, argv + argc, [](const char* arg) {
          return absl::string_view(arg) == "--json";
        });
    if (e.get_exit_code() != 0 && json) {
      PrintError(absl::InvalidArgumentError(e.what()), /*json=*/true, err);
      return kExitUsage;
    }
    const int code = app.exit(e, out, err);
    return code == 0 ? kExitOk : kExitUsage;
  }
  const absl::Status& status = context.status();
  if (status.ok()) return kExitOk;
  PrintError(status, context.json, err);
  return IsUsageError(status) ? kExitUsage : kExitFailed;
}

}  // namespace plantrail::cli
