// `import FILE [--dry-run]`: a whole plan with its history, checked before
// anything is sent (import/import_check.h), applied row by row, idempotent.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "common/status_macros.h"
#include "domain/event_codec.h"
#include "domain/evolve.h"
#include "domain/metadata_keys.h"
#include "domain/streams.h"
#include "domain/timestamps.h"
#include "import/import_check.h"
#include "import/plan_file.h"

namespace plantrail::cli {
namespace {

using plan_import::CheckImport;
using plan_import::ImportCommand;
using plan_import::ImportCommandId;
using plan_import::ImportedPlan;
using plan_import::ImportProblem;
using plan_import::ImportRow;
using plan_import::ImportVerdict;
using plan_import::PlanView;
using plan_import::ReadPlanFile;
using plan_import::SendOrder;
using plan_import::StreamSnapshot;

// The server's streams, read through EventStore.ReadStream and folded with
// the plan model's own evolve.
class GrpcPlanView : public PlanView {
 public:
  explicit GrpcPlanView(Client& client) : client_(client) {}

  absl::StatusOr<StreamSnapshot> Stream(const std::string& stream_id) override {
    StreamSnapshot snapshot;
    const bool decision =
        absl::StartsWith(stream_id, domain::kDecisionStreamPrefix);
    v1::ReadStreamRequest request;
    request.set_stream_id(stream_id);
    request.set_direction(v1::READ_DIRECTION_FORWARD);
    request.set_limit(1000);
    do {
      v1::ReadStreamResponse page;
      absl::Status status = client_.Call(&v1::EventStore::Stub::ReadStream,
                                         client_.events(), request, page);
      if (absl::IsNotFound(status)) return snapshot;
      PLANTRAIL_RETURN_IF_ERROR(status);
      for (const v1::RecordedEvent& recorded : page.events()) {
        auto command_id = recorded.metadata().find(domain::kCommandIdKey);
        if (command_id != recorded.metadata().end()) {
          snapshot.command_ids.insert(command_id->second);
        }
        // As the server folds it: a type this CLI does not know (a newer
        // server's) still counts as a version.
        PLANTRAIL_ASSIGN_OR_RETURN(
            stored::PlanEvent event,
            domain::DecodeForFold(recorded.type(), recorded.payload()));
        auto actor = recorded.metadata().find(domain::kActorKey);
        const domain::EventContext context{
            .position = recorded.position(),
            .version = recorded.stream_version(),
            .recorded_at = domain::FromTimestamp(recorded.recorded_at()),
            .actor = actor == recorded.metadata().end() ? "" : actor->second};
        decision ? domain::EvolveDecision(snapshot.decision, event, context)
                 : domain::EvolveArea(snapshot.area, event, context);
      }
      request.set_from_version(page.next_version());
    } while (request.from_version() != 0);
    return snapshot;
  }

 private:
  Client& client_;
};

absl::StatusOr<v1::CommandResult> Send(Client& client,
                                       const ImportCommand& command) {
  using Stub = v1::PlanCommands::Stub;
  v1::CommandResult result;
  absl::Status status = std::visit(
      [&](const auto& request) {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, v1::RegisterAreaRequest>) {
          return client.Call(&Stub::RegisterArea, client.commands(), request,
                             result);
        } else if constexpr (std::is_same_v<T, v1::AddDependencyRequest>) {
          return client.Call(&Stub::AddDependency, client.commands(), request,
                             result);
        } else if constexpr (std::is_same_v<T, v1::ReportStatusRequest>) {
          return client.Call(&Stub::ReportStatus, client.commands(), request,
                             result);
        } else {
          return client.Call(&Stub::RecordDecision, client.commands(), request,
                             result);
        }
      },
      command);
  if (!status.ok()) return status;
  return result;
}

struct Flags {
  std::string file;
  bool dry_run = false;
};

// The fields of `given` that differ from `plan`'s, as a revision sets them;
// empty when none does. Dates compare as written.
v1::PlanFields Changed(const v1::PlanFields& given, const v1::PlanState& plan) {
  v1::PlanFields changed;
  if (given.has_title() && given.title() != plan.title()) {
    changed.set_title(given.title());
  }
  if (given.has_organisation() && given.organisation() != plan.organisation()) {
    changed.set_organisation(given.organisation());
  }
  if (given.has_reference() && given.reference() != plan.reference()) {
    changed.set_reference(given.reference());
  }
  if (given.has_decided_by() && given.decided_by() != plan.decided_by()) {
    changed.set_decided_by(given.decided_by());
  }
  if (given.has_decided_on() &&
      given.decided_on() != plan.decided_on().text()) {
    changed.set_decided_on(given.decided_on());
  }
  if (given.has_owner() && given.owner() != plan.owner()) {
    changed.set_owner(given.owner());
  }
  if (given.has_followed_up_by() &&
      given.followed_up_by() != plan.followed_up_by()) {
    changed.set_followed_up_by(given.followed_up_by());
  }
  return changed;
}

// The plan the file goes into (--plan, else the file's own): registered
// from the file's plan fields when it is new, revised where they changed,
// and every command of `plan` set to name it. Without either, the commands
// name no plan and the server decides (its only plan, or none).
absl::Status PrepareThePlan(Context& context, Client& client,
                            const Flags& flags, ImportedPlan& plan,
                            std::string& message) {
  const std::string plan_id =
      context.plan.empty() ? plan.plan_id : context.plan;
  if (plan_id.empty()) return absl::OkStatus();
  using Commands = v1::PlanCommands::Stub;
  using Queries = v1::PlanQueries::Stub;
  PLANTRAIL_ASSIGN_OR_RETURN(uint64_t head, client.HeadPosition());
  v1::GetPlanRequest get;
  get.set_plan_id(plan_id);
  get.set_min_position(head);
  v1::GetPlanResponse found;
  absl::Status status =
      client.Call(&Queries::GetPlan, client.queries(), get, found);
  v1::PlanFields fields = plan.plan_fields.value_or(v1::PlanFields());
  if (absl::IsNotFound(status)) {
    if (!fields.has_title()) fields.set_title(plan_id);
    message = absl::StrCat("plan ", plan_id, flags.dry_run ? " would be" : "",
                           " registered");
    if (!flags.dry_run) {
      v1::RegisterPlanRequest request;
      request.set_plan_id(plan_id);
      *request.mutable_fields() = fields;
      request.mutable_options()->set_command_id(ImportCommandId(request));
      v1::CommandResult result;
      PLANTRAIL_RETURN_IF_ERROR(client.Call(
          &Commands::RegisterPlan, client.commands(), request, result));
    }
    SetPlan(plan, plan_id, plan_id);
    return absl::OkStatus();
  }
  PLANTRAIL_RETURN_IF_ERROR(status);
  const v1::PlanState& state = found.plan();
  if (const v1::PlanFields changed = Changed(fields, state);
      changed.ByteSizeLong() > 0) {
    message = absl::StrCat("plan ", plan_id, flags.dry_run ? " would be" : "",
                           " revised from the file");
    if (!flags.dry_run) {
      v1::RevisePlanRequest request;
      request.set_plan_id(plan_id);
      *request.mutable_fields() = changed;
      request.set_reason(absl::StrCat("imported from ", flags.file));
      v1::CommandResult result;
      PLANTRAIL_RETURN_IF_ERROR(client.Call(
          &Commands::RevisePlan, client.commands(), request, result));
    }
  }
  SetPlan(plan, plan_id, state.holds_unplanned() ? "" : plan_id);
  return absl::OkStatus();
}

absl::Status RunImport(Context& context, const Flags& flags) {
  absl::StatusOr<ImportedPlan> parsed = ReadPlanFile(flags.file);
  if (!parsed.ok()) {
    return absl::Status(
        parsed.status().code(),
        absl::StrCat(flags.file, ": ", parsed.status().message()));
  }
  ImportedPlan& plan = *parsed;
  PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
  std::string plan_message;
  PLANTRAIL_RETURN_IF_ERROR(
      PrepareThePlan(context, *client, flags, plan, plan_message));
  GrpcPlanView view(*client);
  PLANTRAIL_ASSIGN_OR_RETURN(ImportVerdict verdict,
                             CheckImport(plan, view, absl::Now()));

  // Every refused row, the parser's first: (where, why).
  std::vector<std::pair<std::string, std::string>> refused;
  for (const ImportProblem& problem : plan.problems) {
    refused.emplace_back(problem.where, problem.message);
  }
  for (size_t r = 0; r < plan.rows.size(); ++r) {
    if (!verdict.refusals[r].empty()) {
      refused.emplace_back(plan.rows[r].where, verdict.refusals[r]);
    }
  }
  size_t sent = 0, replayed = 0;
  if (!flags.dry_run) {
    std::vector<size_t> applied(plan.rows.size(), 0);
    std::vector<bool> failed(plan.rows.size(), false);
    for (const auto& [r, c] : SendOrder(plan)) {
      if (!verdict.refusals[r].empty() || failed[r] ||
          verdict.already_done[r].contains(c)) {
        continue;
      }
      absl::StatusOr<v1::CommandResult> result =
          Send(*client, plan.rows[r].commands[c]);
      if (!result.ok()) {
        // Someone changed the plan between the check and now.
        failed[r] = true;
        refused.emplace_back(
            plan.rows[r].where,
            absl::StrCat("refused by the server: ", result.status().message(),
                         " (", applied[r], " of ", plan.rows[r].commands.size(),
                         " commands of this row were applied)"));
        continue;
      }
      ++applied[r];
      result->replayed() ? ++replayed : ++sent;
    }
  }
  const size_t rows = plan.rows.size() + plan.problems.size();
  if (context.json) {
    nlohmann::ordered_json out = {{"file", flags.file},
                                  {"dry_run", flags.dry_run},
                                  {"rows", rows},
                                  {"rows_refused", refused.size()}};
    if (flags.dry_run) {
      out["commands_to_send"] = verdict.commands_to_send;
    } else {
      out["commands_sent"] = sent;
    }
    out["commands_already_imported"] = verdict.commands_already_done + replayed;
    if (!plan_message.empty()) out["plan"] = plan_message;
    out["refused"] = nlohmann::ordered_json::array();
    for (const auto& [where, why] : refused) {
      out["refused"].push_back({{"where", where}, {"message", why}});
    }
    out["notices"] = nlohmann::ordered_json::array();
    for (const ImportRow& row : plan.rows) {
      for (const std::string& notice : row.notices) {
        out["notices"].push_back({{"where", row.where}, {"message", notice}});
      }
    }
    context.out() << out.dump() << "\n";
  } else {
    std::ostream& out = context.out();
    if (!plan_message.empty()) out << plan_message << "\n";
    for (const ImportRow& row : plan.rows) {
      for (const std::string& notice : row.notices) {
        out << "note: " << row.where << ": " << notice << "\n";
      }
    }
    for (const auto& [where, why] : refused) {
      out << "refused: " << where << ": " << why << "\n";
    }
    out << flags.file << ": " << rows << " rows, " << rows - refused.size()
        << " accepted, " << refused.size() << " refused; ";
    if (flags.dry_run) {
      out << verdict.commands_to_send << " commands would be sent, "
          << verdict.commands_already_done
          << " were imported before (dry run: nothing written)\n";
    } else {
      out << sent << " commands applied, "
          << verdict.commands_already_done + replayed
          << " were imported before\n";
    }
  }
  if (!refused.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        refused.size(), refused.size() == 1 ? " row was" : " rows were",
        " refused", flags.dry_run ? "" : " and not applied", " (see above)"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddImportCommands(CLI::App& app, Context& context) {
  auto flags = std::make_shared<Flags>();
  CLI::App* command =
      app.add_subcommand("import",
                         "Import a plan with its history from JSON or CSV "
                         "(docs/import-format.md); safe to run again");
  command->add_option("FILE", flags->file, "A .json or .csv plan file")
      ->required();
  command->add_flag("--dry-run", flags->dry_run,
                    "Check every row against the server's state and the "
                    "plan's rules; write nothing");
  command->footer(
      "The plan: --plan (or PLANTRAIL_PLAN), else the file's (JSON "
      "\"plan\": {\"id\": ...}, a CSV row with record=plan); registered "
      "from the file when new.\n"
      "Examples:\n  plantrail import examples/kth-action-plan.json --dry-run\n"
      "  plantrail import examples/pitea-school-leadership.csv");
  context.Action(command,
                 [&context, flags] { return RunImport(context, *flags); });
}

}  // namespace plantrail::cli
