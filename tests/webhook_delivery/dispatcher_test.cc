// The dispatcher against a real receiver (cpp-httplib on loopback) and a
// real RocksDB log: order, at least once, a cursor that outlives the
// dispatcher, retries that never skip, Retry-After, giving up, redirects,
// oversized answers, and configuration changes while it delivers.
#include "webhook_delivery/dispatcher.h"

#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/sync.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/temp_dir.h"
#include "webhooks/signature.h"

namespace plantrail::webhook_delivery {
namespace {

using ::testing::HasSubstr;

// Records what it is sent; answers as told.
class Receiver {
 public:
  // Plain HTTP, or HTTPS with this certificate and key (PEM files).
  explicit Receiver(std::string cert = "", std::string key = "")
      : server_(cert.empty() ? std::make_unique<httplib::Server>()
                             : std::make_unique<httplib::SSLServer>(
                                   cert.c_str(), key.c_str())),
        scheme_(cert.empty() ? "http" : "https") {
    server_->new_task_queue = [] { return new httplib::ThreadPool(4); };
    server_->Post(".*", [this](const httplib::Request& request,
                               httplib::Response& response) {
      MutexLock lock(&mu_);
      const nlohmann::json event = nlohmann::json::parse(request.body);
      const uint64_t position =
          std::stoull(event["plantrailposition"].get<std::string>());
      ++requests_;
      if (request.path == "/redirect") {
        response.status = 302;
        response.set_header("Location", "/elsewhere");
        return;
      }
      if (fail_next_ > 0 || got_.size() >= accept_at_most_) {
        if (fail_next_ > 0) --fail_next_;
        response.status = fail_status_;
        if (!retry_after_.empty()) {
          response.set_header("Retry-After", retry_after_);
        }
        return;
      }
      if (absl::Status signed_ok = webhooks::Verify(
              key_, request.get_header_value("webhook-id"),
              std::stoll(request.get_header_value("webhook-timestamp")),
              request.body, request.get_header_value("webhook-signature"),
              absl::ToUnixSeconds(absl::Now()));
          !signed_ok.ok()) {
        bad_signatures_.push_back(std::string(signed_ok.message()));
      }
      got_.push_back(position);
      if (request.path == "/big")
        response.set_content(std::string(1 << 20, 'x'), "text/plain");
      else
        response.status = 204;
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) absl::SleepFor(absl::Milliseconds(1));
  }
  ~Receiver() {
    server_->stop();
    thread_.join();
  }

  std::string Url(absl::string_view path) const {
    return absl::StrCat(scheme_, "://127.0.0.1:", port_, path);
  }
  void SetKey(std::string key) {
    MutexLock lock(&mu_);
    key_ = std::move(key);
  }
  void FailNext(int n, int status = 500, std::string retry_after = "") {
    MutexLock lock(&mu_);
    fail_next_ = n;
    fail_status_ = status;
    retry_after_ = std::move(retry_after);
  }
  // Answers 500 once it has taken `n` events.
  void AcceptAtMost(size_t n) {
    MutexLock lock(&mu_);
    accept_at_most_ = n;
  }
  std::vector<uint64_t> got() const {
    MutexLock lock(&mu_);
    return got_;
  }
  int requests() const {
    MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<std::string> bad_signatures() const {
    MutexLock lock(&mu_);
    return bad_signatures_;
  }
  // Waits (up to 30 s) until `count` events arrived.
  bool AwaitGot(size_t count) const {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (got().size() >= count) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  const std::string scheme_;
  int port_ = 0;
  std::thread thread_;
  mutable Mutex mu_;
  std::string key_ ABSL_GUARDED_BY(mu_);
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  size_t accept_at_most_ ABSL_GUARDED_BY(mu_) = ~size_t{0};
  int fail_status_ ABSL_GUARDED_BY(mu_) = 500;
  std::string retry_after_ ABSL_GUARDED_BY(mu_);
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<uint64_t> got_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> bad_signatures_ ABSL_GUARDED_BY(mu_);
};

// The endpoint's status once `done` holds of it (or after 30 s): the
// receiver records an event before its answer reaches the dispatcher.
template <typename Done>
EndpointStatus AwaitStatus(const Dispatcher& dispatcher, Done done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  EndpointStatus status;
  do {
    status = dispatcher.Status("wh-test").value_or(EndpointStatus());
    if (done(status)) break;
    absl::SleepFor(absl::Milliseconds(2));
  } while (absl::Now() < deadline);
  return status;
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = eventstore::EventStore::Open(
        {.path = dir_ / "log", .durability = eventstore::Durability::kNoSync});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    receiver_.SetKey(key_);
  }

  DispatcherOptions Options() {
    return {.post = {.addresses = {.allow_loopback = true},
                     .connect_timeout = absl::Seconds(2),
                     .io_timeout = absl::Seconds(2)},
            .retry = {.first = absl::Milliseconds(1),
                      .longest = absl::Milliseconds(20)}};
  }

  EndpointConfig Config(absl::string_view path) {
    return {.endpoint_id = "wh-test",
            .url = receiver_.Url(path),
            .filter = {.plans = {"p1"}},
            .keys = {{.key = key_}},
            .cursor = "webhook:wh-test:0"};
  }

  // Appends `n` events to an area of `plan`; their positions.
  std::vector<uint64_t> Append(absl::string_view plan, int n) {
    std::vector<uint64_t> positions;
    for (int i = 0; i < n; ++i) {
      eventstore::AppendRequest append{.stream_id =
                                           absl::StrCat("area-", plan, ":1")};
      append.events.push_back({.type = "Noted", .payload = "x"});
      auto appended = log_->Append(std::move(append));
      EXPECT_TRUE(appended.ok()) << appended.status();
      if (appended.ok()) positions.push_back(appended->last_position);
    }
    return positions;
  }

  testing::TempDir dir_;
  std::unique_ptr<eventstore::EventStore> log_;
  Receiver receiver_;
  const std::string key_ = std::string(32, 'k');
};

TEST_F(DispatcherTest, DeliversItsPlansEventsInOrderAndResumesAfterItsCursor) {
  std::vector<uint64_t> want;
  for (int round = 0; round < 5; ++round) {
    std::vector<uint64_t> mine = Append("p1", 10);
    want.insert(want.end(), mine.begin(), mine.end());
    Append("p2", 5);
  }
  {
    Dispatcher dispatcher(log_.get(), Options());
    dispatcher.Configure(Config("/hook"));
    ASSERT_TRUE(receiver_.AwaitGot(want.size()));
    EXPECT_EQ(receiver_.got(), want);
    const EndpointStatus status = AwaitStatus(
        dispatcher,
        [&](const EndpointStatus& s) { return s.delivered == want.size(); });
    EXPECT_EQ(status.delivered, want.size());
    EXPECT_FALSE(status.retrying());
  }
  // A new dispatcher (a restart) goes on after the cursor: nothing again.
  std::vector<uint64_t> more = Append("p1", 7);
  want.insert(want.end(), more.begin(), more.end());
  Dispatcher dispatcher(log_.get(), Options());
  dispatcher.Configure(Config("/hook"));
  ASSERT_TRUE(receiver_.AwaitGot(want.size()));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(receiver_.got(), want);
  EXPECT_THAT(receiver_.bad_signatures(), ::testing::IsEmpty());
}

TEST_F(DispatcherTest, RetriesAFailureUntilA2xxAndNeverSkipsIt) {
  const std::vector<uint64_t> want = Append("p1", 5);
  receiver_.FailNext(6);
  Dispatcher dispatcher(log_.get(), Options());
  dispatcher.Configure(Config("/hook"));
  ASSERT_TRUE(receiver_.AwaitGot(want.size()));
  EXPECT_EQ(receiver_.got(), want);
  const EndpointStatus status = AwaitStatus(
      dispatcher, [](const EndpointStatus& s) { return s.delivered == 5; });
  EXPECT_EQ(status.failed, 6u);
  EXPECT_EQ(status.retries, 6u);
  EXPECT_EQ(status.delivered, 5u);
  EXPECT_FALSE(status.retrying());
  EXPECT_EQ(status.last_error, "");
}

// The cursor moves with each 2xx, not later: a crash while the endpoint
// is still busy repeats at most the request under way.
TEST_F(DispatcherTest, TheCursorIsSavedAfterEach2xx) {
  const std::vector<uint64_t> want = Append("p1", 5);
  receiver_.AcceptAtMost(3);
  Dispatcher dispatcher(log_.get(), Options());
  dispatcher.Configure(Config("/hook"));
  AwaitStatus(dispatcher,
              [](const EndpointStatus& s) { return s.failed >= 3; });
  EXPECT_EQ(*log_->LoadCursor("webhook:wh-test:0"), want[2]);
  EXPECT_EQ(dispatcher.Status("wh-test")->delivered_position, want[2]);
}

TEST_F(DispatcherTest, RetryAfterIsWaitedForUpToTheLongestWait) {
  Append("p1", 1);
  receiver_.FailNext(1, 503, "3600");
  DispatcherOptions options = Options();
  options.retry.longest = absl::Seconds(30);
  Dispatcher dispatcher(log_.get(), options);
  dispatcher.Configure(Config("/hook"));
  EndpointStatus status;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    absl::SleepFor(absl::Milliseconds(5));
    status = *dispatcher.Status("wh-test");
  } while (status.next_attempt_at == absl::InfinitePast() &&
           absl::Now() < deadline);
  EXPECT_EQ(status.last_error, "HTTP 503");
  // The event waiting counts towards the lag in time.
  EXPECT_NE(status.oldest_undelivered_at, absl::InfinitePast());
  EXPECT_LE(status.oldest_undelivered_at, absl::Now());
  // Asked for an hour, capped at the longest wait.
  EXPECT_EQ(status.next_attempt_at - status.last_error_at, absl::Seconds(30));
}

TEST_F(DispatcherTest, AnEndpointFailingLongEnoughAsksToBePausedOnce) {
  Append("p1", 1);
  receiver_.FailNext(1000000);
  std::atomic<int> asked{0};
  std::string reason;
  Mutex mu;
  DispatcherOptions options = Options();
  options.failing_after = absl::Milliseconds(50);
  options.on_give_up = [&](const std::string& id, const std::string& why) {
    MutexLock lock(&mu);
    reason = why;
    asked.fetch_add(1);
  };
  Dispatcher dispatcher(log_.get(), options);
  EndpointConfig config = Config("/hook");
  config.pause_when_failing = true;
  dispatcher.Configure(config);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (asked.load() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(asked.load(), 1);
  MutexLock lock(&mu);
  EXPECT_THAT(reason, HasSubstr("HTTP 500"));
  EXPECT_TRUE(receiver_.got().empty());
}

TEST_F(DispatcherTest, ARedirectIsAFailureAndABigAnswerIsCutOff) {
  Append("p1", 1);
  Dispatcher dispatcher(log_.get(), Options());
  dispatcher.Configure(Config("/redirect"));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  EndpointStatus status;
  do {
    absl::SleepFor(absl::Milliseconds(5));
    status = *dispatcher.Status("wh-test");
  } while (status.failed < 2 && absl::Now() < deadline);
  EXPECT_THAT(status.last_error,
              HasSubstr("HTTP 302: redirects are not followed"));
  EXPECT_TRUE(receiver_.got().empty());
  // The same endpoint moved to a receiver that answers 200 with a megabyte:
  // delivered (the status counts), the body read only up to the limit.
  EndpointConfig big = Config("/big");
  dispatcher.Configure(big);
  ASSERT_TRUE(receiver_.AwaitGot(1));
}

TEST_F(DispatcherTest, PausingResumingAndReplayingWhileItDeliversKeepsOrder) {
  Dispatcher dispatcher(log_.get(), Options());
  dispatcher.Configure(Config("/hook"));
  std::vector<uint64_t> want;
  std::thread writer([&] { want = Append("p1", 300); });
  EndpointConfig config = Config("/hook");
  for (int i = 0; i < 40; ++i) {
    config.paused = !config.paused;
    dispatcher.Configure(config);
    absl::SleepFor(absl::Milliseconds(2));
  }
  config.paused = false;
  dispatcher.Configure(config);
  writer.join();
  ASSERT_TRUE(receiver_.AwaitGot(want.size()));
  EXPECT_EQ(receiver_.got(), want);
  // A replay from the 100th: a new cursor, the same events again in order.
  config.cursor = "webhook:wh-test:1";
  config.after_position = want[99] - 1;
  dispatcher.Configure(config);
  ASSERT_TRUE(receiver_.AwaitGot(want.size() + 201));
  const std::vector<uint64_t> got = receiver_.got();
  const std::vector<uint64_t> again(got.begin() + want.size(), got.end());
  const std::vector<uint64_t> replayed(want.begin() + 99, want.end());
  EXPECT_EQ(again, replayed);
  dispatcher.Remove("wh-test");
  EXPECT_FALSE(dispatcher.Status("wh-test").has_value());
}

// HTTPS as endpoints are meant to be: the certificate checked against the
// CAs given (a receiver whose certificate another CA signed gets nothing).
TEST_F(DispatcherTest, HttpsEndpointsAreDeliveredOnlyWithAVerifiedCertificate) {
  const std::string pki = dir_ / "pki";
  const std::string script = absl::StrCat(
      "set -e; mkdir -p '", pki, "'; cd '", pki, "'\n",
      "key() { openssl genpkey -algorithm EC -pkeyopt "
      "ec_paramgen_curve:prime256v1 -out $1.key 2>/dev/null; }\n",
      "ca() { key $1; openssl req -x509 -new -key $1.key -out $1.pem "
      "-days 2 -subj \"/CN=$1\"; }\n",
      "ca ca; ca other-ca; key server\n",
      "openssl req -new -key server.key -subj /CN=localhost -out server.csr\n",
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext\n",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -days 2 -extfile server.ext -out server.pem "
      "2>/dev/null\n");
  ASSERT_EQ(
      std::system(
          absl::StrCat("sh -c \"$(cat <<'EOF'\n", script, "EOF\n)\"").c_str()),
      0);
  Receiver tls(pki + "/server.pem", pki + "/server.key");
  tls.SetKey(key_);
  const std::vector<uint64_t> want = Append("p1", 3);
  EndpointConfig config = Config("/hook");
  config.url = tls.Url("/hook");
  {
    DispatcherOptions options = Options();
    options.post.ca_file = pki + "/other-ca.pem";
    Dispatcher dispatcher(log_.get(), options);
    dispatcher.Configure(config);
    const EndpointStatus status = AwaitStatus(
        dispatcher, [](const EndpointStatus& s) { return s.failed >= 2; });
    EXPECT_THAT(status.last_error,
                HasSubstr("the endpoint's certificate does not verify"));
    EXPECT_TRUE(tls.got().empty());
  }
  DispatcherOptions options = Options();
  options.post.ca_file = pki + "/ca.pem";
  Dispatcher dispatcher(log_.get(), options);
  dispatcher.Configure(config);
  ASSERT_TRUE(tls.AwaitGot(want.size()));
  EXPECT_EQ(tls.got(), want);
  EXPECT_THAT(tls.bad_signatures(), ::testing::IsEmpty());
}

}  // namespace
}  // namespace plantrail::webhook_delivery
