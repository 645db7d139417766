// The audit history of every area: one entry per event of the area's stream
// and per decision that concerns it, with the fields that changed (before
// and after), the actor, the reason and the decision cited.
//
// Keys: "h/<area_id>\0<position:u64 BE>" -> HistoryEntry, so an area's
// history reads in order, page by page, however long it is;
// "s/<area_id>" -> AreaState, the working state that changes are computed
// against.
#ifndef PLANTRAIL_PROJECTIONS_HISTORY_PROJECTION_H_
#define PLANTRAIL_PROJECTIONS_HISTORY_PROJECTION_H_

#include <string>

#include "absl/time/time.h"
#include "plantrail/stored/history.pb.h"
#include "plantrail/stored/plan.pb.h"
#include "projections/projection.h"

namespace plantrail::projections {

// The key prefix of an area's history, and the key of one entry.
std::string HistoryPrefix(absl::string_view area_id);
std::string HistoryKey(absl::string_view area_id, uint64_t position);

// The fields of AreaState a reader of the history cares about, before and
// after, as people read them ("HT23", "at risk").
std::vector<stored::FieldChange> ChangedFields(const stored::AreaState& before,
                                               const stored::AreaState& after);

// Apply() is called from one thread at a time (the runner's): it keeps
// scratch state from event to event.
class HistoryProjection final : public Projection {
 public:
  static constexpr char kName[] = "history";
  std::string name() const override { return kName; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     StateWriter& state) override;

 private:
  // The day (UTC) an event recorded at `time` was recorded, as entries
  // show it; worked out again only when the day changes.
  const stored::PlanDate& RecordedDayOf(absl::Time time);

  // An area's tracked fields before its event (reused, so that copying
  // them allocates nothing once warm), and an entry's bytes.
  stored::AreaState before_;
  std::string bytes_;
  absl::Time day_begins_ = absl::InfiniteFuture();
  absl::Time day_ends_ = absl::InfinitePast();
  stored::PlanDate day_;
};

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_HISTORY_PROJECTION_H_
