// The real plantraild, started as a process on a free loopback port with a
// temporary data directory, driven through the generated gRPC client.
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sync.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "tests/e2e/server_process.h"
#include "tests/e2e/server_test.h"
#include "tests/temp_dir.h"

namespace plantrail {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kId1[] = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr char kId2[] = "aaaaaaaa-0000-4000-8000-000000000002";

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

class EventStoreE2eTest : public plantrail::testing::ServerTest {
 protected:
  static v1::AppendRequest AppendOf(const std::string& stream,
                                    std::vector<std::string> payloads,
                                    std::vector<std::string> ids = {}) {
    v1::AppendRequest request;
    request.set_stream_id(stream);
    for (size_t i = 0; i < payloads.size(); ++i) {
      v1::ProposedEvent* event = request.add_events();
      event->set_type("StatusReported");
      event->set_payload(payloads[i]);
      event->set_content_type("application/json");
      (*event->mutable_metadata())["actor"] = "e2e";
      if (i < ids.size()) event->set_event_id(ids[i]);
    }
    return request;
  }

  grpc::Status Append(const v1::AppendRequest& request,
                      v1::AppendResponse* response,
                      grpc::ClientContext* context = nullptr) {
    auto owned = Context();
    return store_->Append(context != nullptr ? context : owned.get(), request,
                          response);
  }

  grpc::Status RawUnary(const std::string& method, const std::string& request,
                        std::string* response) {
    return plantrail::testing::RawUnary(channel_, Context().get(), method,
                                        request, response);
  }
};

TEST_F(EventStoreE2eTest, HealthCheckSaysServing) {
  std::string response;
  // HealthCheckRequest{service: ""} is empty; HealthCheckResponse{status:
  // SERVING} is field 1 = 1.
  grpc::Status status = RawUnary("/grpc.health.v1.Health/Check", "", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response, std::string("\x08\x01", 2));
}

TEST_F(EventStoreE2eTest, ReflectionListsTheServices) {
  grpc::GenericStub stub(channel_);
  grpc::CompletionQueue queue;
  auto context = Context();
  auto call = stub.PrepareCall(
      context.get(),
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  void* tag;
  bool ok;
  auto step = [&] { return queue.Next(&tag, &ok) && ok; };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(step());
  // ServerReflectionRequest{list_services: "*"} (field 7).
  call->Write(ToBuffer(std::string("\x3a\x01*", 3)),
              reinterpret_cast<void*>(2));
  ASSERT_TRUE(step());
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  ASSERT_TRUE(step());
  call->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_TRUE(step());
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(queue.Next(&tag, &ok));
  const std::string services = ToString(reply);
  EXPECT_THAT(services, HasSubstr("plantrail.v1.EventStore"));
  EXPECT_THAT(services, HasSubstr("plantrail.v1.Admin"));
  EXPECT_THAT(services, HasSubstr("grpc.health.v1.Health"));
}

TEST_F(EventStoreE2eTest, AppendThenReadBackEveryField) {
  v1::AppendResponse appended;
  ASSERT_TRUE(
      Append(AppendOf("ledger-3.1", {R"({"n":1})", R"({"n":2})"}, {kId1}),
             &appended)
          .ok());
  EXPECT_EQ(appended.first_position(), base_ + 1);
  EXPECT_EQ(appended.last_position(), base_ + 2);
  EXPECT_EQ(appended.first_version(), 1u);
  EXPECT_EQ(appended.last_version(), 2u);
  ASSERT_EQ(appended.event_ids_size(), 2);
  EXPECT_EQ(appended.event_ids(0), kId1);
  EXPECT_EQ(appended.event_ids(1).size(), 36u) << "generated id";
  EXPECT_FALSE(appended.replayed());

  v1::ReadStreamRequest read;
  read.set_stream_id("ledger-3.1");
  read.set_direction(v1::READ_DIRECTION_FORWARD);
  v1::ReadStreamResponse page;
  ASSERT_TRUE(store_->ReadStream(Context().get(), read, &page).ok());
  ASSERT_EQ(page.events_size(), 2);
  const v1::RecordedEvent& event = page.events(0);
  EXPECT_EQ(event.event_id(), kId1);
  EXPECT_EQ(event.stream_id(), "ledger-3.1");
  EXPECT_EQ(event.type(), "StatusReported");
  EXPECT_EQ(event.payload(), R"({"n":1})");
  EXPECT_EQ(event.content_type(), "application/json");
  // The request said "e2e"; the actor is the caller's principal.
  EXPECT_EQ(event.metadata().at("actor"), "admin");
  EXPECT_EQ(event.position(), base_ + 1);
  EXPECT_EQ(event.stream_version(), 1u);
  EXPECT_EQ(event.hash().size(), 32u);
  EXPECT_EQ(event.payload_hash().size(), 32u);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  EXPECT_NEAR(event.recorded_at().seconds(), now, 60);
  EXPECT_EQ(page.last_version(), 2u);
  EXPECT_EQ(page.next_version(), 0u);

  read.set_direction(v1::READ_DIRECTION_BACKWARD);
  read.set_limit(1);
  ASSERT_TRUE(store_->ReadStream(Context().get(), read, &page).ok());
  ASSERT_EQ(page.events_size(), 1);
  EXPECT_EQ(page.events(0).stream_version(), 2u);
  EXPECT_EQ(page.next_version(), 1u);

  v1::ReadAllRequest all;
  all.set_from_position(base_ + 2);
  v1::ReadAllResponse log;
  ASSERT_TRUE(store_->ReadAll(Context().get(), all, &log).ok());
  ASSERT_EQ(log.events_size(), 1);
  EXPECT_EQ(log.events(0).position(), base_ + 2);
  EXPECT_EQ(log.head_position(), base_ + 2);
}

TEST_F(EventStoreE2eTest, VersionConflictIsAbortedWithTheCurrentVersion) {
  v1::AppendResponse appended;
  ASSERT_TRUE(Append(AppendOf("ledger-1", {"1", "2", "3"}), &appended).ok());
  v1::AppendRequest stale = AppendOf("ledger-1", {"4"});
  stale.mutable_expected_version()->set_exact(1);
  grpc::ClientContext context;
  grpc::Status status = store_->Append(&context, stale, &appended);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_THAT(status.error_message(), HasSubstr("at version 3"));
  auto trailers = context.GetServerTrailingMetadata();
  auto current = trailers.find("plantrail-current-version");
  ASSERT_NE(current, trailers.end());
  EXPECT_EQ(std::string(current->second.data(), current->second.size()), "3");

  v1::AppendRequest fresh = AppendOf("ledger-1", {"4"});
  fresh.mutable_expected_version()->mutable_no_stream();
  EXPECT_EQ(Append(fresh, &appended).error_code(), grpc::StatusCode::ABORTED);
  fresh.mutable_expected_version()->set_exact(3);
  EXPECT_TRUE(Append(fresh, &appended).ok());
}

TEST_F(EventStoreE2eTest, BadInputIsInvalidArgumentNamingFieldAndRule) {
  v1::AppendResponse appended;
  grpc::Status status = Append(AppendOf("area 1", {"x"}), &appended);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("stream_id: "));
  EXPECT_THAT(status.error_message(), HasSubstr("must match"));

  v1::AppendRequest bad_type = AppendOf("ledger-1", {"x"});
  bad_type.mutable_events(0)->set_type("");
  status = Append(bad_type, &appended);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("events[0].type: must not be empty"));

  v1::ReadStreamRequest read;
  read.set_stream_id("ledger-1");
  v1::ReadStreamResponse page;
  status = store_->ReadStream(Context().get(), read, &page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("direction: "));

  v1::ReadAllRequest all;
  all.set_limit(100000);
  v1::ReadAllResponse log;
  status = store_->ReadAll(Context().get(), all, &log);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("limit: must be at most 1000"));

  read.set_direction(v1::READ_DIRECTION_FORWARD);
  read.set_stream_id("no-such-area");
  status = store_->ReadStream(Context().get(), read, &page);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  // Nothing was written by any of it.
  all.set_limit(0);
  ASSERT_TRUE(store_->ReadAll(Context().get(), all, &log).ok());
  EXPECT_EQ(log.head_position(), base_);
}

TEST_F(EventStoreE2eTest, PlanStreamsAreWrittenOnlyByTheCommandService) {
  // Nobody slips an unchecked event into an area's or a decision's history
  // through the low-level log.
  for (const char* stream :
       {"area-3.4.2", "decision-V-2022-0218", "plantrail-security",
        "plan-kth-vs-2023", "area-kth-vs-2023:3.4.2"}) {
    v1::AppendResponse appended;
    grpc::Status status = Append(AppendOf(stream, {"forged"}), &appended);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << stream;
    EXPECT_THAT(status.error_message(), HasSubstr("PlanCommands"));
  }
  v1::ReadAllResponse log;
  ASSERT_TRUE(
      store_->ReadAll(Context().get(), v1::ReadAllRequest(), &log).ok());
  EXPECT_EQ(log.head_position(), base_);
}

TEST_F(EventStoreE2eTest, RetriesAreIdempotentAcrossARestart) {
  v1::AppendResponse original;
  ASSERT_TRUE(
      Append(AppendOf("ledger-2", {"a", "b"}, {kId1, kId2}), &original).ok());
  RestartServer();
  v1::AppendResponse retry;
  grpc::Status status =
      Append(AppendOf("ledger-2", {"a", "b"}, {kId1, kId2}), &retry);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.first_position(), original.first_position());
  EXPECT_EQ(retry.last_position(), original.last_position());

  status = Append(AppendOf("ledger-2", {"a"}, {kId1}), &retry);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  status = Append(AppendOf("ledger-9", {"a", "b"}, {kId1, kId2}), &retry);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("stream \"ledger-2\""));

  v1::ReadAllResponse log;
  ASSERT_TRUE(
      store_->ReadAll(Context().get(), v1::ReadAllRequest(), &log).ok());
  EXPECT_EQ(log.head_position(), base_ + 2);
}

TEST_F(EventStoreE2eTest, SigtermWithAppendsInFlightLosesNoAcknowledgedAppend) {
  constexpr int kClients = 8;
  std::atomic<bool> stop{false};
  plantrail::Mutex mu;
  std::vector<std::pair<std::string, uint64_t>>
      acknowledged;  // payload, position
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop.load(); ++i) {
        const std::string payload = absl::StrCat(c, "/", i);
        v1::AppendResponse response;
        grpc::Status status =
            Append(AppendOf(absl::StrCat("s-", c), {payload}), &response);
        if (!status.ok()) return;  // the server is gone: stop this client
        plantrail::MutexLock lock(&mu);
        acknowledged.emplace_back(payload, response.first_position());
      }
    });
  }
  // Let the load build up, then pull the rug.
  for (int waited = 0; waited < 200; ++waited) {
    {
      plantrail::MutexLock lock(&mu);
      if (acknowledged.size() >= 200) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int exit_status = server_.Stop(SIGTERM);
  stop = true;
  for (auto& client : clients) client.join();
  ASSERT_TRUE(WIFEXITED(exit_status)) << exit_status;
  EXPECT_EQ(WEXITSTATUS(exit_status), 0) << "SIGTERM must exit cleanly";
  ASSERT_FALSE(acknowledged.empty());

  StartServer();
  for (const auto& [payload, position] : acknowledged) {
    v1::ReadAllRequest request;
    request.set_from_position(position);
    request.set_limit(1);
    v1::ReadAllResponse log;
    ASSERT_TRUE(store_->ReadAll(Context().get(), request, &log).ok());
    ASSERT_EQ(log.events_size(), 1)
        << "acknowledged position " << position << " is lost";
    EXPECT_EQ(log.events(0).payload(), payload);
  }
  v1::VerifyResponse verified;
  ASSERT_TRUE(
      admin_->Verify(Context().get(), v1::VerifyRequest(), &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.problem();
  EXPECT_GE(verified.events_checked(), acknowledged.size());
}

TEST_F(EventStoreE2eTest, AdminVerifiesTheChainAndCountsCommits) {
  v1::AppendResponse appended;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        Append(AppendOf("ledger-5", {absl::StrCat(i)}), &appended).ok());
  }
  v1::VerifyResponse verified;
  ASSERT_TRUE(
      admin_->Verify(Context().get(), v1::VerifyRequest(), &verified).ok());
  EXPECT_TRUE(verified.ok());
  EXPECT_EQ(verified.events_checked(), base_ + 10);
  EXPECT_EQ(verified.head_position(), base_ + 10);
  EXPECT_EQ(verified.head_hash().size(), 32u);
  v1::GetStatsResponse stats;
  ASSERT_TRUE(
      admin_->GetStats(Context().get(), v1::GetStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.head_position(), base_ + 10);
  // The first start's token grant was an append of this server too.
  EXPECT_EQ(stats.appends(), base_ + 10);
  EXPECT_EQ(stats.synced_commits(), stats.commit_groups());
  EXPECT_GE(stats.wal_syncs(), stats.synced_commits());
}

TEST_F(EventStoreE2eTest, ASecondServerOnTheSameDataDirIsRefused) {
  auto [status, output] = plantrail::testing::RunPlantraild(
      {"--data-dir", dir_ / "data", "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(output, HasSubstr("cannot open the event store"));
}

TEST(ContractTest, NoRpcUpdatesOrDeletesEvents) {
  // The log is append-only: its service offers appends and reads, nothing
  // else. Adding an RPC here is a design change that must be argued first.
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          "plantrail.v1.EventStore");
  ASSERT_NE(service, nullptr);
  std::set<std::string> methods;
  for (int i = 0; i < service->method_count(); ++i) {
    methods.insert(service->method(i)->name());
  }
  EXPECT_THAT(methods, UnorderedElementsAre("Append", "ReadStream", "ReadAll",
                                            "Subscribe", "Ack"));
  const google::protobuf::FileDescriptor* file = service->file();
  for (int s = 0; s < file->service_count(); ++s) {
    for (int m = 0; m < file->service(s)->method_count(); ++m) {
      const std::string& name = file->service(s)->method(m)->name();
      for (const char* verb : {"Update", "Delete", "Remove", "Edit", "Put",
                               "Overwrite", "Truncate"}) {
        EXPECT_EQ(name.find(verb), std::string::npos) << name;
      }
    }
  }
}

}  // namespace
}  // namespace plantrail
