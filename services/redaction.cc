#include "domain/metadata_keys.h"
#include "services/redaction.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "domain/event_codec.h"
#include "domain/redaction.h"
#include "domain/rules.h"
#include "domain/streams.h"
#include "eventstore/record_format.h"
#include "services/event_codec.h"
#include "services/plan_command_handler.h"
#include "services/token_registry.h"

namespace plantrail::services {
namespace {

// Events of one append: the redaction's record of each event it changes.
constexpr size_t kMaxEventsInOneRedaction = 1000;

eventstore::ProposedEvent RedactionRecord(
    const eventstore::RecordedEvent& target, absl::string_view reason,
    uint64_t repeated_text_of, const Principal& caller) {
  v1::PayloadRedacted recorded;
  recorded.set_position(target.position);
  recorded.set_event_id(target.event_id);
  recorded.set_stream_id(target.stream_id);
  recorded.set_event_type(target.type);
  recorded.set_reason(std::string(reason));
  recorded.set_repeated_text_of(repeated_text_of);
  eventstore::ProposedEvent event = SystemEvent(recorded, caller.name);
  event.metadata[kRedactsPositionKey] = absl::StrCat(target.position);
  event.metadata[kRedactsStreamKey] = target.stream_id;
  event.metadata[kRedactsEventIdKey] = target.event_id;
  return event;
}

}  // namespace

bool KeepsMetadataValue(absl::string_view stream_id, absl::string_view key,
                        absl::string_view value) {
  if (key == kActorKey || key == kCommandIdKey || key == kCorrelationIdKey ||
      key == kCausationIdKey) {
    return true;
  }
  if (key == kCommandFingerprintKey) {
    return absl::StartsWith(value, kKeyedFingerprintPrefix);
  }
  if (key == kRedactsPositionKey || key == kRedactsStreamKey ||
      key == kRedactsEventIdKey) {
    return stream_id == kRedactionStream;
  }
  return false;
}

std::vector<std::string> MetadataToClear(
    const eventstore::RecordedEvent& event) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : event.metadata) {
    if (value != eventstore::record_format::kRedactedValue &&
        !KeepsMetadataValue(event.stream_id, key, value)) {
      keys.push_back(key);
    }
  }
  return keys;
}

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
  std::vector<eventstore::RecordedEvent> repeated;
  const bool plan_stream =
      absl::StartsWith(target.stream_id, domain::kAreaStreamPrefix) ||
      absl::StartsWith(target.stream_id, domain::kDecisionStreamPrefix) ||
      absl::StartsWith(target.stream_id, domain::kPlanStreamPrefix);

  eventstore::RedactRequest redaction{
      .position = target.position, .cleared_metadata = MetadataToClear(target)};
  std::vector<std::string> texts;
  if (plan_stream) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        v1::PlanEvent event, domain::DecodeEvent(target.type, target.payload));
    texts = domain::FreeTexts(event);
    redaction.tombstone =
        domain::EncodeEvent(domain::WithoutFreeText(event)).payload;
  }
  // An event whose text a redaction of an earlier one took in part (see
  // below) may still be redacted itself, from what it holds now.
  // So may an event redacted before redactions cleared metadata: what is
  // left to take then is its metadata, and its payload stays the tombstone
  // it is.
  if (target.redacted) {
    const bool more_text = plan_stream && redaction.tombstone != target.payload;
    if (!more_text && redaction.cleared_metadata.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "position: ", request.position(), " is already redacted"));
    }
    if (!more_text) redaction.tombstone = target.payload;
    redaction.replaces = target.payload;
  }
  // Later events of the stream that repeat its text (a revision carries the
  // value it replaced as its "before") lose that text in the same commit;
  // their hashes stay as they were, like the redacted event's.
  if (!texts.empty()) {
    eventstore::ReadStreamRequest read{
        .stream_id = target.stream_id,
        .from_version = target.stream_version + 1,
        .limit = 1000};
    while (true) {
      absl::StatusOr<eventstore::StreamPage> later = store.ReadStream(read);
      PLANTRAIL_RETURN_IF_ERROR(later.status());
      for (const eventstore::RecordedEvent& event : later->events) {
        PLANTRAIL_ASSIGN_OR_RETURN(
            v1::PlanEvent decoded,
            domain::DecodeEvent(event.type, event.payload));
        std::string narrowed =
            domain::EncodeEvent(domain::WithoutTexts(decoded, texts)).payload;
        if (narrowed == domain::EncodeEvent(decoded).payload) continue;
        if (redaction.also.size() + 2 > kMaxEventsInOneRedaction) {
          return absl::FailedPreconditionError(
              absl::StrCat("position: ", request.position(),
                           " has its text repeated by more than ",
                           kMaxEventsInOneRedaction - 1,
                           " later events, more than one redaction can take"));
        }
        redaction.also.push_back({.position = event.position,
                                  .tombstone = std::move(narrowed),
                                  .replaces = event.payload});
        repeated.push_back(event);
      }
      if (later->next_version == 0) break;
      read.from_version = later->next_version;
    }
  }

  redaction.record = eventstore::AppendRequest{
      .stream_id = kRedactionStream,
      .expected_version = eventstore::ExpectedVersion::Any()};
  redaction.record.events.push_back(
      RedactionRecord(target, request.reason(), 0, caller));
  if (!request.command_id().empty()) {
    eventstore::ProposedEvent& first = redaction.record.events.front();
    first.event_id = PlanCommandHandler::EventIdFor(request.command_id());
    first.metadata[domain::kCommandIdKey] = request.command_id();
  }
  for (const eventstore::RecordedEvent& event : repeated) {
    redaction.record.events.push_back(RedactionRecord(
        event,
        absl::StrCat(request.reason(), " (it repeated text of position ",
                     target.position, ")"),
        target.position, caller));
  }
  return redaction;
}

}  // namespace plantrail::services
