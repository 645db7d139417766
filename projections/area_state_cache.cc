#include "projections/area_state_cache.h"

#include "common/status_macros.h"
#include "domain/streams.h"
#include "projections/stream_fold.h"

namespace plantrail::projections {

absl::StatusOr<stored::AreaState> AreaStateCache::Fold(
    const eventstore::EventStore& log, absl::string_view area_id) {
  std::optional<stored::AreaState> cached;
  uint64_t epoch;
  {
    MutexLock lock(&mu_);
    epoch = forgotten_;
    auto it = entries_.find(area_id);
    if (it != entries_.end()) {
      cached = it->second.state;
      recency_.splice(recency_.begin(), recency_, it->second.recency);
    }
  }
  // A log that no longer reaches the cached version (a restore, a test that
  // swaps stores) is folded from the start.
  if (cached.has_value()) {
    PLANTRAIL_ASSIGN_OR_RETURN(uint64_t version,
                               log.StreamVersion(domain::AreaStream(area_id)));
    if (version < cached->version()) cached.reset();
  }
  stored::AreaState state;
  if (cached.has_value()) {
    PLANTRAIL_ASSIGN_OR_RETURN(state,
                               FoldAreaAfter(log, area_id, *std::move(cached)));
  } else {
    PLANTRAIL_ASSIGN_OR_RETURN(state, FoldArea(log, area_id));
  }
  if (state.version() == 0) return state;  // nothing to remember
  MutexLock lock(&mu_);
  // A Forget() while this fold read the log may have been for payloads it
  // read before their redaction: keep nothing then.
  if (forgotten_ != epoch) return state;
  auto it = entries_.find(area_id);
  if (it != entries_.end()) {
    if (it->second.state.version() < state.version()) it->second.state = state;
    return state;
  }
  recency_.emplace_front(area_id);
  entries_.emplace(std::string(area_id),
                   Entry{.state = state, .recency = recency_.begin()});
  while (entries_.size() > capacity_) {
    entries_.erase(recency_.back());
    recency_.pop_back();
  }
  return state;
}

void AreaStateCache::Forget(absl::string_view area_id) {
  MutexLock lock(&mu_);
  ++forgotten_;
  auto it = entries_.find(area_id);
  if (it == entries_.end()) return;
  recency_.erase(it->second.recency);
  entries_.erase(it);
}

}  // namespace plantrail::projections
