#include "domain/decide.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/status_macros.h"
#include "domain/dependency_graph.h"
#include "domain/evolve.h"
#include "domain/plan_date.h"
#include "domain/plan_date_proto.h"
#include "domain/plan_words.h"
#include "domain/rules.h"
#include "domain/stored_twin.h"
#include "domain/streams.h"
#include "domain/timestamps.h"

namespace plantrail::domain {
namespace {

using Code = absl::StatusCode;

absl::Status Invalid(absl::string_view rule, absl::string_view what) {
  return Refuse(Code::kInvalidArgument, rule, what);
}

// A date text of a command: empty means "not given".
absl::StatusOr<std::optional<PlanDate>> ParseDate(absl::string_view field,
                                                  absl::string_view text) {
  if (absl::StripAsciiWhitespace(text).empty()) return std::nullopt;
  PLANTRAIL_RETURN_IF_ERROR(CheckLine(field, text, TextLimits::kDate, false));
  absl::StatusOr<PlanDate> date = PlanDate::Parse(text);
  if (!date.ok()) {
    return Invalid("plan-date-syntax",
                   absl::StrCat(field, ": ", date.status().message()));
  }
  return *std::move(date);
}

absl::StatusOr<std::optional<PlanDate>> StoredDate(
    const stored::AreaState& area, bool present, const stored::PlanDate& date) {
  if (!present) return std::nullopt;
  absl::StatusOr<PlanDate> parsed = FromProto(date);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat(
        "area \"", area.area_id(),
        "\" holds an unreadable date: ", parsed.status().message()));
  }
  return *std::move(parsed);
}

struct Schedule {
  std::optional<PlanDate> start;
  std::optional<PlanDate> end;
};

// The dates a command gives: planned_start/planned_end, or planned_period.
absl::StatusOr<Schedule> ParseSchedule(absl::string_view start_text,
                                       absl::string_view end_text,
                                       absl::string_view period_text) {
  Schedule schedule;
  if (!absl::StripAsciiWhitespace(period_text).empty()) {
    if (!absl::StripAsciiWhitespace(start_text).empty() ||
        !absl::StripAsciiWhitespace(end_text).empty()) {
      return Invalid("one-way-to-give-dates",
                     "planned_period: give either planned_period or "
                     "planned_start/planned_end, not both");
    }
    PLANTRAIL_RETURN_IF_ERROR(
        CheckLine("planned_period", period_text, TextLimits::kDate, false));
    absl::StatusOr<PlanRange> range = ParsePlanRange(period_text);
    if (!range.ok()) {
      return Invalid(
          "plan-date-syntax",
          absl::StrCat("planned_period: ", range.status().message()));
    }
    schedule.start = range->start;
    schedule.end = range->end;
    return schedule;
  }
  PLANTRAIL_ASSIGN_OR_RETURN(schedule.start,
                             ParseDate("planned_start", start_text));
  PLANTRAIL_ASSIGN_OR_RETURN(schedule.end, ParseDate("planned_end", end_text));
  return schedule;
}

absl::Status CheckOrder(const std::optional<PlanDate>& start,
                        const std::optional<PlanDate>& end) {
  if (!start || !end) return absl::OkStatus();
  const auto first = start->first_day();
  const auto last = end->last_day();
  if (first && last && *last < *first) {
    return Invalid("end-after-start",
                   absl::StrCat("planned_end: \"", end->text(),
                                "\" ends before planned_start \"",
                                start->text(), "\" begins"));
  }
  return absl::OkStatus();
}

bool SameDate(const std::optional<PlanDate>& a,
              const std::optional<PlanDate>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || *a == *b;
}

std::string Quoted(const std::optional<PlanDate>& date) {
  return date ? absl::StrCat("\"", date->text(), "\"") : "none";
}

absl::Status RequireArea(const stored::AreaState& area,
                         absl::string_view area_id) {
  PLANTRAIL_RETURN_IF_ERROR(CheckId("area_id", area_id));
  if (area.version() == 0) {
    return Refuse(
        Code::kNotFound, "area-exists",
        absl::StrCat("area_id: area \"", area_id, "\" is not registered"));
  }
  return absl::OkStatus();
}

absl::Status RequireOpen(const stored::AreaState& area,
                         absl::string_view what) {
  if (area.closed()) {
    return Refuse(Code::kFailedPrecondition, "closed-area-is-settled",
                  absl::StrCat("area \"", area.area_id(), "\" is closed (",
                               Words(area.phase()), "): ", what,
                               " needs it reopened first"));
  }
  return absl::OkStatus();
}

template <typename Request>
absl::StatusOr<stored::Dependency> DependencyTarget(const Request& command) {
  stored::Dependency dependency;
  switch (command.target_case()) {
    case Request::kOnAreaId:
      PLANTRAIL_RETURN_IF_ERROR(CheckId("on_area_id", command.on_area_id()));
      dependency.set_area_id(command.on_area_id());
      // An area of another plan keeps its plan's id; the same plan's none.
      if (!command.on_plan_id().empty() &&
          command.on_plan_id() != command.plan_id()) {
        PLANTRAIL_RETURN_IF_ERROR(
            CheckPlanId("on_plan_id", command.on_plan_id()));
        dependency.set_plan_id(command.on_plan_id());
      }
      break;
    case Request::kExternal:
      PLANTRAIL_RETURN_IF_ERROR(
          CheckLine("external", command.external(), TextLimits::kName, true));
      dependency.set_external(command.external());
      break;
    default:
      return Invalid("dependency-target",
                     "target: name the area (on_area_id) or the external "
                     "dependency (external)");
  }
  return dependency;
}

std::string Describe(const stored::Dependency& dependency) {
  if (dependency.target_case() != stored::Dependency::kAreaId) {
    return absl::StrCat("\"", dependency.external(), "\"");
  }
  if (dependency.plan_id().empty()) {
    return absl::StrCat("area \"", dependency.area_id(), "\"");
  }
  return absl::StrCat("area \"", dependency.area_id(), "\" of plan \"",
                      dependency.plan_id(), "\"");
}

absl::StatusOr<PlanDate> Today(const Facts& facts) {
  const absl::CivilDay today = UtcDay(facts.now);
  return PlanDate::Day(static_cast<int>(today.year()), today.month(),
                       today.day());
}

// The details a revision sets, checked field by field.
absl::Status CheckDetails(const stored::AreaDetails& details) {
  if (details.has_title()) {
    PLANTRAIL_RETURN_IF_ERROR(
        CheckLine("details.title", details.title(), TextLimits::kLine, true));
  }
  if (details.has_support_area()) {
    PLANTRAIL_RETURN_IF_ERROR(CheckLine("details.support_area",
                                        details.support_area(),
                                        TextLimits::kName, true));
  }
  if (details.has_group()) {
    PLANTRAIL_RETURN_IF_ERROR(
        CheckLine("details.group", details.group(), TextLimits::kName, false));
  }
  if (details.has_rationale()) {
    PLANTRAIL_RETURN_IF_ERROR(CheckText(
        "details.rationale", details.rationale(), TextLimits::kText, false));
  }
  if (details.has_desired_effect()) {
    PLANTRAIL_RETURN_IF_ERROR(CheckText("details.desired_effect",
                                        details.desired_effect(),
                                        TextLimits::kText, false));
  }
  return absl::OkStatus();
}

// Sets `before`/`after` for one field when the revision changes it.
void Diff(bool given, const std::string& current, const std::string& wanted,
          void (stored::AreaDetails::*set)(const std::string&),
          stored::AreaDetails& before, stored::AreaDetails& after,
          bool& changed) {
  if (!given || current == wanted) return;
  (before.*set)(current);
  (after.*set)(wanted);
  changed = true;
}

bool SameUnits(const google::protobuf::RepeatedPtrField<std::string>& a,
               const std::vector<std::string>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

std::vector<std::string> ToVector(
    const google::protobuf::RepeatedPtrField<std::string>& units) {
  return {units.begin(), units.end()};
}

}  // namespace

absl::Status CheckOptions(const v1::CommandOptions& options) {
  const std::string& id = options.command_id();
  if (id.size() > TextLimits::kCommandId) {
    return Invalid("command-id-syntax",
                   absl::StrCat("options.command_id: must be at most ",
                                TextLimits::kCommandId, " characters"));
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != ':' && c != '@' && c != '-') {
      return Invalid("command-id-syntax",
                     "options.command_id: must match [A-Za-z0-9._:@-]*");
    }
  }
  PLANTRAIL_RETURN_IF_ERROR(CheckLine("options.correlation_id",
                                      options.correlation_id(),
                                      TextLimits::kCommandId, false));
  return CheckLine("options.causation_id", options.causation_id(),
                   TextLimits::kCommandId, false);
}

absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::RegisterAreaRequest& command,
                                         const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(CheckId("area_id", command.area_id()));
  if (area.version() > 0) {
    return Refuse(Code::kAlreadyExists, "register-once",
                  absl::StrCat("area_id: area \"", command.area_id(),
                               "\" is already registered (version ",
                               area.version(), ")"));
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckLine("title", command.title(), TextLimits::kLine, true));
  PLANTRAIL_RETURN_IF_ERROR(CheckLine("support_area", command.support_area(),
                                      TextLimits::kName, true));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckLine("group", command.group(), TextLimits::kName, false));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckText("rationale", command.rationale(), TextLimits::kText, false));
  PLANTRAIL_RETURN_IF_ERROR(CheckText(
      "desired_effect", command.desired_effect(), TextLimits::kText, false));
  const std::vector<std::string> participating =
      ToVector(command.participating_units());
  const std::vector<std::string> responsible =
      ToVector(command.responsible_units());
  PLANTRAIL_RETURN_IF_ERROR(CheckUnits("participating_units", participating));
  PLANTRAIL_RETURN_IF_ERROR(CheckUnits("responsible_units", responsible));
  PLANTRAIL_ASSIGN_OR_RETURN(
      Schedule schedule,
      ParseSchedule(command.planned_start(), command.planned_end(),
                    command.planned_period()));
  PLANTRAIL_RETURN_IF_ERROR(CheckOrder(schedule.start, schedule.end));
  stored::Phase phase = Twin<stored::Phase>(command.phase());
  if (phase == stored::PHASE_UNSPECIFIED) phase = stored::PHASE_PLANNED;
  if (phase != stored::PHASE_PROPOSED && phase != stored::PHASE_PLANNED &&
      phase != stored::PHASE_IN_PROGRESS) {
    return Invalid("registered-phase",
                   absl::StrCat("phase: an area is registered as proposed, "
                                "planned or in progress, not ",
                                Words(phase)));
  }

  stored::PlanEvent event;
  stored::AreaRegistered& registered = *event.mutable_area_registered();
  registered.set_area_id(command.area_id());
  registered.set_title(command.title());
  registered.set_support_area(command.support_area());
  registered.set_group(command.group());
  registered.set_rationale(command.rationale());
  registered.set_desired_effect(command.desired_effect());
  *registered.mutable_participating_units() = command.participating_units();
  *registered.mutable_responsible_units() = command.responsible_units();
  if (schedule.start)
    *registered.mutable_planned_start() = ToProto(*schedule.start);
  if (schedule.end) *registered.mutable_planned_end() = ToProto(*schedule.end);
  registered.set_phase(phase);
  registered.set_plan_id(command.plan_id());
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(
    const stored::AreaState& area, const v1::ReviseDetailsRequest& command,
    const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(RequireArea(area, command.area_id()));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckReason("reason", command.reason(), "a revision of details"));
  const stored::AreaDetails wanted =
      Twin<stored::AreaDetails>(command.details());
  if (!wanted.has_title() && !wanted.has_rationale() &&
      !wanted.has_desired_effect() && !wanted.has_support_area() &&
      !wanted.has_group()) {
    return Invalid("revision-names-fields",
                   "details: name at least one field to revise");
  }
  PLANTRAIL_RETURN_IF_ERROR(CheckDetails(wanted));
  stored::PlanEvent event;
  stored::AreaDetailsRevised& revised = *event.mutable_area_details_revised();
  stored::AreaDetails& before = *revised.mutable_before();
  stored::AreaDetails& after = *revised.mutable_after();
  bool changed = false;
  Diff(wanted.has_title(), area.title(), wanted.title(),
       &stored::AreaDetails::set_title, before, after, changed);
  Diff(wanted.has_rationale(), area.rationale(), wanted.rationale(),
       &stored::AreaDetails::set_rationale, before, after, changed);
  Diff(wanted.has_desired_effect(), area.desired_effect(),
       wanted.desired_effect(), &stored::AreaDetails::set_desired_effect,
       before, after, changed);
  Diff(wanted.has_support_area(), area.support_area(), wanted.support_area(),
       &stored::AreaDetails::set_support_area, before, after, changed);
  Diff(wanted.has_group(), area.group(), wanted.group(),
       &stored::AreaDetails::set_group, before, after, changed);
  if (!changed) {
    return Refuse(Code::kFailedPrecondition, "revision-changes-something",
                  "details: every field named already has that value");
  }
  revised.set_reason(command.reason());
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::ReportStatusRequest& command,
                                         const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(RequireArea(area, command.area_id()));
  PLANTRAIL_RETURN_IF_ERROR(RequireOpen(area, "a status report"));
  switch (command.phase()) {
    case v1::PHASE_PROPOSED:
    case v1::PHASE_PLANNED:
    case v1::PHASE_IN_PROGRESS:
    case v1::PHASE_PAUSED:
      break;
    case v1::PHASE_COMPLETED:
    case v1::PHASE_CANCELLED:
      return Invalid("close-to-finish",
                     absl::StrCat("phase: ", Words(command.phase()),
                                  " is reached by closing the area "
                                  "(CloseArea), not by a status report"));
    default:
      return Invalid("phase-required", "phase: a status report needs a phase");
  }
  if (command.health() == v1::HEALTH_UNSPECIFIED ||
      !v1::Health_IsValid(command.health())) {
    return Invalid("health-required",
                   "health: a status report needs a health (on track, at "
                   "risk, off track or unknown)");
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckText("narrative", command.narrative(), TextLimits::kText, true));
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<PlanDate> reported_on,
                             ParseDate("reported_on", command.reported_on()));
  if (!reported_on) {
    PLANTRAIL_ASSIGN_OR_RETURN(reported_on, Today(facts));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::optional<PlanDate> next_due,
      ParseDate("next_report_due", command.next_report_due()));
  if (next_due && next_due->last_day() && reported_on->first_day() &&
      *next_due->last_day() < *reported_on->first_day()) {
    return Invalid("next-report-after-report",
                   absl::StrCat("next_report_due: \"", next_due->text(),
                                "\" is before the report's date \"",
                                reported_on->text(), "\""));
  }
  stored::PlanEvent event;
  stored::StatusReport& report =
      *event.mutable_status_reported()->mutable_report();
  report.set_phase(Twin<stored::Phase>(command.phase()));
  report.set_health(Twin<stored::Health>(command.health()));
  report.set_narrative(command.narrative());
  *report.mutable_reported_on() = ToProto(*reported_on);
  if (next_due) *report.mutable_next_report_due() = ToProto(*next_due);
  if (!command.round_id().empty()) {
    PLANTRAIL_RETURN_IF_ERROR(CheckId("round_id", command.round_id()));
    const stored::FollowUpRound* round =
        FindRound(facts.rounds, command.round_id());
    if (round == nullptr) {
      return Refuse(Code::kNotFound, "round-exists",
                    absl::StrCat("round_id: the area's plan has no follow-up "
                                 "round \"",
                                 command.round_id(), "\""));
    }
    if (round->closed()) {
      return Refuse(
          Code::kFailedPrecondition, "closed-round-is-frozen",
          absl::StrCat("round_id: round \"", command.round_id(),
                       "\" is closed for its meeting; a report now belongs "
                       "to the next round: name the open round or none"));
    }
    if (std::find(round->expected_area_ids().begin(),
                  round->expected_area_ids().end(),
                  area.area_id()) == round->expected_area_ids().end()) {
      return Refuse(
          Code::kFailedPrecondition, "round-expects-area",
          absl::StrCat("round_id: round \"", command.round_id(),
                       "\" does not expect a report of area \"", area.area_id(),
                       "\" (its areas were fixed when it opened)"));
    }
    report.set_round_id(command.round_id());
  }
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(
    const stored::AreaState& area, const v1::ReviseScheduleRequest& command,
    const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(RequireArea(area, command.area_id()));
  PLANTRAIL_RETURN_IF_ERROR(RequireOpen(area, "a schedule revision"));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckReason("reason", command.reason(), "a schedule revision"));
  PLANTRAIL_ASSIGN_OR_RETURN(
      Schedule given,
      ParseSchedule(command.planned_start(), command.planned_end(),
                    command.planned_period()));
  if (!given.start && !given.end) {
    return Invalid("revision-names-fields",
                   "planned_start: give a new planned_start, planned_end or "
                   "planned_period");
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::optional<PlanDate> previous_start,
      StoredDate(area, area.has_planned_start(), area.planned_start()));
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::optional<PlanDate> previous_end,
      StoredDate(area, area.has_planned_end(), area.planned_end()));
  const std::optional<PlanDate> new_start =
      given.start ? given.start : previous_start;
  const std::optional<PlanDate> new_end = given.end ? given.end : previous_end;
  PLANTRAIL_RETURN_IF_ERROR(CheckOrder(new_start, new_end));
  if (SameDate(new_start, previous_start) && SameDate(new_end, previous_end)) {
    return Refuse(
        Code::kFailedPrecondition, "revision-changes-something",
        absl::StrCat("planned_start: the plan already runs from ",
                     Quoted(previous_start), " to ", Quoted(previous_end)));
  }
  if (!command.decision_id().empty()) {
    PLANTRAIL_RETURN_IF_ERROR(CheckId("decision_id", command.decision_id()));
    if (!facts.existing_decisions.contains(command.decision_id())) {
      return Refuse(Code::kNotFound, "decision-exists",
                    absl::StrCat("decision_id: decision \"",
                                 command.decision_id(), "\" is not recorded"));
    }
  }
  stored::PlanEvent event;
  stored::ScheduleRevised& revised = *event.mutable_schedule_revised();
  // The first dates an area ever has are its baseline, kept for good.
  if (area.has_baseline_start()) {
    *revised.mutable_baseline_start() = area.baseline_start();
  } else if (new_start) {
    *revised.mutable_baseline_start() = ToProto(*new_start);
  }
  if (area.has_baseline_end()) {
    *revised.mutable_baseline_end() = area.baseline_end();
  } else if (new_end) {
    *revised.mutable_baseline_end() = ToProto(*new_end);
  }
  if (area.has_planned_start()) {
    *revised.mutable_previous_start() = area.planned_start();
  }
  if (area.has_planned_end()) {
    *revised.mutable_previous_end() = area.planned_end();
  }
  if (given.start) {
    *revised.mutable_new_start() = ToProto(*given.start);
  } else if (area.has_planned_start()) {
    *revised.mutable_new_start() = area.planned_start();
  }
  if (given.end) {
    *revised.mutable_new_end() = ToProto(*given.end);
  } else if (area.has_planned_end()) {
    *revised.mutable_new_end() = area.planned_end();
  }
  revised.set_reason(command.reason());
  revised.set_decision_id(command.decision_id());
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(
    const stored::AreaState& area, const v1::AddDependencyRequest& command,
    const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(RequireArea(area, command.area_id()));
  PLANTRAIL_RETURN_IF_ERROR(RequireOpen(area, "a new dependency"));
  PLANTRAIL_ASSIGN_OR_RETURN(stored::Dependency dependency,
                             DependencyTarget(command));
  if (dependency.has_area_id()) {
    if (dependency.area_id() == command.area_id() &&
        dependency.plan_id().empty()) {
      return Invalid("no-self-dependency",
                     absl::StrCat("on_area_id: area \"", command.area_id(),
                                  "\" cannot depend on itself"));
    }
    if (!facts.existing_areas.contains(dependency.area_id())) {
      return Refuse(Code::kNotFound, "dependency-on-known-area",
                    absl::StrCat("on_area_id: ", Describe(dependency),
                                 " is not registered"));
    }
  }
  for (const stored::Dependency& existing : area.dependencies()) {
    if (SameTarget(existing, dependency)) {
      return Refuse(
          Code::kAlreadyExists, "dependency-once",
          absl::StrCat("area \"", command.area_id(), "\" already depends on ",
                       Describe(dependency)));
    }
  }
  // Dependency queries walk the graph; a bound per area keeps what one
  // planner can build within what a query can walk. Areas stored with more
  // by an older version keep them: only a new one is refused.
  if (static_cast<size_t>(area.dependencies_size()) >=
      kMaxDependenciesPerArea) {
    return Refuse(Code::kResourceExhausted, "max-dependencies",
                  absl::StrCat("area_id: area \"", command.area_id(),
                               "\" already has ", area.dependencies_size(),
                               " dependencies, the most an area may have is ",
                               kMaxDependenciesPerArea,
                               "; remove one before adding another"));
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckText("note", command.note(), TextLimits::kReason, false));
  switch (command.kind()) {
    case v1::DEPENDENCY_KIND_UNSPECIFIED:
      dependency.set_kind(stored::DEPENDENCY_KIND_REQUIRES);
      break;
    case v1::DEPENDENCY_KIND_REQUIRES:
    case v1::DEPENDENCY_KIND_RELATES:
      dependency.set_kind(Twin<stored::DependencyKind>(command.kind()));
      break;
    default:
      return Invalid("dependency-kind",
                     "kind: must be DEPENDENCY_KIND_REQUIRES or "
                     "DEPENDENCY_KIND_RELATES");
  }
  dependency.set_note(command.note());
  stored::PlanEvent event;
  *event.mutable_dependency_added()->mutable_dependency() =
      std::move(dependency);
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(
    const stored::AreaState& area, const v1::RemoveDependencyRequest& command,
    const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(RequireArea(area, command.area_id()));
  PLANTRAIL_RETURN_IF_ERROR(RequireOpen(area, "removing a dependency"));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckReason("reason", command.reason(), "removing a dependency"));
  PLANTRAIL_ASSIGN_OR_RETURN(stored::Dependency target,
                             DependencyTarget(command));
  for (const stored::Dependency& existing : area.dependencies()) {
    if (SameTarget(existing, target)) {
      stored::PlanEvent event;
      stored::DependencyRemoved& removed = *event.mutable_dependency_removed();
      *removed.mutable_dependency() = existing;
      removed.set_reason(command.reason());
      return event;
    }
  }
  return Refuse(Code::kNotFound, "remove-existing-dependency",
                absl::StrCat("area \"", command.area_id(),
                             "\" does not depend on ", Describe(target)));
}

absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::ChangeUnitsRequest& command,
                                         const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(RequireArea(area, command.area_id()));
  PLANTRAIL_RETURN_IF_ERROR(RequireOpen(area, "changing units"));
  if (!command.has_participating_units() && !command.has_responsible_units()) {
    return Invalid("revision-names-fields",
                   "participating_units: set participating_units, "
                   "responsible_units or both");
  }
  std::vector<std::string> participating =
      command.has_participating_units()
          ? ToVector(command.participating_units().units())
          : ToVector(area.participating_units());
  std::vector<std::string> responsible =
      command.has_responsible_units()
          ? ToVector(command.responsible_units().units())
          : ToVector(area.responsible_units());
  PLANTRAIL_RETURN_IF_ERROR(
      CheckUnits("participating_units.units", participating));
  PLANTRAIL_RETURN_IF_ERROR(CheckUnits("responsible_units.units", responsible));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckText("reason", command.reason(), TextLimits::kReason, false));
  if (SameUnits(area.participating_units(), participating) &&
      SameUnits(area.responsible_units(), responsible)) {
    return Refuse(Code::kFailedPrecondition, "revision-changes-something",
                  "participating_units: the area already has these units");
  }
  stored::PlanEvent event;
  stored::UnitsChanged& changed = *event.mutable_units_changed();
  *changed.mutable_participating_before() = area.participating_units();
  *changed.mutable_responsible_before() = area.responsible_units();
  changed.mutable_participating_after()->Assign(participating.begin(),
                                                participating.end());
  changed.mutable_responsible_after()->Assign(responsible.begin(),
                                              responsible.end());
  changed.set_reason(command.reason());
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::CloseAreaRequest& command,
                                         const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(RequireArea(area, command.area_id()));
  if (area.closed()) {
    return Refuse(
        Code::kFailedPrecondition, "close-once",
        absl::StrCat("area \"", command.area_id(), "\" is already closed (",
                     Words(area.phase()), ")"));
  }
  if (command.outcome() != v1::OUTCOME_COMPLETED &&
      command.outcome() != v1::OUTCOME_CANCELLED) {
    return Invalid("outcome-required",
                   "outcome: must be OUTCOME_COMPLETED or OUTCOME_CANCELLED");
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckReason("reason", command.reason(), "closing an area"));
  PLANTRAIL_RETURN_IF_ERROR(CheckText("outcome_text", command.outcome_text(),
                                      TextLimits::kText, false));
  stored::PlanEvent event;
  stored::AreaClosed& closed = *event.mutable_area_closed();
  closed.set_outcome(Twin<stored::Outcome>(command.outcome()));
  closed.set_outcome_text(command.outcome_text());
  closed.set_reason(command.reason());
  closed.set_phase_before(area.phase());
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::ReopenAreaRequest& command,
                                         const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(RequireArea(area, command.area_id()));
  if (!area.closed()) {
    return Refuse(Code::kFailedPrecondition, "reopen-closed-only",
                  absl::StrCat("area \"", command.area_id(), "\" is open (",
                               Words(area.phase()),
                               "); only a closed area can be reopened"));
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckReason("reason", command.reason(), "reopening an area"));
  stored::Phase phase = Twin<stored::Phase>(command.phase());
  if (phase == stored::PHASE_UNSPECIFIED) phase = stored::PHASE_IN_PROGRESS;
  if (phase == stored::PHASE_COMPLETED || phase == stored::PHASE_CANCELLED ||
      !stored::Phase_IsValid(phase)) {
    return Invalid("reopened-phase",
                   "phase: an area reopens as proposed, planned, in progress "
                   "or paused");
  }
  stored::PlanEvent event;
  event.mutable_area_reopened()->set_reason(command.reason());
  event.mutable_area_reopened()->set_phase(phase);
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(const stored::AreaState& area,
                                         const v1::CorrectEntryRequest& command,
                                         const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(RequireArea(area, command.area_id()));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckReason("reason", command.reason(), "a correction"));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckText("correction", command.correction(), TextLimits::kText, false));
  if (command.position() == 0) {
    return Invalid("correct-existing-entry",
                   "position: name the position of the entry to correct");
  }
  if (!facts.event_at_position ||
      facts.event_at_position->position != command.position()) {
    return Refuse(Code::kNotFound, "correct-existing-entry",
                  absl::StrCat("position: there is no event at position ",
                               command.position()));
  }
  const EventRef& target = *facts.event_at_position;
  if (target.stream_id != AreaStream(facts.stream_plan, command.area_id())) {
    return Invalid(
        "correct-own-entry",
        absl::StrCat("position: the event at position ", command.position(),
                     " belongs to \"", target.stream_id, "\", not to area \"",
                     command.area_id(), "\""));
  }
  stored::PlanEvent event;
  stored::EntryCorrected& corrected = *event.mutable_entry_corrected();
  corrected.set_position(target.position);
  corrected.set_event_id(target.event_id);
  corrected.set_event_type(target.type);
  corrected.set_reason(command.reason());
  corrected.set_correction(command.correction());
  return event;
}

absl::StatusOr<std::string> DecisionIdOf(
    const v1::RecordDecisionRequest& command) {
  if (!command.decision_id().empty()) {
    PLANTRAIL_RETURN_IF_ERROR(CheckId("decision_id", command.decision_id()));
    return command.decision_id();
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckLine("reference", command.reference(), TextLimits::kId, true));
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<PlanDate> decided_on,
                             ParseDate("decided_on", command.decided_on()));
  if (!decided_on) {
    return Invalid("decided-on-required",
                   "decided_on: a decision needs the date it was taken");
  }
  std::string id =
      absl::StrCat(command.reference(), "-", decided_on->Canonical());
  for (char& c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      c = '-';
    }
  }
  if (absl::Status valid = CheckId("decision_id", id); !valid.ok()) {
    return Invalid(
        "decision-id-syntax",
        absl::StrCat("decision_id: cannot derive an id from "
                     "reference \"",
                     command.reference(), "\"; give decision_id explicitly"));
  }
  return id;
}

std::string OtherPlanAreaKey(absl::string_view plan_id,
                             absl::string_view area_id) {
  return absl::StrCat(plan_id, "/", area_id);
}

absl::StatusOr<stored::PlanEvent> Decide(
    const stored::DecisionState& decision,
    const v1::RecordDecisionRequest& command, const Facts& facts) {
  PLANTRAIL_ASSIGN_OR_RETURN(std::string decision_id, DecisionIdOf(command));
  if (decision.version() > 0) {
    return Refuse(Code::kAlreadyExists, "decision-once",
                  absl::StrCat("decision_id: decision \"", decision_id,
                               "\" is already recorded"));
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckLine("reference", command.reference(), TextLimits::kId, true));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckLine("body", command.body(), TextLimits::kName, true));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckLine("title", command.title(), TextLimits::kLine, true));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckText("outcome", command.outcome(), TextLimits::kText, false));
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<PlanDate> decided_on,
                             ParseDate("decided_on", command.decided_on()));
  if (!decided_on) {
    return Invalid("decided-on-required",
                   "decided_on: a decision needs the date it was taken");
  }
  if (command.area_ids().empty() && command.other_plan_areas().empty()) {
    return Invalid("decision-names-areas",
                   "area_ids: a decision names at least one area it concerns "
                   "(here or in other_plan_areas)");
  }
  if (static_cast<size_t>(command.area_ids_size() +
                          command.other_plan_areas_size()) >
      TextLimits::kDecisionAreas) {
    return Invalid(
        "length",
        absl::StrCat("area_ids: at most ", TextLimits::kDecisionAreas,
                     " areas per decision, other_plan_areas included"));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < command.area_ids_size(); ++i) {
    const std::string field = absl::StrCat("area_ids[", i, "]");
    const std::string& area_id = command.area_ids(i);
    PLANTRAIL_RETURN_IF_ERROR(CheckId(field, area_id));
    if (!seen.insert(area_id).second) {
      return Invalid("distinct",
                     absl::StrCat(field, ": \"", area_id, "\" is named twice"));
    }
    if (!facts.existing_areas.contains(area_id)) {
      return Refuse(
          Code::kNotFound, "decision-on-known-areas",
          absl::StrCat(field, ": area \"", area_id, "\" is not registered"));
    }
  }
  absl::flat_hash_set<std::string> seen_other;
  for (int i = 0; i < command.other_plan_areas_size(); ++i) {
    const v1::AreaRef& area = command.other_plan_areas(i);
    const std::string field = absl::StrCat("other_plan_areas[", i, "]");
    PLANTRAIL_RETURN_IF_ERROR(
        CheckPlanId(absl::StrCat(field, ".plan_id"), area.plan_id()));
    PLANTRAIL_RETURN_IF_ERROR(
        CheckId(absl::StrCat(field, ".area_id"), area.area_id()));
    if (area.plan_id() == command.plan_id()) {
      return Invalid("other-plan-areas-are-other-plans",
                     absl::StrCat(field, ".plan_id: \"", area.plan_id(),
                                  "\" is the decision's own plan; name its "
                                  "areas in area_ids"));
    }
    const std::string key = OtherPlanAreaKey(area.plan_id(), area.area_id());
    if (!seen_other.insert(key).second) {
      return Invalid(
          "distinct",
          absl::StrCat(field, ": area \"", area.area_id(), "\" of plan \"",
                       area.plan_id(), "\" is named twice"));
    }
    if (!facts.existing_other_plan_areas.contains(key)) {
      return Refuse(Code::kNotFound, "decision-on-known-areas",
                    absl::StrCat(field, ": area \"", area.area_id(),
                                 "\" is not registered in plan \"",
                                 area.plan_id(), "\""));
    }
  }
  stored::PlanEvent event;
  stored::DecisionRecorded& recorded = *event.mutable_decision_recorded();
  recorded.set_decision_id(decision_id);
  recorded.set_reference(command.reference());
  recorded.set_body(command.body());
  *recorded.mutable_decided_on() = ToProto(*decided_on);
  recorded.set_title(command.title());
  *recorded.mutable_area_ids() = command.area_ids();
  AppendTwins(command.other_plan_areas(), recorded.mutable_other_plan_areas());
  recorded.set_outcome(command.outcome());
  recorded.set_plan_id(command.plan_id());
  return event;
}

namespace {

// The dates of a plan as a request gives them: the period's ends, or a
// period in one text.
absl::Status ParsePlanFields(const v1::PlanFields& fields,
                             stored::PlanDetails& details) {
  const auto line = [](absl::string_view field, bool present,
                       const std::string& text, size_t max, bool required,
                       auto set) -> absl::Status {
    if (!present) return absl::OkStatus();
    PLANTRAIL_RETURN_IF_ERROR(
        CheckLine(absl::StrCat("fields.", field), text, max, required));
    set(text);
    return absl::OkStatus();
  };
  PLANTRAIL_RETURN_IF_ERROR(
      line("title", fields.has_title(), fields.title(), TextLimits::kLine, true,
           [&](const std::string& t) { details.set_title(t); }));
  PLANTRAIL_RETURN_IF_ERROR(
      line("organisation", fields.has_organisation(), fields.organisation(),
           TextLimits::kName, false,
           [&](const std::string& t) { details.set_organisation(t); }));
  PLANTRAIL_RETURN_IF_ERROR(
      line("reference", fields.has_reference(), fields.reference(),
           TextLimits::kName, false,
           [&](const std::string& t) { details.set_reference(t); }));
  PLANTRAIL_RETURN_IF_ERROR(
      line("decided_by", fields.has_decided_by(), fields.decided_by(),
           TextLimits::kName, false,
           [&](const std::string& t) { details.set_decided_by(t); }));
  PLANTRAIL_RETURN_IF_ERROR(
      line("owner", fields.has_owner(), fields.owner(), TextLimits::kName,
           false, [&](const std::string& t) { details.set_owner(t); }));
  PLANTRAIL_RETURN_IF_ERROR(
      line("followed_up_by", fields.has_followed_up_by(),
           fields.followed_up_by(), TextLimits::kName, false,
           [&](const std::string& t) { details.set_followed_up_by(t); }));
  if (fields.has_decided_on()) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        std::optional<PlanDate> date,
        ParseDate("fields.decided_on", fields.decided_on()));
    if (date) *details.mutable_decided_on() = ToProto(*date);
  }
  std::optional<PlanDate> start;
  std::optional<PlanDate> end;
  if (fields.has_period()) {
    if (fields.has_period_start() || fields.has_period_end()) {
      return Invalid("one-way-to-give-dates",
                     "fields.period: give either period or "
                     "period_start/period_end, not both");
    }
    PLANTRAIL_RETURN_IF_ERROR(
        CheckLine("fields.period", fields.period(), TextLimits::kDate, false));
    if (!absl::StripAsciiWhitespace(fields.period()).empty()) {
      absl::StatusOr<PlanRange> range = ParsePlanRange(fields.period());
      if (!range.ok()) {
        return Invalid(
            "plan-date-syntax",
            absl::StrCat("fields.period: ", range.status().message()));
      }
      start = range->start;
      end = range->end;
    }
  } else {
    if (fields.has_period_start()) {
      PLANTRAIL_ASSIGN_OR_RETURN(
          start, ParseDate("fields.period_start", fields.period_start()));
    }
    if (fields.has_period_end()) {
      PLANTRAIL_ASSIGN_OR_RETURN(
          end, ParseDate("fields.period_end", fields.period_end()));
    }
  }
  if (start && end) {
    const auto first = start->first_day();
    const auto last = end->last_day();
    if (first && last && *last < *first) {
      return Invalid("end-after-start",
                     absl::StrCat("fields.period_end: \"", end->text(),
                                  "\" ends before the period's start \"",
                                  start->text(), "\" begins"));
    }
  }
  if (start) *details.mutable_period_start() = ToProto(*start);
  if (end) *details.mutable_period_end() = ToProto(*end);
  return absl::OkStatus();
}

absl::Status RequirePlan(const stored::PlanState& plan,
                         absl::string_view plan_id) {
  PLANTRAIL_RETURN_IF_ERROR(CheckPlanId("plan_id", plan_id));
  if (plan.version() == 0) {
    return Refuse(
        Code::kNotFound, "plan-exists",
        absl::StrCat("plan_id: plan \"", plan_id, "\" is not registered"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RequirePlanOpen(const stored::PlanState& plan,
                             absl::string_view plan_id,
                             absl::string_view what) {
  PLANTRAIL_RETURN_IF_ERROR(RequirePlan(plan, plan_id));
  if (plan.closed()) {
    return Refuse(Code::kFailedPrecondition, "closed-plan-is-settled",
                  absl::StrCat("plan_id: plan \"", plan_id, "\" is closed: ",
                               what, " needs it reopened first"));
  }
  return absl::OkStatus();
}

absl::StatusOr<stored::PlanEvent> Decide(const stored::PlanState& plan,
                                         const v1::RegisterPlanRequest& command,
                                         const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(CheckPlanId("plan_id", command.plan_id()));
  if (plan.version() > 0) {
    return Refuse(Code::kAlreadyExists, "register-once",
                  absl::StrCat("plan_id: plan \"", command.plan_id(),
                               "\" is already registered (version ",
                               plan.version(), ")"));
  }
  if (!command.fields().has_title()) {
    return Invalid("title-required", "fields.title: a plan needs a title");
  }
  stored::PlanEvent event;
  stored::PlanRegistered& registered = *event.mutable_plan_registered();
  PLANTRAIL_RETURN_IF_ERROR(
      ParsePlanFields(command.fields(), *registered.mutable_details()));
  if (command.adopt_unplanned() && !facts.unplanned_holder.empty()) {
    return Refuse(
        Code::kFailedPrecondition, "one-plan-holds-unplanned",
        absl::StrCat("adopt_unplanned: plan \"", facts.unplanned_holder,
                     "\" already holds the areas recorded without "
                     "a plan"));
  }
  registered.set_plan_id(command.plan_id());
  registered.set_holds_unplanned(command.adopt_unplanned());
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(const stored::PlanState& plan,
                                         const v1::RevisePlanRequest& command,
                                         const Facts&) {
  PLANTRAIL_RETURN_IF_ERROR(
      RequirePlanOpen(plan, command.plan_id(), "a revision of the plan"));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckReason("reason", command.reason(), "a revision of a plan"));
  stored::PlanDetails given;
  PLANTRAIL_RETURN_IF_ERROR(ParsePlanFields(command.fields(), given));
  stored::PlanEvent event;
  stored::PlanRevised& revised = *event.mutable_plan_revised();
  stored::PlanDetails& before = *revised.mutable_before();
  stored::PlanDetails& after = *revised.mutable_after();
  const auto text = [&](bool has, const std::string& now,
                        const std::string& next, auto set_before,
                        auto set_after) {
    if (has && now != next) {
      // A field the plan did not have is absent before, not empty.
      if (!now.empty()) set_before(now);
      set_after(next);
    }
  };
  text(
      given.has_title(), plan.title(), given.title(),
      [&](const std::string& v) { before.set_title(v); },
      [&](const std::string& v) { after.set_title(v); });
  text(
      given.has_organisation(), plan.organisation(), given.organisation(),
      [&](const std::string& v) { before.set_organisation(v); },
      [&](const std::string& v) { after.set_organisation(v); });
  text(
      given.has_reference(), plan.reference(), given.reference(),
      [&](const std::string& v) { before.set_reference(v); },
      [&](const std::string& v) { after.set_reference(v); });
  text(
      given.has_decided_by(), plan.decided_by(), given.decided_by(),
      [&](const std::string& v) { before.set_decided_by(v); },
      [&](const std::string& v) { after.set_decided_by(v); });
  text(
      given.has_owner(), plan.owner(), given.owner(),
      [&](const std::string& v) { before.set_owner(v); },
      [&](const std::string& v) { after.set_owner(v); });
  text(
      given.has_followed_up_by(), plan.followed_up_by(), given.followed_up_by(),
      [&](const std::string& v) { before.set_followed_up_by(v); },
      [&](const std::string& v) { after.set_followed_up_by(v); });
  // A date given that differs from the plan's: before (when the plan had
  // one) and after.
  const auto Same = [](const stored::PlanDate& a, const stored::PlanDate& b) {
    return a.SerializeAsString() == b.SerializeAsString();
  };
  if (given.has_decided_on() &&
      !(plan.has_decided_on() && Same(plan.decided_on(), given.decided_on()))) {
    if (plan.has_decided_on()) *before.mutable_decided_on() = plan.decided_on();
    *after.mutable_decided_on() = given.decided_on();
  }
  if (given.has_period_start() &&
      !(plan.has_period_start() &&
        Same(plan.period_start(), given.period_start()))) {
    if (plan.has_period_start()) {
      *before.mutable_period_start() = plan.period_start();
    }
    *after.mutable_period_start() = given.period_start();
  }
  if (given.has_period_end() &&
      !(plan.has_period_end() && Same(plan.period_end(), given.period_end()))) {
    if (plan.has_period_end()) *before.mutable_period_end() = plan.period_end();
    *after.mutable_period_end() = given.period_end();
  }
  if (after.ByteSizeLong() == 0) {
    return Refuse(Code::kFailedPrecondition, "revision-changes-something",
                  "fields: set at least one field to a new value");
  }
  revised.set_reason(command.reason());
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(const stored::PlanState& plan,
                                         const v1::ClosePlanRequest& command,
                                         const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(RequirePlan(plan, command.plan_id()));
  if (plan.closed()) {
    return Refuse(Code::kFailedPrecondition, "close-once",
                  absl::StrCat("plan_id: plan \"", command.plan_id(),
                               "\" is already closed"));
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckReason("reason", command.reason(), "closing a plan"));
  // Each area closed with the plan must be one of its open areas, once.
  absl::flat_hash_set<std::string> open(facts.open_areas.begin(),
                                        facts.open_areas.end());
  absl::flat_hash_set<std::string> closing;
  for (int i = 0; i < command.close_areas_size(); ++i) {
    const std::string& area_id = command.close_areas(i).area_id();
    const std::string field = absl::StrCat("close_areas[", i, "].area_id");
    PLANTRAIL_RETURN_IF_ERROR(CheckId(field, area_id));
    if (!closing.insert(area_id).second) {
      return Invalid(
          "close-area-once",
          absl::StrCat(field, ": area \"", area_id, "\" is named twice"));
    }
    if (!open.contains(area_id)) {
      return Refuse(Code::kFailedPrecondition, "close-plan-closes-open-areas",
                    absl::StrCat(field, ": \"", area_id,
                                 "\" is not an open area of plan \"",
                                 command.plan_id(), "\""));
    }
  }
  std::vector<std::string> left_open;
  for (const std::string& area_id : facts.open_areas) {
    if (!closing.contains(area_id)) left_open.push_back(area_id);
  }
  if (!left_open.empty()) {
    constexpr size_t kNamed = 50;
    std::vector<std::string> named;
    for (const std::string& area_id : left_open) {
      if (named.size() == kNamed) break;
      named.push_back(absl::StrCat("\"", area_id, "\""));
    }
    std::string more;
    if (left_open.size() > kNamed) {
      more = absl::StrCat(" and ", left_open.size() - kNamed, " more");
    }
    return Refuse(Code::kFailedPrecondition, "close-plan-with-areas-closed",
                  absl::StrCat("plan_id: plan \"", command.plan_id(), "\" has ",
                               left_open.size(), " open area",
                               left_open.size() == 1 ? "" : "s", ": ",
                               absl::StrJoin(named, ", "), more,
                               "; close each with an outcome first, or name "
                               "it in close_areas with its outcome"));
  }
  stored::PlanEvent event;
  event.mutable_plan_closed()->set_reason(command.reason());
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(const stored::PlanState& plan,
                                         const v1::ReopenPlanRequest& command,
                                         const Facts&) {
  PLANTRAIL_RETURN_IF_ERROR(RequirePlan(plan, command.plan_id()));
  if (!plan.closed()) {
    return Refuse(
        Code::kFailedPrecondition, "reopen-closed",
        absl::StrCat("plan_id: plan \"", command.plan_id(), "\" is open"));
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckReason("reason", command.reason(), "reopening a plan"));
  stored::PlanEvent event;
  event.mutable_plan_reopened()->set_reason(command.reason());
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(const stored::PlanState& plan,
                                         const v1::OpenFollowUpRequest& command,
                                         const Facts& facts) {
  PLANTRAIL_RETURN_IF_ERROR(
      RequirePlanOpen(plan, command.plan_id(), "a follow-up round"));
  PLANTRAIL_RETURN_IF_ERROR(CheckId("round_id", command.round_id()));
  if (FindRound(plan.rounds(), command.round_id()) != nullptr) {
    return Refuse(
        Code::kAlreadyExists, "round-once",
        absl::StrCat("round_id: plan \"", command.plan_id(),
                     "\" already has a round \"", command.round_id(), "\""));
  }
  for (const stored::FollowUpRound& round : plan.rounds()) {
    if (!round.closed()) {
      return Refuse(Code::kFailedPrecondition, "one-open-round",
                    absl::StrCat("round_id: round \"", round.round_id(),
                                 "\" of plan \"", command.plan_id(),
                                 "\" is open: close it (CloseFollowUp) "
                                 "before opening the next"));
    }
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckLine("title", command.title(), TextLimits::kLine, true));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckLine("body", command.body(), TextLimits::kName, false));
  const std::string body = absl::StripAsciiWhitespace(command.body()).empty()
                               ? plan.followed_up_by()
                               : command.body();
  if (body.empty()) {
    return Invalid(
        "round-names-body",
        absl::StrCat("body: name the body that asked for the "
                     "report-back (plan \"",
                     command.plan_id(), "\" names none in followed_up_by)"));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<PlanDate> report_date,
                             ParseDate("report_date", command.report_date()));
  if (!report_date) {
    return Invalid("round-report-date-required",
                   "report_date: required: the date the reports speak for, "
                   "e.g. \"2018-01-10\"");
  }
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<PlanDate> meeting_date,
                             ParseDate("meeting_date", command.meeting_date()));
  if (meeting_date && meeting_date->last_day() && report_date->first_day() &&
      *meeting_date->last_day() < *report_date->first_day()) {
    return Invalid("meeting-after-report-date",
                   absl::StrCat("meeting_date: \"", meeting_date->text(),
                                "\" is before the report date \"",
                                report_date->text(), "\""));
  }
  if (plan.rounds_size() > 0) {
    const stored::FollowUpRound& previous = *plan.rounds().rbegin();
    absl::StatusOr<PlanDate> before = FromProto(previous.report_date());
    if (before.ok() && before->first_day() && report_date->last_day() &&
        *report_date->last_day() < *before->first_day()) {
      return Invalid("rounds-in-order",
                     absl::StrCat("report_date: \"", report_date->text(),
                                  "\" is before the report date \"",
                                  before->text(), "\" of the previous round \"",
                                  previous.round_id(), "\""));
    }
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckText("request", command.request(), TextLimits::kText, false));
  // The expected areas: those listed, each an open area of the plan once;
  // or every open area.
  std::vector<std::string> expected;
  if (command.expected_area_ids().empty()) {
    expected = facts.open_areas;
  } else {
    if (command.expected_area_ids_size() > static_cast<int>(kMaxRoundAreas)) {
      return Invalid("round-areas-limit",
                     absl::StrCat("expected_area_ids: at most ", kMaxRoundAreas,
                                  " areas"));
    }
    absl::flat_hash_set<std::string> open(facts.open_areas.begin(),
                                          facts.open_areas.end());
    absl::flat_hash_set<std::string> named;
    for (int i = 0; i < command.expected_area_ids_size(); ++i) {
      const std::string& area_id = command.expected_area_ids(i);
      const std::string field = absl::StrCat("expected_area_ids[", i, "]");
      PLANTRAIL_RETURN_IF_ERROR(CheckId(field, area_id));
      if (!named.insert(area_id).second) {
        return Invalid(
            "round-area-once",
            absl::StrCat(field, ": area \"", area_id, "\" is named twice"));
      }
      if (!open.contains(area_id)) {
        return Refuse(Code::kFailedPrecondition, "round-expects-open-areas",
                      absl::StrCat(field, ": \"", area_id,
                                   "\" is not an open area of plan \"",
                                   command.plan_id(), "\""));
      }
      expected.push_back(area_id);
    }
  }
  if (expected.empty()) {
    return Refuse(Code::kFailedPrecondition, "round-expects-areas",
                  absl::StrCat("plan_id: plan \"", command.plan_id(),
                               "\" has no open area to report"));
  }
  std::sort(expected.begin(), expected.end());
  stored::PlanEvent event;
  stored::FollowUpRound& round =
      *event.mutable_follow_up_opened()->mutable_round();
  round.set_round_id(command.round_id());
  round.set_title(command.title());
  round.set_body(body);
  *round.mutable_report_date() = ToProto(*report_date);
  if (meeting_date) *round.mutable_meeting_date() = ToProto(*meeting_date);
  for (std::string& area_id : expected) {
    round.add_expected_area_ids(std::move(area_id));
  }
  round.set_request(command.request());
  return event;
}

absl::StatusOr<stored::PlanEvent> Decide(
    const stored::PlanState& plan, const v1::CloseFollowUpRequest& command,
    const Facts&) {
  PLANTRAIL_RETURN_IF_ERROR(RequirePlan(plan, command.plan_id()));
  PLANTRAIL_RETURN_IF_ERROR(CheckId("round_id", command.round_id()));
  const stored::FollowUpRound* round =
      FindRound(plan.rounds(), command.round_id());
  if (round == nullptr) {
    return Refuse(
        Code::kNotFound, "round-exists",
        absl::StrCat("round_id: plan \"", command.plan_id(),
                     "\" has no follow-up round \"", command.round_id(), "\""));
  }
  if (round->closed()) {
    return Refuse(Code::kFailedPrecondition, "close-once",
                  absl::StrCat("round_id: round \"", command.round_id(),
                               "\" is already closed"));
  }
  PLANTRAIL_RETURN_IF_ERROR(
      CheckText("note", command.note(), TextLimits::kReason, false));
  stored::PlanEvent event;
  event.mutable_follow_up_closed()->set_round_id(command.round_id());
  event.mutable_follow_up_closed()->set_note(command.note());
  return event;
}

const stored::FollowUpRound* FindRound(
    const google::protobuf::RepeatedPtrField<stored::FollowUpRound>& rounds,
    absl::string_view round_id) {
  for (const stored::FollowUpRound& round : rounds) {
    if (round.round_id() == round_id) return &round;
  }
  return nullptr;
}

}  // namespace plantrail::domain
