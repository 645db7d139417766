#include "services/grpc_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "eventstore/event_store.h"

namespace plantrail::services {

grpc::Status ToGrpcStatus(const absl::Status& status,
                          grpc::CallbackServerContext* context) {
  if (status.ok()) return grpc::Status::OK;
  if (context != nullptr) {
    if (auto version = eventstore::CurrentVersionOf(status)) {
      context->AddTrailingMetadata(kCurrentVersionMetadata,
                                   absl::StrCat(*version));
    }
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status, context));
  return reactor;
}

}  // namespace plantrail::services
