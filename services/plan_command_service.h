// plantrail.v1.PlanCommands over the callback API. Each RPC authenticates
// the caller and hands the command to the PlanCommandHandler; the call
// finishes when its event is durable (or refused).
//
// Thread safety: all methods may run concurrently. The handler and the
// authorizer must outlive the service.
#ifndef PLANTRAIL_SERVICES_PLAN_COMMAND_SERVICE_H_
#define PLANTRAIL_SERVICES_PLAN_COMMAND_SERVICE_H_

#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "services/authorizer.h"
#include "services/plan_command_handler.h"

namespace plantrail::services {

class PlanCommandService final : public v1::PlanCommands::CallbackService {
 public:
  PlanCommandService(PlanCommandHandler* handler, const Authorizer* authorizer)
      : handler_(handler), authorizer_(authorizer) {}

  grpc::ServerUnaryReactor* RegisterArea(grpc::CallbackServerContext* context,
                                         const v1::RegisterAreaRequest* request,
                                         v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* ReviseDetails(
      grpc::CallbackServerContext* context,
      const v1::ReviseDetailsRequest* request,
      v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* ReportStatus(grpc::CallbackServerContext* context,
                                         const v1::ReportStatusRequest* request,
                                         v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* ReviseSchedule(
      grpc::CallbackServerContext* context,
      const v1::ReviseScheduleRequest* request,
      v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* AddDependency(
      grpc::CallbackServerContext* context,
      const v1::AddDependencyRequest* request,
      v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* RemoveDependency(
      grpc::CallbackServerContext* context,
      const v1::RemoveDependencyRequest* request,
      v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* ChangeUnits(grpc::CallbackServerContext* context,
                                        const v1::ChangeUnitsRequest* request,
                                        v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* RecordDecision(
      grpc::CallbackServerContext* context,
      const v1::RecordDecisionRequest* request,
      v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* CloseArea(grpc::CallbackServerContext* context,
                                      const v1::CloseAreaRequest* request,
                                      v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* ReopenArea(grpc::CallbackServerContext* context,
                                       const v1::ReopenAreaRequest* request,
                                       v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* CorrectEntry(grpc::CallbackServerContext* context,
                                         const v1::CorrectEntryRequest* request,
                                         v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* RegisterPlan(grpc::CallbackServerContext* context,
                                         const v1::RegisterPlanRequest* request,
                                         v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* RevisePlan(grpc::CallbackServerContext* context,
                                       const v1::RevisePlanRequest* request,
                                       v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* ClosePlan(grpc::CallbackServerContext* context,
                                      const v1::ClosePlanRequest* request,
                                      v1::CommandResult* result) override;
  grpc::ServerUnaryReactor* ReopenPlan(grpc::CallbackServerContext* context,
                                       const v1::ReopenPlanRequest* request,
                                       v1::CommandResult* result) override;

 private:
  template <typename Request>
  grpc::ServerUnaryReactor* Run(absl::string_view method,
                                grpc::CallbackServerContext* context,
                                const Request& request,
                                v1::CommandResult* result);

  PlanCommandHandler* const handler_;
  const Authorizer* const authorizer_;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PLAN_COMMAND_SERVICE_H_
