// plantrail.v1.PlanCommands over the callback API. Each RPC authenticates
// the caller and hands the command to the PlanCommandHandler; the call
// finishes when its event is durable (or refused). The rpcs are the
// commands of domain/plan_commands.h, registered from that list.
//
// Thread safety: all methods may run concurrently. The handler and the
// authorizer must outlive the service.
#ifndef PLANTRAIL_SERVICES_PLAN_COMMAND_SERVICE_H_
#define PLANTRAIL_SERVICES_PLAN_COMMAND_SERVICE_H_

#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "services/authorizer.h"
#include "services/plan_command_handler.h"

namespace plantrail::services {

class PlanCommandService final : public v1::PlanCommands::Service {
 public:
  // Serves every command of domain::PlanCommandTypes (the service's rpcs
  // are those, PlanCommandListTest checks) over the callback API: no
  // forwarder per command.
  PlanCommandService(PlanCommandHandler* handler, const Authorizer* authorizer);

 private:
  template <typename Request>
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context,
                                const Request& request,
                                v1::CommandResult* result);

  PlanCommandHandler* const handler_;
  const Authorizer* const authorizer_;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PLAN_COMMAND_SERVICE_H_
