// Acknowledged means durable, appends are atomic, and the log stays a gapless
// verified chain, across SIGKILLs at random moments.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/eventstore/test_util.h"
#include "tests/temp_dir.h"

extern char** environ;

namespace plantrail::eventstore {
namespace {

using ::plantrail::eventstore::testing::OpenStore;
using ::plantrail::eventstore::testing::ReadEverything;

constexpr int kRounds = 20;
constexpr int kThreads = 4;
constexpr int kEventsPerAppend = 3;

struct Ack {
  uint64_t first_position;
  uint64_t last_position;
  std::string stream;
  std::string seq;
};

// Runs the child until it has started appending plus `run_for`, kills it
// with SIGKILL, and returns everything it acknowledged.
std::vector<Ack> RunAndKill(const std::string& dir, int round,
                            std::chrono::milliseconds run_for) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  const std::string round_arg = absl::StrCat(round);
  const std::string threads_arg = absl::StrCat(kThreads);
  const std::string events_arg = absl::StrCat(kEventsPerAppend);
  std::vector<char*> argv = {const_cast<char*>(CRASH_CHILD_PATH),
                             const_cast<char*>(dir.c_str()),
                             const_cast<char*>(round_arg.c_str()),
                             const_cast<char*>(threads_arg.c_str()),
                             const_cast<char*>(events_arg.c_str()),
                             nullptr};
  pid_t pid;
  EXPECT_EQ(posix_spawn(&pid, CRASH_CHILD_PATH, &actions, nullptr, argv.data(),
                        environ),
            0);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);

  // Wait for "R" (store open), then let it append for a while.
  std::string output;
  char buffer[4096];
  while (output.find('\n') == std::string::npos) {
    const ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n <= 0) break;
    output.append(buffer, n);
  }
  std::this_thread::sleep_for(run_for);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child died on its own, status " << status;
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) {
    output.append(buffer, n);
  }
  close(fds[0]);

  std::vector<Ack> acks;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    if (parts.size() != 5 || parts[0] != "A") continue;
    Ack ack;
    EXPECT_TRUE(absl::SimpleAtoi(parts[1], &ack.first_position));
    EXPECT_TRUE(absl::SimpleAtoi(parts[2], &ack.last_position));
    ack.stream = parts[3];
    ack.seq = parts[4];
    acks.push_back(ack);
  }
  return acks;
}

TEST(CrashTest, AcknowledgedAppendsSurviveSigkillIntactAndAtomic) {
  std::random_device device;
  unsigned seed = device();
  if (const char* fixed = std::getenv("PLANTRAIL_CRASH_SEED")) {
    seed = static_cast<unsigned>(std::strtoul(fixed, nullptr, 10));
  }
  SCOPED_TRACE(absl::StrCat("PLANTRAIL_CRASH_SEED=", seed));
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> run_ms(5, 250);

  plantrail::testing::TempDir dir;
  size_t total_acks = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::vector<Ack> acks = RunAndKill(
        dir.path(), round, std::chrono::milliseconds(run_ms(random)));
    total_acks += acks.size();

    auto store = OpenStore(dir.path());
    ASSERT_NE(store, nullptr);
    const std::vector<RecordedEvent> all = ReadEverything(*store);

    // Gapless positions, and a chain that verifies.
    for (size_t i = 0; i < all.size(); ++i) {
      ASSERT_EQ(all[i].position, i + 1);
    }
    ASSERT_EQ(store->HeadPosition(), all.size());
    auto report = store->Verify();
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_TRUE(report->ok) << "broken at " << report->first_broken_position
                            << ": " << report->problem;

    // Every acknowledged event is there, intact, where it was acknowledged.
    for (const Ack& ack : acks) {
      ASSERT_EQ(ack.last_position - ack.first_position + 1,
                uint64_t{kEventsPerAppend});
      ASSERT_LE(ack.last_position, all.size())
          << "acknowledged append " << ack.stream << "/" << ack.seq
          << " is lost";
      for (uint64_t p = ack.first_position; p <= ack.last_position; ++p) {
        const RecordedEvent& event = all[p - 1];
        EXPECT_EQ(event.stream_id, ack.stream);
        EXPECT_EQ(event.payload, absl::StrCat(ack.stream, "/", ack.seq, "/",
                                              p - ack.first_position));
      }
    }

    // No partial append: every batch is complete and contiguous.
    std::map<std::string, std::vector<uint64_t>> batches;
    for (const RecordedEvent& event : all) {
      batches[event.metadata.at("batch")].push_back(event.position);
    }
    for (const auto& [batch, positions] : batches) {
      ASSERT_EQ(positions.size(), size_t{kEventsPerAppend})
          << "partial append " << batch;
      EXPECT_EQ(positions.back() - positions.front() + 1,
                uint64_t{kEventsPerAppend});
    }
  }
  // A run that never acknowledged anything would prove nothing.
  EXPECT_GT(total_acks, size_t{kRounds});
  std::cout << "crash test: " << kRounds << " SIGKILLs, " << total_acks
            << " acknowledged appends checked, seed " << seed << "\n";
}

}  // namespace
}  // namespace plantrail::eventstore
