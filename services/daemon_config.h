// plantraild's settings: its command-line flags and its configuration file.
//
// Every flag is also a setting of the configuration file (TOML, see
// docs/operations.md): the key is the flag's long name without the dashes,
// `min-free-mb = 256`; a table flattens into its keys, so `[tls] cert = ...`
// is `tls-cert`. A flag given on the command line wins over the file. An
// unknown key, a value of the wrong type or a file that is not TOML is
// refused with the file, line and column, before anything starts.
//
// CLI11 reports errors by throwing CLI::ParseError; that stays inside the
// binary's own main() (CLI11_PARSE), and tests catch it.
#ifndef PLANTRAIL_SERVICES_DAEMON_CONFIG_H_
#define PLANTRAIL_SERVICES_DAEMON_CONFIG_H_

#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "logging/log.h"
#include "services/server.h"

namespace plantrail::services {

struct DaemonOptions {
  ServerOptions server;
  bool check_config = false;
  std::string durability = "fsync";
  uint64_t min_free_mb = 128;
  uint64_t wal_spare_mb = 32;
  double shutdown_grace_seconds = 10;
  double webhook_timeout_seconds = 10;
  double webhook_first_retry_seconds = 1;
  double webhook_longest_retry_seconds = 600;
  double webhook_failing_after_seconds = 3600;
  double sync_timeout_seconds = 10;
  // "etcd=HOST:PORT[,...]" as given.
  std::string election;
  double election_ttl_seconds = 5;
  std::string log_level = "info";
  std::string log_format = "logfmt";
  // Set by FinishDaemonOptions.
  logging::Config log;
};

// Declares every flag of plantraild on `app`, bound to `options` (whose
// current values are the defaults), and --config with the TOML reader.
void AddDaemonFlags(CLI::App& app, DaemonOptions& options);

// After parsing: turns the flag values into options and checks what CLI11
// cannot (log level and format names, the metrics address). The error
// names the setting and the rule.
absl::Status FinishDaemonOptions(DaemonOptions& options);

// The settings in effect, as a configuration file (for --check-config).
std::string EffectiveConfig(const CLI::App& app);

// Reads a TOML file into CLI11's config items; see the file comment.
class TomlConfigReader : public CLI::Config {
 public:
  // `app` is where keys are looked up (so that an unknown one is refused
  // with its line); it must outlive the reader.
  explicit TomlConfigReader(const CLI::App* app) : app_(app) {}

  std::string to_config(const CLI::App* app, bool default_also,
                        bool write_description,
                        std::string prefix) const override;
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

 private:
  const CLI::App* app_;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_DAEMON_CONFIG_H_
