#include "clients/cli/timeline_html.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "clients/cli/format.h"
#include "clients/cli/timeline_assets.h"
#include "domain/area_schedule.h"
#include "domain/plan_date.h"
#include "domain/plan_date_proto.h"
#include "domain/plan_words.h"
#include "domain/stored_twin.h"
#include "domain/text.h"
#include "domain/timestamps.h"
#include "nlohmann/json.hpp"

namespace plantrail::cli {
namespace {

using Json = nlohmann::json;
// Days since 1970-01-01: plain integers are easier to lay out than civil
// days, and every date on the page becomes one.
using Day = int64_t;

const absl::CivilDay kEpoch(1970, 1, 1);

Day ToDay(absl::CivilDay day) { return day - kEpoch; }
absl::CivilDay FromDay(Day day) { return kEpoch + day; }

std::string IsoDay(Day day) { return absl::FormatCivilTime(FromDay(day)); }

// Plan dates lie in 1900-2199; a stray timestamp or "today" far outside must
// not stretch the axis over millennia, so every day is kept near that range.
Day Sane(Day day) {
  static const Day kFirst = ToDay(absl::CivilDay(1899, 1, 1));
  static const Day kLast = ToDay(absl::CivilDay(2200, 12, 31));
  return std::clamp(day, kFirst, kLast);
}

// ---------------------------------------------------------------------------
// Text

std::string Html(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// JSON inside <script> must not end the element ("</") nor switch the HTML
// tokenizer into its escaped states ("<!--"), whatever the plan's text says.
// Both replacements are still valid JSON string escapes.
std::string ForScript(absl::string_view json) {
  return absl::StrReplaceAll(json, {{"</", "<\\/"}, {"<!--", "<\\u0021--"}});
}

// "ScheduleRevised" -> "Schedule revised".
std::string Humanize(absl::string_view type) {
  std::string words = domain::EventTypeWords(type);
  if (!words.empty()) words[0] = absl::ascii_toupper(words[0]);
  return words;
}

std::string PhaseText(v1::Phase phase) {
  return phase == v1::PHASE_UNSPECIFIED ? "" : domain::Words(phase);
}

std::string HealthText(v1::Health health) {
  return health == v1::HEALTH_UNSPECIFIED ? "not reported"
                                          : domain::Words(health);
}

// The CSS class that colours a bar.
std::string HealthClass(v1::Health health) {
  switch (health) {
    case v1::HEALTH_ON_TRACK:
      return "h-on";
    case v1::HEALTH_AT_RISK:
      return "h-risk";
    case v1::HEALTH_OFF_TRACK:
      return "h-off";
    default:
      return "h-unknown";
  }
}

std::string OutcomeText(const v1::AreaState& area) {
  switch (area.outcome()) {
    case v1::OUTCOME_COMPLETED:
      return "completed";
    case v1::OUTCOME_CANCELLED:
      return "cancelled";
    default:
      return "closed";
  }
}

// 12.3456 -> "12.346%", independent of the C locale.
std::string Percent(double value) {
  const int64_t milli = std::llround(value * 1000.0);
  const int64_t whole = milli / 1000;
  const int64_t frac = std::abs(milli % 1000);
  std::string digits = absl::StrCat(frac);
  digits.insert(0, 3 - digits.size(), '0');
  return absl::StrCat(milli < 0 && whole == 0 ? "-" : "", whole, ".", digits,
                      "%");
}

// ---------------------------------------------------------------------------
// Dates

bool HasTime(const google::protobuf::Timestamp& t) {
  return t.seconds() != 0 || t.nanos() != 0;
}

// Empty for an unset time.
std::string TimeOrEmpty(const google::protobuf::Timestamp& t) {
  return HasTime(t) ? TimeText(t) : "";
}

std::optional<Day> DayOf(const google::protobuf::Timestamp& t) {
  if (!HasTime(t)) return std::nullopt;
  return Sane(ToDay(domain::UtcDay(domain::FromTimestamp(t))));
}

// A plan date as the page draws it.
struct DateInfo {
  enum class Kind { kMissing, kDated, kAsSoonAsPossible, kOngoing };
  Kind kind = Kind::kMissing;
  Day first = 0;
  Day last = 0;
  // As written; what people are shown.
  std::string text;

  bool dated() const { return kind == Kind::kDated; }
  bool open() const {
    return kind == Kind::kAsSoonAsPossible || kind == Kind::kOngoing;
  }
};

// Never fails: a date the domain cannot read is drawn as missing but still
// shown as written.
DateInfo Resolve(bool present, const v1::PlanDate& proto) {
  DateInfo info;
  if (!present) return info;
  info.text = proto.text();
  absl::StatusOr<domain::PlanDate> date =
      domain::FromProto(domain::Twin<stored::PlanDate>(proto));
  if (!date.ok()) return info;
  if (info.text.empty()) info.text = date->text();
  switch (date->precision()) {
    case domain::PlanDate::Precision::kAsSoonAsPossible:
      info.kind = DateInfo::Kind::kAsSoonAsPossible;
      return info;
    case domain::PlanDate::Precision::kOngoing:
      info.kind = DateInfo::Kind::kOngoing;
      return info;
    default:
      break;
  }
  const std::optional<absl::CivilDay> first = date->first_day();
  const std::optional<absl::CivilDay> last = date->last_day();
  if (!first || !last) return info;
  info.kind = DateInfo::Kind::kDated;
  info.first = ToDay(*first);
  info.last = ToDay(*last);
  return info;
}

// Start and end as the plan writes them: "HT23" when both are the same
// period, "Q4 2022 – Q4 2023" for a range.
std::string RangeText(const DateInfo& start, const DateInfo& end) {
  if (start.text.empty() && end.text.empty()) return "";
  if (start.text.empty()) return absl::StrCat("by ", end.text);
  if (end.text.empty()) return absl::StrCat("from ", start.text);
  if (start.text == end.text) return start.text;
  return absl::StrCat(start.text, " \xE2\x80\x93 ", end.text);
}

// ---------------------------------------------------------------------------
// Layout

// One bar on the time axis, in days, both ends inclusive.
struct Bar {
  bool drawn = false;
  Day from = 0;
  Day to = 0;
  // "Ongoing": runs to the axis end, which is known only once every bar is.
  bool to_axis_end = false;
  // The end is not a date ("ongoing", an open "as soon as possible").
  bool fade_end = false;
  // Only one of start and end is known: a point, not a span.
  bool point = false;
  // Why the bar looks as it does, for its tooltip and label.
  std::string note;
};

struct BarContext {
  std::optional<Day> registered;
  // The day an area was closed (its last update), for an "as soon as
  // possible" end that has since been met.
  std::optional<Day> closed;
  Day today = 0;
};

// Open forms get a length that reads as "not a fixed period" without
// pretending to know one.
constexpr Day kOpenMinimumDays = 30;

Bar MakeBar(const DateInfo& start, const DateInfo& end,
            const BarContext& context) {
  Bar bar;
  if (!start.dated() && !end.dated() && !start.open() && !end.open()) {
    bar.note = "no dates";
    return bar;
  }
  bar.drawn = true;
  // Start.
  if (start.dated()) {
    bar.from = start.first;
  } else if (start.open() || end.open()) {
    bar.from =
        context.registered.value_or(end.dated() ? end.first : context.today);
    if (start.kind == DateInfo::Kind::kAsSoonAsPossible) {
      bar.note = "as soon as possible, from registration";
    }
  } else {
    // Only an end: a point at the end.
    bar.point = true;
    bar.from = bar.to = end.last;
    bar.note = "no start date";
    return bar;
  }
  // End.
  if (end.dated()) {
    bar.to = end.last;
  } else if (end.kind == DateInfo::Kind::kOngoing) {
    bar.to_axis_end = true;
    bar.fade_end = true;
    bar.note = "ongoing";
  } else if (end.kind == DateInfo::Kind::kAsSoonAsPossible) {
    if (context.closed) {
      bar.to = std::max(*context.closed, bar.from);
    } else {
      bar.to = std::max(context.today, bar.from + kOpenMinimumDays);
      bar.fade_end = true;
    }
    bar.note = "as soon as possible";
  } else {
    // Only a start: a point at the start.
    bar.point = true;
    bar.to = bar.from;
    bar.note = "no end date";
    return bar;
  }
  if (!bar.to_axis_end && bar.to < bar.from) {
    // Registered after an end that was already set: keep the end's period.
    bar.from = end.dated() ? std::min(end.first, bar.to) : bar.to;
  }
  return bar;
}

struct Axis {
  Day first = 0;
  Day last = 0;

  double X(Day day) const {
    const double span = static_cast<double>(last + 1 - first);
    return 100.0 * static_cast<double>(day - first) / span;
  }
  // Left edge and width of days [from, to], clipped to the axis.
  std::string Span(Day from, Day to) const {
    from = std::clamp(from, first, last);
    to = std::clamp(to, from, last);
    return absl::StrCat("left:", Percent(X(from)),
                        ";width:", Percent(X(to + 1) - X(from)));
  }
  std::string At(Day day) const {
    return absl::StrCat("left:", Percent(X(std::clamp(day, first, last))));
  }
};

Day HalfYearStart(Day day) {
  const absl::CivilDay civil = FromDay(day);
  return ToDay(absl::CivilDay(civil.year(), civil.month() <= 6 ? 1 : 7, 1));
}

Day HalfYearEnd(Day day) {
  const absl::CivilDay civil = FromDay(day);
  return civil.month() <= 6 ? ToDay(absl::CivilDay(civil.year(), 6, 30))
                            : ToDay(absl::CivilDay(civil.year(), 12, 31));
}

// Spans every date drawn with some air, snapped to terms so the axis starts
// and ends on a tick.
Axis MakeAxis(const std::vector<Day>& days, Day today) {
  Day lo = today;
  Day hi = today;
  for (Day day : days) {
    lo = std::min(lo, day);
    hi = std::max(hi, day);
  }
  constexpr Day kMargin = 45;
  Axis axis;
  axis.first = HalfYearStart(lo - kMargin);
  axis.last = HalfYearEnd(hi + kMargin);
  return axis;
}

// The midpoint of a decision's period: a decision "in April 2023" is drawn
// in the middle of April.
std::optional<Day> DecisionDay(const v1::DecisionState& decision) {
  const DateInfo date =
      Resolve(decision.has_decided_on(), decision.decided_on());
  if (!date.dated()) return std::nullopt;
  return date.first + (date.last - date.first) / 2;
}

struct AreaView {
  const v1::AreaState* area = nullptr;
  // Index in the embedded data's "areas", which the script looks up.
  int index = 0;
  DateInfo planned_start;
  DateInfo planned_end;
  DateInfo baseline_start;
  DateInfo baseline_end;
  Bar current;
  Bar baseline;
  std::optional<int64_t> slip_days;
  bool overdue = false;
  std::vector<const v1::DecisionState*> decisions;
};

AreaView MakeView(const v1::AreaState& area, absl::CivilDay today) {
  AreaView view;
  view.area = &area;
  view.planned_start = Resolve(area.has_planned_start(), area.planned_start());
  view.planned_end = Resolve(area.has_planned_end(), area.planned_end());
  view.baseline_start =
      Resolve(area.has_baseline_start(), area.baseline_start());
  view.baseline_end = Resolve(area.has_baseline_end(), area.baseline_end());
  BarContext context;
  context.registered = DayOf(area.registered_at());
  if (area.closed()) context.closed = DayOf(area.updated_at());
  context.today = Sane(ToDay(today));
  view.current = MakeBar(view.planned_start, view.planned_end, context);
  view.baseline = MakeBar(view.baseline_start, view.baseline_end, context);
  // The plan's own predicates, on the state as stored.
  const stored::AreaState as_stored = domain::Twin<stored::AreaState>(area);
  view.slip_days = domain::SlipDaysAgainstBaseline(as_stored);
  view.overdue = domain::IsOverdue(as_stored, today);
  return view;
}

struct Group {
  std::string support_area;
  std::vector<AreaView> areas;
};

// Support areas in natural order, areas without one last; each group's areas
// by id in natural order.
std::vector<Group> GroupAreas(const TimelineInput& input) {
  std::vector<Group> groups;
  for (const v1::AreaState& area : input.areas) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.support_area == area.support_area();
    });
    if (it == groups.end()) {
      groups.push_back(Group{area.support_area(), {}});
      it = groups.end() - 1;
    }
    it->areas.push_back(MakeView(area, input.today));
  }
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    if (a.support_area.empty() != b.support_area.empty()) {
      return b.support_area.empty();
    }
    return domain::NaturalLess(a.support_area, b.support_area);
  });
  int index = 0;
  for (Group& group : groups) {
    std::stable_sort(group.areas.begin(), group.areas.end(),
                     [](const AreaView& a, const AreaView& b) {
                       return domain::NaturalLess(a.area->area_id(),
                                                  b.area->area_id());
                     });
    for (AreaView& view : group.areas) view.index = index++;
  }
  // A plan decision may name every area of a plan with thousands.
  std::map<std::string, std::vector<AreaView*>> by_id;
  for (Group& group : groups) {
    for (AreaView& view : group.areas) {
      by_id[view.area->area_id()].push_back(&view);
    }
  }
  for (const v1::DecisionState& decision : input.decisions) {
    std::set<std::string> named(decision.area_ids().begin(),
                                decision.area_ids().end());
    for (const std::string& id : named) {
      auto it = by_id.find(id);
      if (it == by_id.end()) continue;
      for (AreaView* view : it->second) view->decisions.push_back(&decision);
    }
  }
  return groups;
}

// Every day a bar, a decision or today puts on the axis.
std::vector<Day> DrawnDays(const std::vector<Group>& groups,
                           const TimelineInput& input) {
  std::vector<Day> days;
  for (const Group& group : groups) {
    for (const AreaView& view : group.areas) {
      for (const Bar* bar : {&view.current, &view.baseline}) {
        if (!bar->drawn) continue;
        days.push_back(bar->from);
        if (!bar->to_axis_end) days.push_back(bar->to);
      }
    }
  }
  // Only decisions drawn on a row: one naming no area here stays in the
  // table without stretching the axis.
  for (const Group& group : groups) {
    for (const AreaView& view : group.areas) {
      for (const v1::DecisionState* decision : view.decisions) {
        if (std::optional<Day> day = DecisionDay(*decision)) {
          days.push_back(*day);
        }
      }
    }
  }
  return days;
}

// ---------------------------------------------------------------------------
// Data

Json DecisionJson(const v1::DecisionState& decision) {
  Json out = Json::object();
  out["id"] = decision.decision_id();
  out["reference"] = decision.reference();
  out["body"] = decision.body();
  out["decided_on"] = decision.decided_on().text();
  out["title"] = decision.title();
  out["outcome"] = decision.outcome();
  out["area_ids"] = Json::array();
  for (const std::string& id : decision.area_ids()) {
    out["area_ids"].push_back(id);
  }
  out["other_plan_areas"] = Json::array();
  for (const v1::AreaRef& other : decision.other_plan_areas()) {
    out["other_plan_areas"].push_back(
        Json{{"plan_id", other.plan_id()}, {"area_id", other.area_id()}});
  }
  out["recorded_at"] = TimeOrEmpty(decision.recorded_at());
  out["recorded_by"] = decision.recorded_by();
  return out;
}

// Decision id -> its registry reference, which is what people cite.
using References = std::map<std::string, std::string>;

References DecisionReferences(const TimelineInput& input) {
  References references;
  for (const v1::DecisionState& decision : input.decisions) {
    if (!decision.reference().empty()) {
      references[decision.decision_id()] = decision.reference();
    }
  }
  return references;
}

Json HistoryJson(const v1::HistoryEntry& entry, const References& references) {
  Json out = Json::object();
  out["position"] = entry.position();
  out["date"] = entry.business_date().text();
  out["recorded_at"] = TimeOrEmpty(entry.recorded_at());
  out["actor"] = entry.actor();
  out["type"] = Humanize(entry.event_type());
  out["changes"] = Json::array();
  for (const v1::FieldChange& change : entry.changes()) {
    out["changes"].push_back(absl::StrCat(
        domain::FieldWords(change.field()), ": ",
        change.before().empty() ? "(none)" : change.before(), " -> ",
        change.after().empty() ? "(none)" : change.after()));
  }
  out["reason"] = entry.reason();
  out["text"] = entry.text();
  auto reference = references.find(entry.decision_id());
  out["decision"] =
      reference != references.end() ? reference->second : entry.decision_id();
  out["corrected_by"] = Json::array();
  for (uint64_t position : entry.corrected_by()) {
    out["corrected_by"].push_back(position);
  }
  out["corrects"] = entry.corrects_position();
  if (entry.redaction().redacted()) {
    const v1::Redaction& redaction = entry.redaction();
    out["redacted"] =
        redaction.actor().empty()
            ? std::string("Redacted: its free text is gone")
            : absl::StrCat("Redacted by ", redaction.actor(), " on ",
                           TimeOrEmpty(redaction.recorded_at()).substr(0, 10),
                           " (#", redaction.position(),
                           "), reason: ", redaction.reason());
  }
  return out;
}

Json AreaJson(const AreaView& view, const TimelineInput& input,
              const References& references) {
  const v1::AreaState& area = *view.area;
  Json out = Json::object();
  out["id"] = area.area_id();
  out["title"] = area.title();
  out["support_area"] = area.support_area();
  out["group"] = area.group();
  out["rationale"] = area.rationale();
  out["desired_effect"] = area.desired_effect();
  out["participating_units"] = Json::array();
  for (const std::string& unit : area.participating_units()) {
    out["participating_units"].push_back(unit);
  }
  out["responsible_units"] = Json::array();
  for (const std::string& unit : area.responsible_units()) {
    out["responsible_units"].push_back(unit);
  }
  out["planned"] = RangeText(view.planned_start, view.planned_end);
  out["baseline"] = RangeText(view.baseline_start, view.baseline_end);
  out["previous"] =
      RangeText(Resolve(area.has_previous_start(), area.previous_start()),
                Resolve(area.has_previous_end(), area.previous_end()));
  out["schedule_revisions"] = area.schedule_revisions();
  out["phase"] = PhaseText(area.phase());
  out["health"] = HealthText(area.health());
  out["closed"] = area.closed();
  out["outcome"] = area.closed() ? OutcomeText(area) : "";
  out["outcome_text"] = area.outcome_text();
  out["slip_days"] = view.slip_days ? Json(*view.slip_days) : Json();
  out["overdue"] = view.overdue;
  if (area.has_latest_report()) {
    const v1::StatusReport& report = area.latest_report();
    out["report"] = {
        {"reported_on", report.reported_on().text()},
        {"narrative", report.narrative()},
        {"next_due", report.next_report_due().text()},
        {"count", area.status_reports()},
    };
  }
  out["dependencies"] = Json::array();
  for (const v1::Dependency& dependency : area.dependencies()) {
    out["dependencies"].push_back(DependencyText(dependency));
  }
  out["decisions"] = Json::array();
  for (const v1::DecisionState* decision : view.decisions) {
    out["decisions"].push_back(decision->decision_id());
  }
  out["registered"] = absl::StrCat(TimeOrEmpty(area.registered_at()),
                                   area.registered_by().empty() ? "" : " by ",
                                   area.registered_by());
  out["updated"] =
      absl::StrCat(TimeOrEmpty(area.updated_at()),
                   area.updated_by().empty() ? "" : " by ", area.updated_by());
  out["history"] = Json::array();
  auto history = input.histories.find(area.area_id());
  if (history != input.histories.end()) {
    std::vector<const v1::HistoryEntry*> entries;
    for (const v1::HistoryEntry& entry : history->second) {
      entries.push_back(&entry);
    }
    // Newest first: the log's position is the order things happened in.
    std::stable_sort(entries.begin(), entries.end(),
                     [](const v1::HistoryEntry* a, const v1::HistoryEntry* b) {
                       return a->position() > b->position();
                     });
    for (const v1::HistoryEntry* entry : entries) {
      out["history"].push_back(HistoryJson(*entry, references));
    }
  }
  return out;
}

std::string DataJson(const std::vector<Group>& groups,
                     const TimelineInput& input) {
  try {
    Json data = Json::object();
    data["title"] = input.title;
    data["today"] = absl::FormatCivilTime(input.today);
    data["generated_at"] = absl::FormatTime(
        "%Y-%m-%d %H:%M:%S UTC", input.generated_at, absl::UTCTimeZone());
    data["position"] = input.position;
    data["areas"] = Json::array();
    const References references = DecisionReferences(input);
    for (const Group& group : groups) {
      for (const AreaView& view : group.areas) {
        data["areas"].push_back(AreaJson(view, input, references));
      }
    }
    data["decisions"] = Json::array();
    for (const v1::DecisionState& decision : input.decisions) {
      data["decisions"].push_back(DecisionJson(decision));
    }
    // Invalid UTF-8 in a plan's text becomes U+FFFD instead of an error.
    return ForScript(data.dump(-1, ' ', false, Json::error_handler_t::replace));
  } catch (const Json::exception&) {
    // Not expected (dump replaces bad UTF-8); the page still draws and the
    // script reports the empty data.
    return "{}";
  }
}

// ---------------------------------------------------------------------------
// Markup

struct Counts {
  int areas = 0;
  int open = 0;
  int on_track = 0;
  int at_risk = 0;
  int off_track = 0;
  int unreported = 0;
  int slipped = 0;
  int overdue = 0;
};

Counts Count(const std::vector<AreaView>& views) {
  Counts counts;
  for (const AreaView& view : views) {
    ++counts.areas;
    if (view.slip_days && *view.slip_days > 0) ++counts.slipped;
    if (view.area->closed()) continue;
    ++counts.open;
    if (view.overdue) ++counts.overdue;
    switch (view.area->health()) {
      case v1::HEALTH_ON_TRACK:
        ++counts.on_track;
        break;
      case v1::HEALTH_AT_RISK:
        ++counts.at_risk;
        break;
      case v1::HEALTH_OFF_TRACK:
        ++counts.off_track;
        break;
      default:
        ++counts.unreported;
    }
  }
  return counts;
}

std::string Plural(int n, absl::string_view one, absl::string_view many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

std::string SummaryHtml(const Counts& c, size_t support_areas) {
  auto item = [](absl::string_view cls, int value, absl::string_view label) {
    return absl::StrCat("<div class=\"stat ", cls, "\"><dt>", label,
                        "</dt><dd>", value, "</dd></div>");
  };
  return absl::StrCat(
      "<dl class=\"summary\">", item("", c.areas, "Areas"),
      item("", static_cast<int>(support_areas), "Support areas"),
      item("", c.open, "Open"), item("s-on", c.on_track, "On track"),
      item("s-risk", c.at_risk, "At risk"),
      item("s-off", c.off_track, "Off track"),
      item("s-unknown", c.unreported, "Unknown"),
      item("s-slip", c.slipped, "Slipped"),
      item("s-overdue", c.overdue, "Overdue"), "</dl>");
}

std::string LegendHtml() {
  return R"html(<section class="legend" aria-label="Legend">
<span class="key"><i class="sw bar h-on"></i>On track</span>
<span class="key"><i class="sw bar h-risk"></i>At risk</span>
<span class="key"><i class="sw bar h-off"></i>Off track</span>
<span class="key"><i class="sw bar h-unknown"></i>Unknown / not reported</span>
<span class="key"><i class="sw bar h-on closed"></i>Closed (completed or cancelled)</span>
<span class="key"><i class="sw baseline-sw"></i>Baseline (first plan)</span>
<span class="key"><i class="sw slip-sw"></i>Slip past baseline end</span>
<span class="key"><i class="sw bar h-on fade-end"></i>Ongoing / open end</span>
<span class="key"><i class="sw point-sw"></i>Single date only</span>
<span class="key"><i class="sw decision-sw"></i>Decision</span>
<span class="key"><i class="sw today-sw"></i>Today</span>
</section>
)html";
}

// Years on one line, terms (VT January-June, HT July-December) on the
// other; quarter lines only where they still leave room.
std::string AxisHtml(const Axis& axis, Day today) {
  const int first_year = static_cast<int>(FromDay(axis.first).year());
  const int last_year = static_cast<int>(FromDay(axis.last).year());
  const int years = last_year - first_year + 1;
  std::string labels;
  std::string lines;
  for (int year = first_year; year <= last_year; ++year) {
    const Day start = std::max(axis.first, ToDay(absl::CivilDay(year, 1, 1)));
    const Day end = std::min(axis.last, ToDay(absl::CivilDay(year, 12, 31)));
    absl::StrAppend(&labels, "<span class=\"tick-year\" style=\"",
                    axis.Span(start, end), "\">", year, "</span>");
    if (start > axis.first) {
      absl::StrAppend(&lines, "<i class=\"gl gl-year\" style=\"",
                      axis.At(start), "\"></i>");
    }
    for (int half = 0; half < 2 && years <= 40; ++half) {
      const Day term_start = ToDay(absl::CivilDay(year, half == 0 ? 1 : 7, 1));
      const Day term_end = half == 0 ? ToDay(absl::CivilDay(year, 6, 30))
                                     : ToDay(absl::CivilDay(year, 12, 31));
      if (term_end < axis.first || term_start > axis.last) continue;
      const int yy = year % 100;
      absl::StrAppend(&labels, "<span class=\"tick-term\" style=\"",
                      axis.Span(term_start, term_end), "\">",
                      half == 0 ? "VT" : "HT", yy < 10 ? "0" : "", yy,
                      "</span>");
      if (half == 1) {
        absl::StrAppend(&lines, "<i class=\"gl gl-term\" style=\"",
                        axis.At(term_start), "\"></i>");
      }
    }
    for (int month : {4, 10}) {
      const Day quarter = ToDay(absl::CivilDay(year, month, 1));
      if (years > 8 || quarter <= axis.first || quarter > axis.last) continue;
      absl::StrAppend(&lines, "<i class=\"gl gl-quarter\" style=\"",
                      axis.At(quarter), "\"></i>");
    }
  }
  const bool near_end = axis.X(today) > 88.0;
  std::string out = absl::StrCat(
      "<div class=\"grid-layer\" aria-hidden=\"true\">", lines, "</div>\n",
      "<div class=\"axis-row\"><div class=\"names\"><span>Area</span>"
      "<span class=\"names-sub\">status \xC2\xB7 planned (as written)"
      "</span></div><div class=\"track axis\">",
      labels, "<i class=\"today-tick\" style=\"", axis.At(today), "\"></i>",
      "<span class=\"today-label", near_end ? " flip" : "", "\" style=\"",
      axis.At(today), "\">Today ", IsoDay(today), "</span></div></div>\n");
  return out;
}

std::string GroupRowHtml(const Group& group) {
  const Counts c = Count(group.areas);
  std::vector<std::string> facts = {Plural(c.areas, "area", "areas")};
  if (c.off_track > 0) facts.push_back(absl::StrCat(c.off_track, " off track"));
  if (c.at_risk > 0) facts.push_back(absl::StrCat(c.at_risk, " at risk"));
  if (c.slipped > 0) facts.push_back(absl::StrCat(c.slipped, " slipped"));
  if (c.overdue > 0) facts.push_back(absl::StrCat(c.overdue, " overdue"));
  const std::string name =
      group.support_area.empty() ? "No support area" : group.support_area;
  return absl::StrCat(
      "<div class=\"group-row\" role=\"heading\" aria-level=\"2\" "
      "data-support-area=\"",
      Html(group.support_area),
      "\"><div class=\"names\"><span class=\"gname\">", Html(name),
      "</span><span class=\"gfacts\">",
      Html(absl::StrJoin(facts, " \xC2\xB7 ")),
      "</span></div><div class=\"track\"></div></div>\n");
}

std::string DecisionTip(const v1::DecisionState& decision) {
  std::vector<std::string> lines;
  lines.push_back(absl::StrCat("Decision ",
                               decision.reference().empty()
                                   ? decision.decision_id()
                                   : decision.reference(),
                               decision.decided_on().text().empty() ? "" : ", ",
                               decision.decided_on().text()));
  if (!decision.body().empty()) lines.push_back(decision.body());
  if (!decision.title().empty()) lines.push_back(decision.title());
  if (!decision.outcome().empty()) lines.push_back(decision.outcome());
  return absl::StrJoin(lines, "\n");
}

std::string BarTip(const AreaView& view) {
  const v1::AreaState& area = *view.area;
  std::vector<std::string> lines;
  lines.push_back(absl::StrCat(area.area_id(), " ", area.title()));
  const std::string planned = RangeText(view.planned_start, view.planned_end);
  const std::string baseline =
      RangeText(view.baseline_start, view.baseline_end);
  if (!planned.empty()) lines.push_back(absl::StrCat("Planned: ", planned));
  if (!baseline.empty() && baseline != planned) {
    lines.push_back(absl::StrCat("Baseline: ", baseline));
  }
  if (view.slip_days && *view.slip_days != 0) {
    lines.push_back(absl::StrCat(*view.slip_days > 0 ? "+" : "",
                                 *view.slip_days, " days against baseline"));
  }
  if (!view.current.note.empty()) lines.push_back(view.current.note);
  lines.push_back(area.closed() ? OutcomeText(area)
                                : absl::StrCat(PhaseText(area.phase()), ", ",
                                               HealthText(area.health())));
  return absl::StrJoin(lines, "\n");
}

std::string NamesHtml(const AreaView& view) {
  const v1::AreaState& area = *view.area;
  const std::string planned = RangeText(view.planned_start, view.planned_end);
  const std::string baseline =
      RangeText(view.baseline_start, view.baseline_end);
  std::string status =
      area.closed()
          ? absl::StrCat("<span class=\"badge closed\">", OutcomeText(area),
                         "</span>")
          : absl::StrCat("<span class=\"badge ", HealthClass(area.health()),
                         "\">", HealthText(area.health()), "</span>");
  std::vector<std::string> meta;
  if (!area.closed() && area.phase() != v1::PHASE_UNSPECIFIED) {
    meta.push_back(Html(PhaseText(area.phase())));
  }
  meta.push_back(absl::StrCat(
      "<span class=\"dates\">",
      planned.empty() ? "no planned dates" : Html(planned), "</span>"));
  if (!baseline.empty() && baseline != planned) {
    meta.push_back(absl::StrCat("<span class=\"base\">baseline ",
                                Html(baseline), "</span>"));
  }
  if (view.overdue) meta.push_back("<span class=\"flag\">overdue</span>");
  return absl::StrCat(
      "<div class=\"names\"><div class=\"l1\"><span class=\"aid\">",
      Html(area.area_id().empty() ? "(no id)" : area.area_id()),
      "</span><span class=\"atitle\"",
      // Long titles are cut to one line; the tooltip has the rest.
      area.title().size() > 50
          ? absl::StrCat(" data-tip=\"", Html(area.title()), "\"")
          : "",
      ">", Html(area.title()), "</span></div><div class=\"l2\">", status,
      absl::StrJoin(meta, "<span class=\"sep\"> \xC2\xB7 </span>"),
      "</div></div>");
}

std::string TrackHtml(const AreaView& view, const Axis& axis) {
  const v1::AreaState& area = *view.area;
  std::string out = "<div class=\"track\">";
  const Bar& base = view.baseline;
  if (base.drawn && !base.point) {
    absl::StrAppend(
        &out, "<i class=\"baseline", base.fade_end ? " fade-end" : "",
        "\" style=\"",
        axis.Span(base.from, base.to_axis_end ? axis.last : base.to),
        "\"></i>");
  }
  const Bar& bar = view.current;
  const bool slipped = view.slip_days && *view.slip_days > 0;
  if (slipped) {
    absl::StrAppend(
        &out, "<i class=\"slip\" style=\"",
        axis.Span(view.baseline_end.last + 1, view.planned_end.last),
        "\"></i>");
  }
  std::vector<std::string> label;
  if (slipped) {
    label.push_back(absl::StrCat("<b class=\"slip-days\">+", *view.slip_days,
                                 "\xC2\xA0"
                                 "d</b>"));
  }
  if (area.closed()) label.push_back(Html(OutcomeText(area)));
  if (view.overdue) label.push_back("<b class=\"overdue\">overdue</b>");
  Day label_at = axis.first;
  if (bar.drawn) {
    std::string classes = absl::StrCat(
        HealthClass(area.health()), area.closed() ? " closed" : "",
        area.outcome() == v1::OUTCOME_CANCELLED ? " cancelled" : "",
        bar.fade_end ? " fade-end" : "");
    const std::string tip = Html(BarTip(view));
    if (bar.point) {
      absl::StrAppend(&out, "<i class=\"point ", classes, "\" style=\"",
                      axis.At(bar.from), "\" data-tip=\"", tip, "\"></i>");
      label.push_back(Html(bar.note));
      label_at = bar.from;
    } else {
      const Day to = bar.to_axis_end ? axis.last : bar.to;
      absl::StrAppend(&out, "<i class=\"bar ", classes, "\" style=\"",
                      axis.Span(bar.from, to), "\" data-tip=\"", tip,
                      "\"></i>");
      // An ongoing bar's fade says enough; an open "as soon as possible"
      // needs the words.
      if (bar.fade_end && !bar.to_axis_end) label.push_back(Html(bar.note));
      label_at = to + 1;
      if (slipped) label_at = std::max(label_at, view.planned_end.last + 1);
    }
  } else {
    label.push_back("no planned dates");
  }
  for (const v1::DecisionState* decision : view.decisions) {
    const std::optional<Day> day = DecisionDay(*decision);
    if (!day) continue;
    absl::StrAppend(&out, "<i class=\"decision\" style=\"", axis.At(*day),
                    "\" data-tip=\"", Html(DecisionTip(*decision)), "\"></i>");
  }
  if (!label.empty()) {
    // Near the axis end the label goes before the bar, so it stays visible.
    const bool flip = bar.drawn && axis.X(label_at) > 86.0;
    const Day at = flip ? bar.from : label_at;
    absl::StrAppend(&out, "<span class=\"lbl", flip ? " flip" : "",
                    bar.point ? " after-point" : "", "\" style=\"", axis.At(at),
                    "\">", absl::StrJoin(label, " \xC2\xB7 "), "</span>");
  }
  absl::StrAppend(&out, "</div>");
  return out;
}

std::string AreaRowHtml(const AreaView& view, const Axis& axis) {
  const v1::AreaState& area = *view.area;
  return absl::StrCat(
      "<div class=\"area-row", area.closed() ? " is-closed" : "",
      "\" data-area-id=\"", Html(area.area_id()), "\" data-index=\"",
      view.index,
      "\" tabindex=\"0\" role=\"button\" aria-haspopup=\"dialog\" "
      "aria-label=\"",
      Html(absl::StrCat("Area ", area.area_id(), ": ", area.title(),
                        ". Open details")),
      "\">", NamesHtml(view), TrackHtml(view, axis), "</div>\n");
}

std::string DecisionsHtml(const TimelineInput& input) {
  if (input.decisions.empty()) return "";
  std::vector<const v1::DecisionState*> decisions;
  for (const v1::DecisionState& decision : input.decisions) {
    decisions.push_back(&decision);
  }
  std::stable_sort(
      decisions.begin(), decisions.end(),
      [](const v1::DecisionState* a, const v1::DecisionState* b) {
        const Day da =
            DecisionDay(*a).value_or(std::numeric_limits<Day>::max());
        const Day db =
            DecisionDay(*b).value_or(std::numeric_limits<Day>::max());
        if (da != db) return da < db;
        return domain::NaturalLess(a->reference(), b->reference());
      });
  std::string rows;
  for (const v1::DecisionState* d : decisions) {
    std::vector<std::string> ids(d->area_ids().begin(), d->area_ids().end());
    std::sort(ids.begin(), ids.end(),
              [](const std::string& a, const std::string& b) {
                return domain::NaturalLess(a, b);
              });
    // Areas of other plans by their names, after the plan's own.
    for (const v1::AreaRef& other : d->other_plan_areas()) {
      ids.push_back(
          absl::StrCat("plans/", other.plan_id(), "/areas/", other.area_id()));
    }
    absl::StrAppend(
        &rows, "<tr><td class=\"nowrap\">", Html(d->decided_on().text()),
        "</td><td class=\"nowrap\">",
        Html(d->reference().empty() ? d->decision_id() : d->reference()),
        "</td><td>", Html(d->body()), "</td><td>", Html(d->title()),
        "</td><td>", Html(d->outcome()), "</td><td>",
        Html(absl::StrJoin(ids, ", ")), "</td></tr>\n");
  }
  return absl::StrCat(
      "<section class=\"decisions\" aria-labelledby=\"decisions-h\">"
      "<h2 id=\"decisions-h\">Decisions</h2><table><thead><tr><th>Decided"
      "</th><th>Reference</th><th>Body</th><th>Title</th><th>Outcome</th>"
      "<th>Areas</th></tr></thead><tbody>\n",
      rows, "</tbody></table></section>\n");
}

// The track gets at least ~110 px a year so terms stay legible; a long plan
// scrolls sideways rather than squeezing.
int TrackMinWidth(const Axis& axis) {
  const double years = static_cast<double>(axis.last + 1 - axis.first) / 365.25;
  return std::clamp(static_cast<int>(years * 110.0), 640, 24000);
}

std::string PageHtml(const TimelineInput& input,
                     const std::vector<Group>& groups) {
  std::vector<AreaView> all;
  for (const Group& group : groups) {
    all.insert(all.end(), group.areas.begin(), group.areas.end());
  }
  const Day today = Sane(ToDay(input.today));
  const Axis axis = MakeAxis(DrawnDays(groups, input), today);
  const std::string title =
      input.title.empty() ? "Development plan" : input.title;
  const std::string generated = absl::FormatTime(
      "%Y-%m-%d %H:%M UTC", input.generated_at, absl::UTCTimeZone());

  std::string out;
  out.reserve(64 * 1024 + all.size() * 2048);
  absl::StrAppend(
      &out,
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<meta name=\"generator\" content=\"plantrail\">\n"
      "<title>",
      Html(title), " \xE2\x80\x94 timeline</title>\n<style>\n",
      assets::TimelineCss(), "</style>\n</head>\n<body>\n");
  absl::StrAppend(&out, "<header class=\"page-head\"><div><h1>", Html(title),
                  "</h1><p class=\"sub\">Timeline as of ", IsoDay(today),
                  " \xC2\xB7 log position ", input.position,
                  " \xC2\xB7 generated ", Html(generated), "</p></div>",
                  SummaryHtml(Count(all), groups.size()), "</header>\n");
  absl::StrAppend(
      &out,
      "<div class=\"toolbar\"><input type=\"search\" id=\"filter\" "
      "placeholder=\"Filter by id, title, unit or status\" "
      "aria-label=\"Filter areas\"><span id=\"shown\" aria-live=\"polite\">"
      "</span><span style=\"flex:1\"></span><button type=\"button\" "
      "id=\"print\">Print</button></div>\n",
      LegendHtml());
  absl::StrAppend(&out,
                  "<div class=\"scroller\" id=\"scroller\"><div class=\"rows\" "
                  "style=\"--track-min:",
                  TrackMinWidth(axis), "px\">\n", AxisHtml(axis, today));
  for (const Group& group : groups) {
    absl::StrAppend(&out, GroupRowHtml(group));
    for (const AreaView& view : group.areas) {
      absl::StrAppend(&out, AreaRowHtml(view, axis));
    }
  }
  if (all.empty()) {
    absl::StrAppend(&out,
                    "<p class=\"empty\" style=\"padding:16px\">The plan has no "
                    "areas.</p>\n");
  }
  absl::StrAppend(&out,
                  "<div class=\"today-layer\" aria-hidden=\"true\"><i "
                  "class=\"today-line\" style=\"",
                  axis.At(today), "\"></i></div>\n</div></div>\n");
  absl::StrAppend(&out, DecisionsHtml(input));
  absl::StrAppend(
      &out, "<footer><p>Report generated by plantrail on ", Html(generated),
      " from log position ", input.position, "; today is taken as ",
      IsoDay(today),
      ".</p><p>Bars run from the first day of the planned start's period to "
      "the last day of the planned end's period (VT = January\xE2\x80\x93June, "
      "HT = July\xE2\x80\x93"
      "December). The baseline is the first plan ever "
      "set; slip is counted in days between the baseline end and the planned "
      "end.</p></footer>\n");
  absl::StrAppend(
      &out,
      "<aside id=\"panel\" class=\"panel\" role=\"dialog\" "
      "aria-labelledby=\"panel-title\" tabindex=\"-1\" hidden><div "
      "class=\"panel-head\"><h2 id=\"panel-title\"></h2><button "
      "type=\"button\" class=\"panel-close\" id=\"panel-close\" "
      "aria-label=\"Close details\">\xC3\x97</button></div><div "
      "class=\"panel-body\" id=\"panel-body\"></div></aside>\n"
      "<div id=\"tip\" class=\"tip\" role=\"tooltip\" hidden></div>\n");
  absl::StrAppend(&out,
                  "<script type=\"application/json\" id=\"plantrail-data\">",
                  DataJson(groups, input), "</script>\n<script>\n",
                  assets::TimelineJs(), "</script>\n</body>\n</html>\n");
  return out;
}

}  // namespace

std::string EscapeHtml(absl::string_view text) { return Html(text); }

std::string RenderTimelineHtml(const TimelineInput& input) {
  return PageHtml(input, GroupAreas(input));
}

}  // namespace plantrail::cli
