#include "clients/cli/followup_document.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "clients/cli/format.h"
#include "clients/cli/timeline_html.h"
#include "domain/plan_words.h"
#include "domain/text.h"

extern char** environ;

namespace plantrail::cli {
namespace {

bool Same(const v1::PlanDate& a, const v1::PlanDate& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

// "mars 2018 – oktober 2018", as the plan wrote its dates.
std::string Range(const v1::PlanDate& start, const v1::PlanDate& end) {
  const std::string from = DateText(start);
  const std::string to = DateText(end);
  if (from.empty() && to.empty()) return "";
  if (from.empty()) return absl::StrCat("until ", to);
  if (to.empty()) return absl::StrCat("from ", from);
  return absl::StrCat(from, " – ", to);
}

// One area's row, in words; each renderer lays it out.
struct Row {
  std::string area_id;
  std::string title;
  std::string desired_effect;
  std::string schedule;
  // Set when the plan moved from its baseline.
  std::string baseline;
  std::string state;  // phase, health
  std::string narrative;
  std::string reported;  // "2018-01-10 (recorded ... by ...)"
  std::string flag;      // MISSING, LATE, ...
  v1::RoundReport report = v1::ROUND_REPORT_UNSPECIFIED;
  std::vector<std::string> changes;
  std::string next_report;
};

Row RowOf(const v1::FollowUpArea& expected) {
  const v1::AreaState& area = expected.area();
  Row row;
  row.area_id = expected.area_id();
  row.title = area.title();
  row.desired_effect = area.desired_effect();
  row.schedule = Range(area.planned_start(), area.planned_end());
  const bool moved = (area.has_baseline_start() &&
                      !Same(area.baseline_start(), area.planned_start())) ||
                     (area.has_baseline_end() &&
                      !Same(area.baseline_end(), area.planned_end()));
  if (moved) row.baseline = Range(area.baseline_start(), area.baseline_end());
  row.state = area.closed()
                  ? absl::StrCat(domain::Words(area.outcome()),
                                 area.outcome_text().empty()
                                     ? ""
                                     : absl::StrCat(": ", area.outcome_text()))
                  : absl::StrCat(domain::Words(area.phase()), ", ",
                                 domain::Words(area.health()));
  row.report = expected.report();
  row.flag = RoundReportWords(expected.report());
  if (expected.has_latest_report()) {
    const v1::StatusReport& report = expected.latest_report();
    row.narrative = report.narrative();
    row.reported =
        absl::StrCat("report of ", DateText(report.reported_on()),
                     ", recorded ", TimeText(expected.report_recorded_at()),
                     " by ", expected.report_recorded_by());
    row.next_report = DateText(report.next_report_due());
  } else if (expected.report() == v1::ROUND_REPORT_MISSING) {
    row.reported = "no report in this round";
  }
  if (expected.has_changes()) {
    row.changes = ChangeLines(expected.changes());
  }
  if (row.changes.empty()) row.changes.push_back("no change");
  return row;
}

// The rows by support area, support areas in natural order.
std::vector<std::pair<std::string, std::vector<Row>>> Groups(
    const v1::GetFollowUpResponse& round) {
  std::vector<std::pair<std::string, std::vector<Row>>> groups;
  for (const v1::FollowUpArea& area : round.areas()) {
    const std::string& support = area.area().support_area();
    if (groups.empty() || groups.back().first != support) {
      groups.emplace_back(support, std::vector<Row>());
    }
    groups.back().second.push_back(RowOf(area));
  }
  return groups;
}

std::string RoundState(const v1::FollowUpRound& round) {
  return round.closed() ? absl::StrCat("closed ", TimeText(round.closed_at()),
                                       " by ", round.closed_by())
                        : "open: preliminary, reports may still arrive";
}

std::string GeneratedText(absl::Time at) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", at, absl::UTCTimeZone());
}

std::string SummaryText(const v1::FollowUpSummary& sum) {
  return absl::StrCat(sum.expected(), " areas expected: ", sum.in_time(),
                      " reported in time, ", sum.late(), " late, ",
                      sum.missing(), " missing, ", sum.closed(), " closed; ",
                      sum.changed(), " changed since the previous round");
}

// ---- Markdown ----

// A table cell: one line, no column breaks, no markup or HTML from the
// plan's text.
std::string Cell(absl::string_view text) {
  std::string out = absl::StrReplaceAll(text, {{"\\", "\\\\"},
                                               {"|", "\\|"},
                                               {"<", "&lt;"},
                                               {">", "&gt;"},
                                               {"*", "\\*"},
                                               {"_", "\\_"},
                                               {"`", "\\`"},
                                               {"\r\n", " "},
                                               {"\n", " "},
                                               {"\r", " "},
                                               {"\t", " "}});
  return out;
}

}  // namespace

std::string RoundReportWords(v1::RoundReport report) {
  switch (report) {
    case v1::ROUND_REPORT_IN_TIME:
      return "reported in time";
    case v1::ROUND_REPORT_LATE:
      return "LATE";
    case v1::ROUND_REPORT_MISSING:
      return "MISSING";
    case v1::ROUND_REPORT_CLOSED:
      return "closed";
    default:
      return "";
  }
}

std::string RenderFollowUpMarkdown(const v1::GetFollowUpResponse& response,
                                   absl::Time generated_at) {
  const v1::PlanState& plan = response.plan();
  const v1::FollowUpRound& round = response.round();
  std::string out;
  absl::StrAppend(&out, "# ", Cell(round.title()), "\n\n");
  absl::StrAppend(&out, "**", Cell(plan.title()), "**",
                  plan.organisation().empty()
                      ? ""
                      : absl::StrCat(", ", Cell(plan.organisation())),
                  plan.reference().empty()
                      ? ""
                      : absl::StrCat(" (", Cell(plan.reference()), ")"),
                  "\n\n");
  absl::StrAppend(&out, "| | |\n|---|---|\n");
  absl::StrAppend(&out, "| Report-back to | ", Cell(round.body()), " |\n");
  absl::StrAppend(&out, "| Reports as of | ",
                  Cell(DateText(round.report_date())), " |\n");
  if (round.has_meeting_date()) {
    absl::StrAppend(&out, "| Meeting | ", Cell(DateText(round.meeting_date())),
                    " |\n");
  }
  absl::StrAppend(&out, "| Round | ", Cell(round.round_id()), ", ",
                  Cell(RoundState(round)), " |\n");
  if (response.has_previous_round()) {
    absl::StrAppend(&out, "| Previous round | ",
                    Cell(response.previous_round().round_id()), " (",
                    Cell(response.previous_round().title()), ") |\n");
  }
  absl::StrAppend(&out, "| Made from the ledger at | log position ",
                  response.position(), ", chain hash `", response.chain_hash(),
                  "` |\n");
  absl::StrAppend(&out, "| Check it | `plantrail verify --at ",
                  response.position(), " --hash ", response.chain_hash(),
                  "` |\n");
  absl::StrAppend(&out, "| Generated | ", GeneratedText(generated_at),
                  " |\n\n");
  if (!round.request().empty()) {
    absl::StrAppend(&out, "> ", Cell(round.request()), "\n\n");
  }
  absl::StrAppend(&out, SummaryText(response.summary()), ".\n");
  for (const auto& [support, rows] : Groups(response)) {
    absl::StrAppend(&out, "\n## Support area ",
                    support.empty() ? "(none)" : Cell(support), "\n\n");
    absl::StrAppend(&out,
                    "| Area | Action | Schedule | Process state | Changed "
                    "since the previous round | Next report |\n"
                    "|---|---|---|---|---|---|\n");
    for (const Row& row : rows) {
      std::string state =
          absl::StrCat("**", Cell(row.flag), "**. ", Cell(row.state));
      if (!row.narrative.empty()) {
        absl::StrAppend(&state, ". ", Cell(row.narrative));
      }
      if (!row.reported.empty()) {
        absl::StrAppend(&state, " (", Cell(row.reported), ")");
      }
      std::vector<std::string> changes;
      for (const std::string& line : row.changes) changes.push_back(Cell(line));
      absl::StrAppend(
          &out, "| ", Cell(row.area_id), " ", Cell(row.title), " | ",
          Cell(row.desired_effect), " | ", Cell(row.schedule),
          row.baseline.empty()
              ? ""
              : absl::StrCat(" (baseline: ", Cell(row.baseline), ")"),
          " | ", state, " | ", absl::StrJoin(changes, "; "), " | ",
          Cell(row.next_report), " |\n");
    }
  }
  return out;
}

namespace {

constexpr absl::string_view kStyle = R"css(
@page {
  size: A4;
  margin: 16mm 13mm 18mm 13mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt sans-serif; }
}
* { box-sizing: border-box; }
body { font: 10pt/1.35 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #000; margin: 0 auto; max-width: 1100px; padding: 12px; }
h1 { font-size: 18pt; margin: 0 0 4px; }
h2 { font-size: 13pt; margin: 18px 0 6px; break-after: avoid; }
.plan { font-size: 12pt; margin: 0 0 10px; }
table { border-collapse: collapse; width: 100%; }
table.cover td { padding: 2px 8px 2px 0; vertical-align: top; border: 0; }
table.cover td:first-child { font-weight: bold; white-space: nowrap; }
table.areas { font-size: 8.5pt; line-height: 1.3; }
table.areas th, table.areas td { border: 0.6pt solid #000; padding: 3px 4px; vertical-align: top; text-align: left; overflow-wrap: break-word; }
table.areas th { background: #e6e6e6; }
@media print { body { padding: 0; max-width: none; } }
table.areas tr { break-inside: avoid; }
td.area { width: 15%; } td.action { width: 22%; } td.schedule { width: 12%; }
td.state { width: 24%; } td.changes { width: 19%; } td.next { width: 8%; }
.id { font-weight: bold; }
.flag { display: inline-block; font-weight: bold; border: 1pt solid #000; padding: 0 3px; margin-bottom: 2px; }
.flag.missing, .flag.late { background: #000; color: #fff; }
.baseline { font-style: italic; }
.small { font-size: 7.5pt; }
code { font-size: 8.5pt; word-break: break-all; }
.request { border-left: 2pt solid #000; padding-left: 8px; margin: 8px 0; }
ul { margin: 0; padding-left: 14px; }
)css";

// Marks the page as drawn (and reports script errors and any blocked
// asset) for a check in a browser; the document needs no script to read.
constexpr absl::string_view kScript = R"js(
(function () {
  var errors = [];
  function note(text) { errors.push(text); document.body.setAttribute("data-errors", errors.join("\n")); }
  window.addEventListener("error", function (e) { note("error: " + e.message); });
  document.addEventListener("securitypolicyviolation", function (e) { note("blocked: " + e.blockedURI); });
  document.body.setAttribute("data-rendered", "true");
})();
)js";

std::string Lines(const std::string& text) {
  return absl::StrReplaceAll(EscapeHtml(text), {{"\n", "<br>"}});
}

// A CSS string literal holding `text`.
std::string CssString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n' || c == '\r') {
      out.push_back(' ');
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string RenderFollowUpHtml(const v1::GetFollowUpResponse& response,
                               absl::Time generated_at) {
  const v1::PlanState& plan = response.plan();
  const v1::FollowUpRound& round = response.round();
  std::string out;
  const std::string footer =
      absl::StrCat(plan.plan_id(), " · round ", round.round_id(),
                   " · log position ", response.position());
  absl::StrAppend(
      &out,
      "<!DOCTYPE html>\n<html lang=\"sv\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
      "'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
      "<title>",
      EscapeHtml(round.title()), " – ", EscapeHtml(plan.title()),
      "</title>\n<style>", kStyle,
      "@page { @bottom-left { content: ", CssString(footer),
      "; font: 8pt sans-serif; } }\n", "</style>\n</head>\n<body>\n");
  absl::StrAppend(&out, "<h1>", EscapeHtml(round.title()), "</h1>\n");
  absl::StrAppend(&out, "<p class=\"plan\"><b>", EscapeHtml(plan.title()),
                  "</b>",
                  plan.organisation().empty()
                      ? ""
                      : absl::StrCat(", ", EscapeHtml(plan.organisation())),
                  plan.reference().empty()
                      ? ""
                      : absl::StrCat(" (", EscapeHtml(plan.reference()), ")"),
                  "</p>\n<table class=\"cover\">\n");
  const auto cover_row = [&out](absl::string_view name,
                                const std::string& html) {
    absl::StrAppend(&out, "<tr><td>", name, "</td><td>", html, "</td></tr>\n");
  };
  cover_row("Report-back to", EscapeHtml(round.body()));
  cover_row("Reports as of", EscapeHtml(DateText(round.report_date())));
  if (round.has_meeting_date()) {
    cover_row("Meeting", EscapeHtml(DateText(round.meeting_date())));
  }
  cover_row("Round", absl::StrCat(EscapeHtml(round.round_id()), ", ",
                                  EscapeHtml(RoundState(round))));
  if (response.has_previous_round()) {
    cover_row(
        "Previous round",
        absl::StrCat(EscapeHtml(response.previous_round().round_id()), " (",
                     EscapeHtml(response.previous_round().title()), ")"));
  }
  cover_row(
      "Made from the ledger at",
      absl::StrCat("log position ", response.position(), ", chain hash <code>",
                   response.chain_hash(), "</code>"));
  cover_row("Check it",
            absl::StrCat("<code>plantrail verify --at ", response.position(),
                         " --hash ", response.chain_hash(), "</code>"));
  cover_row("Generated", GeneratedText(generated_at));
  absl::StrAppend(&out, "</table>\n");
  if (!round.request().empty()) {
    absl::StrAppend(&out, "<p class=\"request\">", Lines(round.request()),
                    "</p>\n");
  }
  absl::StrAppend(&out, "<p class=\"summary\">",
                  EscapeHtml(SummaryText(response.summary())), ".</p>\n");
  for (const auto& [support, rows] : Groups(response)) {
    absl::StrAppend(&out, "<h2>Support area ",
                    support.empty() ? "(none)" : EscapeHtml(support),
                    "</h2>\n<table class=\"areas\">\n<thead><tr><th>Area</th>"
                    "<th>Action</th><th>Schedule</th><th>Process "
                    "state</th><th>Changed since the previous "
                    "round</th><th>Next report</th></tr></thead>\n<tbody>\n");
    for (const Row& row : rows) {
      std::string flag_class = "flag";
      if (row.report == v1::ROUND_REPORT_MISSING) flag_class += " missing";
      if (row.report == v1::ROUND_REPORT_LATE) flag_class += " late";
      absl::StrAppend(
          &out, "<tr class=\"area-row\" data-area-id=\"",
          EscapeHtml(row.area_id),
          "\">\n<td class=\"area\"><span class=\"id\">",
          EscapeHtml(row.area_id), "</span> ", EscapeHtml(row.title),
          "</td>\n<td class=\"action\">", Lines(row.desired_effect),
          "</td>\n<td class=\"schedule\">", EscapeHtml(row.schedule),
          row.baseline.empty()
              ? ""
              : absl::StrCat("<br><span class=\"baseline\">baseline: ",
                             EscapeHtml(row.baseline), "</span>"),
          "</td>\n<td class=\"state\"><span class=\"", flag_class, "\">",
          EscapeHtml(row.flag), "</span><br>", EscapeHtml(row.state));
      if (!row.narrative.empty()) {
        absl::StrAppend(&out, "<br>", Lines(row.narrative));
      }
      if (!row.reported.empty()) {
        absl::StrAppend(&out, "<br><span class=\"small\">",
                        EscapeHtml(row.reported), "</span>");
      }
      absl::StrAppend(&out, "</td>\n<td class=\"changes\"><ul>");
      for (const std::string& line : row.changes) {
        absl::StrAppend(&out, "<li>", EscapeHtml(line), "</li>");
      }
      absl::StrAppend(&out, "</ul></td>\n<td class=\"next\">",
                      EscapeHtml(row.next_report), "</td>\n</tr>\n");
    }
    absl::StrAppend(&out, "</tbody>\n</table>\n");
  }
  absl::StrAppend(&out, "<script>", kScript, "</script>\n</body>\n</html>\n");
  return out;
}

absl::Status PrintPdf(const std::string& chromium, const std::string& html_path,
                      const std::string& pdf_path) {
  std::error_code error;
  const std::filesystem::path html =
      std::filesystem::absolute(html_path, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat("--pdf: ", html_path, ": ", error.message()));
  }
  std::string profile_template =
      (std::filesystem::temp_directory_path() / "plantrail-chromium-XXXXXX")
          .string();
  if (mkdtemp(profile_template.data()) == nullptr) {
    return absl::InternalError(absl::StrCat(
        "--pdf: cannot make a profile directory: ", std::strerror(errno)));
  }
  const std::string profile = profile_template;
  std::vector<std::string> args = {
      chromium,
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--disable-default-apps",
      "--mute-audio",
      "--no-pdf-header-footer",
      absl::StrCat("--user-data-dir=", profile),
      absl::StrCat("--print-to-pdf=", pdf_path),
      absl::StrCat("file://", html.string()),
  };
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // Chromium's own HOME: it reads and writes no configuration of the
  // user's.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "HOME=", 5) != 0) env_strings.emplace_back(*e);
  }
  env_strings.push_back(absl::StrCat("HOME=", profile));
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null",
                                   O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, chromium.c_str(), &actions, nullptr,
                                   argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  absl::Status result = absl::OkStatus();
  if (spawned != 0) {
    result = absl::FailedPreconditionError(absl::StrCat(
        "--pdf: cannot run ", chromium, ": ", std::strerror(spawned),
        " (Debian: apt-get install chromium; or --chromium PATH)"));
  } else {
    // Two minutes is ample for a document of a few hundred areas.
    const absl::Time deadline = absl::Now() + absl::Minutes(2);
    int status = 0;
    for (;;) {
      const pid_t done = waitpid(pid, &status, WNOHANG);
      if (done == pid) break;
      if (done < 0 && errno != EINTR) {
        result = absl::InternalError(absl::StrCat(
            "--pdf: waiting for chromium: ", std::strerror(errno)));
        break;
      }
      if (absl::Now() > deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        result = absl::DeadlineExceededError(
            "--pdf: chromium did not print within two minutes");
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (result.ok() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      result = absl::InternalError(
          absl::StrCat("--pdf: chromium failed (status ", status, ")"));
    }
    if (result.ok() && !std::filesystem::exists(pdf_path, error)) {
      result = absl::InternalError(
          absl::StrCat("--pdf: chromium wrote no ", pdf_path));
    }
  }
  std::filesystem::remove_all(profile, error);
  return result;
}

}  // namespace plantrail::cli
