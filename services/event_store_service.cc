#include "services/event_store_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "domain/streams.h"
#include "services/event_codec.h"
#include "services/grpc_status.h"

namespace plantrail::services {
namespace {

absl::Status ReadStreamInto(const eventstore::EventStore& store,
                            const v1::ReadStreamRequest& request,
                            v1::ReadStreamResponse& response) {
  PLANTRAIL_ASSIGN_OR_RETURN(eventstore::ReadStreamRequest decoded,
                             FromProto(request));
  PLANTRAIL_ASSIGN_OR_RETURN(eventstore::StreamPage page,
                             store.ReadStream(decoded));
  ToProto(std::move(page), response);
  return absl::OkStatus();
}

absl::Status ReadAllInto(const eventstore::EventStore& store,
                         const v1::ReadAllRequest& request,
                         v1::ReadAllResponse& response) {
  PLANTRAIL_ASSIGN_OR_RETURN(eventstore::LogPage page,
                             store.ReadAll(FromProto(request)));
  ToProto(std::move(page), response);
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* EventStoreService::Append(
    grpc::CallbackServerContext* context, const v1::AppendRequest* request,
    v1::AppendResponse* response) {
  if (absl::StatusOr<Principal> caller = authorizer_->Authorize(
          *context, MethodName<v1::EventStore>("Append"));
      !caller.ok()) {
    return FinishUnary(context, caller.status());
  }
  if (domain::IsPlanStream(request->stream_id())) {
    return FinishUnary(
        context, absl::PermissionDeniedError(absl::StrCat(
                     "stream_id: \"", request->stream_id(),
                     "\" belongs to the plan model and is written only through "
                     "PlanCommands, after validation")));
  }
  absl::StatusOr<eventstore::AppendRequest> decoded = FromProto(*request);
  if (!decoded.ok()) return FinishUnary(context, decoded.status());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  store_->AppendAsync(*std::move(decoded),
                      [context, reactor, response](
                          absl::StatusOr<eventstore::AppendResult> result) {
                        if (result.ok()) ToProto(*result, *response);
                        reactor->Finish(ToGrpcStatus(result.status(), context));
                      });
  return reactor;
}

grpc::ServerUnaryReactor* EventStoreService::ReadStream(
    grpc::CallbackServerContext* context, const v1::ReadStreamRequest* request,
    v1::ReadStreamResponse* response) {
  if (absl::StatusOr<Principal> caller = authorizer_->Authorize(
          *context, MethodName<v1::EventStore>("ReadStream"));
      !caller.ok()) {
    return FinishUnary(context, caller.status());
  }
  return FinishUnary(context, ReadStreamInto(*store_, *request, *response));
}

grpc::ServerUnaryReactor* EventStoreService::ReadAll(
    grpc::CallbackServerContext* context, const v1::ReadAllRequest* request,
    v1::ReadAllResponse* response) {
  if (absl::StatusOr<Principal> caller = authorizer_->Authorize(
          *context, MethodName<v1::EventStore>("ReadAll"));
      !caller.ok()) {
    return FinishUnary(context, caller.status());
  }
  return FinishUnary(context, ReadAllInto(*store_, *request, *response));
}

grpc::ServerUnaryReactor* EventStoreService::Ack(
    grpc::CallbackServerContext* context, const v1::AckRequest* request,
    v1::AckResponse* response) {
  const std::string method = MethodName<v1::EventStore>("Ack");
  absl::StatusOr<Principal> caller = authorizer_->Authorize(*context, method);
  if (!caller.ok()) return FinishUnary(context, caller.status());
  if (absl::Status valid = CheckConsumerGroup(request->consumer_group());
      !valid.ok()) {
    return FinishUnary(context, valid);
  }
  // One atomic step: the first acknowledger claims the group, anyone else
  // leaves it untouched.
  const std::string claimant = GroupClaimant(*caller);
  absl::StatusOr<eventstore::EventStore::Cursor> acked =
      store_->SaveOwnedCursor(GroupCursor(request->consumer_group()),
                              request->position(), claimant);
  if (!acked.ok()) return FinishUnary(context, acked.status());
  if (absl::Status owner =
          CheckGroupOwner(request->consumer_group(), *acked, claimant);
      !owner.ok()) {
    authorizer_->Refused(context->peer(), caller->name, method, owner);
    return FinishUnary(context, owner);
  }
  response->set_position(acked->position);
  return FinishUnary(context, absl::OkStatus());
}

grpc::ServerWriteReactor<v1::SubscribeResponse>* EventStoreService::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) {
  return hub_->Subscribe(
      context, *request,
      authorizer_->Authorize(*context,
                             MethodName<v1::EventStore>("Subscribe")));
}

}  // namespace plantrail::services
