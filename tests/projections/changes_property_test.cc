// GetChanges over random histories equals a brute-force fold of every
// stream: for random windows on both clocks, every area's state before the
// window and at its end is folded here from the whole log, compared with
// domain::CompareAreas, and set against what the query (the changes
// projection's steps; by business date, only for the areas in the order of
// their business days, the others folded) answers; also over a changes
// projection as layout 1 kept it (an older server's copy).
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "domain/area_changes.h"
#include "domain/area_schedule.h"
#include "domain/evolve.h"
#include "domain/timestamps.h"
#include "gmock/gmock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "projections/area_state_projection.h"
#include "projections/changes_projection.h"
#include "projections/runner.h"
#include "projections/stream_fold.h"
#include "services/plan_command_handler.h"
#include "services/plan_queries.h"
#include "tests/projections/random_plan_driver.h"
#include "tests/temp_dir.h"

namespace plantrail {
namespace {

const absl::CivilDay kFirstDay(2023, 1, 1);

// The day an event counts on, written here from the contract's words
// rather than taken from the code under test: recorded, the UTC day it was
// recorded; business, a status report's reported_on (its first day), no day
// at all for a registration (it is there from the start), else the recorded
// day.
absl::CivilDay DayOf(bool business,
                     const projections::PlanEventRecord& record) {
  const absl::CivilDay recorded = domain::UtcDay(record.context.recorded_at);
  if (!business) return recorded;
  if (record.event.has_area_registered()) return absl::CivilDay::min();
  if (record.event.has_status_reported() &&
      record.event.status_reported().report().has_reported_on()) {
    const auto day = domain::FirstDayOf(
        record.event.status_reported().report().reported_on());
    if (day) return *day;
  }
  return recorded;
}

struct Expected {
  std::map<std::string, domain::AreaChanges> areas;
  std::map<std::string, std::vector<std::string>> decisions;
  domain::ChangesSummary summary;
  uint32_t areas_in_window = 0;
  uint32_t decisions_in_window = 0;
};

Expected BruteForce(const eventstore::EventStore& log, bool business,
                    absl::CivilDay since, absl::CivilDay until) {
  std::map<std::string, stored::AreaState> start, end;
  std::vector<std::pair<stored::DecisionState, absl::CivilDay>> decisions;
  for (uint64_t from = 1; from != 0;) {
    auto page = log.ReadAll({.from_position = from, .limit = 1000});
    EXPECT_TRUE(page.ok());
    if (!page.ok()) break;
    for (const auto& recorded : page->events) {
      auto record = projections::DecodePlanEvent(recorded);
      EXPECT_TRUE(record.ok());
      if (!record.ok() || !*record) continue;
      if (recorded.stream_id.rfind("decision-", 0) == 0) {
        stored::DecisionState decision;
        domain::EvolveDecision(decision, (*record)->event, (*record)->context);
        std::optional<absl::CivilDay> day =
            business ? domain::FirstDayOf(decision.decided_on()) : std::nullopt;
        decisions.emplace_back(
            decision, day ? *day : domain::UtcDay(recorded.recorded_at));
        continue;
      }
      if (recorded.stream_id.rfind("area-", 0) != 0) continue;
      const std::string id = recorded.stream_id.substr(5);
      const absl::CivilDay day = DayOf(business, **record);
      if (day < since) {
        domain::EvolveArea(start[id], (*record)->event, (*record)->context);
      }
      if (day <= until) {
        domain::EvolveArea(end[id], (*record)->event, (*record)->context);
      }
    }
    from = page->next_position;
  }
  Expected expected;
  for (const auto& [id, state] : end) {
    if (state.version() == 0) continue;
    ++expected.areas_in_window;
    const domain::AreaChanges changes = domain::CompareAreas(start[id], state);
    domain::AddToSummary(state, changes, expected.summary);
    if (!changes.empty()) expected.areas[id] = changes;
  }
  for (const auto& [decision, day] : decisions) {
    if (day < since || day > until) continue;
    ++expected.decisions_in_window;
    for (const std::string& area : decision.area_ids()) {
      if (!end.contains(area) || end[area].version() == 0) continue;
      auto& listed = expected.decisions[area];
      if (listed.empty() || listed.back() != decision.decision_id()) {
        listed.push_back(decision.decision_id());
      }
      if (!expected.areas.contains(area)) {
        expected.areas[area] = domain::AreaChanges();
        ++expected.summary.areas_changed;
      }
    }
  }
  return expected;
}

// The changes projection as layout 1 kept it, without the business-day
// entries ("d", "x"): what a copy written by an older server holds until it
// is folded anew. Its areas all read as out of order, so the business clock
// folds them; the answers must be the same.
class LayoutOneChanges final : public projections::Projection {
 public:
  std::string name() const override { return "changes"; }
  uint32_t layout() const override { return 1; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     projections::StateWriter& state) override {
    WithoutBusinessDays writer(state);
    return changes_.Apply(event, writer);
  }

 private:
  class WithoutBusinessDays final : public projections::StateWriter {
   public:
    explicit WithoutBusinessDays(projections::StateWriter& state)
        : state_(state) {}
    absl::StatusOr<std::optional<std::string>> Get(
        absl::string_view key) override {
      return state_.Get(key);
    }
    void Put(absl::string_view key, absl::string_view value) override {
      if (!Dropped(key)) state_.Put(key, value);
    }
    absl::StatusOr<google::protobuf::Message*> Staged(
        absl::string_view key,
        const google::protobuf::Message& prototype) override {
      if (!Dropped(key)) return state_.Staged(key, prototype);
      scratch_.reset(prototype.New());
      return scratch_.get();
    }

   private:
    static bool Dropped(absl::string_view key) {
      return !key.empty() && (key[0] == 'd' || key[0] == 'x');
    }
    projections::StateWriter& state_;
    std::unique_ptr<google::protobuf::Message> scratch_;
  };
  projections::ChangesProjection changes_;
};

// (seed, whether the changes projection is as layout 1 kept it)
class ChangesPropertyTest
    : public ::testing::TestWithParam<std::tuple<unsigned, bool>> {};

TEST_P(ChangesPropertyTest, GetChangesEqualsABruteForceFoldOfEveryStream) {
  const auto [seed, layout_one] = GetParam();
  SCOPED_TRACE(absl::StrCat("seed ", seed, layout_one ? ", layout 1" : ""));
  // Recorded times from 2023-01-01 on, seven hours apart: the history
  // spreads over about four months.
  absl::Time clock = absl::FromCivil(kFirstDay, absl::UTCTimeZone());
  std::vector<std::unique_ptr<projections::Projection>> projections;
  projections.push_back(std::make_unique<projections::AreaStateProjection>());
  if (layout_one) {
    projections.push_back(std::make_unique<LayoutOneChanges>());
  } else {
    projections.push_back(std::make_unique<projections::ChangesProjection>());
  }
  testing::DrivenLog driven;
  testing::DriveRandomPlan(seed, std::move(projections), driven,
                           [&clock] { return clock += absl::Hours(7); });
  if (HasFatalFailure()) return;
  const uint64_t head = driven.head;
  auto* log = &driven.log;
  projections::ProjectionRunner* areas = driven.runners[0].get();
  projections::ProjectionRunner* changes = driven.runners[1].get();
  const absl::Time today =
      absl::FromCivil(absl::CivilDay(2023, 9, 30), absl::UTCTimeZone());
  services::PlanQueries queries(log->get(), areas, areas, changes,
                                [today] { return today; });

  // Both ways of the business clock are taken: areas whose events came in
  // the order of their business days (read from steps) and areas whose
  // did not (folded).
  {
    auto reader = changes->Live();
    auto lasts = reader->Scan("x", "", ~size_t{0});
    ASSERT_TRUE(lasts.ok()) << lasts.status();
    int in_order = 0, out_of_order = 0;
    for (const auto& [key, value] : *lasts) {
      google::protobuf::UInt64Value last;
      ASSERT_TRUE(last.ParseFromString(value));
      ++(last.value() == projections::kOutOfOrder ? out_of_order : in_order);
    }
    if (layout_one) {
      EXPECT_EQ(in_order + out_of_order, 0);
    } else {
      EXPECT_GT(in_order, 0);
      EXPECT_GT(out_of_order, 0);
    }
  }

  std::mt19937 random(seed);
  int windows_with_changes = 0;
  for (int i = 0; i < 30; ++i) {
    const bool business = random() % 2 == 0;
    absl::CivilDay since = kFirstDay + static_cast<int>(random() % 150) - 20;
    absl::CivilDay until = since + static_cast<int>(random() % 60);
    const bool open_end = random() % 4 == 0;
    if (open_end) until = domain::UtcDay(today);
    SCOPED_TRACE(absl::StrCat(business ? "business" : "recorded", " ",
                              absl::FormatCivilTime(since), " .. ",
                              absl::FormatCivilTime(until)));
    v1::GetChangesRequest request;
    request.set_since(absl::FormatCivilTime(since));
    if (!open_end) request.set_until(absl::FormatCivilTime(until));
    request.set_basis(business ? v1::CHANGE_BASIS_BUSINESS
                               : v1::CHANGE_BASIS_RECORDED);
    auto answer = queries.GetChanges(request);
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer->until(), absl::FormatCivilTime(until));
    EXPECT_EQ(answer->position(), head);
    const Expected expected = BruteForce(**log, business, since, until);
    if (!expected.areas.empty()) ++windows_with_changes;

    std::vector<std::string> listed, wanted;
    for (const v1::AreaChange& change : answer->areas()) {
      listed.push_back(change.area_id());
    }
    for (const auto& [id, ignored] : expected.areas) wanted.push_back(id);
    ASSERT_EQ(listed, wanted);
    for (const v1::AreaChange& change : answer->areas()) {
      SCOPED_TRACE(change.area_id());
      const domain::AreaChanges& want = expected.areas.at(change.area_id());
      EXPECT_EQ(change.registered(), want.registered);
      EXPECT_EQ(change.phase_before() != change.phase_after(),
                want.phase.has_value());
      if (want.phase) {
        EXPECT_EQ(static_cast<int>(change.phase_before()),
                  static_cast<int>(want.phase->from));
        EXPECT_EQ(static_cast<int>(change.phase_after()),
                  static_cast<int>(want.phase->to));
      }
      if (want.health) {
        EXPECT_EQ(static_cast<int>(change.health_after()),
                  static_cast<int>(want.health->to));
      }
      EXPECT_EQ(change.end_moved_days(), want.end_moved_days.value_or(0));
      if (!expected.decisions.contains(change.area_id()) || want.registered ||
          !want.empty()) {
        EXPECT_EQ(change.has_slip_days_against_baseline(),
                  want.slip_days_against_baseline.has_value());
      }
      EXPECT_EQ(change.dependencies_added_size(),
                static_cast<int>(want.dependencies_added.size()));
      EXPECT_EQ(change.dependencies_removed_size(),
                static_cast<int>(want.dependencies_removed.size()));
      EXPECT_EQ(change.closed(), want.closed);
      EXPECT_EQ(change.reopened(), want.reopened);
      EXPECT_EQ(change.status_reports(), want.status_reports);
      EXPECT_EQ(change.corrected_entries(), want.corrected_entries);
      std::vector<std::string> decision_ids;
      for (const auto& ref : change.decisions()) {
        decision_ids.push_back(ref.decision_id());
      }
      const auto decided = expected.decisions.find(change.area_id());
      EXPECT_EQ(decision_ids, decided == expected.decisions.end()
                                  ? std::vector<std::string>()
                                  : decided->second);
    }
    const v1::ChangesSummary& sum = answer->summary();
    EXPECT_EQ(sum.areas(), expected.areas_in_window);
    EXPECT_EQ(sum.areas_changed(), expected.summary.areas_changed);
    EXPECT_EQ(sum.slipped(), expected.summary.slipped);
    EXPECT_EQ(sum.newly_at_risk(), expected.summary.newly_at_risk);
    EXPECT_EQ(sum.newly_off_track(), expected.summary.newly_off_track);
    EXPECT_EQ(sum.completed(), expected.summary.completed);
    EXPECT_EQ(sum.silent(), expected.summary.silent);
    EXPECT_EQ(sum.decisions(), expected.decisions_in_window);
  }
  // Not vacuous: most windows saw something change.
  EXPECT_GT(windows_with_changes, 10);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ChangesPropertyTest,
                         ::testing::Values(std::tuple(1u, false),
                                           std::tuple(2u, false),
                                           std::tuple(3u, false),
                                           std::tuple(1u, true)));

TEST(ChangesQueryTest, AWindowIsCheckedBeforeAnythingIsRead) {
  services::PlanQueries queries(nullptr, nullptr, nullptr, nullptr);
  v1::GetChangesRequest request;
  auto answer = queries.GetChanges(request);
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(answer.status().message()),
              ::testing::HasSubstr("since: required"));
  request.set_since("someday");
  answer = queries.GetChanges(request);
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(answer.status().message()),
              ::testing::StartsWith("since: "));
  request.set_since("löpande");
  answer = queries.GetChanges(request);
  EXPECT_THAT(std::string(answer.status().message()),
              ::testing::HasSubstr("give a date such as"));
  request.set_since("2024-03-01");
  request.set_until("2024-02");
  answer = queries.GetChanges(request);
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(answer.status().message()),
              ::testing::HasSubstr(
                  "until: 2024-02-29 is before since 2024-03-01 [rule: "
                  "window-order]"));
  request.set_until("");
  request.set_basis(static_cast<v1::ChangeBasis>(7));
  answer = queries.GetChanges(request);
  EXPECT_THAT(std::string(answer.status().message()),
              ::testing::HasSubstr("basis: 7 is not a basis"));
}

}  // namespace
}  // namespace plantrail
