#include "services/event_store_service.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/quote.h"
#include "common/status_macros.h"
#include "domain/streams.h"
#include "projections/follow_filter.h"
#include "projections/stream_fold.h"
#include "services/event_store_proto.h"
#include "services/grpc_status.h"
#include "services/plan_command_handler.h"
#include "services/token_registry.h"

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
  const std::string method = MethodName<v1::EventStore>("Append");
  absl::StatusOr<Principal> caller = authorizer_->Authorize(*context, method);
  if (!caller.ok()) return FinishUnary(context, caller.status());
  if (domain::IsPlanStream(request->stream_id())) {
    absl::Status refused = absl::PermissionDeniedError(absl::StrCat(
        "stream_id: ", QuoteForMessage(request->stream_id(), 100),
        " belongs to the plan model and is written only through "
        "PlanCommands, after validation [rule: plan-streams-by-command]"));
    authorizer_->LogRefusal(*context, caller->name, method, refused);
    return FinishUnary(context, refused);
  }
  absl::StatusOr<eventstore::AppendRequest> decoded = FromProto(*request);
  if (!decoded.ok()) return FinishUnary(context, decoded.status());
  // The actor is who called, whatever the request's metadata says: a
  // caller cannot write an event in someone else's name.
  for (eventstore::ProposedEvent& event : decoded->events) {
    event.metadata[projections::kActorKey] = caller->name;
  }
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
  const std::string method = MethodName<v1::EventStore>("ReadStream");
  absl::StatusOr<Principal> caller = authorizer_->Authorize(*context, method);
  if (!caller.ok()) return FinishUnary(context, caller.status());
  if (request->stream_id() == kSecurityStream &&
      !Authorizer::MayReadSecurityStream(*caller)) {
    absl::Status refused = absl::PermissionDeniedError(absl::StrCat(
        "stream_id: \"", kSecurityStream,
        "\" (who holds which token) is read "
        "by auditors and admins only [rule: security-stream-readers]"));
    authorizer_->LogRefusal(*context, caller->name, method, refused);
    return FinishUnary(context, refused);
  }
  if (!caller->plans.empty()) {
    // A token limited to plans reads the streams of those plans only.
    const domain::PlanStreamName name =
        domain::ParseStreamName(request->stream_id());
    absl::StatusOr<std::string> plan = PlanOfStream(*store_, name);
    if (!plan.ok()) return FinishUnary(context, plan.status());
    if (name.kind == domain::PlanStreamName::Kind::kNone ||
        !caller->SeesPlan(*plan)) {
      absl::Status refused = absl::PermissionDeniedError(absl::StrCat(
          "stream_id: \"", request->stream_id(), "\" is outside ", caller->name,
          "'s plans (", absl::StrJoin(caller->plans, ", "),
          ") [rule: plan-scope]"));
      authorizer_->LogRefusal(*context, caller->name, method, refused);
      return FinishUnary(context, refused);
    }
  }
  return FinishUnary(context, ReadStreamInto(*store_, *request, *response));
}

grpc::ServerUnaryReactor* EventStoreService::ReadAll(
    grpc::CallbackServerContext* context, const v1::ReadAllRequest* request,
    v1::ReadAllResponse* response) {
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, MethodName<v1::EventStore>("ReadAll"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  absl::Status read = ReadAllInto(*store_, *request, *response);
  if (read.ok() && !Authorizer::MayReadSecurityStream(*caller)) {
    // Left out, as a filter leaves events out: next_position still moves
    // past them, so a reader pages on without a gap it could trip on.
    auto* events = response->mutable_events();
    events->erase(std::remove_if(events->begin(), events->end(),
                                 [](const v1::RecordedEvent& event) {
                                   return event.stream_id() == kSecurityStream;
                                 }),
                  events->end());
  }
  if (read.ok() && !caller->plans.empty()) {
    // A token limited to plans sees the events of those plans only, left
    // out as above.
    absl::StatusOr<std::string> holder =
        projections::HolderOfUnplanned(*store_);
    if (!holder.ok()) return FinishUnary(context, holder.status());
    auto* events = response->mutable_events();
    events->erase(
        std::remove_if(events->begin(), events->end(),
                       [&](const v1::RecordedEvent& event) {
                         const domain::PlanStreamName name =
                             domain::ParseStreamName(event.stream_id());
                         if (name.kind == domain::PlanStreamName::Kind::kNone) {
                           return true;
                         }
                         const std::string plan =
                             name.kind == domain::PlanStreamName::Kind::kPlan
                                 ? name.id
                             : name.stream_plan.empty() ? *holder
                                                        : name.stream_plan;
                         return !caller->SeesPlan(plan);
                       }),
        events->end());
  }
  return FinishUnary(context, read);
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
    authorizer_->LogRefusal(context->peer(), caller->name, method, owner);
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
