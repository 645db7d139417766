// The one place where absl::Status becomes a gRPC status.
#ifndef PLANTRAIL_SERVICES_GRPC_STATUS_H_
#define PLANTRAIL_SERVICES_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"

namespace plantrail::services {

// Trailing metadata key carrying a stream's current version with ABORTED.
inline constexpr char kCurrentVersionMetadata[] = "plantrail-current-version";

// Same code (Abseil's codes are gRPC's), same message. When `context` is
// given, details a client may act on travel as trailing metadata (see
// kCurrentVersionMetadata). Must be called before the RPC finishes.
grpc::Status ToGrpcStatus(const absl::Status& status,
                          grpc::CallbackServerContext* context = nullptr);

// Finishes a unary call at once with `status` and returns its reactor: the
// whole body of an RPC whose logic is synchronous.
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      const absl::Status& status);

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_GRPC_STATUS_H_
