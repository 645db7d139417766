#include "domain/area_schedule.h"

#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "domain/plan_date.h"
#include "domain/plan_date_proto.h"
#include "domain/timestamps.h"
#include "gtest/gtest.h"

namespace plantrail::domain {
namespace {

stored::PlanDate Date(const std::string& text) {
  return ToProto(*PlanDate::Parse(text));
}

stored::AreaState Area(const std::string& planned_end,
                       const std::string& baseline_end = "") {
  stored::AreaState area;
  if (!planned_end.empty()) *area.mutable_planned_end() = Date(planned_end);
  if (!baseline_end.empty()) *area.mutable_baseline_end() = Date(baseline_end);
  return area;
}

TEST(AreaScheduleTest, AnOpenAreaIsOverdueTheDayAfterTheLastDayOfItsEnd) {
  const stored::AreaState area = Area("Q4 2023");
  EXPECT_FALSE(IsOverdue(area, absl::CivilDay(2023, 12, 31)));
  EXPECT_TRUE(IsOverdue(area, absl::CivilDay(2024, 1, 1)));
  stored::AreaState closed = area;
  closed.set_closed(true);
  EXPECT_FALSE(IsOverdue(closed, absl::CivilDay(2030, 1, 1)));
  EXPECT_FALSE(IsOverdue(Area(""), absl::CivilDay(2030, 1, 1)));
  EXPECT_FALSE(IsOverdue(Area("löpande"), absl::CivilDay(2030, 1, 1)));
}

TEST(AreaScheduleTest, SlipIsCountedInDaysBetweenLastDays) {
  EXPECT_EQ(SlipDaysAgainstBaseline(Area("2024-01", "Q4 2023")), 31);
  EXPECT_EQ(SlipDaysAgainstBaseline(Area("2023-11", "Q4 2023")), -31);
  EXPECT_TRUE(HasSlipped(Area("2024-01", "Q4 2023")));
  EXPECT_FALSE(HasSlipped(Area("2023-11", "Q4 2023")));
  EXPECT_FALSE(SlipDaysAgainstBaseline(Area("2024-01")).has_value());
  EXPECT_FALSE(SlipDaysAgainstBaseline(Area("löpande", "Q4 2023")));
  stored::AreaState revised = Area("2024-03");
  *revised.mutable_previous_end() = Date("2024-02");
  EXPECT_EQ(SlipDaysAgainstPrevious(revised), 31);
}

TEST(TimestampsTest,
     RoundTripToTheMicrosecondAndClampWhatATimestampCannotHold) {
  const absl::Time time =
      absl::FromUnixMicros(1'700'000'000'123'456);  // 2023-11-14
  EXPECT_EQ(FromTimestamp(ToTimestamp(time)), time);
  // protobuf's TimeUtil would abort the process on these.
  EXPECT_EQ(ToTimestamp(absl::InfiniteFuture()).seconds(), 253402300799);
  EXPECT_EQ(ToTimestamp(absl::InfinitePast()).seconds(), -62135596800);
  google::protobuf::Timestamp hostile;
  hostile.set_seconds(-9'000'000'000'000'000'000);
  hostile.set_nanos(-5);
  EXPECT_LT(FromTimestamp(hostile), absl::UnixEpoch());
  EXPECT_EQ(UtcDay(time), absl::CivilDay(2023, 11, 14));
}

}  // namespace
}  // namespace plantrail::domain
