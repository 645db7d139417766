// plantrail.v1.PlanQueries and the Admin projection RPCs end to end: the
// real plantraild, started as a process on a free loopback port with a
// temporary data directory. The plan is written through PlanCommands and
// read back through the queries, waiting for each write with min_position
// (read your writes).
//
// GetArea and ListAreas are here; the other queries and the projections
// behind them are in the other plan_queries_*_e2e_test.cc files of the same
// binary, one feature a file, with the fixture in plan_queries_e2e_fixture.h.
#include <set>
#include <utility>

#include "tests/e2e/plan_queries_e2e_fixture.h"

namespace plantrail {
namespace {

using namespace ::plantrail::plan_queries_testing;  // NOLINT: the fixture's
                                                    // vocabulary

// --- GetArea --------------------------------------------------------------

TEST_F(PlanQueriesE2eTest, GetAreaReadsItsWritesAtTheCommandsPosition) {
  const v1::CommandResult registered = Do(BudgetFollowUp());
  const v1::CommandResult reported =
      Do(Report("3.4.2", v1::PHASE_IN_PROGRESS, v1::HEALTH_ON_TRACK,
                "En första mall finns", "2023-06-12"));
  const v1::CommandResult revised =
      Do(Reschedule("3.4.2", "VT24", "Remissvaren från skolorna dröjde"));

  v1::GetAreaRequest request;
  request.set_area_id("3.4.2");
  request.set_min_position(revised.position());
  const Reply<v1::GetAreaResponse> reply = GetArea(request);
  ASSERT_THAT(reply, Succeeded());
  EXPECT_GE(reply.response.position(), revised.position());
  const v1::AreaState& area = reply.response.area();
  EXPECT_EQ(area.area_id(), "3.4.2");
  EXPECT_EQ(area.title(), "Gemensam modell för budgetuppföljning");
  EXPECT_EQ(area.support_area(), "3.4");
  EXPECT_EQ(area.group(), "Ekonomi");
  EXPECT_THAT(area.participating_units(), ElementsAre("ABE"));
  EXPECT_EQ(area.version(), 3u);
  EXPECT_EQ(area.position(), revised.position());
  EXPECT_EQ(area.planned_start().text(), "april 2023");
  EXPECT_EQ(area.planned_end().text(), "VT24");
  EXPECT_EQ(area.baseline_end().text(), "december 2023");
  EXPECT_EQ(area.schedule_revisions(), 1u);
  EXPECT_EQ(area.phase(), v1::PHASE_IN_PROGRESS);
  EXPECT_EQ(area.health(), v1::HEALTH_ON_TRACK);
  EXPECT_EQ(area.status_reports(), 1u);
  EXPECT_EQ(area.latest_report().narrative(), "En första mall finns");
  EXPECT_EQ(area.latest_report().reported_on().text(), "2023-06-12");
  EXPECT_EQ(area.latest_report_position(), reported.position());
  EXPECT_EQ(area.registered_by(), kPrincipal);
  EXPECT_EQ(area.updated_by(), kPrincipal);
  EXPECT_FALSE(area.closed());
  EXPECT_LT(registered.position(), reported.position());
}

TEST_F(PlanQueriesE2eTest, GetAreaRefusesUnknownAndMalformedAreaIds) {
  Do(BudgetFollowUp());
  v1::GetAreaRequest request;
  request.set_area_id("9.9.9");
  request.set_min_position(last_position_);
  EXPECT_THAT(GetArea(request),
              FailsWith(grpc::StatusCode::NOT_FOUND,
                        std::vector<std::string>{"area_id", "\"9.9.9\""}));
  request.set_area_id("../3.4.2");
  EXPECT_THAT(GetArea(request),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"area_id", "../3.4.2"}));
  request.set_area_id("");
  EXPECT_THAT(GetArea(request), FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                                          std::vector<std::string>{"area_id"}));
  // Time travel checks the id as well.
  request.set_area_id("9.9.9");
  request.set_at_position(last_position_);
  EXPECT_THAT(GetArea(request),
              FailsWith(grpc::StatusCode::NOT_FOUND,
                        std::vector<std::string>{"area_id", "\"9.9.9\""}));
}

TEST_F(PlanQueriesE2eTest, GetAreaAtPositionShowsTheStateAfterThatPosition) {
  const v1::CommandResult other = Do(
      Register("3.4.1", "Översyn av internprissättningen", "3.4", "Q4 2023"));
  const v1::CommandResult registered = Do(BudgetFollowUp());
  const v1::CommandResult reported =
      Do(Report("3.4.2", v1::PHASE_IN_PROGRESS, v1::HEALTH_ON_TRACK,
                "En första mall finns", "2023-06-12"));
  // Another stream's event in between does not change 3.4.2.
  const v1::CommandResult between =
      Do(Report("3.4.1", v1::PHASE_IN_PROGRESS, v1::HEALTH_AT_RISK, "Sent"));
  const v1::CommandResult revised =
      Do(Reschedule("3.4.2", "VT24", "Remissvaren från skolorna dröjde"));

  v1::AreaState area = AreaAt("3.4.2", registered.position());
  EXPECT_EQ(area.version(), 1u);
  EXPECT_EQ(area.position(), registered.position());
  EXPECT_EQ(area.phase(), v1::PHASE_PLANNED);
  EXPECT_EQ(area.health(), v1::HEALTH_UNKNOWN);
  EXPECT_EQ(area.status_reports(), 0u);
  EXPECT_EQ(area.planned_end().text(), "december 2023");

  area = AreaAt("3.4.2", reported.position());
  EXPECT_EQ(area.version(), 2u);
  EXPECT_EQ(area.phase(), v1::PHASE_IN_PROGRESS);
  EXPECT_EQ(area.planned_end().text(), "december 2023");
  EXPECT_EQ(area.schedule_revisions(), 0u);

  {
    v1::GetAreaRequest request;
    request.set_area_id("3.4.2");
    request.set_at_position(between.position());
    const Reply<v1::GetAreaResponse> reply = GetArea(request);
    ASSERT_THAT(reply, Succeeded());
    EXPECT_EQ(reply.response.area().version(), 2u);
    EXPECT_EQ(reply.response.area().planned_end().text(), "december 2023");
    // The position of the last event folded.
    EXPECT_EQ(reply.response.position(), reported.position());
  }

  area = AreaAt("3.4.2", revised.position());
  EXPECT_EQ(area.version(), 3u);
  EXPECT_EQ(area.planned_end().text(), "VT24");
  EXPECT_EQ(area.baseline_end().text(), "december 2023");

  // Before 3.4.2 was registered.
  v1::GetAreaRequest request;
  request.set_area_id("3.4.2");
  request.set_at_position(other.position());
  EXPECT_THAT(GetArea(request),
              FailsWith(grpc::StatusCode::NOT_FOUND,
                        std::vector<std::string>{
                            "area_id", "\"3.4.2\"", "not registered",
                            absl::StrCat("position ", other.position())}));
  // ... but 3.4.1 was.
  EXPECT_EQ(AreaAt("3.4.1", other.position()).version(), 1u);
}

TEST_F(PlanQueriesE2eTest, GetAreaAtRecordedAtShowsTheStateRecordedThen) {
  Do(BudgetFollowUp());
  Do(Report("3.4.2", v1::PHASE_IN_PROGRESS, v1::HEALTH_ON_TRACK,
            "En första mall finns", "2023-06-12"));
  Do(Reschedule("3.4.2", "VT24", "Remissvaren från skolorna dröjde"));
  const std::vector<v1::RecordedEvent> events = ReadStream("area-3.4.2");
  ASSERT_THAT(events, SizeIs(3));

  auto at = [&](const google::protobuf::Timestamp& time) {
    v1::GetAreaRequest request;
    request.set_area_id("3.4.2");
    *request.mutable_recorded_at() = time;
    return GetArea(request);
  };
  Reply<v1::GetAreaResponse> reply = at(events[1].recorded_at());
  ASSERT_THAT(reply, Succeeded());
  EXPECT_EQ(reply.response.area().version(), 2u);
  EXPECT_EQ(reply.response.area().planned_end().text(), "december 2023");
  EXPECT_EQ(reply.response.position(), events[1].position());

  reply = at(events[0].recorded_at());
  ASSERT_THAT(reply, Succeeded());
  EXPECT_EQ(reply.response.area().version(), 1u);

  reply = at(events[2].recorded_at());
  ASSERT_THAT(reply, Succeeded());
  EXPECT_EQ(reply.response.area().version(), 3u);
  EXPECT_EQ(reply.response.area().planned_end().text(), "VT24");

  // An hour before the registration.
  EXPECT_THAT(at(ToTimestamp(ToTime(events[0].recorded_at()) - absl::Hours(1))),
              FailsWith(grpc::StatusCode::NOT_FOUND,
                        std::vector<std::string>{"area_id", "\"3.4.2\""}));
}

TEST_F(PlanQueriesE2eTest,
       GetAreaAsOfBusinessDateCountsReportsByTheDayTheySpeakFor) {
  Do(Register("2.1.3", "E-tjänst för bygglovsansökningar", "Samhällsbyggnad",
              "Löpande", v1::PHASE_IN_PROGRESS));
  // An imported report, speaking for a day long before it was recorded.
  Do(Report("2.1.3", v1::PHASE_IN_PROGRESS, v1::HEALTH_ON_TRACK,
            "Förstudien är klar", "2018-01-10"));
  const std::vector<v1::RecordedEvent> events = ReadStream("area-2.1.3");
  ASSERT_THAT(events, SizeIs(2));
  // The day the area was registered (its business date), and the next day.
  const absl::CivilDay registered_day =
      absl::ToCivilDay(ToTime(events[0].recorded_at()), absl::UTCTimeZone());
  const std::string today = absl::FormatCivilTime(registered_day);
  const std::string tomorrow = absl::FormatCivilTime(registered_day + 1);
  // A report that speaks for the day after it is recorded.
  Do(Report("2.1.3", v1::PHASE_PAUSED, v1::HEALTH_AT_RISK, "Inför nästa dag",
            tomorrow));

  auto as_of = [&](const std::string& day) {
    v1::GetAreaRequest request;
    request.set_area_id("2.1.3");
    request.set_business_date(day);
    return GetArea(request);
  };
  // Tomorrow: everything.
  Reply<v1::GetAreaResponse> reply = as_of(tomorrow);
  ASSERT_THAT(reply, Succeeded());
  EXPECT_EQ(reply.response.area().version(), 3u);
  EXPECT_EQ(reply.response.area().status_reports(), 2u);
  EXPECT_EQ(reply.response.area().latest_report().narrative(),
            "Inför nästa dag");
  EXPECT_EQ(reply.response.area().phase(), v1::PHASE_PAUSED);

  // Today: the report for tomorrow is not in yet; the one for 2018 is.
  reply = as_of(today);
  ASSERT_THAT(reply, Succeeded());
  EXPECT_EQ(reply.response.area().version(), 2u);
  EXPECT_EQ(reply.response.area().status_reports(), 1u);
  EXPECT_EQ(reply.response.area().latest_report().reported_on().text(),
            "2018-01-10");
  EXPECT_EQ(reply.response.area().phase(), v1::PHASE_IN_PROGRESS);
  EXPECT_EQ(reply.response.position(), events[1].position());

  // Imported history is seen as of its own dates: the area exists from its
  // registration whenever that was recorded, and the 2018 report counts
  // from the day it speaks for.
  reply = as_of("2018-01-10");
  ASSERT_THAT(reply, Succeeded());
  EXPECT_EQ(reply.response.area().status_reports(), 1u);
  EXPECT_EQ(reply.response.area().latest_report().narrative(),
            "Förstudien är klar");
  reply = as_of("2018-01-09");
  ASSERT_THAT(reply, Succeeded());
  EXPECT_EQ(reply.response.area().status_reports(), 0u);
  EXPECT_EQ(reply.response.area().version(), 1u);

  EXPECT_THAT(as_of("the tenth of January"),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"business_date"}));
}

// --- ListAreas ------------------------------------------------------------

TEST_F(PlanQueriesE2eTest, ListAreasFiltersEachOnItsOwn) {
  SeedPortfolio();
  v1::ListAreasRequest request;
  EXPECT_THAT(ListedIds(request),
              ElementsAre("2.1.1", "2.1.2", "2.1.3", "2.1.4", "3.4.1", "3.4.2",
                          "3.4.3", "3.4.4", "HR.1", "HR.2", "HR.3", "HR.4"));

  request = v1::ListAreasRequest();
  request.set_support_area("3.4");
  EXPECT_THAT(ListedIds(request),
              ElementsAre("3.4.1", "3.4.2", "3.4.3", "3.4.4"));
  request.set_support_area("HR");
  EXPECT_THAT(ListedIds(request), ElementsAre("HR.1", "HR.2", "HR.3", "HR.4"));
  request.set_support_area("9.9");
  EXPECT_THAT(ListedIds(request), IsEmpty());

  request = v1::ListAreasRequest();
  request.add_phases(v1::PHASE_IN_PROGRESS);
  EXPECT_THAT(ListedIds(request),
              ElementsAre("2.1.1", "3.4.1", "3.4.2", "3.4.3", "HR.1"));
  request = v1::ListAreasRequest();
  request.add_phases(v1::PHASE_PROPOSED);
  request.add_phases(v1::PHASE_PAUSED);
  EXPECT_THAT(ListedIds(request), ElementsAre("2.1.2", "2.1.3", "HR.3"));
  request = v1::ListAreasRequest();
  request.add_phases(v1::PHASE_COMPLETED);
  request.add_phases(v1::PHASE_CANCELLED);
  EXPECT_THAT(ListedIds(request), ElementsAre("3.4.4", "HR.4"));

  request = v1::ListAreasRequest();
  request.add_healths(v1::HEALTH_AT_RISK);
  EXPECT_THAT(ListedIds(request), ElementsAre("2.1.3", "3.4.2"));
  request = v1::ListAreasRequest();
  request.add_healths(v1::HEALTH_OFF_TRACK);
  request.add_healths(v1::HEALTH_ON_TRACK);
  EXPECT_THAT(ListedIds(request), ElementsAre("2.1.1", "HR.1"));

  // Q1 2020 has passed and 3.4.3 is open; 3.4.4 (2022) is closed.
  request = v1::ListAreasRequest();
  request.set_overdue(true);
  EXPECT_THAT(ListedIds(request), ElementsAre("3.4.3"));

  request = v1::ListAreasRequest();
  request.set_slipped(true);
  EXPECT_THAT(ListedIds(request), ElementsAre("3.4.2"));

  request = v1::ListAreasRequest();
  request.set_title_contains("E-TJ");
  EXPECT_THAT(ListedIds(request), ElementsAre("2.1.1", "2.1.4", "HR.4"));
  request.set_title_contains("digital");
  EXPECT_THAT(ListedIds(request), ElementsAre("2.1.2", "3.4.3"));

  request = v1::ListAreasRequest();
  request.set_open_only(true);
  EXPECT_THAT(ListedIds(request),
              ElementsAre("2.1.1", "2.1.2", "2.1.3", "2.1.4", "3.4.1", "3.4.2",
                          "3.4.3", "HR.1", "HR.2", "HR.3"));

  // Everything was reported on or registered just now.
  request = v1::ListAreasRequest();
  request.set_stale_days(1);
  EXPECT_THAT(ListedIds(request), IsEmpty());

  // Filters combine.
  request = v1::ListAreasRequest();
  request.set_support_area("HR");
  request.set_open_only(true);
  request.add_phases(v1::PHASE_PLANNED);
  request.add_phases(v1::PHASE_PROPOSED);
  EXPECT_THAT(ListedIds(request), ElementsAre("HR.2", "HR.3"));
}

TEST_F(PlanQueriesE2eTest, ListAreasSortsByPlannedEndAndByLastChange) {
  const std::map<std::string, uint64_t> last = SeedPortfolio();
  v1::ListAreasRequest request;
  request.set_sort(v1::AREA_SORT_PLANNED_END);
  // Latest end first as ends compare: ongoing ("Löpande") before every
  // dated end; the one without a planned end last.
  EXPECT_THAT(ListedIds(request),
              ElementsAre("2.1.1", "HR.4", "HR.1", "HR.2", "2.1.4", "2.1.3",
                          "2.1.2", "3.4.1", "3.4.2", "3.4.4", "3.4.3", "HR.3"));

  std::vector<std::pair<uint64_t, std::string>> by_change;
  for (const auto& [id, position] : last) by_change.emplace_back(position, id);
  std::sort(by_change.rbegin(), by_change.rend());
  std::vector<std::string> expected;
  for (const auto& [position, id] : by_change) expected.push_back(id);
  request.set_sort(v1::AREA_SORT_UPDATED);
  EXPECT_THAT(ListedIds(request), ElementsAreArray(expected));
  // The closes came last.
  EXPECT_THAT(expected, ::testing::BeginEndDistanceIs(12));
  EXPECT_EQ(expected[0], "HR.4");
  EXPECT_EQ(expected[1], "3.4.4");

  request.set_sort(v1::AREA_SORT_AREA_ID);
  request.set_open_only(true);
  request.set_support_area("3.4");
  EXPECT_THAT(ListedIds(request), ElementsAre("3.4.1", "3.4.2", "3.4.3"));
}

TEST_F(PlanQueriesE2eTest, ListAreasPagesThroughEveryAreaOnce) {
  SeedPortfolio();
  for (const v1::AreaSort sort :
       {v1::AREA_SORT_UNSPECIFIED, v1::AREA_SORT_PLANNED_END,
        v1::AREA_SORT_UPDATED}) {
    SCOPED_TRACE(v1::AreaSort_Name(sort));
    const std::vector<std::string> all = [&] {
      v1::ListAreasRequest request;
      request.set_sort(sort);
      return ListedIds(request);
    }();
    ASSERT_THAT(all, SizeIs(12));

    v1::ListAreasRequest request;
    request.set_sort(sort);
    request.set_page_size(5);
    request.set_min_position(last_position_);
    std::vector<std::string> paged;
    std::vector<int> page_sizes;
    for (int page = 0; page < 10; ++page) {
      const Reply<v1::ListAreasResponse> reply = ListAreas(request);
      ASSERT_THAT(reply, Succeeded());
      EXPECT_EQ(reply.response.total(), 12u);
      page_sizes.push_back(reply.response.areas_size());
      for (const std::string& id : Ids(reply.response.areas())) {
        paged.push_back(id);
      }
      if (reply.response.next_page_token().empty()) break;
      request.set_page_token(reply.response.next_page_token());
    }
    EXPECT_THAT(page_sizes, ElementsAre(5, 5, 2));
    // Same order as one page: none missing, none twice.
    EXPECT_EQ(paged, all);
    EXPECT_EQ(std::set<std::string>(paged.begin(), paged.end()).size(), 12u);
  }

  // A filtered listing pages over the matches only.
  v1::ListAreasRequest request;
  request.set_open_only(true);
  request.set_page_size(5);
  Reply<v1::ListAreasResponse> reply = ListAreas(request);
  ASSERT_THAT(reply, Succeeded());
  EXPECT_EQ(reply.response.total(), 10u);
  request.set_page_token(reply.response.next_page_token());
  reply = ListAreas(request);
  ASSERT_THAT(reply, Succeeded());
  EXPECT_THAT(reply.response.areas(), SizeIs(5));
  EXPECT_THAT(reply.response.next_page_token(), IsEmpty());
}

TEST_F(PlanQueriesE2eTest, ListAreasPagesHoldWhileOthersWrite) {
  SeedPortfolio();
  size_t registered = 12;
  for (const v1::AreaSort sort :
       {v1::AREA_SORT_UNSPECIFIED, v1::AREA_SORT_PLANNED_END,
        v1::AREA_SORT_UPDATED}) {
    SCOPED_TRACE(v1::AreaSort_Name(sort));
    v1::ListAreasRequest request;
    request.set_sort(sort);
    request.set_min_position(last_position_);
    const std::vector<std::string> before = ListedIds(request);
    ASSERT_THAT(before, SizeIs(registered));

    request.set_page_size(5);
    Reply<v1::ListAreasResponse> reply = ListAreas(request);
    ASSERT_THAT(reply, Succeeded());
    std::vector<std::string> paged = Ids(reply.response.areas());
    // Between the pages: new areas, and changes that move the areas of the
    // later pages to the front of either order (a later end, a new
    // report).
    for (int i = 0; i < 3; ++i) {
      Do(Register(absl::StrCat("0.", static_cast<int>(sort), ".", i), "Ny",
                  "3.4", "2099"));
      ++registered;
    }
    auto open = [](const std::string& id) {
      return id != "3.4.4" && id != "HR.4";  // SeedPortfolio closed these
    };
    std::string moved;
    for (size_t i = 5; i < before.size(); i += 2) {
      if (!open(before[i])) continue;
      Do(Report(before[i], v1::PHASE_IN_PROGRESS, v1::HEALTH_AT_RISK,
                "Flyttad"));
      moved = before[i];
    }
    ASSERT_FALSE(moved.empty());
    Do(Reschedule(moved, absl::StrCat("2199-0", static_cast<int>(sort) + 1),
                  "Senare"));
    while (!reply.response.next_page_token().empty()) {
      request.set_page_token(reply.response.next_page_token());
      request.set_min_position(last_position_);
      reply = ListAreas(request);
      ASSERT_THAT(reply, Succeeded());
      EXPECT_EQ(reply.response.total(), before.size())
          << "the first page's view";
      for (const std::string& id : Ids(reply.response.areas())) {
        paged.push_back(id);
      }
    }
    // Every area that existed at the first page, once, in its order then.
    EXPECT_EQ(paged, before);
    // A new listing sees what was written.
    request.clear_page_token();
    request.clear_page_size();
    EXPECT_THAT(ListedIds(request), SizeIs(registered));
  }
}

TEST_F(PlanQueriesE2eTest, ListAreasRefusesBadPageSizesAndForeignTokens) {
  Do(BudgetFollowUp());
  Do(Report("3.4.2", v1::PHASE_IN_PROGRESS, v1::HEALTH_ON_TRACK, "Ok"));
  v1::ListAreasRequest request;
  request.set_min_position(last_position_);
  // Too large a page gets the largest.
  request.set_page_size(5000);
  EXPECT_THAT(ListAreas(request), Succeeded());
  request.set_page_size(1000);
  EXPECT_THAT(ListAreas(request), Succeeded());

  // A token goes on with the filters of its first page only.
  Do(Register("3.4.9", "Ytterligare", "3.4", "2090"));
  request.set_min_position(last_position_);
  request.set_page_size(1);
  const Reply<v1::ListAreasResponse> first_page = ListAreas(request);
  ASSERT_THAT(first_page, Succeeded());
  ASSERT_THAT(first_page.response.next_page_token(), Not(IsEmpty()));
  v1::ListAreasRequest other = request;
  other.set_page_token(first_page.response.next_page_token());
  other.set_support_area("3.4");
  EXPECT_THAT(ListAreas(other), FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                                          std::vector<std::string>{
                                              "page_token", "other filters"}));
  other.clear_support_area();
  other.set_page_size(7);  // page sizes may change between pages
  EXPECT_THAT(ListAreas(other), Succeeded());

  request.set_page_size(5);
  request.set_page_token("not a token!");
  EXPECT_THAT(ListAreas(request),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"page_token"}));

  // A token GetHistory issued is not one for ListAreas.
  v1::GetHistoryRequest history;
  history.set_area_id("3.4.2");
  history.set_page_size(1);
  history.set_min_position(last_position_);
  const Reply<v1::GetHistoryResponse> page = GetHistory(history);
  ASSERT_THAT(page, Succeeded());
  ASSERT_THAT(page.response.next_page_token(), Not(IsEmpty()));
  request.set_page_token(page.response.next_page_token());
  EXPECT_THAT(ListAreas(request),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"page_token"}));

  // Nor the other way round.
  v1::ListAreasRequest one;
  one.set_page_size(1);
  Do(Register("3.4.1", "Översyn av internprissättningen", "3.4", "Q4 2023"));
  one.set_min_position(last_position_);
  const Reply<v1::ListAreasResponse> first = ListAreas(one);
  ASSERT_THAT(first, Succeeded());
  ASSERT_THAT(first.response.next_page_token(), Not(IsEmpty()));
  history.set_page_token(first.response.next_page_token());
  EXPECT_THAT(GetHistory(history),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"page_token"}));
  history.set_page_token("");
  history.set_page_size(1001);  // gets the largest page
  EXPECT_THAT(GetHistory(history), Succeeded());

  // Enum values the server does not know.
  v1::ListAreasRequest phases;
  phases.add_phases(static_cast<v1::Phase>(42));
  EXPECT_THAT(ListAreas(phases), FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                                           std::vector<std::string>{"phases"}));
}

// "Case-insensitive text in the title": titles are Swedish, so this must
// hold for å, ä and ö as well as for ASCII letters.
TEST_F(PlanQueriesE2eTest, ListAreasTitleContainsIgnoresCaseOfSwedishLetters) {
  SeedPortfolio();
  v1::ListAreasRequest request;
  request.set_title_contains("e-tjänst");
  ASSERT_THAT(ListedIds(request), ElementsAre("2.1.1", "2.1.4", "HR.4"));
  request.set_title_contains("E-TJÄNST");
  EXPECT_THAT(ListedIds(request), ElementsAre("2.1.1", "2.1.4", "HR.4"));
  request.set_title_contains("LÖNEKARTLÄGGNING");
  EXPECT_THAT(ListedIds(request), ElementsAre("HR.2"));
  request.set_title_contains("översyn");
  EXPECT_THAT(ListedIds(request), ElementsAre("3.4.1"));
}

// A token is "a token this server issued for this listing": ListAreas and
// ListDecisions must not take each other's.
TEST_F(PlanQueriesE2eTest, PageTokensOfOneListingAreRefusedByAnother) {
  Do(BudgetFollowUp());
  Do(Register("3.4.1", "Översyn av internprissättningen", "3.4", "Q4 2023"));
  Do(Decision("A-1", "A-1", "Rektor", "2023-04-05", {"3.4.2"}));
  Do(Decision("A-2", "A-2", "Rektor", "2023-04-06", {"3.4.2"}));
  v1::ListAreasRequest areas;
  areas.set_page_size(1);
  areas.set_min_position(last_position_);
  const Reply<v1::ListAreasResponse> area_page = ListAreas(areas);
  ASSERT_THAT(area_page, Succeeded());
  ASSERT_THAT(area_page.response.next_page_token(), Not(IsEmpty()));
  v1::ListDecisionsRequest decisions;
  decisions.set_page_size(1);
  decisions.set_min_position(last_position_);
  const Reply<v1::ListDecisionsResponse> decision_page =
      ListDecisions(decisions);
  ASSERT_THAT(decision_page, Succeeded());
  ASSERT_THAT(decision_page.response.next_page_token(), Not(IsEmpty()));

  decisions.set_page_token(area_page.response.next_page_token());
  EXPECT_THAT(ListDecisions(decisions),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"page_token"}));
  areas.set_page_token(decision_page.response.next_page_token());
  EXPECT_THAT(ListAreas(areas),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"page_token"}));
}

}  // namespace
}  // namespace plantrail
