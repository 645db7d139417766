// Random command sequences for the property tests of the projections and
// the queries built on them.
#ifndef PLANTRAIL_TESTS_PROJECTIONS_RANDOM_PLAN_DRIVER_H_
#define PLANTRAIL_TESTS_PROJECTIONS_RANDOM_PLAN_DRIVER_H_

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sync.h"
#include "eventstore/event_store.h"
#include "gtest/gtest.h"
#include "projections/projection_store.h"
#include "projections/runner.h"
#include "services/plan_command_handler.h"
#include "tests/temp_dir.h"

namespace plantrail::testing {

inline constexpr const char* kDates[] = {"VT23",    "HT23",       "Q4 2023",
                                         "2024",    "april 2024", "HT24",
                                         "snarast", "2025-06-30", "Q1 2026"};

// Sends random plan commands, one per Step(), over a dozen areas (A0..A11):
// registrations, reports (some with a business date in 2023), schedule
// revisions, dependencies, unit changes, closing and reopening, decisions
// naming one or two areas, corrections. Refusals of the plan's rules are
// expected and write nothing; any other failure fails the test.
class RandomPlanDriver {
 public:
  RandomPlanDriver(services::PlanCommandHandler* handler, unsigned seed)
      : handler_(handler), random_(seed) {}

  // Sends one random command; refusals write nothing and are fine.
  void Step() {
    const std::string area = absl::StrCat("A", Pick(12));
    const std::string other = absl::StrCat("A", Pick(12));
    switch (Pick(11)) {
      case 0:
      case 1: {
        v1::RegisterAreaRequest r;
        r.set_area_id(area);
        r.set_title(absl::StrCat("Area ", area));
        r.set_support_area(absl::StrCat("3.", Pick(3) + 1));
        r.set_planned_start(kDates[Pick(3)]);
        r.set_planned_end(kDates[3 + Pick(3)]);
        Send(r);
        break;
      }
      case 2:
      case 3: {
        v1::ReportStatusRequest r;
        r.set_area_id(area);
        r.set_phase(static_cast<v1::Phase>(1 + Pick(4)));
        r.set_health(static_cast<v1::Health>(1 + Pick(4)));
        r.set_narrative(absl::StrCat("report ", ++reports_));
        if (Pick(2) == 0)
          r.set_reported_on(absl::StrCat("2023-0", 1 + Pick(9), "-15"));
        Send(r);
        break;
      }
      case 4: {
        v1::ReviseScheduleRequest r;
        r.set_area_id(area);
        r.set_planned_end(kDates[3 + Pick(6)]);
        r.set_reason("re-planned");
        Send(r);
        break;
      }
      case 5: {
        v1::AddDependencyRequest r;
        r.set_area_id(area);
        if (Pick(2) == 0) {
          r.set_on_area_id(other);
        } else {
          r.set_external(absl::StrCat("System ", Pick(3)));
        }
        Send(r);
        break;
      }
      case 6: {
        v1::RemoveDependencyRequest r;
        r.set_area_id(area);
        r.set_on_area_id(other);
        r.set_reason("no longer needed");
        Send(r);
        break;
      }
      case 7: {
        v1::ChangeUnitsRequest r;
        r.set_area_id(area);
        r.mutable_participating_units()->add_units(
            absl::StrCat("Unit ", Pick(4)));
        Send(r);
        break;
      }
      case 8: {
        if (Pick(2) == 0) {
          v1::CloseAreaRequest r;
          r.set_area_id(area);
          r.set_outcome(Pick(2) == 0 ? v1::OUTCOME_COMPLETED
                                     : v1::OUTCOME_CANCELLED);
          r.set_reason("done");
          Send(r);
        } else {
          v1::ReopenAreaRequest r;
          r.set_area_id(area);
          r.set_reason("again");
          Send(r);
        }
        break;
      }
      case 9: {
        v1::RecordDecisionRequest r;
        r.set_decision_id(absl::StrCat("D", ++decisions_));
        r.set_reference("V-2023-0001");
        r.set_body(Pick(2) == 0 ? "Management council" : "Steering group");
        r.set_decided_on(absl::StrCat("2023-0", 1 + Pick(9), "-01"));
        r.set_title("Decision");
        r.add_area_ids(area);
        if (other != area) r.add_area_ids(other);
        Send(r);
        break;
      }
      default: {
        v1::CorrectEntryRequest r;
        r.set_area_id(area);
        r.set_position(1 + Pick(static_cast<int>(written_ + 1)));
        r.set_reason("wrong entry");
        Send(r);
        break;
      }
    }
  }

  uint64_t written() const { return written_; }

 private:
  int Pick(int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(random_);
  }

  template <typename Request>
  void Send(const Request& command) {
    Notification done;
    absl::StatusOr<v1::CommandResult> result;
    handler_->Handle(services::Principal{.name = "property"}, command,
                     [&](absl::StatusOr<v1::CommandResult> outcome) {
                       result = std::move(outcome);
                       done.Notify();
                     });
    done.WaitForNotification();
    if (result.ok()) {
      ++written_;
    } else {
      // Only refusals of the plan's rules, never an internal failure.
      const absl::StatusCode code = result.status().code();
      ASSERT_TRUE(code == absl::StatusCode::kInvalidArgument ||
                  code == absl::StatusCode::kNotFound ||
                  code == absl::StatusCode::kAlreadyExists ||
                  code == absl::StatusCode::kFailedPrecondition)
          << result.status();
    }
  }

  services::PlanCommandHandler* handler_;
  std::mt19937 random_;
  uint64_t written_ = 0;
  int reports_ = 0;
  int decisions_ = 0;
};

// A log written by a RandomPlanDriver, with a projection store and a
// runner per projection, every runner caught up with the log's head.
// Members are destroyed runners first, then the store, the log and the
// directory.
struct DrivenLog {
  TempDir dir;
  std::unique_ptr<eventstore::EventStore> log;
  std::unique_ptr<projections::ProjectionStore> store;
  std::vector<std::unique_ptr<projections::ProjectionRunner>> runners;
  uint64_t head = 0;
};

// Fills `driven` with `steps` random commands of `seed`, recorded by `now`
// (when set), and `projections` caught up. Fails the test (fatally: check
// HasFatalFailure()) when something does not open or catch up.
inline void DriveRandomPlan(
    unsigned seed,
    std::vector<std::unique_ptr<projections::Projection>> projections,
    DrivenLog& driven, std::function<absl::Time()> now = nullptr,
    int steps = 400) {
  eventstore::Options options{.path = driven.dir / "log",
                              .durability = eventstore::Durability::kNoSync};
  if (now) options.now = std::move(now);
  auto log = eventstore::EventStore::Open(options);
  ASSERT_TRUE(log.ok()) << log.status();
  driven.log = *std::move(log);
  auto store = projections::ProjectionStore::Open(driven.dir / "projections");
  ASSERT_TRUE(store.ok()) << store.status();
  driven.store = *std::move(store);
  for (auto& projection : projections) {
    auto runner = projections::ProjectionRunner::Start(
        driven.log.get(), driven.store.get(), std::move(projection));
    ASSERT_TRUE(runner.ok()) << runner.status();
    driven.runners.push_back(*std::move(runner));
  }
  {
    services::PlanCommandHandler handler(driven.log.get());
    RandomPlanDriver driver(&handler, seed);
    for (int i = 0; i < steps; ++i) driver.Step();
    ASSERT_GT(driver.written(), 100u) << "the sequence wrote too little";
  }
  driven.head = driven.log->HeadPosition();
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  for (const auto& runner : driven.runners) {
    ASSERT_TRUE(runner->WaitApplied(driven.head, deadline).ok())
        << runner->name();
  }
}

}  // namespace plantrail::testing

#endif  // PLANTRAIL_TESTS_PROJECTIONS_RANDOM_PLAN_DRIVER_H_
