// Which events of the log a follower asked for: stream prefixes, event
// types, plans and support areas, as a subscription's filter and a webhook
// endpoint's name them. Plans and support areas are the plan's structure as
// of each event (an area moved to another support area matches by where it
// was when the event was recorded), followed through the events matched in
// log order and folded from the area's stream the first time one is met.
//
// Thread safety: an FollowMatcher is used by one thread at a time (it keeps
// what it learned of the structure); the log must outlive it.
#ifndef PLANTRAIL_PROJECTIONS_FOLLOW_FILTER_H_
#define PLANTRAIL_PROJECTIONS_FOLLOW_FILTER_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eventstore/event_store.h"
#include "plantrail/stored/plan_events.pb.h"

namespace plantrail::projections {

// Events matching every kind that is not empty match; an empty filter
// matches all.
struct FollowFilter {
  // Any may prefix the stream id.
  std::vector<std::string> stream_prefixes;
  // Any may be the event's type.
  std::vector<std::string> event_types;
  // Events of areas in any of them, and decisions naming such an area.
  std::vector<std::string> support_areas;
  // The events of these plans (the plan's stream, its areas and decisions;
  // areas recorded without a plan count as the plan that holds them).
  std::vector<std::string> plans;
  // Streams never matched whatever else matches (a reader who may not see
  // the security stream, say).
  std::vector<std::string> excluded_streams;

  bool empty() const {
    return stream_prefixes.empty() && event_types.empty() &&
           support_areas.empty() && plans.empty() && excluded_streams.empty();
  }
};

// The plan that holds the areas recorded without a plan; empty while none
// does.
absl::StatusOr<std::string> HolderOfUnplanned(
    const eventstore::EventStore& log);

class FollowMatcher {
 public:
  FollowMatcher(const eventstore::EventStore* log, FollowFilter filter);

  const FollowFilter& filter() const { return filter_; }

  // Whether `event` matches. Events must be offered in log order (what was
  // learned of the structure is as of the last event offered); an error is
  // the log's (reading an area's stream).
  absl::StatusOr<bool> Matches(const eventstore::RecordedEvent& event);

  // The plan `event` belongs to (empty for a stream outside the plan
  // model), as of the events offered to Matches before it.
  absl::StatusOr<std::string> PlanOf(const eventstore::RecordedEvent& event);

 private:
  // Learns from `event` what later events need (the holder of the
  // unplanned areas).
  void Follow(const eventstore::RecordedEvent& event);
  absl::StatusOr<bool> InPlans(const eventstore::RecordedEvent& event);
  absl::StatusOr<bool> InSupportAreas(const eventstore::RecordedEvent& event);
  absl::StatusOr<std::string> SupportAreaOf(
      const std::string& area_id, const eventstore::RecordedEvent& event,
      const stored::PlanEvent* plan_event);

  const eventstore::EventStore* const log_;
  // Sorted where looked up by binary search.
  FollowFilter filter_;
  // Area id -> its support area as of the last event offered.
  std::map<std::string, std::string> support_areas_;
  // The plan that holds the unplanned areas, once looked up (empty: none).
  std::optional<std::string> holder_;
};

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_FOLLOW_FILTER_H_
