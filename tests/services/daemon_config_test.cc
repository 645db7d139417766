#include "services/daemon_config.h"

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace plantrail::services {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DaemonConfigTest : public ::testing::Test {
 protected:
  std::string WriteConfig(const std::string& text) {
    const std::string path = dir_ / "plantraild.toml";
    std::ofstream(path) << text;
    return path;
  }

  // Parses `args` (after the program name) as plantraild does; the error
  // CLI11 reports, or empty.
  std::string Parse(std::vector<std::string> args) {
    options_ = DaemonOptions();
    options_.server.data_dir = "/default";
    app_ = std::make_unique<CLI::App>("plantraild");
    AddDaemonFlags(*app_, options_);
    args.insert(args.begin(), "plantraild");
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    try {
      app_->parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& error) {
      return error.what();
    }
    const absl::Status finished = FinishDaemonOptions(options_);
    return finished.ok() ? "" : std::string(finished.message());
  }

  plantrail::testing::TempDir dir_;
  DaemonOptions options_;
  std::unique_ptr<CLI::App> app_;
};

TEST_F(DaemonConfigTest, EveryFlagIsASettingAndTablesFlattenIntoKeys) {
  const std::string config = WriteConfig(R"(# plantraild
data-dir = "/var/lib/plantrail"
listen = "127.0.0.1:50052"
durability = "none"
min-free-mb = 256
max-subscribers = 12
insecure-plaintext = false
shutdown-grace = 2.5
metrics-listen = "127.0.0.1:9477"

[log]
level = "debug"
format = "json"
)");
  ASSERT_EQ(Parse({"--config", config}), "");
  EXPECT_EQ(options_.server.data_dir, "/var/lib/plantrail");
  EXPECT_EQ(options_.server.listen, "127.0.0.1:50052");
  EXPECT_EQ(options_.server.durability, eventstore::Durability::kNoSync);
  EXPECT_EQ(options_.server.min_free_bytes, uint64_t{256} << 20);
  EXPECT_EQ(options_.server.subscriptions.max_subscribers, 12u);
  EXPECT_EQ(options_.shutdown_grace_seconds, 2.5);
  EXPECT_EQ(options_.server.metrics_listen, "127.0.0.1:9477");
  EXPECT_EQ(options_.log.level, logging::Level::kDebug);
  EXPECT_EQ(options_.log.format, logging::Format::kJson);
}

TEST_F(DaemonConfigTest, FlagsWinOverTheFile) {
  const std::string config = WriteConfig(
      "data-dir = \"/from/file\"\nmin-free-mb = 256\nlog-level = \"error\"\n");
  ASSERT_EQ(Parse({"--config", config, "--min-free-mb", "0", "--log-level",
                   "warning"}),
            "");
  EXPECT_EQ(options_.server.data_dir, "/from/file");
  EXPECT_EQ(options_.server.min_free_bytes, 0u);
  EXPECT_EQ(options_.log.level, logging::Level::kWarning);
}

TEST_F(DaemonConfigTest, WithoutAFileTheDefaultsHold) {
  ASSERT_EQ(Parse({}), "");
  EXPECT_EQ(options_.server.data_dir, "/default");
  EXPECT_EQ(options_.server.listen, "127.0.0.1:50051");
  EXPECT_EQ(options_.server.durability, eventstore::Durability::kSync);
  EXPECT_EQ(options_.server.min_free_bytes, uint64_t{128} << 20);
  EXPECT_EQ(options_.server.metrics_listen, "");
  EXPECT_EQ(options_.log.level, logging::Level::kInfo);
  EXPECT_EQ(options_.log.format, logging::Format::kLogfmt);
}

TEST_F(DaemonConfigTest, AnUnknownKeyIsRefusedWithItsLine) {
  const std::string config =
      WriteConfig("data-dir = \"/x\"\n\n[metrics]\nlisn = \"127.0.0.1:1\"\n");
  const std::string error = Parse({"--config", config});
  EXPECT_THAT(error, HasSubstr(config + ":4:1"));
  EXPECT_THAT(error, HasSubstr("unknown setting \"metrics-lisn\""));
}

TEST_F(DaemonConfigTest, CommandLineOnlyFlagsAreNotSettings) {
  for (const std::string key :
       {"check-config = true", "config = \"/x\"", "restore-from = \"/b\""}) {
    const std::string config = WriteConfig(key + "\n");
    EXPECT_THAT(Parse({"--config", config}), HasSubstr("unknown setting"))
        << key;
  }
}

TEST_F(DaemonConfigTest, BrokenTomlIsRefusedWithLineAndColumn) {
  const std::string config = WriteConfig("listen = \"127.0.0.1:1\"\nx = [1,\n");
  const std::string error = Parse({"--config", config});
  EXPECT_THAT(error, HasSubstr(config + ":"));
  EXPECT_THAT(error, HasSubstr("not valid TOML"));
}

TEST_F(DaemonConfigTest, ValuesAreCheckedAsTheFlagsAre) {
  struct Case {
    std::string setting;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {"min-free-mb = \"lots\"", "min-free-mb"},
           {"max-subscribers = 0", "max-subscribers"},
           {"durability = \"maybe\"", "durability"},
           {"log-format = \"xml\"", "log-format: \"xml\" is not one of"},
           {"metrics-listen = \"9477\"", "metrics-listen"},
           {"listen = \"host:70000\"", "listen"},
           {"data-dir = 2026-11-24", "dates and times are not settings"},
           {"data-dir = { a = 1 }", "unknown setting \"data-dir-a\""},
       }) {
    const std::string config = WriteConfig(c.setting + "\n");
    EXPECT_THAT(Parse({"--config", config}), HasSubstr(c.expected))
        << c.setting;
  }
}

TEST_F(DaemonConfigTest, TheEffectiveConfigurationReadsBackTheSame) {
  const std::string config = WriteConfig(
      "data-dir = \"/srv/plantrail\"\nmin-free-mb = 300\n"
      "log-format = \"json\"\n");
  ASSERT_EQ(Parse({"--config", config, "--listen", "127.0.0.1:7000"}), "");
  const std::string effective = EffectiveConfig(*app_);
  EXPECT_THAT(effective, HasSubstr("data-dir=\"/srv/plantrail\""));
  EXPECT_THAT(effective, HasSubstr("min-free-mb=300"));
  EXPECT_THAT(effective, HasSubstr("listen=\"127.0.0.1:7000\""));
  EXPECT_THAT(effective, Not(HasSubstr("check-config")));
  // What --check-config prints is itself a valid configuration file that
  // gives the same settings.
  const std::string again = WriteConfig(effective);
  const DaemonOptions first = options_;
  ASSERT_EQ(Parse({"--config", again}), "");
  EXPECT_EQ(options_.server.data_dir, first.server.data_dir);
  EXPECT_EQ(options_.server.listen, "127.0.0.1:7000");
  EXPECT_EQ(options_.server.min_free_bytes, first.server.min_free_bytes);
  EXPECT_EQ(options_.log.format, logging::Format::kJson);
}

}  // namespace
}  // namespace plantrail::services
