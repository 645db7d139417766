// Data written before plans existed keeps working. The fixture
// tests/fixtures/legacy-2026-12-06.tar.gz is a data directory written by
// plantraild of main before plans (see tests/fixtures/README.md): the KTH
// example imported, then reports, a schedule revision, dependencies, a
// closure, a correction, a decision, a custom-stream event and a redaction;
// beside it what that version answered (expected/*.json, the CLI's --json
// output) and its audit export and signed digest.
//
// Today's server opens it without rewriting anything: every stored event
// keeps its hashes, the old digest still verifies, and every area, history
// entry, decision and dependency answer is what the old server gave, first
// as areas without a plan and then, once a plan adopts them, as that plan's.
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"
#include "tests/e2e/bearer_channel.h"
#include "tests/e2e/server_process.h"
#include "tests/temp_dir.h"

namespace plantrail {
namespace {

using google::protobuf::util::MessageDifferencer;

constexpr char kPlan[] = "kth-vs-2023";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

template <typename Message>
Message FromJson(const std::string& path) {
  Message message;
  google::protobuf::util::JsonParseOptions options;
  const auto status = google::protobuf::util::JsonStringToMessage(
      ReadFile(path), &message, options);
  EXPECT_TRUE(status.ok()) << path << ": " << status.ToString();
  return message;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(30));
  return context;
}

class LegacyUpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string archive = absl::StrCat(
        PLANTRAIL_SOURCE_DIR, "/tests/fixtures/legacy-2026-12-06.tar.gz");
    const std::string command =
        absl::StrCat("tar -xzf '", archive, "' -C '", dir_.path(), "'");
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    expected_ = dir_.path() + "/expected";
    ASSERT_TRUE(server_.Start(dir_.path() + "/data"));
    channel_ = testing::BearerChannel(server_.address(), server_.AdminToken());
    admin_ = v1::Admin::NewStub(channel_);
    commands_ = v1::PlanCommands::NewStub(channel_);
    queries_ = v1::PlanQueries::NewStub(channel_);
  }

  // Every area, history, decision and dependency answer as the old server
  // gave it, the areas in `plan_id` (empty: without a plan).
  void ExpectAnswersUnchanged(const std::string& plan_id) {
    const auto old_areas =
        FromJson<v1::ListAreasResponse>(expected_ + "/areas.json");
    ASSERT_EQ(old_areas.areas_size(), 72);
    v1::ListAreasRequest list;
    list.set_plan_id(plan_id);
    list.set_page_size(1000);
    list.set_min_position(position_);
    v1::ListAreasResponse areas;
    ASSERT_TRUE(queries_->ListAreas(Context().get(), list, &areas).ok());
    ASSERT_EQ(areas.areas_size(), old_areas.areas_size());
    for (int i = 0; i < areas.areas_size(); ++i) {
      v1::AreaState area = areas.areas(i);
      EXPECT_EQ(area.plan_id(), plan_id);
      EXPECT_EQ(area.name(), plan_id.empty()
                                 ? absl::StrCat("areas/", area.area_id())
                                 : absl::StrCat("plans/", plan_id, "/areas/",
                                                area.area_id()));
      area.clear_plan_id();
      area.clear_name();
      std::string difference;
      MessageDifferencer differ;
      differ.ReportDifferencesToString(&difference);
      EXPECT_TRUE(differ.Compare(old_areas.areas(i), area))
          << area.area_id() << ": " << difference;

      const auto old_history = FromJson<v1::GetHistoryResponse>(
          absl::StrCat(expected_, "/history-", area.area_id(), ".json"));
      v1::GetHistoryRequest history_request;
      history_request.set_plan_id(plan_id);
      history_request.set_area_id(area.area_id());
      history_request.set_oldest_first(true);
      history_request.set_page_size(1000);
      v1::GetHistoryResponse history;
      ASSERT_TRUE(
          queries_->GetHistory(Context().get(), history_request, &history)
              .ok());
      ASSERT_EQ(history.entries_size(), old_history.entries_size())
          << area.area_id();
      for (int e = 0; e < history.entries_size(); ++e) {
        EXPECT_TRUE(MessageDifferencer::Equals(old_history.entries(e),
                                               history.entries(e)))
            << area.area_id() << " entry " << e << ":\n"
            << old_history.entries(e).ShortDebugString() << "\n"
            << history.entries(e).ShortDebugString();
      }
    }

    const auto old_decisions =
        FromJson<v1::ListDecisionsResponse>(expected_ + "/decisions.json");
    v1::ListDecisionsRequest decisions_request;
    decisions_request.set_plan_id(plan_id);
    v1::ListDecisionsResponse decisions;
    ASSERT_TRUE(
        queries_->ListDecisions(Context().get(), decisions_request, &decisions)
            .ok());
    ASSERT_EQ(decisions.decisions_size(), old_decisions.decisions_size());
    for (int i = 0; i < decisions.decisions_size(); ++i) {
      v1::DecisionState decision = decisions.decisions(i);
      EXPECT_EQ(decision.plan_id(), plan_id);
      decision.clear_plan_id();
      EXPECT_TRUE(
          MessageDifferencer::Equals(old_decisions.decisions(i), decision))
          << decision.ShortDebugString();
    }

    const auto old_deps =
        FromJson<v1::GetDependenciesResponse>(expected_ + "/deps-3.1.1.json");
    v1::GetDependenciesRequest deps_request;
    deps_request.set_plan_id(plan_id);
    deps_request.set_area_id("3.1.1");
    v1::GetDependenciesResponse deps;
    ASSERT_TRUE(
        queries_->GetDependencies(Context().get(), deps_request, &deps).ok());
    ASSERT_EQ(deps.downstream_size(), old_deps.downstream_size());
    ASSERT_GT(deps.downstream_size(), 0);
    for (int i = 0; i < deps.downstream_size(); ++i) {
      v1::DependencyLink link = deps.downstream(i);
      EXPECT_EQ(link.plan_id(), plan_id);
      link.clear_plan_id();
      EXPECT_TRUE(MessageDifferencer::Equals(old_deps.downstream(i), link));
    }
  }

  // Every event of the old export is stored as it was: same stream,
  // version, id, type, redaction, payload hash and chain hash.
  void ExpectStoredEventsUnchanged() {
    std::map<uint64_t, v1::RecordedEvent> stored;
    auto store = v1::EventStore::NewStub(channel_);
    v1::ReadAllRequest request;
    request.set_limit(1000);
    v1::ReadAllResponse page;
    ASSERT_TRUE(store->ReadAll(Context().get(), request, &page).ok());
    for (const v1::RecordedEvent& event : page.events()) {
      stored[event.position()] = event;
    }
    std::ifstream in(expected_ + "/export.jsonl");
    int events = 0;
    for (std::string line; std::getline(in, line);) {
      const nlohmann::json record = nlohmann::json::parse(line);
      if (record["record"] != "event") continue;
      ++events;
      const uint64_t position = record["position"];
      ASSERT_TRUE(stored.contains(position)) << position;
      const v1::RecordedEvent& event = stored[position];
      EXPECT_EQ(event.stream_id(), record["stream_id"]) << position;
      EXPECT_EQ(event.stream_version(), record["version"]) << position;
      EXPECT_EQ(event.event_id(), record["event_id"]) << position;
      EXPECT_EQ(event.type(), record["type"]) << position;
      EXPECT_EQ(event.redacted(), record["redacted"]) << position;
      EXPECT_EQ(absl::BytesToHexString(event.hash()), record["hash"])
          << position;
      EXPECT_EQ(absl::BytesToHexString(event.payload_hash()),
                record["payload_hash"])
          << position;
    }
    EXPECT_EQ(events, 146);
  }

  // The old signed digest: the log still extends it, signed by this key.
  void ExpectOldDigestVerifies() {
    const nlohmann::json saved =
        nlohmann::json::parse(ReadFile(expected_ + "/digest.json"));
    v1::VerifyRequest request;
    v1::Digest& digest = *request.mutable_digest();
    digest.set_position(saved["position"]);
    digest.set_log_head(saved["log_head"]);
    digest.set_head_hash(
        absl::HexStringToBytes(saved["head_hash"].get<std::string>()));
    digest.set_public_key(
        absl::HexStringToBytes(saved["public_key"].get<std::string>()));
    digest.set_signature(
        absl::HexStringToBytes(saved["signature"].get<std::string>()));
    digest.set_key_id(saved["key_id"].get<std::string>());
    ASSERT_TRUE(google::protobuf::util::TimeUtil::FromString(
        saved["signed_at"].get<std::string>(), digest.mutable_signed_at()));
    v1::VerifyResponse response;
    const grpc::Status status =
        admin_->Verify(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(response.ok()) << response.ShortDebugString();
  }

  testing::TempDir dir_;
  testing::ServerProcess server_;
  std::string expected_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<v1::PlanCommands::Stub> commands_;
  std::unique_ptr<v1::PlanQueries::Stub> queries_;
  uint64_t position_ = 0;
};

TEST_F(LegacyUpgradeTest,
       OldStoredBytesFoldToTheSameAnswersBeforeAndAfterAdoption) {
  ExpectStoredEventsUnchanged();
  ExpectOldDigestVerifies();
  ExpectAnswersUnchanged("");
  if (HasFatalFailure()) return;

  v1::RegisterPlanRequest adopt;
  adopt.set_plan_id(kPlan);
  adopt.mutable_fields()->set_title(
      "Handlingsplan för utveckling av administrativt stöd");
  adopt.mutable_fields()->set_reference("V-2022-0218");
  adopt.set_adopt_unplanned(true);
  v1::CommandResult result;
  const grpc::Status status =
      commands_->RegisterPlan(Context().get(), adopt, &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(result.position(), 147u) << "adopting appends one event only";
  position_ = result.position();

  ExpectAnswersUnchanged(kPlan);
  ExpectStoredEventsUnchanged();
  ExpectOldDigestVerifies();

  // The adopted areas take new commands in their plan, in their old streams.
  v1::ReportStatusRequest report;
  report.set_plan_id(kPlan);
  report.set_area_id("3.1.1");
  report.set_phase(v1::PHASE_IN_PROGRESS);
  report.set_health(v1::HEALTH_ON_TRACK);
  report.set_narrative("Back on track");
  ASSERT_TRUE(commands_->ReportStatus(Context().get(), report, &result).ok());
  EXPECT_EQ(result.stream_id(), "area-3.1.1");
  EXPECT_EQ(result.version(), 8u);
}

}  // namespace
}  // namespace plantrail
