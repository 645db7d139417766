// Helpers for the plan model's tests: requests from text protos, and an area
// that commands are run against through decide and evolve, as the command
// service runs them.
#ifndef PLANTRAIL_TESTS_DOMAIN_DOMAIN_TEST_UTIL_H_
#define PLANTRAIL_TESTS_DOMAIN_DOMAIN_TEST_UTIL_H_

#include <string>

#include "absl/time/time.h"
#include "domain/decide.h"
#include "domain/evolve.h"
#include "gtest/gtest.h"
#include "tests/proto_text.h"

namespace plantrail::domain::testing {

using ::plantrail::testing::Pb;

inline absl::Time TestNow() {
  return absl::FromCivil(absl::CivilDay(2023, 9, 15), absl::UTCTimeZone());
}

// One area's stream, folded as commands are decided on it.
class Area {
 public:
  explicit Area(uint64_t first_position = 1) : next_position_(first_position) {}

  // Decides `command` on the current state; on success evolves the state
  // with the event (as if appended at the next position) and returns it.
  template <typename Request>
  absl::StatusOr<stored::PlanEvent> Run(const Request& command,
                                        const Facts& facts = DefaultFacts()) {
    absl::StatusOr<stored::PlanEvent> event = Decide(state_, command, facts);
    if (event.ok()) {
      EvolveArea(state_, *event,
                 EventContext{.position = next_position_++,
                              .version = state_.version() + 1,
                              .recorded_at = facts.now,
                              .actor = "tester"});
    }
    return event;
  }

  // Runs a command that must succeed.
  template <typename Request>
  stored::PlanEvent Must(const Request& command,
                         const Facts& facts = DefaultFacts()) {
    absl::StatusOr<stored::PlanEvent> event = Run(command, facts);
    EXPECT_TRUE(event.ok()) << event.status();
    return event.ok() ? *event : stored::PlanEvent();
  }

  const stored::AreaState& state() const { return state_; }

  static Facts DefaultFacts() {
    Facts facts;
    facts.now = TestNow();
    return facts;
  }

 private:
  stored::AreaState state_;
  uint64_t next_position_;
};

}  // namespace plantrail::domain::testing

#endif  // PLANTRAIL_TESTS_DOMAIN_DOMAIN_TEST_UTIL_H_
