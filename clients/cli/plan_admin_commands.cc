// `plantrail plan ...`: the plans themselves (PlanCommands RegisterPlan,
// RevisePlan, ClosePlan, ReopenPlan; PlanQueries ListPlans, GetPlan).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "clients/cli/format.h"
#include "common/status_macros.h"
#include "domain/plan_words.h"

namespace plantrail::cli {
namespace {

using Commands = v1::PlanCommands::Stub;
using Queries = v1::PlanQueries::Stub;

// The fields a register or revise gives, as flags: only those given are
// set, so that a revision changes nothing else.
struct PlanFieldFlags {
  std::optional<std::string> title, organisation, reference, decided_by,
      decided_on, period, start, end, owner, followed_up_by;

  void AddTo(CLI::App* command) {
    command->add_option("--title", title, "Title");
    command->add_option("--organisation", organisation,
                        "The organisation that runs it (\"KTH\")");
    command->add_option("--reference", reference,
                        "Registry reference of the decision (V-2022-0218)");
    command->add_option("--decided-by", decided_by,
                        "The body that decided it (rektor, nämnd)");
    command->add_option("--decided-on", decided_on, "The decision's date");
    command->add_option("--period", period,
                        "The period it runs (\"2023-2025\", \"HT23-VT25\")");
    command->add_option("--start", start, "The period's start");
    command->add_option("--end", end, "The period's end");
    command->add_option("--owner", owner, "The owning unit");
    command->add_option("--followed-up-by", followed_up_by,
                        "The body that follows it up (ledningsråd, nämnd)");
  }

  v1::PlanFields Fields() const {
    v1::PlanFields fields;
    if (title) fields.set_title(*title);
    if (organisation) fields.set_organisation(*organisation);
    if (reference) fields.set_reference(*reference);
    if (decided_by) fields.set_decided_by(*decided_by);
    if (decided_on) fields.set_decided_on(*decided_on);
    if (period) fields.set_period(*period);
    if (start) fields.set_period_start(*start);
    if (end) fields.set_period_end(*end);
    if (owner) fields.set_owner(*owner);
    if (followed_up_by) fields.set_followed_up_by(*followed_up_by);
    return fields;
  }
};

std::string PeriodText(const v1::PlanState& plan) {
  const std::string from = DateText(plan.period_start());
  const std::string to = DateText(plan.period_end());
  if (from.empty() && to.empty()) return "";
  return absl::StrCat(from.empty() ? "?" : from, " – ", to.empty() ? "?" : to);
}

void Field(std::ostream& out, absl::string_view name, absl::string_view value) {
  if (value.empty()) return;
  out << "  " << name << ":" << std::string(16 - name.size(), ' ')
      << OneLine(value) << "\n";
}

void AddRegister(CLI::App* plan, Context& context) {
  struct Flags {
    CommandFlags options;
    PlanFieldFlags fields;
    std::string id;
    bool adopt_unplanned = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = plan->add_subcommand("register", "Register a plan");
  command->add_option("ID", flags->id, "A short plan id, e.g. kth-vs-2023")
      ->required();
  flags->fields.AddTo(command);
  command->add_flag("--adopt-unplanned", flags->adopt_unplanned,
                    "The plan takes the areas and decisions recorded "
                    "without a plan (before plans existed)");
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail plan register kth-vs-2023 --title "
      "\"Handlingsplan för verksamhetsstödet\" --organisation KTH "
      "--reference V-2022-0218 --decided-on 2023-04-05 --period 2023-2025");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::RegisterPlanRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_plan_id(flags->id);
    *request.mutable_fields() = flags->fields.Fields();
    request.set_adopt_unplanned(flags->adopt_unplanned);
    return SendCommand(context, &Commands::RegisterPlan, request,
                       absl::StrCat("registered plan ", flags->id));
  });
}

void AddRevise(CLI::App* plan, Context& context) {
  struct Flags {
    CommandFlags options;
    PlanFieldFlags fields;
    std::string id, reason;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command =
      plan->add_subcommand("revise", "Change a plan's title, dates, owner...");
  command->add_option("ID", flags->id, "Plan id")->required();
  flags->fields.AddTo(command);
  command->add_option("--reason", flags->reason, "Why")->required();
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail plan revise kth-vs-2023 --end 2026 --reason "
      "\"Extended by the vice-chancellor\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::RevisePlanRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_plan_id(flags->id);
    *request.mutable_fields() = flags->fields.Fields();
    request.set_reason(flags->reason);
    return SendCommand(context, &Commands::RevisePlan, request,
                       absl::StrCat("revised plan ", flags->id));
  });
}

void AddClose(CLI::App* plan, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, reason;
    std::vector<std::string> close_areas;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = plan->add_subcommand(
      "close",
      "Close a plan: refused while it has open areas, unless --close-area "
      "closes each of them in the same commit");
  command->add_option("ID", flags->id, "Plan id")->required();
  command
      ->add_option("--reason", flags->reason,
                   "Why (also the reason of each area it closes)")
      ->required();
  command->add_option(
      "--close-area", flags->close_areas,
      "AREA=OUTCOME[:TEXT]: close this open area with the plan; OUTCOME is "
      "completed or cancelled (repeat for each area)");
  flags->options.AddTo(command);
  command->footer(
      "Examples:\n  plantrail plan close pitea-skolledning-2017 --reason "
      "\"The period ended; the board approved the final report\"\n"
      "  plantrail plan close kth-vs-2023 --reason \"Replaced by the 2026 "
      "plan\" \\\n    --close-area 3.1=completed --close-area "
      "\"3.2=cancelled:Moved to the 2026 plan\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::ClosePlanRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_plan_id(flags->id);
    request.set_reason(flags->reason);
    std::vector<std::string> closed;
    for (const std::string& given : flags->close_areas) {
      const size_t equals = given.find('=');
      if (equals == std::string::npos || equals == 0) {
        return UsageError(absl::StrCat(
            "--close-area \"", given,
            "\": expected AREA=OUTCOME[:TEXT], e.g. 3.1=completed"));
      }
      v1::AreaClosure& closure = *request.add_close_areas();
      closure.set_area_id(given.substr(0, equals));
      absl::string_view rest = absl::string_view(given).substr(equals + 1);
      const size_t colon = rest.find(':');
      PLANTRAIL_ASSIGN_OR_RETURN(v1::Outcome outcome,
                                 Usage(domain::ParseWords<v1::Outcome>(
                                     rest.substr(0, colon), "--close-area")));
      closure.set_outcome(outcome);
      if (colon != absl::string_view::npos) {
        closure.set_outcome_text(std::string(rest.substr(colon + 1)));
      }
      closed.push_back(closure.area_id());
    }
    return SendCommand(
        context, &Commands::ClosePlan, request,
        closed.empty()
            ? absl::StrCat("closed plan ", flags->id)
            : absl::StrCat("closed plan ", flags->id, " and its areas ",
                           absl::StrJoin(closed, ", ")));
  });
}

void AddReopen(CLI::App* plan, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, reason;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = plan->add_subcommand("reopen", "Reopen a closed plan");
  command->add_option("ID", flags->id, "Plan id")->required();
  command->add_option("--reason", flags->reason, "Why")->required();
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail plan reopen pitea-skolledning-2017 --reason "
      "\"Extended by one year\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::ReopenPlanRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_plan_id(flags->id);
    request.set_reason(flags->reason);
    return SendCommand(context, &Commands::ReopenPlan, request,
                       absl::StrCat("reopened plan ", flags->id));
  });
}

void AddList(CLI::App* plan, Context& context) {
  struct Flags {
    bool open_only = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = plan->add_subcommand("list", "List the plans");
  command->add_flag("--open", flags->open_only, "Only open plans");
  command->footer("Example:\n  plantrail plan list --open");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    PLANTRAIL_ASSIGN_OR_RETURN(uint64_t head, client->HeadPosition());
    v1::ListPlansRequest request;
    request.set_open_only(flags->open_only);
    request.set_page_size(1000);
    request.set_min_position(head);
    v1::ListPlansResponse all;
    PLANTRAIL_RETURN_IF_ERROR(
        ForEachPage(*client, &Queries::ListPlans, client->queries(), request,
                    [&all](v1::ListPlansResponse& page) {
                      for (v1::PlanState& plan : *page.mutable_plans()) {
                        *all.add_plans() = std::move(plan);
                      }
                      all.set_position(page.position());
                    }));
    if (context.json) {
      context.PrintJson(all);
      return absl::OkStatus();
    }
    Table table({"ID", "TITLE", "ORGANISATION", "REFERENCE", "PERIOD", "STATE"},
                44);
    for (const v1::PlanState& plan : all.plans()) {
      table.AddRow({plan.plan_id(), plan.title(), plan.organisation(),
                    plan.reference(), PeriodText(plan),
                    plan.closed() ? "closed" : "open"});
    }
    table.Print(context.out());
    return absl::OkStatus();
  });
}

void AddShow(CLI::App* plan, Context& context) {
  struct Flags {
    std::string id;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command =
      plan->add_subcommand("show", "A plan and its portfolio at a glance");
  command->add_option("ID", flags->id, "Plan id (default: --plan)");
  command->footer("Example:\n  plantrail plan show kth-vs-2023");
  context.Action(command, [&context, flags]() -> absl::Status {
    const std::string id = flags->id.empty() ? context.plan : flags->id;
    if (id.empty()) return UsageError("plan show: give the plan's id");
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    PLANTRAIL_ASSIGN_OR_RETURN(uint64_t head, client->HeadPosition());
    v1::GetPlanRequest request;
    request.set_plan_id(id);
    request.set_min_position(head);
    v1::GetPlanResponse response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Queries::GetPlan, client->queries(), request, response));
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    const v1::PlanState& plan = response.plan();
    std::ostream& out = context.out();
    out << plan.plan_id() << "  " << OneLine(plan.title()) << "\n";
    Field(out, "organisation", plan.organisation());
    Field(out, "reference", plan.reference());
    Field(out, "decided by", plan.decided_by());
    Field(out, "decided on", DateText(plan.decided_on()));
    Field(out, "period", PeriodText(plan));
    Field(out, "owner", plan.owner());
    Field(out, "followed up by", plan.followed_up_by());
    Field(out, "state",
          plan.closed() ? absl::StrCat("closed: ", plan.closing_reason())
                        : "open");
    if (plan.holds_unplanned()) {
      Field(out, "holds", "the areas recorded before plans existed");
    }
    const v1::PortfolioSlice& slice = response.portfolio();
    Field(out, "areas",
          absl::StrCat(slice.areas(), " (", slice.open(), " open, ",
                       slice.overdue(), " overdue, ",
                       slice.slipped_against_baseline(),
                       " slipped against baseline)"));
    Field(out, "decisions", absl::StrCat(response.decisions()));
    if (plan.rounds_size() > 0) {
      const v1::FollowUpRound& latest = *plan.rounds().rbegin();
      Field(out, "follow-up",
            absl::StrCat(plan.rounds_size(), " round",
                         plan.rounds_size() == 1 ? "" : "s", "; latest ",
                         latest.round_id(), " (reports as of ",
                         DateText(latest.report_date()), ", ",
                         latest.closed() ? "closed" : "open",
                         "): plantrail followup show ", latest.round_id()));
    }
    return absl::OkStatus();
  });
}

}  // namespace

void AddPlanAdminCommands(CLI::App& app, Context& context) {
  CLI::App* plan = app.add_subcommand(
      "plan", "Plans: register, list, show, revise, close, reopen");
  plan->require_subcommand(1);
  AddRegister(plan, context);
  AddList(plan, context);
  AddShow(plan, context);
  AddRevise(plan, context);
  AddClose(plan, context);
  AddReopen(plan, context);
}

}  // namespace plantrail::cli
