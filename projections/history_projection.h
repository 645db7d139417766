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

#include "plantrail/stored/history.pb.h"
#include "projections/projection.h"

namespace plantrail::projections {

// The key prefix of an area's history, and the key of one entry.
std::string HistoryPrefix(absl::string_view area_id);
std::string HistoryKey(absl::string_view area_id, uint64_t position);

// The fields of AreaState a reader of the history cares about, before and
// after, as people read them ("HT23", "at risk").
std::vector<stored::FieldChange> ChangedFields(const stored::AreaState& before,
                                               const stored::AreaState& after);

class HistoryProjection final : public Projection {
 public:
  static constexpr char kName[] = "history";
  std::string name() const override { return kName; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     StateWriter& state) override;
};

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_HISTORY_PROJECTION_H_
