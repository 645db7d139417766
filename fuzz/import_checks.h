// What every imported plan must satisfy, whichever file it came from
// (plan_import_csv_fuzzer.cc, plan_import_json_fuzzer.cc). From
// import/plan_file.h, import_check.h and docs/import-format.md:
//   - every row says where it is and has commands; every problem says where
//     and what;
//   - every command carries the id ImportCommandId gives it, passes the
//     server's CheckOptions, and survives the wire: the bytes the CLI sends
//     parse on the server as the same command;
//   - the check (CheckImport) on an empty server refuses or passes each row;
//     the commands of the rows it passes, sent in its order, are each
//     accepted by the server's decide on the state the earlier ones left
//     (the check never passes what the server then refuses);
//   - importing again sends nothing of what the first import sent.
#ifndef PLANTRAIL_FUZZ_IMPORT_CHECKS_H_
#define PLANTRAIL_FUZZ_IMPORT_CHECKS_H_

#include <map>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "domain/decide.h"
#include "domain/evolve.h"
#include "fuzz/fuzz_check.h"
#include "google/protobuf/util/message_differencer.h"
#include "import/import_check.h"
#include "import/plan_file.h"

namespace plantrail::fuzz {

// The server's streams, in memory: what CheckImport reads, and what the
// commands of an import do to them when the server applies them one by one.
class MemoryPlanView : public plan_import::PlanView {
 public:
  absl::StatusOr<plan_import::StreamSnapshot> Stream(
      const std::string& stream_id) override {
    auto it = streams_.find(stream_id);
    return it == streams_.end() ? plan_import::StreamSnapshot() : it->second;
  }

  // Decides `command` on its stream as the server does and folds the event
  // in; the refusal otherwise.
  absl::Status Apply(const plan_import::ImportCommand& command,
                     absl::Time now) {
    domain::Facts facts{.now = now};
    for (const auto& [id, snapshot] : streams_) {
      absl::string_view name = id;
      if (absl::ConsumePrefix(&name, "area-") && snapshot.area.version() > 0) {
        facts.existing_areas.insert(std::string(name));
      }
      if (absl::ConsumePrefix(&name, "decision-") &&
          snapshot.decision.version() > 0) {
        facts.existing_decisions.insert(std::string(name));
      }
    }
    const std::string stream = plan_import::StreamOf(command);
    plan_import::StreamSnapshot& snapshot = streams_[stream];
    return std::visit(
        [&](const auto& request) -> absl::Status {
          if (absl::Status valid = domain::CheckOptions(request.options());
              !valid.ok()) {
            return valid;
          }
          using T = std::decay_t<decltype(request)>;
          if constexpr (std::is_same_v<T, v1::RecordDecisionRequest>) {
            absl::StatusOr<stored::PlanEvent> event =
                domain::Decide(snapshot.decision, request, facts);
            if (!event.ok()) return event.status();
            domain::EvolveDecision(snapshot.decision, *event,
                                   {.version = snapshot.decision.version() + 1,
                                    .recorded_at = now});
          } else {
            absl::StatusOr<stored::PlanEvent> event =
                domain::Decide(snapshot.area, request, facts);
            if (!event.ok()) return event.status();
            domain::EvolveArea(
                snapshot.area, *event,
                {.version = snapshot.area.version() + 1, .recorded_at = now});
          }
          snapshot.command_ids.insert(request.options().command_id());
          return absl::OkStatus();
        },
        command);
  }

 private:
  std::map<std::string, plan_import::StreamSnapshot> streams_;
};

inline std::string Where(const plan_import::ImportRow& row) {
  return absl::StrCat("row ", Escaped(row.where));
}

template <typename Request>
void CheckCommand(const Request& request, const plan_import::ImportRow& row) {
  const auto where = [&] {
    return absl::StrCat(Where(row), ": ", request.ShortDebugString());
  };
  PLANTRAIL_FUZZ_CHECK(
      request.options().command_id() == plan_import::ImportCommandId(request),
      where());
  const absl::Status options = domain::CheckOptions(request.options());
  PLANTRAIL_FUZZ_CHECK(options.ok(),
                       absl::StrCat(where(), ": ", Describe(options)));
  // proto3 strings must be UTF-8: the server cannot parse anything else.
  std::string bytes;
  PLANTRAIL_FUZZ_CHECK(request.SerializeToString(&bytes), where());
  Request received;
  PLANTRAIL_FUZZ_CHECK(received.ParseFromString(bytes),
                       absl::StrCat(where(), ": the server cannot parse it"));
  PLANTRAIL_FUZZ_CHECK(
      google::protobuf::util::MessageDifferencer::Equals(received, request),
      where());
}

inline void CheckImportedPlan(const plan_import::ImportedPlan& plan) {
  for (const plan_import::ImportRow& row : plan.rows) {
    PLANTRAIL_FUZZ_CHECK(!row.where.empty() && !row.commands.empty(),
                         Where(row));
    for (const plan_import::ImportCommand& command : row.commands) {
      std::visit([&](const auto& request) { CheckCommand(request, row); },
                 command);
    }
  }
  for (const plan_import::ImportProblem& problem : plan.problems) {
    PLANTRAIL_FUZZ_CHECK(
        !problem.where.empty() && !problem.message.empty(),
        absl::StrCat(Escaped(problem.where), ": ", Escaped(problem.message)));
  }

  const absl::Time now =
      absl::FromCivil(absl::CivilDay(2024, 1, 15), absl::UTCTimeZone());
  MemoryPlanView empty;
  const absl::StatusOr<plan_import::ImportVerdict> verdict =
      plan_import::CheckImport(plan, empty, now);
  PLANTRAIL_FUZZ_CHECK(verdict.ok(), Describe(verdict.status()));
  PLANTRAIL_FUZZ_CHECK(verdict->refusals.size() == plan.rows.size() &&
                           verdict->already_done.size() == plan.rows.size() &&
                           verdict->commands_already_done == 0,
                       "verdict does not match the rows");
  size_t to_send = 0;
  for (size_t r = 0; r < plan.rows.size(); ++r) {
    if (verdict->refusals[r].empty()) to_send += plan.rows[r].commands.size();
  }
  PLANTRAIL_FUZZ_CHECK(verdict->commands_to_send == to_send,
                       absl::StrCat(verdict->commands_to_send, " to send, ",
                                    to_send, " in the rows that pass"));

  MemoryPlanView server;
  for (const auto& [r, c] : plan_import::SendOrder(plan)) {
    if (!verdict->refusals[r].empty()) continue;
    const absl::Status applied = server.Apply(plan.rows[r].commands[c], now);
    PLANTRAIL_FUZZ_CHECK(
        applied.ok(),
        absl::StrCat(Where(plan.rows[r]), " passed the check, but command ", c,
                     " is refused: ", Describe(applied)));
  }

  const absl::StatusOr<plan_import::ImportVerdict> again =
      plan_import::CheckImport(plan, server, now);
  PLANTRAIL_FUZZ_CHECK(again.ok(), Describe(again.status()));
  for (size_t r = 0; r < plan.rows.size(); ++r) {
    if (!verdict->refusals[r].empty()) continue;
    PLANTRAIL_FUZZ_CHECK(
        again->refusals[r].empty() &&
            again->already_done[r].size() == plan.rows[r].commands.size(),
        absl::StrCat(Where(plan.rows[r]), " is not done after its import: ",
                     Escaped(again->refusals[r])));
  }
}

}  // namespace plantrail::fuzz

#endif  // PLANTRAIL_FUZZ_IMPORT_CHECKS_H_
