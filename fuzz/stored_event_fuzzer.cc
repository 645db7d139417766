// Hostile stored bytes: what a damaged or tampered log hands back. The
// record format (eventstore/record_format.h) decodes records, headers, stream
// heads, event id entries and event keys; the plan model
// (domain/event_codec.h) decodes plan event payloads, which evolve folds and
// a redaction turns into tombstones (domain/redaction.h).
//
// What it asserts:
//   - a decoder refuses with kDataLoss, and what it accepts encodes back to
//     exactly the same bytes (the format has one encoding per event: the
//     chain hashes these bytes, so a second reading would break it);
//   - a record that decodes also views, its header decodes alone to the
//     same fields; its flags say whether it is redacted and whether it
//     holds a header hash (bit 1, header redacted), which is the one the
//     chain takes; a redaction's binding of a header (metadata
//     record_format::kRedactedHeaderKey) decodes and encodes back the same
//     or is kDataLoss;
//   - a plan payload of a known type decodes or is kDataLoss; what decodes
//     has that type, encodes deterministically and decodes again to the same
//     event; evolve folds it; its tombstone decodes too and folds to the same
//     state but for free text;
//   - a record of a plan stream goes the way the projections take it
//     (projections/stream_fold.cc): decoded, then folded with the record's
//     position, version, time and actor.
//
// Input: mode:u8 rest. mode % 4 is
//   0  rest is a record (a value of the events family)
//   1  rest is a header
//   2  type:u8 payload; type % 11 picks the PlanEvent oneof field, in order
//   3  rest is a stream head, an event id entry or an events key
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "domain/event_codec.h"
#include "domain/evolve.h"
#include "domain/redaction.h"
#include "domain/streams.h"
#include "eventstore/event.h"
#include "eventstore/record_format.h"
#include "fuzz/fuzz_check.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"
#include "plantrail/stored/plan.pb.h"
#include "plantrail/stored/plan_events.pb.h"

namespace plantrail::fuzz {
namespace {

namespace rf = eventstore::record_format;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

void CheckCorrupt(const absl::Status& status, absl::string_view bytes) {
  PLANTRAIL_FUZZ_CHECK(absl::IsDataLoss(status),
                       absl::StrCat(Escaped(bytes), ": ", Describe(status)));
}

void CheckSameBytes(absl::string_view what, absl::string_view decoded,
                    absl::string_view encoded) {
  PLANTRAIL_FUZZ_CHECK(decoded == encoded,
                       absl::StrCat(what, " ", Escaped(decoded),
                                    " encodes back as ", Escaped(encoded)));
}

// Free text (domain::IsFreeText) is what a redaction empties; the rest
// of a folded state must not change.
class IgnoreFreeText : public MessageDifferencer::IgnoreCriteria {
 public:
  bool IsIgnored(
      const Message&, const Message&, const FieldDescriptor* field,
      const std::vector<MessageDifferencer::SpecificField>&) override {
    return domain::IsFreeText(*field);
  }
};

bool EqualButFreeText(const Message& a, const Message& b) {
  MessageDifferencer differencer;
  differencer.AddIgnoreCriteria(new IgnoreFreeText);
  return differencer.Compare(a, b);
}

// A registered area to fold events into, besides an empty state.
const stored::AreaState& RegisteredArea() {
  static const stored::AreaState* const area = [] {
    auto* state = new stored::AreaState;
    stored::PlanEvent registered;
    stored::AreaRegistered& e = *registered.mutable_area_registered();
    e.set_area_id("3.1.3");
    e.set_title("DD- och DM-studenter");
    e.set_support_area("3.1 Utbildningsadministrativt stöd");
    e.set_rationale("Why");
    e.add_participating_units("GVS");
    e.mutable_planned_start()->set_precision(stored::PLAN_DATE_PRECISION_TERM);
    e.mutable_planned_start()->set_year(2023);
    e.mutable_planned_start()->set_term(stored::TERM_AUTUMN);
    e.mutable_planned_start()->set_text("HT23");
    e.set_phase(stored::PHASE_PLANNED);
    domain::EvolveArea(*state, registered, {.position = 1, .version = 1});
    return state;
  }();
  return *area;
}

void FuzzPlanPayload(absl::string_view type, absl::string_view payload) {
  const absl::StatusOr<stored::PlanEvent> event =
      domain::DecodeEvent(type, payload);
  const absl::StatusOr<std::string> tombstone =
      domain::RedactedPlanPayload(type, payload);
  PLANTRAIL_FUZZ_CHECK(event.ok() == tombstone.ok(),
                       absl::StrCat(type, " ", Escaped(payload)));
  if (!event.ok()) {
    CheckCorrupt(event.status(), payload);
    return;
  }
  const auto where = [&] { return absl::StrCat(type, " ", Escaped(payload)); };
  PLANTRAIL_FUZZ_CHECK(domain::EventType(*event) == type, where());
  const domain::EncodedEvent encoded = domain::EncodeEvent(*event);
  PLANTRAIL_FUZZ_CHECK(encoded.type == type, where());
  const absl::StatusOr<stored::PlanEvent> again =
      domain::DecodeEvent(encoded.type, encoded.payload);
  PLANTRAIL_FUZZ_CHECK(again.ok() && MessageDifferencer::Equals(*again, *event),
                       where());
  CheckSameBytes("a re-encoded payload", encoded.payload,
                 domain::EncodeEvent(*again).payload);

  const absl::StatusOr<stored::PlanEvent> redacted =
      domain::DecodeEvent(type, *tombstone);
  PLANTRAIL_FUZZ_CHECK(redacted.ok(), absl::StrCat(where(), ": its tombstone ",
                                                   Escaped(*tombstone)));
  for (const stored::AreaState* start :
       {&stored::AreaState::default_instance(), &RegisteredArea()}) {
    stored::AreaState original = *start;
    stored::AreaState without = *start;
    const domain::EventContext context{.position = 2, .version = 2};
    domain::EvolveArea(original, *event, context);
    domain::EvolveArea(without, *redacted, context);
    PLANTRAIL_FUZZ_CHECK(
        EqualButFreeText(original, without),
        absl::StrCat(where(), ": folds to ", original.ShortDebugString(),
                     ", its tombstone to ", without.ShortDebugString()));
  }
  stored::DecisionState decision;
  domain::EvolveDecision(decision, *event, {.position = 2, .version = 1});
}

// As projections::DecodePlanEvent and the fold take a record of a plan
// stream (projections/ is not linked here: it needs the store).
void FoldRecorded(const eventstore::RecordedEvent& recorded) {
  const bool area =
      absl::StartsWith(recorded.stream_id, domain::kAreaStreamPrefix);
  const bool decision =
      absl::StartsWith(recorded.stream_id, domain::kDecisionStreamPrefix);
  if (!area && !decision) return;
  absl::StatusOr<stored::PlanEvent> event =
      domain::DecodeEvent(recorded.type, recorded.payload);
  if (absl::IsInvalidArgument(event.status())) event = stored::PlanEvent();
  if (!event.ok()) {
    CheckCorrupt(event.status(), recorded.payload);
    return;
  }
  const auto actor = recorded.metadata.find("actor");
  const domain::EventContext context{
      .position = recorded.position,
      .version = recorded.stream_version,
      .recorded_at = recorded.recorded_at,
      .actor = actor == recorded.metadata.end() ? "" : actor->second,
  };
  if (area) {
    stored::AreaState state = RegisteredArea();
    domain::EvolveArea(state, *event, context);
  } else {
    stored::DecisionState state;
    domain::EvolveDecision(state, *event, context);
  }
  if (event->event_case() != stored::PlanEvent::EVENT_NOT_SET) {
    FuzzPlanPayload(recorded.type, recorded.payload);
  }
}

void FuzzRecord(absl::string_view bytes) {
  const absl::StatusOr<eventstore::RecordedEvent> event =
      rf::DecodeRecord(bytes);
  const absl::StatusOr<rf::RecordView> view = rf::ViewRecord(bytes);
  if (!view.ok()) CheckCorrupt(view.status(), bytes);
  if (!event.ok()) {
    CheckCorrupt(event.status(), bytes);
    return;
  }
  PLANTRAIL_FUZZ_CHECK(view.ok(), Escaped(bytes));
  CheckSameBytes("a record", bytes, rf::EncodeRecord(*event));
  CheckSameBytes("a record's header", view->header, rf::EncodeHeader(*event));
  const absl::StatusOr<eventstore::RecordedEvent> header =
      rf::DecodeHeader(view->header);
  PLANTRAIL_FUZZ_CHECK(header.ok() && header->event_id == event->event_id &&
                           header->stream_id == event->stream_id &&
                           header->type == event->type &&
                           header->content_type == event->content_type &&
                           header->metadata == event->metadata &&
                           header->recorded_at == event->recorded_at &&
                           header->position == event->position &&
                           header->stream_version == event->stream_version,
                       Escaped(bytes));
  PLANTRAIL_FUZZ_CHECK(
      event->payload == view->payload &&
          event->payload_hash == view->payload_hash &&
          event->hash == view->hash &&
          event->redacted == ((view->flags & rf::kFlagRedacted) != 0) &&
          event->header_hash == view->header_hash &&
          event->header_hash.has_value() ==
              ((view->flags & rf::kFlagHeaderRedacted) != 0),
      Escaped(bytes));
  // The chain takes the stored header hash of a redacted header, else the
  // header's own.
  PLANTRAIL_FUZZ_CHECK(rf::HeaderHash(*event) == rf::HeaderHash(*view) &&
                           rf::HeaderHash(*view) ==
                               (view->header_hash ? *view->header_hash
                                                  : rf::Sha256(view->header)),
                       Escaped(bytes));
  // A redaction's binding of the header it redacted decodes to what
  // encodes back the same, or is damage.
  if (auto bound = event->metadata.find(rf::kRedactedHeaderKey);
      bound != event->metadata.end()) {
    const absl::StatusOr<rf::RedactedHeader> header =
        rf::DecodeRedactedHeader(bound->second);
    if (header.ok()) {
      CheckSameBytes("a redacted header binding", bound->second,
                     rf::EncodeRedactedHeader(*header));
    } else {
      CheckCorrupt(header.status(), bound->second);
    }
  }
  FoldRecorded(*event);
}

void FuzzHeader(absl::string_view bytes) {
  const absl::StatusOr<eventstore::RecordedEvent> event =
      rf::DecodeHeader(bytes);
  if (!event.ok()) {
    CheckCorrupt(event.status(), bytes);
    return;
  }
  CheckSameBytes("a header", bytes, rf::EncodeHeader(*event));
}

void FuzzSmallValues(absl::string_view bytes) {
  if (absl::StatusOr<rf::StreamHead> head = rf::DecodeStreamHead(bytes);
      head.ok()) {
    CheckSameBytes("a stream head", bytes, rf::EncodeStreamHead(*head));
  } else {
    CheckCorrupt(head.status(), bytes);
  }
  if (absl::StatusOr<rf::EventIdEntry> entry = rf::DecodeEventIdEntry(bytes);
      entry.ok()) {
    CheckSameBytes("an event id entry", bytes, rf::EncodeEventIdEntry(*entry));
  } else {
    CheckCorrupt(entry.status(), bytes);
  }
  if (absl::StatusOr<uint64_t> position = rf::DecodePositionKey(bytes);
      position.ok()) {
    CheckSameBytes("an events key", bytes, rf::PositionKey(*position));
  } else {
    CheckCorrupt(position.status(), bytes);
  }
}

void FuzzStored(absl::string_view input) {
  if (input.empty()) return;
  const uint8_t mode = static_cast<uint8_t>(input[0]) % 4;
  input.remove_prefix(1);
  switch (mode) {
    case 0:
      FuzzRecord(input);
      break;
    case 1:
      FuzzHeader(input);
      break;
    case 2: {
      if (input.empty()) return;
      const google::protobuf::OneofDescriptor& oneof =
          *stored::PlanEvent::descriptor()->FindOneofByName("event");
      const FieldDescriptor* field =
          oneof.field(static_cast<uint8_t>(input[0]) % oneof.field_count());
      FuzzPlanPayload(field->message_type()->name(), input.substr(1));
      break;
    }
    default:
      FuzzSmallValues(input);
      break;
  }
}

}  // namespace
}  // namespace plantrail::fuzz

PLANTRAIL_FUZZ_TARGET(plantrail::fuzz::FuzzStored)
