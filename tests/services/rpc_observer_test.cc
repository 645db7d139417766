#include "services/rpc_observer.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::services {
namespace {

using ::testing::HasSubstr;
using Type = grpc::experimental::ServerRpcInfo::Type;

TEST(RpcObserverTest, MethodsAreSplitIntoServiceAndMethod) {
  RpcObserver observer;
  RpcObserver::MethodStats& append =
      observer.StatsFor("/plantrail.v1.EventStore/Append", Type::UNARY);
  EXPECT_EQ(append.service, "plantrail.v1.EventStore");
  EXPECT_EQ(append.method, "Append");
  EXPECT_EQ(append.type, "unary");
  EXPECT_EQ(&observer.StatsFor("/plantrail.v1.EventStore/Append", Type::UNARY),
            &append);
  append.started.fetch_add(2);
  append.handled[0].fetch_add(1);
  append.handled[10].fetch_add(1);
  append.handling_seconds.Observe(0.001);
  metrics::Exposition out;
  observer.WriteMetrics(out);
  const std::string text = std::move(out).Text();
  const std::string labels =
      "grpc_type=\"unary\",grpc_service=\"plantrail.v1.EventStore\","
      "grpc_method=\"Append\"";
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_server_started_total{", labels,
                                           "} 2\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_server_handled_total{", labels,
                                           ",grpc_code=\"OK\"} 1\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("grpc_server_handled_total{", labels,
                                           ",grpc_code=\"Aborted\"} 1\n")));
  EXPECT_THAT(text,
              HasSubstr(absl::StrCat("grpc_server_handling_seconds_count{",
                                     labels, "} 1\n")));
}

TEST(RpcObserverTest, InventedMethodNamesCannotGrowTheMetricsWithoutBound) {
  RpcObserver observer;
  for (int i = 0; i < 1000; ++i) {
    observer.StatsFor(absl::StrCat("/x.Y/M", i).c_str(), Type::UNARY);
  }
  observer.StatsFor("not a path", Type::UNARY);
  observer.StatsFor(nullptr, Type::UNARY);
  metrics::Exposition out;
  observer.WriteMetrics(out);
  const std::string text = std::move(out).Text();
  size_t started = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "grpc_server_started_total{")) ++started;
  }
  EXPECT_EQ(started, RpcObserver::kMaxMethods + 1);
  EXPECT_THAT(text,
              HasSubstr("grpc_service=\"unknown\",grpc_method=\"unknown\""));
}

}  // namespace
}  // namespace plantrail::services
