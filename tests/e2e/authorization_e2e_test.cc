// Who may call what, over real gRPC against the real server: every RPC of
// every service, called as every role and without valid credentials. The
// policy is written out here on its own, so a change to the server's table
// that is not also made here fails.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"
#include "plantrail/v1/replication.grpc.pb.h"
#include "tests/e2e/server_test.h"

namespace plantrail::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Which roles may call each RPC; every other role is refused.
const std::map<std::string, std::set<std::string>>& Policy() {
  static const auto* policy = new std::map<std::string, std::set<std::string>>{
      {"EventStore/Append", {"admin"}},
      {"EventStore/ReadStream",
       {"admin", "planner", "auditor", "reader", "subscriber"}},
      {"EventStore/ReadAll",
       {"admin", "planner", "auditor", "reader", "subscriber"}},
      {"EventStore/Subscribe", {"admin", "auditor", "subscriber"}},
      {"EventStore/Ack", {"admin", "subscriber"}},
      {"PlanCommands/RegisterArea", {"admin", "planner"}},
      {"PlanCommands/ReviseDetails", {"admin", "planner"}},
      {"PlanCommands/ReportStatus", {"admin", "planner"}},
      {"PlanCommands/ReviseSchedule", {"admin", "planner"}},
      {"PlanCommands/AddDependency", {"admin", "planner"}},
      {"PlanCommands/RemoveDependency", {"admin", "planner"}},
      {"PlanCommands/ChangeUnits", {"admin", "planner"}},
      {"PlanCommands/RecordDecision", {"admin", "planner"}},
      {"PlanCommands/CloseArea", {"admin", "planner"}},
      {"PlanCommands/ReopenArea", {"admin", "planner"}},
      {"PlanCommands/CorrectEntry", {"admin", "planner"}},
      {"PlanCommands/RegisterPlan", {"admin", "planner"}},
      {"PlanCommands/RevisePlan", {"admin", "planner"}},
      {"PlanCommands/ClosePlan", {"admin", "planner"}},
      {"PlanCommands/ReopenPlan", {"admin", "planner"}},
      {"PlanCommands/OpenFollowUp", {"admin", "planner"}},
      {"PlanCommands/CloseFollowUp", {"admin", "planner"}},
      {"PlanQueries/ListPlans", {"admin", "planner", "auditor", "reader"}},
      {"PlanQueries/GetPlan", {"admin", "planner", "auditor", "reader"}},
      {"PlanQueries/GetArea", {"admin", "planner", "auditor", "reader"}},
      {"PlanQueries/ListAreas", {"admin", "planner", "auditor", "reader"}},
      {"PlanQueries/GetHistory", {"admin", "planner", "auditor", "reader"}},
      {"PlanQueries/ListDecisions", {"admin", "planner", "auditor", "reader"}},
      {"PlanQueries/GetPortfolio", {"admin", "planner", "auditor", "reader"}},
      {"PlanQueries/GetChanges", {"admin", "planner", "auditor", "reader"}},
      {"PlanQueries/GetFollowUp", {"admin", "planner", "auditor", "reader"}},
      {"PlanQueries/GetDependencies",
       {"admin", "planner", "auditor", "reader"}},
      {"Admin/Verify", {"admin", "auditor"}},
      {"Admin/GetStats", {"admin", "auditor"}},
      {"Admin/GetDigest", {"admin", "auditor"}},
      {"Admin/Backup", {"admin"}},
      {"Admin/RedactEvent", {"admin"}},
      {"Admin/ListProjections", {"admin", "auditor"}},
      {"Admin/RebuildProjection", {"admin"}},
      {"Admin/CreateToken", {"admin"}},
      {"Admin/ListTokens", {"admin", "auditor"}},
      {"Admin/RevokeToken", {"admin"}},
      {"Admin/AddWebhook", {"admin"}},
      {"Admin/ListWebhooks", {"admin", "auditor"}},
      {"Admin/GetWebhook", {"admin", "auditor"}},
      {"Admin/PauseWebhook", {"admin"}},
      {"Admin/ResumeWebhook", {"admin"}},
      {"Admin/RotateWebhookSecret", {"admin"}},
      {"Admin/ReplayWebhook", {"admin"}},
      {"Admin/RemoveWebhook", {"admin"}},
      {"Admin/Promote", {"admin"}},
      {"Replication/Follow", {"admin"}},
      {"Replication/GetChainHashes", {"admin"}},
  };
  return *policy;
}

const std::vector<std::string> kRoles = {"admin", "planner", "auditor",
                                         "reader", "subscriber"};

class AuthorizationE2eTest : public ServerTest {
 protected:
  // These tests fail authentication on purpose, often: no slowing down.
  std::vector<std::string> ServerArgs() const override {
    return {"--max-failed-auth-per-minute", "100000"};
  }

  void SetUp() override {
    ServerTest::SetUp();
    plain_ = grpc::CreateChannel(server_.address(),
                                 grpc::InsecureChannelCredentials());
  }

  // A token for `principal` with `role`, granted by the admin.
  std::string Grant(const std::string& principal, const std::string& role,
                    const std::vector<std::string>& support_areas = {},
                    const std::vector<std::string>& plans = {}) {
    v1::CreateTokenRequest request;
    request.set_principal(principal);
    for (const std::string& area : support_areas) {
      request.add_support_areas(area);
    }
    for (const std::string& plan : plans) request.add_plans(plan);
    v1::Role parsed = v1::ROLE_UNSPECIFIED;
    EXPECT_TRUE(v1::Role_Parse(
        absl::StrCat("ROLE_", absl::AsciiStrToUpper(role)), &parsed));
    request.add_roles(parsed);
    v1::CreateTokenResponse response;
    const grpc::Status status =
        admin_->CreateToken(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    token_ids_[principal] = response.info().token_id();
    return response.token();
  }

  // Calls "/plantrail.v1.<method>" with an empty request and `auth` as the
  // authorization header (none when empty); its status.
  grpc::Status Call(const std::string& method, const std::string& auth) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    if (!auth.empty()) context.AddMetadata("authorization", auth);
    if (method == "EventStore/Subscribe") {
      // The one streaming RPC: allowed means its first message arrives.
      auto stub = v1::EventStore::NewStub(plain_);
      v1::SubscribeRequest request;
      request.mutable_now();
      auto reader = stub->Subscribe(&context, request);
      v1::SubscribeResponse message;
      if (reader->Read(&message)) {
        context.TryCancel();
        reader->Finish().IgnoreError();
        return grpc::Status::OK;
      }
      return reader->Finish();
    }
    if (method == "Replication/Follow") {
      // Allowed means the leader's first message (records or a heartbeat).
      auto stub = v1::Replication::NewStub(plain_);
      auto stream = stub->Follow(&context);
      v1::FollowLogRequest first;
      first.set_replica_name("policy-check");
      v1::FollowLogResponse message;
      if (stream->Write(first) && stream->Read(&message)) {
        context.TryCancel();
        stream->Finish().IgnoreError();
        return grpc::Status::OK;
      }
      return stream->Finish();
    }
    std::string response;
    return RawUnary(plain_, &context, absl::StrCat("/plantrail.v1.", method),
                    "", &response);
  }

  // Plans "plan-a" and "plan-b", each with area "1", as the admin
  // registers them; the last command's result.
  v1::CommandResult RegisterPlansAAndB() {
    v1::CommandResult result;
    for (const char* plan : {"plan-a", "plan-b"}) {
      v1::RegisterPlanRequest register_plan;
      register_plan.set_plan_id(plan);
      register_plan.mutable_fields()->set_title(plan);
      EXPECT_TRUE(
          commands_->RegisterPlan(Context().get(), register_plan, &result)
              .ok());
      v1::RegisterAreaRequest area;
      area.set_plan_id(plan);
      area.set_area_id("1");
      area.set_title("One");
      area.set_support_area("3.1");
      EXPECT_TRUE(commands_->RegisterArea(Context().get(), area, &result).ok());
    }
    return result;
  }

  // Area 3.1.1 of support area 3.1, as the admin registers it (the tests of
  // a planner limited to 3.4 need one outside the scope).
  static v1::RegisterAreaRequest AreaOutsideAnnasScope() {
    v1::RegisterAreaRequest request;
    request.set_area_id("3.1.1");
    request.set_title("Exchange students");
    request.set_support_area("3.1");
    return request;
  }

  std::shared_ptr<grpc::Channel> plain_;
  std::map<std::string, std::string> token_ids_;
};

TEST_F(AuthorizationE2eTest, EveryRpcAsEveryRoleIsAllowedOrRefusedByThePolicy) {
  std::map<std::string, std::string> tokens;
  for (const std::string& role : kRoles) {
    tokens[role] = Grant(absl::StrCat("as-", role), role);
  }
  // The policy covers every method the services have. (Naming a message of
  // each file links its descriptors in.)
  (void)v1::GetAreaRequest::descriptor();
  std::set<std::string> served;
  for (const char* service :
       {"plantrail.v1.EventStore", "plantrail.v1.PlanCommands",
        "plantrail.v1.PlanQueries", "plantrail.v1.Admin",
        "plantrail.v1.Replication"}) {
    const auto* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            service);
    ASSERT_NE(descriptor, nullptr) << service;
    for (int i = 0; i < descriptor->method_count(); ++i) {
      served.insert(
          absl::StrCat(descriptor->name(), "/", descriptor->method(i)->name()));
    }
  }
  std::set<std::string> covered;
  for (const auto& [method, roles] : Policy()) covered.insert(method);
  EXPECT_EQ(served, covered);

  for (const auto& [method, allowed] : Policy()) {
    for (const std::string& role : kRoles) {
      SCOPED_TRACE(absl::StrCat(method, " as ", role));
      const grpc::Status status =
          Call(method, absl::StrCat("Bearer ", tokens[role]));
      if (allowed.contains(role)) {
        EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << status.error_message();
        EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << status.error_message();
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << status.error_message();
        EXPECT_THAT(
            status.error_message(),
            HasSubstr(absl::StrCat("as-", role, " (", role, ") may not call")));
      }
    }
  }
}

TEST_F(AuthorizationE2eTest, NoWrongMalformedExpiredOrRevokedTokenGetsIn) {
  const std::string reader = Grant("rita", "reader");
  ASSERT_TRUE(Call("PlanQueries/ListAreas", "Bearer " + reader).ok());
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(token_ids_["rita"]);
  revoke.set_reason("left the office");
  v1::RevokeTokenResponse revoked;
  ASSERT_TRUE(admin_->RevokeToken(Context().get(), revoke, &revoked).ok());
  EXPECT_TRUE(revoked.info().revoked());
  EXPECT_EQ(revoked.info().revoked_by(), "admin");

  const std::vector<std::pair<std::string, std::string>> refused = {
      {"", "no credentials"},
      {"Bearer pt_" + std::string(64, '0'), "unknown token"},
      {"Bearer not-a-token", "not a plantrail token"},
      {"Basic dXNlcjpwYXNz", "expected \"Bearer <token>\""},
      {"Bearer " + reader, "was revoked"},
  };
  for (const auto& [auth, why] : refused) {
    for (const auto& [method, roles] : Policy()) {
      const grpc::Status status = Call(method, auth);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << " with \"" << auth << "\"";
      EXPECT_THAT(status.error_message(), HasSubstr(why)) << method;
    }
  }

  // An expired token: one that lives a second, polled until it has died.
  v1::CreateTokenRequest brief;
  brief.set_principal("brief");
  brief.add_roles(v1::ROLE_ADMIN);
  brief.set_expires_in_seconds(1);
  v1::CreateTokenResponse created;
  ASSERT_TRUE(admin_->CreateToken(Context().get(), brief, &created).ok());
  const std::string expired = "Bearer " + created.token();
  const auto deadline = absl::Now() + absl::Seconds(30);
  while (Call("Admin/GetStats", expired).ok() && absl::Now() < deadline) {
    std::this_thread::yield();
  }
  for (const auto& [method, roles] : Policy()) {
    const grpc::Status status = Call(method, expired);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
    EXPECT_THAT(status.error_message(), HasSubstr("expired at")) << method;
  }

  // The first start's admin token is readable by the server's user only.
  struct stat token_file;
  ASSERT_EQ(
      stat((std::string(dir_ / "data") + "/admin.token").c_str(), &token_file),
      0);
  EXPECT_EQ(token_file.st_mode & 0777, 0600);

  // Every refusal is in the security log, and no secret ever is.
  std::ifstream in(std::string(dir_ / "data") + "/security.log");
  std::string log((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  EXPECT_THAT(log, HasSubstr("rpc=/plantrail.v1.Admin/Verify "
                             "code=UNAUTHENTICATED"));
  EXPECT_THAT(log, HasSubstr("peer=ipv"));
  EXPECT_THAT(log, Not(HasSubstr(reader)));
  EXPECT_THAT(log, Not(HasSubstr(server_.AdminToken())));
}

TEST_F(AuthorizationE2eTest, TheActorIsTheTokensPrincipalWhateverTheCallSays) {
  const std::string planner = Grant("anna", "planner");
  auto stub = v1::PlanCommands::NewStub(plain_);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + planner);
  context.AddMetadata("actor", "mallory");
  context.AddMetadata("x-plantrail-actor", "mallory");
  v1::RegisterAreaRequest request;
  request.set_area_id("3.4.2");
  request.set_title("Budget follow-up");
  request.set_support_area("3.4");
  v1::CommandResult result;
  ASSERT_TRUE(stub->RegisterArea(&context, request, &result).ok());
  const std::vector<v1::RecordedEvent> log = ReadAll();
  // The grant (by admin), then the registration (by anna).
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].stream_id(), "plantrail-security");
  EXPECT_EQ(log[0].metadata().at("actor"), "admin");
  EXPECT_EQ(log[1].stream_id(), "area-3.4.2");
  EXPECT_EQ(log[1].metadata().at("actor"), "anna");
}

TEST_F(AuthorizationE2eTest, APlannerLimitedToASupportAreaStaysInIt) {
  // The admin registers an area of 3.1; anna may plan only 3.4.
  const v1::RegisterAreaRequest other = AreaOutsideAnnasScope();
  v1::CommandResult result;
  ASSERT_TRUE(commands_->RegisterArea(Context().get(), other, &result).ok());
  auto as_anna = [&, token = Grant("anna", "planner", {"3.4"})] {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + token);
    return context;
  };
  auto stub = v1::PlanCommands::NewStub(plain_);
  const uint64_t head_before = HeadPosition();

  v1::RegisterAreaRequest mine;
  mine.set_area_id("3.4.2");
  mine.set_title("Budget follow-up");
  mine.set_support_area("3.4");
  EXPECT_TRUE(stub->RegisterArea(as_anna().get(), mine, &result).ok());

  auto refused = [&](grpc::Status status, const char* area) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << status.error_message();
    EXPECT_THAT(
        status.error_message(),
        HasSubstr(absl::StrCat("area \"", area, "\" is in support area")));
    EXPECT_THAT(status.error_message(), HasSubstr("[rule: planner-scope]"));
  };
  v1::RegisterAreaRequest elsewhere = mine;
  elsewhere.set_area_id("3.1.9");
  elsewhere.set_support_area("3.1");
  refused(stub->RegisterArea(as_anna().get(), elsewhere, &result), "3.1.9");
  v1::ReportStatusRequest report;
  report.set_area_id("3.1.1");
  report.set_phase(v1::PHASE_IN_PROGRESS);
  report.set_health(v1::HEALTH_AT_RISK);
  report.set_narrative("Not mine to say");
  refused(stub->ReportStatus(as_anna().get(), report, &result), "3.1.1");
  v1::ReviseDetailsRequest move;
  move.set_area_id("3.4.2");
  move.mutable_details()->set_support_area("3.1");
  move.set_reason("Reorganised");
  refused(stub->ReviseDetails(as_anna().get(), move, &result), "3.4.2");
  v1::RecordDecisionRequest decision;
  decision.set_reference("V-2024-0001");
  decision.set_body("Styrgrupp");
  decision.set_decided_on("2024-02-01");
  decision.set_title("Both areas");
  decision.add_area_ids("3.4.2");
  decision.add_area_ids("3.1.1");
  refused(stub->RecordDecision(as_anna().get(), decision, &result), "3.1.1");
  // Only the registration in 3.4 was written.
  EXPECT_EQ(HeadPosition(), head_before + 1);
}

TEST_F(AuthorizationE2eTest,
       APlannerLimitedToAPlanCannotWriteToAnotherByAnyRoute) {
  // The admin registers plans A and B, area 1 in each, and a decision in B.
  v1::CommandResult result = RegisterPlansAAndB();
  v1::ReportStatusRequest admins_report;
  admins_report.mutable_options()->set_command_id("admins-report-in-b");
  admins_report.set_plan_id("plan-b");
  admins_report.set_area_id("1");
  admins_report.set_phase(v1::PHASE_IN_PROGRESS);
  admins_report.set_health(v1::HEALTH_ON_TRACK);
  admins_report.set_narrative("Fine");
  ASSERT_TRUE(
      commands_->ReportStatus(Context().get(), admins_report, &result).ok());

  const std::string token = Grant("bertil", "planner", {}, {"plan-a"});
  auto as_bertil = [&token] {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + token);
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(30));
    return context;
  };
  auto stub = v1::PlanCommands::NewStub(plain_);
  const uint64_t head_before = HeadPosition();
  int routes = 0;
  auto refused = [&](const grpc::Status& status) {
    ++routes;
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << routes << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("[rule: plan-scope]"))
        << routes;
  };
  auto in_b = [](auto request) {
    request.set_plan_id("plan-b");
    request.set_area_id("1");
    return request;
  };
  v1::RegisterAreaRequest register_area = in_b(v1::RegisterAreaRequest());
  register_area.set_area_id("2");
  register_area.set_title("Two");
  register_area.set_support_area("3.1");
  refused(stub->RegisterArea(as_bertil().get(), register_area, &result));
  v1::ReviseDetailsRequest revise = in_b(v1::ReviseDetailsRequest());
  revise.mutable_details()->set_title("Mine now");
  revise.set_reason("r");
  refused(stub->ReviseDetails(as_bertil().get(), revise, &result));
  v1::ReportStatusRequest report = in_b(v1::ReportStatusRequest());
  report.set_phase(v1::PHASE_IN_PROGRESS);
  report.set_health(v1::HEALTH_AT_RISK);
  report.set_narrative("n");
  refused(stub->ReportStatus(as_bertil().get(), report, &result));
  v1::ReviseScheduleRequest move = in_b(v1::ReviseScheduleRequest());
  move.set_planned_end("2030");
  move.set_reason("r");
  refused(stub->ReviseSchedule(as_bertil().get(), move, &result));
  v1::AddDependencyRequest depend = in_b(v1::AddDependencyRequest());
  depend.set_external("Ladok");
  refused(stub->AddDependency(as_bertil().get(), depend, &result));
  v1::RemoveDependencyRequest undepend = in_b(v1::RemoveDependencyRequest());
  undepend.set_external("Ladok");
  undepend.set_reason("r");
  refused(stub->RemoveDependency(as_bertil().get(), undepend, &result));
  v1::ChangeUnitsRequest units = in_b(v1::ChangeUnitsRequest());
  units.mutable_participating_units()->add_units("X");
  units.set_reason("r");
  refused(stub->ChangeUnits(as_bertil().get(), units, &result));
  v1::CloseAreaRequest close = in_b(v1::CloseAreaRequest());
  close.set_outcome(v1::OUTCOME_CANCELLED);
  close.set_reason("r");
  refused(stub->CloseArea(as_bertil().get(), close, &result));
  v1::ReopenAreaRequest reopen = in_b(v1::ReopenAreaRequest());
  reopen.set_reason("r");
  refused(stub->ReopenArea(as_bertil().get(), reopen, &result));
  v1::CorrectEntryRequest correct = in_b(v1::CorrectEntryRequest());
  correct.set_position(head_before);
  correct.set_reason("r");
  refused(stub->CorrectEntry(as_bertil().get(), correct, &result));
  v1::RecordDecisionRequest decision;
  decision.set_plan_id("plan-b");
  decision.set_reference("V-1");
  decision.set_body("Rektor");
  decision.set_decided_on("2024-01-01");
  decision.set_title("t");
  decision.add_area_ids("1");
  refused(stub->RecordDecision(as_bertil().get(), decision, &result));
  // A decision of plan A that names plan B's area would enter B's history.
  v1::RecordDecisionRequest naming_b = decision;
  naming_b.set_plan_id("plan-a");
  naming_b.set_decision_id("naming-b");
  v1::AreaRef* area_in_b = naming_b.add_other_plan_areas();
  area_in_b->set_plan_id("plan-b");
  area_in_b->set_area_id("1");
  refused(stub->RecordDecision(as_bertil().get(), naming_b, &result));
  // The plans themselves: no new one, and not plan B.
  v1::RegisterPlanRequest new_plan;
  new_plan.set_plan_id("plan-c");
  new_plan.mutable_fields()->set_title("c");
  refused(stub->RegisterPlan(as_bertil().get(), new_plan, &result));
  v1::RevisePlanRequest revise_plan;
  revise_plan.set_plan_id("plan-b");
  revise_plan.mutable_fields()->set_title("b2");
  revise_plan.set_reason("r");
  refused(stub->RevisePlan(as_bertil().get(), revise_plan, &result));
  v1::ClosePlanRequest close_plan;
  close_plan.set_plan_id("plan-b");
  close_plan.set_reason("r");
  refused(stub->ClosePlan(as_bertil().get(), close_plan, &result));
  v1::ReopenPlanRequest reopen_plan;
  reopen_plan.set_plan_id("plan-b");
  reopen_plan.set_reason("r");
  refused(stub->ReopenPlan(as_bertil().get(), reopen_plan, &result));
  // A replay of plan B's command (its command id) tells nothing either.
  refused(stub->ReportStatus(as_bertil().get(), admins_report, &result));
  EXPECT_EQ(routes, 17);
  EXPECT_EQ(HeadPosition(), head_before) << "nothing was written";

  // In plan A, the same planner works.
  v1::ReportStatusRequest mine = report;
  mine.set_plan_id("plan-a");
  EXPECT_TRUE(stub->ReportStatus(as_bertil().get(), mine, &result).ok());
  EXPECT_EQ(result.stream_id(), "area-plan-a:1");
}

TEST_F(AuthorizationE2eTest, AReaderLimitedToAPlanSeesOnlyIt) {
  v1::CommandResult result = RegisterPlansAAndB();
  const std::string token = Grant("nils", "reader", {}, {"plan-a"});
  auto as_nils = [&token, position = result.position()](auto& request) {
    request.set_min_position(position);
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + token);
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(30));
    return context;
  };
  auto queries = v1::PlanQueries::NewStub(plain_);
  v1::ListPlansRequest list_plans;
  v1::ListPlansResponse plans;
  ASSERT_TRUE(
      queries->ListPlans(as_nils(list_plans).get(), list_plans, &plans).ok());
  ASSERT_EQ(plans.plans_size(), 1);
  EXPECT_EQ(plans.plans(0).plan_id(), "plan-a");
  v1::ListAreasRequest list_areas;
  v1::ListAreasResponse areas;
  ASSERT_TRUE(
      queries->ListAreas(as_nils(list_areas).get(), list_areas, &areas).ok());
  ASSERT_EQ(areas.areas_size(), 1);
  EXPECT_EQ(areas.areas(0).name(), "plans/plan-a/areas/1");
  v1::GetPortfolioRequest portfolio;
  v1::GetPortfolioResponse counts;
  ASSERT_TRUE(
      queries->GetPortfolio(as_nils(portfolio).get(), portfolio, &counts).ok());
  EXPECT_EQ(counts.overall().areas(), 1u);

  v1::GetAreaRequest get_area;
  get_area.set_plan_id("plan-b");
  get_area.set_area_id("1");
  v1::GetAreaResponse area;
  const grpc::Status other =
      queries->GetArea(as_nils(get_area).get(), get_area, &area);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(other.error_message(), HasSubstr("[rule: plan-scope]"));
  v1::GetPlanRequest get_plan;
  get_plan.set_plan_id("plan-b");
  v1::GetPlanResponse plan;
  EXPECT_EQ(
      queries->GetPlan(as_nils(get_plan).get(), get_plan, &plan).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  list_areas.set_plan_id("plan-b");
  EXPECT_EQ(queries->ListAreas(as_nils(list_areas).get(), list_areas, &areas)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // What changed: across plans only plan A's area; plan B's refused.
  v1::GetChangesRequest get_changes;
  get_changes.set_since("2000-01-01");
  v1::GetChangesResponse changes;
  ASSERT_TRUE(
      queries->GetChanges(as_nils(get_changes).get(), get_changes, &changes)
          .ok());
  ASSERT_EQ(changes.areas_size(), 1);
  EXPECT_EQ(changes.areas(0).name(), "plans/plan-a/areas/1");
  EXPECT_EQ(changes.summary().areas(), 1u);
  get_changes.set_plan_id("plan-b");
  const grpc::Status changes_b =
      queries->GetChanges(as_nils(get_changes).get(), get_changes, &changes);
  EXPECT_EQ(changes_b.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(changes_b.error_message(), HasSubstr("[rule: plan-scope]"));
  // Nor plan B's follow-up rounds (whether it has any is not told).
  v1::GetFollowUpRequest get_follow_up;
  get_follow_up.set_plan_id("plan-b");
  v1::GetFollowUpResponse follow_up;
  const grpc::Status follow_up_b = queries->GetFollowUp(
      as_nils(get_follow_up).get(), get_follow_up, &follow_up);
  EXPECT_EQ(follow_up_b.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(follow_up_b.error_message(), HasSubstr("[rule: plan-scope]"));

  // Below the plans, the log too: plan B's streams are not read, and
  // ReadAll leaves every event but plan A's out.
  auto store = v1::EventStore::NewStub(plain_);
  v1::ReadStreamRequest read_stream;
  read_stream.set_stream_id("area-plan-b:1");
  read_stream.set_direction(v1::READ_DIRECTION_FORWARD);
  v1::ReadStreamResponse stream_page;
  auto read_context = [&token] {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + token);
    return context;
  };
  const grpc::Status stream_status =
      store->ReadStream(read_context().get(), read_stream, &stream_page);
  EXPECT_EQ(stream_status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(stream_status.error_message(), HasSubstr("[rule: plan-scope]"));
  read_stream.set_stream_id("area-plan-a:1");
  EXPECT_TRUE(
      store->ReadStream(read_context().get(), read_stream, &stream_page).ok());
  v1::ReadAllRequest read_all;
  read_all.set_limit(1000);
  v1::ReadAllResponse all;
  ASSERT_TRUE(store->ReadAll(read_context().get(), read_all, &all).ok());
  std::set<std::string> streams;
  for (const v1::RecordedEvent& event : all.events()) {
    streams.insert(event.stream_id());
  }
  EXPECT_EQ(streams, (std::set<std::string>{"plan-plan-a", "area-plan-a:1"}));

  // Plan limits are for planners and readers only.
  v1::CreateTokenRequest subscriber;
  subscriber.set_principal("feed");
  subscriber.add_roles(v1::ROLE_SUBSCRIBER);
  subscriber.add_plans("plan-a");
  v1::CreateTokenResponse created;
  const grpc::Status status =
      admin_->CreateToken(Context().get(), subscriber, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("[rule: plans-for-planners-and-readers]"));
}

// The security log, whole.
std::string SecurityLog(const TempDir& dir) {
  std::ifstream in(std::string(dir / "data") + "/security.log");
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

TEST_F(AuthorizationE2eTest, RefusalsAfterAuthorizationAreInTheSecurityLog) {
  const v1::RegisterAreaRequest other = AreaOutsideAnnasScope();
  v1::CommandResult result;
  ASSERT_TRUE(commands_->RegisterArea(Context().get(), other, &result).ok());
  const std::string anna = Grant("anna", "planner", {"3.4"});
  v1::ReportStatusRequest report;
  report.set_area_id("3.1.1");
  report.set_phase(v1::PHASE_IN_PROGRESS);
  report.set_health(v1::HEALTH_AT_RISK);
  report.set_narrative("Not mine to say");
  auto stub = v1::PlanCommands::NewStub(plain_);
  EXPECT_EQ(
      stub->ReportStatus(Context({{"authorization", "Bearer " + anna}}).get(),
                         report, &result)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  v1::AppendRequest append;
  append.set_stream_id("area-3.1.1");
  append.add_events()->set_type("Sneaked");
  v1::AppendResponse appended;
  EXPECT_EQ(store_->Append(Context().get(), append, &appended).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const std::string log = SecurityLog(dir_);
  EXPECT_THAT(log, HasSubstr("principal=\"anna\" "
                             "rpc=/plantrail.v1.PlanCommands/ReportStatus "
                             "code=PERMISSION_DENIED"));
  EXPECT_THAT(log, HasSubstr("[rule: planner-scope]"));
  EXPECT_THAT(log, HasSubstr("principal=\"admin\" "
                             "rpc=/plantrail.v1.EventStore/Append "
                             "code=PERMISSION_DENIED"));
  EXPECT_THAT(log, HasSubstr("[rule: plan-streams-by-command]"));
}

TEST_F(AuthorizationE2eTest, AReplayedCommandIdPassesTheScopeCheckToo) {
  v1::RegisterAreaRequest other = AreaOutsideAnnasScope();
  other.mutable_options()->set_command_id("register-3.1.1");
  v1::CommandResult result;
  ASSERT_TRUE(commands_->RegisterArea(Context().get(), other, &result).ok());
  const std::string anna = Grant("anna", "planner", {"3.4"});
  auto stub = v1::PlanCommands::NewStub(plain_);
  v1::CommandResult replayed;
  const grpc::Status status = stub->RegisterArea(
      Context({{"authorization", "Bearer " + anna}}).get(), other, &replayed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("[rule: planner-scope]"));
  EXPECT_EQ(replayed.position(), 0u);
  // The admin's replay still answers with the original.
  v1::CommandResult again;
  ASSERT_TRUE(commands_->RegisterArea(Context().get(), other, &again).ok());
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.position(), result.position());
}

TEST_F(AuthorizationE2eTest, TheActorOfALowLevelAppendIsTheCaller) {
  v1::AppendRequest append;
  append.set_stream_id("notes");
  v1::ProposedEvent* event = append.add_events();
  event->set_type("Noted");
  (*event->mutable_metadata())["actor"] = "mallory";
  (*event->mutable_metadata())["source"] = "import";
  v1::AppendResponse appended;
  ASSERT_TRUE(store_->Append(Context().get(), append, &appended).ok());
  const std::vector<v1::RecordedEvent> notes = ReadStream("notes");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].metadata().at("actor"), "admin");
  EXPECT_EQ(notes[0].metadata().at("source"), "import");
}

TEST_F(AuthorizationE2eTest, TheSecurityStreamIsForAuditorsAndAdminsOnly) {
  const std::string reader = Grant("rita", "reader");
  const std::string auditor = Grant("ulla", "auditor");
  const std::string subscriber = Grant("sam", "subscriber");
  v1::AppendRequest append;
  append.set_stream_id("notes");
  append.add_events()->set_type("Noted");
  v1::AppendResponse appended;
  ASSERT_TRUE(store_->Append(Context().get(), append, &appended).ok());
  auto stub = v1::EventStore::NewStub(plain_);
  v1::ReadStreamRequest security;
  security.set_stream_id("plantrail-security");
  security.set_direction(v1::READ_DIRECTION_FORWARD);
  v1::ReadAllRequest all;
  all.set_from_position(1);
  all.set_limit(1000);
  for (const std::string& token : {reader, subscriber}) {
    v1::ReadStreamResponse page;
    const grpc::Status refused = stub->ReadStream(
        Context({{"authorization", "Bearer " + token}}).get(), security, &page);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(refused.error_message(),
                HasSubstr("[rule: security-stream-readers]"));
    v1::ReadAllResponse log;
    ASSERT_TRUE(
        stub->ReadAll(Context({{"authorization", "Bearer " + token}}).get(),
                      all, &log)
            .ok());
    ASSERT_EQ(log.events_size(), 1);  // the note, and no grant
    EXPECT_EQ(log.events(0).stream_id(), "notes");
    EXPECT_EQ(log.next_position(), 0u);
  }
  v1::ReadStreamResponse page;
  EXPECT_TRUE(
      stub->ReadStream(Context({{"authorization", "Bearer " + auditor}}).get(),
                       security, &page)
          .ok());
  EXPECT_EQ(page.events_size(), 4);  // the first admin's grant, and three
  v1::ReadAllResponse log;
  ASSERT_TRUE(
      stub->ReadAll(Context({{"authorization", "Bearer " + auditor}}).get(),
                    all, &log)
          .ok());
  EXPECT_EQ(log.events_size(), 5);

  // Followed from the start, up to the head: the same picture.
  auto streams_followed = [&](const std::string& token) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    context.AddMetadata("authorization", "Bearer " + token);
    v1::SubscribeRequest request;
    request.mutable_start();
    auto reader = stub->Subscribe(&context, request);
    std::vector<std::string> streams;
    for (v1::SubscribeResponse message; reader->Read(&message);) {
      for (const v1::RecordedEvent& event : message.events().events()) {
        streams.push_back(event.stream_id());
      }
      if (message.has_caught_up()) break;
    }
    context.TryCancel();
    reader->Finish().IgnoreError();
    return streams;
  };
  EXPECT_EQ(streams_followed(subscriber), std::vector<std::string>{"notes"});
  EXPECT_EQ(streams_followed(auditor).size(), 5u);
}

TEST_F(AuthorizationE2eTest, RequestsThatCannotBeDecodedNameTheField) {
  auto call = [&](const std::string& method, const std::string& bytes) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    context.AddMetadata("authorization", "Bearer " + server_.AdminToken());
    std::string response;
    return RawUnary(plain_, &context, method, bytes, &response);
  };
  // AppendRequest.stream_id (field 1) holding bytes that are not UTF-8.
  const std::string bad_text = "\x0a\x03\xff\xfe\x41";
  grpc::Status status = call("/plantrail.v1.EventStore/Append", bad_text);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("stream_id: is not valid UTF-8"));
  // A nested field: AppendRequest.events (3) -> ProposedEvent.type (2).
  const std::string nested = "\x1a\x04\x12\x02\xc3\x28";
  status = call("/plantrail.v1.EventStore/Append", nested);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("events.type: is not valid UTF-8"));
  // BackupRequest.directory.
  status = call("/plantrail.v1.Admin/Backup", "\x0a\x02/\xff");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("directory: is not valid UTF-8"));
  // Bytes that are no protobuf at all (a length past the end).
  status = call("/plantrail.v1.PlanQueries/GetArea", "\x0a\x7f\x41");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("request: cannot be decoded as "
                                                "plantrail.v1.GetAreaRequest"));
  // An over-long backup path is an ordinary request, refused by its rule.
  v1::BackupRequest backup;
  backup.set_directory("/" + std::string(100000, 'x'));
  v1::BackupResponse backed_up;
  status = admin_->Backup(Context().get(), backup, &backed_up);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("directory: 100001 bytes"));
  // The server is none the worse.
  EXPECT_TRUE(call("/plantrail.v1.Admin/GetStats", "").ok());
}

TEST_F(AuthorizationE2eTest, GrantsAreEventsAndSurviveARestart) {
  const std::string auditor = Grant("ulla", "auditor");
  RestartServer();
  plain_ = grpc::CreateChannel(server_.address(),
                               grpc::InsecureChannelCredentials());
  EXPECT_TRUE(Call("Admin/Verify", "Bearer " + auditor).ok());
  v1::ListTokensResponse listed;
  ASSERT_TRUE(admin_->ListTokens(Context().get(), {}, &listed).ok());
  std::set<std::string> principals;
  for (const v1::TokenInfo& info : listed.tokens()) {
    principals.insert(info.principal());
    EXPECT_THAT(info.DebugString(), Not(HasSubstr(auditor)));
  }
  EXPECT_EQ(principals, (std::set<std::string>{"admin", "ulla"}));
  // Only the hash is in the log.
  for (const v1::RecordedEvent& event : ReadAll()) {
    EXPECT_THAT(event.payload(), Not(HasSubstr(auditor)));
  }
}

TEST_F(AuthorizationE2eTest, TokensAndProjectionsPageByTheirNames) {
  for (const char* who : {"ulla", "vera", "wilma", "ylva"})
    Grant(who, "reader");
  // Five tokens (the admin's and four), two a page; a token granted between
  // pages does not make any token come twice or not at all.
  v1::ListTokensRequest request;
  request.set_page_size(2);
  std::vector<std::string> ids;
  std::set<std::string> principals;
  for (int page = 0; page < 10; ++page) {
    v1::ListTokensResponse listed;
    ASSERT_TRUE(admin_->ListTokens(Context().get(), request, &listed).ok());
    EXPECT_LE(listed.tokens_size(), 2);
    for (const v1::TokenInfo& info : listed.tokens()) {
      ids.push_back(info.token_id());
      principals.insert(info.principal());
    }
    if (page == 0) Grant("zara", "reader");
    if (listed.next_page_token().empty()) break;
    request.set_page_token(listed.next_page_token());
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  for (const char* who : {"admin", "ulla", "vera", "wilma", "ylva"}) {
    EXPECT_TRUE(principals.contains(who)) << who;
  }
  // A token of another listing is refused.
  v1::ListProjectionsRequest projections;
  projections.set_page_size(1);
  v1::ListProjectionsResponse first;
  ASSERT_TRUE(
      admin_->ListProjections(Context().get(), projections, &first).ok());
  ASSERT_EQ(first.projections_size(), 1);
  ASSERT_FALSE(first.next_page_token().empty());
  request.set_page_token(first.next_page_token());
  v1::ListTokensResponse refused;
  const grpc::Status status =
      admin_->ListTokens(Context().get(), request, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
  projections.set_page_token(first.next_page_token());
  v1::ListProjectionsResponse second;
  ASSERT_TRUE(
      admin_->ListProjections(Context().get(), projections, &second).ok());
  ASSERT_EQ(second.projections_size(), 1);
  EXPECT_LT(first.projections(0).name(), second.projections(0).name());
}

mode_t ModeOf(const std::string& path) {
  struct stat info;
  EXPECT_EQ(lstat(path.c_str(), &info), 0) << path;
  return info.st_mode;
}

std::string ContentOf(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

TEST(PrivateFilesTest, TheDataDirectoryAndItsSecretsAreTheServersAlone) {
  TempDir dir;
  // A link planted where the first admin token goes is replaced, never
  // followed: the file it points to is not overwritten.
  std::filesystem::create_directories(dir / "data");
  std::ofstream(dir / "target") << "untouched";
  std::filesystem::create_symlink(dir / "target", dir / "data/admin.token");
  ServerProcess server;
  ASSERT_TRUE(server.Start(dir / "data"));
  EXPECT_EQ(ContentOf(dir / "target"), "untouched");
  EXPECT_TRUE(S_ISREG(ModeOf(dir / "data/admin.token")));
  EXPECT_EQ(ModeOf(dir / "data/admin.token") & 0777, 0600u);
  EXPECT_EQ(ModeOf(dir / "data/security.log") & 0777, 0600u);
  EXPECT_EQ(ModeOf(dir / "data/eventstore/LOG") & 0777, 0600u);
  server.Stop(SIGTERM);

  // A data directory the server creates is 0700, parents and all.
  ServerProcess fresh;
  ASSERT_TRUE(fresh.Start(dir / "new/data"));
  EXPECT_EQ(ModeOf(dir / "new/data") & 0777, 0700u);
}

TEST(PrivateFilesTest, ASecurityLogThatIsALinkOrAnotherUsersStopsTheStart) {
  TempDir dir;
  std::filesystem::create_directories(dir / "data");
  std::ofstream(dir / "elsewhere") << "";
  std::filesystem::create_symlink(dir / "elsewhere", dir / "data/security.log");
  auto [status, output] =
      RunPlantraild({"--data-dir", dir / "data", "--listen", "127.0.0.1:0"});
  EXPECT_NE(status, 0);
  EXPECT_THAT(output, HasSubstr("security.log is a symbolic link"));
  EXPECT_EQ(ContentOf(dir / "elsewhere"), "");
  if (geteuid() == 0) {
    // Root can give the file away and see the server refuse it.
    std::filesystem::remove(dir / "data/security.log");
    std::ofstream(dir / "data/security.log") << "";
    ASSERT_EQ(chown((dir / "data/security.log").c_str(), 65534, 65534), 0);
    auto [owned_status, owned_output] =
        RunPlantraild({"--data-dir", dir / "data", "--listen", "127.0.0.1:0"});
    EXPECT_NE(owned_status, 0);
    EXPECT_THAT(owned_output, HasSubstr("belongs to user 65534"));
  }
}

// The change stream lives as long as the credentials it was opened with.
class SubscriptionCredentialsE2eTest : public AuthorizationE2eTest {
 protected:
  // A subscription from now as `token`, open once its first message (the
  // head) has arrived; nullptr when it was refused.
  struct Open {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader;
  };
  std::unique_ptr<Open> Subscribe(const std::string& token,
                                  const std::string& consumer_group = "") {
    auto open = std::make_unique<Open>();
    open->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(30));
    open->context.AddMetadata("authorization", "Bearer " + token);
    v1::SubscribeRequest request;
    if (consumer_group.empty()) {
      request.mutable_now();
    } else {
      request.set_consumer_group(consumer_group);
    }
    open->reader =
        v1::EventStore::NewStub(plain_)->Subscribe(&open->context, request);
    return open;
  }

  // Reads until the stream ends: every event received, and the status.
  static std::pair<std::vector<v1::RecordedEvent>, grpc::Status> ReadToEnd(
      Open& open) {
    std::vector<v1::RecordedEvent> events;
    v1::SubscribeResponse message;
    while (open.reader->Read(&message)) {
      events.insert(events.end(), message.events().events().begin(),
                    message.events().events().end());
    }
    return {events, open.reader->Finish()};
  }

  void Append(const std::string& stream) {
    v1::AppendRequest request;
    request.set_stream_id(stream);
    request.add_events()->set_type("Noted");
    v1::AppendResponse response;
    ASSERT_TRUE(store_->Append(Context().get(), request, &response).ok());
  }

  std::string SecurityLog() {
    std::ifstream in(std::string(dir_ / "data") + "/security.log");
    return std::string((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
  }
};

TEST_F(SubscriptionCredentialsE2eTest, ARevokedTokensSubscriptionEndsAtOnce) {
  const std::string token = Grant("sam", "subscriber");
  std::unique_ptr<Open> open = Subscribe(token);
  v1::SubscribeResponse first;
  ASSERT_TRUE(open->reader->Read(&first));
  EXPECT_TRUE(first.has_caught_up());
  Append("before-revocation");

  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(token_ids_["sam"]);
  revoke.set_reason("sam left");
  v1::RevokeTokenResponse revoked;
  ASSERT_TRUE(admin_->RevokeToken(Context().get(), revoke, &revoked).ok());
  Append("after-revocation");

  const auto [events, status] = ReadToEnd(*open);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << status.error_message();
  EXPECT_THAT(
      status.error_message(),
      HasSubstr(absl::StrCat("the token ", token_ids_["sam"], " was revoked")));
  for (const v1::RecordedEvent& event : events) {
    EXPECT_NE(event.stream_id(), "after-revocation") << event.position();
  }
  EXPECT_THAT(SecurityLog(),
              HasSubstr("principal=\"sam\" rpc=/plantrail.v1.EventStore/"
                        "Subscribe code=UNAUTHENTICATED"));
}

TEST_F(SubscriptionCredentialsE2eTest, AnExpiredTokensSubscriptionEndsIdle) {
  // A token that lives a few seconds; if the machine is so slow that it
  // died before its subscription opened, again with a longer life.
  std::unique_ptr<Open> open;
  for (int seconds = 2; seconds <= 32 && open == nullptr; seconds *= 2) {
    v1::CreateTokenRequest brief;
    brief.set_principal("brief");
    brief.add_roles(v1::ROLE_SUBSCRIBER);
    brief.set_expires_in_seconds(seconds);
    v1::CreateTokenResponse created;
    ASSERT_TRUE(admin_->CreateToken(Context().get(), brief, &created).ok());
    open = Subscribe(created.token());
    v1::SubscribeResponse first;
    if (!open->reader->Read(&first)) {
      open->reader->Finish().IgnoreError();
      open.reset();
    }
  }
  ASSERT_NE(open, nullptr);
  // Nothing is committed: only the expiry can end it (before the call's
  // 30 s deadline).
  const auto [events, status] = ReadToEnd(*open);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("expired at"));
  EXPECT_TRUE(events.empty());
}

TEST_F(SubscriptionCredentialsE2eTest, AConsumerGroupIsItsFirstAcknowledgers) {
  const std::string anna = Grant("anna", "subscriber");
  const std::string bob = Grant("bob", "subscriber");
  Append("work");
  Append("work");
  const uint64_t head = HeadPosition();
  ASSERT_GE(head, 4u);
  auto ack = [&](const std::string& token, uint64_t position,
                 v1::AckResponse* acked) {
    grpc::ClientContext context;
    if (!token.empty()) {
      context.AddMetadata("authorization", "Bearer " + token);
    }
    v1::AckRequest request;
    request.set_consumer_group("pay");
    request.set_position(position);
    return token.empty()
               ? store_->Ack(&context, request, acked)
               : v1::EventStore::NewStub(plain_)->Ack(&context, request, acked);
  };
  auto refused = [](const grpc::Status& status) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << status.error_message();
    EXPECT_THAT(status.error_message(),
                HasSubstr("consumer_group: \"pay\" belongs to another"));
    EXPECT_THAT(status.error_message(), HasSubstr("[rule: group-owner]"));
  };
  v1::AckResponse acked;
  // An admin's ack claims nothing: the group stays nobody's, as groups
  // acknowledged before owners were kept.
  ASSERT_TRUE(ack("", 1, &acked).ok());
  ASSERT_TRUE(ack(anna, 2, &acked).ok());
  EXPECT_EQ(acked.position(), 2u);
  refused(ack(bob, head, &acked));
  // bob's ack moved nothing.
  ASSERT_TRUE(ack(anna, 3, &acked).ok());
  EXPECT_EQ(acked.position(), 3u);
  {
    std::unique_ptr<Open> open = Subscribe(bob, "pay");
    const auto [events, status] = ReadToEnd(*open);
    refused(status);
    EXPECT_TRUE(events.empty());
  }
  {
    std::unique_ptr<Open> open = Subscribe(anna, "pay");
    v1::SubscribeResponse message;
    ASSERT_TRUE(open->reader->Read(&message));
    ASSERT_GT(message.events().events_size(), 0);
    EXPECT_EQ(message.events().events(0).position(), 4u);
    open->context.TryCancel();
    open->reader->Finish().IgnoreError();
  }
  // An admin may move anyone's group.
  ASSERT_TRUE(ack("", 4, &acked).ok());
  EXPECT_EQ(acked.position(), 4u);
  EXPECT_THAT(SecurityLog(),
              HasSubstr("principal=\"bob\" rpc=/plantrail.v1.EventStore/Ack "
                        "code=PERMISSION_DENIED"));

  // The owner is kept with the group's position, across a restart.
  RestartServer();
  plain_ = grpc::CreateChannel(server_.address(),
                               grpc::InsecureChannelCredentials());
  refused(ack(bob, head, &acked));
  ASSERT_TRUE(ack(anna, head, &acked).ok());
  EXPECT_EQ(acked.position(), head);
}

class AuthenticationSlowdownE2eTest : public AuthorizationE2eTest {
 protected:
  std::vector<std::string> ServerArgs() const override {
    return {"--max-failed-auth-per-minute", "3"};
  }
};

TEST_F(AuthenticationSlowdownE2eTest,
       RepeatedFailuresAreSlowedAndGoodCredentialsAreNot) {
  const std::string reader = Grant("rita", "reader");
  ASSERT_TRUE(Call("PlanQueries/ListAreas", "Bearer " + reader).ok());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Call("PlanQueries/ListAreas", "Bearer pt_guess").error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // The fourth failure in a minute started the slow-down: junk from that
  // address is now refused without a look ...
  for (int i = 0; i < 31; ++i) {
    const grpc::Status slowed =
        Call("PlanQueries/ListAreas", "Bearer pt_guess");
    EXPECT_EQ(slowed.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(
        slowed.error_message(),
        HasSubstr("too many failed authentications from ipv4:127.0.0.1"));
    EXPECT_THAT(slowed.error_message(), HasSubstr("[rule: auth-slowdown]"));
  }
  // ... while every client with valid credentials on the same address (all
  // local clients share 127.0.0.1) goes on as before, the admin included.
  EXPECT_TRUE(Call("PlanQueries/ListAreas", "Bearer " + reader).ok());
  EXPECT_TRUE(Call("Admin/GetStats", "Bearer " + server_.AdminToken()).ok());
  std::ifstream in(std::string(dir_ / "data") + "/security.log");
  std::string log((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  EXPECT_THAT(log, HasSubstr("code=RESOURCE_EXHAUSTED"));
}

}  // namespace
}  // namespace plantrail::testing
