// The current state of every plan, area and decision.
//
// Keys: "p/<plan_id>" -> PlanState, "a/<qualified area id>" -> AreaState,
// "d/<qualified decision id>" -> DecisionState, where a qualified id is the
// stream id after "area-" or "decision-" (domain/streams.h): the area "3.1"
// of plan "kth" is "a/kth:3.1", an unplanned area "a/3.1".
#ifndef PLANTRAIL_PROJECTIONS_AREA_STATE_PROJECTION_H_
#define PLANTRAIL_PROJECTIONS_AREA_STATE_PROJECTION_H_

#include <string>

#include "projections/projection.h"

namespace plantrail::projections {

inline constexpr char kAreaKeyPrefix[] = "a/";
inline constexpr char kDecisionKeyPrefix[] = "d/";
inline constexpr char kPlanKeyPrefix[] = "p/";

std::string AreaKey(absl::string_view qualified_id);
std::string DecisionKey(absl::string_view qualified_id);
std::string PlanKey(absl::string_view plan_id);

class AreaStateProjection final : public Projection {
 public:
  static constexpr char kName[] = "area_state";
  std::string name() const override { return kName; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     StateWriter& state) override;
};

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_AREA_STATE_PROJECTION_H_
