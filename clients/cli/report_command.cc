// `report --html FILE`: the plan as one self-contained page (timeline_html.h)
// from the current state, the decisions and every area's history.
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
#include "clients/cli/timeline_html.h"
#include "common/status_macros.h"
#include "domain/timestamps.h"

namespace plantrail::cli {
namespace {

struct Flags {
  std::string html, index, support_area, title;
};

struct Written {
  size_t areas = 0;
  size_t decisions = 0;
  uint64_t position = 0;
};

// One plan's page (`plan_id` empty: the areas without a plan, on a server
// that has none).
absl::StatusOr<Written> WritePlanPage(Client& client, uint64_t head,
                                      const std::string& plan_id,
                                      const std::string& title,
                                      const std::string& support_area,
                                      const std::string& path) {
  TimelineInput input{.title = title,
                      .today = domain::UtcDay(absl::Now()),
                      .generated_at = absl::Now()};
  v1::ListAreasRequest areas;
  areas.set_plan_id(plan_id);
  areas.set_support_area(support_area);
  areas.set_min_position(head);
  PLANTRAIL_ASSIGN_OR_RETURN(v1::ListAreasResponse listed,
                             ListAllAreas(client, areas));
  input.position = listed.position();
  input.areas.assign(std::make_move_iterator(listed.mutable_areas()->begin()),
                     std::make_move_iterator(listed.mutable_areas()->end()));
  v1::ListDecisionsRequest decisions;
  decisions.set_plan_id(plan_id);
  decisions.set_min_position(head);
  PLANTRAIL_ASSIGN_OR_RETURN(v1::ListDecisionsResponse recorded,
                             ListAllDecisions(client, decisions));
  input.decisions.assign(
      std::make_move_iterator(recorded.mutable_decisions()->begin()),
      std::make_move_iterator(recorded.mutable_decisions()->end()));
  for (const v1::AreaState& area : input.areas) {
    v1::GetHistoryRequest request;
    request.set_plan_id(plan_id);
    request.set_area_id(area.area_id());
    request.set_min_position(head);
    PLANTRAIL_ASSIGN_OR_RETURN(v1::GetHistoryResponse history,
                               GetHistoryUpTo(client, request, 0));
    input.histories[area.area_id()].assign(
        std::make_move_iterator(history.mutable_entries()->begin()),
        std::make_move_iterator(history.mutable_entries()->end()));
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << RenderTimelineHtml(input);
  file.close();
  if (!file) {
    return UsageError(absl::StrCat("cannot write \"", path, "\""));
  }
  return Written{.areas = input.areas.size(),
                 .decisions = input.decisions.size(),
                 .position = input.position};
}

absl::StatusOr<std::vector<v1::PlanState>> AllPlans(Client& client,
                                                    uint64_t head) {
  v1::ListPlansRequest request;
  request.set_page_size(1000);
  request.set_min_position(head);
  std::vector<v1::PlanState> plans;
  PLANTRAIL_RETURN_IF_ERROR(
      ForEachPage(client, &v1::PlanQueries::Stub::ListPlans, client.queries(),
                  request, [&plans](v1::ListPlansResponse& page) {
                    for (v1::PlanState& plan : *page.mutable_plans()) {
                      plans.push_back(std::move(plan));
                    }
                  }));
  return plans;
}

// --index DIR: every plan's page, and index.html linking them.
absl::Status RunIndex(Context& context, Client& client, uint64_t head,
                      const Flags& flags) {
  PLANTRAIL_ASSIGN_OR_RETURN(std::vector<v1::PlanState> plans,
                             AllPlans(client, head));
  std::error_code error;
  std::filesystem::create_directories(flags.index, error);
  if (error) {
    return UsageError(absl::StrCat("--index: cannot create \"", flags.index,
                                   "\": ", error.message()));
  }
  std::string rows;
  nlohmann::ordered_json pages = nlohmann::ordered_json::array();
  for (const v1::PlanState& plan : plans) {
    const std::string page = absl::StrCat(plan.plan_id(), ".html");
    PLANTRAIL_ASSIGN_OR_RETURN(
        Written written,
        WritePlanPage(client, head, plan.plan_id(), plan.title(),
                      flags.support_area,
                      (std::filesystem::path(flags.index) / page).string()));
    absl::StrAppend(
        &rows, "<tr><td><a href=\"", EscapeHtml(page), "\">",
        EscapeHtml(plan.title()), "</a></td><td>", EscapeHtml(plan.plan_id()),
        "</td><td>", EscapeHtml(plan.organisation()), "</td><td>",
        EscapeHtml(plan.reference()), "</td><td>", written.areas, "</td><td>",
        plan.closed() ? "closed" : "open", "</td></tr>\n");
    pages.push_back({{"plan_id", plan.plan_id()},
                     {"file", page},
                     {"areas", written.areas},
                     {"decisions", written.decisions}});
  }
  const std::string index =
      (std::filesystem::path(flags.index) / "index.html").string();
  std::ofstream file(index, std::ios::binary | std::ios::trunc);
  file << "<!DOCTYPE html>\n<html lang=\"sv\"><head><meta "
          "charset=\"utf-8\"><title>Plans</title><style>body{font-family:"
          "system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
          "td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:"
          "left}</style></head><body>\n<h1>Plans</h1>\n<table><tr><th>Plan"
          "</th><th>Id</th><th>Organisation</th><th>Reference</th><th>Areas"
          "</th><th>State</th></tr>\n"
       << rows << "</table>\n</body></html>\n";
  file.close();
  if (!file) {
    return UsageError(absl::StrCat("--index: cannot write \"", index, "\""));
  }
  if (context.json) {
    context.out()
        << nlohmann::ordered_json{{"index", index}, {"plans", pages}}.dump()
        << "\n";
  } else {
    context.out() << "wrote " << index << " and " << plans.size()
                  << " plan pages\n";
  }
  return absl::OkStatus();
}

absl::Status RunReport(Context& context, const Flags& flags) {
  if (flags.html.empty() == flags.index.empty()) {
    return UsageError("report: give --html FILE (one plan) or --index DIR");
  }
  PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
  PLANTRAIL_ASSIGN_OR_RETURN(uint64_t head, client->HeadPosition());
  if (!flags.index.empty()) return RunIndex(context, *client, head, flags);
  // One plan: --plan, else the only one; none on a server without plans.
  std::string plan_id = context.plan;
  std::string title = flags.title;
  PLANTRAIL_ASSIGN_OR_RETURN(std::vector<v1::PlanState> plans,
                             AllPlans(*client, head));
  if (plan_id.empty() && plans.size() > 1) {
    std::vector<std::string> ids;
    for (const v1::PlanState& plan : plans) ids.push_back(plan.plan_id());
    return UsageError(absl::StrCat(
        "report: the server holds several plans (", absl::StrJoin(ids, ", "),
        "): give --plan, or --index DIR for all of them"));
  }
  if (plan_id.empty() && plans.size() == 1) plan_id = plans[0].plan_id();
  for (const v1::PlanState& plan : plans) {
    if (plan.plan_id() == plan_id && title.empty()) title = plan.title();
  }
  if (title.empty()) title = "Development plan";
  PLANTRAIL_ASSIGN_OR_RETURN(Written written,
                             WritePlanPage(*client, head, plan_id, title,
                                           flags.support_area, flags.html));
  if (context.json) {
    nlohmann::ordered_json out = {{"file", flags.html},
                                  {"areas", written.areas},
                                  {"decisions", written.decisions},
                                  {"position", written.position}};
    context.out() << out.dump() << "\n";
  } else {
    context.out() << "wrote " << flags.html << ": " << written.areas
                  << " areas, " << written.decisions
                  << " decisions, as of position " << written.position << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddReportCommand(CLI::App& app, Context& context) {
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "report",
      "Write the plan as one self-contained HTML page: a timeline "
      "with baselines, slips, health, decisions and history");
  command->add_option("--html", flags->html,
                      "The page to write: one plan (--plan, else the only "
                      "one)");
  command->add_option("--index", flags->index,
                      "A directory for every plan's page and an index.html "
                      "linking them");
  command->add_option("--support-area", flags->support_area,
                      "Only this support area");
  command->add_option("--title", flags->title,
                      "The page's heading (default: the plan's title)");
  command->footer(
      "Examples:\n  plantrail report --html plan.html --plan kth-vs-2023\n"
      "  plantrail report --index plans/");
  context.Action(command,
                 [&context, flags] { return RunReport(context, *flags); });
}

}  // namespace plantrail::cli
