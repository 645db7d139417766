// A former leader rejoining its successor as a replica (docs/replication.md).
// Its log may hold records after the point where the successor's history
// began: written in an older term and acknowledged to nobody (with
// synchronous replicas, an acknowledged append is on the successor). Those
// records are moved aside into a quarantine file, kept for audit, never
// silently dropped; then the log is cut back to where the two agree, and
// the server follows its successor from there.
//
// Only when it is safe: the logs share a history (they agree at position 1
// at least) and the leader's term is newer than the last term this log
// holds. Otherwise nothing is touched, and the follower refuses to follow
// (a different cluster, or a log of the same term: an operator decides).
#ifndef PLANTRAIL_REPLICATION_REJOIN_H_
#define PLANTRAIL_REPLICATION_REJOIN_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "eventstore/event_store.h"
#include "grpcpp/security/credentials.h"

namespace plantrail::replication {

struct LeaderConnection {
  // host:port, credentials and bearer token, as the follower's.
  std::string leader;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string token;
  // Each call's deadline.
  absl::Duration timeout = absl::Seconds(5);
};

// Where this log and the leader's part.
struct Fork {
  // Whether this log is a prefix of the leader's (nothing to do).
  bool agrees = true;
  // The last position both hold alike (when !agrees).
  uint64_t position = 0;
  uint64_t head = 0;
  uint64_t term = 0;
  uint64_t leader_head = 0;
  uint64_t leader_term = 0;
  // Whether the records after `position` may be quarantined (see above),
  // and if not, why.
  bool quarantine = false;
  std::string refusal;
};

// Asks the leader (GetChainHashes: O(log n) calls) where the logs part.
// UNAVAILABLE when it cannot be reached.
absl::StatusOr<Fork> FindFork(const eventstore::EventStore& log,
                              const LeaderConnection& leader);

// Writes the records after `fork.position` (as stored, and decoded for a
// reader) to a new file in `directory` (created 0700), synced; its path.
// One JSON object a line: a header, then one per record.
absl::StatusOr<std::string> WriteQuarantine(const eventstore::EventStore& log,
                                            const Fork& fork,
                                            const std::string& leader,
                                            const std::string& directory);

struct QuarantineSummary {
  std::string path;
  uint64_t after_position = 0;
  uint64_t records = 0;
  uint64_t term = 0;
  std::string leader;
  uint64_t leader_term = 0;
  absl::Time written_at;
};
// The quarantine files in `directory` (none when it does not exist), from
// their header lines, oldest first.
std::vector<QuarantineSummary> ListQuarantine(const std::string& directory);

}  // namespace plantrail::replication

#endif  // PLANTRAIL_REPLICATION_REJOIN_H_
