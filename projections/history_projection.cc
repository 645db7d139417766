#include "projections/history_projection.h"

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_map.h"
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
std::string EnumWordsOf(const google::protobuf::EnumValueDescriptor& value) {
  if (value.number() == 0) return "";
  return domain::EnumWords(*value.type(), value.number());
}

// EnumWordsOf, worked out once for every value of the area's enums (a
// status report renders its health on every event); immutable once made.
std::string EnumText(const google::protobuf::EnumValueDescriptor& value) {
  using Words =
      absl::flat_hash_map<const google::protobuf::EnumValueDescriptor*,
                          std::string>;
  static const Words* const words = [] {
    auto* made = new Words;
    const google::protobuf::Descriptor& area = *stored::AreaState::descriptor();
    for (int f = 0; f < area.field_count(); ++f) {
      const google::protobuf::EnumDescriptor* type = area.field(f)->enum_type();
      if (type == nullptr) continue;
      for (int v = 0; v < type->value_count(); ++v) {
        made->emplace(type->value(v), EnumWordsOf(*type->value(v)));
      }
    }
    return made;
  }();
  if (auto it = words->find(&value); it != words->end()) return it->second;
  return EnumWordsOf(value);
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
                           const PlanEventRecord& record,
                           const stored::PlanDate& recorded_day) {
  stored::HistoryEntry entry;
  entry.set_position(recorded.position);
  domain::SetTimestamp(*entry.mutable_recorded_at(), recorded.recorded_at);
  *entry.mutable_business_date() = recorded_day;
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

bool SameDate(const stored::AreaState& a, const stored::AreaState& b,
              const stored::PlanDate& (stored::AreaState::*get)() const,
              bool (stored::AreaState::*has)() const) {
  if ((a.*has)() != (b.*has)()) return false;
  if (!(a.*has)()) return true;
  const stored::PlanDate& x = (a.*get)();
  const stored::PlanDate& y = (b.*get)();
  return x.precision() == y.precision() && x.year() == y.year() &&
         x.month() == y.month() && x.day() == y.day() &&
         x.quarter() == y.quarter() && x.term() == y.term() &&
         x.text() == y.text();
}

bool SameDependencies(const stored::AreaState& a, const stored::AreaState& b) {
  if (a.dependencies_size() != b.dependencies_size()) return false;
  for (int i = 0; i < a.dependencies_size(); ++i) {
    const stored::Dependency& x = a.dependencies(i);
    const stored::Dependency& y = b.dependencies(i);
    if (x.target_case() != y.target_case() || x.area_id() != y.area_id() ||
        x.external() != y.external() || x.kind() != y.kind() ||
        x.note() != y.note() || x.plan_id() != y.plan_id()) {
      return false;
    }
  }
  return true;
}

template <typename Repeated>
bool SameRepeated(const Repeated& a, const Repeated& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// SameValue through the generated accessors of the tracked fields: no
// reflection, no serializing. Equal values render alike, so a field found
// the same here has no change to show; any other goes on to the
// reflection's test and the rendering, which decide as before.
bool SameTracked(const stored::AreaState& a, const stored::AreaState& b,
                 const FieldDescriptor& field) {
  using A = stored::AreaState;
  switch (field.number()) {
    case A::kTitleFieldNumber:
      return a.title() == b.title();
    case A::kRationaleFieldNumber:
      return a.rationale() == b.rationale();
    case A::kDesiredEffectFieldNumber:
      return a.desired_effect() == b.desired_effect();
    case A::kSupportAreaFieldNumber:
      return a.support_area() == b.support_area();
    case A::kGroupFieldNumber:
      return a.group() == b.group();
    case A::kParticipatingUnitsFieldNumber:
      return SameRepeated(a.participating_units(), b.participating_units());
    case A::kResponsibleUnitsFieldNumber:
      return SameRepeated(a.responsible_units(), b.responsible_units());
    case A::kBaselineStartFieldNumber:
      return SameDate(a, b, &A::baseline_start, &A::has_baseline_start);
    case A::kBaselineEndFieldNumber:
      return SameDate(a, b, &A::baseline_end, &A::has_baseline_end);
    case A::kPlannedStartFieldNumber:
      return SameDate(a, b, &A::planned_start, &A::has_planned_start);
    case A::kPlannedEndFieldNumber:
      return SameDate(a, b, &A::planned_end, &A::has_planned_end);
    case A::kPhaseFieldNumber:
      return a.phase() == b.phase();
    case A::kHealthFieldNumber:
      return a.health() == b.health();
    case A::kDependenciesFieldNumber:
      return SameDependencies(a, b);
    case A::kClosedFieldNumber:
      return a.closed() == b.closed();
    case A::kOutcomeFieldNumber:
      return a.outcome() == b.outcome();
    case A::kOutcomeTextFieldNumber:
      return a.outcome_text() == b.outcome_text();
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
    if (SameTracked(before, after, *field)) continue;
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

// Copies into `to` what ChangedFields reads of `from`: the tracked fields
// (and all of it should a tracked field be one this does not know).
void CopyTracked(const stored::AreaState& from, stored::AreaState& to) {
  using A = stored::AreaState;
  static const bool known = [] {
    for (const FieldDescriptor* field : TrackedFields()) {
      switch (field->number()) {
        case A::kTitleFieldNumber:
        case A::kRationaleFieldNumber:
        case A::kDesiredEffectFieldNumber:
        case A::kSupportAreaFieldNumber:
        case A::kGroupFieldNumber:
        case A::kParticipatingUnitsFieldNumber:
        case A::kResponsibleUnitsFieldNumber:
        case A::kBaselineStartFieldNumber:
        case A::kBaselineEndFieldNumber:
        case A::kPlannedStartFieldNumber:
        case A::kPlannedEndFieldNumber:
        case A::kPhaseFieldNumber:
        case A::kHealthFieldNumber:
        case A::kDependenciesFieldNumber:
        case A::kClosedFieldNumber:
        case A::kOutcomeFieldNumber:
        case A::kOutcomeTextFieldNumber:
          break;
        default:
          return false;
      }
    }
    return true;
  }();
  if (!known) {
    to = from;
    return;
  }
  // Assignments into the same scratch message event after event: strings
  // and repeated fields reuse what they allocated before.
  to.set_title(from.title());
  to.set_rationale(from.rationale());
  to.set_desired_effect(from.desired_effect());
  to.set_support_area(from.support_area());
  to.set_group(from.group());
  *to.mutable_participating_units() = from.participating_units();
  *to.mutable_responsible_units() = from.responsible_units();
  const auto date = [](bool has, const stored::PlanDate& value,
                       stored::PlanDate* (A::*mutable_date)(),
                       void (A::*clear)(), A& into) {
    if (has) {
      *(into.*mutable_date)() = value;
    } else {
      (into.*clear)();
    }
  };
  date(from.has_baseline_start(), from.baseline_start(),
       &A::mutable_baseline_start, &A::clear_baseline_start, to);
  date(from.has_baseline_end(), from.baseline_end(), &A::mutable_baseline_end,
       &A::clear_baseline_end, to);
  date(from.has_planned_start(), from.planned_start(),
       &A::mutable_planned_start, &A::clear_planned_start, to);
  date(from.has_planned_end(), from.planned_end(), &A::mutable_planned_end,
       &A::clear_planned_end, to);
  to.set_phase(from.phase());
  to.set_health(from.health());
  *to.mutable_dependencies() = from.dependencies();
  to.set_closed(from.closed());
  to.set_outcome(from.outcome());
  to.set_outcome_text(from.outcome_text());
}

}  // namespace

const stored::PlanDate& HistoryProjection::RecordedDayOf(absl::Time time) {
  // Events come in the order they were recorded: a day is worked out once.
  if (time < day_begins_ || time >= day_ends_) {
    const absl::CivilDay day = domain::UtcDay(time);
    day_begins_ = absl::FromCivil(day, absl::UTCTimeZone());
    day_ends_ = absl::FromCivil(day + 1, absl::UTCTimeZone());
    day_ = RecordedDay(time);
  }
  return day_;
}

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
    // Only what ChangedFields compares, into scratch reused event after
    // event: a whole copy of the state was the costliest step of the fold.
    stored::AreaState& before = before_;
    CopyTracked(*working, before);
    domain::EvolveArea(*working, record->event, record->context);
    const stored::AreaState& after = *working;
    stored::HistoryEntry entry =
        Entry(event, *record, RecordedDayOf(event.recorded_at));
    entry.set_version(event.stream_version);
    for (stored::FieldChange& change : ChangedFields(before, after)) {
      *entry.add_changes() = std::move(change);
    }
    if (event.redacted) RedactEntry(entry);
    bytes_.clear();
    entry.AppendToString(&bytes_);
    state.Put(HistoryKey(stream, event.position), bytes_);
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
    stored::HistoryEntry entry =
        Entry(event, *record, RecordedDayOf(event.recorded_at));
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
