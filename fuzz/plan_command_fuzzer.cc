// Hostile PlanCommands requests: raw bytes parsed into each request message
// of domain/plan_commands.h (plan_command_input.h frames a sequence of them)
// and taken the way the command handler takes them
// (services/plan_command_handler.cc): the area, decision or plan id first,
// then domain::Execute (the command options, then Decide) on the state of
// the command's stream, and an accepted event folded in (evolve) so
// that the next command decides on it. Each command is decided on the state
// of its own stream (empty, or what the sequence and the seeded plan left)
// and also on a registered area, open and closed, with the same id.
//
// What it asserts (domain/decide.h, rules.h, event_codec.h, limits.h):
//   - a refusal has one of the contract's codes (INVALID_ARGUMENT,
//     NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION) and names its rule;
//     never DATA_LOSS or INTERNAL, which would mean that decide could not
//     read back what it accepted earlier;
//   - an accepted command is exactly one event, which the log accepts as the
//     handler would append it (ValidateAppend with the default limits), and
//     which decodes from its stored bytes to the same event;
//   - every plan date in the event reads back from its stored form as the
//     same date, with the same text;
//   - a decision's event carries the id DecisionIdOf gives the command.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "domain/decide.h"
#include "domain/event_codec.h"
#include "domain/evolve.h"
#include "domain/plan_date_proto.h"
#include "domain/rules.h"
#include "domain/streams.h"
#include "eventstore/event.h"
#include "eventstore/limits.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/plan_command_input.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"
#include "plantrail/stored/plan.pb.h"
#include "plantrail/stored/plan_events.pb.h"
#include "plantrail/v1/plan_commands.pb.h"

namespace plantrail::fuzz {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

// A sequence longer than this teaches nothing a shorter one does not.
constexpr size_t kMaxCommands = 16;

absl::Time Now() {
  return absl::FromCivil(absl::CivilSecond(2024, 3, 1, 12, 0, 0),
                         absl::UTCTimeZone());
}

// Tracing (fuzz_check.h): each command and what became of it.
void Trace(const Message& command, const absl::Status& outcome) {
  if (!Tracing()) return;
  std::fprintf(stderr, "%s\n  -> %s\n", command.ShortDebugString().c_str(),
               outcome.ok() ? "accepted" : outcome.ToString().c_str());
}

// A refusal as decide.h promises it.
void CheckRefusal(const absl::Status& status, const Message& command) {
  PLANTRAIL_FUZZ_CHECK(
      absl::IsInvalidArgument(status) || absl::IsNotFound(status) ||
          absl::IsAlreadyExists(status) || absl::IsFailedPrecondition(status),
      absl::StrCat(command.ShortDebugString(), ": ", Describe(status)));
  PLANTRAIL_FUZZ_CHECK(
      absl::StrContains(status.message(), "[rule: "),
      absl::StrCat(command.ShortDebugString(), ": ", Describe(status)));
}

// Every stored::PlanDate in `message`, at any depth, reads back as itself;
// `event` is what it is part of, for the report.
void CheckStoredDates(const Message& message, const Message& event) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const int count =
        field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      const Message& value =
          field->is_repeated()
              ? reflection->GetRepeatedMessage(message, field, i)
              : reflection->GetMessage(message, field);
      if (field->message_type() != stored::PlanDate::descriptor()) {
        CheckStoredDates(value, event);
        continue;
      }
      const auto& stored = static_cast<const stored::PlanDate&>(value);
      const absl::StatusOr<domain::PlanDate> date = domain::FromProto(stored);
      PLANTRAIL_FUZZ_CHECK(
          date.ok() && MessageDifferencer::Equals(ToProto(*date), stored),
          absl::StrCat(event.ShortDebugString(), ": ", field->full_name(), " ",
                       stored.ShortDebugString(), " does not read back"));
    }
  }
}

// An accepted command's event, checked as the handler would append it to
// `stream_id` at `version`.
void CheckEvent(const stored::PlanEvent& event, const std::string& stream_id,
                uint64_t version, const v1::CommandOptions& options,
                const Message& command) {
  const auto where = [&] {
    return absl::StrCat(command.ShortDebugString(), " -> ",
                        event.ShortDebugString());
  };
  const domain::EncodedEvent encoded = domain::EncodeEvent(event);
  PLANTRAIL_FUZZ_CHECK(
      !encoded.type.empty() && encoded.type == domain::EventType(event),
      where());

  eventstore::ProposedEvent proposed{
      .type = encoded.type,
      .payload = encoded.payload,
      .content_type = encoded.content_type,
      .metadata = {{"actor", "fuzz"},
                   {"command_fingerprint", std::string(32, 'f')}},
  };
  if (!options.command_id().empty()) {
    proposed.event_id = "8d3f1c2e-6b7a-8c9d-8e0f-112233445566";
    proposed.metadata["command_id"] = options.command_id();
  }
  if (!options.correlation_id().empty()) {
    proposed.metadata["correlation_id"] = options.correlation_id();
  }
  if (!options.causation_id().empty()) {
    proposed.metadata["causation_id"] = options.causation_id();
  }
  eventstore::AppendRequest append{
      .stream_id = stream_id,
      .expected_version = version == 0
                              ? eventstore::ExpectedVersion::NoStream()
                              : eventstore::ExpectedVersion::Exact(version),
  };
  append.events.push_back(std::move(proposed));
  const absl::Status valid =
      eventstore::ValidateAppend(append, eventstore::Limits{});
  PLANTRAIL_FUZZ_CHECK(
      valid.ok(),
      absl::StrCat(where(), ": the log refuses it: ", Describe(valid)));

  const absl::StatusOr<stored::PlanEvent> decoded =
      domain::DecodeEvent(encoded.type, encoded.payload);
  PLANTRAIL_FUZZ_CHECK(decoded.ok(),
                       absl::StrCat(where(), ": ", Describe(decoded.status())));
  PLANTRAIL_FUZZ_CHECK(
      MessageDifferencer::Equals(*decoded, event),
      absl::StrCat(where(), ": decodes as ", decoded->ShortDebugString()));
  CheckStoredDates(event, event);
}

// The plan's streams in memory, and the log's positions: what the handler
// reads before it decides.
class Streams {
 public:
  stored::AreaState Area(const std::string& area_id) const {
    auto it = areas_.find(area_id);
    return it == areas_.end() ? stored::AreaState() : it->second;
  }
  stored::DecisionState Decision(const std::string& decision_id) const {
    auto it = decisions_.find(decision_id);
    return it == decisions_.end() ? stored::DecisionState() : it->second;
  }
  stored::PlanState Plan(const std::string& plan_id) const {
    auto it = plans_.find(plan_id);
    return it == plans_.end() ? stored::PlanState() : it->second;
  }

  // Every area and decision that exists, and the event at `position`.
  domain::Facts FactsFor(uint64_t position) const {
    domain::Facts facts{.now = Now()};
    for (const auto& [id, state] : areas_) facts.existing_areas.insert(id);
    for (const auto& [id, state] : decisions_) {
      facts.existing_decisions.insert(id);
    }
    if (position >= 1 && position <= log_.size()) {
      facts.event_at_position = log_[position - 1];
    }
    return facts;
  }

  void ApplyArea(const std::string& area_id, const stored::PlanEvent& event) {
    stored::AreaState& state = areas_[area_id];
    domain::EvolveArea(state, event, Next(state.version()));
    Log(domain::AreaStream(area_id), event);
  }
  void ApplyDecision(const std::string& decision_id,
                     const stored::PlanEvent& event) {
    stored::DecisionState& state = decisions_[decision_id];
    domain::EvolveDecision(state, event, Next(state.version()));
    Log(domain::DecisionStream(decision_id), event);
  }
  void ApplyPlan(const std::string& plan_id, const stored::PlanEvent& event) {
    stored::PlanState& state = plans_[plan_id];
    domain::EvolvePlan(state, event, Next(state.version()));
    Log(domain::PlanStream(plan_id), event);
  }

 private:
  domain::EventContext Next(uint64_t version) const {
    return {.position = log_.size() + 1,
            .version = version + 1,
            .recorded_at = Now(),
            .actor = "fuzz"};
  }
  void Log(std::string stream_id, const stored::PlanEvent& event) {
    const uint64_t position = log_.size() + 1;
    log_.push_back(
        {.position = position,
         .stream_id = std::move(stream_id),
         .event_id = absl::StrFormat("00000000-0000-4000-8000-%012d", position),
         .type = domain::EventType(event)});
  }

  std::map<std::string, stored::AreaState> areas_;
  std::map<std::string, stored::DecisionState> decisions_;
  std::map<std::string, stored::PlanState> plans_;
  std::vector<domain::EventRef> log_;
};

template <typename Request>
uint64_t PositionNamed(const Request& command) {
  if constexpr (std::is_same_v<Request, v1::CorrectEntryRequest>) {
    return command.position();
  }
  return 0;
}

// One command on an area's stream, as HandleArea takes it. Returns whether
// it was accepted (and folded into `streams`).
template <typename Request>
bool HandleArea(const Request& command, Streams& streams,
                const std::vector<stored::AreaState>& registered) {
  if (absl::Status id = domain::CheckId("area_id", command.area_id());
      !id.ok()) {
    Trace(command, id);
    CheckRefusal(id, command);
    return false;
  }
  const domain::Facts facts = streams.FactsFor(PositionNamed(command));
  const std::string stream_id = domain::AreaStream(command.area_id());
  for (const stored::AreaState& other : registered) {
    stored::AreaState state = other;
    state.set_area_id(command.area_id());
    const absl::StatusOr<stored::PlanEvent> event =
        domain::Execute(state, command, facts);
    if (!event.ok()) {
      CheckRefusal(event.status(), command);
    } else {
      CheckEvent(*event, stream_id, state.version(), command.options(),
                 command);
    }
  }
  const stored::AreaState state = streams.Area(command.area_id());
  const absl::StatusOr<stored::PlanEvent> event =
      domain::Execute(state, command, facts);
  Trace(command, event.status());
  if (!event.ok()) {
    CheckRefusal(event.status(), command);
    return false;
  }
  CheckEvent(*event, stream_id, state.version(), command.options(), command);
  streams.ApplyArea(command.area_id(), *event);
  return true;
}

// A RecordDecisionRequest, as the handler takes it.
bool HandleDecision(const v1::RecordDecisionRequest& command,
                    Streams& streams) {
  const absl::StatusOr<std::string> decision_id = domain::DecisionIdOf(command);
  if (!decision_id.ok()) {
    Trace(command, decision_id.status());
    CheckRefusal(decision_id.status(), command);
    return false;
  }
  const stored::DecisionState state = streams.Decision(*decision_id);
  const absl::StatusOr<stored::PlanEvent> event =
      domain::Execute(state, command, streams.FactsFor(0));
  Trace(command, event.status());
  if (!event.ok()) {
    CheckRefusal(event.status(), command);
    return false;
  }
  CheckEvent(*event, domain::DecisionStream(*decision_id), state.version(),
             command.options(), command);
  PLANTRAIL_FUZZ_CHECK(event->decision_recorded().decision_id() == *decision_id,
                       absl::StrCat(command.ShortDebugString(), " recorded as ",
                                    event->decision_recorded().decision_id()));
  streams.ApplyDecision(*decision_id, *event);
  return true;
}

// A command on a plan's own stream, as HandlePlan takes it.
template <typename Request>
bool HandlePlan(const Request& command, Streams& streams) {
  if (absl::Status id = domain::CheckPlanId("plan_id", command.plan_id());
      !id.ok()) {
    Trace(command, id);
    CheckRefusal(id, command);
    return false;
  }
  const stored::PlanState state = streams.Plan(command.plan_id());
  const absl::StatusOr<stored::PlanEvent> event =
      domain::Execute(state, command, streams.FactsFor(0));
  Trace(command, event.status());
  if (!event.ok()) {
    CheckRefusal(event.status(), command);
    return false;
  }
  CheckEvent(*event, domain::PlanStream(command.plan_id()), state.version(),
             command.options(), command);
  streams.ApplyPlan(command.plan_id(), *event);
  return true;
}

template <typename Request>
bool Handle(absl::string_view bytes, Streams& streams,
            const std::vector<stored::AreaState>& registered) {
  Request command;
  // Bytes that are no such message never reach the handler: gRPC refuses
  // them.
  if (!command.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return false;
  }
  if constexpr (std::is_same_v<Request, v1::RecordDecisionRequest>) {
    return HandleDecision(command, streams);
  } else if constexpr (requires(const stored::PlanState& plan,
                                const Request& request,
                                const domain::Facts& facts) {
                         domain::Decide(plan, request, facts);
                       }) {
    return HandlePlan(command, streams);
  } else {
    return HandleArea(command, streams, registered);
  }
}

bool Handle(const FramedCommand& framed, Streams& streams,
            const std::vector<stored::AreaState>& registered) {
  return domain::VisitPlanCommand<bool>(framed.kind, [&](auto type) {
    using Request = typename decltype(type)::type;
    return Handle<Request>(framed.bytes, streams, registered);
  });
}

// The plan every input starts from: areas 3.1.2 and 3.1.3 registered, 3.1.3
// with dates, units, dependencies, a report and a revised schedule; 3.1.4
// closed; a decision on them. Built through the same path, so a seeded plan
// that no longer decides is a failure at start-up, not a silent empty plan.
struct Seeded {
  Streams streams;
  // Registered areas, open (3.1.3) and closed (3.1.4).
  std::vector<stored::AreaState> registered;
};

template <typename Request>
void Seed(const Request& command, Streams& streams) {
  const bool accepted = Handle<Request>(command.SerializeAsString(), streams,
                                        /*registered=*/{});
  PLANTRAIL_FUZZ_CHECK(accepted, absl::StrCat("the seeded plan refuses ",
                                              command.ShortDebugString()));
}

Seeded MakeSeeded() {
  Seeded seeded;
  Streams& streams = seeded.streams;
  for (const char* id : {"3.1.2", "3.1.3", "3.1.4"}) {
    v1::RegisterAreaRequest area;
    area.set_area_id(id);
    area.set_title(absl::StrCat("Area ", id));
    area.set_support_area("3.1 Utbildningsadministrativt stöd");
    area.add_participating_units("GVS");
    area.add_participating_units("ITA");
    area.add_responsible_units("GVS");
    area.set_planned_period("Start april 2023 – slut december 2023");
    Seed(area, streams);
  }
  v1::AddDependencyRequest on_area;
  on_area.set_area_id("3.1.3");
  on_area.set_on_area_id("3.1.2");
  Seed(on_area, streams);
  v1::AddDependencyRequest external;
  external.set_area_id("3.1.3");
  external.set_external("Ladok");
  external.set_kind(v1::DEPENDENCY_KIND_RELATES);
  Seed(external, streams);
  v1::ReportStatusRequest report;
  report.set_area_id("3.1.3");
  report.set_phase(v1::PHASE_IN_PROGRESS);
  report.set_health(v1::HEALTH_AT_RISK);
  report.set_narrative("Agreements are being renegotiated.");
  report.set_reported_on("2023-10-02");
  report.set_next_report_due("december 2023");
  Seed(report, streams);
  v1::RecordDecisionRequest decision;
  decision.set_reference("V-2022-0218");
  decision.set_body("universitetsdirektören");
  decision.set_decided_on("2023-04-05");
  decision.set_title("Handlingsplan");
  decision.add_area_ids("3.1.3");
  decision.add_area_ids("3.1.4");
  Seed(decision, streams);
  v1::ReviseScheduleRequest revision;
  revision.set_area_id("3.1.3");
  revision.set_planned_end("VT25");
  revision.set_reason("Agreements renegotiated");
  revision.set_decision_id("V-2022-0218-2023-04-05");
  Seed(revision, streams);
  v1::CloseAreaRequest close;
  close.set_area_id("3.1.4");
  close.set_outcome(v1::OUTCOME_COMPLETED);
  close.set_reason("Done");
  Seed(close, streams);
  seeded.registered = {streams.Area("3.1.3"), streams.Area("3.1.4")};
  return seeded;
}

void FuzzCommands(absl::string_view input) {
  static const Seeded* const seeded = new Seeded(MakeSeeded());
  Streams streams = seeded->streams;
  for (const FramedCommand& framed : SplitCommands(input, kMaxCommands)) {
    Handle(framed, streams, seeded->registered);
  }
}

}  // namespace
}  // namespace plantrail::fuzz

PLANTRAIL_FUZZ_TARGET(plantrail::fuzz::FuzzCommands)
