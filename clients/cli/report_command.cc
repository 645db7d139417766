// `report --html FILE`: the plan as one self-contained page (timeline_html.h)
// from the current state, the decisions and every area's history.
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "clients/cli/timeline_html.h"
#include "common/status_macros.h"

namespace plantrail::cli {
namespace {

struct Flags {
  std::string html, support_area, title = "Development plan";
};

absl::Status RunReport(Context& context, const Flags& flags) {
  PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
  PLANTRAIL_ASSIGN_OR_RETURN(uint64_t head, client->HeadPosition());
  TimelineInput input{
      .title = flags.title,
      .today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()),
      .generated_at = absl::Now()};
  v1::ListAreasRequest areas;
  areas.set_support_area(flags.support_area);
  areas.set_min_position(head);
  PLANTRAIL_ASSIGN_OR_RETURN(v1::ListAreasResponse listed,
                             ListAllAreas(*client, areas));
  input.position = listed.position();
  input.areas.assign(std::make_move_iterator(listed.mutable_areas()->begin()),
                     std::make_move_iterator(listed.mutable_areas()->end()));
  v1::ListDecisionsRequest decisions;
  decisions.set_min_position(head);
  PLANTRAIL_ASSIGN_OR_RETURN(v1::ListDecisionsResponse recorded,
                             ListAllDecisions(*client, decisions));
  input.decisions.assign(
      std::make_move_iterator(recorded.mutable_decisions()->begin()),
      std::make_move_iterator(recorded.mutable_decisions()->end()));
  for (const v1::AreaState& area : input.areas) {
    v1::GetHistoryRequest request;
    request.set_area_id(area.area_id());
    request.set_min_position(head);
    PLANTRAIL_ASSIGN_OR_RETURN(v1::GetHistoryResponse history,
                               GetHistoryUpTo(*client, request, 0));
    input.histories[area.area_id()].assign(
        std::make_move_iterator(history.mutable_entries()->begin()),
        std::make_move_iterator(history.mutable_entries()->end()));
  }
  std::ofstream file(flags.html, std::ios::binary | std::ios::trunc);
  file << RenderTimelineHtml(input);
  file.close();
  if (!file) {
    return UsageError(
        absl::StrCat("--html: cannot write \"", flags.html, "\""));
  }
  if (context.json) {
    nlohmann::ordered_json out = {{"file", flags.html},
                                  {"areas", input.areas.size()},
                                  {"decisions", input.decisions.size()},
                                  {"position", input.position}};
    context.out() << out.dump() << "\n";
  } else {
    context.out() << "wrote " << flags.html << ": " << input.areas.size()
                  << " areas, " << input.decisions.size()
                  << " decisions, as of position " << input.position << "\n";
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
  command->add_option("--html", flags->html, "The page to write")->required();
  command->add_option("--support-area", flags->support_area,
                      "Only this support area");
  command->add_option("--title", flags->title, "The page's heading");
  command->footer(
      "Example:\n  plantrail report --html plan.html --title \"KTH action "
      "plan\"");
  context.Action(command,
                 [&context, flags] { return RunReport(context, *flags); });
}

}  // namespace plantrail::cli
