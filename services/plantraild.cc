// plantraild: the plantrail server.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "services/server.h"

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

}  // namespace

int main(int argc, char** argv) {
  plantrail::services::ServerOptions options{.data_dir = DefaultDataDir()};
  std::string durability = "fsync";
  double shutdown_grace_seconds = 10;

  CLI::App app{"plantraild: the plantrail event-sourced plan ledger server"};
  app.add_option("--data-dir", options.data_dir,
                 "Directory for the server's data (the RocksDB event log)")
      ->capture_default_str();
  app.add_option("--restore-from", options.restore_from,
                 "Fill an empty --data-dir from a backup (plantrail admin "
                 "backup) before serving; the restored log must verify");
  app.add_option("--listen", options.listen,
                 "host:port to serve gRPC on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--durability", durability,
                 "fsync: an append is acknowledged once fsync'd (default). "
                 "none: no fsync, an OS crash may lose acknowledged appends; "
                 "for tests and bulk import only")
      ->check(CLI::IsMember({"fsync", "none"}))
      ->capture_default_str();
  app.add_option("--tls-cert", options.transport.cert_file,
                 "The server's certificate (PEM): serve TLS");
  app.add_option("--tls-key", options.transport.key_file,
                 "The key (PEM) of --tls-cert");
  app.add_option("--tls-client-ca", options.transport.client_ca_file,
                 "Mutual TLS: every client presents a certificate signed by "
                 "this CA (PEM); its subject's common name is the caller");
  app.add_option("--max-message-bytes", options.max_receive_message_bytes,
                 "Largest request accepted; larger ones are refused with "
                 "RESOURCE_EXHAUSTED")
      ->check(CLI::Range(1 << 20, 1 << 30))
      ->capture_default_str();
  app.add_option("--max-subscribers", options.subscriptions.max_subscribers,
                 "Open change-stream subscriptions in all")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-subscriptions-per-principal",
                 options.subscriptions.max_per_principal,
                 "Open change-stream subscriptions per caller")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-failed-auth-per-minute", options.failures_per_minute,
                 "Failed authentications from one address in a minute before "
                 "it is refused for a while (1 s, doubling up to a minute)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--insecure-plaintext", options.transport.insecure_plaintext,
               "Serve plaintext on a non-loopback address (refused without "
               "it): only where something else encrypts the traffic");
  uint64_t min_free_mb = options.min_free_bytes >> 20;
  app.add_option("--min-free-mb", min_free_mb,
                 "Refuse appends (RESOURCE_EXHAUSTED) while the data "
                 "directory's disk has less free space than this many MiB; "
                 "they go on by themselves once space is freed. 0: no floor")
      ->capture_default_str();
  app.add_option("--shutdown-grace", shutdown_grace_seconds,
                 "Seconds in-flight calls get to finish on SIGINT/SIGTERM")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.min_free_bytes = min_free_mb << 20;
  if (durability == "none") {
    options.durability = plantrail::eventstore::Durability::kNoSync;
    std::cerr << "plantraild: WARNING: --durability=none: appends are not "
                 "fsync'd; an OS crash or power loss may lose acknowledged "
                 "events. Use only for tests and bulk import.\n";
  }

  if (options.transport.insecure_plaintext &&
      options.transport.cert_file.empty() &&
      !plantrail::services::IsLoopback(options.listen)) {
    std::cerr << "plantraild: WARNING: --insecure-plaintext: serving "
              << options.listen
              << " WITHOUT TLS. Tokens and plan data cross the network in "
                 "the clear.\n";
  }

  // Every thread started from here on inherits the blocked signals, so only
  // sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = plantrail::services::Server::Start(options);
  if (!server.ok()) {
    std::cerr << "plantraild: " << server.status().message() << "\n";
    return 1;
  }
  if (!(*server)->created_admin_token().empty()) {
    std::cerr << "plantraild: first start: an admin token is in "
              << (*server)->created_admin_token()
              << " (readable only by this user); plantrail reads it with "
                 "--token-file or PLANTRAIL_TOKEN_FILE, and by itself from "
                 "the default data directory\n";
  }
  std::cout << "plantraild listening on " << (*server)->address()
            << " with data in " << options.data_dir << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cerr << "plantraild: "
            << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
            << ", shutting down\n";
  (*server)->Shutdown(absl::Seconds(shutdown_grace_seconds));
  std::cerr << "plantraild: stopped cleanly\n";
  return 0;
}
