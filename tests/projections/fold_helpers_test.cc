// What the projections fold with, checked against the plain forms they
// stand in for: ChangedFields' typed comparison shows what the reflection
// shows, and DayMemo gives the days UtcDay and BusinessDay give.
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "domain/plan_date.h"
#include "domain/plan_date_proto.h"
#include "domain/timestamps.h"
#include "gtest/gtest.h"
#include "projections/history_projection.h"
#include "projections/stream_fold.h"

namespace plantrail::projections {
namespace {

stored::PlanDate Date(absl::StatusOr<domain::PlanDate> date) {
  EXPECT_TRUE(date.ok()) << date.status();
  return date.ok() ? domain::ToProto(*date) : stored::PlanDate();
}

std::vector<std::string> Fields(const stored::AreaState& before,
                                const stored::AreaState& after) {
  std::vector<std::string> fields;
  for (const stored::FieldChange& change : ChangedFields(before, after)) {
    fields.push_back(change.field());
  }
  return fields;
}

stored::AreaState Full() {
  stored::AreaState area;
  area.set_title("Financial follow-up");
  area.set_rationale("why");
  area.set_desired_effect("effect");
  area.set_support_area("3.4");
  area.set_group("g");
  area.add_participating_units("FIN");
  area.add_responsible_units("HR");
  *area.mutable_baseline_start() = Date(domain::PlanDate::Day(2023, 1, 2));
  *area.mutable_baseline_end() = Date(domain::PlanDate::Month(2023, 6));
  *area.mutable_planned_start() = Date(domain::PlanDate::Quarter(2023, 1));
  *area.mutable_planned_end() = Date(domain::PlanDate::Year(2024));
  area.set_phase(stored::PHASE_IN_PROGRESS);
  area.set_health(stored::HEALTH_AT_RISK);
  stored::Dependency& dependency = *area.add_dependencies();
  dependency.set_area_id("3.1");
  dependency.set_kind(stored::DEPENDENCY_KIND_RELATES);
  area.set_closed(false);
  area.set_outcome_text("done");
  // Not tracked: never shown.
  area.set_status_reports(7);
  return area;
}

TEST(ChangedFieldsTest, ShowsEachTrackedFieldThatChangedAndNothingElse) {
  const stored::AreaState before = Full();
  EXPECT_TRUE(Fields(before, before).empty());
  stored::AreaState untracked = before;
  untracked.set_status_reports(8);
  untracked.set_version(3);
  EXPECT_TRUE(Fields(before, untracked).empty());

  struct Case {
    std::string field;
    void (*change)(stored::AreaState&);
  };
  const std::vector<Case> cases = {
      {"title", [](stored::AreaState& a) { a.set_title("Other"); }},
      {"support_area", [](stored::AreaState& a) { a.set_support_area("3.5"); }},
      {"group", [](stored::AreaState& a) { a.clear_group(); }},
      {"rationale", [](stored::AreaState& a) { a.set_rationale("because"); }},
      {"desired_effect",
       [](stored::AreaState& a) { a.set_desired_effect("more"); }},
      {"participating_units",
       [](stored::AreaState& a) { a.add_participating_units("IT"); }},
      {"responsible_units",
       [](stored::AreaState& a) { a.set_responsible_units(0, "IT"); }},
      {"planned_start",
       [](stored::AreaState& a) {
         *a.mutable_planned_start() = Date(domain::PlanDate::Quarter(2023, 2));
       }},
      {"planned_end", [](stored::AreaState& a) { a.clear_planned_end(); }},
      {"baseline_start",
       [](stored::AreaState& a) {
         *a.mutable_baseline_start() = Date(domain::PlanDate::Day(2023, 1, 3));
       }},
      {"baseline_end",
       [](stored::AreaState& a) {
         *a.mutable_baseline_end() = Date(domain::PlanDate::Month(2023, 7));
       }},
      {"phase",
       [](stored::AreaState& a) { a.set_phase(stored::PHASE_PAUSED); }},
      {"health",
       [](stored::AreaState& a) { a.set_health(stored::HEALTH_ON_TRACK); }},
      {"dependencies",
       [](stored::AreaState& a) {
         a.mutable_dependencies(0)->set_kind(stored::DEPENDENCY_KIND_REQUIRES);
       }},
      {"closed", [](stored::AreaState& a) { a.set_closed(true); }},
      {"outcome",
       [](stored::AreaState& a) { a.set_outcome(stored::OUTCOME_COMPLETED); }},
      {"outcome_text", [](stored::AreaState& a) { a.set_outcome_text(""); }},
  };
  for (const Case& c : cases) {
    stored::AreaState after = before;
    c.change(after);
    EXPECT_EQ(Fields(before, after), std::vector<std::string>{c.field});
    EXPECT_EQ(Fields(after, before), std::vector<std::string>{c.field});
  }

  // What renders alike is no change: a dependency's note is not shown.
  stored::AreaState noted = before;
  noted.mutable_dependencies(0)->set_note("a note");
  EXPECT_TRUE(Fields(before, noted).empty());
  // The values as people read them.
  stored::AreaState healthier = before;
  healthier.set_health(stored::HEALTH_ON_TRACK);
  const std::vector<stored::FieldChange> changes =
      ChangedFields(before, healthier);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].before(), "at risk");
  EXPECT_EQ(changes[0].after(), "on track");
}

TEST(DayMemoTest, GivesTheDaysUtcDayAndBusinessDayGive) {
  DayMemo memo;
  const absl::Time start =
      absl::FromCivil(absl::CivilSecond(2024, 3, 30, 22), absl::UTCTimeZone());
  const std::vector<stored::PlanDate> reported_on = {
      stored::PlanDate(),  // none
      Date(domain::PlanDate::Day(2024, 3, 29)),
      Date(domain::PlanDate::Day(2024, 3, 29)),
      Date(domain::PlanDate::Month(2024, 2)),
      Date(domain::PlanDate::Day(2024, 3, 30)),
  };
  // Hours back and forth across midnight, reports for various days, and
  // registrations, in every mix.
  for (int i = 0; i < 200; ++i) {
    const absl::Time at = start + absl::Hours((i * 7) % 50) - absl::Hours(24);
    PlanEventRecord record;
    record.context.recorded_at = at;
    if (i % 11 == 0) {
      record.event.mutable_area_registered()->set_area_id("1");
    } else if (i % 3 != 0) {
      stored::StatusReport& report =
          *record.event.mutable_status_reported()->mutable_report();
      const stored::PlanDate& on = reported_on[i % reported_on.size()];
      if (on.ByteSizeLong() > 0) *report.mutable_reported_on() = on;
    }
    EXPECT_EQ(memo.UtcDay(at), domain::UtcDay(at)) << i;
    EXPECT_EQ(memo.BusinessDay(record), BusinessDay(record)) << i;
  }
}

}  // namespace
}  // namespace plantrail::projections
