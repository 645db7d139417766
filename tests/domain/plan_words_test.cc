#include "domain/plan_words.h"

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "plantrail/v1/plan.pb.h"
#include "plantrail/v1/security.pb.h"

namespace plantrail::domain {
namespace {

using ::testing::HasSubstr;

TEST(PlanWordsTest, EnumsReadLeniently) {
  for (const char* text : {"in progress", "IN_PROGRESS", "In-Progress",
                           " in  progress ", "PHASE_IN_PROGRESS"}) {
    const absl::StatusOr<v1::Phase> phase =
        ParseWords<v1::Phase>(text, "--phase");
    ASSERT_TRUE(phase.ok()) << text;
    EXPECT_EQ(*phase, v1::PHASE_IN_PROGRESS);
  }
  EXPECT_EQ(*ParseWords<v1::Health>("at risk", "h"), v1::HEALTH_AT_RISK);
  EXPECT_EQ(*ParseWords<v1::DependencyKind>("relates", "k"),
            v1::DEPENDENCY_KIND_RELATES);
  EXPECT_EQ(*ParseWords<v1::Outcome>("cancelled", "o"), v1::OUTCOME_CANCELLED);
  const absl::StatusOr<v1::Health> bad =
      ParseWords<v1::Health>("sunny", "--health");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("--health: \"sunny\" is not one of \"on track\", "
                        "\"at risk\", \"off track\", \"unknown\""));
  EXPECT_FALSE(ParseWords<v1::Phase>("unspecified", "p").ok());
}

TEST(PlanWordsTest, EnumsAndTypesWriteAsWords) {
  EXPECT_EQ(Words(v1::PHASE_IN_PROGRESS), "in progress");
  EXPECT_EQ(Words(v1::HEALTH_OFF_TRACK), "off track");
  EXPECT_EQ(Words(v1::DEPENDENCY_KIND_REQUIRES), "requires");
  EXPECT_EQ(EventTypeWords("ScheduleRevised"), "schedule revised");
  EXPECT_EQ(FieldWords("planned_end"), "planned end");
}

TEST(PlanWordsTest, TheUnsetValueAndUnknownNumbersHaveWordsToo) {
  EXPECT_EQ(Words(v1::PHASE_UNSPECIFIED), "unspecified");
  EXPECT_EQ(Words(static_cast<v1::Phase>(99)), "99");
  EXPECT_EQ(Words(v1::ROLE_PLANNER), "planner");
  EXPECT_EQ(*ParseWords<v1::Role>("Reader", "--role"), v1::ROLE_READER);
}

}  // namespace
}  // namespace plantrail::domain
