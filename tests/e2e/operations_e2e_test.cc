// What an operator relies on, against the real plantraild: the Prometheus
// endpoint moves with the load, every call has a request id in the log, and
// no token reaches any log at any level.
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/e2e/metrics_scrape.h"
#include "tests/e2e/server_test.h"

namespace plantrail::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

std::unique_ptr<grpc::ClientContext> CallContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(30));
  return context;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class MetricsTest : public ServerTest {
 protected:
  std::vector<std::string> ServerArgs() const override {
    return {"--metrics-listen", "127.0.0.1:0"};
  }
};

v1::AppendRequest AppendOf(const std::string& stream, int events) {
  v1::AppendRequest request;
  request.set_stream_id(stream);
  for (int i = 0; i < events; ++i) {
    v1::ProposedEvent* event = request.add_events();
    event->set_type("StatusReported");
    event->set_payload(absl::StrCat("event ", i));
  }
  return request;
}

TEST_F(MetricsTest, CountersMoveAsTheLoadSays) {
  ASSERT_NE(server_.metrics_port(), 0);
  const Scrape before = Parse(FetchMetrics(server_.metrics_port()));
  const uint64_t head_before = HeadPosition();

  // A subscriber that follows the log from here on.
  grpc::ClientContext subscribe_context;
  // Bounds the reads below: a subscription that stops sending fails the
  // test rather than hold it.
  subscribe_context.set_deadline(std::chrono::system_clock::now() +
                                 std::chrono::minutes(2));
  v1::SubscribeRequest subscribe;
  subscribe.set_after_position(head_before);
  auto subscription = store_->Subscribe(&subscribe_context, subscribe);
  v1::SubscribeResponse first;
  ASSERT_TRUE(subscription->Read(&first));  // caught up: it is open

  // The load: 4 writers with 25 appends of 3 events each, one of which per
  // writer is refused (a stale expected version); a reader alongside; and
  // scrapes while it all runs.
  constexpr int kWriters = 4;
  constexpr int kAppends = 25;
  constexpr int kEvents = 3;
  constexpr int kReads = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      const std::string stream = absl::StrCat("ops-", w);
      for (int i = 0; i < kAppends; ++i) {
        v1::AppendRequest request = AppendOf(stream, kEvents);
        if (i == 0) {
          request.mutable_expected_version()->mutable_no_stream();
        } else {
          request.mutable_expected_version()->set_exact(i * kEvents);
        }
        v1::AppendResponse response;
        if (!store_->Append(Context().get(), request, &response).ok()) {
          ++failures;
        }
      }
      v1::AppendRequest stale = AppendOf(stream, 1);
      stale.mutable_expected_version()->set_exact(1);
      v1::AppendResponse response;
      if (store_->Append(Context().get(), stale, &response).error_code() !=
          grpc::StatusCode::ABORTED) {
        ++failures;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < kReads; ++i) {
      v1::ReadAllRequest request;
      request.set_from_position(1);
      request.set_limit(10);
      v1::ReadAllResponse page;
      if (!store_->ReadAll(Context().get(), request, &page).ok()) ++failures;
    }
  });
  // Counters never go back between scrapes taken during the load.
  Scrape previous = before;
  for (int scrape = 0; scrape < 5; ++scrape) {
    const Scrape now = Parse(FetchMetrics(server_.metrics_port()));
    for (const std::string series :
         {"plantrail_appends_total", "plantrail_events_appended_total",
          "plantrail_fsyncs_total", "plantrail_append_duration_seconds_count",
          "plantrail_events_read_total"}) {
      EXPECT_GE(Value(now, series), Value(previous, series)) << series;
    }
    previous = now;
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);

  // The subscriber receives every event; the projections catch up.
  const uint64_t head = head_before + kWriters * kAppends * kEvents;
  uint64_t received = head_before;
  while (received < head) {
    v1::SubscribeResponse response;
    ASSERT_TRUE(subscription->Read(&response));
    for (const auto& event : response.events().events()) {
      received = event.position();
    }
  }
  // The projections catch up (polled, within 30 s; the assertions are on
  // the scrape).
  const auto catch_up_by =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (bool caught_up = false; !caught_up;) {
    v1::ListProjectionsResponse projections;
    ASSERT_TRUE(
        admin_->ListProjections(Context().get(), {}, &projections).ok());
    caught_up = projections.projections_size() == 3;
    for (const auto& projection : projections.projections()) {
      caught_up = caught_up && projection.checkpoint() >= head;
    }
    if (!caught_up) {
      ASSERT_LT(std::chrono::steady_clock::now(), catch_up_by)
          << "the projections did not reach " << head
          << " in 30 s: " << projections.ShortDebugString();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  const Scrape after = Parse(FetchMetrics(server_.metrics_port()));
  auto delta = [&](const std::string& series) {
    return Value(after, series) -
           (before.count(series) > 0 ? before.at(series) : 0);
  };
  constexpr double kAppended = kWriters * kAppends;
  EXPECT_EQ(delta("plantrail_appends_total"), kAppended);
  EXPECT_EQ(delta("plantrail_events_appended_total"), kAppended * kEvents);
  EXPECT_EQ(delta("plantrail_appends_rejected_total"), kWriters);
  EXPECT_EQ(delta("plantrail_append_duration_seconds_count"),
            kAppended + kWriters);
  // Group commit: one fsync per group, at most one per append.
  EXPECT_GE(delta("plantrail_fsyncs_total"), 1);
  EXPECT_LE(delta("plantrail_fsyncs_total"), kAppended);
  EXPECT_EQ(delta("plantrail_fsyncs_total"),
            delta("plantrail_commit_groups_total"));
  EXPECT_EQ(delta("plantrail_commit_group_events_sum"), kAppended * kEvents);
  EXPECT_EQ(Value(after, "plantrail_log_head_position"),
            static_cast<double>(head));
  EXPECT_GE(delta("plantrail_reads_total{kind=\"log\"}"), kReads);
  EXPECT_GE(delta("plantrail_events_read_total"), kReads * 10);
  EXPECT_EQ(
      delta(Rpc("grpc_server_handled_total", "EventStore", "Append", "OK")),
      kAppended);
  EXPECT_EQ(delta(Rpc("grpc_server_handled_total", "EventStore", "Append",
                      "Aborted")),
            kWriters);
  EXPECT_EQ(delta(Rpc("grpc_server_started_total", "EventStore", "Append")),
            kAppended + kWriters);
  EXPECT_EQ(
      delta(Rpc("grpc_server_handling_seconds_count", "EventStore", "Append")),
      kAppended + kWriters);
  EXPECT_GE(
      delta(Rpc("grpc_server_handled_total", "EventStore", "ReadAll", "OK")),
      kReads);
  EXPECT_EQ(Value(after, "plantrail_subscriptions_open"), 1);
  EXPECT_GE(delta("plantrail_subscription_events_sent_total"),
            kAppended * kEvents);
  EXPECT_EQ(Value(after, "plantrail_subscription_max_lag_events"), 0);
  for (const std::string projection : {"area_state", "history"}) {
    const std::string label = absl::StrCat("{projection=\"", projection, "\"}");
    EXPECT_GE(Value(after, "plantrail_projection_checkpoint_position" + label),
              static_cast<double>(head));
    EXPECT_EQ(Value(after, "plantrail_projection_lag_events" + label), 0);
    EXPECT_EQ(Value(after, "plantrail_projection_failed" + label), 0);
  }
  EXPECT_GT(
      Value(after, "plantrail_rocksdb_memtable_bytes{db=\"eventstore\"}") +
          Value(after, "plantrail_rocksdb_sst_files_bytes{db=\"eventstore\"}"),
      0);
  EXPECT_GT(
      delta("plantrail_rocksdb_wal_written_bytes_total{db=\"eventstore\"}"), 0);
  EXPECT_GT(Value(after, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(Value(after, "process_open_fds"), 0);
  EXPECT_GT(Value(after, "plantrail_data_dir_free_bytes"), 0);

  subscribe_context.TryCancel();
  v1::SubscribeResponse rest;
  while (subscription->Read(&rest)) {
  }
  subscription->Finish();

  // The stream counts as one Subscribe call, ended by the client. Its
  // reactor reports it once gRPC is done with it, and the hub lets go of
  // the subscription on its own thread: either may come first (polled,
  // within 30 s, for both).
  const std::string cancelled = Rpc("grpc_server_handled_total", "EventStore",
                                    "Subscribe", "Canceled", "server_stream");
  const std::optional<Scrape> scraped =
      ScrapeUntil(server_.metrics_port(), cancelled, [&](const Scrape& s) {
        return s.contains(cancelled) &&
               Value(s, "plantrail_subscriptions_open") == 0;
      });
  ASSERT_TRUE(scraped.has_value());
  const Scrape& ended = *scraped;
  EXPECT_EQ(ended.at(cancelled), 1);
  EXPECT_EQ(Value(ended, Rpc("grpc_server_started_total", "EventStore",
                             "Subscribe", "", "server_stream")),
            1);
  EXPECT_GE(Value(ended, Rpc("grpc_server_msg_sent_total", "EventStore",
                             "Subscribe", "", "server_stream")),
            2);  // caught up, then events
  EXPECT_EQ(Value(ended, "plantrail_subscriptions_open"), 0);
}

TEST_F(MetricsTest, TheScrapePassesPromtoolsChecks) {
  // One call of each kind first, so that every family has samples.
  v1::AppendResponse appended;
  ASSERT_TRUE(
      store_->Append(Context().get(), AppendOf("lint-1", 2), &appended).ok());
  const std::string text = FetchMetrics(server_.metrics_port());
  const std::filesystem::path file = dir_ / "scrape.txt";
  std::ofstream(file) << text;
  const std::string command =
      absl::StrCat("promtool check metrics < ", file.string(), " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) {
    output.append(buffer, n);
  }
  const int status = pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_NE(WEXITSTATUS(status), 127)
      << "promtool is missing: scripts/setup installs it (Debian package "
         "prometheus)";
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_EQ(output, "") << "promtool lint findings";
}

TEST_F(MetricsTest, OnlyGetMetricsIsServed) {
  httplib::Client client("127.0.0.1", server_.metrics_port());
  auto missing = client.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto post = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

// Anyone may send any method name, before any credentials are checked; 300
// invented ones count as one unknown method and leave the served methods
// (health included) counted as themselves.
TEST_F(MetricsTest, InventedMethodNamesCountAsOneUnknownMethod) {
  const auto anonymous = grpc::CreateChannel(
      server_.address(), grpc::InsecureChannelCredentials());
  for (int i = 0; i < 300; ++i) {
    std::string response;
    const grpc::Status status = plantrail::testing::RawUnary(
        anonymous, CallContext().get(), absl::StrCat("/x.Invented/M", i), "",
        &response);
    EXPECT_FALSE(status.ok());
  }
  std::string health;
  ASSERT_TRUE(plantrail::testing::RawUnary(channel_, CallContext().get(),
                                           "/grpc.health.v1.Health/Check", "",
                                           &health)
                  .ok());
  HeadPosition();  // one ReadAll

  const Scrape scrape = Parse(FetchMetrics(server_.metrics_port()));
  double unknown = 0;
  for (const auto& [series, value] : scrape) {
    EXPECT_THAT(series, Not(HasSubstr("Invented")));
    if (absl::StartsWith(series, "grpc_server_started_total{") &&
        absl::StrContains(series, "grpc_service=\"unknown\"")) {
      unknown += value;
    }
  }
  EXPECT_EQ(unknown, 300);
  EXPECT_GE(
      Value(scrape, Rpc("grpc_server_started_total", "EventStore", "ReadAll")),
      1);
  EXPECT_EQ(Value(scrape,
                  "grpc_server_started_total{grpc_type=\"unary\","
                  "grpc_service=\"grpc.health.v1.Health\","
                  "grpc_method=\"Check\"}"),
            1);
}

// Each test runs its own server with its log captured to a file.
class ServerLogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", 0);
  }

  void Start(const std::vector<std::string>& args) {
    server_.CaptureStderrTo(dir_ / "stderr.log");
    ASSERT_TRUE(server_.Start(dir_ / "data", args));
    channel_ = BearerChannel(server_.address(), server_.AdminToken());
    store_ = v1::EventStore::NewStub(channel_);
    admin_ = v1::Admin::NewStub(channel_);
  }

  void Stop() {
    store_.reset();
    admin_.reset();
    channel_.reset();
    const int status = server_.Stop(SIGTERM);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }

  std::string Log() const { return ReadFile(dir_ / "stderr.log"); }

  TempDir dir_;
  ServerProcess server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventStore::Stub> store_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

TEST_F(ServerLogTest, EveryCallHasARequestIdThatComesBackAndIsLogged) {
  Start({"--log-level", "debug", "--log-format", "json"});
  grpc::ClientContext given;
  given.AddMetadata("x-request-id", "audit-2026.42");
  v1::AppendResponse appended;
  ASSERT_TRUE(store_->Append(&given, AppendOf("req-1", 1), &appended).ok());
  const auto& echoed = given.GetServerTrailingMetadata();
  ASSERT_EQ(echoed.count("x-request-id"), 1u);
  EXPECT_EQ(std::string(echoed.find("x-request-id")->second.data(),
                        echoed.find("x-request-id")->second.size()),
            "audit-2026.42");

  // None given, or one that is not usable: a new one, for a call that is
  // logged.
  grpc::ClientContext unusable;
  unusable.AddMetadata("x-request-id", "has spaces and \"quotes\"");
  v1::AppendRequest bad = AppendOf("req-1", 1);
  bad.set_stream_id("");
  EXPECT_EQ(store_->Append(&unusable, bad, &appended).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  const auto& generated = unusable.GetServerTrailingMetadata();
  ASSERT_EQ(generated.count("x-request-id"), 1u);
  const std::string new_id(generated.find("x-request-id")->second.data(),
                           generated.find("x-request-id")->second.size());
  EXPECT_THAT(new_id, MatchesRegex("[0-9a-f]{16}"));
  Stop();

  const std::string log = Log();
  bool found_given = false;
  bool found_new = false;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    // Every line is one JSON object with a time, a level and a message.
    EXPECT_THAT(std::string(line),
                MatchesRegex("\\{\"ts\":\"[-0-9T:.]+Z\",\"level\":\"[a-z]+\","
                             "\"msg\":.*\\}"));
    if (absl::StrContains(line, "\"request_id\":\"audit-2026.42\"")) {
      found_given = true;
      EXPECT_THAT(std::string(line),
                  HasSubstr("\"method\":\"/plantrail.v1.EventStore/Append\""));
      EXPECT_THAT(std::string(line), HasSubstr("\"code\":\"OK\""));
      EXPECT_THAT(std::string(line), HasSubstr("\"level\":\"debug\""));
    }
    if (absl::StrContains(line, absl::StrCat("\"request_id\":\"", new_id))) {
      found_new = true;
      EXPECT_THAT(std::string(line), HasSubstr("\"code\":\"InvalidArgument\""));
      EXPECT_THAT(std::string(line), HasSubstr("\"level\":\"info\""));
      EXPECT_THAT(std::string(line), HasSubstr("stream_id"));
    }
  }
  EXPECT_TRUE(found_given) << log;
  EXPECT_TRUE(found_new) << log;
}

TEST_F(ServerLogTest, NoTokenReachesAnyLogAtAnyLevel) {
  // Every level, and both formats, on one data directory: each start
  // writes the same files on.
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"debug", "logfmt"}, {"debug", "json"},   {"info", "logfmt"},
      {"warning", "json"}, {"error", "logfmt"},
  };
  std::vector<std::string> secrets;
  for (const auto& [level, format] : runs) {
    SCOPED_TRACE(absl::StrCat(level, " ", format));
    Start({"--log-level", level, "--log-format", format, "--metrics-listen",
           "127.0.0.1:0"});
    secrets.push_back(server_.AdminToken());

    // A token granted (its secret is in the answer), used, revoked, used
    // again; one that never existed; one sent where a stream id belongs, so
    // that it is echoed in an error message.
    v1::CreateTokenRequest create;
    create.set_principal(absl::StrCat("ops-", level, "-", format));
    create.add_roles(v1::ROLE_ADMIN);
    v1::CreateTokenResponse created;
    ASSERT_TRUE(
        admin_->CreateToken(CallContext().get(), create, &created).ok());
    secrets.push_back(created.token());
    auto granted = v1::EventStore::NewStub(
        BearerChannel(server_.address(), created.token()));
    v1::AppendResponse appended;
    EXPECT_TRUE(
        granted
            ->Append(CallContext().get(), AppendOf("tok-stream", 1), &appended)
            .ok());
    v1::RevokeTokenRequest revoke;
    revoke.set_token_id(created.info().token_id());
    revoke.set_reason("rotated by the log test");
    v1::RevokeTokenResponse revoked;
    ASSERT_TRUE(
        admin_->RevokeToken(CallContext().get(), revoke, &revoked).ok());
    EXPECT_EQ(
        granted
            ->Append(CallContext().get(), AppendOf("tok-stream", 1), &appended)
            .error_code(),
        grpc::StatusCode::UNAUTHENTICATED);
    const std::string unknown =
        absl::StrCat("pt_", std::string(63, 'e'), secrets.size() % 10);
    secrets.push_back(unknown);
    auto stranger =
        v1::EventStore::NewStub(BearerChannel(server_.address(), unknown));
    EXPECT_EQ(
        stranger
            ->Append(CallContext().get(), AppendOf("tok-stream", 1), &appended)
            .error_code(),
        grpc::StatusCode::UNAUTHENTICATED);
    v1::AppendRequest echoed = AppendOf("x", 1);
    echoed.set_stream_id(absl::StrCat("bad stream ", server_.AdminToken()));
    EXPECT_EQ(
        store_->Append(CallContext().get(), echoed, &appended).error_code(),
        grpc::StatusCode::INVALID_ARGUMENT);
    FetchMetrics(server_.metrics_port());
    Stop();
  }

  // Every file the server writes that a person or a log shipper reads.
  std::vector<std::filesystem::path> logs = {dir_ / "stderr.log",
                                             dir_ / "data/security.log"};
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(dir_ / "data")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("LOG", 0) == 0) logs.push_back(entry.path());
  }
  const std::string log = ReadFile(dir_ / "stderr.log");
  ASSERT_THAT(log, HasSubstr("rpc finished"));  // the debug runs logged calls
  ASSERT_THAT(log, HasSubstr("Unauthenticated"));
  // The token sent as a stream id came back in the error message, and the
  // log scrubbed it.
  ASSERT_THAT(log, HasSubstr("[redacted]"));
  for (const auto& path : logs) {
    const std::string text = ReadFile(path);
    for (const std::string& secret : secrets) {
      ASSERT_FALSE(secret.empty());
      // The secret part: what follows "pt_".
      EXPECT_THAT(text, Not(HasSubstr(secret.substr(3))))
          << path << " holds a token";
    }
  }
}

TEST(CheckConfigTest, AValidFileIsPrintedAndAnInvalidOneNamesFileAndLine) {
  TempDir dir;
  const std::filesystem::path good = dir / "good.toml";
  std::ofstream(good) << "# plantraild\n"
                         "data-dir = \"/var/lib/plantrail\"\n"
                         "min-free-mb = 256\n"
                         "[log]\n"
                         "level = \"debug\"\n"
                         "format = \"json\"\n";
  auto [status, output] = RunPlantraild(
      {"--config", good.string(), "--check-config", "--min-free-mb", "64"});
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;

  const std::filesystem::path bad = dir / "bad.toml";
  std::ofstream(bad) << "data-dir = \"/tmp/x\"\n"
                        "\n"
                        "metrics-listn = \"127.0.0.1:9477\"\n";
  std::tie(status, output) =
      RunPlantraild({"--config", bad.string(), "--check-config"});
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_THAT(output, HasSubstr(absl::StrCat(bad.string(), ":3:1")));
  EXPECT_THAT(output, HasSubstr("unknown setting \"metrics-listn\""));

  const std::filesystem::path broken = dir / "broken.toml";
  std::ofstream(broken) << "listen = \"127.0.0.1:1\"\nmin-free-mb = = 3\n";
  std::tie(status, output) =
      RunPlantraild({"--config", broken.string(), "--check-config"});
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_THAT(output, HasSubstr(absl::StrCat(broken.string(), ":2:")));
  EXPECT_THAT(output, HasSubstr("not valid TOML"));

  const std::filesystem::path wrong = dir / "wrong.toml";
  std::ofstream(wrong) << "log-level = \"loud\"\n";
  std::tie(status, output) =
      RunPlantraild({"--config", wrong.string(), "--check-config"});
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_THAT(output, HasSubstr("log-level: \"loud\" is not one of"));
}

}  // namespace
}  // namespace plantrail::testing
