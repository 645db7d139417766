// Fencing a leader by its election lease (docs/replication.md): an append
// is acknowledged only while the lease that made this server the leader is
// known to be valid. A leader paused past its lease (SIGSTOP, a long GC-like
// stall, a partition) acknowledges nothing when it resumes, even before it
// learns it lost: by then another server may lead a newer term.
//
// Thread safety: every method may be called from any thread.
#ifndef PLANTRAIL_REPLICATION_LEASE_FENCE_H_
#define PLANTRAIL_REPLICATION_LEASE_FENCE_H_

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"
#include "eventstore/event_store.h"

namespace plantrail::replication {

class LeaseFence final : public eventstore::AcknowledgementGate {
 public:
  // `inner` (may be null) is asked first (synchronous replicas); it must
  // outlive the fence.
  explicit LeaseFence(eventstore::AcknowledgementGate* inner) : inner_(inner) {}

  // The lease is known valid until `until` (a keep-alive's answer, less a
  // margin). Never moves back.
  void ValidUntil(absl::Time until);
  // Acknowledges nothing from now on (the lease is lost).
  void Close();

  void Hold(uint64_t position,
            absl::AnyInvocable<void(absl::Status) &&> release) override;

 private:
  absl::Status Check() const;

  eventstore::AcknowledgementGate* const inner_;
  std::atomic<int64_t> valid_until_us_{0};
};

}  // namespace plantrail::replication

#endif  // PLANTRAIL_REPLICATION_LEASE_FENCE_H_
