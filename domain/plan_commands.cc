#include "domain/plan_commands.h"

namespace plantrail::domain {

const google::protobuf::ServiceDescriptor& PlanCommandsService() {
  // The file of the service is the file of its requests.
  return *v1::RegisterAreaRequest::descriptor()->file()->FindServiceByName(
      "PlanCommands");
}

std::string PlanCommandName(const google::protobuf::Descriptor& request) {
  const google::protobuf::ServiceDescriptor& service = PlanCommandsService();
  for (int i = 0; i < service.method_count(); ++i) {
    if (service.method(i)->input_type() == &request) {
      return service.method(i)->name();
    }
  }
  return "";
}

}  // namespace plantrail::domain
