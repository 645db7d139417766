#include "replication/sync_gate.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "logging/log.h"

namespace plantrail::replication {
namespace {

// How often the timer looks for expired appends at the latest.
constexpr absl::Duration kTick = absl::Milliseconds(20);

}  // namespace

SyncGate::SyncGate(SyncOptions options) : options_(options) {
  timer_ = std::thread([this] { TimerLoop(); });
}

SyncGate::~SyncGate() {
  std::multimap<uint64_t, Held> left;
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    left = std::move(held_);
  }
  if (timer_.joinable()) timer_.join();
  for (auto& [position, held] : left) {
    std::move(held.release)(absl::UnavailableError(
        "the server is shutting down before a synchronous replica "
        "acknowledged the append; it is in the leader's log: retry it with "
        "the same event ids or command id"));
  }
}

void SyncGate::Hold(uint64_t position,
                    absl::AnyInvocable<void(absl::Status) &&> release) {
  bool now = false;
  {
    MutexLock lock(&mu_);
    if (position <= SyncedPosition()) {
      ++acknowledged_;
      now = true;
    } else if (asynchronous_) {
      ++acknowledged_async_;
      async_high_ = std::max(async_high_, position);
      now = true;
    } else {
      held_.emplace(position, Held{.position = position,
                                   .deadline = absl::Now() + options_.timeout,
                                   .release = std::move(release)});
    }
  }
  if (now) std::move(release)(absl::OkStatus());
}

void SyncGate::Durable(uint64_t replica, uint64_t position) {
  Releases releases;
  {
    MutexLock lock(&mu_);
    uint64_t& durable = durable_[replica];
    durable = std::max(durable, position);
    releases = TakeSynced();
    if (asynchronous_ && SyncedPosition() >= async_high_) {
      // Synchronous again once N replicas hold everything acknowledged
      // without them.
      asynchronous_ = false;
      logging::Info("synchronous replication again",
                    {{"replicas", absl::StrCat(options_.replicas)},
                     {"synced_position", absl::StrCat(SyncedPosition())}});
    }
  }
  for (auto& release : releases) std::move(release)(absl::OkStatus());
}

void SyncGate::Gone(uint64_t replica) {
  MutexLock lock(&mu_);
  durable_.erase(replica);
}

uint64_t SyncGate::SyncedPosition() const {
  if (options_.replicas <= 0) return UINT64_MAX;
  if (static_cast<int>(durable_.size()) < options_.replicas) return 0;
  std::vector<uint64_t> positions;
  positions.reserve(durable_.size());
  for (const auto& [replica, position] : durable_)
    positions.push_back(position);
  std::nth_element(positions.begin(), positions.begin() + options_.replicas - 1,
                   positions.end(), std::greater<>());
  return positions[options_.replicas - 1];
}

SyncGate::Releases SyncGate::TakeSynced() {
  Releases releases;
  const uint64_t synced = SyncedPosition();
  for (auto it = held_.begin(); it != held_.end() && it->first <= synced;) {
    releases.push_back(std::move(it->second.release));
    it = held_.erase(it);
    ++acknowledged_;
  }
  return releases;
}

void SyncGate::TimerLoop() {
  for (;;) {
    Releases timed_out;
    bool fallback = false;
    {
      MutexLock lock(&mu_);
      mu_.AwaitWithDeadline(
          [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; },
          absl::Now() + kTick);
      if (stopping_) return;
      const absl::Time now = absl::Now();
      const bool expired = std::any_of(
          held_.begin(), held_.end(),
          [now](const auto& held) { return held.second.deadline <= now; });
      // With the fallback, one expired append takes everything held with
      // it: the gate runs asynchronously from here.
      fallback = expired && options_.fallback_async;
      for (auto it = held_.begin(); it != held_.end();) {
        if (!fallback && it->second.deadline > now) {
          ++it;
          continue;
        }
        if (fallback) {
          ++acknowledged_async_;
          async_high_ = std::max(async_high_, it->first);
        } else {
          ++timed_out_;
        }
        timed_out.push_back(std::move(it->second.release));
        it = held_.erase(it);
      }
      if (fallback && !asynchronous_) {
        asynchronous_ = true;
        logging::Warning(
            "synchronous replication falls back to asynchronous: fewer "
            "replicas than required acknowledged in time; acknowledged "
            "appends may be lost with the leader's disk until they catch up",
            {{"replicas", absl::StrCat(options_.replicas)},
             {"connected", absl::StrCat(durable_.size())},
             {"timeout_seconds",
              absl::StrFormat("%g", absl::ToDoubleSeconds(options_.timeout))}});
      }
    }
    const absl::Status status =
        fallback ? absl::OkStatus()
                 : absl::UnavailableError(absl::StrCat(
                       "not acknowledged by ", options_.replicas,
                       " synchronous replica(s) within ",
                       absl::FormatDuration(options_.timeout),
                       "; the append is in the leader's log but may not "
                       "survive the loss of its disk: retry it with the same "
                       "event ids or command id [rule: sync-replicas]"));
    for (auto& release : timed_out) std::move(release)(status);
  }
}

SyncGate::Stats SyncGate::GetStats() const {
  MutexLock lock(&mu_);
  const uint64_t synced = SyncedPosition();
  return Stats{.required = options_.replicas,
               .connected = static_cast<int>(durable_.size()),
               .synced_position = synced == UINT64_MAX ? 0 : synced,
               .waiting = held_.size(),
               .acknowledged = acknowledged_,
               .timed_out = timed_out_,
               .acknowledged_async = acknowledged_async_,
               .asynchronous = asynchronous_};
}

}  // namespace plantrail::replication
