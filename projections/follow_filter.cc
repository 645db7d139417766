#include "projections/follow_filter.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "domain/streams.h"
#include "projections/stream_fold.h"

namespace plantrail::projections {
namespace {

// More plans than one server holds; ListStreams wants a bound.
constexpr size_t kMaxPlans = 100000;

bool Sorted(const std::vector<std::string>& entries,
            const std::string& wanted) {
  return std::binary_search(entries.begin(), entries.end(), wanted);
}

}  // namespace

absl::StatusOr<std::string> HolderOfUnplanned(
    const eventstore::EventStore& log) {
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::vector<std::string> streams,
      log.ListStreams(domain::kPlanStreamPrefix, kMaxPlans));
  for (absl::string_view stream : streams) {
    absl::ConsumePrefix(&stream, domain::kPlanStreamPrefix);
    PLANTRAIL_ASSIGN_OR_RETURN(stored::PlanState plan, FoldPlan(log, stream));
    if (plan.holds_unplanned()) return plan.plan_id();
  }
  return std::string();
}

FollowMatcher::FollowMatcher(const eventstore::EventStore* log,
                             FollowFilter filter)
    : log_(log), filter_(std::move(filter)) {
  std::sort(filter_.event_types.begin(), filter_.event_types.end());
  std::sort(filter_.support_areas.begin(), filter_.support_areas.end());
  std::sort(filter_.plans.begin(), filter_.plans.end());
  std::sort(filter_.excluded_streams.begin(), filter_.excluded_streams.end());
}

absl::StatusOr<bool> FollowMatcher::Matches(
    const eventstore::RecordedEvent& event) {
  Follow(event);
  if (filter_.empty()) return true;
  const bool stream =
      filter_.stream_prefixes.empty() ||
      std::any_of(filter_.stream_prefixes.begin(),
                  filter_.stream_prefixes.end(),
                  [&](const std::string& prefix) {
                    return absl::StartsWith(event.stream_id, prefix);
                  });
  const bool type =
      filter_.event_types.empty() || Sorted(filter_.event_types, event.type);
  if (!stream || !type) return false;
  if (Sorted(filter_.excluded_streams, event.stream_id)) return false;
  if (!filter_.plans.empty()) {
    PLANTRAIL_ASSIGN_OR_RETURN(bool in_plans, InPlans(event));
    if (!in_plans) return false;
  }
  if (filter_.support_areas.empty()) return true;
  return InSupportAreas(event);
}

absl::StatusOr<std::string> FollowMatcher::SupportAreaOf(
    const std::string& area_id, const eventstore::RecordedEvent& event,
    const stored::PlanEvent* plan_event) {
  if (plan_event != nullptr) {
    if (plan_event->has_area_registered()) {
      return support_areas_[area_id] =
                 plan_event->area_registered().support_area();
    }
    if (plan_event->area_details_revised().after().has_support_area()) {
      return support_areas_[area_id] =
                 plan_event->area_details_revised().after().support_area();
    }
  }
  auto it = support_areas_.find(area_id);
  if (it != support_areas_.end()) return it->second;
  const uint64_t up_to = event.position;
  PLANTRAIL_ASSIGN_OR_RETURN(
      stored::AreaState area,
      FoldArea(*log_, area_id, [up_to](const PlanEventRecord& r) {
        return r.context.position <= up_to;
      }));
  return support_areas_[area_id] = area.support_area();
}

absl::StatusOr<bool> FollowMatcher::InSupportAreas(
    const eventstore::RecordedEvent& event) {
  absl::string_view stream = event.stream_id;
  const bool area = absl::ConsumePrefix(&stream, domain::kAreaStreamPrefix);
  if (!area && !absl::StartsWith(stream, domain::kDecisionStreamPrefix)) {
    return false;
  }
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<PlanEventRecord> record,
                             DecodePlanEvent(event));
  if (!record) return false;
  if (area) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        std::string support_area,
        SupportAreaOf(std::string(stream), event, &record->event));
    return Sorted(filter_.support_areas, support_area);
  }
  // A decision's areas are of its own plan, and of the other plans it
  // names.
  const std::string stream_plan =
      domain::ParseStreamName(event.stream_id).stream_plan;
  for (const std::string& area_id :
       record->event.decision_recorded().area_ids()) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        std::string support_area,
        SupportAreaOf(domain::QualifiedId(stream_plan, area_id), event,
                      nullptr));
    if (Sorted(filter_.support_areas, support_area)) return true;
  }
  for (const stored::AreaRef& other :
       record->event.decision_recorded().other_plan_areas()) {
    if (!holder_) {
      PLANTRAIL_ASSIGN_OR_RETURN(holder_, HolderOfUnplanned(*log_));
    }
    PLANTRAIL_ASSIGN_OR_RETURN(
        std::string support_area,
        SupportAreaOf(domain::QualifiedId(
                          *holder_ == other.plan_id() ? "" : other.plan_id(),
                          other.area_id()),
                      event, nullptr));
    if (Sorted(filter_.support_areas, support_area)) return true;
  }
  return false;
}

absl::StatusOr<std::string> FollowMatcher::PlanOf(
    const eventstore::RecordedEvent& event) {
  const domain::PlanStreamName name = domain::ParseStreamName(event.stream_id);
  std::string plan_id;
  switch (name.kind) {
    case domain::PlanStreamName::Kind::kNone:
      return std::string();
    case domain::PlanStreamName::Kind::kPlan:
      plan_id = name.id;
      break;
    default:
      plan_id = name.stream_plan;
      break;
  }
  if (plan_id.empty()) {
    // An unplanned name: the plan that holds those, found once and then
    // followed through the events offered.
    if (!holder_) {
      PLANTRAIL_ASSIGN_OR_RETURN(holder_, HolderOfUnplanned(*log_));
    }
    plan_id = *holder_;
  }
  return plan_id;
}

void FollowMatcher::Follow(const eventstore::RecordedEvent& event) {
  // Every event passes here, matched or not: the holder a later event
  // needs may be registered by one the filter leaves out.
  if (event.type != stored::PlanRegistered::descriptor()->name()) return;
  stored::PlanRegistered registered;
  if (registered.ParseFromString(event.payload) &&
      registered.holds_unplanned()) {
    holder_ = registered.plan_id();
  }
}

absl::StatusOr<bool> FollowMatcher::InPlans(
    const eventstore::RecordedEvent& event) {
  PLANTRAIL_ASSIGN_OR_RETURN(std::string plan_id, PlanOf(event));
  return !plan_id.empty() && Sorted(filter_.plans, plan_id);
}

}  // namespace plantrail::projections
