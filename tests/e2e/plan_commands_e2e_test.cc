// plantrail.v1.PlanCommands end to end: the real plantraild, started as a
// process on a free loopback port with a temporary data directory, driven
// through the generated gRPC client. What the commands wrote is read back
// through EventStore and folded with the domain's own evolve.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "domain/event_codec.h"
#include "domain/evolve.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "plantrail/stored/plan.pb.h"
#include "plantrail/stored/plan_events.pb.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "tests/e2e/grpc_reply.h"
#include "tests/e2e/server_process.h"
#include "tests/e2e/server_test.h"
#include "tests/temp_dir.h"

namespace plantrail {
namespace {

using ::plantrail::testing::FailsWith;
using ::plantrail::testing::Reply;
using ::plantrail::testing::Succeeded;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

// The principal of the first start's admin token, which the tests use.
constexpr char kPrincipal[] = "admin";
// What RecordDecision derives from reference V-2022-0218 and 2023-04-05.
constexpr char kDecisionId[] = "V-2022-0218-2023-04-05";

// What one command call came back with.
using Outcome = Reply<v1::CommandResult>;

::testing::Matcher<const Outcome&> Refused(grpc::StatusCode code,
                                           std::vector<std::string> parts) {
  return FailsWith(code, std::move(parts));
}

MATCHER_P3(PlanDateIs, precision, year, text, "") {
  if (arg.precision() == precision && arg.year() == year &&
      arg.text() == text) {
    return true;
  }
  *result_listener << "is {" << arg.ShortDebugString() << "}";
  return false;
}

using ::plantrail::testing::ToTime;

std::string Meta(const v1::RecordedEvent& event, const std::string& key) {
  const auto found = event.metadata().find(key);
  return found == event.metadata().end() ? std::string() : found->second;
}

stored::PlanEvent Decode(const v1::RecordedEvent& recorded) {
  absl::StatusOr<stored::PlanEvent> event =
      domain::DecodeEvent(recorded.type(), recorded.payload());
  EXPECT_TRUE(event.ok()) << recorded.type() << " at position "
                          << recorded.position() << ": " << event.status();
  return event.ok() ? *std::move(event) : stored::PlanEvent();
}

domain::EventContext ContextOf(const v1::RecordedEvent& recorded) {
  return domain::EventContext{
      .position = recorded.position(),
      .version = recorded.stream_version(),
      .recorded_at = ToTime(recorded.recorded_at()),
      .actor = Meta(recorded, "actor"),
  };
}

// The area's state after its events up to `up_to_version`.
stored::AreaState FoldArea(
    const std::vector<v1::RecordedEvent>& events,
    uint64_t up_to_version = std::numeric_limits<uint64_t>::max()) {
  stored::AreaState state;
  for (const v1::RecordedEvent& recorded : events) {
    if (recorded.stream_version() > up_to_version) break;
    domain::EvolveArea(state, Decode(recorded), ContextOf(recorded));
  }
  return state;
}

class PlanCommandsE2eTest : public plantrail::testing::ServerTest {
 protected:
  // Sends one command, with `metadata` on the call.
  template <typename Request>
  Outcome Send(
      const Request& request,
      const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    auto context = Context(metadata);
    Outcome outcome;
    outcome.status = Invoke(context.get(), request, &outcome.response);
    for (const auto& [key, value] : context->GetServerTrailingMetadata()) {
      outcome.trailers[std::string(key.data(), key.size())] =
          std::string(value.data(), value.size());
    }
    return outcome;
  }

  // --- Commands of the seed plans, in my own words. -----------------------

  // KTH action plan V-2022-0218, support area 3.4 (finance).
  static v1::RegisterAreaRequest BudgetFollowUp() {
    v1::RegisterAreaRequest request;
    request.set_area_id("3.4.2");
    request.set_title("Gemensam modell för budgetuppföljning");
    request.set_support_area("3.4");
    request.set_group("Ekonomi");
    request.set_rationale(
        "Skolorna följer upp sina budgetar på olika sätt, så utfallen går "
        "inte att jämföra.");
    request.set_desired_effect(
        "Ledningen läser samma uppföljning från alla skolor varje kvartal.");
    request.add_participating_units("ABE");
    request.add_participating_units("CBH");
    request.add_responsible_units("GVS Ekonomiavdelningen");
    request.set_planned_period("Start april 2023 – slut december 2023");
    return request;
  }

  static v1::RegisterAreaRequest InternalPricing() {
    v1::RegisterAreaRequest request;
    request.set_area_id("3.4.1");
    request.set_title("Översyn av internprissättningen");
    request.set_support_area("3.4");
    request.set_group("Ekonomi");
    request.add_responsible_units("GVS Ekonomiavdelningen");
    request.set_planned_period("Q4 2022-Q4 2023");
    request.set_phase(v1::PHASE_IN_PROGRESS);
    return request;
  }

  // A municipal plan in the Piteå style: ongoing work, reported on by date.
  static v1::RegisterAreaRequest PermitService() {
    v1::RegisterAreaRequest request;
    request.set_area_id("2.1.3");
    request.set_title("E-tjänst för bygglovsansökningar");
    request.set_support_area("Samhällsbyggnad");
    request.add_responsible_units("Bygg- och miljökontoret");
    request.set_planned_period("Löpande");
    request.set_phase(v1::PHASE_IN_PROGRESS);
    return request;
  }

  static v1::RecordDecisionRequest ActionPlanDecision() {
    v1::RecordDecisionRequest request;
    request.set_reference("V-2022-0218");
    request.set_body("Rektor");
    request.set_decided_on("2023-04-05");
    request.set_title("Handlingsplan för verksamhetsstödet fastställs");
    request.add_area_ids("3.4.2");
    request.add_area_ids("3.4.1");
    request.set_outcome("Planen gäller till och med 2024.");
    return request;
  }

  static v1::ReportStatusRequest Report(const std::string& area_id,
                                        const std::string& narrative) {
    v1::ReportStatusRequest request;
    request.set_area_id(area_id);
    request.set_phase(v1::PHASE_IN_PROGRESS);
    request.set_health(v1::HEALTH_ON_TRACK);
    request.set_narrative(narrative);
    request.set_reported_on("2023-06-12");
    return request;
  }

  static v1::CloseAreaRequest Close(const std::string& area_id,
                                    v1::Outcome outcome) {
    v1::CloseAreaRequest request;
    request.set_area_id(area_id);
    request.set_outcome(outcome);
    request.set_reason("Styrgruppen avslutar området");
    return request;
  }

  // The results of the KTH scenario, in the order sent.
  struct Scenario {
    std::vector<std::pair<std::string, Outcome>> steps;
    const v1::CommandResult& Result(const std::string& name) const {
      for (const auto& [step, outcome] : steps) {
        if (step == name) return outcome.response;
      }
      ADD_FAILURE() << "no step " << name;
      static const v1::CommandResult* const kNone = new v1::CommandResult();
      return *kNone;
    }
  };

  // Every RPC at least once: 3.4.2 is registered, revised, reported on,
  // rescheduled twice, given and relieved of dependencies, has its units
  // changed, an entry corrected, is closed, reopened and closed again.
  Scenario RunKthScenario() {
    Scenario scenario;
    auto step = [&](const std::string& name, const auto& request) {
      scenario.steps.emplace_back(name, Send(request));
      EXPECT_THAT(scenario.steps.back().second, Succeeded()) << name;
    };
    step("register 3.4.2", BudgetFollowUp());
    step("register 3.4.1", InternalPricing());
    {
      v1::RecordDecisionRequest request = ActionPlanDecision();
      request.mutable_options()->set_correlation_id("handlingsplan-2023");
      step("decision", request);
    }
    {
      v1::ReviseDetailsRequest request;
      request.set_area_id("3.4.2");
      request.mutable_details()->set_title(
          "Gemensam modell för budget- och prognosuppföljning");
      request.mutable_details()->set_group("Ekonomi och planering");
      request.mutable_details()->set_support_area("3.4");  // unchanged
      request.set_reason("Beslutet tar med prognoserna i uppföljningen");
      step("revise details", request);
    }
    {
      v1::ReportStatusRequest request =
          Report("3.4.2", "Arbetet går enligt plan; en första mall finns.");
      request.set_next_report_due("HT23");
      step("report 1", request);
    }
    {
      v1::ReviseScheduleRequest request;
      request.set_area_id("3.4.2");
      request.set_planned_end("VT24");
      request.set_reason("Remissvaren från skolorna dröjde");
      request.set_decision_id(kDecisionId);
      step("reschedule 1", request);
    }
    {
      v1::ReviseScheduleRequest request;
      request.set_area_id("3.4.2");
      request.set_planned_start("HT23");
      request.set_reason("Vakanser sköt uppstarten till hösten");
      step("reschedule 2", request);
    }
    {
      v1::AddDependencyRequest request;
      request.set_area_id("3.4.2");
      request.set_on_area_id("3.4.1");
      request.set_note("Internpriserna behöver vara kända först");
      step("depend on 3.4.1", request);
    }
    {
      v1::AddDependencyRequest request;
      request.set_area_id("3.4.2");
      request.set_external("Upphandling av rapportverktyg");
      request.set_kind(v1::DEPENDENCY_KIND_RELATES);
      step("depend on procurement", request);
    }
    {
      v1::RemoveDependencyRequest request;
      request.set_area_id("3.4.2");
      request.set_external("Upphandling av rapportverktyg");
      request.set_reason("Befintligt BI-stöd räcker");
      step("drop procurement", request);
    }
    {
      v1::ChangeUnitsRequest request;
      request.set_area_id("3.4.2");
      request.mutable_participating_units()->add_units("ABE");
      request.mutable_participating_units()->add_units("CBH");
      request.mutable_participating_units()->add_units("ITM");
      request.set_reason("ITM ansluter efter sommaren");
      step("change units", request);
    }
    {
      v1::ReportStatusRequest request =
          Report("3.4.2", "Pausat i väntan på den nya internprismodellen.");
      request.set_phase(v1::PHASE_PAUSED);
      request.set_health(v1::HEALTH_AT_RISK);
      request.set_reported_on("2023-11-20");
      request.set_next_report_due("snarast");
      step("report 2", request);
    }
    {
      v1::CorrectEntryRequest request;
      request.set_area_id("3.4.2");
      request.set_position(scenario.Result("report 1").position());
      request.set_reason("Rapporten angav fel datum");
      request.set_correction("Rapporten avsåg läget den 14 juni 2023");
      step("correct report 1", request);
    }
    {
      v1::CloseAreaRequest request = Close("3.4.2", v1::OUTCOME_CANCELLED);
      request.set_outcome_text("Ersätts av ett större ekonomiprojekt");
      step("close (cancelled)", request);
    }
    {
      v1::ReopenAreaRequest request;
      request.set_area_id("3.4.2");
      request.set_reason("Ekonomiprojektet stoppades; området behövs igen");
      step("reopen", request);
    }
    {
      v1::CloseAreaRequest request = Close("3.4.2", v1::OUTCOME_COMPLETED);
      request.set_outcome_text("Alla skolor följer upp enligt modellen");
      step("close (completed)", request);
    }
    step("register 2.1.3", PermitService());
    {
      v1::ReportStatusRequest request =
          Report("2.1.3", "Pågår enligt tidsplan. Ett urval sökande testar.");
      request.set_reported_on("2018-01-10");
      request.set_next_report_due("VT 2018");
      step("report 2.1.3", request);
    }
    return scenario;
  }
};

// --- 1. Every RPC succeeds and says what it wrote. -------------------------

TEST_F(PlanCommandsE2eTest, EveryRpcSucceedsOnAKthActionPlan) {
  const Scenario scenario = RunKthScenario();
  struct Expected {
    const char* step;
    const char* stream_id;
    uint64_t version;
    const char* event_type;
  };
  const std::vector<Expected> expected = {
      {"register 3.4.2", "area-3.4.2", 1, "AreaRegistered"},
      {"register 3.4.1", "area-3.4.1", 1, "AreaRegistered"},
      {"decision", "decision-V-2022-0218-2023-04-05", 1, "DecisionRecorded"},
      {"revise details", "area-3.4.2", 2, "AreaDetailsRevised"},
      {"report 1", "area-3.4.2", 3, "StatusReported"},
      {"reschedule 1", "area-3.4.2", 4, "ScheduleRevised"},
      {"reschedule 2", "area-3.4.2", 5, "ScheduleRevised"},
      {"depend on 3.4.1", "area-3.4.2", 6, "DependencyAdded"},
      {"depend on procurement", "area-3.4.2", 7, "DependencyAdded"},
      {"drop procurement", "area-3.4.2", 8, "DependencyRemoved"},
      {"change units", "area-3.4.2", 9, "UnitsChanged"},
      {"report 2", "area-3.4.2", 10, "StatusReported"},
      {"correct report 1", "area-3.4.2", 11, "EntryCorrected"},
      {"close (cancelled)", "area-3.4.2", 12, "AreaClosed"},
      {"reopen", "area-3.4.2", 13, "AreaReopened"},
      {"close (completed)", "area-3.4.2", 14, "AreaClosed"},
      {"register 2.1.3", "area-2.1.3", 1, "AreaRegistered"},
      {"report 2.1.3", "area-2.1.3", 2, "StatusReported"},
  };
  ASSERT_EQ(scenario.steps.size(), expected.size());
  std::set<std::string> event_ids;
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].step);
    const auto& [name, outcome] = scenario.steps[i];
    ASSERT_EQ(name, expected[i].step);
    ASSERT_THAT(outcome, Succeeded());
    EXPECT_EQ(outcome.response.stream_id(), expected[i].stream_id);
    EXPECT_EQ(outcome.response.version(), expected[i].version);
    EXPECT_EQ(outcome.response.position(), base_ + i + 1)
        << "one event per command";
    EXPECT_EQ(outcome.response.event_type(), expected[i].event_type);
    EXPECT_THAT(outcome.response.event_id(), SizeIs(36)) << "a UUID";
    EXPECT_FALSE(outcome.response.replayed());
    event_ids.insert(outcome.response.event_id());
  }
  EXPECT_THAT(event_ids, SizeIs(expected.size()));

  // The log agrees with every result.
  const std::vector<v1::RecordedEvent> log = ReadAll();
  ASSERT_EQ(log.size(), expected.size());
  for (size_t i = 0; i < log.size(); ++i) {
    const v1::CommandResult& result = scenario.steps[i].second.response;
    EXPECT_EQ(log[i].position(), result.position());
    EXPECT_EQ(log[i].stream_id(), result.stream_id());
    EXPECT_EQ(log[i].stream_version(), result.version());
    EXPECT_EQ(log[i].event_id(), result.event_id());
    EXPECT_EQ(log[i].type(), result.event_type());
    EXPECT_EQ(log[i].content_type(),
              absl::StrCat("application/x-protobuf; messageType=plantrail.v1.",
                           result.event_type()));
    EXPECT_THAT(Meta(log[i], "command_fingerprint"), Not(""));
  }
  EXPECT_EQ(Meta(log[2], "correlation_id"), "handlingsplan-2023");
  EXPECT_EQ(Meta(log[3], "correlation_id"), "");
}

// --- 2. The area's events fold into the state the commands describe. -------

TEST_F(PlanCommandsE2eTest, TheAreaFoldedFromItsStreamTellsItsHistory) {
  const Scenario scenario = RunKthScenario();
  const std::vector<v1::RecordedEvent> events = ReadStream("area-3.4.2");
  ASSERT_EQ(events.size(), 14u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].stream_version(), i + 1);
  }

  // The two schedule revisions keep baseline, previous and new dates.
  const stored::PlanEvent first = Decode(events[3]);
  ASSERT_TRUE(first.has_schedule_revised()) << events[3].type();
  const stored::ScheduleRevised& r1 = first.schedule_revised();
  EXPECT_THAT(r1.baseline_start(), PlanDateIs(stored::PLAN_DATE_PRECISION_MONTH,
                                              2023, "april 2023"));
  EXPECT_EQ(r1.baseline_start().month(), 4);
  EXPECT_THAT(r1.baseline_end(), PlanDateIs(stored::PLAN_DATE_PRECISION_MONTH,
                                            2023, "december 2023"));
  EXPECT_EQ(r1.baseline_end().month(), 12);
  EXPECT_THAT(r1.previous_start(), PlanDateIs(stored::PLAN_DATE_PRECISION_MONTH,
                                              2023, "april 2023"));
  EXPECT_THAT(r1.previous_end(), PlanDateIs(stored::PLAN_DATE_PRECISION_MONTH,
                                            2023, "december 2023"));
  EXPECT_THAT(r1.new_start(), PlanDateIs(stored::PLAN_DATE_PRECISION_MONTH,
                                         2023, "april 2023"));
  EXPECT_THAT(r1.new_end(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_TERM, 2024, "VT24"));
  EXPECT_EQ(r1.new_end().term(), stored::TERM_SPRING);
  EXPECT_EQ(r1.reason(), "Remissvaren från skolorna dröjde");
  EXPECT_EQ(r1.decision_id(), kDecisionId);

  const stored::PlanEvent second = Decode(events[4]);
  ASSERT_TRUE(second.has_schedule_revised()) << events[4].type();
  const stored::ScheduleRevised& r2 = second.schedule_revised();
  EXPECT_THAT(r2.baseline_start(), PlanDateIs(stored::PLAN_DATE_PRECISION_MONTH,
                                              2023, "april 2023"));
  EXPECT_THAT(r2.baseline_end(), PlanDateIs(stored::PLAN_DATE_PRECISION_MONTH,
                                            2023, "december 2023"));
  EXPECT_THAT(r2.previous_start(), PlanDateIs(stored::PLAN_DATE_PRECISION_MONTH,
                                              2023, "april 2023"));
  EXPECT_THAT(r2.previous_end(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_TERM, 2024, "VT24"));
  EXPECT_THAT(r2.new_start(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_TERM, 2023, "HT23"));
  EXPECT_EQ(r2.new_start().term(), stored::TERM_AUTUMN);
  EXPECT_THAT(r2.new_end(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_TERM, 2024, "VT24"));
  EXPECT_EQ(r2.reason(), "Vakanser sköt uppstarten till hösten");
  EXPECT_EQ(r2.decision_id(), "");

  // The revision of details records only what changed.
  const stored::PlanEvent details = Decode(events[1]);
  ASSERT_TRUE(details.has_area_details_revised());
  EXPECT_EQ(details.area_details_revised().before().title(),
            "Gemensam modell för budgetuppföljning");
  EXPECT_EQ(details.area_details_revised().after().group(),
            "Ekonomi och planering");
  EXPECT_FALSE(details.area_details_revised().after().has_support_area());

  // The correction points at the first report.
  const stored::PlanEvent correction = Decode(events[10]);
  ASSERT_TRUE(correction.has_entry_corrected());
  EXPECT_EQ(correction.entry_corrected().position(),
            scenario.Result("report 1").position());
  EXPECT_EQ(correction.entry_corrected().event_id(),
            scenario.Result("report 1").event_id());
  EXPECT_EQ(correction.entry_corrected().event_type(), "StatusReported");

  // Before the first closing: phase and health are the latest report's.
  const stored::AreaState open = FoldArea(events, 11);
  EXPECT_EQ(open.version(), 11u);
  EXPECT_FALSE(open.closed());
  EXPECT_EQ(open.phase(), stored::PHASE_PAUSED);
  EXPECT_EQ(open.health(), stored::HEALTH_AT_RISK);
  EXPECT_EQ(open.latest_report().narrative(),
            "Pausat i väntan på den nya internprismodellen.");
  EXPECT_THAT(open.latest_report().reported_on(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_DAY, 2023, "2023-11-20"));
  EXPECT_EQ(open.latest_report().next_report_due().precision(),
            stored::PLAN_DATE_PRECISION_AS_SOON_AS_POSSIBLE);
  EXPECT_EQ(open.latest_report_position(),
            scenario.Result("report 2").position());

  const stored::AreaState cancelled = FoldArea(events, 12);
  EXPECT_TRUE(cancelled.closed());
  EXPECT_EQ(cancelled.outcome(), stored::OUTCOME_CANCELLED);
  EXPECT_EQ(cancelled.phase(), stored::PHASE_CANCELLED);
  const stored::AreaState reopened = FoldArea(events, 13);
  EXPECT_FALSE(reopened.closed());
  EXPECT_EQ(reopened.outcome(), stored::OUTCOME_UNSPECIFIED);
  EXPECT_EQ(reopened.phase(), stored::PHASE_IN_PROGRESS);

  const stored::AreaState area = FoldArea(events);
  EXPECT_EQ(area.area_id(), "3.4.2");
  EXPECT_EQ(area.version(), 14u);
  EXPECT_EQ(area.position(), scenario.Result("close (completed)").position());
  EXPECT_EQ(area.title(), "Gemensam modell för budget- och prognosuppföljning");
  EXPECT_EQ(area.support_area(), "3.4");
  EXPECT_EQ(area.group(), "Ekonomi och planering");
  EXPECT_THAT(
      area.baseline_start(),
      PlanDateIs(stored::PLAN_DATE_PRECISION_MONTH, 2023, "april 2023"));
  EXPECT_THAT(area.baseline_end(), PlanDateIs(stored::PLAN_DATE_PRECISION_MONTH,
                                              2023, "december 2023"));
  EXPECT_THAT(area.planned_start(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_TERM, 2023, "HT23"));
  EXPECT_THAT(area.planned_end(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_TERM, 2024, "VT24"));
  EXPECT_EQ(area.schedule_revisions(), 2u);
  EXPECT_EQ(area.status_reports(), 2u);
  EXPECT_EQ(area.health(), stored::HEALTH_AT_RISK);
  ASSERT_EQ(area.dependencies_size(), 1);
  EXPECT_EQ(area.dependencies(0).area_id(), "3.4.1");
  EXPECT_EQ(area.dependencies(0).kind(), stored::DEPENDENCY_KIND_REQUIRES);
  EXPECT_EQ(area.dependencies(0).note(),
            "Internpriserna behöver vara kända först");
  EXPECT_THAT(area.participating_units(), ElementsAre("ABE", "CBH", "ITM"));
  EXPECT_THAT(area.responsible_units(), ElementsAre("GVS Ekonomiavdelningen"));
  EXPECT_TRUE(area.closed());
  EXPECT_EQ(area.outcome(), stored::OUTCOME_COMPLETED);
  EXPECT_EQ(area.phase(), stored::PHASE_COMPLETED);
  EXPECT_EQ(area.outcome_text(), "Alla skolor följer upp enligt modellen");
  EXPECT_THAT(area.corrected_positions(),
              ElementsAre(scenario.Result("report 1").position()));
  EXPECT_EQ(area.registered_by(), kPrincipal);
  EXPECT_EQ(area.updated_by(), kPrincipal);
  EXPECT_LE(ToTime(area.registered_at()), ToTime(area.updated_at()));

  // The Piteå-style area: an ongoing plan reported on with a past date.
  const stored::AreaState permits = FoldArea(ReadStream("area-2.1.3"));
  EXPECT_EQ(permits.planned_start().precision(),
            stored::PLAN_DATE_PRECISION_ONGOING);
  EXPECT_EQ(permits.planned_end().precision(),
            stored::PLAN_DATE_PRECISION_ONGOING);
  EXPECT_EQ(permits.phase(), stored::PHASE_IN_PROGRESS);
  EXPECT_EQ(permits.health(), stored::HEALTH_ON_TRACK);
  EXPECT_THAT(permits.latest_report().reported_on(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_DAY, 2018, "2018-01-10"));
  EXPECT_THAT(permits.latest_report().next_report_due(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_TERM, 2018, "VT 2018"));
  EXPECT_THAT(permits.latest_report().narrative(),
              HasSubstr("Pågår enligt tidsplan"));

  // The 3.4.1 area keeps its quarters.
  const stored::AreaState pricing = FoldArea(ReadStream("area-3.4.1"));
  EXPECT_THAT(pricing.planned_start(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_QUARTER, 2022, "Q4 2022"));
  EXPECT_THAT(pricing.planned_end(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_QUARTER, 2023, "Q4 2023"));
  EXPECT_EQ(pricing.phase(), stored::PHASE_IN_PROGRESS);

  // The decision in its own stream.
  const std::vector<v1::RecordedEvent> decision_events =
      ReadStream(absl::StrCat("decision-", kDecisionId));
  ASSERT_EQ(decision_events.size(), 1u);
  stored::DecisionState decision;
  domain::EvolveDecision(decision, Decode(decision_events[0]),
                         ContextOf(decision_events[0]));
  EXPECT_EQ(decision.decision_id(), kDecisionId);
  EXPECT_EQ(decision.reference(), "V-2022-0218");
  EXPECT_EQ(decision.body(), "Rektor");
  EXPECT_THAT(decision.decided_on(),
              PlanDateIs(stored::PLAN_DATE_PRECISION_DAY, 2023, "2023-04-05"));
  EXPECT_THAT(decision.area_ids(), ElementsAre("3.4.2", "3.4.1"));
  EXPECT_EQ(decision.recorded_by(), kPrincipal);
}

// --- 3. Who did it is the server's principal, whatever the call says. ------

TEST_F(PlanCommandsE2eTest, TheActorIsTheServersPrincipalNotTheCallersClaim) {
  const std::vector<std::pair<std::string, std::string>> forged = {
      {"x-plantrail-actor", "mallory"},
      {"actor", "mallory"},
      {"x-plantrail-principal", "mallory"},
  };
  ASSERT_THAT(Send(BudgetFollowUp(), forged), Succeeded());
  ASSERT_THAT(Send(InternalPricing(), forged), Succeeded());
  ASSERT_THAT(Send(Report("3.4.2", "Mallory skriver en rapport."), forged),
              Succeeded());
  ASSERT_THAT(Send(ActionPlanDecision(), forged), Succeeded());
  v1::CloseAreaRequest close = Close("3.4.1", v1::OUTCOME_COMPLETED);
  close.mutable_options()->set_correlation_id("mallory");
  ASSERT_THAT(Send(close, forged), Succeeded());

  const std::vector<v1::RecordedEvent> log = ReadAll();
  ASSERT_EQ(log.size(), 5u);
  for (const v1::RecordedEvent& event : log) {
    EXPECT_EQ(Meta(event, "actor"), kPrincipal)
        << event.type() << " at " << event.position();
  }
  const stored::AreaState area = FoldArea(ReadStream("area-3.4.2"));
  EXPECT_EQ(area.registered_by(), kPrincipal);
  EXPECT_EQ(area.updated_by(), kPrincipal);
}

// --- 4. Every refusal, with its code, field and rule; nothing written. -----

class PlanCommandsRefusalTest : public PlanCommandsE2eTest {
 protected:
  void SetUp() override {
    PlanCommandsE2eTest::SetUp();
    v1::RegisterAreaRequest budget = BudgetFollowUp();
    budget.clear_planned_period();
    budget.set_planned_start("april 2023");
    budget.set_planned_end("december 2023");
    ASSERT_THAT(Send(budget), Succeeded());
    ASSERT_THAT(Send(InternalPricing()), Succeeded());
    v1::AddDependencyRequest dependency;
    dependency.set_area_id("3.4.2");
    dependency.set_on_area_id("3.4.1");
    ASSERT_THAT(Send(dependency), Succeeded());
    const Outcome report = Send(Report("3.4.2", "Pågår enligt tidsplan."));
    ASSERT_THAT(report, Succeeded());
    report_position_ = report.response.position();
    ASSERT_THAT(Send(ActionPlanDecision()), Succeeded());
    v1::RegisterAreaRequest closed = BudgetFollowUp();
    closed.set_area_id("3.4.9");
    ASSERT_THAT(Send(closed), Succeeded());
    ASSERT_THAT(Send(Close("3.4.9", v1::OUTCOME_CANCELLED)), Succeeded());
    head_ = HeadPosition();
    ASSERT_EQ(head_, base_ + 7);
  }

  // Nothing half-written by any refusal.
  void TearDown() override {
    if (store_ != nullptr) {
      EXPECT_EQ(HeadPosition(), head_) << "a refused command wrote something";
    }
  }

  uint64_t report_position_ = 0;
  uint64_t head_ = 0;
};

TEST_F(PlanCommandsRefusalTest, RegisteringTwiceIsAlreadyExists) {
  EXPECT_THAT(Send(BudgetFollowUp()),
              Refused(grpc::StatusCode::ALREADY_EXISTS,
                      {"area_id: ", "\"3.4.2\"", "already registered",
                       "[rule: register-once]"}));
  EXPECT_THAT(Send(ActionPlanDecision()),
              Refused(grpc::StatusCode::ALREADY_EXISTS,
                      {"decision_id: ", kDecisionId, "already recorded",
                       "[rule: decision-once]"}));
}

TEST_F(PlanCommandsRefusalTest, AnUnknownAreaIsNotFound) {
  EXPECT_THAT(Send(Report("3.4.7", "Finns inte.")),
              Refused(grpc::StatusCode::NOT_FOUND,
                      {"area_id: ", "\"3.4.7\"", "not registered",
                       "[rule: area-exists]"}));
  v1::ReviseScheduleRequest schedule;
  schedule.set_area_id("3.4.7");
  schedule.set_planned_end("VT24");
  schedule.set_reason("Ny tidplan");
  EXPECT_THAT(Send(schedule), Refused(grpc::StatusCode::NOT_FOUND,
                                      {"area_id: ", "[rule: area-exists]"}));
  v1::ReopenAreaRequest reopen;
  reopen.set_area_id("3.4.7");
  reopen.set_reason("Behövs igen");
  EXPECT_THAT(Send(reopen), Refused(grpc::StatusCode::NOT_FOUND,
                                    {"area_id: ", "[rule: area-exists]"}));
}

TEST_F(PlanCommandsRefusalTest, ARevisionThatChangesNothingIsRefused) {
  v1::ReviseDetailsRequest details;
  details.set_area_id("3.4.2");
  details.mutable_details()->set_title("Gemensam modell för budgetuppföljning");
  details.mutable_details()->set_support_area("3.4");
  details.set_reason("Samma igen");
  EXPECT_THAT(Send(details), Refused(grpc::StatusCode::FAILED_PRECONDITION,
                                     {"details: ", "already has that value",
                                      "[rule: revision-changes-something]"}));

  v1::ReviseScheduleRequest schedule;
  schedule.set_area_id("3.4.2");
  schedule.set_planned_start("april 2023");
  schedule.set_planned_end("december 2023");
  schedule.set_reason("Samma tidplan");
  EXPECT_THAT(Send(schedule), Refused(grpc::StatusCode::FAILED_PRECONDITION,
                                      {"planned_start: ", "already runs from",
                                       "[rule: revision-changes-something]"}));
  // The same period spelt differently is no change either.
  schedule.set_planned_start("2023-04");
  schedule.set_planned_end("Dec 2023");
  EXPECT_THAT(Send(schedule), Refused(grpc::StatusCode::FAILED_PRECONDITION,
                                      {"[rule: revision-changes-something]"}));

  v1::ChangeUnitsRequest units;
  units.set_area_id("3.4.2");
  units.mutable_responsible_units()->add_units("GVS Ekonomiavdelningen");
  EXPECT_THAT(Send(units), Refused(grpc::StatusCode::FAILED_PRECONDITION,
                                   {"participating_units: ",
                                    "[rule: revision-changes-something]"}));
}

TEST_F(PlanCommandsRefusalTest, RevisionsAndCorrectionsNeedAReason) {
  for (const char* reason : {"", "   "}) {
    SCOPED_TRACE(absl::StrCat("reason \"", reason, "\""));
    v1::ReviseDetailsRequest details;
    details.set_area_id("3.4.2");
    details.mutable_details()->set_title("En ny titel");
    details.set_reason(reason);
    EXPECT_THAT(Send(details), Refused(grpc::StatusCode::INVALID_ARGUMENT,
                                       {"reason: ", "needs a reason",
                                        "[rule: reason-required]"}));

    v1::ReviseScheduleRequest schedule;
    schedule.set_area_id("3.4.2");
    schedule.set_planned_end("VT24");
    schedule.set_reason(reason);
    EXPECT_THAT(Send(schedule),
                Refused(grpc::StatusCode::INVALID_ARGUMENT,
                        {"reason: ", "a schedule revision needs a reason",
                         "[rule: reason-required]"}));

    v1::CorrectEntryRequest correction;
    correction.set_area_id("3.4.2");
    correction.set_position(report_position_);
    correction.set_correction("Datumet var fel");
    correction.set_reason(reason);
    EXPECT_THAT(Send(correction),
                Refused(grpc::StatusCode::INVALID_ARGUMENT,
                        {"reason: ", "a correction needs a reason",
                         "[rule: reason-required]"}));
  }
}

TEST_F(PlanCommandsRefusalTest, AClosedAreaTakesNoStatusReport) {
  EXPECT_THAT(Send(Report("3.4.9", "Efter stängning.")),
              Refused(grpc::StatusCode::FAILED_PRECONDITION,
                      {"\"3.4.9\" is closed", "a status report",
                       "[rule: closed-area-is-settled]"}));
  EXPECT_THAT(Send(Close("3.4.9", v1::OUTCOME_COMPLETED)),
              Refused(grpc::StatusCode::FAILED_PRECONDITION,
                      {"already closed", "[rule: close-once]"}));
}

TEST_F(PlanCommandsRefusalTest, AnEndBeforeTheStartIsInvalid) {
  v1::ReviseScheduleRequest schedule;
  schedule.set_area_id("3.4.2");
  schedule.set_planned_start("VT24");
  schedule.set_planned_end("HT23");
  schedule.set_reason("Omplanering");
  EXPECT_THAT(Send(schedule), Refused(grpc::StatusCode::INVALID_ARGUMENT,
                                      {"planned_end: ", "\"HT23\" ends before",
                                       "\"VT24\"", "[rule: end-after-start]"}));
  // Only the end given: it must not end before the planned start.
  schedule.clear_planned_start();
  schedule.set_planned_end("Q1 2023");
  EXPECT_THAT(Send(schedule),
              Refused(grpc::StatusCode::INVALID_ARGUMENT,
                      {"planned_end: ",
                       "\"Q1 2023\" ends before planned_start \"april 2023\"",
                       "[rule: end-after-start]"}));

  v1::RegisterAreaRequest area = BudgetFollowUp();
  area.set_area_id("3.4.3");
  area.clear_planned_period();
  area.set_planned_start("2023-09-01");
  area.set_planned_end("2023-08-31");
  EXPECT_THAT(Send(area), Refused(grpc::StatusCode::INVALID_ARGUMENT,
                                  {"planned_end: ", "ends before",
                                   "[rule: end-after-start]"}));
  // A period written backwards is unreadable as a range.
  area.clear_planned_start();
  area.clear_planned_end();
  area.set_planned_period("Q4 2023-Q4 2022");
  EXPECT_THAT(Send(area), Refused(grpc::StatusCode::INVALID_ARGUMENT,
                                  {"planned_period: ", "is before the start",
                                   "[rule: plan-date-syntax]"}));
}

TEST_F(PlanCommandsRefusalTest, DependencyRefusals) {
  v1::AddDependencyRequest add;
  add.set_area_id("3.4.2");
  add.set_on_area_id("3.4.2");
  EXPECT_THAT(Send(add), Refused(grpc::StatusCode::INVALID_ARGUMENT,
                                 {"on_area_id: ", "cannot depend on itself",
                                  "[rule: no-self-dependency]"}));
  add.set_on_area_id("3.4.8");
  EXPECT_THAT(Send(add), Refused(grpc::StatusCode::NOT_FOUND,
                                 {"on_area_id: ", "\"3.4.8\" is not registered",
                                  "[rule: dependency-on-known-area]"}));
  add.set_on_area_id("3.4.1");
  EXPECT_THAT(Send(add), Refused(grpc::StatusCode::ALREADY_EXISTS,
                                 {"already depends on area \"3.4.1\"",
                                  "[rule: dependency-once]"}));

  v1::RemoveDependencyRequest remove;
  remove.set_area_id("3.4.2");
  remove.set_external("Nytt lönesystem");
  remove.set_reason("Behövs inte");
  EXPECT_THAT(Send(remove), Refused(grpc::StatusCode::NOT_FOUND,
                                    {"does not depend on \"Nytt lönesystem\"",
                                     "[rule: remove-existing-dependency]"}));
  remove.set_on_area_id("2.1.3");
  EXPECT_THAT(Send(remove), Refused(grpc::StatusCode::NOT_FOUND,
                                    {"does not depend on area \"2.1.3\"",
                                     "[rule: remove-existing-dependency]"}));
}

TEST_F(PlanCommandsRefusalTest, ADecisionMustNameKnownAreas) {
  v1::RecordDecisionRequest decision = ActionPlanDecision();
  decision.set_decided_on("2023-05-10");
  decision.clear_area_ids();
  EXPECT_THAT(Send(decision), Refused(grpc::StatusCode::INVALID_ARGUMENT,
                                      {"area_ids: ", "at least one area",
                                       "[rule: decision-names-areas]"}));
  decision.add_area_ids("3.4.2");
  decision.add_area_ids("3.4.6");
  EXPECT_THAT(Send(decision),
              Refused(grpc::StatusCode::NOT_FOUND,
                      {"area_ids[1]: ", "\"3.4.6\" is not registered",
                       "[rule: decision-on-known-areas]"}));
}

TEST_F(PlanCommandsRefusalTest, ReopeningAnOpenAreaIsRefused) {
  v1::ReopenAreaRequest reopen;
  reopen.set_area_id("3.4.2");
  reopen.set_reason("Behövs igen");
  EXPECT_THAT(Send(reopen), Refused(grpc::StatusCode::FAILED_PRECONDITION,
                                    {"\"3.4.2\" is open", "only a closed area",
                                     "[rule: reopen-closed-only]"}));
}

TEST_F(PlanCommandsRefusalTest, ACorrectionMustPointAtAnEntryOfItsArea) {
  v1::CorrectEntryRequest correction;
  correction.set_area_id("3.4.1");
  correction.set_position(report_position_);  // an event of 3.4.2
  correction.set_reason("Fel område");
  EXPECT_THAT(Send(correction),
              Refused(grpc::StatusCode::INVALID_ARGUMENT,
                      {"position: ", "belongs to \"area-3.4.2\"",
                       "not to area \"3.4.1\"", "[rule: correct-own-entry]"}));
  correction.set_position(999);
  EXPECT_THAT(Send(correction),
              Refused(grpc::StatusCode::NOT_FOUND,
                      {"position: ", "no event at position 999",
                       "[rule: correct-existing-entry]"}));
}

TEST_F(PlanCommandsRefusalTest, AnUnreadableDateIsQuoted) {
  v1::RegisterAreaRequest area = BudgetFollowUp();
  area.set_area_id("3.4.3");
  area.clear_planned_period();
  area.set_planned_start("Pilot HT 23");
  EXPECT_THAT(Send(area),
              Refused(grpc::StatusCode::INVALID_ARGUMENT,
                      {"planned_start: ", "cannot read \"Pilot HT 23\"",
                       "[rule: plan-date-syntax]"}));

  v1::ReportStatusRequest report = Report("3.4.2", "Läget är oklart.");
  report.set_reported_on("Pilot HT 23");
  EXPECT_THAT(Send(report), Refused(grpc::StatusCode::INVALID_ARGUMENT,
                                    {"reported_on: ", "\"Pilot HT 23\"",
                                     "[rule: plan-date-syntax]"}));

  v1::ReviseScheduleRequest schedule;
  schedule.set_area_id("3.4.2");
  schedule.set_planned_period("Pilot HT 23");
  schedule.set_reason("Ny tidplan");
  EXPECT_THAT(Send(schedule), Refused(grpc::StatusCode::INVALID_ARGUMENT,
                                      {"planned_period: ", "\"Pilot HT 23\"",
                                       "[rule: plan-date-syntax]"}));
}

// --- 5. Optimistic concurrency. ---------------------------------------------

TEST_F(PlanCommandsE2eTest, AStaleExpectedVersionIsAbortedWithTheCurrentOne) {
  ASSERT_THAT(Send(BudgetFollowUp()), Succeeded());
  ASSERT_THAT(Send(Report("3.4.2", "Första rapporten.")), Succeeded());
  const uint64_t head = HeadPosition();

  v1::ReportStatusRequest stale = Report("3.4.2", "Byggd på version 1.");
  stale.mutable_options()->set_expected_version(1);
  const Outcome aborted = Send(stale);
  EXPECT_THAT(aborted,
              Refused(grpc::StatusCode::ABORTED,
                      {"expected_version", "\"area-3.4.2\"", "version 2"}));
  EXPECT_EQ(aborted.trailers.count("plantrail-current-version"), 1u);
  EXPECT_EQ(aborted.trailers.find("plantrail-current-version") ==
                    aborted.trailers.end()
                ? ""
                : aborted.trailers.at("plantrail-current-version"),
            "2");
  EXPECT_EQ(HeadPosition(), head) << "an aborted command wrote something";

  v1::ReportStatusRequest fresh = Report("3.4.2", "Byggd på version 2.");
  fresh.mutable_options()->set_expected_version(2);
  const Outcome written = Send(fresh);
  ASSERT_THAT(written, Succeeded());
  EXPECT_EQ(written.response.version(), 3u);
  EXPECT_EQ(written.response.position(), head + 1);

  // 0 means "no area yet": right for a registration, stale afterwards.
  v1::RegisterAreaRequest second = InternalPricing();
  second.mutable_options()->set_expected_version(0);
  EXPECT_THAT(Send(second), Succeeded());
  v1::CloseAreaRequest close = Close("3.4.1", v1::OUTCOME_COMPLETED);
  close.mutable_options()->set_expected_version(0);
  const Outcome stale_close = Send(close);
  EXPECT_THAT(stale_close, Refused(grpc::StatusCode::ABORTED,
                                   {"expected_version", "\"area-3.4.1\""}));
  EXPECT_EQ(stale_close.trailers.count("plantrail-current-version") == 0
                ? ""
                : stale_close.trailers.at("plantrail-current-version"),
            "1");
}

// --- 6. Command ids make retries safe. --------------------------------------

TEST_F(PlanCommandsE2eTest, ARetryReturnsTheFirstResultAlsoAfterARestart) {
  v1::RegisterAreaRequest register_area = BudgetFollowUp();
  register_area.mutable_options()->set_command_id(
      "3f6b2a1e-5d0c-4e7b-9a41-reg-3.4.2");
  const Outcome registered = Send(register_area);
  ASSERT_THAT(registered, Succeeded());

  v1::ReportStatusRequest report = Report("3.4.2", "Pågår enligt tidsplan.");
  report.mutable_options()->set_command_id("report:3.4.2@2023-06-12");
  const Outcome reported = Send(report);
  ASSERT_THAT(reported, Succeeded());
  ASSERT_THAT(Send(Report("3.4.2", "En senare rapport.")), Succeeded());
  const uint64_t head = HeadPosition();
  ASSERT_EQ(head, base_ + 3);

  auto expect_replay = [&](const Outcome& retry, const Outcome& first) {
    ASSERT_THAT(retry, Succeeded());
    EXPECT_TRUE(retry.response.replayed());
    EXPECT_FALSE(first.response.replayed());
    EXPECT_EQ(retry.response.stream_id(), first.response.stream_id());
    EXPECT_EQ(retry.response.version(), first.response.version());
    EXPECT_EQ(retry.response.position(), first.response.position());
    EXPECT_EQ(retry.response.event_id(), first.response.event_id());
    EXPECT_EQ(retry.response.event_type(), first.response.event_type());
  };
  {
    SCOPED_TRACE("retry of RegisterArea, not ALREADY_EXISTS");
    expect_replay(Send(register_area), registered);
  }
  {
    SCOPED_TRACE("retry of ReportStatus: the first result, not the latest");
    expect_replay(Send(report), reported);
    // Options other than the id do not make it another command.
    v1::ReportStatusRequest with_version = report;
    with_version.mutable_options()->set_expected_version(7);
    expect_replay(Send(with_version), reported);
  }
  EXPECT_EQ(HeadPosition(), head) << "a retry wrote something";

  ASSERT_NO_FATAL_FAILURE(RestartServer());
  {
    SCOPED_TRACE("after the restart");
    expect_replay(Send(register_area), registered);
    expect_replay(Send(report), reported);
  }
  EXPECT_EQ(HeadPosition(), head) << "a retry wrote something";

  const std::vector<v1::RecordedEvent> events = ReadStream("area-3.4.2");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(Meta(events[0], "command_id"), "3f6b2a1e-5d0c-4e7b-9a41-reg-3.4.2");
  EXPECT_EQ(Meta(events[1], "command_id"), "report:3.4.2@2023-06-12");
  EXPECT_EQ(Meta(events[2], "command_id"), "");
}

TEST_F(PlanCommandsE2eTest, ACommandIdReusedForAnotherCommandIsAlreadyExists) {
  v1::RegisterAreaRequest register_area = BudgetFollowUp();
  register_area.mutable_options()->set_command_id("cmd-17");
  ASSERT_THAT(Send(register_area), Succeeded());
  ASSERT_THAT(Send(InternalPricing()), Succeeded());
  const uint64_t head = HeadPosition();

  // Same type, different content.
  v1::RegisterAreaRequest other_area = InternalPricing();
  other_area.set_area_id("3.4.3");
  other_area.mutable_options()->set_command_id("cmd-17");
  EXPECT_THAT(Send(other_area), Refused(grpc::StatusCode::ALREADY_EXISTS,
                                        {"options.command_id: ", "\"cmd-17\"",
                                         "already used for another command",
                                         "[rule: command-id-once]"}));
  // Another type of command.
  v1::ReportStatusRequest report = Report("3.4.1", "Pågår.");
  report.mutable_options()->set_command_id("cmd-17");
  EXPECT_THAT(Send(report), Refused(grpc::StatusCode::ALREADY_EXISTS,
                                    {"options.command_id: ", "\"cmd-17\"",
                                     "[rule: command-id-once]"}));
  // Another stream altogether (a decision).
  v1::RecordDecisionRequest decision = ActionPlanDecision();
  decision.mutable_options()->set_command_id("cmd-17");
  EXPECT_THAT(Send(decision), Refused(grpc::StatusCode::ALREADY_EXISTS,
                                      {"options.command_id: ", "\"cmd-17\"",
                                       "[rule: command-id-once]"}));
  EXPECT_EQ(HeadPosition(), head);

  // A malformed id is refused naming the field.
  report.mutable_options()->set_command_id("cmd 18");
  EXPECT_THAT(Send(report),
              Refused(grpc::StatusCode::INVALID_ARGUMENT,
                      {"options.command_id: ", "[rule: command-id-syntax]"}));
  EXPECT_EQ(HeadPosition(), head);
}

// --- 7. Concurrent writers of one area. -------------------------------------

TEST_F(PlanCommandsE2eTest, ConcurrentReportsToOneAreaAllLandWithoutGaps) {
  ASSERT_THAT(Send(BudgetFollowUp()), Succeeded());
  constexpr int kClients = 8;
  constexpr int kReportsEach = 10;
  std::vector<std::vector<Outcome>> outcomes(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([this, c, &outcomes] {
      for (int i = 0; i < kReportsEach; ++i) {
        outcomes[c].push_back(
            Send(Report("3.4.2", absl::StrCat("Rapport ", c, "/", i))));
      }
    });
  }
  for (std::thread& client : clients) client.join();

  constexpr size_t kReports = kClients * kReportsEach;
  std::set<uint64_t> versions;
  std::set<uint64_t> positions;
  std::set<std::string> acknowledged;
  std::map<std::string, int> refusals;  // message -> count
  for (int c = 0; c < kClients; ++c) {
    ASSERT_EQ(outcomes[c].size(), static_cast<size_t>(kReportsEach));
    for (int i = 0; i < kReportsEach; ++i) {
      const Outcome& outcome = outcomes[c][i];
      if (!outcome.status.ok()) {
        ++refusals[absl::StrCat("code ", outcome.status.error_code(), ": ",
                                outcome.status.error_message())];
        continue;
      }
      EXPECT_FALSE(outcome.response.replayed());
      versions.insert(outcome.response.version());
      positions.insert(outcome.response.position());
      acknowledged.insert(absl::StrCat("Rapport ", c, "/", i));
    }
  }
  EXPECT_EQ(acknowledged.size(), kReports)
      << "the server must retry lost races itself; "
      << kReports - acknowledged.size() << " of " << kReports
      << " commands failed, e.g. "
      << (refusals.empty() ? "" : refusals.begin()->first);
  EXPECT_EQ(versions.size(), acknowledged.size()) << "a version given twice";
  EXPECT_EQ(positions.size(), acknowledged.size()) << "a position given twice";
  if (!versions.empty()) {
    EXPECT_EQ(*versions.begin(), 2u);
    EXPECT_EQ(*versions.rbegin(), kReports + 1);
  }

  // Versions 1..81 without gaps, and exactly the acknowledged reports.
  const std::vector<v1::RecordedEvent> events = ReadStream("area-3.4.2");
  EXPECT_EQ(events.size(), kReports + 1);
  std::set<std::string> stored;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].stream_version(), i + 1) << "a gap or a duplicate";
    EXPECT_EQ(events[i].position(), base_ + i + 1);
    if (i == 0) continue;
    const stored::PlanEvent event = Decode(events[i]);
    EXPECT_TRUE(event.has_status_reported()) << events[i].type();
    EXPECT_TRUE(
        stored.insert(event.status_reported().report().narrative()).second)
        << "stored twice: " << event.status_reported().report().narrative();
  }
  EXPECT_EQ(stored, acknowledged)
      << "the stream must hold exactly the acknowledged reports";
  EXPECT_EQ(FoldArea(events).status_reports(), stored.size());
}

}  // namespace
}  // namespace plantrail
