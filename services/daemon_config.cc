#include "services/daemon_config.h"

#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "toml++/toml.h"

namespace plantrail::services {
namespace {

std::string Where(const std::string& file, const toml::source_region& region) {
  return absl::StrCat(file.empty() ? "config" : file, ":", region.begin.line,
                      ":", region.begin.column);
}

// The file being read, for messages (CLI11 hands the reader a stream only).
std::string ConfigFileName(const CLI::App* app) {
  const CLI::Option* option = app->get_config_ptr();
  if (option == nullptr || option->results().empty()) return "";
  return option->results().front();
}

std::string ScalarText(const toml::node& node) {
  if (const auto* text = node.as_string()) return text->get();
  if (const auto* integer = node.as_integer()) {
    return absl::StrCat(integer->get());
  }
  if (const auto* number = node.as_floating_point()) {
    return absl::StrFormat("%.17g", number->get());
  }
  if (const auto* boolean = node.as_boolean()) {
    return boolean->get() ? "true" : "false";
  }
  return "";
}

bool IsScalar(const toml::node& node) {
  return node.is_string() || node.is_integer() || node.is_floating_point() ||
         node.is_boolean();
}

}  // namespace

void AddDaemonFlags(CLI::App& app, DaemonOptions& options) {
  app.config_formatter(std::make_shared<TomlConfigReader>(&app));
  app.set_config("--config", "",
                 "Read settings from this TOML file: each key is a long flag "
                 "name (data-dir = \"/var/lib/plantrail\"); flags given here "
                 "win")
      ->check(CLI::ExistingFile);
  app.add_flag("--check-config", options.check_config,
               "Check the flags and the --config file, print the settings in "
               "effect and exit: 0 when they are valid")
      ->configurable(false);

  ServerOptions& server = options.server;
  app.add_option("--data-dir", server.data_dir,
                 "Directory for the server's data (the RocksDB event log)")
      ->capture_default_str();
  app.add_option("--restore-from", server.restore_from,
                 "Fill an empty --data-dir from a backup (plantrail admin "
                 "backup) before serving; the restored log must verify. "
                 "Command line only: it is done once")
      ->configurable(false);
  app.add_option("--listen", server.listen,
                 "host:port to serve gRPC on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--durability", options.durability,
                 "fsync: an append is acknowledged once fsync'd (default). "
                 "none: no fsync, an OS crash may lose acknowledged appends; "
                 "for tests and bulk import only")
      ->check(CLI::IsMember({"fsync", "none"}))
      ->capture_default_str();
  app.add_option("--tls-cert", server.transport.cert_file,
                 "The server's certificate (PEM): serve TLS");
  app.add_option("--tls-key", server.transport.key_file,
                 "The key (PEM) of --tls-cert");
  app.add_option("--tls-client-ca", server.transport.client_ca_file,
                 "Mutual TLS: every client presents a certificate signed by "
                 "this CA (PEM); its subject's common name is the caller");
  app.add_option("--max-message-bytes", server.max_receive_message_bytes,
                 "Largest request accepted; larger ones are refused with "
                 "RESOURCE_EXHAUSTED")
      ->check(CLI::Range(1 << 20, 1 << 30))
      ->capture_default_str();
  app.add_option("--max-subscribers", server.subscriptions.max_subscribers,
                 "Open change-stream subscriptions in all")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-subscriptions-per-principal",
                 server.subscriptions.max_per_principal,
                 "Open change-stream subscriptions per caller")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-failed-auth-per-minute", server.failures_per_minute,
                 "Failed authentications from one address in a minute before "
                 "it is refused for a while (1 s, doubling up to a minute)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--insecure-plaintext", server.transport.insecure_plaintext,
               "Serve plaintext on a non-loopback address (refused without "
               "it): only where something else encrypts the traffic");
  app.add_option("--min-free-mb", options.min_free_mb,
                 "Refuse appends (RESOURCE_EXHAUSTED) while the data "
                 "directory's disk has less free space than this many MiB; "
                 "they go on by themselves once space is freed. 0: no floor")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--wal-spare-mb", options.wal_spare_mb,
                 "Write the log's write-ahead log files with this many MiB of "
                 "zeros before they are used, so that a commit's fsync "
                 "overwrites blocks in place instead of growing a file (as "
                 "PostgreSQL does with its WAL segments); one spare file of "
                 "this size stays in the data directory. 0: RocksDB's own "
                 "growing files")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--shutdown-grace", options.shutdown_grace_seconds,
                 "Seconds in-flight calls get to finish on SIGINT/SIGTERM")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--metrics-listen", server.metrics_listen,
                 "host:port to serve Prometheus metrics on (GET /metrics, "
                 "plain HTTP); empty: no metrics endpoint")
      ->capture_default_str();
  WebhookOptions& hooks = server.webhooks;
  app.add_option("--webhook-key-file", hooks.key_file,
                 "The key that seals webhook signing secrets (64 hex digits, "
                 "created 0600 when missing); default: <data-dir>/webhook.key");
  app.add_flag("--webhook-allow-loopback", hooks.allow_loopback,
               "Allow webhook endpoints on loopback addresses, and plain "
               "http:// to them (tests, a relay on this machine)");
  app.add_flag("--webhook-allow-private", hooks.allow_private,
               "Allow webhook endpoints on private and link-local networks "
               "(refused by default: no request forgery through a URL)");
  app.add_option("--webhook-ca-file", hooks.ca_file,
                 "Certificate authorities (PEM) webhook HTTPS endpoints are "
                 "checked against; default: the system's");
  app.add_option("--webhook-timeout", options.webhook_timeout_seconds,
                 "Seconds a webhook request may take to connect, and each "
                 "read or write on it")
      ->check(CLI::Range(0.1, 300.0))
      ->capture_default_str();
  app.add_option("--webhook-first-retry", options.webhook_first_retry_seconds,
                 "Seconds before the first retry of a failed webhook "
                 "request; each next wait doubles (with jitter)")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_option("--webhook-longest-retry",
                 options.webhook_longest_retry_seconds,
                 "Longest wait between webhook retries, in seconds (also "
                 "caps a receiver's Retry-After)")
      ->check(CLI::Range(0.01, 86400.0))
      ->capture_default_str();
  app.add_option("--webhook-failing-after",
                 options.webhook_failing_after_seconds,
                 "Seconds a webhook endpoint retries before it is failing "
                 "(and one added with --pause-when-failing pauses itself)")
      ->check(CLI::Range(1.0, 30.0 * 86400))
      ->capture_default_str();
  ReplicaOptions& replica = server.replica;
  app.add_option("--replica-of", replica.replica_of,
                 "host:port of a leader to follow: this server becomes its "
                 "replica (refuses writes, serves reads); empty: it leads");
  app.add_option("--replica-token-file", replica.token_file,
                 "A file holding an admin token of the leader's, which the "
                 "replica presents");
  app.add_option("--replica-ca-file", replica.ca_file,
                 "Certificate authorities (PEM) the leader's certificate is "
                 "checked against; with it the replica connects over TLS");
  app.add_option("--replica-cert-file", replica.cert_file,
                 "The replica's client certificate (PEM), for mutual TLS");
  app.add_option("--replica-key-file", replica.key_file,
                 "The key (PEM) of --replica-cert-file");
  app.add_option("--replica-name", replica.name,
                 "How the leader names this replica; default: the host name");
  app.add_option("--election", options.election,
                 "etcd=HOST:PORT[,HOST:PORT...]: automatic failover; who "
                 "leads is a key on this etcd cluster (needs "
                 "--replica-token-file, and --listen or --advertise-address "
                 "naming a host and port)");
  app.add_option("--election-key", server.election.key,
                 "The etcd key the leader holds")
      ->capture_default_str();
  app.add_option("--election-ttl", options.election_ttl_seconds,
                 "Seconds the leader's lease lasts without a keep-alive: "
                 "how soon a dead leader is replaced")
      ->check(CLI::Range(1.0, 600.0))
      ->capture_default_str();
  app.add_option("--advertise-address", server.election.advertise,
                 "host:port others reach this server at (the leader key's "
                 "value); default: --listen");
  app.add_option("--sync-replicas", server.sync.replicas,
                 "Acknowledge an append only once this many replicas hold it "
                 "durably (while this server leads); 0: asynchronous")
      ->check(CLI::Range(0, 16))
      ->capture_default_str();
  app.add_option("--sync-timeout", options.sync_timeout_seconds,
                 "Seconds an append waits for its synchronous replicas before "
                 "it fails (UNAVAILABLE; retry it with the same ids)")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  app.add_flag("--sync-fallback-async", server.sync.fallback_async,
               "When synchronous replicas do not acknowledge in time, "
               "acknowledge anyway and replicate asynchronously until they "
               "catch up (said in the log and the metrics)");
  app.add_option("--log-level", options.log_level,
                 "Least severe log lines written: debug, info, warning, error")
      ->capture_default_str();
  app.add_option("--log-format", options.log_format,
                 "logfmt (key=value) or json (one object a line), on stderr")
      ->capture_default_str();
}

absl::Status FinishDaemonOptions(DaemonOptions& options) {
  PLANTRAIL_ASSIGN_OR_RETURN(options.log.level,
                             logging::ParseLevel(options.log_level));
  PLANTRAIL_ASSIGN_OR_RETURN(options.log.format,
                             logging::ParseFormat(options.log_format));
  options.server.durability = options.durability == "none"
                                  ? eventstore::Durability::kNoSync
                                  : eventstore::Durability::kSync;
  if (options.min_free_mb > (uint64_t{1} << 44)) {
    return absl::InvalidArgumentError(
        "min-free-mb: at most 2^44 (16 EiB in all)");
  }
  options.server.min_free_bytes = options.min_free_mb << 20;
  options.server.wal_spare_bytes = options.wal_spare_mb << 20;
  options.server.sync.timeout = absl::Seconds(options.sync_timeout_seconds);
  options.server.election.ttl = absl::Seconds(options.election_ttl_seconds);
  if (!options.election.empty()) {
    if (!absl::StartsWith(options.election, "etcd=")) {
      return absl::InvalidArgumentError(
          "election: etcd=HOST:PORT[,HOST:PORT...] (etcd is the one "
          "coordination service plantrail elects on)");
    }
    options.server.election.etcd = options.election.substr(5);
  }
  WebhookOptions& hooks = options.server.webhooks;
  hooks.connect_timeout = absl::Seconds(options.webhook_timeout_seconds);
  hooks.io_timeout = hooks.connect_timeout;
  hooks.first_retry = absl::Seconds(options.webhook_first_retry_seconds);
  hooks.longest_retry = absl::Seconds(options.webhook_longest_retry_seconds);
  hooks.failing_after = absl::Seconds(options.webhook_failing_after_seconds);
  if (hooks.first_retry > hooks.longest_retry) {
    return absl::InvalidArgumentError(
        "webhook-first-retry: longer than webhook-longest-retry");
  }
  return CheckServerOptions(options.server);
}

std::string EffectiveConfig(const CLI::App& app) {
  return CLI::ConfigTOML().to_config(&app, /*default_also=*/true,
                                     /*write_description=*/false, "");
}

std::string TomlConfigReader::to_config(const CLI::App* app, bool default_also,
                                        bool write_description,
                                        std::string prefix) const {
  return CLI::ConfigTOML().to_config(app, default_also, write_description,
                                     std::move(prefix));
}

std::vector<CLI::ConfigItem> TomlConfigReader::from_config(
    std::istream& input) const {
  const std::string file = ConfigFileName(app_);
  toml::table root;
  try {
    root = toml::parse(input, file);
  } catch (const toml::parse_error& error) {
    throw CLI::ConfigError(
        absl::StrCat(Where(file, error.source()),
                     ": not valid TOML: ", std::string(error.description())));
  }
  std::vector<CLI::ConfigItem> items;
  // A table's keys join its name with '-': [tls] cert is tls-cert.
  std::function<void(const toml::table&, const std::string&)> read =
      [&](const toml::table& table, const std::string& prefix) {
        for (const auto& [key, node] : table) {
          const std::string name =
              prefix.empty()
                  ? std::string(key.str())
                  : absl::StrCat(prefix, "-", std::string(key.str()));
          if (const toml::table* inner = node.as_table()) {
            read(*inner, name);
            continue;
          }
          const CLI::Option* option = app_->get_option_no_throw("--" + name);
          if (option == nullptr || !option->get_configurable()) {
            throw CLI::ConfigError(absl::StrCat(
                Where(file, key.source()), ": unknown setting \"", name,
                "\"; the settings are the long flags of plantraild --help, "
                "without the dashes (but config, check-config and "
                "restore-from, "
                "which are command line only)"));
          }
          CLI::ConfigItem item;
          item.name = name;
          if (const toml::array* values = node.as_array()) {
            for (const toml::node& value : *values) {
              if (!IsScalar(value)) {
                throw CLI::ConfigError(
                    absl::StrCat(Where(file, value.source()), ": ", name,
                                 ": a list holds strings, numbers or "
                                 "booleans only"));
              }
              item.inputs.push_back(ScalarText(value));
            }
          } else if (IsScalar(node)) {
            item.inputs.push_back(ScalarText(node));
          } else {
            throw CLI::ConfigError(absl::StrCat(
                Where(file, node.source()), ": ", name,
                ": must be a string, number or boolean (TOML dates and "
                "times are not settings here)"));
          }
          items.push_back(std::move(item));
        }
      };
  read(root, "");
  return items;
}

}  // namespace plantrail::services
