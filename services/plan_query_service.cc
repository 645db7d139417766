#include "services/plan_query_service.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/grpc_status.h"

namespace plantrail::services {

template <typename Request, typename Response, typename Query>
grpc::ServerUnaryReactor* PlanQueryService::Answer(
    absl::string_view method, grpc::CallbackServerContext* context,
    const Request& request, Response* response,
    projections::ProjectionRunner* runner, Query query) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::PlanQueries>(method));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  // What a caller limited to plans may see is decided in the query.
  auto run = [&request, response, query, plans = caller->plans]() {
    absl::StatusOr<Response> answer = query(request, plans);
    if (answer.ok()) *response = *std::move(answer);
    return answer.status();
  };
  if (request.min_position() == 0) return FinishUnary(context, run());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time deadline = std::min(absl::FromChrono(context->deadline()),
                                       absl::Now() + absl::Seconds(30));
  runner->WhenApplied(request.min_position(), deadline,
                      [this, context, reactor, run](absl::Status reached) {
                        if (!reached.ok()) {
                          reactor->Finish(ToGrpcStatus(reached, context));
                          return;
                        }
                        // Off the runner's thread: a query may take a while.
                        pool_.Schedule([context, reactor, run] {
                          reactor->Finish(ToGrpcStatus(run(), context));
                        });
                      });
  return reactor;
}

grpc::ServerUnaryReactor* PlanQueryService::GetArea(
    grpc::CallbackServerContext* context, const v1::GetAreaRequest* request,
    v1::GetAreaResponse* response) {
  return Answer("GetArea", context, *request, response, queries_->areas(),
                [this](const auto& r, const auto& plans) {
                  return queries_->GetArea(r, plans);
                });
}

grpc::ServerUnaryReactor* PlanQueryService::ListAreas(
    grpc::CallbackServerContext* context, const v1::ListAreasRequest* request,
    v1::ListAreasResponse* response) {
  return Answer("ListAreas", context, *request, response, queries_->areas(),
                [this](const auto& r, const auto& plans) {
                  return queries_->ListAreas(r, plans);
                });
}

grpc::ServerUnaryReactor* PlanQueryService::GetHistory(
    grpc::CallbackServerContext* context, const v1::GetHistoryRequest* request,
    v1::GetHistoryResponse* response) {
  return Answer("GetHistory", context, *request, response, queries_->history(),
                [this](const auto& r, const auto& plans) {
                  return queries_->GetHistory(r, plans);
                });
}

grpc::ServerUnaryReactor* PlanQueryService::ListDecisions(
    grpc::CallbackServerContext* context,
    const v1::ListDecisionsRequest* request,
    v1::ListDecisionsResponse* response) {
  return Answer("ListDecisions", context, *request, response, queries_->areas(),
                [this](const auto& r, const auto& plans) {
                  return queries_->ListDecisions(r, plans);
                });
}

grpc::ServerUnaryReactor* PlanQueryService::ListPlans(
    grpc::CallbackServerContext* context, const v1::ListPlansRequest* request,
    v1::ListPlansResponse* response) {
  return Answer("ListPlans", context, *request, response, queries_->areas(),
                [this](const auto& r, const auto& plans) {
                  return queries_->ListPlans(r, plans);
                });
}

grpc::ServerUnaryReactor* PlanQueryService::GetPlan(
    grpc::CallbackServerContext* context, const v1::GetPlanRequest* request,
    v1::GetPlanResponse* response) {
  return Answer("GetPlan", context, *request, response, queries_->areas(),
                [this](const auto& r, const auto& plans) {
                  return queries_->GetPlan(r, plans);
                });
}

grpc::ServerUnaryReactor* PlanQueryService::GetPortfolio(
    grpc::CallbackServerContext* context,
    const v1::GetPortfolioRequest* request,
    v1::GetPortfolioResponse* response) {
  return Answer("GetPortfolio", context, *request, response, queries_->areas(),
                [this](const auto& r, const auto& plans) {
                  return queries_->GetPortfolio(r, plans);
                });
}

grpc::ServerUnaryReactor* PlanQueryService::GetChanges(
    grpc::CallbackServerContext* context, const v1::GetChangesRequest* request,
    v1::GetChangesResponse* response) {
  // min_position waits for the index; the query answers as of the older of
  // it and the area states.
  projections::ProjectionRunner* runner =
      queries_->changes() != nullptr ? queries_->changes() : queries_->areas();
  return Answer("GetChanges", context, *request, response, runner,
                [this](const auto& r, const auto& plans) {
                  return queries_->GetChanges(r, plans);
                });
}

grpc::ServerUnaryReactor* PlanQueryService::GetFollowUp(
    grpc::CallbackServerContext* context, const v1::GetFollowUpRequest* request,
    v1::GetFollowUpResponse* response) {
  return Answer("GetFollowUp", context, *request, response, queries_->areas(),
                [this](const auto& r, const auto& plans) {
                  return queries_->GetFollowUp(r, plans);
                });
}

grpc::ServerUnaryReactor* PlanQueryService::GetDependencies(
    grpc::CallbackServerContext* context,
    const v1::GetDependenciesRequest* request,
    v1::GetDependenciesResponse* response) {
  // The walk is bounded, and also stops once nobody waits for its answer.
  auto keep_going = [context]() -> absl::Status {
    if (context->IsCancelled()) {
      return absl::CancelledError(
          "the call was cancelled or its deadline passed");
    }
    if (absl::Now() > absl::FromChrono(context->deadline())) {
      return absl::DeadlineExceededError("the call's deadline passed");
    }
    return absl::OkStatus();
  };
  return Answer("GetDependencies", context, *request, response,
                queries_->areas(),
                [this, keep_going](const auto& r, const auto& plans) {
                  return queries_->GetDependencies(r, keep_going, plans);
                });
}

}  // namespace plantrail::services
