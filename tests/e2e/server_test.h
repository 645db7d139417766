// A test fixture with the real plantraild running on a free loopback port in
// a temporary data directory, and a client for every service.
#ifndef PLANTRAIL_TESTS_E2E_SERVER_TEST_H_
#define PLANTRAIL_TESTS_E2E_SERVER_TEST_H_

#include <stdlib.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "domain/plan_commands.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "tests/e2e/bearer_channel.h"
#include "tests/e2e/server_process.h"
#include "tests/temp_dir.h"

namespace plantrail::testing {

inline absl::Time ToTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

// A unary call with raw protobuf bytes on `channel`: for services whose
// .proto files Debian does not ship (health, reflection), and for calling any
// method by name.
inline grpc::Status RawUnary(const std::shared_ptr<grpc::Channel>& channel,
                             grpc::ClientContext* context,
                             const std::string& method,
                             const std::string& request,
                             std::string* response) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::Slice slice(request);
  auto call = stub.PrepareUnaryCall(context, method,
                                    grpc::ByteBuffer(&slice, 1), &queue);
  call->StartCall();
  grpc::ByteBuffer reply;
  grpc::Status status;
  call->Finish(&reply, &status, reinterpret_cast<void*>(1));
  void* tag;
  bool ok;
  EXPECT_TRUE(queue.Next(&tag, &ok));
  std::vector<grpc::Slice> slices;
  response->clear();
  if (reply.Dump(&slices).ok()) {
    for (const grpc::Slice& part : slices) {
      response->append(reinterpret_cast<const char*>(part.begin()),
                       part.size());
    }
  }
  return status;
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // An idle gRPC client answers a shutting-down server's GOAWAY ping only
    // on its backup poll (every 5 s by default), which would hold every
    // restart that long. Read by gRPC when its first channel is created.
    setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", 0);
  }

  void SetUp() override {
    StartServer();
    // The server's own first events (the first admin token's grant) come
    // before any test's: positions of what a test writes start after them.
    v1::GetStatsResponse stats;
    ASSERT_TRUE(admin_->GetStats(Context().get(), {}, &stats).ok());
    base_ = stats.head_position();
  }

  void StartServer() {
    ASSERT_TRUE(server_.Start(dir_ / "data", ServerArgs()));
    // As the admin: every call carries the token of the server's first start.
    channel_ = BearerChannel(server_.address(), server_.AdminToken());
    store_ = v1::EventStore::NewStub(channel_);
    admin_ = v1::Admin::NewStub(channel_);
    commands_ = v1::PlanCommands::NewStub(channel_);
  }

  // SIGTERM, which must exit 0, then a new server on the same data.
  void RestartServer() {
    // An idle gRPC client answers the server's shutdown PING only on its
    // 5-second backup poll; closing the channel first keeps restarts quick.
    store_.reset();
    admin_.reset();
    commands_.reset();
    channel_.reset();
    const int status = server_.Stop(SIGTERM);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    ASSERT_EQ(WEXITSTATUS(status), 0) << "SIGTERM must exit cleanly";
    StartServer();
  }

  // Extra plantraild flags for a fixture's server.
  virtual std::vector<std::string> ServerArgs() const { return {}; }

  // The log's head when the test began.
  uint64_t base_ = 0;

  // A call context with a 30 s deadline and the given request metadata.
  static std::unique_ptr<grpc::ClientContext> Context(
      const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(30));
    for (const auto& [key, value] : metadata) {
      context->AddMetadata(key, value);
    }
    return context;
  }

  // Every message a Subscribe with `request` sends up to and including its
  // first CaughtUp (within 30 s); then the subscription is cancelled.
  std::vector<v1::SubscribeResponse> SubscribeUntilCaughtUp(
      const v1::SubscribeRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    auto reader = store_->Subscribe(&context, request);
    std::vector<v1::SubscribeResponse> messages;
    v1::SubscribeResponse message;
    while (reader->Read(&message)) {
      messages.push_back(message);
      if (message.has_caught_up()) break;
    }
    context.TryCancel();
    reader->Finish().IgnoreError();
    return messages;
  }

  // The positions of the events in `messages`, in order.
  static std::vector<uint64_t> PositionsIn(
      const std::vector<v1::SubscribeResponse>& messages) {
    std::vector<uint64_t> positions;
    for (const v1::SubscribeResponse& message : messages) {
      for (const v1::RecordedEvent& event : message.events().events()) {
        positions.push_back(event.position());
      }
    }
    return positions;
  }

  // Every event of `stream_id`, read forwards page by page.
  std::vector<v1::RecordedEvent> ReadStream(const std::string& stream_id) {
    std::vector<v1::RecordedEvent> events;
    v1::ReadStreamRequest request;
    request.set_stream_id(stream_id);
    request.set_direction(v1::READ_DIRECTION_FORWARD);
    request.set_limit(1000);
    for (uint64_t from = 1; from != 0;) {
      request.set_from_version(from);
      v1::ReadStreamResponse page;
      const grpc::Status status =
          store_->ReadStream(Context().get(), request, &page);
      EXPECT_TRUE(status.ok()) << stream_id << ": " << status.error_message();
      if (!status.ok()) break;
      events.insert(events.end(), page.events().begin(), page.events().end());
      from = page.next_version();
    }
    return events;
  }

  // The whole log.
  // Every event the test wrote (after base_), in order.
  std::vector<v1::RecordedEvent> ReadAll() {
    std::vector<v1::RecordedEvent> events;
    v1::ReadAllRequest request;
    request.set_limit(1000);
    for (uint64_t from = base_ + 1; from != 0;) {
      request.set_from_position(from);
      v1::ReadAllResponse page;
      const grpc::Status status =
          store_->ReadAll(Context().get(), request, &page);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      events.insert(events.end(), page.events().begin(), page.events().end());
      from = page.next_position();
    }
    return events;
  }

  uint64_t HeadPosition() {
    v1::ReadAllRequest request;
    request.set_limit(1);
    v1::ReadAllResponse page;
    const grpc::Status status =
        store_->ReadAll(Context().get(), request, &page);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return page.head_position();
  }

  // Sends any plan command (domain/plan_commands.h) to the PlanCommands
  // rpc that takes it, found by its request type: a new command needs no
  // entry here.
  template <typename Request>
  grpc::Status Invoke(grpc::ClientContext* c, const Request& r,
                      v1::CommandResult* out) {
    static_assert(domain::PlanCommandIndex<Request>() <
                  domain::kPlanCommandCount);
    static const std::string* method =
        new std::string(absl::StrCat("/", v1::PlanCommands::service_full_name(),
                                     "/", domain::PlanCommandName<Request>()));
    return grpc::internal::BlockingUnaryCall<Request, v1::CommandResult,
                                             grpc::protobuf::MessageLite,
                                             grpc::protobuf::MessageLite>(
        channel_.get(),
        grpc::internal::RpcMethod(
            method->c_str(), grpc::internal::RpcMethod::NORMAL_RPC, channel_),
        c, r, out);
  }

  TempDir dir_;
  ServerProcess server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventStore::Stub> store_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<v1::PlanCommands::Stub> commands_;
};

}  // namespace plantrail::testing

#endif  // PLANTRAIL_TESTS_E2E_SERVER_TEST_H_
