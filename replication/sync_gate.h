// Synchronous replication's half on the leader (docs/replication.md): an
// EventStore::AcknowledgementGate that holds each append's answer until N
// replicas say their logs are durable at or past its last position. One
// replication round trip covers a whole commit group, since a replica
// acknowledges the highest position it made durable.
//
// When fewer than N replicas keep up, a held append waits `timeout`, then
// fails with UNAVAILABLE (it is in the leader's log, and a retry with the
// same event ids or command id is answered as a replay once replicated);
// or, only where the operator chose it (fallback_async), it is acknowledged
// and the gate runs asynchronously until N replicas have caught up again,
// saying so in the log and in Stats().
//
// Thread safety: every method may be called from any thread. Releases run
// outside the gate's lock, on the thread that called Durable(), Hold() or
// on the gate's timer thread.
#ifndef PLANTRAIL_REPLICATION_SYNC_GATE_H_
#define PLANTRAIL_REPLICATION_SYNC_GATE_H_

#include <cstdint>
#include <map>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "eventstore/event_store.h"

namespace plantrail::replication {

struct SyncOptions {
  // Replicas that must hold an append durably before it is acknowledged.
  int replicas = 1;
  absl::Duration timeout = absl::Seconds(10);
  bool fallback_async = false;
};

class SyncGate final : public eventstore::AcknowledgementGate {
 public:
  explicit SyncGate(SyncOptions options);
  // Fails whatever is still held (UNAVAILABLE: shutting down).
  ~SyncGate() override;
  SyncGate(const SyncGate&) = delete;
  SyncGate& operator=(const SyncGate&) = delete;

  void Hold(uint64_t position,
            absl::AnyInvocable<void(absl::Status) &&> release) override;

  // What a replica's stream (`replica`: any id unique among the streams)
  // says is durable on its side; Gone() when the stream ends.
  void Durable(uint64_t replica, uint64_t position);
  void Gone(uint64_t replica);

  struct Stats {
    int required = 0;
    // Replicas connected now, and the position N of them hold durably.
    int connected = 0;
    uint64_t synced_position = 0;
    uint64_t waiting = 0;
    uint64_t acknowledged = 0;
    uint64_t timed_out = 0;
    // Acknowledged without N replicas (fallback_async only), and whether
    // the gate runs asynchronously now.
    uint64_t acknowledged_async = 0;
    bool asynchronous = false;
  };
  Stats GetStats() const;

 private:
  struct Held {
    uint64_t position;
    absl::Time deadline;
    absl::AnyInvocable<void(absl::Status) &&> release;
  };
  using Releases = std::vector<absl::AnyInvocable<void(absl::Status) &&>>;

  // The position `required` replicas hold durably (0 when fewer are
  // connected).
  uint64_t SyncedPosition() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes every held append at or below the synced position.
  Releases TakeSynced() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TimerLoop();

  const SyncOptions options_;
  mutable Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::multimap<uint64_t, Held> held_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, uint64_t> durable_ ABSL_GUARDED_BY(mu_);
  bool asynchronous_ ABSL_GUARDED_BY(mu_) = false;
  // The highest position acknowledged asynchronously.
  uint64_t async_high_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t acknowledged_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t timed_out_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t acknowledged_async_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread timer_;
};

}  // namespace plantrail::replication

#endif  // PLANTRAIL_REPLICATION_SYNC_GATE_H_
