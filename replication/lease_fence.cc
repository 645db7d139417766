#include "replication/lease_fence.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace plantrail::replication {

void LeaseFence::ValidUntil(absl::Time until) {
  const int64_t us = absl::ToUnixMicros(until);
  int64_t current = valid_until_us_.load();
  while (current != INT64_MIN && us > current &&
         !valid_until_us_.compare_exchange_weak(current, us)) {
  }
}

void LeaseFence::Close() { valid_until_us_.store(INT64_MIN); }

absl::Status LeaseFence::Check() const {
  const int64_t until = valid_until_us_.load();
  if (until != INT64_MIN && absl::ToUnixMicros(absl::Now()) < until) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      "this server's leadership lease is not known to be valid (it was "
      "paused or cut off, or another server leads now): the append is in "
      "its log but not acknowledged; retry it with the same event ids or "
      "command id against the current leader [rule: leader-holds-lease]");
}

void LeaseFence::Hold(uint64_t position,
                      absl::AnyInvocable<void(absl::Status) &&> release) {
  auto checked = [this,
                  release = std::move(release)](absl::Status status) mutable {
    // Checked when the answer would go out, not when it was held: a pause
    // in between must not let it through.
    if (status.ok()) status = Check();
    std::move(release)(std::move(status));
  };
  if (inner_ != nullptr) {
    inner_->Hold(position, std::move(checked));
  } else {
    std::move(checked)(absl::OkStatus());
  }
}

}  // namespace plantrail::replication
