#include "clients/cli/format.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "domain/plan_words.h"
#include "domain/timestamps.h"

namespace plantrail::cli {
namespace {

// Display width of UTF-8 text: one column per code point (the plans' text
// is Latin; no wide characters).
size_t Width(absl::string_view text) {
  return std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
}

std::string DisplayCut(absl::string_view text, size_t max_width) {
  if (Width(text) <= max_width) return std::string(text);
  size_t columns = 0;
  size_t i = 0;
  for (; i < text.size(); ++i) {
    const bool starts = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    if (starts && ++columns == max_width) break;
  }
  return absl::StrCat(text.substr(0, i), "…");
}

}  // namespace

std::string OneLine(absl::string_view text) {
  std::string line;
  line.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    switch (byte) {
      case '\n':
        line += "\\n";
        continue;
      case '\r':
        line += "\\r";
        continue;
      case '\t':
        line += "\\t";
        continue;
      default:
        break;
    }
    if (byte < 0x20 || byte == 0x7f) {
      line += absl::StrFormat("\\x%02x", byte);
    } else if (byte == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      // U+0080-U+009F, the C1 controls: some terminals act on them too
      // (U+009B starts an escape sequence).
      line += absl::StrFormat("\\u%04x", static_cast<unsigned char>(text[++i]));
    } else {
      line += text[i];
    }
  }
  return line;
}

std::string DateText(const v1::PlanDate& date) {
  if (date.precision() == v1::PLAN_DATE_PRECISION_UNSPECIFIED) return "";
  return date.text();
}

std::string TimeText(const google::protobuf::Timestamp& time) {
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", domain::FromTimestamp(time),
                          absl::UTCTimeZone());
}

std::string DayText(const google::protobuf::Timestamp& time) {
  return TimeText(time).substr(0, 10);
}

std::string DependencyText(const v1::Dependency& dependency) {
  std::string text = dependency.has_external()
                         ? absl::StrCat("external: ", dependency.external())
                     : dependency.plan_id().empty()
                         ? dependency.area_id()
                         : absl::StrCat("plans/", dependency.plan_id(),
                                        "/areas/", dependency.area_id());
  if (dependency.kind() == v1::DEPENDENCY_KIND_RELATES) {
    absl::StrAppend(&text, " (relates)");
  }
  if (!dependency.note().empty()) {
    absl::StrAppend(&text, " - ", dependency.note());
  }
  return text;
}

void PrintHistoryEntry(const v1::HistoryEntry& entry, std::ostream& out) {
  const std::string business = DateText(entry.business_date());
  const std::string recorded = DayText(entry.recorded_at());
  out << (business.empty() ? recorded : business) << "  #" << entry.position()
      << "  " << domain::EventTypeWords(entry.event_type()) << ", by "
      << entry.actor();
  if (!business.empty() &&
      entry.business_date().precision() == v1::PLAN_DATE_PRECISION_DAY &&
      business != recorded) {
    out << " (recorded " << recorded << ")";
  }
  out << "\n";
  for (const v1::FieldChange& change : entry.changes()) {
    out << "    " << domain::FieldWords(change.field()) << ": "
        << (change.before().empty() ? "(none)" : change.before()) << " -> "
        << (change.after().empty() ? "(none)" : change.after()) << "\n";
  }
  if (!entry.text().empty()) out << "    \"" << entry.text() << "\"\n";
  if (!entry.reason().empty()) out << "    reason: " << entry.reason() << "\n";
  if (!entry.decision_id().empty()) {
    out << "    decision: " << entry.decision_id() << "\n";
  }
  if (entry.corrects_position() != 0) {
    out << "    corrects: #" << entry.corrects_position() << "\n";
  }
  for (uint64_t by : entry.corrected_by()) {
    out << "    corrected by: #" << by << "\n";
  }
  if (entry.redaction().redacted()) {
    const v1::Redaction& redaction = entry.redaction();
    out << "    redacted";
    if (!redaction.actor().empty()) {
      out << " by " << redaction.actor() << " on "
          << DayText(redaction.recorded_at()) << " (#" << redaction.position()
          << "), reason: " << redaction.reason();
    }
    out << "; its free text is gone\n";
  }
}

Table::Table(std::vector<std::string> headings, size_t max_width)
    : headings_(std::move(headings)), max_width_(max_width) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headings_.size());
  for (std::string& cell : cells) cell = DisplayCut(OneLine(cell), max_width_);
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(headings_.size());
  for (size_t c = 0; c < headings_.size(); ++c) {
    widths[c] = Width(headings_[c]);
    for (const auto& row : rows_)
      widths[c] = std::max(widths[c], Width(row[c]));
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      line += cells[c];
      if (c + 1 < cells.size()) {
        line.append(widths[c] - Width(cells[c]) + 2, ' ');
      }
    }
    out << absl::StripTrailingAsciiWhitespace(line) << "\n";
  };
  print_row(headings_);
  for (const auto& row : rows_) print_row(row);
}

std::vector<std::string> ChangeLines(const v1::AreaChange& change) {
  std::vector<std::string> lines;
  // A new area's moves are from nothing: its state says more.
  if (change.registered()) {
    lines.push_back(absl::StrCat("registered: ", domain::Words(change.phase()),
                                 ", ", domain::Words(change.health())));
  } else if (change.phase_before() != change.phase_after()) {
    lines.push_back(
        absl::StrCat("phase: ", domain::Words(change.phase_before()), " -> ",
                     domain::Words(change.phase_after())));
  }
  if (!change.registered() && change.health_before() != change.health_after()) {
    lines.push_back(
        absl::StrCat("health: ", domain::Words(change.health_before()), " -> ",
                     domain::Words(change.health_after())));
  }
  if (change.end_moved_days() != 0) {
    lines.push_back(absl::StrCat("planned end: ", DateText(change.end_before()),
                                 " -> ", DateText(change.end_after()), " (",
                                 change.end_moved_days() > 0 ? "+" : "",
                                 change.end_moved_days(), " days)"));
  }
  if (change.has_slip_days_against_baseline() &&
      change.slip_days_against_baseline() != 0) {
    lines.push_back(
        absl::StrCat("against the baseline: ",
                     change.slip_days_against_baseline() > 0 ? "+" : "",
                     change.slip_days_against_baseline(), " days"));
  }
  for (const v1::Dependency& added : change.dependencies_added()) {
    lines.push_back(absl::StrCat("dependency added: ", DependencyText(added)));
  }
  for (const v1::Dependency& removed : change.dependencies_removed()) {
    lines.push_back(
        absl::StrCat("dependency removed: ", DependencyText(removed)));
  }
  if (change.closed()) {
    lines.push_back(absl::StrCat("closed: ", domain::Words(change.outcome())));
  }
  if (change.reopened()) lines.push_back("reopened");
  if (change.status_reports() > 0) {
    lines.push_back(absl::StrCat(
        "status reports: ", change.status_reports(),
        change.has_latest_report() &&
                !change.latest_report().narrative().empty()
            ? absl::StrCat(" (latest: \"", change.latest_report().narrative(),
                           "\")")
            : ""));
  }
  if (change.corrected_entries() > 0) {
    lines.push_back(
        absl::StrCat("entries corrected: ", change.corrected_entries()));
  }
  for (const v1::DecisionRef& decision : change.decisions()) {
    lines.push_back(absl::StrCat(
        "decision ", decision.decision_id(),
        decision.decided_on().text().empty()
            ? ""
            : absl::StrCat(" of ", DateText(decision.decided_on())),
        decision.body().empty() ? "" : absl::StrCat(" (", decision.body(), ")"),
        ": ", decision.title()));
  }
  return lines;
}

}  // namespace plantrail::cli
