// Replication end to end: real plantraild processes on loopback, a leader
// and a replica started with --replica-of, real gRPC between them.
//  - A replica that followed a loaded leader holds a byte-identical log
//    (read back with the store library after both stopped), verifies the
//    leader's signed digest, serves reads, refuses writes naming the leader.
//  - A replica stopped and left 100,000 events behind catches up from its
//    own position, not from the start.
//  - A record altered on its way (a proxy between the two flips a byte) is
//    refused: the replica stops following and says which position.
//  - A replica whose log forked from the leader's is refused, and keeps its
//    log as it was.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "eventstore/event_store.h"
#include "gmock/gmock.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"
#include "plantrail/v1/replication.grpc.pb.h"
#include "tests/e2e/metrics_scrape.h"
#include "tests/e2e/server_test.h"
#include "tests/etcd_process.h"

namespace plantrail {
namespace {

using ::plantrail::testing::BearerChannel;
using ::plantrail::testing::RawUnary;
using ::plantrail::testing::ServerProcess;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

// How many times the failover tests kill the leader. The plain build (the
// suite) kills it 20 times; sanitizer builds, which run every process
// several times slower and are there for memory errors and races, 5.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kFailovers = 5;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int kFailovers = 5;
#else
constexpr int kFailovers = 20;
#endif
#else
constexpr int kFailovers = 20;
#endif

// What `command` (a shell command line) prints on stdout.
std::string Shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    out.append(buffer, n);
  pclose(pipe);
  return out;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(30));
  return context;
}

// A server of the test: its process and an admin's clients.
struct Node {
  ServerProcess process;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::EventStore::Stub> store;
  std::unique_ptr<v1::Admin::Stub> admin;
  std::unique_ptr<v1::PlanCommands::Stub> commands;
  std::unique_ptr<v1::PlanQueries::Stub> queries;

  void Connect(const std::string& token) {
    channel = BearerChannel(process.address(), token);
    store = v1::EventStore::NewStub(channel);
    admin = v1::Admin::NewStub(channel);
    commands = v1::PlanCommands::NewStub(channel);
    queries = v1::PlanQueries::NewStub(channel);
  }
  void Disconnect() {
    store.reset();
    admin.reset();
    commands.reset();
    queries.reset();
    channel.reset();
  }
  v1::GetStatsResponse Stats() const {
    v1::GetStatsResponse stats;
    const grpc::Status status = admin->GetStats(Context().get(), {}, &stats);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return stats;
  }
};

// Every event id of `node`'s log.
std::set<std::string> EventIds(Node& node) {
  std::set<std::string> ids;
  v1::ReadAllRequest request;
  request.set_from_position(1);
  request.set_limit(1000);
  for (;;) {
    v1::ReadAllResponse page;
    const grpc::Status status =
        node.store->ReadAll(Context().get(), request, &page);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) break;
    for (const v1::RecordedEvent& event : page.events()) {
      ids.insert(event.event_id());
    }
    if (page.next_position() == 0) break;
    request.set_from_position(page.next_position());
  }
  return ids;
}

// A UUID (version 4 form) from a counter, unique in the test.
std::string IdOf(uint64_t n) {
  return absl::StrFormat("%08x-0000-4000-8000-%012x",
                         static_cast<uint32_t>(n >> 32), n & 0xffffffffffff);
}

// Appends acknowledged to writers of the test, by event id.
struct Acknowledged {
  std::mutex mu;
  std::set<std::string> ids;
  std::atomic<uint64_t> next_id{1};

  // Fails the test unless `node`'s log holds every one.
  void ExpectAllHeldBy(Node& node);
};

// Appends from a few threads to `node` until Stop(), each with an event id
// of its own, noting every acknowledged one.
class Writers {
 public:
  Writers(Node& node, const std::string& prefix, Acknowledged& acknowledged) {
    for (int t = 0; t < 3; ++t) {
      threads_.emplace_back([this, &node, &acknowledged, prefix, t] {
        auto stub = v1::EventStore::NewStub(node.channel);
        while (!stop_.load()) {
          v1::AppendRequest request;
          request.set_stream_id(absl::StrCat(prefix, "-", t));
          const std::string id = IdOf(acknowledged.next_id.fetch_add(1));
          v1::ProposedEvent& event = *request.add_events();
          event.set_event_id(id);
          event.set_type("Written");
          event.set_payload(id);
          v1::AppendResponse response;
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(5));
          if (stub->Append(&context, request, &response).ok()) {
            std::lock_guard<std::mutex> lock(acknowledged.mu);
            acknowledged.ids.insert(id);
          } else {
            absl::SleepFor(absl::Milliseconds(5));
          }
        }
      });
    }
  }
  ~Writers() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

void Acknowledged::ExpectAllHeldBy(Node& node) {
  const std::set<std::string> held = EventIds(node);
  std::lock_guard<std::mutex> lock(mu);
  for (const std::string& id : ids) {
    ASSERT_TRUE(held.contains(id)) << id << " was acknowledged but lost";
  }
}

// Waits until `replica` holds what `leader` holds, and verifies the
// leader's digest.
void AwaitSameChain(Node& leader, Node& replica) {
  v1::AppendRequest probe;
  probe.set_stream_id("election-probe");
  probe.add_events()->set_type("Probe");
  v1::AppendResponse probed;
  grpc::Status appended;
  for (int i = 0; i < 50 && !appended.ok(); ++i) {
    appended = leader.store->Append(Context().get(), probe, &probed);
  }
  ASSERT_TRUE(appended.ok()) << appended.error_message();
  const uint64_t head = leader.Stats().head_position();
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  uint64_t at = 0;
  while (absl::Now() < deadline && at < head) {
    v1::GetStatsResponse stats;
    if (replica.admin->GetStats(Context().get(), {}, &stats).ok()) {
      at = stats.head_position();
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(at, head);
  v1::GetDigestResponse digest;
  ASSERT_TRUE(leader.admin->GetDigest(Context().get(), {}, &digest).ok());
  v1::VerifyRequest verify;
  *verify.mutable_digest() = digest.digest();
  v1::VerifyResponse verified;
  ASSERT_TRUE(replica.admin->Verify(Context().get(), verify, &verified).ok());
  ASSERT_TRUE(verified.digest_ok()) << verified.problem();
}
class ReplicationE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", 0);
  }

  void SetUp() override {
    ASSERT_TRUE(leader_.process.Start(Data("leader")));
    token_ = leader_.process.AdminToken();
    leader_.Connect(token_);
  }

  std::string Data(const std::string& name) const {
    return (fs::path(dir_.path()) / name).string();
  }

  // A replica's data directory, holding the leader's signing key (as a
  // replica started from the leader's backup would): one cluster, one
  // signing identity, so the leader's digests verify on it.
  std::string ReplicaData(const std::string& name) {
    const fs::path data = fs::path(dir_.path()) / name;
    fs::create_directories(data);
    fs::permissions(data, fs::perms::owner_all);
    for (const char* file : {"signing.key", "signing.pub", "webhook.key"}) {
      fs::copy_file(fs::path(Data("leader")) / file, data / file);
    }
    return data.string();
  }

  // Starts `node` as a replica of `leader` on `data`.
  // `token` is the one the test's clients present (the leader's admin's
  // by default: a replica has the leader's tokens).
  void StartReplica(Node& node, const std::string& data,
                    const std::string& leader, std::string token = "",
                    std::vector<std::string> extra = {}) {
    const std::string token_file =
        (fs::path(dir_.path()) / "leader.token").string();
    {
      std::ofstream out(token_file);
      out << token_ << "\n";
    }
    std::vector<std::string> args = {"--replica-of",         leader,
                                     "--replica-token-file", token_file,
                                     "--replica-name",       "replica-1"};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(node.process.Start(data, args));
    node.Connect(token.empty() ? token_ : token);
  }

  // Appends `appends` appends of `events_each` events to several streams,
  // from `threads` threads at once.
  void Load(Node& node, int threads, int appends, int events_each) {
    std::vector<std::thread> writers;
    std::atomic<int> failed{0};
    for (int t = 0; t < threads; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < appends; ++i) {
          v1::AppendRequest request;
          request.set_stream_id(absl::StrCat("load-", t, "-", i % 5));
          for (int e = 0; e < events_each; ++e) {
            v1::ProposedEvent& event = *request.add_events();
            event.set_type("Loaded");
            event.set_payload(absl::StrCat("{\"t\":", t, ",\"i\":", i, "}"));
          }
          v1::AppendResponse response;
          if (!node.store->Append(Context().get(), request, &response).ok()) {
            ++failed;
          }
        }
      });
    }
    for (std::thread& writer : writers) writer.join();
    EXPECT_EQ(failed.load(), 0);
  }

  // Waits (up to `seconds`) until `replica`'s head is the leader's.
  void AwaitCaughtUp(Node& replica, int seconds = 60) {
    const uint64_t head = leader_.Stats().head_position();
    const absl::Time deadline = absl::Now() + absl::Seconds(seconds);
    uint64_t at = 0;
    while (absl::Now() < deadline) {
      // Until the replica has the leader's tokens, it does not know ours.
      v1::GetStatsResponse stats;
      if (replica.admin->GetStats(Context().get(), {}, &stats).ok()) {
        at = stats.head_position();
      }
      if (at >= head) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_EQ(at, head) << "the replica did not catch up";
  }

  // Waits until `replica` stopped following; its status then.
  v1::ReplicationStatus AwaitStopped(Node& replica) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    v1::ReplicationStatus status;
    while (absl::Now() < deadline) {
      status = replica.Stats().replication();
      if (status.follow_state() == v1::ReplicationStatus::STOPPED) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_EQ(status.follow_state(), v1::ReplicationStatus::STOPPED);
    return status;
  }

  // Every stored record of the log in `data`, read with the store library
  // (the server that held it has stopped).
  static std::vector<std::string> StoredBytes(const std::string& data) {
    auto store = eventstore::EventStore::Open(
        {.path = (fs::path(data) / "eventstore").string()});
    EXPECT_TRUE(store.ok()) << store.status();
    std::vector<std::string> bytes;
    if (!store.ok()) return bytes;
    for (uint64_t next = 1;;) {
      auto records = (*store)->ReadStoredRecords(next, 10000, 64 << 20);
      EXPECT_TRUE(records.ok()) << records.status();
      if (!records.ok() || records->empty()) break;
      for (auto& record : *records) bytes.push_back(std::move(record.record));
      next = bytes.size() + 1;
    }
    return bytes;
  }

  static void StopCleanly(Node& node) {
    node.Disconnect();
    const int status = node.process.Stop(SIGTERM);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }

  // The health of `service` on `node` ("" for the server): 1 SERVING,
  // 2 NOT_SERVING (grpc.health.v1).
  static int Health(const Node& node, const std::string& service) {
    std::string request;
    if (!service.empty()) {
      request =
          absl::StrCat("\x0a", std::string(1, char(service.size())), service);
    }
    std::string response;
    const grpc::Status status =
        RawUnary(node.channel, Context().get(), "/grpc.health.v1.Health/Check",
                 request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.size() == 2 ? response[1] : 0;
  }

  plantrail::testing::TempDir dir_;
  Node leader_;
  std::string token_;
};

TEST_F(ReplicationE2eTest, AReplicaOfALoadedLeaderIsByteIdenticalAndServes) {
  Node replica;
  StartReplica(replica, ReplicaData("replica"), leader_.process.address(), "",
               {"--metrics-listen", "127.0.0.1:0"});

  // A plan, concurrent appends, a redaction and a token granted while the
  // replica follows.
  v1::RegisterPlanRequest plan;
  plan.set_plan_id("kth");
  plan.mutable_fields()->set_title("KTH action plan");
  v1::CommandResult result;
  ASSERT_TRUE(
      leader_.commands->RegisterPlan(Context().get(), plan, &result).ok());
  v1::RegisterAreaRequest area;
  area.set_plan_id("kth");
  area.set_area_id("3.1.1");
  area.set_title("Exchange students");
  area.set_support_area("3.1");
  area.set_rationale("call anna on 0701234567");
  ASSERT_TRUE(
      leader_.commands->RegisterArea(Context().get(), area, &result).ok());
  const uint64_t area_position = result.position();
  Load(leader_, 4, 150, 3);
  v1::RedactEventRequest redact;
  redact.set_position(area_position);
  redact.set_reason("a phone number in a rationale");
  v1::RedactEventResponse redacted;
  const grpc::Status redaction =
      leader_.admin->RedactEvent(Context().get(), redact, &redacted);
  ASSERT_TRUE(redaction.ok()) << redaction.error_message();
  v1::CreateTokenRequest grant;
  grant.set_principal("rita");
  grant.add_roles(v1::ROLE_READER);
  v1::CreateTokenResponse rita;
  ASSERT_TRUE(leader_.admin->CreateToken(Context().get(), grant, &rita).ok());
  Load(leader_, 2, 50, 1);

  AwaitCaughtUp(replica);

  // The leader's signed digest verifies on the replica.
  v1::GetDigestResponse digest;
  ASSERT_TRUE(leader_.admin->GetDigest(Context().get(), {}, &digest).ok());
  v1::VerifyRequest verify;
  *verify.mutable_digest() = digest.digest();
  v1::VerifyResponse verified;
  ASSERT_TRUE(replica.admin->Verify(Context().get(), verify, &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.problem();
  EXPECT_TRUE(verified.digest_ok());

  // Reads are served, with the leader's tokens (one granted after the
  // replica started).
  auto as_rita = v1::PlanQueries::NewStub(
      BearerChannel(replica.process.address(), rita.token()));
  v1::GetPlanRequest get_plan;
  get_plan.set_plan_id("kth");
  v1::GetPlanResponse got;
  grpc::Status read;
  for (int i = 0; i < 100; ++i) {
    read = as_rita->GetPlan(Context().get(), get_plan, &got);
    if (read.ok()) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(read.ok()) << read.error_message();
  EXPECT_EQ(got.plan().title(), "KTH action plan");

  // Writes are refused, naming the leader.
  v1::AppendRequest append;
  append.set_stream_id("load-0-0");
  append.add_events()->set_type("Loaded");
  v1::AppendResponse appended;
  const grpc::Status refused =
      replica.store->Append(Context().get(), append, &appended);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(
      refused.error_message(),
      HasSubstr(absl::StrCat("the leader at ", leader_.process.address())));
  plan.set_plan_id("other");
  const grpc::Status command =
      replica.commands->RegisterPlan(Context().get(), plan, &result);
  EXPECT_EQ(command.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(command.error_message(), HasSubstr("replica"));

  // The CLI sends a write a replica refuses to the leader it names, and
  // says so; with --no-follow-leader it reports the refusal.
  const std::string cli =
      absl::StrCat("PLANTRAIL_TOKEN=", token_, " ", PLANTRAIL_CLI_PATH,
                   " --server ", replica.process.address());
  const std::string followed =
      Shell(absl::StrCat(cli, " plan register via-cli --title Via 2>&1"));
  EXPECT_THAT(followed,
              HasSubstr(absl::StrCat("is a replica; sending the write to its "
                                     "leader at ",
                                     leader_.process.address())));
  v1::GetPlanRequest via_cli;
  via_cli.set_plan_id("via-cli");
  v1::GetPlanResponse registered;
  EXPECT_TRUE(
      leader_.queries->GetPlan(Context().get(), via_cli, &registered).ok());
  const std::string reported = Shell(absl::StrCat(
      cli, " --no-follow-leader plan register other --title Other 2>&1"));
  EXPECT_THAT(reported, HasSubstr("accepts no writes"));
  EXPECT_THAT(reported, Not(HasSubstr("sending the write")));

  // Health: reads yes, commands no.
  EXPECT_EQ(Health(replica, ""), 1);
  EXPECT_EQ(Health(replica, "plantrail.v1.PlanQueries"), 1);
  EXPECT_EQ(Health(replica, "plantrail.v1.PlanCommands"), 2);
  EXPECT_EQ(Health(leader_, "plantrail.v1.PlanCommands"), 1);

  // Both say who they are.
  const v1::ReplicationStatus of_replica = replica.Stats().replication();
  EXPECT_EQ(of_replica.role(), v1::ReplicationStatus::REPLICA);
  EXPECT_EQ(of_replica.leader(), leader_.process.address());
  EXPECT_EQ(of_replica.follow_state(), v1::ReplicationStatus::FOLLOWING);
  EXPECT_EQ(of_replica.lag_events(), 0u);
  const v1::ReplicationStatus of_leader = leader_.Stats().replication();
  EXPECT_EQ(of_leader.role(), v1::ReplicationStatus::LEADER);
  ASSERT_EQ(of_leader.replicas_size(), 1);
  EXPECT_EQ(of_leader.replicas(0).replica_name(), "replica-1");
  EXPECT_EQ(of_leader.replicas(0).started_after(), 0u);
  // And the metrics.
  const plantrail::testing::Scrape scrape = plantrail::testing::Parse(
      plantrail::testing::FetchMetrics(replica.process.metrics_port()));
  const std::string of =
      absl::StrCat("{leader=\"", leader_.process.address(), "\"}");
  EXPECT_EQ(
      plantrail::testing::Value(scrape, "plantrail_replication_is_leader"), 0);
  EXPECT_EQ(
      plantrail::testing::Value(scrape, "plantrail_replication_following" + of),
      1);
  EXPECT_EQ(plantrail::testing::Value(scrape,
                                      "plantrail_replication_lag_events" + of),
            0);
  EXPECT_EQ(plantrail::testing::Value(scrape, "plantrail_replication_term"), 0);

  // The same bytes at the same positions.
  StopCleanly(replica);
  StopCleanly(leader_);
  const std::vector<std::string> on_leader = StoredBytes(Data("leader"));
  const std::vector<std::string> on_replica = StoredBytes(Data("replica"));
  EXPECT_GT(on_leader.size(), 1000u);
  ASSERT_EQ(on_replica.size(), on_leader.size());
  for (size_t i = 0; i < on_leader.size(); ++i) {
    ASSERT_EQ(on_replica[i], on_leader[i]) << "position " << i + 1;
  }
}

TEST_F(ReplicationE2eTest, AReplicaLeftBehindCatchesUpFromItsOwnPosition) {
  Node replica;
  const std::string data = ReplicaData("replica");
  StartReplica(replica, data, leader_.process.address());
  Load(leader_, 2, 50, 2);
  AwaitCaughtUp(replica);
  const uint64_t stopped_at = replica.Stats().head_position();
  StopCleanly(replica);

  // 100,000 events while it is down.
  Load(leader_, 4, 250, 100);
  EXPECT_GE(leader_.Stats().head_position(), stopped_at + 100000);

  StartReplica(replica, data, leader_.process.address());
  AwaitCaughtUp(replica, 300);
  const v1::ReplicationStatus of_leader = leader_.Stats().replication();
  ASSERT_EQ(of_leader.replicas_size(), 1);
  // From where it was, not from the start.
  EXPECT_EQ(of_leader.replicas(0).started_after(), stopped_at);
  EXPECT_EQ(replica.Stats().replication().follow_state(),
            v1::ReplicationStatus::FOLLOWING);
  v1::GetDigestResponse digest;
  ASSERT_TRUE(leader_.admin->GetDigest(Context().get(), {}, &digest).ok());
  v1::VerifyRequest verify;
  *verify.mutable_digest() = digest.digest();
  v1::VerifyResponse verified;
  ASSERT_TRUE(replica.admin->Verify(Context().get(), verify, &verified).ok());
  EXPECT_TRUE(verified.digest_ok()) << verified.problem();
}

// Forwards a replica's Follow stream to the leader and flips one byte of the
// record at one position on its way back.
class FlippingProxy final : public v1::Replication::Service {
 public:
  FlippingProxy(const std::string& leader, const std::string& token,
                uint64_t position)
      : stub_(v1::Replication::NewStub(BearerChannel(leader, token))),
        position_(position) {}

  grpc::Status Follow(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::FollowLogResponse, v1::FollowLogRequest>*
          replica) override {
    grpc::ClientContext upstream;
    auto leader = stub_->Follow(&upstream);
    v1::FollowLogRequest request;
    if (!replica->Read(&request)) return grpc::Status::CANCELLED;
    leader->Write(request);
    std::thread acknowledgements([&] {
      v1::FollowLogRequest ack;
      while (replica->Read(&ack)) leader->Write(ack);
      upstream.TryCancel();
    });
    v1::FollowLogResponse response;
    while (leader->Read(&response)) {
      for (v1::ReplicatedRecord& record : *response.mutable_records()) {
        if (record.position() == position_) {
          // A byte of the header's recorded_at (format 1, flags 1,
          // header length 4, position 8, stream version 8, then the time).
          (*record.mutable_record())[25] ^= 0x01;
        }
      }
      if (!replica->Write(response)) break;
    }
    context->TryCancel();
    acknowledgements.join();
    return leader->Finish();
  }

 private:
  std::unique_ptr<v1::Replication::Stub> stub_;
  const uint64_t position_;
};

TEST_F(ReplicationE2eTest, AnAlteredRecordIsRefusedAndTheReplicaSaysWhere) {
  Load(leader_, 1, 20, 5);
  // After what the replica copies first (the leader's tokens among it).
  const uint64_t altered = leader_.Stats().head_position() + 37;
  FlippingProxy proxy(leader_.process.address(), token_, altered);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&proxy);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(port, 0);

  Node replica;
  StartReplica(replica, ReplicaData("replica"),
               absl::StrCat("127.0.0.1:", port));
  AwaitCaughtUp(replica);
  Load(leader_, 1, 20, 5);
  const v1::ReplicationStatus stopped = AwaitStopped(replica);
  EXPECT_THAT(stopped.problem(),
              HasSubstr(absl::StrCat("the record at position ", altered)));
  EXPECT_THAT(stopped.problem(), HasSubstr("does not chain"));
  // Everything before the altered record's batch, nothing of it or after.
  const uint64_t head = replica.Stats().head_position();
  EXPECT_LT(head, altered);
  EXPECT_GE(head, altered - 37);
  // It stays stopped: no retry copies the bad record in later.
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(replica.Stats().head_position(), head);
  v1::VerifyResponse verified;
  ASSERT_TRUE(replica.admin->Verify(Context().get(), {}, &verified).ok());
  EXPECT_TRUE(verified.ok()) << verified.problem();
  StopCleanly(replica);
  server->Shutdown(std::chrono::system_clock::now());
}

TEST_F(ReplicationE2eTest, AForkedLogIsRefusedAndKeptAsItWas) {
  // A server of its own first: its first event (its own admin token's
  // grant) is not the leader's, which has more events than it.
  Load(leader_, 1, 10, 1);
  Node other;
  const std::string data = Data("other");
  ASSERT_TRUE(other.process.Start(data));
  other.Connect(other.process.AdminToken());
  Load(other, 1, 3, 1);
  const uint64_t head = other.Stats().head_position();
  const std::string own_token = other.process.AdminToken();
  StopCleanly(other);

  StartReplica(other, data, leader_.process.address(), own_token);
  const v1::ReplicationStatus stopped = AwaitStopped(other);
  EXPECT_THAT(stopped.problem(), HasSubstr("forked"));
  EXPECT_THAT(stopped.problem(), HasSubstr(absl::StrCat("position ", head)));
  EXPECT_EQ(other.Stats().head_position(), head);
}

TEST_F(ReplicationE2eTest, ALogAheadOfTheLeaderIsRefused) {
  Node other;
  const std::string data = Data("other");
  ASSERT_TRUE(other.process.Start(data));
  other.Connect(other.process.AdminToken());
  Load(other, 1, 3, 1);
  const uint64_t head = other.Stats().head_position();
  const std::string own_token = other.process.AdminToken();
  StopCleanly(other);

  StartReplica(other, data, leader_.process.address(), own_token);
  const v1::ReplicationStatus stopped = AwaitStopped(other);
  EXPECT_THAT(stopped.problem(),
              HasSubstr(absl::StrCat("after_position: ", head,
                                     " is beyond this leader's head")));
  EXPECT_EQ(other.Stats().head_position(), head);
}

TEST_F(ReplicationE2eTest,
       AReplicaFollowsOverMutualTlsWithAnAdminsCertificate) {
  // A CA, the leader's certificate, and one for the replica's principal.
  const std::string pki = Data("pki");
  fs::create_directories(pki);
  const std::string script = absl::StrCat(
      "set -e; cd '", pki, "'\n",
      "key() { openssl genpkey -algorithm EC -pkeyopt "
      "ec_paramgen_curve:prime256v1 -out $1.key 2>/dev/null; }\n",
      "key ca; openssl req -x509 -new -key ca.key -out ca.pem -days 2 "
      "-subj /CN=ca\n",
      "cert() { key $1; openssl req -new -key $1.key -subj \"$2\" -out "
      "$1.csr; printf \"$3\" > $1.ext; openssl x509 -req -in $1.csr -CA "
      "ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $1.ext -out "
      "$1.pem 2>/dev/null; }\n",
      "cert server /CN=localhost "
      "'subjectAltName=DNS:localhost,IP:127.0.0.1\\n'\n",
      "cert replica /CN=replica-service 'extendedKeyUsage=clientAuth\\n'\n");
  ASSERT_EQ(
      std::system(
          absl::StrCat("sh -c \"$(cat <<'EOF'\n", script, "EOF\n)\"").c_str()),
      0)
      << "openssl could not make the certificates";
  auto file = [&](const char* name) { return (fs::path(pki) / name).string(); };
  Node leader;
  ASSERT_TRUE(leader.process.Start(
      Data("tls-leader"),
      {"--tls-cert", file("server.pem"), "--tls-key", file("server.key"),
       "--tls-client-ca", file("ca.pem")}));
  const std::string admin = leader.process.AdminToken();
  auto read = [&](const char* name) {
    std::ifstream in(file(name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  // Mutual TLS wants a certificate of every client: the test presents the
  // replica's, with the admin's token.
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = read("ca.pem");
  ssl.pem_cert_chain = read("replica.pem");
  ssl.pem_private_key = read("replica.key");
  // The admin, over TLS with a bearer token, grants the replica's
  // certificate subject the admin role (replication is an admin's).
  auto to_leader = v1::Admin::NewStub(grpc::CreateChannel(
      leader.process.address(),
      grpc::CompositeChannelCredentials(grpc::SslCredentials(ssl),
                                        grpc::AccessTokenCredentials(admin))));
  v1::CreateTokenRequest grant;
  grant.set_principal("replica-service");
  grant.add_roles(v1::ROLE_ADMIN);
  v1::CreateTokenResponse granted;
  const grpc::Status created =
      to_leader->CreateToken(Context().get(), grant, &granted);
  ASSERT_TRUE(created.ok()) << created.error_message();

  const fs::path data = Data("tls-replica");
  fs::create_directories(data);
  fs::permissions(data, fs::perms::owner_all);
  for (const char* key : {"signing.key", "signing.pub", "webhook.key"}) {
    fs::copy_file(fs::path(Data("tls-leader")) / key, data / key);
  }
  Node replica;
  ASSERT_TRUE(replica.process.Start(
      data.string(),
      {"--replica-of", leader.process.address(), "--replica-ca-file",
       file("ca.pem"), "--replica-cert-file", file("replica.pem"),
       "--replica-key-file", file("replica.key")}));
  replica.Connect(admin);
  v1::GetStatsResponse on_leader;
  ASSERT_TRUE(to_leader->GetStats(Context().get(), {}, &on_leader).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  uint64_t at = 0;
  while (absl::Now() < deadline && at < on_leader.head_position()) {
    v1::GetStatsResponse stats;
    if (replica.admin->GetStats(Context().get(), {}, &stats).ok()) {
      at = stats.head_position();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(at, on_leader.head_position());
  EXPECT_EQ(replica.Stats().replication().follow_state(),
            v1::ReplicationStatus::FOLLOWING);
}

TEST_F(ReplicationE2eTest, AnOldLeaderBackAsLeaderIsDeposedByANewerTerm) {
  // The replica takes over from a leader that is gone ...
  Node replica;
  const std::string replica_data = ReplicaData("replica");
  StartReplica(replica, replica_data, leader_.process.address());
  Load(leader_, 1, 10, 1);
  AwaitCaughtUp(replica);
  StopCleanly(leader_);
  v1::PromoteRequest promote;
  promote.set_reason("the leader is gone");
  v1::PromoteResponse promoted;
  ASSERT_TRUE(replica.admin->Promote(Context().get(), promote, &promoted).ok());
  EXPECT_EQ(promoted.term(), 1u);
  // ... and a third server copies the new term from it.
  Node third;
  const std::string third_data = ReplicaData("third");
  StartReplica(third, third_data, replica.process.address());
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  uint64_t term = 0;
  while (absl::Now() < deadline && term < promoted.term()) {
    v1::GetStatsResponse stats;
    if (third.admin->GetStats(Context().get(), {}, &stats).ok()) {
      term = stats.replication().term();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(term, promoted.term());
  StopCleanly(third);

  // The old leader comes back as a leader (misconfigured). The moment a
  // server of the newer term meets it, it stops taking writes.
  ASSERT_TRUE(leader_.process.Start(Data("leader")));
  leader_.Connect(token_);
  StartReplica(third, third_data, leader_.process.address());
  const v1::ReplicationStatus refused = AwaitStopped(third);
  EXPECT_THAT(refused.problem(), HasSubstr("deposed"));
  const v1::ReplicationStatus deposed = leader_.Stats().replication();
  EXPECT_THAT(deposed.problem(), HasSubstr("[rule: one-leader-a-term]"));
  v1::AppendRequest append;
  append.set_stream_id("after-deposed");
  append.add_events()->set_type("Written");
  v1::AppendResponse appended;
  const grpc::Status write =
      leader_.store->Append(Context().get(), append, &appended);
  EXPECT_EQ(write.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(write.error_message(), HasSubstr("deposed"));
  EXPECT_EQ(Health(leader_, "plantrail.v1.PlanCommands"), 2);
}

TEST_F(ReplicationE2eTest, ManualFailoverUnderLoadLosesNoAcknowledgedAppend) {
  // The fixture's leader has no synchronous replica: start over with one.
  StopCleanly(leader_);
  const std::vector<std::string> sync = {"--sync-replicas", "1",
                                         "--sync-timeout", "2"};
  std::array<Node, 2> nodes;
  std::array<std::string, 2> data = {Data("leader"), ReplicaData("replica")};
  ASSERT_TRUE(nodes[0].process.Start(data[0], sync));
  nodes[0].Connect(token_);
  {
    std::vector<std::string> args = sync;
    const std::string token_file =
        (fs::path(dir_.path()) / "leader.token").string();
    std::ofstream(token_file) << token_ << "\n";
    args.insert(args.end(), {"--replica-of", nodes[0].process.address(),
                             "--replica-token-file", token_file});
    ASSERT_TRUE(nodes[1].process.Start(data[1], args));
    nodes[1].Connect(token_);
  }
  const std::string token_file =
      (fs::path(dir_.path()) / "leader.token").string();

  Acknowledged acknowledged;
  std::mt19937 random(20261207);
  int leader = 0;
  constexpr int kKills = kFailovers;
  for (int kill = 0; kill < kKills; ++kill) {
    SCOPED_TRACE(absl::StrCat("kill ", kill + 1));
    Node& old_leader = nodes[leader];
    Node& successor = nodes[1 - leader];
    // Concurrent appends until the leader dies; each acknowledged id noted.
    Writers writers(old_leader, "failover", acknowledged);
    absl::SleepFor(absl::Milliseconds(
        std::uniform_int_distribution<int>(100, 400)(random)));
    old_leader.process.Stop(SIGKILL);
    writers.Stop();
    old_leader.Disconnect();

    // The replica takes over; every acknowledged append is in its log.
    v1::PromoteRequest promote;
    promote.set_reason(absl::StrCat("kill ", kill + 1));
    v1::PromoteResponse promoted;
    const grpc::Status status =
        successor.admin->Promote(Context().get(), promote, &promoted);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(promoted.term(), static_cast<uint64_t>(kill + 1));
    ASSERT_NO_FATAL_FAILURE(acknowledged.ExpectAllHeldBy(successor));

    // The old leader comes back as its replica, its unacknowledged tail
    // quarantined, and the chains agree.
    std::ofstream(token_file) << token_ << "\n";
    std::vector<std::string> args = sync;
    args.insert(args.end(), {"--replica-of", successor.process.address(),
                             "--replica-token-file", token_file});
    ASSERT_TRUE(old_leader.process.Start(data[leader], args));
    old_leader.Connect(token_);
    leader = 1 - leader;
    nodes[leader].Connect(token_);
    // Until the replica is back the leader cannot acknowledge; then the
    // chains agree.
    ASSERT_NO_FATAL_FAILURE(AwaitSameChain(nodes[leader], nodes[1 - leader]));
  }

  // What was quarantined was never acknowledged, and is kept.
  uint64_t quarantined = 0;
  for (int n = 0; n < 2; ++n) {
    const v1::ReplicationStatus status = nodes[n].Stats().replication();
    for (const v1::QuarantineFile& file : status.quarantined()) {
      quarantined += file.records();
      std::ifstream in(file.path());
      std::string line;
      std::getline(in, line);  // the header
      while (std::getline(in, line)) {
        for (const std::string& id : acknowledged.ids) {
          ASSERT_FALSE(absl::StrContains(line, id))
              << id << " was acknowledged, yet quarantined";
        }
      }
    }
  }
  std::cout << acknowledged.ids.size() << " appends acknowledged over "
            << kKills << " failovers; " << quarantined
            << " unacknowledged records quarantined\n";
  EXPECT_GT(acknowledged.ids.size(), static_cast<size_t>(kKills));
}

// A free loopback port (bound and closed: a server started on it at once
// gets it).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

// Two servers electing their leader on a real etcd (started by the test).
class ElectionE2eTest : public ReplicationE2eTest {
 protected:
  void SetUp() override {
    // Not the fixture's leader: these servers elect theirs.
    fs::create_directories(fs::path(dir_.path()) / "etcd");
    ASSERT_TRUE(etcd_.Start((fs::path(dir_.path()) / "etcd").string()));
    token_file_ = (fs::path(dir_.path()) / "leader.token").string();
    for (int n = 0; n < 2; ++n) {
      addresses_[n] = absl::StrCat("127.0.0.1:", FreePort());
      data_[n] = Data(absl::StrCat("node-", n));
    }
    // The first server leads (nobody holds the key) and writes the admin
    // token; the second gets its keys, as from a backup, and follows.
    ASSERT_TRUE(StartNode(0));
    token_ = nodes_[0].process.AdminToken();
    std::ofstream(token_file_) << token_ << "\n";
    nodes_[0].Connect(token_);
    fs::create_directories(data_[1]);
    fs::permissions(data_[1], fs::perms::owner_all);
    for (const char* file : {"signing.key", "signing.pub", "webhook.key"}) {
      fs::copy_file(fs::path(data_[0]) / file, fs::path(data_[1]) / file);
    }
    ASSERT_TRUE(StartNode(1));
    nodes_[1].Connect(token_);
  }

  // Synchronous replication, or (false) asynchronous.
  virtual bool Synchronous() const { return true; }

  bool StartNode(int n) {
    nodes_[n].process.ListenOn(addresses_[n]);
    std::vector<std::string> args = {
        "--election",           absl::StrCat("etcd=", etcd_.endpoint()),
        "--election-ttl",       "1",
        "--replica-token-file", token_file_};
    if (Synchronous()) {
      args.insert(args.end(), {"--sync-replicas", "1", "--sync-timeout", "2"});
    }
    return nodes_[n].process.Start(data_[n], args);
  }

  // Waits until `node` says it leads; false after `seconds`.
  static bool AwaitLeading(Node& node, int seconds) {
    const absl::Time deadline = absl::Now() + absl::Seconds(seconds);
    while (absl::Now() < deadline) {
      v1::GetStatsResponse stats;
      if (node.admin->GetStats(Context().get(), {}, &stats).ok() &&
          stats.replication().role() == v1::ReplicationStatus::LEADER &&
          stats.replication().problem().empty()) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  plantrail::testing::EtcdProcess etcd_;
  std::string token_file_;
  std::array<std::string, 2> addresses_;
  std::array<std::string, 2> data_;
  std::array<Node, 2> nodes_;
};

TEST_F(ElectionE2eTest, ASynchronousReplicaTakesOverEveryTimeTheLeaderDies) {
  ASSERT_TRUE(AwaitLeading(nodes_[0], 10));
  AwaitSameChain(nodes_[0], nodes_[1]);
  Acknowledged acknowledged;
  std::mt19937 random(7);
  int leader = 0;
  constexpr int kKills = kFailovers;
  for (int kill = 0; kill < kKills; ++kill) {
    SCOPED_TRACE(absl::StrCat("kill ", kill + 1));
    Node& old_leader = nodes_[leader];
    Node& successor = nodes_[1 - leader];
    Writers writers(old_leader, "elected", acknowledged);
    absl::SleepFor(absl::Milliseconds(
        std::uniform_int_distribution<int>(100, 300)(random)));
    old_leader.process.Stop(SIGKILL);
    writers.Stop();
    old_leader.Disconnect();

    // etcd's lease runs out; the replica wins, with every acknowledged
    // append.
    ASSERT_TRUE(AwaitLeading(successor, 20));
    ASSERT_NO_FATAL_FAILURE(acknowledged.ExpectAllHeldBy(successor));
    // The old leader comes back and the election makes it a replica.
    ASSERT_TRUE(StartNode(leader));
    old_leader.Connect(token_);
    AwaitSameChain(successor, old_leader);
    EXPECT_EQ(old_leader.Stats().replication().role(),
              v1::ReplicationStatus::REPLICA);
    leader = 1 - leader;
  }
  std::cout << acknowledged.ids.size() << " appends acknowledged over "
            << kKills << " elections\n";
  EXPECT_GT(acknowledged.ids.size(), static_cast<size_t>(kKills));
}

// Without synchronous replicas nothing but the lease stops a leader that
// comes back from a pause from acknowledging: the fence is what is tested.
class AsyncElectionE2eTest : public ElectionE2eTest {
 protected:
  bool Synchronous() const override { return false; }
};

TEST_F(AsyncElectionE2eTest,
       APausedLeaderAcknowledgesNothingAfterItsLeaseAndLeaves) {
  ASSERT_TRUE(AwaitLeading(nodes_[0], 10));
  AwaitSameChain(nodes_[0], nodes_[1]);
  const uint64_t old_term = nodes_[0].Stats().replication().term();

  // Paused past its lease: the replica takes over in a newer term.
  ASSERT_EQ(kill(nodes_[0].process.pid(), SIGSTOP), 0);
  ASSERT_TRUE(AwaitLeading(nodes_[1], 20));
  const uint64_t new_term = nodes_[1].Stats().replication().term();
  EXPECT_GT(new_term, old_term);
  v1::AppendRequest request;
  request.set_stream_id("after-pause");
  request.add_events()->set_type("Written");

  // Resumed: whatever reaches it is not acknowledged, and it leaves to
  // come back as a replica.
  // Appends are sent to it while it is still paused (they wait in its
  // socket), so that they race its own discovery that it lost.
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      auto stub = v1::EventStore::NewStub(nodes_[0].channel);
      for (int i = 0; i < 20; ++i) {
        v1::AppendResponse answer;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(5));
        if (stub->Append(&context, request, &answer).ok()) ++acknowledged;
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_EQ(kill(nodes_[0].process.pid(), SIGCONT), 0);
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(acknowledged.load(), 0)
      << "a deposed leader acknowledged appends in its old term";
  const int status = nodes_[0].process.WaitForExit(std::chrono::seconds(20));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 75) << "exits for its supervisor to restart";
  nodes_[0].Disconnect();
  ASSERT_TRUE(StartNode(0));
  nodes_[0].Connect(token_);
  AwaitSameChain(nodes_[1], nodes_[0]);
  EXPECT_EQ(nodes_[1].Stats().replication().term(), new_term);
}

}  // namespace
}  // namespace plantrail
