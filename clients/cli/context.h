// What every command shares: the global options, the connection (made on
// first use, so `--help` and usage errors never touch the network), and
// where output goes. A command's action returns an absl::Status; main turns
// it into one error line and the exit code.
//
// Exit codes: 0 success, 1 refused or failed, 2 usage (bad flags, and
// arguments the CLI itself can tell are malformed).
#ifndef PLANTRAIL_CLIENTS_CLI_CONTEXT_H_
#define PLANTRAIL_CLIENTS_CLI_CONTEXT_H_

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "clients/cli/client.h"
#include "google/protobuf/message.h"

namespace plantrail::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// An error the CLI finds in its own arguments, before asking the server:
// exit code 2 like any other usage error.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

class Context {
 public:
  Context(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}

  ConnectionOptions connection;
  std::string token_file;
  double timeout_seconds = 30;
  bool json = false;
  // --plan / PLANTRAIL_PLAN: the plan of every area command and query, and
  // the filter of listings. Empty: the server's only plan (or, listing,
  // every plan).
  std::string plan;

  // The client, connected on first use. Resolves the token (--token,
  // PLANTRAIL_TOKEN, --token-file, the default data directory's
  // admin.token) at that point.
  absl::StatusOr<Client*> client();

  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

  // The message as proto3 JSON on one line (snake_case field names, enums by
  // name, every field present): the stable machine schema of `--json`.
  void PrintJson(const google::protobuf::Message& message);

  // Sets the action of a (sub)command; the first error is kept for main.
  void Action(CLI::App* command, std::function<absl::Status()> action);
  const absl::Status& status() const { return status_; }

 private:
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<Client> client_;
  absl::Status status_;
};

// The proto3 JSON of `message` (as PrintJson prints it).
std::string ToJson(const google::protobuf::Message& message);

// Adds the global options (--server, --json, TLS, token, --timeout).
void AddGlobalOptions(CLI::App& app, Context& context);

// Each file's commands.
void AddPlanCommands(CLI::App& app, Context& context);
void AddQueryCommands(CLI::App& app, Context& context);
void AddStreamCommands(CLI::App& app, Context& context);
void AddImportCommands(CLI::App& app, Context& context);
void AddReportCommand(CLI::App& app, Context& context);
void AddAdminCommands(CLI::App& app, Context& context);
void AddEventCommands(CLI::App& app, Context& context);
void AddPlanAdminCommands(CLI::App& app, Context& context);
void AddAuditCommands(CLI::App& app, Context& context);
void AddFollowUpCommands(CLI::App& app, Context& context);
void AddWebhookCommands(CLI::App& app, Context& context);
// `verify` under `parent` (both `plantrail verify` and `admin verify`).
void AddVerifyCommand(CLI::App& parent, Context& context);

// Runs the CLI on argv; returns the exit code. Writes to out and err only.
int RunCli(int argc, const char* const* argv, std::ostream& out,
           std::ostream& err);

}  // namespace plantrail::cli

#endif  // PLANTRAIL_CLIENTS_CLI_CONTEXT_H_
