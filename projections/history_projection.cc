#include "projections/history_projection.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/status_macros.h"
#include "domain/event_codec.h"
#include "domain/plan_date.h"
#include "domain/plan_date_proto.h"
#include "domain/plan_words.h"
#include "domain/redaction.h"
#include "domain/streams.h"
#include "domain/timestamps.h"
#include "eventstore/record_format.h"
#include "plantrail/stored/system_events.pb.h"
#include "projections/stream_fold.h"

namespace plantrail::projections {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr char kWorkingStatePrefix[] = "s/";

// What the history shows of an area, in this order.
constexpr const char* kTrackedFields[] = {
    "title",
    "support_area",
    "group",
    "rationale",
    "desired_effect",
    "participating_units",
    "responsible_units",
    "planned_start",
    "planned_end",
    "baseline_start",
    "baseline_end",
    "phase",
    "health",
    "dependencies",
    "closed",
    "outcome",
    "outcome_text",
};

// "PHASE_IN_PROGRESS" -> "in progress"; the unset value -> "".
std::string EnumText(const google::protobuf::EnumValueDescriptor& value) {
  if (value.number() == 0) return "";
  return domain::EnumWords(*value.type(), value.number());
}

std::string RenderMessage(const Message& message) {
  if (const auto* date = dynamic_cast<const stored::PlanDate*>(&message)) {
    return date->text();
  }
  if (const auto* dependency =
          dynamic_cast<const stored::Dependency*>(&message)) {
    std::string target = dependency->has_area_id()
                             ? absl::StrCat("area ", dependency->area_id())
                             : absl::StrCat("\"", dependency->external(), "\"");
    return absl::StrCat(target, " (",
                        dependency->kind() == stored::DEPENDENCY_KIND_RELATES
                            ? "relates"
                            : "requires",
                        ")");
  }
  return message.ShortDebugString();
}

std::string RenderOne(const Message& message, const FieldDescriptor& field,
                      int index) {
  const Reflection& r = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return repeated ? r.GetRepeatedString(message, &field, index)
                      : r.GetString(message, &field);
    case FieldDescriptor::CPPTYPE_BOOL:
      return (repeated ? r.GetRepeatedBool(message, &field, index)
                       : r.GetBool(message, &field))
                 ? "yes"
                 : "no";
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumText(repeated ? *r.GetRepeatedEnum(message, &field, index)
                               : *r.GetEnum(message, &field));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return RenderMessage(repeated
                               ? r.GetRepeatedMessage(message, &field, index)
                               : r.GetMessage(message, &field));
    default:
      return "";
  }
}

// The field as people read it; empty when unset.
std::string Render(const Message& message, const FieldDescriptor& field) {
  const Reflection& r = *message.GetReflection();
  if (field.is_repeated()) {
    std::vector<std::string> items;
    for (int i = 0; i < r.FieldSize(message, &field); ++i) {
      items.push_back(RenderOne(message, field, i));
    }
    return absl::StrJoin(items, ", ");
  }
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
      !r.HasField(message, &field)) {
    return "";
  }
  return RenderOne(message, field, 0);
}

stored::PlanDate RecordedDay(absl::Time recorded_at) {
  const absl::CivilDay day = domain::UtcDay(recorded_at);
  absl::StatusOr<domain::PlanDate> date = domain::PlanDate::Day(
      static_cast<int>(day.year()), day.month(), day.day());
  return date.ok() ? domain::ToProto(*date) : stored::PlanDate();
}

// What only the event says: reason, decision, text, business date.
void Describe(const stored::PlanEvent& event, stored::HistoryEntry& entry) {
  switch (event.event_case()) {
    case stored::PlanEvent::kAreaDetailsRevised:
      entry.set_reason(event.area_details_revised().reason());
      break;
    case stored::PlanEvent::kStatusReported: {
      const stored::StatusReport& report = event.status_reported().report();
      entry.set_text(report.narrative());
      if (report.has_reported_on()) {
        *entry.mutable_business_date() = report.reported_on();
      }
      break;
    }
    case stored::PlanEvent::kScheduleRevised:
      entry.set_reason(event.schedule_revised().reason());
      entry.set_decision_id(event.schedule_revised().decision_id());
      break;
    case stored::PlanEvent::kDependencyAdded:
      entry.set_text(event.dependency_added().dependency().note());
      break;
    case stored::PlanEvent::kDependencyRemoved:
      entry.set_reason(event.dependency_removed().reason());
      break;
    case stored::PlanEvent::kUnitsChanged:
      entry.set_reason(event.units_changed().reason());
      break;
    case stored::PlanEvent::kAreaClosed:
      entry.set_reason(event.area_closed().reason());
      entry.set_text(event.area_closed().outcome_text());
      break;
    case stored::PlanEvent::kAreaReopened:
      entry.set_reason(event.area_reopened().reason());
      break;
    case stored::PlanEvent::kEntryCorrected:
      entry.set_reason(event.entry_corrected().reason());
      entry.set_text(event.entry_corrected().correction());
      entry.set_corrects_position(event.entry_corrected().position());
      break;
    case stored::PlanEvent::kDecisionRecorded:
      entry.set_decision_id(event.decision_recorded().decision_id());
      entry.set_text(event.decision_recorded().title());
      entry.set_reason(event.decision_recorded().outcome());
      if (event.decision_recorded().has_decided_on()) {
        *entry.mutable_business_date() = event.decision_recorded().decided_on();
      }
      break;
    default:
      break;
  }
}

stored::HistoryEntry Entry(const eventstore::RecordedEvent& recorded,
                           const PlanEventRecord& record) {
  stored::HistoryEntry entry;
  entry.set_position(recorded.position);
  domain::SetTimestamp(*entry.mutable_recorded_at(), recorded.recorded_at);
  *entry.mutable_business_date() = RecordedDay(recorded.recorded_at);
  entry.set_actor(record.context.actor);
  entry.set_event_type(recorded.type);
  entry.set_event_id(recorded.event_id);
  Describe(record.event, entry);
  return entry;
}

}  // namespace

std::string HistoryPrefix(absl::string_view area_id) {
  std::string prefix = absl::StrCat("h/", area_id);
  prefix += '\0';
  return prefix;
}

std::string HistoryKey(absl::string_view area_id, uint64_t position) {
  std::string key = HistoryPrefix(area_id);
  eventstore::record_format::AppendU64(key, position);
  return key;
}

namespace {

// Whether a singular field holds the same value in both: a cheap test that
// spares rendering the fields an event did not touch (most of them). False
// when unsure; rendering then decides.
bool SameValue(const Message& a, const Message& b,
               const FieldDescriptor& field) {
  if (field.is_repeated()) return false;
  const google::protobuf::Reflection& ra = *a.GetReflection();
  const google::protobuf::Reflection& rb = *b.GetReflection();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return ra.GetString(a, &field) == rb.GetString(b, &field);
    case FieldDescriptor::CPPTYPE_ENUM:
      return ra.GetEnumValue(a, &field) == rb.GetEnumValue(b, &field);
    case FieldDescriptor::CPPTYPE_BOOL:
      return ra.GetBool(a, &field) == rb.GetBool(b, &field);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (!ra.HasField(a, &field) && !rb.HasField(b, &field)) return true;
      return ra.GetMessage(a, &field).SerializeAsString() ==
             rb.GetMessage(b, &field).SerializeAsString();
    default:
      return false;
  }
}

// The tracked fields, looked up once.
const std::vector<const FieldDescriptor*>& TrackedFields() {
  static const auto* fields = [] {
    auto* found = new std::vector<const FieldDescriptor*>;
    for (const char* name : kTrackedFields) {
      const FieldDescriptor* field =
          stored::AreaState::descriptor()->FindFieldByName(name);
      if (field != nullptr) found->push_back(field);
    }
    return found;
  }();
  return *fields;
}

}  // namespace

std::vector<stored::FieldChange> ChangedFields(const stored::AreaState& before,
                                               const stored::AreaState& after) {
  std::vector<stored::FieldChange> changes;
  for (const FieldDescriptor* field : TrackedFields()) {
    if (SameValue(before, after, *field)) continue;
    const std::string name = field->name();
    std::string old_value = Render(before, *field);
    std::string new_value = Render(after, *field);
    if (old_value == new_value) continue;
    stored::FieldChange change;
    change.set_field(name);
    change.set_before(std::move(old_value));
    change.set_after(std::move(new_value));
    changes.push_back(std::move(change));
  }
  return changes;
}

namespace {

// The plan that holds the areas recorded without a plan (whose streams'
// names carry no plan), once one does: a decision naming that plan's areas
// finds them under their unplanned names.
constexpr char kUnplannedHolderKey[] = "u/holder";

// Which areas' histories hold a decision's entry: "p/<position>" -> the
// area ids, one per line. (An area event's entry is in its own area's
// history, which the redaction's stream names.)
std::string DecisionAreasKey(uint64_t position) {
  std::string key = "p/";
  eventstore::record_format::AppendU64(key, position);
  return key;
}

// A redacted entry keeps what happened and drops the free text: its text,
// reason and the before/after of free-text fields.
void RedactEntry(stored::HistoryEntry& entry) {
  entry.mutable_redaction()->set_redacted(true);
  entry.clear_text();
  entry.clear_reason();
  auto* changes = entry.mutable_changes();
  for (int i = changes->size() - 1; i >= 0; --i) {
    if (domain::IsFreeTextAreaField(changes->Get(i).field())) {
      changes->DeleteSubrange(i, 1);
    }
  }
}

// A PayloadRedacted event: the redacted entry says who, when and why.
absl::Status ApplyRedaction(const eventstore::RecordedEvent& event,
                            StateWriter& state) {
  stored::PayloadRedacted redacted;
  if (!redacted.ParseFromString(event.payload)) {
    return absl::DataLossError("a PayloadRedacted payload does not parse");
  }
  std::optional<std::string> areas;
  absl::string_view stream = redacted.stream_id();
  if (absl::ConsumePrefix(&stream, domain::kAreaStreamPrefix)) {
    areas = std::string(stream);
  } else {
    PLANTRAIL_ASSIGN_OR_RETURN(
        areas, state.Get(DecisionAreasKey(redacted.position())));
  }
  if (!areas.has_value()) return absl::OkStatus();
  for (absl::string_view area_id : absl::StrSplit(*areas, '\n')) {
    const std::string key = HistoryKey(area_id, redacted.position());
    PLANTRAIL_ASSIGN_OR_RETURN(stored::HistoryEntry entry,
                               LoadMessage<stored::HistoryEntry>(state, key));
    if (entry.position() == 0) continue;
    RedactEntry(entry);
    stored::Redaction& redaction = *entry.mutable_redaction();
    auto actor = event.metadata.find(kActorKey);
    redaction.set_actor(actor == event.metadata.end() ? "" : actor->second);
    domain::SetTimestamp(*redaction.mutable_recorded_at(), event.recorded_at);
    redaction.set_reason(redacted.reason());
    redaction.set_position(event.position);
    state.Put(key, entry.SerializeAsString());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status HistoryProjection::Apply(const eventstore::RecordedEvent& event,
                                      StateWriter& state) {
  if (event.stream_id == domain::kRedactionStream &&
      event.type == stored::PayloadRedacted::descriptor()->name()) {
    return ApplyRedaction(event, state);
  }
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<PlanEventRecord> record,
                             DecodePlanEvent(event));
  if (!record) return absl::OkStatus();
  absl::string_view stream = event.stream_id;
  if (absl::ConsumePrefix(&stream, domain::kAreaStreamPrefix)) {
    const std::string working_key = absl::StrCat(kWorkingStatePrefix, stream);
    PLANTRAIL_ASSIGN_OR_RETURN(
        stored::AreaState * working,
        StagedMessage<stored::AreaState>(state, working_key));
    const stored::AreaState before = *working;
    domain::EvolveArea(*working, record->event, record->context);
    const stored::AreaState& after = *working;
    stored::HistoryEntry entry = Entry(event, *record);
    entry.set_version(event.stream_version);
    for (stored::FieldChange& change : ChangedFields(before, after)) {
      *entry.add_changes() = std::move(change);
    }
    if (event.redacted) RedactEntry(entry);
    state.Put(HistoryKey(stream, event.position), entry.SerializeAsString());
    if (record->event.has_entry_corrected()) {
      // The corrected entry says so too; it is not otherwise changed.
      const std::string corrected_key =
          HistoryKey(stream, record->event.entry_corrected().position());
      PLANTRAIL_ASSIGN_OR_RETURN(
          stored::HistoryEntry corrected,
          LoadMessage<stored::HistoryEntry>(state, corrected_key));
      if (corrected.position() != 0) {
        corrected.add_corrected_by(event.position);
        state.Put(corrected_key, corrected.SerializeAsString());
      }
    }
  } else if (absl::ConsumePrefix(&stream, domain::kDecisionStreamPrefix) &&
             record->event.has_decision_recorded()) {
    // A decision appears in the history of every area it concerns.
    stored::HistoryEntry entry = Entry(event, *record);
    if (event.redacted) RedactEntry(entry);
    // Its areas are of its own plan: their keys share its stream's plan.
    const std::string stream_plan =
        domain::ParseStreamName(event.stream_id).stream_plan;
    const std::string bytes = entry.SerializeAsString();
    std::vector<std::string> areas;
    for (const std::string& area_id :
         record->event.decision_recorded().area_ids()) {
      areas.push_back(domain::QualifiedId(stream_plan, area_id));
      state.Put(HistoryKey(areas.back(), event.position), bytes);
    }
    // And the areas of other plans it names, under their plans' names.
    const auto& others = record->event.decision_recorded().other_plan_areas();
    if (!others.empty()) {
      PLANTRAIL_ASSIGN_OR_RETURN(std::optional<std::string> holder,
                                 state.Get(kUnplannedHolderKey));
      for (const stored::AreaRef& other : others) {
        areas.push_back(domain::QualifiedId(
            holder == other.plan_id() ? "" : other.plan_id(), other.area_id()));
        state.Put(HistoryKey(areas.back(), event.position), bytes);
      }
    }
    state.Put(DecisionAreasKey(event.position), absl::StrJoin(areas, "\n"));
  } else if (absl::StartsWith(event.stream_id, domain::kPlanStreamPrefix) &&
             record->event.has_plan_registered() &&
             record->event.plan_registered().holds_unplanned()) {
    state.Put(kUnplannedHolderKey, record->event.plan_registered().plan_id());
  }
  return absl::OkStatus();
}

}  // namespace plantrail::projections
