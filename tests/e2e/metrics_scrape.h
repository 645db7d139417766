// Reading the server's Prometheus endpoint (--metrics-listen) from a test:
// one scrape as series -> value, the gRPC families' series names, and
// scraping until a condition holds, within a deadline.
#ifndef PLANTRAIL_TESTS_E2E_METRICS_SCRAPE_H_
#define PLANTRAIL_TESTS_E2E_METRICS_SCRAPE_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace plantrail::testing {

// A scrape: series (name with its labels, as written) -> value.
using Scrape = std::map<std::string, double>;

inline std::string FetchMetrics(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  const httplib::Result result = client.Get("/metrics");
  EXPECT_TRUE(result) << "no answer from the metrics endpoint";
  if (!result) return "";
  EXPECT_EQ(result->status, 200);
  EXPECT_THAT(result->get_header_value("Content-Type"),
              ::testing::HasSubstr("text/plain; version=0.0.4"));
  return result->body;
}

inline Scrape Parse(const std::string& text) {
  Scrape scrape;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(space + 1), &value)) << line;
    scrape[std::string(line.substr(0, space))] = value;
  }
  return scrape;
}

inline double Value(const Scrape& scrape, const std::string& series) {
  auto it = scrape.find(series);
  EXPECT_NE(it, scrape.end()) << "no series " << series;
  return it == scrape.end() ? 0 : it->second;
}

// The gRPC families' labels for one method.
inline std::string Rpc(const std::string& family, const std::string& service,
                       const std::string& method, const std::string& code = "",
                       const std::string& type = "unary") {
  std::string labels =
      absl::StrCat("grpc_type=\"", type, "\",grpc_service=\"plantrail.v1.",
                   service, "\",grpc_method=\"", method, "\"");
  if (!code.empty()) absl::StrAppend(&labels, ",grpc_code=\"", code, "\"");
  return absl::StrCat(family, "{", labels, "}");
}

// Scrapes every 10 ms until `done(scrape)` holds, for at most `timeout`, and
// returns the scrape where it did; nullopt, with a test failure naming
// `what`, when the time runs out.
template <typename Done>
std::optional<Scrape> ScrapeUntil(
    int port, const std::string& what, Done done,
    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    Scrape scrape = Parse(FetchMetrics(port));
    if (done(scrape)) return scrape;
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "the metrics never showed " << what << " (waited "
                    << timeout.count() << " ms)";
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace plantrail::testing

#endif  // PLANTRAIL_TESTS_E2E_METRICS_SCRAPE_H_
