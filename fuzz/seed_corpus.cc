// Writes the binary seeds of the checked-in corpus: serialized commands for
// plan_command (plan_command_input.h), stored records, headers, payloads and
// small values for stored_event, stored dates for plan_date. Built from the
// code that writes them for real (decide, EncodeEvent, EncodeRecord), so the
// seeds are what the server stores. The text seeds (dates, CSV and JSON
// plans) are written by hand.
//
//   build-fuzz/fuzz/plantrail_fuzz_seeds fuzz/corpus
//
// Deterministic: running it again rewrites the same bytes.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "domain/decide.h"
#include "domain/event_codec.h"
#include "domain/evolve.h"
#include "domain/plan_date.h"
#include "domain/plan_date_proto.h"
#include "domain/redaction.h"
#include "domain/streams.h"
#include "eventstore/event.h"
#include "eventstore/record_format.h"
#include "fuzz/plan_command_input.h"
#include "plantrail/stored/plan_events.pb.h"
#include "plantrail/v1/plan_commands.pb.h"

namespace plantrail::fuzz {
namespace {

namespace rf = eventstore::record_format;

class Writer {
 public:
  explicit Writer(std::filesystem::path root) : root_(std::move(root)) {}

  void Write(const std::string& target, const std::string& name,
             const std::string& bytes) {
    const std::filesystem::path dir = root_ / target;
    std::filesystem::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out << bytes;
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
      std::exit(1);
    }
    ++written_;
  }
  int written() const { return written_; }

 private:
  std::filesystem::path root_;
  int written_ = 0;
};

// --- plan_command -----------------------------------------------------------

v1::RegisterAreaRequest Register(const std::string& id) {
  v1::RegisterAreaRequest command;
  command.mutable_options()->set_command_id(absl::StrCat("seed-register-", id));
  command.set_area_id(id);
  command.set_title("Inresande utbytesstudenter");
  command.set_support_area("3.1 Utbildningsadministrativt stöd");
  command.set_group("In- och utresande studenter");
  command.set_rationale("Handle incoming exchange students jointly.");
  command.set_desired_effect("One lawful way across the university.");
  command.add_participating_units("VS-skolorna");
  command.add_participating_units("EDO-IRO");
  command.add_responsible_units("EDO-IRO");
  command.set_planned_start("HT23");
  command.set_planned_end("2024");
  command.set_phase(v1::PHASE_PLANNED);
  return command;
}

v1::ReviseDetailsRequest ReviseDetails(const std::string& id) {
  v1::ReviseDetailsRequest command;
  command.set_area_id(id);
  command.mutable_details()->set_title("Inresande studenter");
  command.mutable_details()->set_group("");
  command.set_reason("Shorter title");
  return command;
}

v1::ReportStatusRequest Report(const std::string& id) {
  v1::ReportStatusRequest command;
  command.set_area_id(id);
  command.set_phase(v1::PHASE_IN_PROGRESS);
  command.set_health(v1::HEALTH_ON_TRACK);
  command.set_narrative("On schedule.\nEvaluation in October.");
  command.set_reported_on("2018-01-10");
  command.set_next_report_due("juni 2018");
  command.mutable_options()->set_correlation_id("report-back-2018");
  return command;
}

v1::ReviseScheduleRequest Reschedule(const std::string& id) {
  v1::ReviseScheduleRequest command;
  command.set_area_id(id);
  command.set_planned_period("Start april 2023 – slut december 2025");
  command.set_reason("DD/DM agreements renegotiated");
  command.set_decision_id("V-2022-0218-2023-04-05");
  return command;
}

v1::AddDependencyRequest DependOnArea(const std::string& id,
                                      const std::string& on) {
  v1::AddDependencyRequest command;
  command.set_area_id(id);
  command.set_on_area_id(on);
  command.set_kind(v1::DEPENDENCY_KIND_REQUIRES);
  command.set_note("Needs the shared intake first.");
  return command;
}

v1::AddDependencyRequest DependOnExternal(const std::string& id) {
  v1::AddDependencyRequest command;
  command.set_area_id(id);
  command.set_external("Mobility Online");
  command.set_kind(v1::DEPENDENCY_KIND_RELATES);
  return command;
}

v1::RemoveDependencyRequest Undepend(const std::string& id) {
  v1::RemoveDependencyRequest command;
  command.set_area_id(id);
  command.set_external("Mobility Online");
  command.set_reason("Replaced");
  return command;
}

v1::ChangeUnitsRequest ChangeUnits(const std::string& id) {
  v1::ChangeUnitsRequest command;
  command.set_area_id(id);
  command.mutable_participating_units()->add_units("GVS");
  command.mutable_participating_units()->add_units("ITA");
  command.mutable_responsible_units();
  command.set_reason("Merger into one organisation");
  return command;
}

v1::RecordDecisionRequest Decision(const std::vector<std::string>& areas) {
  v1::RecordDecisionRequest command;
  command.set_reference("V-2023-0101");
  command.set_body("ledningsrådet");
  command.set_decided_on("den 30 juni 2023");
  command.set_title("Prioriteringar");
  for (const std::string& area : areas) command.add_area_ids(area);
  command.set_outcome("Adopted");
  return command;
}

v1::CloseAreaRequest Close(const std::string& id) {
  v1::CloseAreaRequest command;
  command.set_area_id(id);
  command.set_outcome(v1::OUTCOME_CANCELLED);
  command.set_outcome_text("Merged into 3.1.2");
  command.set_reason("Overlaps");
  command.mutable_options()->set_expected_version(3);
  return command;
}

v1::ReopenAreaRequest Reopen(const std::string& id) {
  v1::ReopenAreaRequest command;
  command.set_area_id(id);
  command.set_reason("Back on the agenda");
  command.set_phase(v1::PHASE_PAUSED);
  return command;
}

v1::CorrectEntryRequest Correct(const std::string& id, uint64_t position) {
  v1::CorrectEntryRequest command;
  command.set_area_id(id);
  command.set_position(position);
  command.set_reason("Wrong date");
  command.set_correction("It was reported on 2018-01-11");
  return command;
}

void WriteCommands(Writer& out) {
  const std::string kTarget = "plan_command";
  // One command each, on the seeded plan of plan_command_fuzzer.cc.
  out.Write(kTarget, "register_area", FrameCommand(Register("3.2.1")));
  out.Write(kTarget, "revise_details", FrameCommand(ReviseDetails("3.1.3")));
  out.Write(kTarget, "report_status", FrameCommand(Report("3.1.3")));
  out.Write(kTarget, "revise_schedule", FrameCommand(Reschedule("3.1.3")));
  out.Write(kTarget, "add_dependency_area",
            FrameCommand(DependOnArea("3.1.3", "3.1.4")));
  out.Write(kTarget, "add_dependency_external",
            FrameCommand(DependOnExternal("3.1.3")));
  v1::RemoveDependencyRequest ladok;
  ladok.set_area_id("3.1.3");
  ladok.set_external("Ladok");
  ladok.set_reason("Integration done");
  out.Write(kTarget, "remove_dependency", FrameCommand(ladok));
  out.Write(kTarget, "change_units", FrameCommand(ChangeUnits("3.1.3")));
  out.Write(kTarget, "record_decision",
            FrameCommand(Decision({"3.1.2", "3.1.3"})));
  out.Write(kTarget, "close_area", FrameCommand(Close("3.1.3")));
  out.Write(kTarget, "reopen_area", FrameCommand(Reopen("3.1.4")));
  out.Write(kTarget, "correct_entry", FrameCommand(Correct("3.1.3", 6)));

  // A new area's life, command after command.
  const std::string id = "3.2.1";
  std::string life;
  life += FrameCommand(Register(id));
  life += FrameCommand(Report(id));
  life += FrameCommand(Reschedule(id));
  life += FrameCommand(DependOnArea(id, "3.1.3"));
  life += FrameCommand(DependOnExternal(id));
  life += FrameCommand(Undepend(id));
  life += FrameCommand(ChangeUnits(id));
  life += FrameCommand(ReviseDetails(id));
  life += FrameCommand(Decision({id, "3.1.3"}));
  life += FrameCommand(Close(id));
  life += FrameCommand(Reopen(id));
  life += FrameCommand(Correct(id, 12));
  out.Write(kTarget, "sequence_area_life", life);

  // A plan's life: registered, revised, closed, reopened.
  v1::RegisterPlanRequest plan;
  plan.set_plan_id("kth-vs-2023");
  plan.mutable_fields()->set_title("Handlingsplan för verksamhetsstöd");
  plan.mutable_fields()->set_organisation("KTH");
  plan.mutable_fields()->set_reference("V-2022-0218");
  plan.mutable_fields()->set_decided_on("2023-04-05");
  plan.mutable_fields()->set_period("2023-2025");
  v1::RevisePlanRequest revise_plan;
  revise_plan.set_plan_id("kth-vs-2023");
  revise_plan.mutable_fields()->set_period("2023-2026");
  revise_plan.set_reason("Förlängd ett år");
  v1::ClosePlanRequest close_plan;
  close_plan.set_plan_id("kth-vs-2023");
  close_plan.set_reason("Planperioden är slut");
  v1::ReopenPlanRequest reopen_plan;
  reopen_plan.set_plan_id("kth-vs-2023");
  reopen_plan.set_reason("Uppföljningen fortsätter");
  v1::OpenFollowUpRequest open_round;
  open_round.set_plan_id("kth-vs-2023");
  open_round.set_round_id("2024-03");
  open_round.set_title("Uppföljning mars 2024");
  open_round.set_body("Ledningsrådet");
  open_round.set_report_date("2024-03-01");
  open_round.set_meeting_date("2024-03-20");
  open_round.add_expected_area_ids("3.1.3");
  v1::CloseFollowUpRequest close_round;
  close_round.set_plan_id("kth-vs-2023");
  close_round.set_round_id("2024-03");
  close_round.set_note("Till ledningsrådet");
  out.Write(kTarget, "register_plan", FrameCommand(plan));
  out.Write(kTarget, "sequence_follow_up",
            FrameCommand(plan) + FrameCommand(Register("3.1.3")) +
                FrameCommand(open_round) + FrameCommand(Report("3.1.3")) +
                FrameCommand(close_round) + FrameCommand(open_round));
  out.Write(kTarget, "sequence_plan_life",
            FrameCommand(plan) + FrameCommand(revise_plan) +
                FrameCommand(close_plan) + FrameCommand(reopen_plan) +
                FrameCommand(close_plan));

  // Refusals: a second registration, a report on a closed area, a schedule
  // that ends before it starts.
  std::string refused;
  refused += FrameCommand(Register("3.1.3"));
  refused += FrameCommand(Report("3.1.4"));
  v1::ReviseScheduleRequest backwards = Reschedule("3.1.3");
  backwards.set_planned_period("");
  backwards.set_planned_start("2026");
  backwards.set_planned_end("Q4 2022");
  refused += FrameCommand(backwards);
  out.Write(kTarget, "sequence_refusals", refused);
}

// --- stored_event -----------------------------------------------------------

struct Stored {
  std::string stream_id;
  stored::PlanEvent event;
};

// A short plan's events, decided for real.
std::vector<Stored> PlanEvents() {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  domain::Facts facts{.now = now};
  std::vector<Stored> events;
  stored::AreaState area;
  auto decide = [&](const auto& command) {
    absl::StatusOr<stored::PlanEvent> event =
        domain::Decide(area, command, facts);
    if (!event.ok()) {
      std::fprintf(stderr, "seed command refused: %s\n",
                   event.status().ToString().c_str());
      std::exit(1);
    }
    domain::EvolveArea(area, *event, {.version = area.version() + 1});
    events.push_back({domain::AreaStream(command.area_id()), *event});
  };
  facts.existing_areas.insert("3.1.3");
  facts.existing_decisions.insert("V-2022-0218-2023-04-05");
  decide(Register("3.2.1"));
  decide(Report("3.2.1"));
  decide(Reschedule("3.2.1"));
  decide(DependOnArea("3.2.1", "3.1.3"));
  decide(DependOnExternal("3.2.1"));
  decide(Undepend("3.2.1"));
  decide(ChangeUnits("3.2.1"));
  decide(ReviseDetails("3.2.1"));
  decide(Close("3.2.1"));
  decide(Reopen("3.2.1"));
  facts.event_at_position =
      domain::EventRef{.position = 2,
                       .stream_id = "area-3.2.1",
                       .event_id = "00000000-0000-4000-8000-000000000002",
                       .type = "StatusReported"};
  decide(Correct("3.2.1", 2));
  facts.existing_areas.insert("3.2.1");
  stored::DecisionState decision;
  absl::StatusOr<stored::PlanEvent> recorded =
      domain::Decide(decision, Decision({"3.2.1", "3.1.3"}), facts);
  if (!recorded.ok()) std::exit(1);
  events.push_back({"decision-V-2023-0101-2023-06-30", *recorded});
  return events;
}

eventstore::RecordedEvent Record(uint64_t position, uint64_t version,
                                 const std::string& stream_id,
                                 const std::string& type, std::string payload,
                                 std::string content_type,
                                 eventstore::Metadata metadata,
                                 const eventstore::Hash& previous) {
  eventstore::RecordedEvent event;
  event.event_id = absl::StrCat("0f1e2d3c-4b5a-4978-8695-00000000",
                                absl::Hex(position, absl::kZeroPad4));
  event.stream_id = stream_id;
  event.type = type;
  event.payload = std::move(payload);
  event.content_type = std::move(content_type);
  event.metadata = std::move(metadata);
  event.recorded_at = absl::FromUnixMicros(1'700'000'000'000'000 +
                                           static_cast<int64_t>(position));
  event.position = position;
  event.stream_version = version;
  event.payload_hash = rf::Sha256(event.payload);
  event.hash = rf::ChainHash(previous, rf::Sha256(rf::EncodeHeader(event)),
                             event.payload_hash);
  return event;
}

void WriteStored(Writer& out) {
  const std::string kTarget = "stored_event";
  const std::string kRecord(1, '\0'), kHeader(1, '\1'), kPayload(1, '\2'),
      kSmall(1, '\3');
  eventstore::Hash previous{};
  uint64_t position = 0;
  uint64_t area_version = 0;
  for (const Stored& stored : PlanEvents()) {
    ++position;
    const bool area = stored.stream_id.rfind("area-", 0) == 0;
    const domain::EncodedEvent encoded = domain::EncodeEvent(stored.event);
    eventstore::Metadata metadata = {
        {"actor", "planner@kth"},
        {"command_fingerprint", "00112233445566778899aabbccddeeff"}};
    if (position % 3 == 0) {
      metadata["command_id"] = absl::StrCat("import-", position);
    }
    const eventstore::RecordedEvent event = Record(
        position, area ? ++area_version : 1, stored.stream_id, encoded.type,
        encoded.payload, encoded.content_type, metadata, previous);
    previous = event.hash;
    out.Write(kTarget, absl::StrCat("record_", encoded.type),
              kRecord + rf::EncodeRecord(event));
    // The payload alone, with its type's index in PlanEvent's oneof.
    out.Write(kTarget, absl::StrCat("payload_", encoded.type),
              kPayload + static_cast<char>(stored.event.event_case() - 1) +
                  encoded.payload);
    if (position == 3) {
      // Redacted: the tombstone stands in for the payload.
      eventstore::RecordedEvent redacted = event;
      redacted.payload =
          *domain::RedactedPlanPayload(encoded.type, encoded.payload);
      redacted.redacted = true;
      out.Write(kTarget, "record_redacted",
                kRecord + rf::EncodeRecord(redacted));
      // Header redacted too: a metadata value cleared, the header's hash
      // as appended kept after it (flags bit 1).
      eventstore::RecordedEvent header_redacted = redacted;
      header_redacted.header_hash = rf::Sha256(rf::EncodeHeader(event));
      header_redacted.metadata["command_fingerprint"] = rf::kRedactedValue;
      out.Write(kTarget, "record_header_redacted",
                kRecord + rf::EncodeRecord(header_redacted));
      // The redaction's record, which binds the header it left.
      const eventstore::RecordedEvent binding = Record(
          99, 1, "plantrail-redactions", "PayloadRedacted", "", "",
          {{"actor", "admin"},
           {rf::kRedactedHeaderKey,
            rf::EncodeRedactedHeader(
                {.position = position,
                 .hash = rf::Sha256(rf::EncodeHeader(header_redacted))})}},
          event.hash);
      out.Write(kTarget, "record_redaction_binding",
                kRecord + rf::EncodeRecord(binding));
      out.Write(kTarget, "header_ScheduleRevised",
                kHeader + rf::EncodeHeader(event));
      out.Write(kTarget, "small_stream_head",
                kSmall + rf::EncodeStreamHead({.version = area_version,
                                               .last_position = position}));
      out.Write(kTarget, "small_event_id_entry",
                kSmall + rf::EncodeEventIdEntry({.position = position,
                                                 .append_first = position,
                                                 .append_count = 1}));
      out.Write(kTarget, "small_events_key",
                kSmall + rf::PositionKey(position));
    }
  }
  // Outside the plan: a low-level append, and a system record.
  const eventstore::RecordedEvent order =
      Record(++position, 1, "orders-1", "OrderPlaced", R"({"sku":"A-1"})",
             "application/json", {}, previous);
  out.Write(kTarget, "record_other_stream", kRecord + rf::EncodeRecord(order));
  // A plan stream with a type this version does not know.
  const eventstore::RecordedEvent newer =
      Record(++position, 1, "area-3.9.9", "AreaRenamed", "\x0a\x03x.y", "",
             {{"actor", "admin"}}, order.hash);
  out.Write(kTarget, "record_unknown_plan_type",
            kRecord + rf::EncodeRecord(newer));
}

// --- plan_date --------------------------------------------------------------

void WriteStoredDates(Writer& out) {
  const std::string kTarget = "plan_date";
  for (const char* text : {"HT 23", "Q4 2022", "den 30 juni 2023", "löpande"}) {
    const absl::StatusOr<domain::PlanDate> date = domain::PlanDate::Parse(text);
    if (!date.ok()) std::exit(1);
    const std::string name = absl::StrCat(
        "stored_", domain::ToProto(*date).precision(), "_", date->year());
    out.Write(
        kTarget, name,
        std::string(1, '\0') + domain::ToProto(*date).SerializeAsString());
  }
}

}  // namespace
}  // namespace plantrail::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (fuzz/corpus)\n", argv[0]);
    return 2;
  }
  plantrail::fuzz::Writer out(argv[1]);
  plantrail::fuzz::WriteCommands(out);
  plantrail::fuzz::WriteStored(out);
  plantrail::fuzz::WriteStoredDates(out);
  std::printf("%d seeds written under %s\n", out.written(), argv[1]);
  return 0;
}
