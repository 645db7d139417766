// PlanQueries end to end: GetHistory (what each event changed and why,
// paged both ways) and ListDecisions. Apart from plan_queries_e2e_test.cc
// (GetArea, ListAreas), one feature a file; the same binary and fixture
// (plan_queries_e2e_fixture.h).
#include "tests/e2e/plan_queries_e2e_fixture.h"

namespace plantrail {
namespace {

using namespace ::plantrail::plan_queries_testing;  // NOLINT: the fixture's
                                                    // vocabulary

// --- GetHistory -----------------------------------------------------------

TEST_F(PlanQueriesE2eTest, GetHistoryShowsWhatEachEventChangedAndWhy) {
  const v1::CommandResult registered = Do(BudgetFollowUp());
  Do(Register("3.4.1", "Översyn av internprissättningen", "3.4", "Q4 2023"));
  v1::RecordDecisionRequest decision_request;
  decision_request.set_reference("V-2022-0218");
  decision_request.set_body("Rektor");
  decision_request.set_decided_on("2023-04-05");
  decision_request.set_title("Handlingsplan för verksamhetsstödet fastställs");
  decision_request.add_area_ids("3.4.2");
  decision_request.add_area_ids("3.4.1");
  decision_request.set_outcome("Planen gäller till och med 2024.");
  const v1::CommandResult decision = Do(decision_request);
  ASSERT_EQ(decision.stream_id(), absl::StrCat("decision-", kDecisionId));
  const v1::CommandResult reported =
      Do(Report("3.4.2", v1::PHASE_IN_PROGRESS, v1::HEALTH_ON_TRACK,
                "Arbetet går enligt plan", "2023-06-12"));
  const v1::CommandResult revised = Do(Reschedule(
      "3.4.2", "VT24", "Remissvaren från skolorna dröjde", kDecisionId));
  const v1::CommandResult corrected = Do(
      Correct("3.4.2", reported.position(), "Arbetet var en månad försenat"));

  const std::vector<v1::RecordedEvent> events = ReadStream("area-3.4.2");
  ASSERT_THAT(events, SizeIs(4));
  const std::vector<v1::HistoryEntry> oldest_first = History("3.4.2", true);
  ASSERT_THAT(oldest_first, SizeIs(5));
  EXPECT_THAT(Positions(oldest_first),
              ElementsAre(registered.position(), decision.position(),
                          reported.position(), revised.position(),
                          corrected.position()));

  // What every entry has.
  for (const v1::HistoryEntry& entry : oldest_first) {
    SCOPED_TRACE(entry.ShortDebugString());
    EXPECT_EQ(entry.actor(), kPrincipal);
    EXPECT_THAT(entry.event_id(), Not(IsEmpty()));
    EXPECT_TRUE(entry.has_recorded_at());
    EXPECT_TRUE(entry.has_business_date());
  }
  // Area events: as stored.
  const v1::HistoryEntry* area_entries[] = {&oldest_first[0], &oldest_first[2],
                                            &oldest_first[3], &oldest_first[4]};
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::HistoryEntry& entry = *area_entries[i];
    EXPECT_EQ(entry.position(), events[i].position());
    EXPECT_EQ(entry.version(), events[i].stream_version());
    EXPECT_EQ(entry.version(), i + 1);
    EXPECT_EQ(entry.event_id(), events[i].event_id());
    EXPECT_EQ(entry.event_type(), events[i].type());
    EXPECT_THAT(entry.recorded_at(), ProtoEquals(events[i].recorded_at()));
  }

  const v1::HistoryEntry& registration = oldest_first[0];
  EXPECT_EQ(registration.event_type(), "AreaRegistered");
  EXPECT_EQ(registration.event_id(), registered.event_id());
  // Not a report: the day it was recorded.
  EXPECT_EQ(registration.business_date().precision(),
            v1::PLAN_DATE_PRECISION_DAY);
  EXPECT_EQ(registration.business_date().text(),
            DayText(ToTime(events[0].recorded_at())));
  EXPECT_THAT(
      registration.changes(),
      ::testing::IsSupersetOf(
          {ChangeIs("title", "", "Gemensam modell för budgetuppföljning"),
           ChangeIs("support_area", "", "3.4"),
           ChangeIs("group", "", "Ekonomi"),
           ChangeIs("participating_units", "", "ABE"),
           ChangeIs("planned_start", "", "april 2023"),
           ChangeIs("planned_end", "", "december 2023"),
           ChangeIs("baseline_end", "", "december 2023"),
           ChangeIs("phase", "", "planned"),
           ChangeIs("health", "", "unknown")}));

  // A decision naming the area: its own stream, so version 0.
  const v1::HistoryEntry& decided = oldest_first[1];
  EXPECT_EQ(decided.event_type(), "DecisionRecorded");
  EXPECT_EQ(decided.version(), 0u);
  EXPECT_EQ(decided.decision_id(), kDecisionId);
  EXPECT_EQ(decided.event_id(), decision.event_id());
  EXPECT_EQ(decided.text(), "Handlingsplan för verksamhetsstödet fastställs");
  EXPECT_EQ(decided.business_date().text(), "2023-04-05");
  EXPECT_THAT(decided.changes(), IsEmpty());

  const v1::HistoryEntry& report = oldest_first[2];
  EXPECT_EQ(report.event_type(), "StatusReported");
  EXPECT_EQ(report.text(), "Arbetet går enligt plan");
  EXPECT_EQ(report.business_date().text(), "2023-06-12");
  EXPECT_EQ(report.business_date().precision(), v1::PLAN_DATE_PRECISION_DAY);
  EXPECT_THAT(report.changes(),
              ElementsAre(ChangeIs("phase", "planned", "in progress"),
                          ChangeIs("health", "unknown", "on track")));
  EXPECT_THAT(report.corrected_by(), ElementsAre(corrected.position()));
  EXPECT_EQ(report.corrects_position(), 0u);

  const v1::HistoryEntry& revision = oldest_first[3];
  EXPECT_EQ(revision.event_type(), "ScheduleRevised");
  EXPECT_EQ(revision.reason(), "Remissvaren från skolorna dröjde");
  EXPECT_EQ(revision.decision_id(), kDecisionId);
  EXPECT_THAT(revision.changes(),
              ElementsAre(ChangeIs("planned_end", "december 2023", "VT24")));
  EXPECT_THAT(revision.corrected_by(), IsEmpty());

  const v1::HistoryEntry& correction = oldest_first[4];
  EXPECT_EQ(correction.event_type(), "EntryCorrected");
  EXPECT_EQ(correction.corrects_position(), reported.position());
  EXPECT_EQ(correction.reason(), "Fel siffror i rapporten");
  EXPECT_EQ(correction.text(), "Arbetet var en månad försenat");
  EXPECT_THAT(correction.corrected_by(), IsEmpty());

  // Newest first (the default): the same entries reversed.
  std::vector<v1::HistoryEntry> newest_first = History("3.4.2", false);
  ASSERT_THAT(newest_first, SizeIs(5));
  std::reverse(newest_first.begin(), newest_first.end());
  for (size_t i = 0; i < newest_first.size(); ++i) {
    EXPECT_THAT(newest_first[i], ProtoEquals(oldest_first[i]));
  }

  // The decision is in the other area's history too.
  const std::vector<v1::HistoryEntry> other = History("3.4.1", true);
  ASSERT_THAT(other, SizeIs(2));
  EXPECT_EQ(other[1].position(), decision.position());
  EXPECT_EQ(other[1].decision_id(), kDecisionId);
  EXPECT_EQ(other[1].version(), 0u);
}

TEST_F(PlanQueriesE2eTest, GetHistoryRefusesUnknownAndMalformedAreas) {
  Do(BudgetFollowUp());
  v1::GetHistoryRequest request;
  request.set_area_id("9.9.9");
  request.set_min_position(last_position_);
  EXPECT_THAT(GetHistory(request),
              FailsWith(grpc::StatusCode::NOT_FOUND,
                        std::vector<std::string>{"area_id", "\"9.9.9\""}));
  // Not a prefix match: "3.4" is not "3.4.2".
  request.set_area_id("3.4");
  EXPECT_THAT(GetHistory(request),
              FailsWith(grpc::StatusCode::NOT_FOUND,
                        std::vector<std::string>{"area_id", "\"3.4\""}));
  request.set_area_id("3.4.2 ");
  EXPECT_THAT(GetHistory(request),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"area_id"}));
  request.set_area_id("3.4.2");
  request.set_page_token("bm90IGEgdG9rZW4");
  EXPECT_THAT(GetHistory(request),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"page_token"}));
}

TEST_F(PlanQueriesE2eTest, GetHistoryPagesThroughALongHistoryBothWays) {
  std::vector<uint64_t> written;
  written.push_back(
      Do(Register("2.1.3", "E-tjänst för bygglovsansökningar",
                  "Samhällsbyggnad", "Löpande", v1::PHASE_IN_PROGRESS))
          .position());
  // Another area's events interleave, and must not show.
  Do(Register("2.1.4", "Ny e-tjänst för färdtjänst", "Samhällsbyggnad",
              "VT 2093"));
  const v1::Health healths[] = {v1::HEALTH_ON_TRACK, v1::HEALTH_AT_RISK,
                                v1::HEALTH_OFF_TRACK};
  for (int i = 0; i < 250; ++i) {
    written.push_back(Do(Report("2.1.3", v1::PHASE_IN_PROGRESS, healths[i % 3],
                                absl::StrCat("Rapport ", i + 1)))
                          .position());
    if (i % 50 == 0) {
      Do(Report("2.1.4", v1::PHASE_PLANNED, v1::HEALTH_ON_TRACK, "Ok"));
    }
    if (HasFailure()) return;
  }
  ASSERT_THAT(written, SizeIs(251));

  for (const bool oldest_first : {true, false}) {
    SCOPED_TRACE(oldest_first ? "oldest first" : "newest first");
    v1::GetHistoryRequest request;
    request.set_area_id("2.1.3");
    request.set_oldest_first(oldest_first);
    request.set_page_size(100);
    request.set_min_position(last_position_);
    std::vector<v1::HistoryEntry> entries;
    std::vector<int> page_sizes;
    for (int page = 0; page < 10; ++page) {
      const Reply<v1::GetHistoryResponse> reply = GetHistory(request);
      ASSERT_THAT(reply, Succeeded());
      EXPECT_GE(reply.response.position(), last_position_);
      page_sizes.push_back(reply.response.entries_size());
      entries.insert(entries.end(), reply.response.entries().begin(),
                     reply.response.entries().end());
      if (reply.response.next_page_token().empty()) break;
      request.set_page_token(reply.response.next_page_token());
      request.set_min_position(0);
    }
    EXPECT_THAT(page_sizes, ElementsAre(100, 100, 51));
    std::vector<uint64_t> expected = written;
    if (!oldest_first) std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(Positions(entries), expected);
    for (size_t i = 0; i < entries.size(); ++i) {
      const uint64_t version = oldest_first ? i + 1 : entries.size() - i;
      EXPECT_EQ(entries[i].version(), version) << "entry " << i;
      EXPECT_EQ(entries[i].actor(), kPrincipal) << "entry " << i;
      if (version > 1) {
        EXPECT_EQ(entries[i].event_type(), "StatusReported");
        EXPECT_EQ(entries[i].text(), absl::StrCat("Rapport ", version - 1));
      }
    }
  }

  // The health changes as people read them; a repeated value is no change.
  const std::vector<v1::HistoryEntry> entries = History("2.1.3", true);
  ASSERT_THAT(entries, SizeIs(251));
  EXPECT_THAT(entries[1].changes(),
              ElementsAre(ChangeIs("health", "unknown", "on track")));
  EXPECT_THAT(entries[2].changes(),
              ElementsAre(ChangeIs("health", "on track", "at risk")));
  EXPECT_THAT(entries[3].changes(),
              ElementsAre(ChangeIs("health", "at risk", "off track")));
}

// --- ListDecisions --------------------------------------------------------

TEST_F(PlanQueriesE2eTest, ListDecisionsFiltersByBodyAreaAndDate) {
  Do(BudgetFollowUp());
  Do(Register("3.4.1", "Översyn av internprissättningen", "3.4", "Q4 2023"));
  Do(Register("2.1.1", "E-tjänst för bygglovsansökningar", "2.1", "Löpande"));
  Do(Decision("", "V-2022-0218", "Rektor", "2023-04-05", {"3.4.2", "3.4.1"}));
  Do(Decision("SG-2022-06", "SG-2022-06", "Styrgrupp", "juni 2022", {"3.4.1"}));
  Do(Decision("KS-2024-7", "KS-2024-7", "Kommunstyrelsen", "2024-01-15",
              {"2.1.1"}));

  auto list = [&](v1::ListDecisionsRequest request) {
    request.set_min_position(last_position_);
    const Reply<v1::ListDecisionsResponse> reply = ListDecisions(request);
    EXPECT_THAT(reply, Succeeded()) << request.ShortDebugString();
    return DecisionIds(reply.response);
  };
  // All, by the decision date.
  EXPECT_THAT(list(v1::ListDecisionsRequest()),
              ElementsAre("SG-2022-06", kDecisionId, "KS-2024-7"));

  v1::ListDecisionsRequest request;
  request.set_body("Styrgrupp");
  EXPECT_THAT(list(request), ElementsAre("SG-2022-06"));
  request.set_body("Rektor");
  EXPECT_THAT(list(request), ElementsAre(kDecisionId));
  request.set_body("Nämnden");
  EXPECT_THAT(list(request), IsEmpty());

  request = v1::ListDecisionsRequest();
  request.set_area_id("3.4.1");
  EXPECT_THAT(list(request), ElementsAre("SG-2022-06", kDecisionId));
  request.set_area_id("2.1.1");
  EXPECT_THAT(list(request), ElementsAre("KS-2024-7"));
  request.set_area_id("3.4.2");
  request.set_body("Styrgrupp");
  EXPECT_THAT(list(request), IsEmpty());

  request = v1::ListDecisionsRequest();
  request.set_decided_from("2023-01-01");
  EXPECT_THAT(list(request), ElementsAre(kDecisionId, "KS-2024-7"));
  request = v1::ListDecisionsRequest();
  request.set_decided_to("2023-12-31");
  EXPECT_THAT(list(request), ElementsAre("SG-2022-06", kDecisionId));
  // "juni 2022" ends on 30 June: it is in a range starting mid-June.
  request.set_decided_from("2022-06-15");
  EXPECT_THAT(list(request), ElementsAre("SG-2022-06", kDecisionId));
  request.set_decided_from("2022-07-01");
  EXPECT_THAT(list(request), ElementsAre(kDecisionId));
  request.set_decided_from("2023-04-05");
  request.set_decided_to("2023-04-05");
  EXPECT_THAT(list(request), ElementsAre(kDecisionId));

  // Two pages of two and one.
  request = v1::ListDecisionsRequest();
  request.set_page_size(2);
  request.set_min_position(last_position_);
  Reply<v1::ListDecisionsResponse> page = ListDecisions(request);
  ASSERT_THAT(page, Succeeded());
  EXPECT_THAT(DecisionIds(page.response),
              ElementsAre("SG-2022-06", kDecisionId));
  ASSERT_THAT(page.response.next_page_token(), Not(IsEmpty()));
  request.set_page_token(page.response.next_page_token());
  page = ListDecisions(request);
  ASSERT_THAT(page, Succeeded());
  EXPECT_THAT(DecisionIds(page.response), ElementsAre("KS-2024-7"));
  EXPECT_THAT(page.response.next_page_token(), IsEmpty());
  request.set_page_token("garbage");
  EXPECT_THAT(ListDecisions(request),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"page_token"}));

  // What a decision holds.
  request = v1::ListDecisionsRequest();
  request.set_area_id("3.4.2");
  request.set_min_position(last_position_);
  const Reply<v1::ListDecisionsResponse> reply = ListDecisions(request);
  ASSERT_THAT(reply, Succeeded());
  ASSERT_THAT(reply.response.decisions(), SizeIs(1));
  const v1::DecisionState& decision = reply.response.decisions(0);
  EXPECT_EQ(decision.reference(), "V-2022-0218");
  EXPECT_EQ(decision.body(), "Rektor");
  EXPECT_EQ(decision.decided_on().text(), "2023-04-05");
  EXPECT_THAT(decision.area_ids(), ElementsAre("3.4.2", "3.4.1"));
  EXPECT_EQ(decision.recorded_by(), kPrincipal);

  request = v1::ListDecisionsRequest();
  request.set_decided_from("sometime");
  EXPECT_THAT(ListDecisions(request),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"decided_from"}));
  request = v1::ListDecisionsRequest();
  request.set_decided_to("2023-13-45");
  EXPECT_THAT(ListDecisions(request),
              FailsWith(grpc::StatusCode::INVALID_ARGUMENT,
                        std::vector<std::string>{"decided_to"}));
}

}  // namespace
}  // namespace plantrail
