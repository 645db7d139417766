#include "common/status_handoff.h"

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "gtest/gtest.h"

namespace plantrail {
namespace {

TEST(StatusHandoffTest, KeepsTheCodeTheMessageAndEveryPayload) {
  absl::Status status = absl::AbortedError("stream \"a\" is at version 3");
  status.SetPayload("plantrail/current-version", absl::Cord("3"));
  status.SetPayload("plantrail/other", absl::Cord("x"));
  const absl::Status handed = Unshared(status);
  EXPECT_EQ(handed, status);
  EXPECT_EQ(handed.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(handed.message(), "stream \"a\" is at version 3");
  EXPECT_EQ(handed.GetPayload("plantrail/current-version"), absl::Cord("3"));
  EXPECT_EQ(handed.GetPayload("plantrail/other"), absl::Cord("x"));
  EXPECT_TRUE(Unshared(absl::OkStatus()).ok());
}

// Under ThreadSanitizer this fails when Unshared hands back a copy: the two
// threads then drop references to one representation, whose count TSan
// cannot see in Debian's Abseil, and it reports the delete as a race.
TEST(StatusHandoffTest, TheHandedStatusCanDieOnAnotherThread) {
  for (int round = 0; round < 50; ++round) {
    auto status = std::make_unique<absl::Status>(absl::UnavailableError(
        "the event store is closing, and this message is long enough to "
        "live on the heap"));
    absl::Status handed = Unshared(*status);
    std::thread other([handed = std::move(handed)]() mutable {
      EXPECT_EQ(std::string(handed.message()).size(), 79u);
      handed = absl::OkStatus();
    });
    EXPECT_EQ(std::string(status->message()).size(), 79u);
    status.reset();
    other.join();
  }
}

}  // namespace
}  // namespace plantrail
