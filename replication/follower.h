// The replica's half of replication (docs/replication.md): a thread that
// follows a leader's Replication.Follow stream and writes what it receives
// into this server's log with EventStore::AppendStored, which recomputes
// every hash before anything is written. After each durable batch it tells
// the leader how far this log is durable.
//
// A connection that fails is tried again with backoff, from this log's own
// head (never a full copy). A record the log refuses (one that does not
// chain, say) or a leader that says the logs forked stops the follower for
// good: it says where and why in Status(), and an operator acts. Nothing
// this log holds is ever overwritten or dropped by following.
//
// Depends on the event store and the generated gRPC stubs only.
//
// Thread safety: every method may be called from any thread.
#ifndef PLANTRAIL_REPLICATION_FOLLOWER_H_
#define PLANTRAIL_REPLICATION_FOLLOWER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "eventstore/event_store.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"

namespace plantrail::replication {

struct FollowerOptions {
  // host:port of the leader.
  std::string leader;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Sent as "authorization: Bearer <token>" when not empty (an admin token
  // of the leader's; under mutual TLS the client certificate may do).
  std::string token;
  // How the leader names this replica.
  std::string replica_name;
  // Backoff between connection attempts.
  absl::Duration first_retry = absl::Milliseconds(200);
  absl::Duration longest_retry = absl::Seconds(5);
  // Called on the follower's thread after each batch is durable, with the
  // first and last positions written and whether a record rewrote an
  // earlier one (a redaction). Must not block for long: the next batch
  // waits for it.
  std::function<void(uint64_t first, uint64_t last, bool rewrote)> on_applied;
};

struct FollowerStatus {
  enum class State { kConnecting, kFollowing, kStopped };
  State state = State::kConnecting;
  // Why it is connecting again, or why it stopped (naming the position).
  std::string problem;
  // The leader's head as last heard, and when its record was recorded.
  uint64_t leader_head = 0;
  absl::Time leader_head_recorded_at = absl::UnixEpoch();
  // This log's head, and when its record was recorded.
  uint64_t head = 0;
  absl::Time head_recorded_at = absl::UnixEpoch();
  uint64_t records_received = 0;
  uint64_t connections = 0;
  // When the leader was last heard (a message on the stream), and when
  // this log last held everything the leader said it had.
  absl::Time last_heard = absl::InfinitePast();
  absl::Time last_caught_up = absl::InfinitePast();
  // The lag, in events and in seconds of the leader's record times.
  uint64_t lag_events() const {
    return leader_head > head ? leader_head - head : 0;
  }
  double lag_seconds() const {
    if (lag_events() == 0) return 0;
    return std::max(
        0.0, absl::ToDoubleSeconds(leader_head_recorded_at - head_recorded_at));
  }
};

class Follower {
 public:
  // Starts following; `log` must outlive the follower.
  static std::unique_ptr<Follower> Start(eventstore::EventStore* log,
                                         FollowerOptions options);
  // Stop()s.
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Ends the stream and the thread; returns once the thread is gone. The
  // batch being written is finished (or refused) first.
  void Stop();

  FollowerStatus Status() const;

 private:
  Follower(eventstore::EventStore* log, FollowerOptions options);
  void Run();
  // One connection, from this log's head to the stream's end; false when
  // the follower must stop for good.
  bool FollowOnce();
  void SetState(FollowerStatus::State state, std::string problem);

  eventstore::EventStore* const log_;
  const FollowerOptions options_;

  mutable Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  FollowerStatus status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace plantrail::replication

#endif  // PLANTRAIL_REPLICATION_FOLLOWER_H_
