// Automatic failover on etcd (docs/replication.md): who leads is decided by
// a key held under an etcd lease, never by a protocol of our own. The leader
// keeps its lease alive and fences its acknowledgements by it; a replica
// watches the key, and when it vanishes (the leader died or was cut off)
// and the replica was caught up, it campaigns; the winner is promoted into
// a new term. A server whose role changes any other way (it lost its lease,
// or another server won) asks to be restarted, and comes back in its new
// role (a former leader rejoins, quarantining its unacknowledged tail).
//
// The key's value is the leader's address; "<key>/term" (no lease) holds
// the last term a leader began, so that a server whose log is older cannot
// win at start.
//
// Thread safety: Start/Stop from one thread; the rest from any.
#ifndef PLANTRAIL_SERVICES_LEADER_ELECTION_H_
#define PLANTRAIL_SERVICES_LEADER_ELECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "election/etcd_client.h"
#include "eventstore/event_store.h"

namespace plantrail::services {

struct ElectionOptions {
  // "HOST:PORT[,HOST:PORT...]" of etcd; empty: no election.
  std::string etcd;
  std::string key = "/plantrail/leader";
  absl::Duration ttl = absl::Seconds(5);
  // The address other servers and clients reach this one at; empty: the
  // listen address (which must then name a host and a port, not 0).
  std::string advertise;
};

// What the election decided at start.
struct ElectedRole {
  bool lead = false;
  // When not leading: the leader to follow.
  std::string leader;
  // When leading: the lease and the key's create revision (the fence).
  int64_t lease = 0;
  int64_t revision = 0;
};

class LeaderElection {
 public:
  // What the server does when the election moves it.
  struct Hooks {
    // A replica won: promote it (term, "elected", revision); the term it
    // began, or an error (then it resigns).
    std::function<absl::StatusOr<uint64_t>(int64_t revision)> promote;
    // When this replica last held every append its leader acknowledged
    // (InfinitePast: never).
    std::function<absl::Time()> caught_up_at;
    // The lease is known valid until then (fences acknowledgements).
    std::function<void(absl::Time)> valid_until;
    // This server must stop serving its role and be restarted.
    std::function<void(const std::string& why)> restart;
  };

  static absl::StatusOr<std::unique_ptr<LeaderElection>> Create(
      const ElectionOptions& options, std::string address);
  ~LeaderElection();

  // Decides the role at start: follow the key's holder, or campaign when
  // nobody holds it and this log (`last_term`) is not older than the last
  // term begun. Waits (up to about 10 TTLs) while the key is held by this
  // address's previous run or no eligible server has won yet.
  absl::StatusOr<ElectedRole> Decide(uint64_t last_term);

  // Records the term this server began as leader ("<key>/term").
  absl::Status RecordTerm(uint64_t term);

  // Keeps the role up: the leader's lease alive, or the replica's watch.
  void Start(ElectedRole role, Hooks hooks);
  // Stops the thread; a leader gives its key up so a replica wins at once.
  void Stop();

 private:
  LeaderElection(const ElectionOptions& options, std::string address,
                 std::vector<election::EtcdEndpoint> endpoints);
  void Run();
  // One round as leader: false once the lease is lost.
  bool KeepLeading();
  // One round as replica: false once it must restart.
  bool KeepFollowing();
  // Blocks for `duration` or until Stop(); false when stopping.
  bool Sleep(absl::Duration duration);

  const ElectionOptions options_;
  const std::string address_;
  election::EtcdClient etcd_;
  Hooks hooks_;
  ElectedRole role_;

  Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_LEADER_ELECTION_H_
