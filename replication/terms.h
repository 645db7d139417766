// Leadership terms (docs/replication.md): each leadership is a numbered term,
// recorded in the log as a LeaderTermBegan event of the system stream
// plantrail-leadership, so every node that holds the log knows the term its
// records were written in. A log without such an event (one written before
// replication) is in term 0.
#ifndef PLANTRAIL_REPLICATION_TERMS_H_
#define PLANTRAIL_REPLICATION_TERMS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "eventstore/event_store.h"
#include "plantrail/stored/system_events.pb.h"

namespace plantrail::replication {

inline constexpr char kLeadershipStream[] = "plantrail-leadership";

struct Term {
  // 0: no term recorded.
  uint64_t term = 0;
  // Where its LeaderTermBegan is, and the stream's version there.
  uint64_t position = 0;
  uint64_t version = 0;
  stored::LeaderTermBegan event;
};

// The last term `log` holds; DATA_LOSS when its event does not parse.
absl::StatusOr<Term> LastTerm(const eventstore::EventStore& log);

}  // namespace plantrail::replication

#endif  // PLANTRAIL_REPLICATION_TERMS_H_
