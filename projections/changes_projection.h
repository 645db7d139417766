// When each area's events happened, by both clocks: what GetChanges reads
// to find each area's state at the two ends of a window without folding
// its stream.
//
// Keys: "r" + day + position -> the area's qualified id, by the day the
// event was recorded (UTC). A day is its number of days since 1970-01-01 as
// a big-endian u64 with the sign bit flipped (so that keys sort by day,
// before 1970 too), a position a big-endian u64. Only events of area streams
// are indexed; every one of them is, an unknown type included (it still
// makes a version).
//
// And the area after each of its events, "s" + qualified id + "\0" +
// position -> AreaStep (an AreaState without its free text and units), from
// a working state "w" + qualified id -> AreaState. Recorded times never go
// backwards (the log's invariant), so the events recorded before a day are
// a prefix of the log: an area's state then is its last step before that
// prefix ends, one seek, however long its stream.
//
// The business clock (stream_fold.h's BusinessDay) has no such invariant (a
// report may speak for any day), but an area's events usually come in the
// order of their business days, and then the events of a business day or
// earlier are a prefix of its stream too. So per area: "d" + qualified id +
// "\0" + business day + position (empty value), and "x" + qualified id ->
// the business day of its last event (a google.protobuf.UInt64Value;
// kOutOfOrder once an event spoke for an earlier day than the one before
// it). For an area in order, its state by a business day is the step at its
// last "d" entry up to that day; an area out of order is folded from its
// stream.
//
// Layout 2 added "d" and "x" and dropped layout 1's index by business day
// ("b" + day + position); a copy of layout 1 (whose areas all read as out
// of order) is folded anew at start.
#ifndef PLANTRAIL_PROJECTIONS_CHANGES_PROJECTION_H_
#define PLANTRAIL_PROJECTIONS_CHANGES_PROJECTION_H_

#include <cstdint>
#include <string>

#include "absl/time/civil_time.h"
#include "plantrail/stored/plan.pb.h"
#include "projections/projection.h"
#include "projections/stream_fold.h"

namespace plantrail::projections {

enum class ChangeClock { kRecorded, kBusiness };

// The index by recorded day, and the key of one event in it (position 0:
// the first key of that day).
std::string RecordedIndexPrefix();
std::string RecordedIndexKey(absl::CivilDay day, uint64_t position);

// An area's business-day entry (position 0: the first key of that day),
// and the key of its last business day.
std::string AreaDayKey(absl::string_view qualified_id, absl::CivilDay day,
                       uint64_t position);
std::string AreaDayPrefix(absl::string_view qualified_id);
std::string AreaLastDayKey(absl::string_view qualified_id);
// The value under AreaLastDayKey once the area's events left the order of
// their business days.
inline constexpr uint64_t kOutOfOrder = ~uint64_t{0};

// The key of an area's step after the event at `position`.
std::string AreaStepKey(absl::string_view qualified_id, uint64_t position);
std::string AreaStepPrefix(absl::string_view qualified_id);

// What a step keeps of an area's state: all that a comparison of two
// states (domain/area_changes.h) and a change's description read; not the
// rationale, desired effect, units or outcome text.
stored::AreaState AreaStep(const stored::AreaState& state);

// Apply() is called from one thread at a time (the runner's): it keeps
// scratch state from event to event.
class ChangesProjection final : public Projection {
 public:
  static constexpr char kName[] = "changes";
  std::string name() const override { return kName; }
  uint32_t layout() const override { return 2; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     StateWriter& state) override;

 private:
  // Swaps the fields AreaStep leaves out with aside_: once to serialize a
  // step of `state` in place, once more to put them back.
  void StepAside(stored::AreaState& state);

  DayMemo days_;
  struct Aside {
    std::string rationale;
    std::string desired_effect;
    google::protobuf::RepeatedPtrField<std::string> participating_units;
    google::protobuf::RepeatedPtrField<std::string> responsible_units;
    std::string outcome_text;
  };
  Aside aside_;
  std::string bytes_;
};

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_CHANGES_PROJECTION_H_
