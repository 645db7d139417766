// The latest folded state of recently used areas, so that deciding a command
// folds only the events since the area's previous command instead of its
// whole stream (an area reported on weekly for years has thousands).
//
// Only areas are cached, and only their latest state; time travel folds
// from the start. A redaction changes stored payloads under a cached state:
// Forget() drops the area so it is folded from the start again. Areas are
// named by their qualified id (see stream_fold.h).
//
// Thread safety: all methods may be called concurrently. Folding happens
// outside the lock; of two folds of one area the newer state is kept.
#ifndef PLANTRAIL_PROJECTIONS_AREA_STATE_CACHE_H_
#define PLANTRAIL_PROJECTIONS_AREA_STATE_CACHE_H_

#include <list>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/sync.h"
#include "eventstore/event_store.h"
#include "plantrail/stored/plan.pb.h"

namespace plantrail::projections {

class AreaStateCache {
 public:
  // Holds at most `capacity` areas; the least recently used go first.
  explicit AreaStateCache(size_t capacity = 10000) : capacity_(capacity) {}

  // The area's state as `log` holds it now (version 0: not registered).
  absl::StatusOr<stored::AreaState> Fold(const eventstore::EventStore& log,
                                         absl::string_view qualified_id);
  void Forget(absl::string_view qualified_id);

 private:
  struct Entry {
    stored::AreaState state;
    std::list<std::string>::iterator recency;
  };

  const size_t capacity_;
  Mutex mu_;
  // Most recently used first.
  std::list<std::string> recency_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Counts Forget() calls, so a fold that overlapped one keeps nothing.
  uint64_t forgotten_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_AREA_STATE_CACHE_H_
