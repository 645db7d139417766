#include "services/redactor.h"

#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "domain/event_codec.h"
#include "domain/metadata_keys.h"
#include "domain/redaction.h"
#include "domain/rules.h"
#include "domain/streams.h"
#include "eventstore/record_format.h"
#include "plantrail/stored/system_events.pb.h"
#include "services/event_store_proto.h"
#include "services/plan_command_handler.h"
#include "services/token_registry.h"

namespace plantrail::services {
namespace {

// Events of one append: the redaction's record of each event it changes.
constexpr size_t kMaxEventsInOneRedaction = 1000;

eventstore::ProposedEvent RedactionRecord(
    const eventstore::RecordedEvent& target, absl::string_view reason,
    uint64_t repeated_text_of, const Principal& caller) {
  stored::PayloadRedacted recorded;
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
  // The system streams (security, redactions, leadership) are the record
  // of who did what to the log; none of them is redacted.
  if (absl::StartsWith(target.stream_id, domain::kSystemStreamPrefix)) {
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
        stored::PlanEvent event,
        domain::DecodeEvent(target.type, target.payload));
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
            stored::PlanEvent decoded,
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

Redactor::Redactor(
    eventstore::EventStore* store,
    std::vector<projections::ProjectionRunner*> projections,
    std::function<void(const std::string& stream_id)> after_redaction,
    absl::Duration erase_timeout)
    : store_(store),
      projections_(std::move(projections)),
      after_redaction_(std::move(after_redaction)),
      erase_timeout_(erase_timeout) {}

absl::StatusOr<v1::RedactEventResponse> Redactor::Redact(
    const Principal& caller, const v1::RedactEventRequest& request) const {
  v1::RedactEventResponse response;
  // A retry of a redaction that was made answers as it did, once the old
  // copies are erased: the first attempt may have stopped short of that.
  if (!request.command_id().empty()) {
    PLANTRAIL_ASSIGN_OR_RETURN(std::optional<eventstore::RecordedEvent> earlier,
                               store_->ReadEvent(PlanCommandHandler::EventIdFor(
                                   request.command_id())));
    if (earlier.has_value()) {
      stored::PayloadRedacted recorded;
      if (earlier->type != stored::PayloadRedacted::descriptor()->name() ||
          !recorded.ParseFromString(earlier->payload)) {
        return absl::AlreadyExistsError(
            absl::StrCat("command_id: \"", request.command_id(),
                         "\" was used by another command (position ",
                         earlier->position, ")"));
      }
      if (recorded.position() != request.position()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "command_id: \"", request.command_id(), "\" redacted position ",
            recorded.position(), ", not ", request.position()));
      }
      response.set_position(earlier->position);
      response.set_event_id(earlier->event_id);
      response.set_redacted_position(recorded.position());
      PLANTRAIL_RETURN_IF_ERROR(EraseOldCopies(
          recorded.position(), earlier->position - 1, earlier->position));
      return response;
    }
  }
  PLANTRAIL_ASSIGN_OR_RETURN(eventstore::RedactRequest redaction,
                             PrepareRedaction(*store_, caller, request));
  const uint64_t target = redaction.position;
  const std::string stream =
      redaction.record.events.front().metadata[kRedactsStreamKey];
  PLANTRAIL_ASSIGN_OR_RETURN(eventstore::AppendResult result,
                             store_->Redact(std::move(redaction)));
  if (after_redaction_) after_redaction_(stream);
  response.set_position(result.first_position);
  response.set_event_id(result.event_ids.front());
  response.set_redacted_position(target);
  // Every event the redaction changed lies between its target and its
  // own record.
  PLANTRAIL_RETURN_IF_ERROR(
      EraseOldCopies(target, result.first_position - 1, result.first_position));
  return response;
}

absl::Status Redactor::EraseOldCopies(uint64_t first, uint64_t last,
                                      uint64_t record) const {
  const absl::Time deadline = absl::Now() + erase_timeout_;
  // The projections folded the payloads before they were redacted: they
  // are folded again from the redacted log.
  for (projections::ProjectionRunner* runner : projections_) {
    runner->RebuildAgain();
  }
  absl::Status erased = store_->EraseOverwritten(first, last);
  for (projections::ProjectionRunner* runner : projections_) {
    if (!erased.ok()) break;
    erased = runner->AwaitRebuildAndErase(deadline);
  }
  if (erased.ok()) return erased;
  return absl::Status(
      erased.code(),
      absl::StrCat(
          "the redaction is made (its record is position ", record,
          ") but its old copies are not all erased yet: ", erased.message(),
          "; a retry with the same command_id finishes it"));
}

}  // namespace plantrail::services
