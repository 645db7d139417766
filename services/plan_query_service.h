// plantrail.v1.PlanQueries over the callback API. A request with
// min_position first waits (without holding a gRPC thread) until the
// projection that answers it has applied that position, within the call's
// deadline (at most 30 s), then runs on the service's own threads.
//
// Thread safety: all methods may run concurrently. `queries` must outlive
// the service.
#ifndef PLANTRAIL_SERVICES_PLAN_QUERY_SERVICE_H_
#define PLANTRAIL_SERVICES_PLAN_QUERY_SERVICE_H_

#include "common/thread_pool.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"
#include "services/authorizer.h"
#include "services/plan_queries.h"

namespace plantrail::services {

class PlanQueryService final : public v1::PlanQueries::CallbackService {
 public:
  // Every RPC asks `authorizer` first. Both must outlive the service.
  PlanQueryService(const PlanQueries* queries, const Authorizer* authorizer)
      : queries_(queries), authorizer_(authorizer) {}

  grpc::ServerUnaryReactor* ListPlans(grpc::CallbackServerContext* context,
                                      const v1::ListPlansRequest* request,
                                      v1::ListPlansResponse* response) override;
  grpc::ServerUnaryReactor* GetPlan(grpc::CallbackServerContext* context,
                                    const v1::GetPlanRequest* request,
                                    v1::GetPlanResponse* response) override;
  grpc::ServerUnaryReactor* GetArea(grpc::CallbackServerContext* context,
                                    const v1::GetAreaRequest* request,
                                    v1::GetAreaResponse* response) override;
  grpc::ServerUnaryReactor* ListAreas(grpc::CallbackServerContext* context,
                                      const v1::ListAreasRequest* request,
                                      v1::ListAreasResponse* response) override;
  grpc::ServerUnaryReactor* GetHistory(
      grpc::CallbackServerContext* context,
      const v1::GetHistoryRequest* request,
      v1::GetHistoryResponse* response) override;
  grpc::ServerUnaryReactor* ListDecisions(
      grpc::CallbackServerContext* context,
      const v1::ListDecisionsRequest* request,
      v1::ListDecisionsResponse* response) override;
  grpc::ServerUnaryReactor* GetFollowUp(
      grpc::CallbackServerContext* context,
      const v1::GetFollowUpRequest* request,
      v1::GetFollowUpResponse* response) override;
  grpc::ServerUnaryReactor* GetChanges(
      grpc::CallbackServerContext* context,
      const v1::GetChangesRequest* request,
      v1::GetChangesResponse* response) override;
  grpc::ServerUnaryReactor* GetPortfolio(
      grpc::CallbackServerContext* context,
      const v1::GetPortfolioRequest* request,
      v1::GetPortfolioResponse* response) override;
  grpc::ServerUnaryReactor* GetDependencies(
      grpc::CallbackServerContext* context,
      const v1::GetDependenciesRequest* request,
      v1::GetDependenciesResponse* response) override;

 private:
  // Runs `query` once `runner` has applied `min_position`, and finishes the
  // call with its outcome.
  template <typename Request, typename Response, typename Query>
  grpc::ServerUnaryReactor* Answer(absl::string_view method,
                                   grpc::CallbackServerContext* context,
                                   const Request& request, Response* response,
                                   projections::ProjectionRunner* runner,
                                   Query query);

  const PlanQueries* const queries_;
  const Authorizer* const authorizer_;
  // Last member: joined first, while the rest is still there.
  ThreadPool pool_{2};
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PLAN_QUERY_SERVICE_H_
