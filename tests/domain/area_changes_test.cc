#include "domain/area_changes.h"

#include <string>

#include "domain/plan_date.h"
#include "domain/plan_date_proto.h"
#include "gtest/gtest.h"

namespace plantrail::domain {
namespace {

stored::PlanDate Date(const std::string& text) {
  return ToProto(*PlanDate::Parse(text));
}

// An area of Piteå's plan as the fold leaves it after `version` events.
stored::AreaState Area(uint64_t version) {
  stored::AreaState area;
  area.set_area_id("2.1");
  area.set_version(version);
  area.set_phase(stored::PHASE_IN_PROGRESS);
  area.set_health(stored::HEALTH_ON_TRACK);
  *area.mutable_baseline_end() = Date("mars 2018");
  *area.mutable_planned_end() = Date("mars 2018");
  area.set_status_reports(1);
  return area;
}

TEST(AreaChangesTest, AnUntouchedAreaHasNoChanges) {
  const AreaChanges changes = CompareAreas(Area(3), Area(3));
  EXPECT_TRUE(changes.empty());
  EXPECT_EQ(changes.slip_days_against_baseline, 0);
}

TEST(AreaChangesTest, MovesOfPhaseHealthAndTheEndAreNamedBothWays) {
  stored::AreaState end = Area(6);
  end.set_phase(stored::PHASE_PAUSED);
  end.set_health(stored::HEALTH_OFF_TRACK);
  *end.mutable_planned_end() = Date("juni 2018");
  end.set_status_reports(3);
  const AreaChanges changes = CompareAreas(Area(3), end);
  ASSERT_TRUE(changes.phase.has_value());
  EXPECT_EQ(*changes.phase, (Move<stored::Phase>{stored::PHASE_IN_PROGRESS,
                                                 stored::PHASE_PAUSED}));
  ASSERT_TRUE(changes.health.has_value());
  EXPECT_EQ(changes.health->to, stored::HEALTH_OFF_TRACK);
  EXPECT_EQ(changes.end_moved_days, 91);  // 2018-03-31 -> 2018-06-30
  EXPECT_EQ(changes.slip_days_against_baseline, 91);
  EXPECT_EQ(changes.status_reports, 2u);
  EXPECT_FALSE(changes.registered);

  // And back: the end moved earlier is a negative move.
  const AreaChanges back = CompareAreas(end, Area(9));
  EXPECT_EQ(back.end_moved_days, -91);
  EXPECT_EQ(back.status_reports, 0u);  // never a wrap-around
}

TEST(AreaChangesTest, DependenciesAreComparedByWhatTheyPointAt) {
  stored::AreaState start = Area(2);
  stored::Dependency kept;
  kept.set_area_id("1.1");
  kept.set_note("as written first");
  *start.add_dependencies() = kept;
  stored::Dependency dropped;
  dropped.set_external("Ladok");
  *start.add_dependencies() = dropped;
  stored::AreaState end = Area(4);
  kept.set_note("reworded");
  *end.add_dependencies() = kept;
  stored::Dependency added;
  added.set_plan_id("kth-vs-2023");
  added.set_area_id("1.1");  // the same id in another plan is another area
  *end.add_dependencies() = added;
  const AreaChanges changes = CompareAreas(start, end);
  ASSERT_EQ(changes.dependencies_added.size(), 1u);
  EXPECT_EQ(changes.dependencies_added[0].plan_id(), "kth-vs-2023");
  ASSERT_EQ(changes.dependencies_removed.size(), 1u);
  EXPECT_EQ(changes.dependencies_removed[0].external(), "Ladok");
}

TEST(AreaChangesTest, RegisteringClosingAndReopeningAreChanges) {
  EXPECT_TRUE(CompareAreas(stored::AreaState(), Area(1)).registered);
  EXPECT_TRUE(CompareAreas(stored::AreaState(), stored::AreaState()).empty());
  stored::AreaState closed = Area(5);
  closed.set_closed(true);
  closed.set_outcome(stored::OUTCOME_COMPLETED);
  EXPECT_TRUE(CompareAreas(Area(4), closed).closed);
  EXPECT_TRUE(CompareAreas(closed, Area(6)).reopened);
  EXPECT_FALSE(CompareAreas(closed, closed).closed);
}

TEST(AreaChangesTest, TheSummaryAnswersTheCouncilsQuestions) {
  ChangesSummary summary;
  stored::AreaState slipped = Area(5);
  *slipped.mutable_planned_end() = Date("juni 2018");
  slipped.set_health(stored::HEALTH_AT_RISK);
  slipped.set_status_reports(2);
  AddToSummary(slipped, CompareAreas(Area(3), slipped), summary);
  stored::AreaState completed = Area(5);
  completed.set_closed(true);
  completed.set_outcome(stored::OUTCOME_COMPLETED);
  AddToSummary(completed, CompareAreas(Area(3), completed), summary);
  AddToSummary(Area(3), CompareAreas(Area(3), Area(3)), summary);  // silent
  EXPECT_EQ(summary.areas_changed, 2u);
  EXPECT_EQ(summary.slipped, 1u);
  EXPECT_EQ(summary.newly_at_risk, 1u);
  EXPECT_EQ(summary.newly_off_track, 0u);
  EXPECT_EQ(summary.completed, 1u);
  EXPECT_EQ(summary.silent, 1u);
}

}  // namespace
}  // namespace plantrail::domain
