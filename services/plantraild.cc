// plantraild: the plantrail server.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "grpc/support/log.h"
#include "logging/log.h"
#include "services/daemon_config.h"
#include "services/server.h"

#ifndef PLANTRAIL_VERSION
#define PLANTRAIL_VERSION "unknown"
#endif

namespace {

std::string DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return absl::StrCat(xdg, "/plantrail");
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return absl::StrCat(home, "/.local/share/plantrail");
  }
  return "plantrail-data";
}

// gRPC's own messages become lines of our log, at our level.
// gRPC's own messages become lines of our log. Its INFO is chatter about
// pollers and file descriptors, so it is our debug; its ERROR is our
// warning, since plantraild answers every failure that matters itself.
void LogGrpcMessage(gpr_log_func_args* args) {
  const plantrail::logging::Level level =
      args->severity == GPR_LOG_SEVERITY_ERROR
          ? plantrail::logging::Level::kWarning
          : plantrail::logging::Level::kDebug;
  plantrail::logging::Log(
      level, args->message != nullptr ? args->message : "",
      {{"component", "grpc"},
       {"source", absl::StrCat(args->file != nullptr ? args->file : "", ":",
                               args->line)}});
}

void RouteGrpcLogs(plantrail::logging::Level level) {
  gpr_set_log_function(LogGrpcMessage);
  gpr_set_log_verbosity(level == plantrail::logging::Level::kDebug
                            ? GPR_LOG_SEVERITY_DEBUG
                            : GPR_LOG_SEVERITY_ERROR);
}

}  // namespace

// EX_TEMPFAIL: "try again": systemd's Restart=on-failure starts it again.
constexpr int kRestartExitCode = 75;

int main(int argc, char** argv) {
  namespace logging = plantrail::logging;
  plantrail::services::DaemonOptions options;
  options.server.data_dir = DefaultDataDir();

  CLI::App app{"plantraild: the plantrail event-sourced plan ledger server"};
  app.set_version_flag("--version", PLANTRAIL_VERSION);
  plantrail::services::AddDaemonFlags(app, options);
  CLI11_PARSE(app, argc, argv);
  if (absl::Status valid = plantrail::services::FinishDaemonOptions(options);
      !valid.ok()) {
    std::cerr << "plantraild: " << valid.message() << "\n";
    return 1;
  }
  if (options.check_config) {
    std::cout << plantrail::services::EffectiveConfig(app)
              << "# plantraild --check-config: the configuration is valid\n";
    return 0;
  }

  logging::Configure(options.log);
  RouteGrpcLogs(options.log.level);
  const std::string config_file = app.get_config_ptr()->as<std::string>();
  logging::Info("plantraild starting",
                {{"version", PLANTRAIL_VERSION},
                 {"config", config_file},
                 {"data_dir", options.server.data_dir},
                 {"listen", options.server.listen},
                 {"metrics_listen", options.server.metrics_listen}});
  if (options.server.durability == plantrail::eventstore::Durability::kNoSync) {
    logging::Warning(
        "durability=none: appends are not fsync'd; an OS crash or power loss "
        "may lose acknowledged events. Use only for tests and bulk import.");
  }
  if (options.server.transport.insecure_plaintext &&
      options.server.transport.cert_file.empty() &&
      !plantrail::services::IsLoopback(options.server.listen)) {
    logging::Warning(
        "insecure-plaintext: serving without TLS; tokens and plan data "
        "cross the network in the clear",
        {{"listen", options.server.listen}});
  }

  // Every thread started from here on inherits the blocked signals, so only
  // sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The election may move this server (it lost its lease, or another server
  // won): it shuts down like on SIGTERM and exits with kRestartExitCode so
  // that its supervisor starts it again in its new role.
  static std::atomic<bool> restart_needed{false};
  options.server.on_restart_needed = [](const std::string&) {
    if (!restart_needed.exchange(true)) kill(getpid(), SIGTERM);
  };
  auto server = plantrail::services::Server::Start(options.server);
  if (!server.ok()) {
    logging::Error("cannot start", {{"error", server.status().ToString()}});
    return 1;
  }
  if (!(*server)->created_admin_token().empty()) {
    logging::Info(
        "first start: an admin token was written (readable only by this "
        "user); plantrail reads it with --token-file or "
        "PLANTRAIL_TOKEN_FILE, and by itself from the default data "
        "directory",
        {{"token_file", (*server)->created_admin_token()}});
  }
  logging::Info("listening", {{"address", (*server)->address()},
                              {"metrics_port", (*server)->metrics_port()},
                              {"data_dir", options.server.data_dir}});
  // Scripts and tests wait for this line on stdout.
  std::cout << "plantraild listening on " << (*server)->address()
            << " with data in " << options.server.data_dir;
  if ((*server)->metrics_port() != 0) {
    std::cout << "; metrics on http://" << (*server)->metrics_address()
              << "/metrics";
  }
  std::cout << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  logging::Info("shutting down",
                {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"},
                 {"grace_seconds", options.shutdown_grace_seconds}});
  (*server)->Shutdown(absl::Seconds(options.shutdown_grace_seconds));
  if (restart_needed.load()) {
    logging::Warning(
        "stopped to restart in a new role (the election moved this server); "
        "its supervisor starts it again",
        {{"exit_code", kRestartExitCode}});
    return kRestartExitCode;
  }
  logging::Info("stopped cleanly");
  return 0;
}
