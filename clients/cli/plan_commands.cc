// The commands that change the plan: one per PlanCommands RPC.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "clients/cli/format.h"
#include "common/status_macros.h"
#include "domain/plan_words.h"
#include "domain/text.h"

namespace plantrail::cli {
namespace {

using Stub = v1::PlanCommands::Stub;

// An area named as "3.1.1" (the command's own plan) or by its resource
// name, "plans/kth-ls-2023/areas/2" (any plan): its plan (empty for the
// own plan) and id.
std::pair<std::string, std::string> SplitAreaName(absl::string_view text) {
  absl::string_view rest = text;
  if (absl::ConsumePrefix(&rest, "plans/")) {
    const size_t areas = rest.find("/areas/");
    if (areas != absl::string_view::npos) {
      return {std::string(rest.substr(0, areas)),
              std::string(rest.substr(areas + 7))};
    }
  }
  return {"", std::string(text)};
}

void AddRegister(CLI::App* area, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, title, support_area, group, start, end, period, units,
        responsible, rationale, effect, phase;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = area->add_subcommand("register", "Register an area");
  command->add_option("ID", flags->id, "Area id, e.g. 3.1.1")->required();
  command->add_option("--title", flags->title, "Title")->required();
  command
      ->add_option("--support-area", flags->support_area,
                   "Support area (stödområde)")
      ->required();
  command->add_option("--group", flags->group, "Group within the support area");
  command->add_option("--start", flags->start, "Planned start (HT23, Q4 2022)");
  command->add_option("--end", flags->end, "Planned end (VT24, 2024-06-30)");
  command->add_option("--period", flags->period,
                      "Planned period instead of --start/--end "
                      "(\"Q4 2022-Q4 2023\")");
  command->add_option("--units", flags->units,
                      "Participating units, comma-separated");
  command->add_option("--responsible", flags->responsible,
                      "Responsible units, comma-separated");
  command->add_option("--rationale", flags->rationale, "Why (varför)");
  command->add_option("--effect", flags->effect,
                      "Desired effect (önskad effekt)");
  command->add_option("--phase", flags->phase,
                      "proposed, planned (default) or in progress");
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail area register 3.1.1 --title \"Digital exam "
      "support\" --support-area \"3.1 Utbildning\" --start HT23 --end VT24 "
      "--units GVS,ITA");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::RegisterAreaRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    request.set_title(flags->title);
    request.set_support_area(flags->support_area);
    request.set_group(flags->group);
    request.set_planned_start(flags->start);
    request.set_planned_end(flags->end);
    request.set_planned_period(flags->period);
    for (std::string& unit : domain::SplitList(flags->units, ',')) {
      request.add_participating_units(std::move(unit));
    }
    for (std::string& unit : domain::SplitList(flags->responsible, ',')) {
      request.add_responsible_units(std::move(unit));
    }
    request.set_rationale(flags->rationale);
    request.set_desired_effect(flags->effect);
    if (!flags->phase.empty()) {
      PLANTRAIL_ASSIGN_OR_RETURN(
          v1::Phase phase,
          Usage(domain::ParseWords<v1::Phase>(flags->phase, "--phase")));
      request.set_phase(phase);
    }
    return SendCommand(context, &Stub::RegisterArea, request,
                       absl::StrCat("registered area ", flags->id));
  });
}

void AddRevise(CLI::App* area, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, reason;
    std::optional<std::string> title, rationale, effect, support_area, group;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = area->add_subcommand(
      "revise", "Revise an area's title, rationale, effect or grouping");
  command->add_option("ID", flags->id, "Area id")->required();
  command->add_option("--title", flags->title, "New title");
  command->add_option("--rationale", flags->rationale, "New rationale");
  command->add_option("--effect", flags->effect, "New desired effect");
  command->add_option("--support-area", flags->support_area,
                      "Move to another support area");
  command->add_option("--group", flags->group, "New group");
  command->add_option("--reason", flags->reason, "Why it is revised")
      ->required();
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail area revise 3.1.1 --effect \"Fewer manual "
      "steps\" --reason \"Steering group review\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::ReviseDetailsRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    request.set_reason(flags->reason);
    v1::AreaDetails& details = *request.mutable_details();
    if (flags->title) details.set_title(*flags->title);
    if (flags->rationale) details.set_rationale(*flags->rationale);
    if (flags->effect) details.set_desired_effect(*flags->effect);
    if (flags->support_area) details.set_support_area(*flags->support_area);
    if (flags->group) details.set_group(*flags->group);
    return SendCommand(context, &Stub::ReviseDetails, request,
                       absl::StrCat("revised area ", flags->id));
  });
}

void AddUnits(CLI::App* area, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, reason;
    std::optional<std::string> participating, responsible;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = area->add_subcommand(
      "units", "Replace an area's participating or responsible units");
  command->add_option("ID", flags->id, "Area id")->required();
  command->add_option("--participating", flags->participating,
                      "Participating units, comma-separated (\"\" clears)");
  command->add_option("--responsible", flags->responsible,
                      "Responsible units, comma-separated (\"\" clears)");
  command->add_option("--reason", flags->reason, "Why");
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail area units 3.1.1 --participating GVS,ITA,EKO "
      "--reason \"Finance joins\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::ChangeUnitsRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    request.set_reason(flags->reason);
    if (flags->participating) {
      request.mutable_participating_units();
      for (std::string& unit : domain::SplitList(*flags->participating, ',')) {
        request.mutable_participating_units()->add_units(std::move(unit));
      }
    }
    if (flags->responsible) {
      request.mutable_responsible_units();
      for (std::string& unit : domain::SplitList(*flags->responsible, ',')) {
        request.mutable_responsible_units()->add_units(std::move(unit));
      }
    }
    return SendCommand(context, &Stub::ChangeUnits, request,
                       absl::StrCat("changed the units of area ", flags->id));
  });
}

void AddStatus(CLI::App& app, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, phase, health, note, reported_on, next_report, round;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command =
      app.add_subcommand("status", "Report an area's status (processläge)");
  command->add_option("ID", flags->id, "Area id")->required();
  command
      ->add_option("--phase", flags->phase,
                   "proposed, planned, in progress or paused")
      ->required();
  command
      ->add_option("--health", flags->health,
                   "on track, at risk, off track or unknown")
      ->required();
  command->add_option("--note", flags->note, "What the report says")
      ->required();
  command->add_option("--reported-on", flags->reported_on,
                      "The date the report speaks for (default: today)");
  command->add_option("--next-report", flags->next_report,
                      "When the next report is due (\"juni 2018\")");
  command->add_option("--round", flags->round,
                      "The open follow-up round it answers (followup list)");
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail status 3.1.1 --phase \"in progress\" --health "
      "\"at risk\" --note \"Waiting for the Ladok upgrade\" --next-report "
      "\"mars 2024\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::ReportStatusRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    PLANTRAIL_ASSIGN_OR_RETURN(
        v1::Phase phase,
        Usage(domain::ParseWords<v1::Phase>(flags->phase, "--phase")));
    PLANTRAIL_ASSIGN_OR_RETURN(
        v1::Health health,
        Usage(domain::ParseWords<v1::Health>(flags->health, "--health")));
    request.set_phase(phase);
    request.set_health(health);
    request.set_narrative(flags->note);
    request.set_reported_on(flags->reported_on);
    request.set_next_report_due(flags->next_report);
    request.set_round_id(flags->round);
    return SendCommand(context, &Stub::ReportStatus, request,
                       absl::StrCat("reported the status of area ", flags->id));
  });
}

void AddReschedule(CLI::App& app, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, start, end, period, reason, decision;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "reschedule", "Revise an area's planned start or end (keeps baseline)");
  command->add_option("ID", flags->id, "Area id")->required();
  command->add_option("--start", flags->start, "New planned start");
  command->add_option("--end", flags->end, "New planned end");
  command->add_option("--period", flags->period,
                      "New planned period (\"VT24-HT24\")");
  command->add_option("--reason", flags->reason, "Why the dates move")
      ->required();
  command->add_option("--decision", flags->decision,
                      "The decision behind it (must exist)");
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail reschedule 3.1.1 --end VT24 --reason \"Ladok "
      "upgrade moved to spring\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    if (flags->start.empty() && flags->end.empty() && flags->period.empty()) {
      return UsageError("reschedule: give --start, --end or --period");
    }
    v1::ReviseScheduleRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    request.set_planned_start(flags->start);
    request.set_planned_end(flags->end);
    request.set_planned_period(flags->period);
    request.set_reason(flags->reason);
    request.set_decision_id(flags->decision);
    return SendCommand(context, &Stub::ReviseSchedule, request,
                       absl::StrCat("rescheduled area ", flags->id));
  });
}

void AddDepend(CLI::App& app, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, on, external, kind, note;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "depend",
      "Record that an area depends on another or on something "
      "outside the plan");
  command->add_option("ID", flags->id, "Area id")->required();
  CLI::Option* on = command->add_option(
      "--on", flags->on,
      "The area it depends on: an id of the same plan, or another plan's "
      "area as plans/PLAN/areas/ID");
  CLI::Option* external = command->add_option(
      "--external", flags->external, "Something outside the plan (\"Ladok\")");
  on->excludes(external);
  command->add_option("--kind", flags->kind, "requires (default) or relates");
  command->add_option("--note", flags->note, "Why it depends");
  flags->options.AddTo(command);
  command->footer(
      "Examples:\n  plantrail depend 3.1.2 --on 3.1.1\n  plantrail depend "
      "3.1.2 --external Ladok --kind relates");
  context.Action(command, [&context, flags]() -> absl::Status {
    if (flags->on.empty() == flags->external.empty()) {
      return UsageError("depend: give exactly one of --on and --external");
    }
    v1::AddDependencyRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    if (!flags->on.empty()) {
      auto [plan, area] = SplitAreaName(flags->on);
      request.set_on_area_id(area);
      request.set_on_plan_id(plan);
    }
    if (!flags->external.empty()) request.set_external(flags->external);
    if (!flags->kind.empty()) {
      PLANTRAIL_ASSIGN_OR_RETURN(
          v1::DependencyKind kind,
          Usage(domain::ParseWords<v1::DependencyKind>(flags->kind, "--kind")));
      request.set_kind(kind);
    }
    request.set_note(flags->note);
    return SendCommand(
        context, &Stub::AddDependency, request,
        absl::StrCat("area ", flags->id, " now depends on ",
                     flags->on.empty() ? flags->external : flags->on));
  });
}

void AddUndepend(CLI::App& app, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, dependency, reason;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command =
      app.add_subcommand("undepend", "Remove one of an area's dependencies");
  command->add_option("ID", flags->id, "Area id")->required();
  command
      ->add_option("DEPENDENCY", flags->dependency,
                   "An area id, plans/PLAN/areas/ID, or external:NAME")
      ->required();
  command->add_option("--reason", flags->reason, "Why it no longer depends")
      ->required();
  flags->options.AddTo(command);
  command->footer(
      "Examples:\n  plantrail undepend 3.1.2 3.1.1 --reason \"Done "
      "separately\"\n  plantrail undepend 3.1.2 external:Ladok --reason "
      "\"Upgrade finished\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::RemoveDependencyRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    absl::string_view target = flags->dependency;
    if (absl::ConsumePrefix(&target, "external:")) {
      request.set_external(std::string(absl::StripAsciiWhitespace(target)));
    } else {
      auto [plan, area] = SplitAreaName(flags->dependency);
      request.set_on_area_id(area);
      request.set_on_plan_id(plan);
    }
    request.set_reason(flags->reason);
    return SendCommand(
        context, &Stub::RemoveDependency, request,
        absl::StrCat("area ", flags->id, " no longer depends on ",
                     flags->dependency));
  });
}

void AddClose(CLI::App& app, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, outcome, text, reason;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command =
      app.add_subcommand("close", "Close an area as completed or cancelled");
  command->add_option("ID", flags->id, "Area id")->required();
  command->add_option("--outcome", flags->outcome, "completed or cancelled")
      ->required();
  command->add_option("--outcome-text", flags->text, "What came of it");
  command->add_option("--reason", flags->reason, "Why it is closed")
      ->required();
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail close 3.1.1 --outcome completed --reason "
      "\"Delivered and evaluated\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::CloseAreaRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    PLANTRAIL_ASSIGN_OR_RETURN(
        v1::Outcome outcome,
        Usage(domain::ParseWords<v1::Outcome>(flags->outcome, "--outcome")));
    request.set_outcome(outcome);
    request.set_outcome_text(flags->text);
    request.set_reason(flags->reason);
    return SendCommand(context, &Stub::CloseArea, request,
                       absl::StrCat("closed area ", flags->id));
  });
}

void AddReopen(CLI::App& app, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, reason, phase;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand("reopen", "Reopen a closed area");
  command->add_option("ID", flags->id, "Area id")->required();
  command->add_option("--reason", flags->reason, "Why it is reopened")
      ->required();
  command->add_option("--phase", flags->phase,
                      "The phase to reopen into (default: in progress)");
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail reopen 3.1.1 --reason \"Audit found gaps\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::ReopenAreaRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    request.set_reason(flags->reason);
    if (!flags->phase.empty()) {
      PLANTRAIL_ASSIGN_OR_RETURN(
          v1::Phase phase,
          Usage(domain::ParseWords<v1::Phase>(flags->phase, "--phase")));
      request.set_phase(phase);
    }
    return SendCommand(context, &Stub::ReopenArea, request,
                       absl::StrCat("reopened area ", flags->id));
  });
}

void AddCorrect(CLI::App& app, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string id, reason, correction;
    uint64_t entry = 0;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "correct",
      "Record that an entry of an area's history was wrong (the "
      "entry stays; the correction is a new entry)");
  command->add_option("ID", flags->id, "Area id")->required();
  command
      ->add_option("--entry", flags->entry,
                   "The position of the wrong entry (see `history`)")
      ->required()
      ->check(CLI::PositiveNumber);
  command->add_option("--reason", flags->reason, "Why it was wrong")
      ->required();
  command->add_option("--correction", flags->correction, "What is right");
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail correct 3.1.1 --entry 42 --reason \"Reported "
      "for the wrong area\"");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::CorrectEntryRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    request.set_position(flags->entry);
    request.set_reason(flags->reason);
    request.set_correction(flags->correction);
    return SendCommand(context, &Stub::CorrectEntry, request,
                       absl::StrCat("corrected entry #", flags->entry,
                                    " of area ", flags->id));
  });
}

void AddRecordDecision(CLI::App* decision, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string reference, id, body, date, title, areas, outcome;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command =
      decision->add_subcommand("record", "Record a council decision");
  command
      ->add_option("REF", flags->reference,
                   "Registry reference (diarienummer), e.g. V-2022-0218")
      ->required();
  command->add_option("--id", flags->id,
                      "Decision id (default: reference and date)");
  command
      ->add_option("--body", flags->body,
                   "The deciding body (ledningsråd, styrgrupp, nämnd)")
      ->required();
  command->add_option("--date", flags->date, "Decided on")->required();
  command->add_option("--title", flags->title, "What was decided")->required();
  command
      ->add_option("--areas", flags->areas,
                   "The areas it concerns, comma-separated; an area of "
                   "another plan as plans/PLAN/areas/ID")
      ->required();
  command->add_option("--outcome", flags->outcome, "The outcome, in words");
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail decision record V-2022-0218 --body "
      "\"universitetsdirektören\" --date 2023-04-05 --title \"Action plan "
      "adopted\" --areas 3.1.1,3.1.2");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::RecordDecisionRequest request;
    flags->options.FillIn(*request.mutable_options());
    request.set_plan_id(context.plan);
    request.set_decision_id(flags->id);
    request.set_reference(flags->reference);
    request.set_body(flags->body);
    request.set_decided_on(flags->date);
    request.set_title(flags->title);
    for (const std::string& named : domain::SplitList(flags->areas, ',')) {
      auto [plan, area] = SplitAreaName(named);
      if (plan.empty() || plan == context.plan) {
        request.add_area_ids(std::move(area));
      } else {
        v1::AreaRef& other = *request.add_other_plan_areas();
        other.set_plan_id(std::move(plan));
        other.set_area_id(std::move(area));
      }
    }
    request.set_outcome(flags->outcome);
    return SendCommand(context, &Stub::RecordDecision, request,
                       absl::StrCat("recorded decision ", flags->reference));
  });
}

}  // namespace

void AddPlanCommands(CLI::App& app, Context& context) {
  CLI::App* area = Group(app, "area",
                         "Development areas: register, show, "
                         "list, revise, units");
  AddRegister(area, context);
  AddRevise(area, context);
  AddUnits(area, context);
  AddStatus(app, context);
  AddReschedule(app, context);
  AddDepend(app, context);
  AddUndepend(app, context);
  AddClose(app, context);
  AddReopen(app, context);
  AddCorrect(app, context);
  AddRecordDecision(Group(app, "decision", "Council decisions: record, list"),
                    context);
}

}  // namespace plantrail::cli
