// `plantrail followup ...`: a plan's follow-up rounds (PlanCommands
// OpenFollowUp, CloseFollowUp; PlanQueries GetFollowUp, and GetPlan for
// the list) and the report-back document of a round
// (followup_document.h).
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "clients/cli/followup_document.h"
#include "clients/cli/format.h"
#include "common/status_macros.h"
#include "domain/plan_words.h"

namespace plantrail::cli {
namespace {

using Commands = v1::PlanCommands::Stub;
using Queries = v1::PlanQueries::Stub;

// The plan of a round: --plan, else the only plan the caller sees.
absl::StatusOr<std::string> RoundPlan(Context& context, Client& client) {
  if (!context.plan.empty()) return context.plan;
  v1::ListPlansRequest request;
  request.set_page_size(2);
  v1::ListPlansResponse plans;
  PLANTRAIL_RETURN_IF_ERROR(
      client.Call(&Queries::ListPlans, client.queries(), request, plans));
  if (plans.plans_size() == 1) return plans.plans(0).plan_id();
  return UsageError(plans.plans_size() == 0
                        ? "--plan: no plan is registered (follow-up rounds "
                          "belong to plans: plantrail plan register)"
                        : "--plan: required: the server holds several plans");
}

void AddOpen(CLI::App* followup, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string round, title, body, report_date, meeting, request;
    std::vector<std::string> areas;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = followup->add_subcommand(
      "open", "Open a follow-up round: the body asks for a report-back");
  command->add_option("ROUND", flags->round, "A short round id, e.g. 2018-01")
      ->required();
  command
      ->add_option("--title", flags->title,
                   "The report-back's title (\"Återrapport januari 2018\")")
      ->required();
  command
      ->add_option("--report-date", flags->report_date,
                   "The date the reports speak for; a report dated later "
                   "is late")
      ->required();
  command->add_option("--body", flags->body,
                      "The body that asked (default: the plan's "
                      "followed-up-by)");
  command->add_option("--meeting", flags->meeting, "The meeting's date");
  command->add_option("--area", flags->areas,
                      "An area expected to report (repeat; default: every "
                      "open area of the plan)");
  command->add_option("--request", flags->request,
                      "What the body asked for, in its words");
  flags->options.AddTo(command);
  command->footer(
      "Example:\n  plantrail followup open 2018-01 "
      "--title \"Återrapport januari 2018\" --report-date 2018-01-10 "
      "--meeting 2018-01-29 --body Barn-och-utbildningsnämnden --plan "
      "pitea-2017");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::OpenFollowUpRequest request;
    flags->options.FillIn(*request.mutable_options());
    PLANTRAIL_ASSIGN_OR_RETURN(*request.mutable_plan_id(),
                               RoundPlan(context, *client));
    request.set_round_id(flags->round);
    request.set_title(flags->title);
    request.set_body(flags->body);
    request.set_report_date(flags->report_date);
    request.set_meeting_date(flags->meeting);
    for (const std::string& area : flags->areas) {
      request.add_expected_area_ids(area);
    }
    request.set_request(flags->request);
    return SendCommand(context, &Commands::OpenFollowUp, request,
                       absl::StrCat("opened follow-up round ", flags->round,
                                    " of plan ", request.plan_id()));
  });
}

void AddClose(CLI::App* followup, Context& context) {
  struct Flags {
    CommandFlags options;
    std::string round, note;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = followup->add_subcommand(
      "close",
      "Close a round for its meeting: it is frozen, later reports belong "
      "to the next round");
  command->add_option("ROUND", flags->round, "The open round")->required();
  command->add_option("--note", flags->note,
                      "E.g. \"Sent to the board 2018-01-15\"");
  flags->options.AddTo(command);
  command->footer("Example:\n  plantrail followup close 2018-01");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::CloseFollowUpRequest request;
    flags->options.FillIn(*request.mutable_options());
    PLANTRAIL_ASSIGN_OR_RETURN(*request.mutable_plan_id(),
                               RoundPlan(context, *client));
    request.set_round_id(flags->round);
    request.set_note(flags->note);
    return SendCommand(context, &Commands::CloseFollowUp, request,
                       absl::StrCat("closed follow-up round ", flags->round,
                                    " of plan ", request.plan_id()));
  });
}

void AddList(CLI::App* followup, Context& context) {
  CLI::App* command =
      followup->add_subcommand("list", "The plan's follow-up rounds");
  command->footer("Example:\n  plantrail followup list --plan pitea-2017");
  context.Action(command, [&context]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::GetPlanRequest request;
    PLANTRAIL_ASSIGN_OR_RETURN(*request.mutable_plan_id(),
                               RoundPlan(context, *client));
    PLANTRAIL_ASSIGN_OR_RETURN(uint64_t head, client->HeadPosition());
    request.set_min_position(head);
    v1::GetPlanResponse response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Queries::GetPlan, client->queries(), request, response));
    if (context.json) {
      nlohmann::ordered_json rounds = nlohmann::ordered_json::array();
      for (const v1::FollowUpRound& round : response.plan().rounds()) {
        rounds.push_back(nlohmann::ordered_json::parse(ToJson(round)));
      }
      context.out() << rounds.dump() << "\n";
      return absl::OkStatus();
    }
    Table table({"ROUND", "TITLE", "BODY", "REPORTS AS OF", "MEETING", "AREAS",
                 "STATE"},
                44);
    for (const v1::FollowUpRound& round : response.plan().rounds()) {
      table.AddRow(
          {round.round_id(), round.title(), round.body(),
           DateText(round.report_date()), DateText(round.meeting_date()),
           absl::StrCat(round.expected_area_ids_size()),
           round.closed()
               ? absl::StrCat("closed ", DayText(round.closed_at()),
                              " (position ", round.closed_position(), ")")
               : "open"});
    }
    table.Print(context.out());
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::GetFollowUpResponse> GetRound(Context& context,
                                                 const std::string& round_id) {
  PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
  v1::GetFollowUpRequest request;
  request.set_plan_id(context.plan);
  request.set_round_id(round_id);
  PLANTRAIL_ASSIGN_OR_RETURN(uint64_t head, client->HeadPosition());
  request.set_min_position(head);
  v1::GetFollowUpResponse response;
  PLANTRAIL_RETURN_IF_ERROR(client->Call(&Queries::GetFollowUp,
                                         client->queries(), request, response));
  return response;
}

void AddShow(CLI::App* followup, Context& context) {
  struct Flags {
    std::string round;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = followup->add_subcommand(
      "show",
      "Who reported for a round (in time, late, missing), each area's latest "
      "report and what changed since the previous round");
  command->add_option("ROUND", flags->round, "The round (default: the latest)");
  command->footer("Example:\n  plantrail followup show 2018-06");
  context.Action(command, [&context, flags]() -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(v1::GetFollowUpResponse response,
                               GetRound(context, flags->round));
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    std::ostream& out = context.out();
    const v1::FollowUpRound& round = response.round();
    out << "round " << round.round_id() << ": " << OneLine(round.title())
        << "\n  plan " << response.plan().plan_id() << ", for "
        << OneLine(round.body()) << ", reports as of "
        << DateText(round.report_date());
    if (round.has_meeting_date()) {
      out << ", meeting " << DateText(round.meeting_date());
    }
    out << "\n  "
        << (round.closed()
                ? absl::StrCat("closed ", TimeText(round.closed_at()), " by ",
                               OneLine(round.closed_by()))
                : std::string("open"))
        << "; as of log position " << response.position() << " (chain hash "
        << response.chain_hash().substr(0, 16) << "...)\n";
    Table table({"AREA", "TITLE", "REPORT", "STATE", "REPORTED ON", "NEXT"},
                40);
    for (const v1::FollowUpArea& area : response.areas()) {
      table.AddRow({area.area_id(), area.area().title(),
                    RoundReportWords(area.report()),
                    area.area().closed()
                        ? std::string(domain::Words(area.area().outcome()))
                        : absl::StrCat(domain::Words(area.area().phase()), ", ",
                                       domain::Words(area.area().health())),
                    DateText(area.latest_report().reported_on()),
                    DateText(area.latest_report().next_report_due())});
    }
    out << "\n";
    table.Print(out);
    bool heading = false;
    for (const v1::FollowUpArea& area : response.areas()) {
      if (!area.has_changes()) continue;
      if (!heading) {
        out << "\nsince the previous round (position "
            << response.since_position() << "):\n";
        heading = true;
      }
      out << "  " << area.area_id() << "  " << OneLine(area.area().title())
          << "\n";
      for (const std::string& line : ChangeLines(area.changes())) {
        out << "    " << OneLine(line) << "\n";
      }
    }
    const v1::FollowUpSummary& sum = response.summary();
    out << "\n"
        << sum.expected() << " expected: " << sum.in_time() << " in time, "
        << sum.late() << " late, " << sum.missing() << " missing, "
        << sum.closed() << " closed; " << sum.changed()
        << " changed since the previous round\n";
    return absl::OkStatus();
  });
}

absl::Status WriteText(const std::string& path, const std::string& text,
                       absl::string_view flag) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    return UsageError(absl::StrCat(flag, ": cannot write \"", path, "\""));
  }
  return absl::OkStatus();
}

void AddReport(CLI::App* followup, Context& context) {
  struct Flags {
    std::string round, html, pdf, markdown, chromium = "chromium";
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = followup->add_subcommand(
      "report",
      "The report-back document of a round, from the ledger as of the round "
      "(a closed round: as of its closing)");
  command->add_option("ROUND", flags->round, "The round (default: the latest)");
  command->add_option("--html", flags->html,
                      "Write a self-contained HTML page here");
  command->add_option("--pdf", flags->pdf,
                      "Write an A4 PDF here (printed by headless Chromium)");
  command->add_option("--markdown", flags->markdown, "Write Markdown here");
  command->add_option("--chromium", flags->chromium,
                      "The browser that prints the PDF (default: chromium)");
  command->footer(
      "Example:\n  plantrail followup report 2018-01 --pdf "
      "aterrapport-2018-01.pdf --plan pitea-2017");
  context.Action(command, [&context, flags]() -> absl::Status {
    if (flags->html.empty() && flags->pdf.empty() && flags->markdown.empty()) {
      return UsageError("give --html FILE, --pdf FILE or --markdown FILE");
    }
    PLANTRAIL_ASSIGN_OR_RETURN(v1::GetFollowUpResponse response,
                               GetRound(context, flags->round));
    const absl::Time now = absl::Now();
    std::vector<std::string> written;
    if (!flags->markdown.empty()) {
      PLANTRAIL_RETURN_IF_ERROR(WriteText(flags->markdown,
                                          RenderFollowUpMarkdown(response, now),
                                          "--markdown"));
      written.push_back(flags->markdown);
    }
    const std::string html = RenderFollowUpHtml(response, now);
    if (!flags->html.empty()) {
      PLANTRAIL_RETURN_IF_ERROR(WriteText(flags->html, html, "--html"));
      written.push_back(flags->html);
    }
    if (!flags->pdf.empty()) {
      // Chromium prints a file: the page beside the PDF, removed after.
      const std::string page = absl::StrCat(flags->pdf, ".print.html");
      PLANTRAIL_RETURN_IF_ERROR(WriteText(page, html, "--pdf"));
      absl::Status printed = PrintPdf(flags->chromium, page, flags->pdf);
      std::error_code ignored;
      std::filesystem::remove(page, ignored);
      PLANTRAIL_RETURN_IF_ERROR(printed);
      written.push_back(flags->pdf);
    }
    const v1::FollowUpSummary& sum = response.summary();
    context.err() << "wrote " << absl::StrJoin(written, ", ") << ": round "
                  << response.round().round_id() << ", " << sum.expected()
                  << " areas (" << sum.missing() << " missing, " << sum.late()
                  << " late), log position " << response.position() << "\n";
    return absl::OkStatus();
  });
}

}  // namespace

void AddFollowUpCommands(CLI::App& app, Context& context) {
  CLI::App* followup = app.add_subcommand(
      "followup",
      "Follow-up rounds: open, close, list, show and the report-back "
      "document");
  followup->require_subcommand(1);
  AddList(followup, context);
  AddOpen(followup, context);
  AddClose(followup, context);
  AddShow(followup, context);
  AddReport(followup, context);
}

}  // namespace plantrail::cli
