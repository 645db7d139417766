// The plan as one self-contained HTML page: areas grouped by support area on
// a time axis, each with its baseline bar and its current bar, slips marked,
// health as colour, today as a line, decisions as markers, and the history
// of an area shown on click. No external assets: styles, script and data are
// inline, so the file can be mailed, archived or opened offline. The styles
// and script are kept in clients/cli/assets/ and compiled in
// (timeline_assets.h).
//
// Pure: renders what it is given, no I/O. Thread-safe (no shared state).
#ifndef PLANTRAIL_CLIENTS_CLI_TIMELINE_HTML_H_
#define PLANTRAIL_CLIENTS_CLI_TIMELINE_HTML_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "plantrail/v1/plan.pb.h"
#include "plantrail/v1/plan_queries.pb.h"

namespace plantrail::cli {

struct TimelineInput {
  // Shown as the page's heading, e.g. "KTH: development plan".
  std::string title;
  // The areas to draw, in any order (the page groups them by support area
  // and orders each group by area id).
  std::vector<v1::AreaState> areas;
  // Decisions; each is drawn on the rows of the areas it names.
  std::vector<v1::DecisionState> decisions;
  // Each area's audit history (any order), shown when its row is clicked.
  std::map<std::string, std::vector<v1::HistoryEntry>> histories;
  // "Today" for the today line and for overdue marks.
  absl::CivilDay today;
  // When the report was made and from which log position, shown in the
  // footer so a printed page says what it reflects.
  absl::Time generated_at;
  uint64_t position = 0;
};

// The whole page, UTF-8.
std::string RenderTimelineHtml(const TimelineInput& input);

// `text` safe in HTML text and attribute values (& < > " ').
std::string EscapeHtml(absl::string_view text);

}  // namespace plantrail::cli

#endif  // PLANTRAIL_CLIENTS_CLI_TIMELINE_HTML_H_
