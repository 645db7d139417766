#include "services/plan_command_service.h"

#include <utility>

#include "domain/plan_commands.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "services/grpc_status.h"

namespace plantrail::services {

PlanCommandService::PlanCommandService(PlanCommandHandler* handler,
                                       const Authorizer* authorizer)
    : handler_(handler), authorizer_(authorizer) {
  // The generated base registers each rpc at its index in the service (the
  // order of plan_commands.proto); each becomes a callback method here, as
  // the generated CallbackService would make it.
  domain::ForEachPlanCommand([this](auto type, size_t) {
    using Request = typename decltype(type)::type;
    const google::protobuf::MethodDescriptor* method =
        domain::PlanCommandsService().FindMethodByName(
            domain::PlanCommandName<Request>());
    MarkMethodCallback(
        method->index(),
        new grpc::internal::CallbackUnaryHandler<Request, v1::CommandResult>(
            [this](grpc::CallbackServerContext* context, const Request* request,
                   v1::CommandResult* result) {
              return Run(context, *request, result);
            }));
  });
}

template <typename Request>
grpc::ServerUnaryReactor* PlanCommandService::Run(
    grpc::CallbackServerContext* context, const Request& request,
    v1::CommandResult* result) {
  std::string full_method =
      MethodName<v1::PlanCommands>(domain::PlanCommandName<Request>());
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

}  // namespace plantrail::services
