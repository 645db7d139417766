// When each area's events happened, by both clocks: the index GetChanges
// reads to find the areas a window touched, so that it folds those streams
// and no others.
//
// Keys: "r" + day + position -> the area's qualified id, by the day the
// event was recorded (UTC); "b" + day + position -> the same, by its
// business day (stream_fold.h's BusinessDay). A day is its number of days
// since 1970-01-01 as a big-endian u64 with the sign bit flipped (so that
// keys sort by day, before 1970 too), a position a big-endian u64. Only
// events of area streams are indexed; every one of them is, an unknown type
// included (it still makes a version).
//
// And the area after each of its events, "s" + qualified id + "\0" +
// position -> AreaStep (an AreaState without its free text and units), from
// a working state "w" + qualified id -> AreaState. Recorded times never go
// backwards (the log's invariant), so the events recorded before a day are
// a prefix of the log: an area's state then is its last step before that
// prefix ends, one seek, however long its stream.
#ifndef PLANTRAIL_PROJECTIONS_CHANGES_PROJECTION_H_
#define PLANTRAIL_PROJECTIONS_CHANGES_PROJECTION_H_

#include <cstdint>
#include <string>

#include "absl/time/civil_time.h"
#include "plantrail/stored/plan.pb.h"
#include "projections/projection.h"

namespace plantrail::projections {

enum class ChangeClock { kRecorded, kBusiness };

// The index of one clock, and the key of one event in it (position 0: the
// first key of that day).
std::string ChangeIndexPrefix(ChangeClock clock);
std::string ChangeIndexKey(ChangeClock clock, absl::CivilDay day,
                           uint64_t position);

// The key of an area's step after the event at `position`.
std::string AreaStepKey(absl::string_view qualified_id, uint64_t position);
std::string AreaStepPrefix(absl::string_view qualified_id);

// What a step keeps of an area's state: all that a comparison of two
// states (domain/area_changes.h) and a change's description read; not the
// rationale, desired effect, units or outcome text.
stored::AreaState AreaStep(const stored::AreaState& state);

class ChangesProjection final : public Projection {
 public:
  static constexpr char kName[] = "changes";
  std::string name() const override { return kName; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     StateWriter& state) override;
};

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_CHANGES_PROJECTION_H_
