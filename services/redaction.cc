#include "services/redaction.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "domain/redaction.h"
#include "domain/rules.h"
#include "domain/streams.h"
#include "services/event_codec.h"
#include "services/plan_command_handler.h"
#include "services/token_registry.h"

namespace plantrail::services {

absl::StatusOr<eventstore::RedactRequest> PrepareRedaction(
    const eventstore::EventStore& store, const Principal& caller,
    const v1::RedactEventRequest& request) {
  PLANTRAIL_RETURN_IF_ERROR(
      domain::CheckReason("reason", request.reason(), "a redaction"));
  if (request.position() == 0) {
    return absl::InvalidArgumentError("position: required (1 or more)");
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      eventstore::LogPage page,
      store.ReadAll({.from_position = request.position(), .limit = 1}));
  if (page.events.empty() || page.events[0].position != request.position()) {
    return absl::NotFoundError(absl::StrCat("position: ", request.position(),
                                            " is not in the log (its head is ",
                                            page.head_position, ")"));
  }
  const eventstore::RecordedEvent& target = page.events[0];
  if (target.stream_id == kSecurityStream ||
      target.stream_id == kRedactionStream) {
    return absl::FailedPreconditionError(absl::StrCat(
        "position: ", request.position(), " is in the system stream ",
        target.stream_id, ", which is never redacted"));
  }
  if (target.redacted) {
    return absl::FailedPreconditionError(
        absl::StrCat("position: ", request.position(), " is already redacted"));
  }

  eventstore::RedactRequest redaction{.position = target.position};
  if (absl::StartsWith(target.stream_id, domain::kAreaStreamPrefix) ||
      absl::StartsWith(target.stream_id, domain::kDecisionStreamPrefix)) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        redaction.tombstone,
        domain::RedactedPlanPayload(target.type, target.payload));
  }
  v1::PayloadRedacted recorded;
  recorded.set_position(target.position);
  recorded.set_event_id(target.event_id);
  recorded.set_stream_id(target.stream_id);
  recorded.set_event_type(target.type);
  recorded.set_reason(request.reason());
  eventstore::ProposedEvent event = SystemEvent(recorded, caller.name);
  event.metadata["redacts_position"] = absl::StrCat(target.position);
  event.metadata["redacts_stream"] = target.stream_id;
  event.metadata["redacts_event_id"] = target.event_id;
  if (!request.command_id().empty()) {
    event.event_id = PlanCommandHandler::EventIdFor(request.command_id());
    event.metadata["command_id"] = request.command_id();
  }
  redaction.record = eventstore::AppendRequest{
      .stream_id = kRedactionStream,
      .expected_version = eventstore::ExpectedVersion::Any(),
      .events = {std::move(event)}};
  return redaction;
}

}  // namespace plantrail::services
