// The commands that read the plan: area show and list, history, portfolio,
// deps, changes, decision list. Each waits for the log's head as of the call
// (min_position), so what a command just wrote, from any process, is seen.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "clients/cli/commands_util.h"
#include "clients/cli/context.h"
#include "clients/cli/format.h"
#include "common/status_macros.h"
#include "domain/plan_words.h"
#include "domain/timestamps.h"

namespace plantrail::cli {
namespace {

using Stub = v1::PlanQueries::Stub;

// Parses --as-of: an RFC 3339 time, or a day (its end, UTC).
absl::StatusOr<absl::Time> ParseAsOf(const std::string& text) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return time;
  absl::CivilDay day;
  if (absl::ParseCivilTime(text, &day)) {
    return absl::FromCivil(day + 1, absl::UTCTimeZone()) -
           absl::Microseconds(1);
  }
  return UsageError(absl::StrCat(
      "--as-of: \"", text,
      "\" is neither an RFC 3339 time (2024-01-10T12:00:00Z) nor a day "
      "(2024-01-10)"));
}

void PrintField(std::ostream& out, absl::string_view name,
                absl::string_view value) {
  if (value.empty()) return;
  out << "  " << name << ":" << std::string(16 - name.size(), ' ') << value
      << "\n";
}

std::string Period(const v1::PlanDate& start, const v1::PlanDate& end) {
  const std::string from = DateText(start);
  const std::string to = DateText(end);
  if (from.empty() && to.empty()) return "";
  return absl::StrCat(from.empty() ? "?" : from, " – ", to.empty() ? "?" : to);
}

void PrintArea(const v1::AreaState& area, std::ostream& out) {
  out << area.area_id() << "  " << area.title() << "\n";
  PrintField(out, "support area", area.support_area());
  PrintField(out, "group", area.group());
  PrintField(out, "phase", domain::Words(area.phase()));
  PrintField(out, "health", domain::Words(area.health()));
  PrintField(out, "planned", Period(area.planned_start(), area.planned_end()));
  const std::string baseline =
      Period(area.baseline_start(), area.baseline_end());
  if (area.schedule_revisions() > 0) {
    PrintField(
        out, "baseline",
        absl::StrCat(
            baseline, " (", area.schedule_revisions(),
            area.schedule_revisions() == 1 ? " revision" : " revisions", ")"));
  }
  if (area.has_latest_report()) {
    const v1::StatusReport& report = area.latest_report();
    std::string line = absl::StrCat(DateText(report.reported_on()), ": \"",
                                    report.narrative(), "\"");
    if (report.has_next_report_due()) {
      absl::StrAppend(&line, " (next due ", DateText(report.next_report_due()),
                      ")");
    }
    PrintField(out, "latest report", line);
  }
  PrintField(out, "units", absl::StrJoin(area.participating_units(), ", "));
  PrintField(out, "responsible", absl::StrJoin(area.responsible_units(), ", "));
  std::vector<std::string> dependencies;
  for (const v1::Dependency& dependency : area.dependencies()) {
    dependencies.push_back(DependencyText(dependency));
  }
  PrintField(out, "dependencies", absl::StrJoin(dependencies, "; "));
  PrintField(out, "rationale", area.rationale());
  PrintField(out, "desired effect", area.desired_effect());
  if (area.closed()) {
    PrintField(out, "closed",
               absl::StrCat(absl::AsciiStrToLower(absl::StripPrefix(
                                v1::Outcome_Name(area.outcome()), "OUTCOME_")),
                            area.outcome_text().empty() ? "" : ": ",
                            area.outcome_text()));
  }
  PrintField(out, "registered",
             absl::StrCat(TimeText(area.registered_at()), " by ",
                          area.registered_by()));
  PrintField(out, "last change",
             absl::StrCat(TimeText(area.updated_at()), " by ",
                          area.updated_by(), " (version ", area.version(),
                          ", position ", area.position(), ")"));
}

// The client, with `request` set to wait for the log's head as of now
// (min_position): what any process wrote before this query is in its answer.
template <typename Request>
absl::StatusOr<Client*> AtHead(Context& context, Request& request) {
  PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
  PLANTRAIL_ASSIGN_OR_RETURN(uint64_t head, client->HeadPosition());
  request.set_min_position(head);
  return client;
}

void AddShow(CLI::App* area, Context& context) {
  struct Flags {
    std::string id, as_of, business_date;
    uint64_t at_position = 0;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = area->add_subcommand(
      "show", "Show an area now, or as it was (time travel)");
  command->add_option("ID", flags->id, "Area id")->required();
  CLI::Option* as_of = command->add_option(
      "--as-of", flags->as_of,
      "As recorded at this time (RFC 3339, or a day: its end, UTC)");
  CLI::Option* at = command->add_option("--at-position", flags->at_position,
                                        "As after the log's first N events");
  CLI::Option* business = command->add_option(
      "--business-date", flags->business_date,
      "As of this business date: reports count by the date they speak for");
  as_of->excludes(at)->excludes(business);
  at->excludes(business);
  command->footer(
      "Examples:\n  plantrail area show 3.1.1\n  plantrail area show 3.1.1 "
      "--as-of 2024-01-10\n  plantrail area show 1.2 --business-date "
      "2018-01-10");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::GetAreaRequest request;
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    if (!flags->as_of.empty()) {
      PLANTRAIL_ASSIGN_OR_RETURN(absl::Time time, ParseAsOf(flags->as_of));
      domain::SetTimestamp(*request.mutable_recorded_at(), time);
    } else if (flags->at_position > 0) {
      request.set_at_position(flags->at_position);
    } else if (!flags->business_date.empty()) {
      request.set_business_date(flags->business_date);
    } else {
      PLANTRAIL_RETURN_IF_ERROR(AtHead(context, request).status());
    }
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, context.client());
    v1::GetAreaResponse response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::GetArea, client->queries(), request, response));
    if (context.json) {
      context.PrintJson(response);
    } else {
      PrintArea(response.area(), context.out());
    }
    return absl::OkStatus();
  });
}

void AddList(CLI::App* area, Context& context) {
  struct Flags {
    std::string support_area, title;
    std::vector<std::string> phases, healths;
    bool overdue = false, slipped = false, open = false;
    uint32_t stale = 0;
    std::string sort;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = area->add_subcommand("list", "List areas");
  command->add_option("--support-area", flags->support_area,
                      "Only this support area");
  command->add_option("--phase", flags->phases, "Only these phases")
      ->delimiter(',');
  command->add_option("--health", flags->healths, "Only these healths")
      ->delimiter(',');
  command->add_flag("--overdue", flags->overdue,
                    "Open areas past their planned end");
  command->add_flag("--slipped", flags->slipped,
                    "Areas whose end lies after their baseline end");
  command->add_option("--stale", flags->stale,
                      "Open areas with no report for this many days");
  command->add_option("--title", flags->title, "Title contains (any case)");
  command->add_flag("--open", flags->open, "Only open areas");
  command->add_option("--sort", flags->sort, "id (default), end or updated");
  command->footer(
      "Examples:\n  plantrail area list --support-area \"3.1 Utbildning\"\n"
      "  plantrail area list --health \"at risk,off track\" --open\n"
      "  plantrail area list --slipped --json");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::ListAreasRequest request;
    request.set_plan_id(context.plan);
    request.set_support_area(flags->support_area);
    for (const std::string& text : flags->phases) {
      PLANTRAIL_ASSIGN_OR_RETURN(
          v1::Phase phase,
          Usage(domain::ParseWords<v1::Phase>(text, "--phase")));
      request.add_phases(phase);
    }
    for (const std::string& text : flags->healths) {
      PLANTRAIL_ASSIGN_OR_RETURN(
          v1::Health health,
          Usage(domain::ParseWords<v1::Health>(text, "--health")));
      request.add_healths(health);
    }
    request.set_overdue(flags->overdue);
    request.set_slipped(flags->slipped);
    request.set_stale_days(flags->stale);
    request.set_title_contains(flags->title);
    request.set_open_only(flags->open);
    if (flags->sort == "end") {
      request.set_sort(v1::AREA_SORT_PLANNED_END);
    } else if (flags->sort == "updated") {
      request.set_sort(v1::AREA_SORT_UPDATED);
    } else if (!flags->sort.empty() && flags->sort != "id") {
      return UsageError(absl::StrCat("--sort: \"", flags->sort,
                                     "\" is not one of id, end, updated"));
    }
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, AtHead(context, request));
    PLANTRAIL_ASSIGN_OR_RETURN(v1::ListAreasResponse all,
                               ListAllAreas(*client, request));
    if (context.json) {
      context.PrintJson(all);
      return absl::OkStatus();
    }
    Table table({"ID", "SUPPORT AREA", "TITLE", "PHASE", "HEALTH", "START",
                 "END", "BASELINE END"},
                40);
    for (const v1::AreaState& area : all.areas()) {
      const std::string end = DateText(area.planned_end());
      const std::string baseline = DateText(area.baseline_end());
      table.AddRow({area.area_id(), area.support_area(), area.title(),
                    domain::Words(area.phase()), domain::Words(area.health()),
                    DateText(area.planned_start()), end,
                    baseline == end ? "" : baseline});
    }
    table.Print(context.out());
    context.out() << all.total() << (all.total() == 1 ? " area" : " areas")
                  << "\n";
    return absl::OkStatus();
  });
}

void AddHistory(CLI::App& app, Context& context) {
  struct Flags {
    std::string id;
    uint32_t limit = 0;
    bool oldest_first = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "history", "An area's audit history: who changed what, when and why");
  command->add_option("ID", flags->id, "Area id")->required();
  command->add_option("--limit", flags->limit, "At most N entries (0: all)");
  command->add_flag("--oldest-first", flags->oldest_first,
                    "Oldest first (default: newest first)");
  command->footer("Example:\n  plantrail history 3.1.1 --limit 10");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::GetHistoryRequest request;
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    request.set_oldest_first(flags->oldest_first);
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, AtHead(context, request));
    PLANTRAIL_ASSIGN_OR_RETURN(v1::GetHistoryResponse all,
                               GetHistoryUpTo(*client, request, flags->limit));
    if (context.json) {
      context.PrintJson(all);
      return absl::OkStatus();
    }
    for (const v1::HistoryEntry& entry : all.entries()) {
      PrintHistoryEntry(entry, context.out());
    }
    if (!all.next_page_token().empty()) {
      context.out() << "(more: raise --limit)\n";
    }
    return absl::OkStatus();
  });
}

std::string Count(const google::protobuf::Map<std::string, uint32_t>& counts,
                  const std::string& key) {
  auto it = counts.find(key);
  return absl::StrCat(it == counts.end() ? 0 : it->second);
}

void AddSliceRow(Table& table, const v1::PortfolioSlice& slice,
                 absl::string_view name) {
  table.AddRow({std::string(name), absl::StrCat(slice.areas()),
                absl::StrCat(slice.open()),
                Count(slice.by_phase(), "PHASE_IN_PROGRESS"),
                Count(slice.by_phase(), "PHASE_COMPLETED"),
                Count(slice.by_health(), "HEALTH_ON_TRACK"),
                Count(slice.by_health(), "HEALTH_AT_RISK"),
                Count(slice.by_health(), "HEALTH_OFF_TRACK"),
                absl::StrCat(slice.overdue()),
                absl::StrCat(slice.slipped_against_baseline(), " (",
                             slice.slip_days_against_baseline(), " d)"),
                absl::StrCat(slice.stale()), absl::StrCat(slice.reports_due()),
                absl::StrCat(slice.reports_late())});
}

void AddPortfolio(CLI::App& app, Context& context) {
  struct Flags {
    std::string support_area;
    uint32_t stale_days = 0, due_within = 0;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "portfolio", "The plan at a glance, per support area and overall");
  command->add_option("--support-area", flags->support_area,
                      "Only this support area");
  command->add_option("--stale-days", flags->stale_days,
                      "No report for this many days is stale (default 30)");
  command->add_option("--due-within", flags->due_within,
                      "Reports due within this many days (default 14)");
  command->footer("Example:\n  plantrail portfolio");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::GetPortfolioRequest request;
    request.set_plan_id(context.plan);
    request.set_support_area(flags->support_area);
    request.set_stale_days(flags->stale_days);
    request.set_due_within_days(flags->due_within);
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, AtHead(context, request));
    v1::GetPortfolioResponse response;
    PLANTRAIL_RETURN_IF_ERROR(client->Call(
        &Stub::GetPortfolio, client->queries(), request, response));
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    Table table({"SUPPORT AREA", "AREAS", "OPEN", "IN PROGRESS", "COMPLETED",
                 "ON TRACK", "AT RISK", "OFF TRACK", "OVERDUE", "SLIPPED",
                 "STALE", "REPORTS DUE", "LATE"},
                40);
    for (const v1::PortfolioSlice& slice : response.support_areas()) {
      AddSliceRow(table, slice, slice.support_area());
    }
    if (flags->support_area.empty()) {
      AddSliceRow(table, response.overall(), "all");
    }
    table.Print(context.out());
    return absl::OkStatus();
  });
}

// An area as the answer about an area of `asked_plan` names it: by id in
// that plan, by resource name in another.
std::string AreaLabel(absl::string_view asked_plan, absl::string_view plan_id,
                      absl::string_view area_id) {
  if (plan_id.empty() || asked_plan.empty() || plan_id == asked_plan) {
    return std::string(area_id);
  }
  return absl::StrCat("plans/", plan_id, "/areas/", area_id);
}

void PrintLinks(
    std::ostream& out, absl::string_view heading, absl::string_view asked_plan,
    const google::protobuf::RepeatedPtrField<v1::DependencyLink>& links) {
  out << heading << ":" << (links.empty() ? " none" : "") << "\n";
  for (const v1::DependencyLink& link : links) {
    out << std::string(2 * link.depth(), ' ')
        << AreaLabel(asked_plan, link.plan_id(), link.area_id()) << " -> "
        << DependencyText(link.dependency()) << "\n";
  }
}

void AddDeps(CLI::App& app, Context& context) {
  struct Flags {
    std::string id, if_end;
    bool upstream = false, downstream = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "deps",
      "What an area depends on, what depends on it, and what a new "
      "end would delay");
  command->add_option("ID", flags->id, "Area id")->required();
  CLI::Option* up =
      command->add_flag("--upstream", flags->upstream, "Only what it needs");
  CLI::Option* down = command->add_flag("--downstream", flags->downstream,
                                        "Only what needs it");
  up->excludes(down);
  command->add_option("--if-end", flags->if_end,
                      "A proposed new planned end: which areas would it "
                      "delay?");
  command->footer(
      "Examples:\n  plantrail deps 3.1.1\n  plantrail deps 3.1.1 --if-end "
      "HT24");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::GetDependenciesRequest request;
    request.set_area_id(flags->id);
    request.set_plan_id(context.plan);
    request.set_if_end(flags->if_end);
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, AtHead(context, request));
    v1::GetDependenciesResponse response;
    PLANTRAIL_RETURN_IF_ERROR(client->Call(
        &Stub::GetDependencies, client->queries(), request, response));
    if (flags->upstream) response.clear_downstream();
    if (flags->downstream) response.clear_upstream();
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    std::ostream& out = context.out();
    if (!flags->downstream) {
      PrintLinks(out, "upstream", context.plan, response.upstream());
    }
    if (!flags->upstream) {
      PrintLinks(out, "downstream", context.plan, response.downstream());
    }
    for (const v1::DependencyCycle& cycle : response.cycles()) {
      out << "cycle: " << absl::StrJoin(cycle.area_ids(), " -> ") << "\n";
    }
    if (!flags->if_end.empty()) {
      out << "an end of " << flags->if_end
          << " would delay:" << (response.delayed().empty() ? " nothing" : "")
          << "\n";
      for (const v1::DelayedArea& delayed : response.delayed()) {
        out << "  "
            << AreaLabel(context.plan, delayed.plan_id(), delayed.area_id())
            << " (planned start " << DateText(delayed.planned_start())
            << ", overrun " << delayed.days_overrun() << " days, depth "
            << delayed.depth() << ")\n";
      }
    }
    if (response.truncated()) {
      out << "truncated: the graph around " << flags->id
          << " is larger than one query walks; lists may be incomplete\n";
    }
    return absl::OkStatus();
  });
}

void AddChanges(CLI::App& app, Context& context) {
  struct Flags {
    std::string since, until, basis = "recorded", support_area;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand(
      "changes",
      "What changed between two dates: per area and in sum (for a council "
      "meeting)");
  command
      ->add_option("--since", flags->since,
                   "The first day (2024-03-01; 2024-03 or VT24: their "
                   "first day)")
      ->required();
  command->add_option("--until", flags->until,
                      "The last day, inclusive (default: today, UTC)");
  command
      ->add_option("--basis", flags->basis,
                   "recorded: when the ledger recorded each change "
                   "(default); business: the date it speaks for")
      ->check(CLI::IsMember({"recorded", "business"}));
  command->add_option("--support-area", flags->support_area,
                      "Only this support area");
  command->footer(
      "Examples:\n  plantrail changes --since 2024-03-01\n"
      "  plantrail changes --since 2018-01-11 --until 2018-06-30 --basis "
      "business --plan pitea-2017");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::GetChangesRequest request;
    request.set_plan_id(context.plan);
    request.set_since(flags->since);
    request.set_until(flags->until);
    request.set_support_area(flags->support_area);
    request.set_basis(flags->basis == "business" ? v1::CHANGE_BASIS_BUSINESS
                                                 : v1::CHANGE_BASIS_RECORDED);
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, AtHead(context, request));
    v1::GetChangesResponse response;
    PLANTRAIL_RETURN_IF_ERROR(
        client->Call(&Stub::GetChanges, client->queries(), request, response));
    if (context.json) {
      context.PrintJson(response);
      return absl::OkStatus();
    }
    std::ostream& out = context.out();
    out << "changes from " << response.since() << " to " << response.until()
        << " by "
        << (response.basis() == v1::CHANGE_BASIS_BUSINESS ? "business date"
                                                          : "recorded time")
        << " (log position " << response.position() << ")\n";
    for (const v1::AreaChange& change : response.areas()) {
      out << "\n"
          << AreaLabel(context.plan, change.plan_id(), change.area_id()) << "  "
          << change.title() << "\n";
      for (const std::string& line : ChangeLines(change)) {
        out << "  " << line << "\n";
      }
    }
    const v1::ChangesSummary& sum = response.summary();
    out << "\n"
        << sum.areas() << " areas: " << sum.areas_changed() << " changed, "
        << sum.slipped() << " slipped, " << sum.newly_at_risk()
        << " newly at risk, " << sum.newly_off_track() << " newly off track, "
        << sum.completed() << " completed, " << sum.silent()
        << " silent (open, no report); " << sum.decisions() << " decisions\n";
    return absl::OkStatus();
  });
}

void AddListDecisions(CLI::App* decision, Context& context) {
  struct Flags {
    std::string area, body, from, to;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = decision->add_subcommand("list", "List decisions");
  command->add_option("--area", flags->area, "Only those naming this area");
  command->add_option("--body", flags->body, "Only this body's");
  command->add_option("--from", flags->from, "Decided on or after (a day)");
  command->add_option("--to", flags->to, "Decided on or before (a day)");
  command->footer("Example:\n  plantrail decision list --area 3.1.1");
  context.Action(command, [&context, flags]() -> absl::Status {
    v1::ListDecisionsRequest request;
    request.set_area_id(flags->area);
    request.set_plan_id(context.plan);
    request.set_body(flags->body);
    request.set_decided_from(flags->from);
    request.set_decided_to(flags->to);
    PLANTRAIL_ASSIGN_OR_RETURN(Client * client, AtHead(context, request));
    PLANTRAIL_ASSIGN_OR_RETURN(v1::ListDecisionsResponse all,
                               ListAllDecisions(*client, request));
    if (context.json) {
      context.PrintJson(all);
      return absl::OkStatus();
    }
    Table table({"ID", "REFERENCE", "BODY", "DATE", "TITLE", "AREAS"}, 40);
    for (const v1::DecisionState& decision : all.decisions()) {
      std::vector<std::string> areas(decision.area_ids().begin(),
                                     decision.area_ids().end());
      for (const v1::AreaRef& other : decision.other_plan_areas()) {
        areas.push_back(absl::StrCat("plans/", other.plan_id(), "/areas/",
                                     other.area_id()));
      }
      table.AddRow({decision.decision_id(), decision.reference(),
                    decision.body(), DateText(decision.decided_on()),
                    decision.title(), absl::StrJoin(areas, ",")});
    }
    table.Print(context.out());
    return absl::OkStatus();
  });
}

}  // namespace

absl::StatusOr<v1::ListAreasResponse> ListAllAreas(
    Client& client, v1::ListAreasRequest request) {
  request.set_page_size(1000);
  v1::ListAreasResponse all;
  PLANTRAIL_RETURN_IF_ERROR(ForEachPage(
      client, &Stub::ListAreas, client.queries(), std::move(request),
      [&all](v1::ListAreasResponse& page) {
        all.mutable_areas()->MergeFrom(std::move(*page.mutable_areas()));
        all.set_total(page.total());
        all.set_position(page.position());
      }));
  return all;
}

absl::StatusOr<v1::ListDecisionsResponse> ListAllDecisions(
    Client& client, v1::ListDecisionsRequest request) {
  request.set_page_size(1000);
  v1::ListDecisionsResponse all;
  PLANTRAIL_RETURN_IF_ERROR(
      ForEachPage(client, &Stub::ListDecisions, client.queries(),
                  std::move(request), [&all](v1::ListDecisionsResponse& page) {
                    all.mutable_decisions()->MergeFrom(
                        std::move(*page.mutable_decisions()));
                    all.set_position(page.position());
                  }));
  return all;
}

absl::StatusOr<v1::GetHistoryResponse> GetHistoryUpTo(
    Client& client, v1::GetHistoryRequest request, uint32_t limit) {
  v1::GetHistoryResponse all;
  do {
    const uint32_t left = limit == 0 ? 1000 : limit - all.entries_size();
    request.set_page_size(std::min<uint32_t>(1000, left));
    v1::GetHistoryResponse page;
    PLANTRAIL_RETURN_IF_ERROR(
        client.Call(&Stub::GetHistory, client.queries(), request, page));
    all.mutable_entries()->MergeFrom(std::move(*page.mutable_entries()));
    all.set_position(page.position());
    all.set_next_page_token(page.next_page_token());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty() &&
           (limit == 0 || static_cast<uint32_t>(all.entries_size()) < limit));
  return all;
}

void AddQueryCommands(CLI::App& app, Context& context) {
  CLI::App* area = Group(app, "area", "");
  AddShow(area, context);
  AddList(area, context);
  AddHistory(app, context);
  AddPortfolio(app, context);
  AddDeps(app, context);
  AddChanges(app, context);
  AddListDecisions(Group(app, "decision", ""), context);
}

}  // namespace plantrail::cli
