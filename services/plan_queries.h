// Answers plan queries from the projections, and time travel by folding an
// area's stream up to the point asked for. Knows nothing of gRPC; waiting
// for min_position is the caller's (see PlanQueryService).
//
// Thread safety: all methods may be called concurrently. The log and the
// runners must outlive this object.
#ifndef PLANTRAIL_SERVICES_PLAN_QUERIES_H_
#define PLANTRAIL_SERVICES_PLAN_QUERIES_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "eventstore/event_store.h"
#include "plantrail/stored/plan.pb.h"
#include "plantrail/v1/plan_queries.pb.h"
#include "projections/runner.h"

namespace plantrail::services {

// Every query takes `plans`, the plans its caller may see (a token limited
// to plans); empty: every plan and the areas without one. A plan outside
// them is PERMISSION_DENIED `[rule: plan-scope]` when named, and left out
// of listings across plans.
class PlanQueries {
 public:
  // `changes` (the ChangesProjection's runner) may be null: GetChanges is
  // then FAILED_PRECONDITION.
  PlanQueries(
      const eventstore::EventStore* log, projections::ProjectionRunner* areas,
      projections::ProjectionRunner* history,
      projections::ProjectionRunner* changes,
      std::function<absl::Time()> now = [] { return absl::Now(); });

  absl::StatusOr<v1::ListPlansResponse> ListPlans(
      const v1::ListPlansRequest& request,
      const std::vector<std::string>& plans = {}) const;
  absl::StatusOr<v1::GetPlanResponse> GetPlan(
      const v1::GetPlanRequest& request,
      const std::vector<std::string>& plans = {}) const;
  absl::StatusOr<v1::GetAreaResponse> GetArea(
      const v1::GetAreaRequest& request,
      const std::vector<std::string>& plans = {}) const;
  absl::StatusOr<v1::ListAreasResponse> ListAreas(
      const v1::ListAreasRequest& request,
      const std::vector<std::string>& plans = {}) const;
  absl::StatusOr<v1::GetHistoryResponse> GetHistory(
      const v1::GetHistoryRequest& request,
      const std::vector<std::string>& plans = {}) const;
  absl::StatusOr<v1::ListDecisionsResponse> ListDecisions(
      const v1::ListDecisionsRequest& request,
      const std::vector<std::string>& plans = {}) const;
  // Computed from the area-state projection when asked: a scan of every
  // area, cheap at the sizes plans have (thousands of areas).
  absl::StatusOr<v1::GetPortfolioResponse> GetPortfolio(
      const v1::GetPortfolioRequest& request,
      const std::vector<std::string>& plans = {}) const;
  // Bounded work whatever the graph: every traversal spends from one
  // allowance of steps, and an answer cut short says so (`truncated`).
  // `keep_going`, when set, is asked now and then during the walk; a non-OK
  // answer (the call was cancelled, its deadline passed) ends the query with
  // that status.
  absl::StatusOr<v1::GetDependenciesResponse> GetDependencies(
      const v1::GetDependenciesRequest& request,
      std::function<absl::Status()> keep_going = nullptr,
      const std::vector<std::string>& plans = {}) const;

  // Each area's states at the window's ends come from the changes
  // projection's steps (an area out of the order of its business days is
  // folded from its stream, by business date). The answer is as of one log
  // position, the older of the two projections' checkpoints.
  absl::StatusOr<v1::GetChangesResponse> GetChanges(
      const v1::GetChangesRequest& request,
      const std::vector<std::string>& plans = {}) const;

  // Folded from the log up to one position: a closed round's closing (the
  // same answer whenever asked), else the area-state projection's.
  absl::StatusOr<v1::GetFollowUpResponse> GetFollowUp(
      const v1::GetFollowUpRequest& request,
      const std::vector<std::string>& plans = {}) const;

  projections::ProjectionRunner* areas() const { return areas_; }
  projections::ProjectionRunner* changes() const { return changes_; }
  projections::ProjectionRunner* history() const { return history_; }

 private:
  // Every live area state, parsed once per state of the projection and
  // shared by the queries that scan them all (ListAreas, GetPortfolio,
  // GetDependencies): under a read load each call no longer parses ten
  // thousand areas.
  absl::StatusOr<std::shared_ptr<const std::vector<stored::AreaState>>>
  AllAreas(const projections::StateReader& reader) const;

  const eventstore::EventStore* const log_;
  projections::ProjectionRunner* const areas_;
  projections::ProjectionRunner* const history_;
  projections::ProjectionRunner* const changes_;
  const std::function<absl::Time()> now_;

  struct ParsedAreas {
    uint64_t generation = 0;
    uint64_t checkpoint = 0;
    std::shared_ptr<const std::vector<stored::AreaState>> areas;
  };
  mutable Mutex mu_;
  mutable ParsedAreas parsed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PLAN_QUERIES_H_
