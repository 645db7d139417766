#include "services/rpc_observer.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::services {
namespace {

using ::testing::HasSubstr;
using Type = grpc::experimental::ServerRpcInfo::Type;

constexpr char kAppend[] = "/plantrail.v1.EventStore/Append";
constexpr char kGetArea[] = "/plantrail.v1.PlanQueries/GetArea";

TEST(RpcObserverTest, MethodsAreSplitIntoServiceAndMethod) {
  RpcObserver observer({kAppend});
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

TEST(RpcObserverTest, InventedMethodNamesCountAsOneAndPushNothingOut) {
  RpcObserver observer({kAppend, kGetArea});
  // Invented names first, many more than there are real methods; then the
  // real ones still get series of their own.
  for (int i = 0; i < 300; ++i) {
    observer.StatsFor(absl::StrCat("/x.Y/M", i).c_str(), Type::UNARY)
        .started.fetch_add(1);
  }
  observer.StatsFor("not a path", Type::UNARY).started.fetch_add(1);
  observer.StatsFor(nullptr, Type::UNARY).started.fetch_add(1);
  // A served method's name with something appended is not that method.
  observer.StatsFor("/plantrail.v1.PlanQueries/GetAreaX", Type::UNARY)
      .started.fetch_add(1);
  RpcObserver::MethodStats& get_area = observer.StatsFor(kGetArea, Type::UNARY);
  EXPECT_EQ(get_area.service, "plantrail.v1.PlanQueries");
  EXPECT_EQ(get_area.method, "GetArea");
  get_area.started.fetch_add(7);
  observer.StatsFor(kAppend, Type::UNARY).started.fetch_add(2);

  metrics::Exposition out;
  observer.WriteMetrics(out);
  const std::string text = std::move(out).Text();
  std::vector<std::string> started;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "grpc_server_started_total{")) {
      started.emplace_back(line);
    }
  }
  EXPECT_THAT(
      started,
      ::testing::UnorderedElementsAre(
          "grpc_server_started_total{grpc_type=\"unary\",grpc_service=\""
          "unknown\",grpc_method=\"unknown\"} 303",
          "grpc_server_started_total{grpc_type=\"unary\",grpc_service=\""
          "plantrail.v1.PlanQueries\",grpc_method=\"GetArea\"} 7",
          "grpc_server_started_total{grpc_type=\"unary\",grpc_service=\""
          "plantrail.v1.EventStore\",grpc_method=\"Append\"} 2"));
}

}  // namespace
}  // namespace plantrail::services
