#include "import/import_check.h"

#include <type_traits>
#include <utility>
#include <variant>

#include "common/status_macros.h"
#include "domain/decide.h"
#include "domain/evolve.h"
#include "domain/streams.h"

namespace plantrail::plan_import {
namespace {

bool IsRegistration(const ImportCommand& command) {
  return std::holds_alternative<v1::RegisterAreaRequest>(command);
}

const v1::CommandOptions& OptionsOf(const ImportCommand& command) {
  return std::visit(
      [](const auto& request) -> const v1::CommandOptions& {
        return request.options();
      },
      command);
}

// Every stream the plan's commands touch or name (dependency targets,
// decisions' areas, reports' areas).
std::set<std::string> StreamsNamed(const ImportedPlan& plan) {
  std::set<std::string> streams;
  for (const ImportRow& row : plan.rows) {
    for (const ImportCommand& command : row.commands) {
      streams.insert(StreamOf(command, plan.stream_plan));
      if (const auto* dependency =
              std::get_if<v1::AddDependencyRequest>(&command);
          dependency != nullptr && dependency->has_on_area_id()) {
        streams.insert(
            domain::AreaStream(plan.stream_plan, dependency->on_area_id()));
      }
      if (const auto* decision =
              std::get_if<v1::RecordDecisionRequest>(&command)) {
        for (const std::string& area : decision->area_ids()) {
          streams.insert(domain::AreaStream(plan.stream_plan, area));
        }
      }
    }
  }
  return streams;
}

// One pass over the rows not yet refused, on a fresh copy of the server's
// state.
class Pass {
 public:
  Pass(std::map<std::string, StreamSnapshot> streams, absl::Time now,
       std::string stream_plan)
      : streams_(std::move(streams)), stream_plan_(std::move(stream_plan)) {
    facts_.now = now;
    facts_.stream_plan = stream_plan_;
    for (const auto& [id, snapshot] : streams_) Exists(id, snapshot);
  }

  absl::Status Apply(const ImportCommand& command) {
    const std::string stream = StreamOf(command, stream_plan_);
    StreamSnapshot& snapshot = streams_[stream];
    // A decision has a stream of its own; every other command an area's.
    absl::Status applied = std::visit(
        [&](const auto& request) -> absl::Status {
          auto& state = [&]() -> auto& {
            if constexpr (std::is_same_v<std::decay_t<decltype(request)>,
                                         v1::RecordDecisionRequest>) {
              return snapshot.decision;
            } else {
              return snapshot.area;
            }
          }
          ();
          PLANTRAIL_ASSIGN_OR_RETURN(stored::PlanEvent event,
                                     domain::Execute(state, request, facts_));
          domain::Evolve(state, event,
                         {.position = 0,
                          .version = state.version() + 1,
                          .recorded_at = facts_.now,
                          .actor = ""});
          return absl::OkStatus();
        },
        command);
    PLANTRAIL_RETURN_IF_ERROR(applied);
    snapshot.command_ids.insert(OptionsOf(command).command_id());
    Exists(stream, snapshot);
    return absl::OkStatus();
  }

 private:
  void Exists(absl::string_view stream, const StreamSnapshot& snapshot) {
    const domain::PlanStreamName name = domain::ParseStreamName(stream);
    if (name.stream_plan != stream_plan_) return;  // another plan's
    if (name.kind == domain::PlanStreamName::Kind::kArea &&
        snapshot.area.version() > 0) {
      facts_.existing_areas.insert(name.id);
    }
    if (name.kind == domain::PlanStreamName::Kind::kDecision &&
        snapshot.decision.version() > 0) {
      facts_.existing_decisions.insert(name.id);
    }
  }

  std::map<std::string, StreamSnapshot> streams_;
  const std::string stream_plan_;
  domain::Facts facts_;
};

}  // namespace

std::vector<std::pair<size_t, size_t>> SendOrder(const ImportedPlan& plan) {
  std::vector<std::pair<size_t, size_t>> order;
  for (bool registrations : {true, false}) {
    for (size_t r = 0; r < plan.rows.size(); ++r) {
      for (size_t c = 0; c < plan.rows[r].commands.size(); ++c) {
        if (IsRegistration(plan.rows[r].commands[c]) == registrations) {
          order.emplace_back(r, c);
        }
      }
    }
  }
  return order;
}

absl::StatusOr<ImportVerdict> CheckImport(const ImportedPlan& plan,
                                          PlanView& view, absl::Time now) {
  std::map<std::string, StreamSnapshot> server;
  for (const std::string& stream : StreamsNamed(plan)) {
    PLANTRAIL_ASSIGN_OR_RETURN(server[stream], view.Stream(stream));
  }
  ImportVerdict verdict;
  verdict.refusals.resize(plan.rows.size());
  verdict.already_done.resize(plan.rows.size());
  const std::vector<std::pair<size_t, size_t>> order = SendOrder(plan);
  // A refused row whose earlier commands this pass already applied leaves
  // state behind that others may have used: start again without it. Each
  // new pass has one more refused row, so this ends.
  bool again = true;
  while (again) {
    again = false;
    Pass pass(server, now, plan.stream_plan);
    std::vector<bool> applied(plan.rows.size(), false);
    for (const auto& [r, c] : order) {
      if (!verdict.refusals[r].empty()) continue;
      const ImportCommand& command = plan.rows[r].commands[c];
      if (server[StreamOf(command, plan.stream_plan)].command_ids.contains(
              OptionsOf(command).command_id())) {
        continue;  // imported before
      }
      if (absl::Status status = pass.Apply(command); !status.ok()) {
        verdict.refusals[r] = std::string(status.message());
        if (applied[r]) {
          again = true;
          break;
        }
      } else {
        applied[r] = true;
      }
    }
  }
  for (const auto& [r, c] : order) {
    if (!verdict.refusals[r].empty()) continue;
    const ImportCommand& command = plan.rows[r].commands[c];
    if (server[StreamOf(command, plan.stream_plan)].command_ids.contains(
            OptionsOf(command).command_id())) {
      verdict.already_done[r].insert(c);
      ++verdict.commands_already_done;
    } else {
      ++verdict.commands_to_send;
    }
  }
  return verdict;
}

}  // namespace plantrail::plan_import
