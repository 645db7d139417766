// The scrape endpoint over real sockets on 127.0.0.1, port 0, scraped with
// httplib's client; and the listen address rules.
#include "metrics/http_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "metrics/exposition.h"

namespace plantrail::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::unique_ptr<MetricsEndpoint> StartOrDie(
    MetricsEndpoint::Render render, const std::string& listen = "127.0.0.1:0") {
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
      MetricsEndpoint::Start(listen, std::move(render));
  EXPECT_TRUE(endpoint.ok()) << endpoint.status();
  return endpoint.ok() ? *std::move(endpoint) : nullptr;
}

// The timeouts only keep a broken endpoint from hanging the test.
std::unique_ptr<httplib::Client> ClientFor(const std::string& host, int port) {
  auto client = std::make_unique<httplib::Client>(host, port);
  client->set_connection_timeout(30);
  client->set_read_timeout(30);
  client->set_write_timeout(30);
  return client;
}

std::unique_ptr<httplib::Client> ClientFor(const MetricsEndpoint& endpoint) {
  return ClientFor("127.0.0.1", endpoint.port());
}

TEST(MetricsEndpointTest, ServesTheRenderedText) {
  auto endpoint = StartOrDie([] { return std::string("up 1\n"); });
  ASSERT_NE(endpoint, nullptr);
  EXPECT_GT(endpoint->port(), 0);
  httplib::Result response = ClientFor(*endpoint)->Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "up 1\n");
  EXPECT_EQ(response->get_header_value("Content-Type"),
            Exposition::kContentType);
}

TEST(MetricsEndpointTest, RendersEveryScrape) {
  std::atomic<int> scrapes{0};
  auto endpoint = StartOrDie(
      [&scrapes] { return absl::StrCat("scrapes ", ++scrapes, "\n"); });
  ASSERT_NE(endpoint, nullptr);
  auto client = ClientFor(*endpoint);
  for (int i = 1; i <= 3; ++i) {
    httplib::Result response = client->Get("/metrics");
    ASSERT_TRUE(response) << httplib::to_string(response.error());
    EXPECT_EQ(response->body, absl::StrCat("scrapes ", i, "\n"));
  }
}

TEST(MetricsEndpointTest, ServesConcurrentScrapes) {
  auto endpoint = StartOrDie([] { return std::string("up 1\n"); });
  ASSERT_NE(endpoint, nullptr);
  std::atomic<int> ok{0};
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 4; ++t) {
    scrapers.emplace_back([&endpoint, &ok] {
      auto client = ClientFor(*endpoint);
      for (int i = 0; i < 10; ++i) {
        httplib::Result response = client->Get("/metrics");
        if (response && response->status == 200 && response->body == "up 1\n") {
          ++ok;
        }
      }
    });
  }
  for (std::thread& scraper : scrapers) scraper.join();
  EXPECT_EQ(ok.load(), 40);
}

TEST(MetricsEndpointTest, CompressesForClientsThatAcceptGzip) {
  const std::string text(10000, 'x');
  auto endpoint = StartOrDie([&text] { return text; });
  ASSERT_NE(endpoint, nullptr);
  auto client = ClientFor(*endpoint);
  client->set_decompress(false);
  httplib::Result response =
      client->Get("/metrics", httplib::Headers{{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->get_header_value("Content-Encoding"), "gzip");
  EXPECT_LT(response->body.size(), text.size());
}

TEST(MetricsEndpointTest, RootPointsAtMetrics) {
  auto endpoint = StartOrDie([] { return std::string(); });
  ASSERT_NE(endpoint, nullptr);
  httplib::Result response = ClientFor(*endpoint)->Get("/");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->body, HasSubstr("/metrics"));
  EXPECT_THAT(response->get_header_value("Content-Type"),
              StartsWith("text/plain"));
}

TEST(MetricsEndpointTest, HeadAnswersWithoutBody) {
  auto endpoint = StartOrDie([] { return std::string("up 1\n"); });
  ASSERT_NE(endpoint, nullptr);
  httplib::Result response = ClientFor(*endpoint)->Head("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "");
}

TEST(MetricsEndpointTest, OtherPathsAreNotFound) {
  auto endpoint = StartOrDie([] { return std::string("up 1\n"); });
  ASSERT_NE(endpoint, nullptr);
  auto client = ClientFor(*endpoint);
  for (const char* path : {"/metric", "/metrics/", "/favicon.ico", "/x/y"}) {
    SCOPED_TRACE(path);
    httplib::Result response = client->Get(path);
    ASSERT_TRUE(response) << httplib::to_string(response.error());
    EXPECT_EQ(response->status, 404);
  }
}

TEST(MetricsEndpointTest, OtherMethodsAreNotAllowed) {
  auto endpoint = StartOrDie([] { return std::string("up 1\n"); });
  ASSERT_NE(endpoint, nullptr);
  auto client = ClientFor(*endpoint);
  std::vector<std::pair<std::string, httplib::Result>> responses;
  responses.emplace_back("POST", client->Post("/metrics", "x", "text/plain"));
  responses.emplace_back("PUT", client->Put("/metrics", "x", "text/plain"));
  responses.emplace_back("DELETE", client->Delete("/metrics"));
  responses.emplace_back("PATCH", client->Patch("/", "x", "text/plain"));
  responses.emplace_back("OPTIONS", client->Options("/metrics"));
  for (auto& [method, response] : responses) {
    SCOPED_TRACE(method);
    ASSERT_TRUE(response) << httplib::to_string(response.error());
    EXPECT_EQ(response->status, 405);
    EXPECT_EQ(response->get_header_value("Allow"), "GET, HEAD");
  }
}

TEST(MetricsEndpointTest, RenderThatThrowsAnswers500) {
  auto endpoint = StartOrDie(
      []() -> std::string { throw std::runtime_error("no metrics today"); });
  ASSERT_NE(endpoint, nullptr);
  auto client = ClientFor(*endpoint);
  httplib::Result response = client->Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 500);
  // And it goes on serving.
  response = client->Get("/");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
}

TEST(MetricsEndpointTest, PortInUseIsUnavailable) {
  auto first = StartOrDie([] { return std::string(); });
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> second =
      MetricsEndpoint::Start(absl::StrCat("127.0.0.1:", first->port()),
                             [] { return std::string(); });
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable)
      << second.status();
  EXPECT_THAT(std::string(second.status().message()),
              StartsWith("metrics-listen: "));
  // The first one is unharmed.
  httplib::Result response = ClientFor(*first)->Get("/");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
}

TEST(MetricsEndpointTest, AFixedPortIsReported) {
  // Find a free port, then ask for it by number.
  int port = 0;
  {
    auto probe = StartOrDie([] { return std::string(); });
    ASSERT_NE(probe, nullptr);
    port = probe->port();
  }
  auto endpoint = StartOrDie([] { return std::string("up 1\n"); },
                             absl::StrCat("127.0.0.1:", port));
  ASSERT_NE(endpoint, nullptr);
  EXPECT_EQ(endpoint->port(), port);
  httplib::Result response = ClientFor(*endpoint)->Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->body, "up 1\n");
}

TEST(MetricsEndpointTest, StopIsIdempotentAndClosesTheSocket) {
  auto endpoint = StartOrDie([] { return std::string("up 1\n"); });
  ASSERT_NE(endpoint, nullptr);
  auto client = ClientFor(*endpoint);
  ASSERT_TRUE(client->Get("/metrics"));
  endpoint->Stop();
  endpoint->Stop();
  EXPECT_FALSE(client->Get("/metrics"));
}

TEST(MetricsEndpointTest, StopRightAfterStartReturns) {
  for (int i = 0; i < 20; ++i) {
    auto endpoint = StartOrDie([] { return std::string(); });
    ASSERT_NE(endpoint, nullptr);
  }
}

TEST(MetricsEndpointTest, StopFromManyThreadsAtOnce) {
  auto endpoint = StartOrDie([] { return std::string(); });
  ASSERT_NE(endpoint, nullptr);
  std::vector<std::thread> stoppers;
  for (int t = 0; t < 3; ++t) {
    stoppers.emplace_back([&endpoint] { endpoint->Stop(); });
  }
  for (std::thread& stopper : stoppers) stopper.join();
  EXPECT_FALSE(ClientFor(*endpoint)->Get("/"));
}

// A TCP connection to 127.0.0.1:`port`; -1 when it cannot connect.
int Connect(int port) {
  const int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(sock);
    return -1;
  }
  return sock;
}

// Whether the server closes `sock` before `deadline` (whatever it sent).
bool ClosedByServer(int sock, std::chrono::steady_clock::time_point deadline) {
  char buffer[512];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fd{.fd = sock, .events = POLLIN, .revents = 0};
    if (poll(&fd, 1, 100) <= 0) continue;
    const ssize_t n = recv(sock, buffer, sizeof(buffer), 0);
    if (n <= 0) return true;
  }
  return false;
}

// Slowloris: many connections that send nothing, and more than the
// endpoint has threads that send half a request line and stop. A scrape
// after them is answered all the same, and the idle ones are cut.
TEST(MetricsEndpointTest, IdleAndHalfSentConnectionsDoNotBlockAScrape) {
  auto endpoint = StartOrDie([] { return std::string("up 1\n"); });
  ASSERT_NE(endpoint, nullptr);
  std::vector<int> idle;
  // Twenty silent ones would hold two threads for 50 s at a 5 s timeout
  // each; the scrape's client gives up after 30.
  for (int i = 0; i < 20; ++i) idle.push_back(Connect(endpoint->port()));
  for (int i = 0; i < 3; ++i) {
    const int sock = Connect(endpoint->port());
    ASSERT_GE(sock, 0);
    ASSERT_EQ(send(sock, "GET /metr", 9, MSG_NOSIGNAL), 9);
    idle.push_back(sock);
  }
  for (int sock : idle) ASSERT_GE(sock, 0);

  httplib::Result response = ClientFor(*endpoint)->Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "up 1\n");

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int sock : idle) {
    EXPECT_TRUE(ClosedByServer(sock, deadline));
    close(sock);
  }
  // And it goes on serving.
  response = ClientFor(*endpoint)->Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->status, 200);
}

TEST(MetricsEndpointTest, RefusesBadArguments) {
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
      MetricsEndpoint::Start("9477", [] { return std::string(); });
  EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(endpoint.status().message()),
              StartsWith("metrics-listen: "));
  endpoint = MetricsEndpoint::Start("127.0.0.1:0", nullptr);
  EXPECT_EQ(endpoint.status().code(), absl::StatusCode::kInvalidArgument);
}

bool HasIpv6Loopback() {
  const int sock = socket(AF_INET6, SOCK_STREAM, 0);
  if (sock < 0) return false;
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  const bool bound =
      bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(sock);
  return bound;
}

TEST(MetricsEndpointTest, ServesOnIpv6Loopback) {
  if (!HasIpv6Loopback()) GTEST_SKIP() << "this machine has no ::1";
  auto endpoint = StartOrDie([] { return std::string("up 1\n"); }, "[::1]:0");
  ASSERT_NE(endpoint, nullptr);
  httplib::Result response =
      ClientFor("::1", endpoint->port())->Get("/metrics");
  ASSERT_TRUE(response) << httplib::to_string(response.error());
  EXPECT_EQ(response->body, "up 1\n");
}

TEST(MetricsListenAddressTest, AcceptsHostAndPort) {
  const std::pair<std::string, std::pair<std::string, int>> cases[] = {
      {"127.0.0.1:9477", {"127.0.0.1", 9477}},
      {"0.0.0.0:0", {"0.0.0.0", 0}},
      {"[::1]:9477", {"::1", 9477}},
      {"[::]:65535", {"::", 65535}},
      {"[fe80::1%eth0]:80", {"fe80::1%eth0", 80}},
      {"localhost:80", {"localhost", 80}},
      {"metrics.example-1.internal:09477",
       {"metrics.example-1.internal", 9477}},
  };
  for (const auto& [listen, expected] : cases) {
    SCOPED_TRACE(listen);
    absl::StatusOr<std::pair<std::string, int>> parsed =
        ParseListenAddress(listen);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, expected);
  }
}

TEST(MetricsListenAddressTest, RefusesWithTheRule) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "must not be empty"},
      {"9477", "must be HOST:PORT"},
      {"host:", "port must be a number from 0 to 65535"},
      {"host:70000", "port must be a number from 0 to 65535"},
      {"host:123456", "port must be a number from 0 to 65535"},
      {"host:abc", "port must be a number from 0 to 65535"},
      {"host:-1", "port must be a number from 0 to 65535"},
      {"host: 80", "port must be a number from 0 to 65535"},
      {":9477", "host must not be empty"},
      {"::1:9477", "IPv6 host must be in brackets"},
      {"[::1]", "must be HOST:PORT"},
      {"[::1:9477", "needs its ']'"},
      {"[]:9477", "must be an IPv6 address"},
      {"[host]:9477", "must be an IPv6 address"},
      {"ho st:80", "IPv4 address or a host name"},
      {"http://host:80", "without a scheme"},
  };
  for (const auto& [listen, rule] : cases) {
    SCOPED_TRACE(listen);
    absl::StatusOr<std::pair<std::string, int>> parsed =
        ParseListenAddress(listen);
    ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << parsed.status();
    EXPECT_THAT(std::string(parsed.status().message()),
                StartsWith("metrics-listen: "));
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(rule));
  }
}

TEST(MetricsListenAddressTest, NamesTheFlagItIsGiven) {
  absl::StatusOr<std::pair<std::string, int>> parsed =
      ParseListenAddress("host:70000", "listen");
  EXPECT_THAT(std::string(parsed.status().message()),
              StartsWith("listen: \"host:70000\""));
}

}  // namespace
}  // namespace plantrail::metrics
