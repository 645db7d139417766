// decide: every command's happy path, and a table of every rule with the code
// and the words it refuses with.
#include "domain/decide.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "domain/dependency_graph.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/domain/domain_test_util.h"

namespace plantrail::domain {
namespace {

using ::plantrail::domain::testing::Area;
using ::plantrail::domain::testing::Pb;
using ::testing::HasSubstr;

constexpr char kRegister[] = R"pb(
  area_id: "3.4.2"
  title: "Common process for financial follow-up"
  support_area: "3.4"
  group: "Finance"
  rationale: "Schools follow up their finances in different ways."
  desired_effect: "One process, comparable figures."
  participating_units: [ "Finance office", "School offices" ]
  planned_period: "Start april 2023 – slut december 2023"
)pb";

// An area registered from kRegister.
Area Registered() {
  Area area;
  area.Must(Pb<v1::RegisterAreaRequest>(kRegister));
  return area;
}

Facts WithAreas(std::vector<std::string> areas) {
  Facts facts = Area::DefaultFacts();
  facts.existing_areas.insert(areas.begin(), areas.end());
  return facts;
}

TEST(DecideTest, RegisterAreaKeepsEverythingAndSetsTheBaseline) {
  Area area;
  stored::PlanEvent event = area.Must(Pb<v1::RegisterAreaRequest>(kRegister));
  ASSERT_TRUE(event.has_area_registered());
  const stored::AreaRegistered& registered = event.area_registered();
  EXPECT_EQ(registered.title(), "Common process for financial follow-up");
  EXPECT_EQ(registered.planned_start().precision(),
            stored::PLAN_DATE_PRECISION_MONTH);
  EXPECT_EQ(registered.planned_start().month(), 4);
  EXPECT_EQ(registered.planned_start().year(), 2023);
  EXPECT_EQ(registered.planned_end().month(), 12);
  EXPECT_EQ(registered.phase(), stored::PHASE_PLANNED);

  const stored::AreaState& state = area.state();
  EXPECT_EQ(state.version(), 1u);
  EXPECT_EQ(state.area_id(), "3.4.2");
  EXPECT_EQ(state.support_area(), "3.4");
  EXPECT_THAT(state.participating_units(),
              ::testing::ElementsAre("Finance office", "School offices"));
  EXPECT_EQ(state.baseline_start().text(), "april 2023");
  EXPECT_EQ(state.baseline_end().text(), "december 2023");
  EXPECT_EQ(state.health(), stored::HEALTH_UNKNOWN);
  EXPECT_EQ(state.registered_by(), "tester");
}

TEST(DecideTest, RegisterWithSeparateDatesAndOpenForms) {
  Area area;
  area.Must(Pb<v1::RegisterAreaRequest>(R"pb(
    area_id: "3.6.1"
    title: "Intranet"
    support_area: "3.6"
    planned_start: "snarast"
    planned_end: "Löpande"
    phase: PHASE_PROPOSED
  )pb"));
  EXPECT_EQ(area.state().planned_start().precision(),
            stored::PLAN_DATE_PRECISION_AS_SOON_AS_POSSIBLE);
  EXPECT_EQ(area.state().planned_end().precision(),
            stored::PLAN_DATE_PRECISION_ONGOING);
  EXPECT_EQ(area.state().phase(), stored::PHASE_PROPOSED);
}

TEST(DecideTest, ReviseDetailsRecordsOnlyWhatChanged) {
  Area area = Registered();
  stored::PlanEvent event = area.Must(Pb<v1::ReviseDetailsRequest>(R"pb(
    area_id: "3.4.2"
    details { title: "Common financial follow-up" group: "Finance" }
    reason: "Shorter title agreed in the management council"
  )pb"));
  const stored::AreaDetailsRevised& revised = event.area_details_revised();
  EXPECT_EQ(revised.before().title(), "Common process for financial follow-up");
  EXPECT_EQ(revised.after().title(), "Common financial follow-up");
  EXPECT_FALSE(revised.after().has_group()) << "unchanged fields stay out";
  EXPECT_EQ(area.state().title(), "Common financial follow-up");
}

TEST(DecideTest, ReportStatusKeepsBusinessDateApartFromRecordedTime) {
  Area area = Registered();
  stored::PlanEvent event = area.Must(Pb<v1::ReportStatusRequest>(R"pb(
    area_id: "3.4.2"
    phase: PHASE_IN_PROGRESS
    health: HEALTH_ON_TRACK
    narrative: "Proceeding as planned"
    reported_on: "2018-01-10"
    next_report_due: "juni 2018"
  )pb"));
  const stored::StatusReport& report = event.status_reported().report();
  EXPECT_EQ(report.reported_on().text(), "2018-01-10");
  EXPECT_EQ(report.next_report_due().month(), 6);
  EXPECT_EQ(area.state().phase(), stored::PHASE_IN_PROGRESS);
  EXPECT_EQ(area.state().health(), stored::HEALTH_ON_TRACK);
  EXPECT_EQ(area.state().status_reports(), 1u);
  EXPECT_EQ(area.state().latest_report_position(), 2u);

  // Without a date, the report speaks for today.
  stored::PlanEvent today = area.Must(Pb<v1::ReportStatusRequest>(R"pb(
    area_id: "3.4.2"
    phase: PHASE_PAUSED
    health: HEALTH_AT_RISK
    narrative: "Paused for the reorganisation"
  )pb"));
  EXPECT_EQ(today.status_reported().report().reported_on().text(),
            "2023-09-15");
}

TEST(DecideTest, ScheduleRevisionsKeepBaselinePreviousAndNew) {
  Area area = Registered();
  stored::PlanEvent first = area.Must(Pb<v1::ReviseScheduleRequest>(R"pb(
    area_id: "3.4.2"
    planned_end: "VT24"
    reason: "Supplier late"
  )pb"));
  const stored::ScheduleRevised& one = first.schedule_revised();
  EXPECT_EQ(one.baseline_end().text(), "december 2023");
  EXPECT_EQ(one.previous_end().text(), "december 2023");
  EXPECT_EQ(one.new_end().text(), "VT24");
  EXPECT_EQ(one.new_start().text(), "april 2023") << "unchanged start kept";
  EXPECT_EQ(one.reason(), "Supplier late");

  Facts facts = Area::DefaultFacts();
  facts.existing_decisions.insert("V-2022-0218-2023-04-05");
  stored::PlanEvent second = area.Must(Pb<v1::ReviseScheduleRequest>(R"pb(
                                         area_id: "3.4.2"
                                         planned_period: "HT23-HT24"
                                         reason: "Re-planned after the decision"
                                         decision_id: "V-2022-0218-2023-04-05"
                                       )pb"),
                                       facts);
  const stored::ScheduleRevised& two = second.schedule_revised();
  EXPECT_EQ(two.baseline_start().text(), "april 2023");
  EXPECT_EQ(two.baseline_end().text(), "december 2023");
  EXPECT_EQ(two.previous_end().text(), "VT24");
  EXPECT_EQ(two.new_start().text(), "HT23");
  EXPECT_EQ(two.new_end().text(), "HT24");
  EXPECT_EQ(two.decision_id(), "V-2022-0218-2023-04-05");

  const stored::AreaState& state = area.state();
  EXPECT_EQ(state.baseline_end().text(), "december 2023");
  EXPECT_EQ(state.planned_end().text(), "HT24");
  EXPECT_EQ(state.schedule_revisions(), 2u);
}

TEST(DecideTest, TheFirstDatesAnAreaGetsAreItsBaseline) {
  Area area;
  area.Must(Pb<v1::RegisterAreaRequest>(R"pb(area_id: "3.7.1"
                                             title: "Management support"
                                             support_area: "3.7")pb"));
  EXPECT_FALSE(area.state().has_baseline_end());
  area.Must(Pb<v1::ReviseScheduleRequest>(R"pb(area_id: "3.7.1"
                                               planned_end: "Q4 2023"
                                               reason: "Dates set")pb"));
  area.Must(Pb<v1::ReviseScheduleRequest>(R"pb(area_id: "3.7.1"
                                               planned_end: "Q2 2024"
                                               reason: "Slipped")pb"));
  EXPECT_EQ(area.state().baseline_end().text(), "Q4 2023");
  EXPECT_EQ(area.state().planned_end().text(), "Q2 2024");
}

TEST(DecideTest, DependenciesOnAreasAndOutsideThePlan) {
  Area area = Registered();
  stored::PlanEvent added = area.Must(Pb<v1::AddDependencyRequest>(R"pb(
                                        area_id: "3.4.2"
                                        on_area_id: "3.5.1"
                                        note: "Needs the new data office"
                                      )pb"),
                                      WithAreas({"3.5.1"}));
  EXPECT_EQ(added.dependency_added().dependency().kind(),
            stored::DEPENDENCY_KIND_REQUIRES);
  area.Must(Pb<v1::AddDependencyRequest>(R"pb(
    area_id: "3.4.2"
    external: "Planning system project"
    kind: DEPENDENCY_KIND_RELATES
  )pb"));
  ASSERT_EQ(area.state().dependencies_size(), 2);
  stored::PlanEvent removed = area.Must(Pb<v1::RemoveDependencyRequest>(R"pb(
    area_id: "3.4.2"
    on_area_id: "3.5.1"
    reason: "Data office postponed"
  )pb"));
  EXPECT_EQ(removed.dependency_removed().dependency().note(),
            "Needs the new data office");
  ASSERT_EQ(area.state().dependencies_size(), 1);
  EXPECT_EQ(area.state().dependencies(0).external(), "Planning system project");
}

TEST(DecideTest, TheFiftyFirstDependencyIsRefused) {
  Area area = Registered();
  for (size_t i = 0; i < kMaxDependenciesPerArea; ++i) {
    v1::AddDependencyRequest add;
    add.set_area_id("3.4.2");
    add.set_external(absl::StrCat("System ", i));
    area.Must(add);
  }
  ASSERT_EQ(area.state().dependencies_size(), 50);
  v1::AddDependencyRequest more;
  more.set_area_id("3.4.2");
  more.set_external("One system too many");
  absl::StatusOr<stored::PlanEvent> refused = area.Run(more);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("area_id: area \"3.4.2\" already has 50 "
                        "dependencies, the most an area may have is 50"));
  EXPECT_THAT(refused.status().message(),
              HasSubstr("[rule: max-dependencies]"));
  EXPECT_EQ(area.state().dependencies_size(), 50);
  // Removing one makes room again.
  area.Must(Pb<v1::RemoveDependencyRequest>(R"pb(
    area_id: "3.4.2"
    external: "System 0"
    reason: "Done")pb"));
  area.Must(more);

  // An area an older version stored with more still folds, and takes
  // removals, but no further dependency.
  stored::AreaState old = area.state();
  for (int i = 0; i < 10; ++i) {
    stored::PlanEvent added;
    added.mutable_dependency_added()->mutable_dependency()->set_external(
        absl::StrCat("Older ", i));
    EvolveArea(old, added,
               EventContext{.position = 1000u + i,
                            .version = old.version() + 1,
                            .recorded_at = Area::DefaultFacts().now,
                            .actor = "older version"});
  }
  ASSERT_EQ(old.dependencies_size(), 60);
  more.set_external("Yet another system");
  EXPECT_EQ(Decide(old, more, Area::DefaultFacts()).status().code(),
            absl::StatusCode::kResourceExhausted);
  v1::RemoveDependencyRequest remove;
  remove.set_area_id("3.4.2");
  remove.set_external("Older 3");
  remove.set_reason("Not needed");
  EXPECT_TRUE(Decide(old, remove, Area::DefaultFacts()).ok());
}

TEST(DecideTest, ChangeUnitsReplacesTheListsGiven) {
  Area area = Registered();
  stored::PlanEvent event = area.Must(Pb<v1::ChangeUnitsRequest>(R"pb(
    area_id: "3.4.2"
    responsible_units { units: "Finance office" }
  )pb"));
  const stored::UnitsChanged& changed = event.units_changed();
  EXPECT_THAT(changed.participating_after(),
              ::testing::ElementsAre("Finance office", "School offices"));
  EXPECT_THAT(changed.responsible_after(),
              ::testing::ElementsAre("Finance office"));
  EXPECT_TRUE(changed.responsible_before().empty());
  area.Must(Pb<v1::ChangeUnitsRequest>(R"pb(area_id: "3.4.2"
                                            participating_units {})pb"));
  EXPECT_TRUE(area.state().participating_units().empty());
}

TEST(DecideTest, CloseAndReopen) {
  Area area = Registered();
  area.Must(Pb<v1::CloseAreaRequest>(R"pb(
    area_id: "3.4.2"
    outcome: OUTCOME_COMPLETED
    outcome_text: "Process in use"
    reason: "Delivered"
  )pb"));
  EXPECT_TRUE(area.state().closed());
  EXPECT_EQ(area.state().phase(), stored::PHASE_COMPLETED);
  stored::PlanEvent reopened = area.Must(Pb<v1::ReopenAreaRequest>(
      R"pb(area_id: "3.4.2" reason: "Audit found gaps")pb"));
  EXPECT_EQ(reopened.area_reopened().phase(), stored::PHASE_IN_PROGRESS);
  EXPECT_FALSE(area.state().closed());
  EXPECT_EQ(area.state().outcome(), stored::OUTCOME_UNSPECIFIED);
  area.Must(Pb<v1::CloseAreaRequest>(R"pb(
    area_id: "3.4.2"
    outcome: OUTCOME_CANCELLED
    reason: "Replaced"
  )pb"));
  EXPECT_EQ(area.state().phase(), stored::PHASE_CANCELLED);
}

TEST(DecideTest, CorrectEntryPointsAtTheAreasOwnEvent) {
  Area area = Registered();
  area.Must(Pb<v1::ReportStatusRequest>(R"pb(
    area_id: "3.4.2"
    phase: PHASE_IN_PROGRESS
    health: HEALTH_ON_TRACK
    narrative: "Wrong area reported"
  )pb"));
  Facts facts = Area::DefaultFacts();
  facts.event_at_position = EventRef{.position = 2,
                                     .stream_id = "area-3.4.2",
                                     .event_id = "e-2",
                                     .type = "StatusReported"};
  stored::PlanEvent event = area.Must(Pb<v1::CorrectEntryRequest>(R"pb(
                                        area_id: "3.4.2"
                                        position: 2
                                        reason: "Reported on the wrong area"
                                        correction: "Belongs to 3.4.3"
                                      )pb"),
                                      facts);
  EXPECT_EQ(event.entry_corrected().event_type(), "StatusReported");
  EXPECT_THAT(area.state().corrected_positions(), ::testing::ElementsAre(2));
  EXPECT_EQ(area.state().latest_report().narrative(), "Wrong area reported")
      << "the earlier event stays";
}

TEST(DecideTest, RecordDecisionNamesItsAreas) {
  stored::DecisionState decision;
  absl::StatusOr<stored::PlanEvent> event =
      Decide(decision, Pb<v1::RecordDecisionRequest>(R"pb(
               reference: "V-2022-0218"
               body: "University director"
               decided_on: "2023-04-05"
               title: "Action plan for the administrative support"
               area_ids: [ "3.4.2", "3.5.1" ]
             )pb"),
             WithAreas({"3.4.2", "3.5.1"}));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->decision_recorded().decision_id(), "V-2022-0218-2023-04-05");
  EXPECT_EQ(event->decision_recorded().decided_on().precision(),
            stored::PLAN_DATE_PRECISION_DAY);
  EvolveDecision(decision, *event, EventContext{.position = 9, .version = 1});
  EXPECT_EQ(decision.decision_id(), "V-2022-0218-2023-04-05");
  EXPECT_THAT(decision.area_ids(), ::testing::ElementsAre("3.4.2", "3.5.1"));
}

TEST(DecideTest, DecisionIdsAreGivenOrDerived) {
  auto id_of = [](const std::string& text) {
    return DecisionIdOf(Pb<v1::RecordDecisionRequest>(text));
  };
  EXPECT_EQ(*id_of(R"pb(decision_id: "D-1" reference: "V-1")pb"), "D-1");
  EXPECT_EQ(*id_of(R"pb(reference: "V-2022-0218" decided_on: "juni 2022")pb"),
            "V-2022-0218-2022-06");
  EXPECT_EQ(id_of(R"pb(reference: "V-1")pb").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(id_of(R"pb(decision_id: "bad id")pb").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DecideTest, CommandOptions) {
  EXPECT_TRUE(
      CheckOptions(
          Pb<v1::CommandOptions>(
              R"pb(command_id: "6f1c2a9e-1b7d-4c1e-9f57-3d2b8a0c4e11")pb"))
          .ok());
  EXPECT_TRUE(CheckOptions(Pb<v1::CommandOptions>(
                               R"pb(command_id: "import:003/row-17")pb"))
                  .code() == absl::StatusCode::kInvalidArgument);
  absl::Status long_id = CheckOptions(
      Pb<v1::CommandOptions>("command_id: \"" + std::string(129, 'a') + "\""));
  EXPECT_THAT(long_id.message(), HasSubstr("options.command_id"));
}

// One refusal: the state it starts from, the command, and what it must say.
struct Refusal {
  std::string rule;
  std::function<absl::Status()> run;
  absl::StatusCode code;
  std::vector<std::string> words;
};

template <typename Request>
std::function<absl::Status()> On(std::function<Area()> setup,
                                 const std::string& command,
                                 Facts facts = Area::DefaultFacts()) {
  return [setup, command, facts] {
    Area area = setup();
    return area.Run(Pb<Request>(command), facts).status();
  };
}

Area Closed() {
  Area area = Registered();
  area.Must(Pb<v1::CloseAreaRequest>(R"pb(area_id: "3.4.2"
                                          outcome: OUTCOME_COMPLETED
                                          reason: "Done")pb"));
  return area;
}

Area WithDependency() {
  Area area = Registered();
  area.Must(Pb<v1::AddDependencyRequest>(R"pb(area_id: "3.4.2"
                                              on_area_id: "3.5.1")pb"),
            WithAreas({"3.5.1"}));
  return area;
}

Area Unregistered() { return Area(); }

std::vector<Refusal> Refusals() {
  using C = absl::StatusCode;
  Facts other_area_event = Area::DefaultFacts();
  other_area_event.event_at_position = EventRef{
      .position = 1, .stream_id = "area-9.9", .type = "AreaRegistered"};
  Facts decision_event = Area::DefaultFacts();
  decision_event.event_at_position = EventRef{
      .position = 1, .stream_id = "decision-D-1", .type = "DecisionRecorded"};
  return {
      {"register twice",
       On<v1::RegisterAreaRequest>(Registered, kRegister),
       C::kAlreadyExists,
       {"area_id:", "already registered", "register-once"}},
      {"register without title",
       On<v1::RegisterAreaRequest>(Unregistered, R"pb(area_id: "1"
                                                      support_area: "3.4")pb"),
       C::kInvalidArgument,
       {"title: must not be empty"}},
      {"register without support area",
       On<v1::RegisterAreaRequest>(Unregistered,
                                   R"pb(area_id: "1" title: "T")pb"),
       C::kInvalidArgument,
       {"support_area: must not be empty"}},
      {"register with a bad id",
       On<v1::RegisterAreaRequest>(Unregistered, R"pb(area_id: "3 4"
                                                      title: "T"
                                                      support_area: "S")pb"),
       C::kInvalidArgument,
       {"area_id:", "must match"}},
      {"register with a multi-line title",
       On<v1::RegisterAreaRequest>(Unregistered, R"pb(area_id: "1"
                                                      title: "T\nU"
                                                      support_area: "S")pb"),
       C::kInvalidArgument,
       {"title:", "one line"}},
      {"register closed",
       On<v1::RegisterAreaRequest>(Unregistered, R"pb(
         area_id: "1"
         title: "T"
         support_area: "S"
         phase: PHASE_COMPLETED
       )pb"),
       C::kInvalidArgument,
       {"phase:", "registered-phase"}},
      {"register with an unreadable date",
       On<v1::RegisterAreaRequest>(Unregistered, R"pb(
         area_id: "1"
         title: "T"
         support_area: "S"
         planned_start: "Pilot HT 23"
       )pb"),
       C::kInvalidArgument,
       {"planned_start:", "\"Pilot HT 23\""}},
      {"register with both ways of giving dates",
       On<v1::RegisterAreaRequest>(Unregistered, R"pb(
         area_id: "1"
         title: "T"
         support_area: "S"
         planned_start: "HT23"
         planned_period: "HT23-VT24"
       )pb"),
       C::kInvalidArgument,
       {"planned_period:", "not both"}},
      {"end before start",
       On<v1::RegisterAreaRequest>(Unregistered, R"pb(
         area_id: "1"
         title: "T"
         support_area: "S"
         planned_start: "HT23"
         planned_end: "VT23"
       )pb"),
       C::kInvalidArgument,
       {"planned_end:", "ends before", "end-after-start"}},
      {"unit named twice",
       On<v1::RegisterAreaRequest>(Unregistered, R"pb(
         area_id: "1"
         title: "T"
         support_area: "S"
         participating_units: [ "HR", "HR" ]
       )pb"),
       C::kInvalidArgument,
       {"participating_units[1]", "named twice"}},
      {"unknown area",
       On<v1::ReportStatusRequest>(Unregistered, R"pb(
         area_id: "7.7"
         phase: PHASE_PLANNED
         health: HEALTH_ON_TRACK
         narrative: "x"
       )pb"),
       C::kNotFound,
       {"area \"7.7\" is not registered", "area-exists"}},
      {"revise details to identical values",
       On<v1::ReviseDetailsRequest>(Registered, R"pb(
         area_id: "3.4.2"
         details { support_area: "3.4" }
         reason: "r"
       )pb"),
       C::kFailedPrecondition,
       {"already has that value", "revision-changes-something"}},
      {"revise details naming nothing",
       On<v1::ReviseDetailsRequest>(Registered, R"pb(area_id: "3.4.2"
                                                     reason: "r")pb"),
       C::kInvalidArgument,
       {"details:"}},
      {"revise details without a reason",
       On<v1::ReviseDetailsRequest>(Registered,
                                    R"pb(area_id: "3.4.2"
                                         details { title: "New" })pb"),
       C::kInvalidArgument,
       {"reason:", "needs a reason", "reason-required"}},
      {"revise details blanking the title",
       On<v1::ReviseDetailsRequest>(Registered, R"pb(
         area_id: "3.4.2"
         details { title: " " }
         reason: "r"
       )pb"),
       C::kInvalidArgument,
       {"details.title: must not be empty"}},
      {"reschedule without a reason",
       On<v1::ReviseScheduleRequest>(Registered, R"pb(area_id: "3.4.2"
                                                      planned_end: "VT24")pb"),
       C::kInvalidArgument,
       {"reason:", "schedule revision needs a reason"}},
      {"reschedule to the same dates",
       On<v1::ReviseScheduleRequest>(Registered, R"pb(
         area_id: "3.4.2"
         planned_end: "2023-12"
         reason: "r"
       )pb"),
       C::kFailedPrecondition,
       {"already runs from", "revision-changes-something"}},
      {"reschedule naming no date",
       On<v1::ReviseScheduleRequest>(Registered, R"pb(area_id: "3.4.2"
                                                      reason: "r")pb"),
       C::kInvalidArgument,
       {"planned_start:", "give a new"}},
      {"reschedule end before start",
       On<v1::ReviseScheduleRequest>(Registered, R"pb(
         area_id: "3.4.2"
         planned_end: "Q1 2023"
         reason: "r"
       )pb"),
       C::kInvalidArgument,
       {"\"Q1 2023\" ends before planned_start \"april 2023\" begins"}},
      {"reschedule under an unknown decision",
       On<v1::ReviseScheduleRequest>(Registered, R"pb(
         area_id: "3.4.2"
         planned_end: "VT24"
         reason: "r"
         decision_id: "D-9"
       )pb"),
       C::kNotFound,
       {"decision_id:", "\"D-9\" is not recorded"}},
      {"reschedule a closed area",
       On<v1::ReviseScheduleRequest>(Closed, R"pb(
         area_id: "3.4.2"
         planned_end: "VT24"
         reason: "r"
       )pb"),
       C::kFailedPrecondition,
       {"is closed", "closed-area-is-settled"}},
      {"status on a closed area",
       On<v1::ReportStatusRequest>(Closed, R"pb(
         area_id: "3.4.2"
         phase: PHASE_IN_PROGRESS
         health: HEALTH_ON_TRACK
         narrative: "x"
       )pb"),
       C::kFailedPrecondition,
       {"is closed (completed)", "a status report"}},
      {"status without a phase",
       On<v1::ReportStatusRequest>(Registered, R"pb(
         area_id: "3.4.2"
         health: HEALTH_ON_TRACK
         narrative: "x"
       )pb"),
       C::kInvalidArgument,
       {"phase:"}},
      {"status completing the area",
       On<v1::ReportStatusRequest>(Registered, R"pb(
         area_id: "3.4.2"
         phase: PHASE_COMPLETED
         health: HEALTH_ON_TRACK
         narrative: "x"
       )pb"),
       C::kInvalidArgument,
       {"phase:", "CloseArea", "close-to-finish"}},
      {"status without a health",
       On<v1::ReportStatusRequest>(Registered, R"pb(
         area_id: "3.4.2"
         phase: PHASE_PLANNED
         narrative: "x"
       )pb"),
       C::kInvalidArgument,
       {"health:"}},
      {"status without a narrative",
       On<v1::ReportStatusRequest>(Registered, R"pb(
         area_id: "3.4.2"
         phase: PHASE_PLANNED
         health: HEALTH_ON_TRACK
       )pb"),
       C::kInvalidArgument,
       {"narrative: must not be empty"}},
      {"next report before the report",
       On<v1::ReportStatusRequest>(Registered, R"pb(
         area_id: "3.4.2"
         phase: PHASE_PLANNED
         health: HEALTH_ON_TRACK
         narrative: "x"
         reported_on: "2018-01-10"
         next_report_due: "2017"
       )pb"),
       C::kInvalidArgument,
       {"next_report_due:"}},
      {"dependency on itself",
       On<v1::AddDependencyRequest>(Registered, R"pb(area_id: "3.4.2"
                                                     on_area_id: "3.4.2")pb",
                                    WithAreas({"3.4.2"})),
       C::kInvalidArgument,
       {"on_area_id:", "itself", "no-self-dependency"}},
      {"dependency on an unknown area",
       On<v1::AddDependencyRequest>(Registered, R"pb(area_id: "3.4.2"
                                                     on_area_id: "9.9")pb"),
       C::kNotFound,
       {"on_area_id:", "\"9.9\" is not registered"}},
      {"dependency twice",
       On<v1::AddDependencyRequest>(
           WithDependency, R"pb(area_id: "3.4.2" on_area_id: "3.5.1")pb",
           WithAreas({"3.5.1"})),
       C::kAlreadyExists,
       {"already depends on area \"3.5.1\"", "dependency-once"}},
      {"dependency without a target",
       On<v1::AddDependencyRequest>(Registered, R"pb(area_id: "3.4.2")pb"),
       C::kInvalidArgument,
       {"target:"}},
      {"dependency of a closed area",
       On<v1::AddDependencyRequest>(Closed, R"pb(area_id: "3.4.2"
                                                 external: "Ladok")pb"),
       C::kFailedPrecondition,
       {"is closed"}},
      {"remove a dependency that does not exist",
       On<v1::RemoveDependencyRequest>(Registered, R"pb(
         area_id: "3.4.2"
         external: "Ladok"
         reason: "r"
       )pb"),
       C::kNotFound,
       {"does not depend on \"Ladok\"", "remove-existing-dependency"}},
      {"remove a dependency without a reason",
       On<v1::RemoveDependencyRequest>(
           WithDependency, R"pb(area_id: "3.4.2" on_area_id: "3.5.1")pb"),
       C::kInvalidArgument,
       {"reason:"}},
      {"units unchanged",
       On<v1::ChangeUnitsRequest>(Registered, R"pb(
         area_id: "3.4.2"
         participating_units { units: [ "Finance office", "School offices" ] }
       )pb"),
       C::kFailedPrecondition,
       {"already has these units"}},
      {"units naming no list",
       On<v1::ChangeUnitsRequest>(Registered, R"pb(area_id: "3.4.2")pb"),
       C::kInvalidArgument,
       {"participating_units:"}},
      {"close twice",
       On<v1::CloseAreaRequest>(Closed, R"pb(
         area_id: "3.4.2"
         outcome: OUTCOME_CANCELLED
         reason: "r"
       )pb"),
       C::kFailedPrecondition,
       {"already closed", "close-once"}},
      {"close without an outcome",
       On<v1::CloseAreaRequest>(Registered,
                                R"pb(area_id: "3.4.2" reason: "r")pb"),
       C::kInvalidArgument,
       {"outcome:"}},
      {"close without a reason",
       On<v1::CloseAreaRequest>(Registered, R"pb(
         area_id: "3.4.2"
         outcome: OUTCOME_COMPLETED
       )pb"),
       C::kInvalidArgument,
       {"reason:"}},
      {"reopen an open area",
       On<v1::ReopenAreaRequest>(Registered,
                                 R"pb(area_id: "3.4.2" reason: "r")pb"),
       C::kFailedPrecondition,
       {"is open", "reopen-closed-only"}},
      {"reopen without a reason",
       On<v1::ReopenAreaRequest>(Closed, R"pb(area_id: "3.4.2")pb"),
       C::kInvalidArgument,
       {"reason:"}},
      {"correction without a reason",
       On<v1::CorrectEntryRequest>(Registered,
                                   R"pb(area_id: "3.4.2" position: 1)pb"),
       C::kInvalidArgument,
       {"reason:", "a correction needs a reason"}},
      {"correction pointing at nothing",
       On<v1::CorrectEntryRequest>(Registered, R"pb(
         area_id: "3.4.2"
         position: 99
         reason: "r"
       )pb"),
       C::kNotFound,
       {"position:", "no event at position 99", "correct-existing-entry"}},
      {"correction pointing at another area",
       On<v1::CorrectEntryRequest>(Registered, R"pb(
                                     area_id: "3.4.2"
                                     position: 1
                                     reason: "r"
                                   )pb",
                                   other_area_event),
       C::kInvalidArgument,
       {"belongs to \"area-9.9\"", "correct-own-entry"}},
      {"correction pointing at a decision",
       On<v1::CorrectEntryRequest>(Registered, R"pb(
                                     area_id: "3.4.2"
                                     position: 1
                                     reason: "r"
                                   )pb",
                                   decision_event),
       C::kInvalidArgument,
       {"belongs to \"decision-D-1\""}},
  };
}

TEST(DecideTest, EveryRuleRefusesWithItsCodeAndNamesIt) {
  for (const Refusal& refusal : Refusals()) {
    SCOPED_TRACE(refusal.rule);
    absl::Status status = refusal.run();
    EXPECT_EQ(status.code(), refusal.code) << status;
    for (const std::string& word : refusal.words) {
      EXPECT_THAT(status.message(), HasSubstr(word));
    }
  }
}

struct DecisionRefusal {
  std::string rule;
  std::string command;
  Facts facts;
  bool exists;
  absl::StatusCode code;
  std::string words;
};

TEST(DecideTest, DecisionRulesRefuseWithTheirCode) {
  using C = absl::StatusCode;
  const std::string base = R"pb(reference: "V-1"
                                body: "Board"
                                decided_on: "2023-04-05"
                                title: "T")pb";
  const std::vector<DecisionRefusal> refusals = {
      {"names no area", base, Area::DefaultFacts(), false, C::kInvalidArgument,
       "a decision names at least one area"},
      {"unknown area", base + R"pb(area_ids: "9.9")pb", Area::DefaultFacts(),
       false, C::kNotFound, "area_ids[0]: area \"9.9\" is not registered"},
      {"area twice", base + R"pb(area_ids: [ "1", "1" ])pb", WithAreas({"1"}),
       false, C::kInvalidArgument, "named twice"},
      {"recorded twice", base + R"pb(area_ids: "1")pb", WithAreas({"1"}), true,
       C::kAlreadyExists, "already recorded"},
      {"no body",
       R"pb(reference: "V-1" decided_on: "2023" title: "T" area_ids: "1")pb",
       WithAreas({"1"}), false, C::kInvalidArgument, "body: must not be empty"},
      {"no date", R"pb(decision_id: "D"
                       reference: "V-1"
                       body: "B"
                       title: "T"
                       area_ids: "1")pb",
       WithAreas({"1"}), false, C::kInvalidArgument, "decided_on:"},
  };
  for (const DecisionRefusal& refusal : refusals) {
    SCOPED_TRACE(refusal.rule);
    stored::DecisionState state;
    if (refusal.exists) state.set_version(1);
    absl::Status status =
        Decide(state, Pb<v1::RecordDecisionRequest>(refusal.command),
               refusal.facts)
            .status();
    EXPECT_EQ(status.code(), refusal.code) << status;
    EXPECT_THAT(status.message(), HasSubstr(refusal.words));
  }
}

}  // namespace
}  // namespace plantrail::domain
