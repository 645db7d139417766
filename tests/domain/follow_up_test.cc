// Follow-up rounds in the plan model: OpenFollowUp and CloseFollowUp on the
// plan's stream, and a status report naming a round. Each rule refuses with
// its code and names its field and rule.
#include <functional>
#include <string>
#include <vector>

#include "domain/decide.h"
#include "domain/evolve.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/domain/domain_test_util.h"

namespace plantrail::domain {
namespace {

using ::plantrail::domain::testing::Area;
using ::plantrail::domain::testing::Pb;
using ::plantrail::domain::testing::TestNow;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The plan's stream, folded as commands are decided on it.
class Plan {
 public:
  // `followed_up_by`: the plan names the body that follows it up.
  explicit Plan(bool followed_up_by = true) {
    v1::RegisterPlanRequest registered = Pb<v1::RegisterPlanRequest>(R"pb(
      plan_id: "pitea-2017"
      fields {
        title: "Åtgärdsplan för att stärka grundskolans ledningsfunktion"
        followed_up_by: "Barn- och utbildningsnämnden"
      }
    )pb");
    if (!followed_up_by) {
      registered.mutable_fields()->clear_followed_up_by();
    }
    Must(registered);
  }

  template <typename Request>
  absl::StatusOr<stored::PlanEvent> Run(const Request& command,
                                        const Facts& facts = OpenAreas()) {
    absl::StatusOr<stored::PlanEvent> event = Decide(state_, command, facts);
    if (event.ok()) {
      EvolvePlan(state_, *event,
                 EventContext{.position = position_ += 10,
                              .version = state_.version() + 1,
                              .recorded_at = facts.now,
                              .actor = "planner"});
    }
    return event;
  }

  template <typename Request>
  stored::PlanEvent Must(const Request& command,
                         const Facts& facts = OpenAreas()) {
    absl::StatusOr<stored::PlanEvent> event = Run(command, facts);
    EXPECT_TRUE(event.ok()) << event.status();
    return event.ok() ? *event : stored::PlanEvent();
  }

  const stored::PlanState& state() const { return state_; }

  // The plan's open areas, as the handler gathers them.
  static Facts OpenAreas() {
    Facts facts = Area::DefaultFacts();
    facts.open_areas = {"3", "1", "2"};
    return facts;
  }

 private:
  stored::PlanState state_;
  uint64_t position_ = 0;
};

constexpr char kOpen[] = R"pb(
  plan_id: "pitea-2017"
  round_id: "2018-01"
  title: "Återrapport januari 2018"
  report_date: "2018-01-10"
  meeting_date: "2018-01-29"
)pb";

TEST(FollowUpTest, ARoundOpensWithEveryOpenAreaAndClosesFrozen) {
  Plan plan;
  const stored::PlanEvent opened =
      plan.Must(Pb<v1::OpenFollowUpRequest>(kOpen));
  ASSERT_TRUE(opened.has_follow_up_opened());
  const stored::FollowUpRound& event = opened.follow_up_opened().round();
  EXPECT_THAT(event.expected_area_ids(), ElementsAre("1", "2", "3"));
  // The body defaults to the plan's followed_up_by; the fold's fields are
  // not the event's.
  EXPECT_EQ(event.body(), "Barn- och utbildningsnämnden");
  EXPECT_EQ(event.report_date().text(), "2018-01-10");
  EXPECT_EQ(event.opened_position(), 0u);
  EXPECT_FALSE(event.closed());

  ASSERT_EQ(plan.state().rounds_size(), 1);
  const stored::FollowUpRound& round = plan.state().rounds(0);
  EXPECT_EQ(round.opened_position(), 20u);
  EXPECT_EQ(round.opened_by(), "planner");
  EXPECT_FALSE(round.closed());

  plan.Must(Pb<v1::CloseFollowUpRequest>(R"pb(
    plan_id: "pitea-2017"
    round_id: "2018-01"
    note: "To the board"
  )pb"));
  EXPECT_TRUE(plan.state().rounds(0).closed());
  EXPECT_EQ(plan.state().rounds(0).closed_position(), 30u);
  EXPECT_EQ(plan.state().rounds(0).closing_note(), "To the board");

  // The next round may list its areas.
  plan.Must(Pb<v1::OpenFollowUpRequest>(R"pb(
    plan_id: "pitea-2017"
    round_id: "2018-06"
    title: "Återrapport juni 2018"
    report_date: "juni 2018"
    expected_area_ids: [ "2", "1" ]
  )pb"));
  EXPECT_THAT(plan.state().rounds(1).expected_area_ids(),
              ElementsAre("1", "2"));
}

TEST(FollowUpTest, AReportNamesTheOpenRoundThatExpectsItsArea) {
  Plan plan;
  plan.Must(Pb<v1::OpenFollowUpRequest>(kOpen));
  Area area;
  area.Must(Pb<v1::RegisterAreaRequest>(R"pb(
    area_id: "2"
    title: "Systematiskt kvalitetsarbete"
    support_area: "1"
    plan_id: "pitea-2017"
  )pb"));
  Facts facts = Area::DefaultFacts();
  facts.rounds = plan.state().rounds();
  const std::string report = R"pb(
    area_id: "2"
    plan_id: "pitea-2017"
    phase: PHASE_IN_PROGRESS
    health: HEALTH_ON_TRACK
    narrative: "On schedule overall."
    reported_on: "2018-01-10"
  )pb";
  const stored::PlanEvent reported = area.Must(
      Pb<v1::ReportStatusRequest>(report + "round_id: \"2018-01\""), facts);
  EXPECT_EQ(reported.status_reported().report().round_id(), "2018-01");
  // Without a round the report names none.
  EXPECT_EQ(area.Must(Pb<v1::ReportStatusRequest>(report), facts)
                .status_reported()
                .report()
                .round_id(),
            "");
}

struct Refusal {
  std::string rule;
  absl::StatusCode code;
  std::string field;
  std::function<absl::Status()> run;
};

std::vector<Refusal> Refusals() {
  using C = absl::StatusCode;
  using Edit = std::function<void(v1::OpenFollowUpRequest&)>;
  const auto open = [](Edit edit,
                       Facts facts = Plan::OpenAreas()) -> absl::Status {
    Plan plan;
    v1::OpenFollowUpRequest request = Pb<v1::OpenFollowUpRequest>(kOpen);
    edit(request);
    return plan.Run(request, facts).status();
  };
  const auto open_twice = [](std::string second) -> absl::Status {
    Plan plan;
    plan.Must(Pb<v1::OpenFollowUpRequest>(kOpen));
    plan.Must(Pb<v1::CloseFollowUpRequest>(R"pb(plan_id: "pitea-2017"
                                                round_id: "2018-01")pb"));
    return plan.Run(Pb<v1::OpenFollowUpRequest>(second)).status();
  };
  const auto report = [](bool close, std::string area_id) -> absl::Status {
    Plan plan;
    plan.Must(Pb<v1::OpenFollowUpRequest>(kOpen));
    if (close) {
      plan.Must(Pb<v1::CloseFollowUpRequest>(R"pb(plan_id: "pitea-2017"
                                                  round_id: "2018-01")pb"));
    }
    Area area;
    area.Must(Pb<v1::RegisterAreaRequest>(
        "title: \"An area\" support_area: \"1\" plan_id: \"pitea-2017\" "
        "area_id: \"" +
        area_id + "\""));
    Facts facts = Area::DefaultFacts();
    facts.rounds = plan.state().rounds();
    return area
        .Run(Pb<v1::ReportStatusRequest>(
                 "plan_id: \"pitea-2017\" phase: PHASE_IN_PROGRESS "
                 "health: HEALTH_ON_TRACK narrative: \"Going\" "
                 "round_id: \"2018-01\" area_id: \"" +
                 area_id + "\""),
             facts)
        .status();
  };
  return {
      {"one-open-round", C::kFailedPrecondition, "round_id",
       [] {
         Plan plan;
         plan.Must(Pb<v1::OpenFollowUpRequest>(kOpen));
         return plan
             .Run(Pb<v1::OpenFollowUpRequest>(
                 R"pb(plan_id: "pitea-2017"
                      round_id: "2018-06"
                      title: "Juni"
                      report_date: "2018-06-15")pb"))
             .status();
       }},
      {"round-once", C::kAlreadyExists, "round_id",
       [open_twice] { return open_twice(kOpen); }},
      {"rounds-in-order", C::kInvalidArgument, "report_date",
       [open_twice] {
         return open_twice(R"pb(plan_id: "pitea-2017"
                                round_id: "2017-12"
                                title: "Earlier"
                                report_date: "2017-12-01")pb");
       }},
      {"closed-plan-is-settled", C::kFailedPrecondition, "plan_id",
       [] {
         Plan plan;
         Facts none = Area::DefaultFacts();
         plan.Must(Pb<v1::ClosePlanRequest>(R"pb(plan_id: "pitea-2017"
                                                 reason: "Done")pb"),
                   none);
         return plan.Run(Pb<v1::OpenFollowUpRequest>(kOpen)).status();
       }},
      {"id-syntax", C::kInvalidArgument, "round_id",
       [open] { return open([](auto& r) { r.set_round_id("2018 01"); }); }},
      {"required", C::kInvalidArgument, "title",
       [open] { return open([](auto& r) { r.clear_title(); }); }},
      {"round-report-date-required", C::kInvalidArgument, "report_date",
       [open] { return open([](auto& r) { r.clear_report_date(); }); }},
      {"plan-date-syntax", C::kInvalidArgument, "report_date",
       [open] {
         return open([](auto& r) { r.set_report_date("someday soon"); });
       }},
      {"meeting-after-report-date", C::kInvalidArgument, "meeting_date",
       [open] {
         return open([](auto& r) { r.set_meeting_date("2017-12-24"); });
       }},
      {"round-area-once", C::kInvalidArgument, "expected_area_ids[1]",
       [open] {
         return open([](auto& r) {
           r.add_expected_area_ids("1");
           r.add_expected_area_ids("1");
         });
       }},
      {"round-expects-open-areas", C::kFailedPrecondition,
       "expected_area_ids[0]",
       [open] { return open([](auto& r) { r.add_expected_area_ids("7"); }); }},
      {"round-expects-areas", C::kFailedPrecondition, "plan_id",
       [open] { return open([](auto&) {}, Area::DefaultFacts()); }},
      {"round-names-body", C::kInvalidArgument, "body",
       [] {
         Plan plan(/*followed_up_by=*/false);
         return plan.Run(Pb<v1::OpenFollowUpRequest>(kOpen)).status();
       }},
      {"round-exists", C::kNotFound, "round_id",
       [] {
         Plan plan;
         return plan
             .Run(Pb<v1::CloseFollowUpRequest>(R"pb(plan_id: "pitea-2017"
                                                    round_id: "2018-01")pb"))
             .status();
       }},
      {"close-once", C::kFailedPrecondition, "round_id",
       [] {
         Plan plan;
         plan.Must(Pb<v1::OpenFollowUpRequest>(kOpen));
         const auto close =
             Pb<v1::CloseFollowUpRequest>(R"pb(plan_id: "pitea-2017"
                                               round_id: "2018-01")pb");
         plan.Must(close);
         return plan.Run(close).status();
       }},
      {"closed-round-is-frozen", C::kFailedPrecondition, "round_id",
       [report] { return report(true, "1"); }},
      {"round-expects-area", C::kFailedPrecondition, "round_id",
       [report] { return report(false, "9"); }},
      {"round-exists", C::kNotFound, "round_id",
       [] {
         Area area;
         area.Must(Pb<v1::RegisterAreaRequest>(
             R"pb(area_id: "1"
                  title: "An area"
                  support_area: "1"
                  plan_id: "pitea-2017")pb"));
         return area
             .Run(Pb<v1::ReportStatusRequest>(R"pb(
               area_id: "1"
               plan_id: "pitea-2017"
               phase: PHASE_IN_PROGRESS
               health: HEALTH_ON_TRACK
               narrative: "Going"
               round_id: "2018-01"
             )pb"))
             .status();
       }},
  };
}

TEST(FollowUpTest, EveryRuleRefusesWithItsCodeAndNamesIt) {
  for (const Refusal& refusal : Refusals()) {
    SCOPED_TRACE(refusal.rule + " " + refusal.field);
    const absl::Status status = refusal.run();
    EXPECT_EQ(status.code(), refusal.code) << status;
    EXPECT_THAT(status.message(), HasSubstr(refusal.field + ":"));
    EXPECT_THAT(status.message(), HasSubstr("[rule: " + refusal.rule + "]"));
  }
}

}  // namespace
}  // namespace plantrail::domain
