#include "clients/cli/timeline_html.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "domain/plan_date.h"
#include "domain/plan_date_proto.h"
#include "domain/stored_twin.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace plantrail::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::CivilDay kToday(2024, 5, 14);

v1::PlanDate Date(absl::string_view text) {
  absl::StatusOr<domain::PlanDate> date = domain::PlanDate::Parse(text);
  EXPECT_TRUE(date.ok()) << date.status();
  return date.ok() ? domain::Twin<v1::PlanDate>(domain::ToProto(*date))
                   : v1::PlanDate();
}

google::protobuf::Timestamp At(absl::CivilDay day) {
  google::protobuf::Timestamp t;
  t.set_seconds(absl::ToUnixSeconds(absl::FromCivil(day, absl::UTCTimeZone())));
  return t;
}

// Planned dates as a plan writes them; the baseline is the same unless given.
void SetDates(v1::AreaState& area, absl::string_view planned,
              absl::string_view baseline = "") {
  auto set = [](absl::string_view text, v1::PlanDate* start,
                v1::PlanDate* end) {
    absl::StatusOr<domain::PlanRange> range = domain::ParsePlanRange(text);
    ASSERT_TRUE(range.ok()) << range.status();
    if (range->start) {
      *start = domain::Twin<v1::PlanDate>(domain::ToProto(*range->start));
    }
    if (range->end) {
      *end = domain::Twin<v1::PlanDate>(domain::ToProto(*range->end));
    }
  };
  set(planned, area.mutable_planned_start(), area.mutable_planned_end());
  set(baseline.empty() ? planned : baseline, area.mutable_baseline_start(),
      area.mutable_baseline_end());
}

v1::AreaState Area(absl::string_view id, absl::string_view support_area,
                   absl::string_view title, absl::string_view planned = "",
                   absl::string_view baseline = "") {
  v1::AreaState area;
  area.set_area_id(std::string(id));
  area.set_support_area(std::string(support_area));
  area.set_title(std::string(title));
  area.set_phase(v1::PHASE_IN_PROGRESS);
  area.set_health(v1::HEALTH_ON_TRACK);
  *area.mutable_registered_at() = At(absl::CivilDay(2023, 4, 5));
  area.set_registered_by("import");
  if (!planned.empty()) SetDates(area, planned, baseline);
  return area;
}

TimelineInput Input(std::vector<v1::AreaState> areas) {
  TimelineInput input;
  input.title = "Test plan";
  input.areas = std::move(areas);
  input.today = kToday;
  input.generated_at = absl::FromCivil(absl::CivilSecond(2024, 5, 14, 9, 30, 0),
                                       absl::UTCTimeZone());
  input.position = 4711;
  return input;
}

int Count(absl::string_view text, absl::string_view needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

// The values of `attribute="..."` in page order.
std::vector<std::string> AttributeValues(absl::string_view page,
                                         absl::string_view attribute) {
  std::vector<std::string> values;
  const std::string needle = absl::StrCat(" ", attribute, "=\"");
  for (size_t at = page.find(needle); at != absl::string_view::npos;
       at = page.find(needle, at + 1)) {
    const size_t start = at + needle.size();
    values.emplace_back(page.substr(start, page.find('"', start) - start));
  }
  return values;
}

// The text of the embedded data element.
std::string DataText(absl::string_view page) {
  constexpr absl::string_view kOpen =
      "<script type=\"application/json\" id=\"plantrail-data\">";
  const size_t start = page.find(kOpen);
  if (start == absl::string_view::npos) return "";
  const size_t from = start + kOpen.size();
  const size_t end = page.find("</script>", from);
  if (end == absl::string_view::npos) return "";
  return std::string(page.substr(from, end - from));
}

// The embedded data, parsed as the page's script would.
nlohmann::json Data(absl::string_view page) {
  return nlohmann::json::parse(DataText(page), nullptr,
                               /*allow_exceptions=*/false);
}

TEST(TimelineHtmlTest, IsOneCompletePage) {
  const std::string page =
      RenderTimelineHtml(Input({Area("1", "A", "One", "HT23")}));
  EXPECT_TRUE(absl::StartsWith(page, "<!DOCTYPE html>"));
  EXPECT_THAT(page, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(page, HasSubstr("<title>Test plan"));
  EXPECT_THAT(page, HasSubstr("body.dataset.rendered = 'true'"));
  EXPECT_THAT(page, HasSubstr("window.onerror"));
  // Rows are reachable and open from the keyboard.
  EXPECT_THAT(page, HasSubstr("data-area-id=\"1\" data-index=\"0\" "
                              "tabindex=\"0\" role=\"button\""));
  EXPECT_THAT(page, HasSubstr("e.key === 'Enter'"));
  EXPECT_THAT(page, HasSubstr("generated by plantrail"));
  EXPECT_THAT(page, HasSubstr("2024-05-14 09:30 UTC"));
  EXPECT_THAT(page, HasSubstr("log position 4711"));
  EXPECT_TRUE(absl::EndsWith(page, "</html>\n"));
  const nlohmann::json data = Data(page);
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["position"], 4711);
  EXPECT_EQ(data["today"], "2024-05-14");
}

TEST(TimelineHtmlTest, OneRowPerAreaGroupedBySupportAreaInNaturalOrder) {
  const std::string page = RenderTimelineHtml(Input({
      Area("3.10.1", "3.10 IT", "Nätverk", "HT23"),
      Area("3.2.1", "3.2 Forskning", "Forskningsdata", "VT24"),
      Area("3.1.10", "3.1 Utbildning", "Tio", "2024"),
      Area("3.1.2", "3.1 Utbildning", "Två", "Q4 2023"),
      Area("3.1.9", "3.1 Utbildning", "Nio", "april 2024"),
      Area("x", "", "Utan stödområde", "2024"),
      Area("3.2.0", "3.2 Forskning", "Noll", "2024-03-01"),
  }));
  EXPECT_EQ(Count(page, "class=\"area-row"), 7);
  EXPECT_THAT(AttributeValues(page, "data-support-area"),
              ElementsAre("3.1 Utbildning", "3.2 Forskning", "3.10 IT", ""));
  EXPECT_THAT(
      AttributeValues(page, "data-area-id"),
      ElementsAre("3.1.2", "3.1.9", "3.1.10", "3.2.0", "3.2.1", "3.10.1", "x"));
  EXPECT_THAT(page, HasSubstr("No support area"));
  // The data follows the rows, so a row's data-index finds its area.
  const nlohmann::json data = Data(page);
  ASSERT_TRUE(data.is_object());
  ASSERT_EQ(data["areas"].size(), 7u);
  EXPECT_EQ(data["areas"][2]["id"], "3.1.10");
  EXPECT_THAT(AttributeValues(page, "data-index"),
              ElementsAre("0", "1", "2", "3", "4", "5", "6"));
}

TEST(TimelineHtmlTest, EscapesHostileText) {
  const std::string kHostile = "</script><img src=x onerror=alert(1)>";
  v1::AreaState area = Area("1\"><b>", "<i>sa</i>", kHostile, "HT23");
  area.set_rationale("<!--<script>");
  v1::DecisionState decision;
  decision.set_decision_id("d1");
  decision.set_reference("V-1 <b>");
  decision.set_title(kHostile);
  *decision.mutable_decided_on() = Date("2023-09-01");
  decision.add_area_ids("1\"><b>");
  TimelineInput input = Input({area});
  input.title = "Plan <script>alert(1)</script>";
  input.decisions = {decision};
  v1::HistoryEntry entry;
  entry.set_position(7);
  entry.set_text("</SCRIPT><!-- hi");
  input.histories["1\"><b>"] = {entry};

  const std::string page = RenderTimelineHtml(input);
  const std::string data_text = DataText(page);
  ASSERT_FALSE(data_text.empty());
  // In the markup, every tag is the page's own.
  std::string markup = page;
  markup.erase(markup.find(data_text), data_text.size());
  EXPECT_THAT(markup, Not(HasSubstr("<img")));
  EXPECT_THAT(markup, Not(HasSubstr("<b>")));
  EXPECT_THAT(markup, Not(HasSubstr("<i>sa")));
  EXPECT_THAT(markup, Not(HasSubstr("<!--")));
  EXPECT_EQ(Count(markup, "<script"), 2);
  EXPECT_EQ(Count(markup, "</script>"), 2);
  EXPECT_THAT(markup,
              HasSubstr("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_THAT(markup, HasSubstr("data-area-id=\"1&quot;&gt;&lt;b&gt;\""));
  EXPECT_THAT(markup, HasSubstr("<title>Plan &lt;script&gt;alert(1)"));
  // In the data, nothing can end the script element or put the HTML
  // tokenizer into its escaped states.
  EXPECT_THAT(data_text, Not(HasSubstr("</")));
  EXPECT_THAT(data_text, Not(HasSubstr("<!--")));
  EXPECT_THAT(data_text, HasSubstr("<\\/script><img"));

  // The script still reads every string back unchanged.
  const nlohmann::json data = Data(page);
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["title"], "Plan <script>alert(1)</script>");
  ASSERT_EQ(data["areas"].size(), 1u);
  EXPECT_EQ(data["areas"][0]["title"], kHostile);
  EXPECT_EQ(data["areas"][0]["rationale"], "<!--<script>");
  EXPECT_EQ(data["areas"][0]["history"][0]["text"], "</SCRIPT><!-- hi");
  EXPECT_EQ(data["decisions"][0]["title"], kHostile);
}

TEST(TimelineHtmlTest, RefersToNothingOutside) {
  TimelineInput input =
      Input({Area("1", "A", "One", "HT23"), Area("2", "B", "Two", "löpande")});
  const std::string page = RenderTimelineHtml(input);
  EXPECT_THAT(page, Not(HasSubstr("http://")));
  EXPECT_THAT(page, Not(HasSubstr("https://")));
  EXPECT_THAT(page, Not(HasSubstr("src=")));
  EXPECT_THAT(page, Not(HasSubstr("href=")));
  EXPECT_THAT(page, Not(HasSubstr("url(")));
  EXPECT_THAT(page, Not(HasSubstr("@import")));
  EXPECT_THAT(page, Not(HasSubstr("<link")));
  EXPECT_THAT(page, Not(HasSubstr("fetch(")));
  EXPECT_THAT(page, Not(HasSubstr("XMLHttpRequest")));
}

TEST(TimelineHtmlTest, DrawsDecisionsOnTheAreasTheyName) {
  v1::DecisionState decision;
  decision.set_decision_id("dec-1");
  decision.set_reference("V-2022-0218");
  decision.set_body("Ledningsrådet");
  decision.set_title("Handlingsplan fastställd");
  *decision.mutable_decided_on() = Date("2023-04-05");
  decision.add_area_ids("1");
  decision.add_area_ids("3");
  decision.add_area_ids("not-in-plan");
  v1::DecisionState undated;
  undated.set_decision_id("dec-2");
  undated.set_reference("V-2024-0001");
  undated.add_area_ids("2");
  TimelineInput input =
      Input({Area("1", "A", "One", "HT23"), Area("2", "A", "Two", "VT24"),
             Area("3", "B", "Three", "2024")});
  input.decisions = {decision, undated};

  const std::string page = RenderTimelineHtml(input);
  // One marker per named area in the plan; an undated decision is listed
  // but not drawn.
  EXPECT_EQ(Count(page, "class=\"decision\""), 2);
  EXPECT_THAT(page, HasSubstr("data-tip=\"Decision V-2022-0218, 2023-04-05\n"
                              "Ledningsrådet\nHandlingsplan fastställd\""));
  EXPECT_THAT(page, HasSubstr("<td class=\"nowrap\">V-2024-0001</td>"));
  const nlohmann::json data = Data(page);
  ASSERT_TRUE(data.is_object());
  ASSERT_EQ(data["decisions"].size(), 2u);
  EXPECT_EQ(data["decisions"][0]["reference"], "V-2022-0218");
  EXPECT_EQ(data["decisions"][0]["body"], "Ledningsrådet");
  EXPECT_EQ(data["areas"][0]["decisions"], nlohmann::json({"dec-1"}));
  EXPECT_EQ(data["areas"][1]["decisions"], nlohmann::json({"dec-2"}));
  EXPECT_EQ(data["areas"][2]["decisions"], nlohmann::json({"dec-1"}));
}

TEST(TimelineHtmlTest, DrawsToday) {
  const std::string page =
      RenderTimelineHtml(Input({Area("1", "A", "One", "HT23")}));
  EXPECT_EQ(Count(page, "class=\"today-line\""), 1);
  EXPECT_THAT(page, HasSubstr("Today 2024-05-14"));
}

TEST(TimelineHtmlTest, AxisSpansEveryDateWithTermsAndYears) {
  v1::DecisionState decision;
  decision.set_decision_id("d");
  *decision.mutable_decided_on() = Date("2021-03-01");
  decision.add_area_ids("1");
  // A decision on no area of the page is listed but does not widen the axis.
  v1::DecisionState elsewhere;
  elsewhere.set_decision_id("e");
  *elsewhere.mutable_decided_on() = Date("1901-01-01");
  elsewhere.add_area_ids("elsewhere");
  TimelineInput input = Input({Area("1", "A", "One", "2026-10-31", "HT23")});
  input.decisions = {decision, elsewhere};
  const std::string page = RenderTimelineHtml(input);
  // From the decision (2021) to the planned end (2026), each with margin.
  EXPECT_THAT(page, HasSubstr(">2021</span>"));
  EXPECT_THAT(page, HasSubstr(">2026</span>"));
  EXPECT_THAT(page, HasSubstr(">VT21</span>"));
  EXPECT_THAT(page, HasSubstr(">HT26</span>"));
  EXPECT_THAT(page, Not(HasSubstr(">2020</span>")));
  EXPECT_THAT(page, Not(HasSubstr(">2027</span>")));
  EXPECT_THAT(page, Not(HasSubstr(">1901</span>")));
  EXPECT_THAT(page, HasSubstr("<td class=\"nowrap\">1901-01-01</td>"));
}

TEST(TimelineHtmlTest, MarksSlipAgainstBaseline) {
  v1::AreaState slipped = Area("1", "A", "Slipped", "2023-06-01 - 2024-04-01",
                               "2023-06-01 - 2023-12-31");
  v1::AreaState early = Area("2", "A", "Early", "HT23", "VT24");
  const std::string page = RenderTimelineHtml(Input({slipped, early}));
  EXPECT_EQ(Count(page, "class=\"slip\""), 1);
  EXPECT_THAT(page, HasSubstr("+92\xC2\xA0"
                              "d"));
  EXPECT_THAT(page, HasSubstr("baseline 2023-06-01 \xE2\x80\x93 2023-12-31"));
  const nlohmann::json data = Data(page);
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["areas"][0]["slip_days"], 92);
  EXPECT_EQ(data["areas"][1]["slip_days"], -182);
}

TEST(TimelineHtmlTest, ColoursByHealthAndMutesClosedAreas) {
  v1::AreaState risk = Area("1", "A", "Risk", "HT24");
  risk.set_health(v1::HEALTH_AT_RISK);
  v1::AreaState off = Area("2", "A", "Off", "HT24");
  off.set_health(v1::HEALTH_OFF_TRACK);
  v1::AreaState unset = Area("3", "A", "Unset", "HT24");
  unset.set_health(v1::HEALTH_UNSPECIFIED);
  v1::AreaState done = Area("4", "A", "Done", "HT23");
  done.set_closed(true);
  done.set_outcome(v1::OUTCOME_COMPLETED);
  done.set_phase(v1::PHASE_COMPLETED);
  v1::AreaState overdue = Area("5", "A", "Late", "VT24");
  const std::string page =
      RenderTimelineHtml(Input({risk, off, unset, done, overdue}));
  EXPECT_THAT(page, HasSubstr("<i class=\"bar h-risk\""));
  EXPECT_THAT(page, HasSubstr("<i class=\"bar h-off\""));
  EXPECT_THAT(page, HasSubstr("<i class=\"bar h-unknown\""));
  EXPECT_THAT(page, HasSubstr("<i class=\"bar h-on closed\""));
  EXPECT_THAT(page,
              HasSubstr("class=\"area-row is-closed\" data-area-id=\"4\""));
  EXPECT_THAT(page, HasSubstr("<span class=\"badge closed\">completed</span>"));
  // VT24 ended 2024-06-30, after today: not overdue. Nothing else is open
  // and past its end either.
  EXPECT_THAT(page, Not(HasSubstr("<span class=\"flag\">overdue</span>")));

  v1::AreaState late = Area("6", "A", "Late", "HT23");
  const std::string late_page = RenderTimelineHtml(Input({late}));
  EXPECT_THAT(late_page, HasSubstr("<span class=\"flag\">overdue</span>"));
}

TEST(TimelineHtmlTest, DrawsOpenFormsAndMissingDatesWithoutFailing) {
  v1::AreaState asap = Area("1", "A", "Snarast", "snarast");
  v1::AreaState ongoing = Area("2", "A", "Löpande", "Löpande");
  v1::AreaState end_only = Area("3", "A", "Klart", "klart HT24");
  v1::AreaState start_only = Area("4", "A", "Start", "start VT24");
  v1::AreaState none = Area("5", "A", "No dates");
  v1::AreaState broken = Area("6", "A", "Broken");
  broken.mutable_planned_end()->set_precision(v1::PLAN_DATE_PRECISION_DAY);
  broken.mutable_planned_end()->set_year(2024);
  broken.mutable_planned_end()->set_month(13);
  broken.mutable_planned_end()->set_text("2024-13-01");
  v1::AreaState unregistered =
      Area("7", "A", "Snarast, unregistered", "snarast");
  unregistered.clear_registered_at();
  v1::AreaState far = Area("8", "A", "Far future", "2199");

  const std::string page = RenderTimelineHtml(Input(
      {asap, ongoing, end_only, start_only, none, broken, unregistered, far}));
  EXPECT_EQ(Count(page, "class=\"area-row"), 8);
  // Ongoing runs to the axis end and fades; an open "snarast" fades at
  // today. Each bar and its baseline.
  EXPECT_EQ(Count(page, "fade-end\" style="), 3 * 2);
  // A lone end or start is a point.
  EXPECT_EQ(Count(page, "<i class=\"point "), 2);
  EXPECT_THAT(page, HasSubstr("no start date"));
  EXPECT_THAT(page, HasSubstr("no end date"));
  EXPECT_THAT(page, HasSubstr(">no planned dates<"));
  // What was written is still shown, even when it cannot be drawn.
  EXPECT_THAT(page, HasSubstr("by 2024-13-01"));
  EXPECT_THAT(page, HasSubstr(">2199</span>"));
  const nlohmann::json data = Data(page);
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["areas"].size(), 8u);
}

TEST(TimelineHtmlTest, ShowsHistoryNewestFirstWithChanges) {
  v1::HistoryEntry registered;
  registered.set_position(10);
  registered.set_event_type("AreaRegistered");
  registered.set_actor("import");
  v1::HistoryEntry revised;
  revised.set_position(42);
  revised.set_event_type("ScheduleRevised");
  revised.set_actor("anna");
  revised.set_reason("Upphandlingen försenad");
  *revised.mutable_business_date() = Date("2024-01-15");
  v1::FieldChange* change = revised.add_changes();
  change->set_field("planned_end");
  change->set_before("HT23");
  change->set_after("VT24");
  v1::FieldChange* added = revised.add_changes();
  added->set_field("health");
  added->set_after("at risk");
  v1::HistoryEntry reported;
  reported.set_position(30);
  reported.set_event_type("StatusReported");
  reported.set_text("Pågår enligt plan");

  TimelineInput input = Input({Area("1", "A", "One", "VT24", "HT23")});
  input.histories["1"] = {registered, revised, reported};
  input.histories["not-in-plan"] = {registered};
  const nlohmann::json data = Data(RenderTimelineHtml(input));
  ASSERT_TRUE(data.is_object());
  const nlohmann::json& history = data["areas"][0]["history"];
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0]["position"], 42);
  EXPECT_EQ(history[1]["position"], 30);
  EXPECT_EQ(history[2]["position"], 10);
  EXPECT_EQ(history[0]["type"], "Schedule revised");
  EXPECT_EQ(history[0]["date"], "2024-01-15");
  EXPECT_EQ(history[0]["actor"], "anna");
  EXPECT_EQ(history[0]["reason"], "Upphandlingen försenad");
  EXPECT_EQ(history[0]["changes"],
            nlohmann::json(
                {"planned end: HT23 -> VT24", "health: (none) -> at risk"}));
  EXPECT_EQ(history[1]["text"], "Pågår enligt plan");
}

TEST(TimelineHtmlTest, SaysWhoRedactedAnEntryWhenAndWhy) {
  v1::HistoryEntry reported;
  reported.set_position(30);
  reported.set_event_type("StatusReported");
  v1::Redaction& redaction = *reported.mutable_redaction();
  redaction.set_redacted(true);
  redaction.set_actor("admin");
  redaction.mutable_recorded_at()->set_seconds(1764000000);  // 2025-11-24
  redaction.set_reason("GDPR art. 17");
  redaction.set_position(57);
  v1::HistoryEntry plain;
  plain.set_position(10);
  plain.set_event_type("AreaRegistered");

  TimelineInput input = Input({Area("1", "A", "One", "VT24", "HT23")});
  input.histories["1"] = {plain, reported};
  const nlohmann::json data = Data(RenderTimelineHtml(input));
  const nlohmann::json& history = data["areas"][0]["history"];
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["redacted"],
            "Redacted by admin on 2025-11-24 (#57), reason: GDPR art. 17");
  EXPECT_FALSE(history[1].contains("redacted"));
}

TEST(TimelineHtmlTest, SurvivesAbsurdTimes) {
  v1::AreaState area = Area("1", "A", "Snarast", "snarast");
  area.mutable_registered_at()->set_seconds(int64_t{1} << 52);
  TimelineInput input = Input({area});
  input.today = absl::CivilDay(-40000, 1, 1);
  const std::string page = RenderTimelineHtml(input);
  EXPECT_EQ(Count(page, "class=\"area-row"), 1);
  // Kept to the plan dates' range: a few centuries of axis at most.
  EXPECT_LT(page.size(), 400u * 1024);
  EXPECT_THAT(page, HasSubstr(">1899</span>"));
  EXPECT_THAT(page, HasSubstr(">2200</span>"));
}

TEST(TimelineHtmlTest, RendersAnEmptyPlan) {
  const std::string page = RenderTimelineHtml(Input({}));
  EXPECT_EQ(Count(page, "class=\"area-row"), 0);
  EXPECT_THAT(page, HasSubstr("The plan has no areas."));
  EXPECT_THAT(page, HasSubstr("class=\"today-line\""));
  const nlohmann::json data = Data(page);
  ASSERT_TRUE(data.is_object());
  EXPECT_TRUE(data["areas"].empty());
}

TEST(TimelineHtmlTest, KeepsInvalidUtf8FromBreakingTheData) {
  const std::string page =
      RenderTimelineHtml(Input({Area("1", "A", "Bad \xFF\xFE bytes", "HT23")}));
  const nlohmann::json data = Data(page);
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["areas"].size(), 1u);
}

// A plan with many areas: every row is there, in order, and the track is
// wide enough to scroll instead of squeezing years together.
std::vector<v1::AreaState> LargePlan(int count) {
  const char* kDates[] = {
      "HT23",    "VT24",    "Q4 2024",    "2025",      "löpande",
      "snarast", "HT 2025", "klart VT26", "2022-2027", "Q1 2023-Q2 2026"};
  std::vector<v1::AreaState> areas;
  for (int i = 0; i < count; ++i) {
    const int support = i % 12 + 1;
    v1::AreaState area =
        Area(absl::StrCat("3.", support, ".", i / 12 + 1),
             absl::StrCat("3.", support, " Stödområde ", support),
             absl::StrCat("Utvecklingsområde nummer ", i), kDates[i % 10]);
    area.set_health(static_cast<v1::Health>(i % 5));
    areas.push_back(std::move(area));
  }
  return areas;
}

TEST(TimelineHtmlTest, RendersALargePlan) {
  const std::string page = RenderTimelineHtml(Input(LargePlan(150)));
  EXPECT_EQ(Count(page, "class=\"area-row"), 150);
  EXPECT_EQ(Count(page, "class=\"group-row\""), 12);
  const std::vector<std::string> groups =
      AttributeValues(page, "data-support-area");
  ASSERT_EQ(groups.size(), 12u);
  EXPECT_EQ(groups[0], "3.1 Stödområde 1");
  EXPECT_EQ(groups[1], "3.2 Stödområde 2");
  EXPECT_EQ(groups[11], "3.12 Stödområde 12");
  const std::vector<std::string> ids = AttributeValues(page, "data-area-id");
  ASSERT_EQ(ids.size(), 150u);
  EXPECT_EQ(ids[8], "3.1.9");
  EXPECT_EQ(ids[9], "3.1.10");
  EXPECT_THAT(page, HasSubstr("--track-min:"));
  EXPECT_THAT(page, HasSubstr("position: sticky; left: 0"));
  // PLANTRAIL_TIMELINE_LARGE_HTML_OUT=FILE: the page, for a browser.
  const char* out = std::getenv("PLANTRAIL_TIMELINE_LARGE_HTML_OUT");
  if (out != nullptr && *out != '\0') {
    std::ofstream file(out, std::ios::binary);
    file << page;
    file.close();
    EXPECT_TRUE(file.good()) << out;
  }
}

// ---------------------------------------------------------------------------
// A realistic plan for looking at in a browser: with
// PLANTRAIL_TIMELINE_HTML_OUT=FILE the page is written there, for
// tests/cli/check_report_in_chromium.py and for screenshots.

v1::HistoryEntry Entry(uint64_t position, absl::string_view type,
                       absl::string_view date, absl::string_view actor) {
  v1::HistoryEntry entry;
  entry.set_position(position);
  entry.set_event_type(std::string(type));
  *entry.mutable_business_date() = Date(date);
  entry.set_actor(std::string(actor));
  return entry;
}

TimelineInput SyntheticPlan() {
  struct Row {
    const char* id;
    const char* support;
    const char* title;
    const char* planned;
    const char* baseline;
    v1::Health health;
    v1::Phase phase;
  };
  const Row kRows[] = {
      {"3.1.1", "3.1 Utbildning", "Gemensam kursplanering i Ladok",
       "HT23 - VT24", "", v1::HEALTH_ON_TRACK, v1::PHASE_IN_PROGRESS},
      {"3.1.2", "3.1 Utbildning", "Digital tentamen för alla skolor",
       "Q4 2022-Q4 2024", "Q4 2022-Q4 2023", v1::HEALTH_AT_RISK,
       v1::PHASE_IN_PROGRESS},
      {"3.1.10", "3.1 Utbildning", "Antagning och studieadministration",
       "löpande", "", v1::HEALTH_ON_TRACK, v1::PHASE_IN_PROGRESS},
      {"3.1.3", "3.1 Utbildning", "Programutvärderingar i ny form", "VT 2024",
       "", v1::HEALTH_UNKNOWN, v1::PHASE_PLANNED},
      {"3.2.1", "3.2 Forskning", "Forskningsdatahantering enligt FAIR",
       "april 2023 - december 2025", "", v1::HEALTH_ON_TRACK,
       v1::PHASE_IN_PROGRESS},
      {"3.2.2", "3.2 Forskning", "Stöd för externa forskningsansökningar",
       "snarast", "", v1::HEALTH_AT_RISK, v1::PHASE_PROPOSED},
      {"3.2.3", "3.2 Forskning", "Uppföljning av forskningsinfrastruktur",
       "klart HT24", "", v1::HEALTH_UNSPECIFIED, v1::PHASE_PLANNED},
      {"3.3.1", "3.3 Ekonomi", "Nytt ekonomisystem: förstudie",
       "2023-02-01 - 2023-09-30", "", v1::HEALTH_ON_TRACK, v1::PHASE_COMPLETED},
      {"3.3.2", "3.3 Ekonomi", "Nytt ekonomisystem: upphandling",
       "Q4 2023 - HT25", "Q4 2023 - VT24", v1::HEALTH_OFF_TRACK,
       v1::PHASE_IN_PROGRESS},
      {"3.3.3", "3.3 Ekonomi", "E-fakturering för leverantörer", "HT23", "",
       v1::HEALTH_AT_RISK, v1::PHASE_IN_PROGRESS},
      {"3.4.1", "3.4 HR", "Kompetensförsörjningsplan", "2024", "",
       v1::HEALTH_ON_TRACK, v1::PHASE_IN_PROGRESS},
      {"3.4.2", "3.4 HR", "Rekryteringssystem", "VT23-HT23", "",
       v1::HEALTH_ON_TRACK, v1::PHASE_CANCELLED},
      {"3.4.3", "3.4 HR", "Chefsintroduktion", "start HT24", "",
       v1::HEALTH_UNKNOWN, v1::PHASE_PLANNED},
      {"3.10.1", "3.10 IT och digitalisering",
       "Identitets- och behörighetshantering", "2023-2025", "2023-2024",
       v1::HEALTH_AT_RISK, v1::PHASE_IN_PROGRESS},
      {"3.10.2", "3.10 IT och digitalisering", "Nätverk och trådlöst campus",
       "Q2 2024 - Q1 2025", "", v1::HEALTH_ON_TRACK, v1::PHASE_IN_PROGRESS},
      {"3.10.3", "3.10 IT och digitalisering",
       "Informationssäkerhet: klassning av system", "HT22 - VT24",
       "HT22 - HT23", v1::HEALTH_OFF_TRACK, v1::PHASE_PAUSED},
      {"3.10.4", "3.10 IT och digitalisering", "Arkivering och e-arkiv",
       "Start april 2023 – slut december 2026", "", v1::HEALTH_ON_TRACK,
       v1::PHASE_IN_PROGRESS},
      {"3.10.5", "3.10 IT och digitalisering", "Driftmiljö i molnet", "VT25",
       "", v1::HEALTH_UNSPECIFIED, v1::PHASE_PROPOSED},
  };
  std::vector<v1::AreaState> areas;
  for (const Row& row : kRows) {
    v1::AreaState area = Area(row.id, row.support, row.title, row.planned,
                              *row.baseline ? row.baseline : row.planned);
    area.set_health(row.health);
    area.set_phase(row.phase);
    area.set_rationale(
        "Verksamheten behöver ett gemensamt arbetssätt och ett stöd som "
        "håller över tid.");
    area.set_desired_effect("Mindre manuellt arbete och bättre uppföljning.");
    area.add_responsible_units("GVS");
    area.add_participating_units("ITA");
    area.add_participating_units("Skolorna");
    *area.mutable_updated_at() = At(absl::CivilDay(2024, 3, 1));
    area.set_updated_by("anna");
    if (row.phase == v1::PHASE_COMPLETED || row.phase == v1::PHASE_CANCELLED) {
      area.set_closed(true);
      area.set_outcome(row.phase == v1::PHASE_COMPLETED
                           ? v1::OUTCOME_COMPLETED
                           : v1::OUTCOME_CANCELLED);
      area.set_outcome_text(row.phase == v1::PHASE_COMPLETED
                                ? "Förstudien överlämnad till styrgruppen."
                                : "Ersätts av nationell lösning.");
    }
    areas.push_back(std::move(area));
  }
  areas[1].add_dependencies()->set_area_id("3.10.1");
  areas[8].add_dependencies()->set_external("Statens inköpscentral");

  TimelineInput input = Input(std::move(areas));
  input.title = "KTH: handlingsplan för verksamhetsstödet (synthetic)";

  v1::DecisionState plan;
  plan.set_decision_id("dec-plan");
  plan.set_reference("V-2022-0218");
  plan.set_body("Ledningsrådet");
  plan.set_title("Handlingsplan för utveckling av verksamhetsstödet");
  plan.set_outcome("Fastställd");
  *plan.mutable_decided_on() = Date("2023-04-05");
  for (const char* id : {"3.1.1", "3.1.2", "3.3.2", "3.10.1", "3.10.3"}) {
    plan.add_area_ids(id);
  }
  v1::DecisionState delay;
  delay.set_decision_id("dec-delay");
  delay.set_reference("V-2024-0031");
  delay.set_body("Styrgruppen för ekonomisystemet");
  delay.set_title("Ny tidplan för upphandlingen");
  delay.set_outcome("Tidplanen förlängs till HT25");
  *delay.mutable_decided_on() = Date("2024-02-12");
  delay.add_area_ids("3.3.2");
  input.decisions = {plan, delay};

  v1::HistoryEntry registered =
      Entry(120, "AreaRegistered", "2023-04-05", "import");
  v1::FieldChange* c = registered.add_changes();
  c->set_field("planned_end");
  c->set_after("VT24");
  v1::HistoryEntry report = Entry(311, "StatusReported", "2023-11-20", "anna");
  report.set_text("Leverantören har begärt mer tid för integrationen.");
  c = report.add_changes();
  c->set_field("health");
  c->set_before("on track");
  c->set_after("at risk");
  v1::HistoryEntry revised =
      Entry(402, "ScheduleRevised", "2024-02-12", "anna");
  revised.set_reason("Överprövning av upphandlingen");
  revised.set_decision_id("dec-delay");
  c = revised.add_changes();
  c->set_field("planned_end");
  c->set_before("VT24");
  c->set_after("HT25");
  v1::HistoryEntry decided =
      Entry(403, "DecisionRecorded", "2024-02-12", "anna");
  decided.set_decision_id("dec-delay");
  decided.set_text("Ny tidplan för upphandlingen");
  input.histories["3.3.2"] = {registered, report, revised, decided};
  return input;
}

TEST(TimelineHtmlTest, WritesSyntheticPlanForBrowserCheck) {
  const TimelineInput input = SyntheticPlan();
  const std::string page = RenderTimelineHtml(input);
  EXPECT_EQ(Count(page, "class=\"area-row"),
            static_cast<int>(input.areas.size()));
  const char* out = std::getenv("PLANTRAIL_TIMELINE_HTML_OUT");
  if (out != nullptr && *out != '\0') {
    std::ofstream file(out, std::ios::binary);
    file << page;
    file.close();
    EXPECT_TRUE(file.good()) << out;
  }
}

}  // namespace
}  // namespace plantrail::cli
