// The current state of every area and every decision.
//
// Keys: "a/<area_id>" -> AreaState, "d/<decision_id>" -> DecisionState.
#ifndef PLANTRAIL_PROJECTIONS_AREA_STATE_PROJECTION_H_
#define PLANTRAIL_PROJECTIONS_AREA_STATE_PROJECTION_H_

#include <string>

#include "projections/projection.h"

namespace plantrail::projections {

inline constexpr char kAreaKeyPrefix[] = "a/";
inline constexpr char kDecisionKeyPrefix[] = "d/";

std::string AreaKey(absl::string_view area_id);
std::string DecisionKey(absl::string_view decision_id);

class AreaStateProjection final : public Projection {
 public:
  static constexpr char kName[] = "area_state";
  std::string name() const override { return kName; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     StateWriter& state) override;
};

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_AREA_STATE_PROJECTION_H_
