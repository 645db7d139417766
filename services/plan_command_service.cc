#include "services/plan_command_service.h"

#include <utility>

#include "services/grpc_status.h"

namespace plantrail::services {

template <typename Request>
grpc::ServerUnaryReactor* PlanCommandService::Run(
    absl::string_view method, grpc::CallbackServerContext* context,
    const Request& request, v1::CommandResult* result) {
  std::string full_method = MethodName<v1::PlanCommands>(method);
  absl::StatusOr<Principal> principal =
      authorizer_->Authorize(*context, full_method);
  if (!principal.ok()) return FinishUnary(context, principal.status());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  handler_->Handle(*principal, request,
                   [this, context, reactor, result, name = principal->name,
                    full_method = std::move(full_method)](
                       absl::StatusOr<v1::CommandResult> outcome) {
                     if (outcome.ok()) {
                       *result = *std::move(outcome);
                     } else if (absl::IsPermissionDenied(outcome.status())) {
                       // A planner's scope, decided with the area's state in
                       // hand.
                       authorizer_->LogRefusal(*context, name, full_method,
                                               outcome.status());
                     }
                     reactor->Finish(ToGrpcStatus(outcome.status(), context));
                   });
  return reactor;
}

grpc::ServerUnaryReactor* PlanCommandService::RegisterArea(
    grpc::CallbackServerContext* context,
    const v1::RegisterAreaRequest* request, v1::CommandResult* result) {
  return Run("RegisterArea", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::ReviseDetails(
    grpc::CallbackServerContext* context,
    const v1::ReviseDetailsRequest* request, v1::CommandResult* result) {
  return Run("ReviseDetails", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::ReportStatus(
    grpc::CallbackServerContext* context,
    const v1::ReportStatusRequest* request, v1::CommandResult* result) {
  return Run("ReportStatus", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::ReviseSchedule(
    grpc::CallbackServerContext* context,
    const v1::ReviseScheduleRequest* request, v1::CommandResult* result) {
  return Run("ReviseSchedule", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::AddDependency(
    grpc::CallbackServerContext* context,
    const v1::AddDependencyRequest* request, v1::CommandResult* result) {
  return Run("AddDependency", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::RemoveDependency(
    grpc::CallbackServerContext* context,
    const v1::RemoveDependencyRequest* request, v1::CommandResult* result) {
  return Run("RemoveDependency", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::ChangeUnits(
    grpc::CallbackServerContext* context, const v1::ChangeUnitsRequest* request,
    v1::CommandResult* result) {
  return Run("ChangeUnits", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::RecordDecision(
    grpc::CallbackServerContext* context,
    const v1::RecordDecisionRequest* request, v1::CommandResult* result) {
  return Run("RecordDecision", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::CloseArea(
    grpc::CallbackServerContext* context, const v1::CloseAreaRequest* request,
    v1::CommandResult* result) {
  return Run("CloseArea", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::ReopenArea(
    grpc::CallbackServerContext* context, const v1::ReopenAreaRequest* request,
    v1::CommandResult* result) {
  return Run("ReopenArea", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::CorrectEntry(
    grpc::CallbackServerContext* context,
    const v1::CorrectEntryRequest* request, v1::CommandResult* result) {
  return Run("CorrectEntry", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::RegisterPlan(
    grpc::CallbackServerContext* context,
    const v1::RegisterPlanRequest* request, v1::CommandResult* result) {
  return Run("RegisterPlan", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::RevisePlan(
    grpc::CallbackServerContext* context, const v1::RevisePlanRequest* request,
    v1::CommandResult* result) {
  return Run("RevisePlan", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::ClosePlan(
    grpc::CallbackServerContext* context, const v1::ClosePlanRequest* request,
    v1::CommandResult* result) {
  return Run("ClosePlan", context, *request, result);
}

grpc::ServerUnaryReactor* PlanCommandService::ReopenPlan(
    grpc::CallbackServerContext* context, const v1::ReopenPlanRequest* request,
    v1::CommandResult* result) {
  return Run("ReopenPlan", context, *request, result);
}

}  // namespace plantrail::services
