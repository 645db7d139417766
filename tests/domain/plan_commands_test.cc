// The one list of commands (domain/plan_commands.h) is the PlanCommands
// service's rpcs: same requests, same order. The service registers, the
// authorizer admits, the test harness sends and the fuzzer generates from
// the list, so an rpc missing from it would be unserved, and one added
// elsewhere in it would change the fuzzer's seeds.
#include "domain/plan_commands.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace plantrail::domain {
namespace {

TEST(PlanCommandListTest, TheListIsTheServicesRpcsInTheirOrder) {
  const google::protobuf::ServiceDescriptor& service = PlanCommandsService();
  std::vector<std::string> rpcs, listed;
  for (int i = 0; i < service.method_count(); ++i) {
    rpcs.push_back(service.method(i)->input_type()->full_name());
    EXPECT_EQ(service.method(i)->output_type(), v1::CommandResult::descriptor())
        << service.method(i)->name();
  }
  ForEachPlanCommand([&](auto type, size_t index) {
    using Request = typename decltype(type)::type;
    listed.push_back(Request::descriptor()->full_name());
    EXPECT_EQ(PlanCommandIndex<Request>(), index);
  });
  EXPECT_EQ(listed, rpcs);
}

TEST(PlanCommandListTest, NamesAndIndexesComeFromTheRequestType) {
  EXPECT_EQ(PlanCommandName<v1::RegisterAreaRequest>(), "RegisterArea");
  EXPECT_EQ(PlanCommandName<v1::ReopenPlanRequest>(), "ReopenPlan");
  EXPECT_EQ(PlanCommandName(*v1::CommandResult::descriptor()), "");
  EXPECT_EQ(PlanCommandIndex<v1::RegisterAreaRequest>(), 0u);
  EXPECT_EQ(PlanCommandIndex<v1::CommandResult>(), kPlanCommandCount);
  EXPECT_EQ(VisitPlanCommand<std::string>(7,
                                          [](auto type) {
                                            using Request =
                                                typename decltype(type)::type;
                                            return PlanCommandName<Request>();
                                          }),
            "RecordDecision");
}

}  // namespace
}  // namespace plantrail::domain
