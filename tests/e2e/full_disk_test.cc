// The real plantraild with its data directory on a small filesystem that
// the test mounts (a size-limited tmpfs, in a mount namespace of the test's
// own, so nothing outlives the test) and then fills.
//
// With the free-space floor (--min-free-mb), appends are refused with
// RESOURCE_EXHAUSTED before they reach RocksDB, reads go on, and appends go
// through again by themselves once space is freed. Without it, RocksDB
// itself meets the full disk: the server stays up, says what happened,
// reads go on, nothing acknowledged is lost and the chain verifies; once
// space is freed it writes again (by itself, or after the restart it asks
// for when the write-ahead log was what failed).
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "eventstore/uuid.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"
#include "tests/e2e/bearer_channel.h"
#include "tests/e2e/server_process.h"
#include "tests/temp_dir.h"

namespace plantrail {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1 << 20;

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(30));
  return context;
}

// Enters a mount namespace of this process's own (as root, or else as root
// of a new user namespace), so that the filesystems the tests mount are
// private to it and gone when it exits. Must run while the process has one
// thread: before any gRPC channel exists.
std::string EnterMountNamespace() {
  if (unshare(CLONE_NEWNS) != 0) {
    const uid_t uid = getuid();
    const gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      return absl::StrCat(
          "cannot make a mount namespace (needs root or user "
          "namespaces): ",
          std::strerror(errno));
    }
    std::ofstream("/proc/self/setgroups") << "deny";
    std::ofstream("/proc/self/uid_map") << "0 " << uid << " 1";
    std::ofstream("/proc/self/gid_map") << "0 " << gid << " 1";
  }
  if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return absl::StrCat("cannot make mounts private: ", std::strerror(errno));
  }
  return "";
}

class FullDiskTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // See ServerTest: keeps a client from waiting out a 5 s backup poll.
    setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", 0);
    namespace_error_ = new std::string(EnterMountNamespace());
  }

  void SetUp() override {
    ASSERT_EQ(*namespace_error_, "");
    const std::string options = absl::StrCat("size=", 256 * kMiB);
    ASSERT_EQ(mount("plantrail-full-disk", disk_.path().c_str(), "tmpfs", 0,
                    options.c_str()),
              0)
        << "cannot mount a tmpfs on " << disk_.path() << ": "
        << std::strerror(errno);
    mounted_ = true;
  }

  void TearDown() override {
    server_.Stop(SIGKILL);
    if (mounted_) umount2(disk_.path().c_str(), MNT_DETACH);
  }

  void StartServer(uint64_t min_free_mb) {
    ASSERT_TRUE(server_.Start(disk_ / "data",
                              {"--min-free-mb", absl::StrCat(min_free_mb)}));
    auto channel =
        testing::BearerChannel(server_.address(), server_.AdminToken());
    store_ = v1::EventStore::NewStub(channel);
    admin_ = v1::Admin::NewStub(channel);
    commands_ = v1::PlanCommands::NewStub(channel);
    queries_ = v1::PlanQueries::NewStub(channel);
  }

  void StopServer() {
    store_.reset();
    admin_.reset();
    commands_.reset();
    queries_.reset();
    const int status = server_.Stop(SIGTERM);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }

  // Takes all but `leave` bytes of the free space.
  void Fill(uint64_t leave) {
    const uint64_t free = FreeBytes();
    ASSERT_GT(free, leave);
    const int fd = open((disk_ / "filler").c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(posix_fallocate(fd, 0, free - leave), 0);
    close(fd);
  }

  void FreeTheFiller() { ASSERT_EQ(unlink((disk_ / "filler").c_str()), 0); }

  uint64_t FreeBytes() {
    struct statvfs info;
    EXPECT_EQ(statvfs(disk_.path().c_str(), &info), 0);
    return static_cast<uint64_t>(info.f_bavail) * info.f_frsize;
  }

  grpc::Status Append(const std::string& stream, const std::string& payload,
                      v1::AppendResponse* response) {
    v1::AppendRequest request;
    request.set_stream_id(stream);
    v1::ProposedEvent* event = request.add_events();
    event->set_event_id(eventstore::FormatUuid(eventstore::NewRandomUuid()));
    event->set_type("Filled");
    event->set_payload(payload);
    event->set_content_type("application/octet-stream");
    return store_->Append(Context().get(), request, response);
  }

  // Appends one small event, retrying for up to 10 s while the server
  // refuses for lack of space (unless it says it needs a restart); returns
  // the last status.
  grpc::Status AppendOnceThereIsSpace(std::vector<uint64_t>* acknowledged) {
    grpc::Status status;
    for (int attempt = 0; attempt < 1000; ++attempt) {
      v1::AppendResponse response;
      status = Append("after", "space again", &response);
      if (status.ok()) {
        acknowledged->push_back(response.first_position());
        return status;
      }
      if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED ||
          absl::StrContains(status.error_message(), "restart plantraild")) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status;
  }

  uint64_t Head() {
    v1::GetStatsResponse stats;
    EXPECT_TRUE(admin_->GetStats(Context().get(), {}, &stats).ok());
    return stats.head_position();
  }

  // Reads every acknowledged position back, and checks the chain and the
  // projections' checkpoints.
  void ExpectEverythingAcknowledgedAndVerified(
      const std::vector<uint64_t>& acknowledged) {
    for (uint64_t position : acknowledged) {
      v1::ReadAllRequest request;
      request.set_from_position(position);
      request.set_limit(1);
      v1::ReadAllResponse page;
      ASSERT_TRUE(store_->ReadAll(Context().get(), request, &page).ok());
      ASSERT_EQ(page.events_size(), 1) << "position " << position << " lost";
      EXPECT_EQ(page.events(0).position(), position);
    }
    v1::VerifyResponse verified;
    ASSERT_TRUE(admin_->Verify(Context().get(), {}, &verified).ok());
    EXPECT_TRUE(verified.ok()) << verified.problem();
  }

  void RegisterArea(std::vector<uint64_t>* acknowledged) {
    v1::RegisterAreaRequest request;
    request.set_area_id("7.1.1");
    request.set_title("Gemensam lagringsplats");
    request.set_support_area("7.1");
    request.add_responsible_units("IT");
    request.set_planned_period("Q1 2025-Q4 2025");
    v1::CommandResult result;
    const grpc::Status status =
        commands_->RegisterArea(Context().get(), request, &result);
    ASSERT_TRUE(status.ok()) << status.error_message();
    acknowledged->push_back(result.position());
  }

  static std::string* namespace_error_;
  testing::TempDir disk_;
  bool mounted_ = false;
  testing::ServerProcess server_;
  std::unique_ptr<v1::EventStore::Stub> store_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<v1::PlanCommands::Stub> commands_;
  std::unique_ptr<v1::PlanQueries::Stub> queries_;
};

std::string* FullDiskTest::namespace_error_ = nullptr;

TEST_F(FullDiskTest, UnderTheFloorAppendsAreRefusedReadsGoOnAndWritingResumes) {
  StartServer(/*min_free_mb=*/64);
  std::vector<uint64_t> acknowledged;
  RegisterArea(&acknowledged);
  for (int i = 0; i < 10; ++i) {
    v1::AppendResponse response;
    ASSERT_TRUE(Append("before", "x", &response).ok());
    acknowledged.push_back(response.first_position());
  }

  Fill(/*leave=*/48 * kMiB);
  grpc::Status refused;
  for (int attempt = 0; attempt < 1000 && refused.ok(); ++attempt) {
    v1::AppendResponse response;
    refused = Append("during", "y", &response);
    if (refused.ok()) {
      acknowledged.push_back(response.first_position());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("64 MiB floor"));
  EXPECT_THAT(refused.error_message(), HasSubstr("--min-free-mb"));
  const uint64_t head = Head();

  // Commands are refused the same way, and nothing is written.
  v1::ReportStatusRequest report;
  report.set_area_id("7.1.1");
  report.set_phase(v1::PHASE_IN_PROGRESS);
  report.set_health(v1::HEALTH_AT_RISK);
  report.set_narrative("Disken är full.");
  v1::CommandResult result;
  EXPECT_EQ(
      commands_->ReportStatus(Context().get(), report, &result).error_code(),
      grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::AppendResponse response;
  EXPECT_EQ(Append("during", "z", &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Head(), head);

  // Reads go on: the log, the plan, the chain.
  ExpectEverythingAcknowledgedAndVerified(acknowledged);
  v1::GetAreaRequest get;
  get.set_area_id("7.1.1");
  v1::GetAreaResponse area;
  const grpc::Status got = queries_->GetArea(Context().get(), get, &area);
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(area.area().title(), "Gemensam lagringsplats");

  // Space again: appends and commands go through without a restart.
  FreeTheFiller();
  const grpc::Status resumed = AppendOnceThereIsSpace(&acknowledged);
  ASSERT_TRUE(resumed.ok()) << resumed.error_message();
  const grpc::Status reported =
      commands_->ReportStatus(Context().get(), report, &result);
  ASSERT_TRUE(reported.ok()) << reported.error_message();
  acknowledged.push_back(result.position());
  get.set_min_position(result.position());
  ASSERT_TRUE(queries_->GetArea(Context().get(), get, &area).ok());
  EXPECT_EQ(area.area().health(), v1::HEALTH_AT_RISK);
  ExpectEverythingAcknowledgedAndVerified(acknowledged);
}

TEST_F(FullDiskTest, ADiskFilledToTheLastByteFailsCleanlyAndLosesNothing) {
  StartServer(/*min_free_mb=*/0);  // no floor: RocksDB meets the full disk
  std::vector<uint64_t> acknowledged;
  RegisterArea(&acknowledged);
  Fill(/*leave=*/4096);

  // The preallocated write-ahead log takes appends until it needs more.
  const std::string payload(64 << 10, 'p');
  grpc::Status failed;
  for (int i = 0; i < 2000 && failed.ok(); ++i) {
    v1::AppendResponse response;
    failed = Append("big", payload, &response);
    if (failed.ok()) acknowledged.push_back(response.first_position());
  }
  ASSERT_EQ(failed.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << failed.error_message();
  EXPECT_THAT(failed.error_message(), HasSubstr("No space left"));
  const uint64_t head = Head();
  v1::AppendResponse response;
  EXPECT_EQ(Append("big", "more", &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Head(), head);
  // The server is up and reads go on.
  ExpectEverythingAcknowledgedAndVerified(acknowledged);

  FreeTheFiller();
  grpc::Status after = AppendOnceThereIsSpace(&acknowledged);
  if (!after.ok()) {
    // The write-ahead log was what failed: RocksDB cannot write again in
    // this process, and the error says to restart.
    EXPECT_EQ(after.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(after.error_message(), HasSubstr("restart plantraild"));
    StopServer();
    StartServer(/*min_free_mb=*/0);
    after = AppendOnceThereIsSpace(&acknowledged);
    std::printf("the WAL write failed: writing resumed after a restart\n");
  } else {
    std::printf("a flush failed: writing resumed without a restart\n");
  }
  ASSERT_TRUE(after.ok()) << after.error_message();
  ExpectEverythingAcknowledgedAndVerified(acknowledged);

  // And after one more restart, everything is still there.
  StopServer();
  StartServer(/*min_free_mb=*/0);
  ExpectEverythingAcknowledgedAndVerified(acknowledged);
}

}  // namespace
}  // namespace plantrail
