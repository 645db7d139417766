// The fixture of the PlanQueries end-to-end tests: PlanQueriesE2eTest (a
// real plantraild with its metrics endpoint, and helpers that write through
// PlanCommands and read back through the queries), the requests the tests
// send, and matchers for what comes back. A header because the tests are
// split by feature over four files of one binary, e2e_plan_queries_test:
// plan_queries_e2e_test.cc (GetArea, ListAreas),
// plan_queries_history_e2e_test.cc (GetHistory, ListDecisions),
// plan_queries_portfolio_e2e_test.cc (GetPortfolio, GetDependencies) and
// plan_queries_projections_e2e_test.cc (min_position, the projections,
// restarts). A named namespace: one suite's tests in several files must
// share one fixture class.
#ifndef PLANTRAIL_TESTS_E2E_PLAN_QUERIES_E2E_FIXTURE_H_
#define PLANTRAIL_TESTS_E2E_PLAN_QUERIES_E2E_FIXTURE_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/plan.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"
#include "tests/e2e/grpc_reply.h"
#include "tests/e2e/metrics_scrape.h"
#include "tests/e2e/server_test.h"

namespace plantrail::plan_queries_testing {

using ::google::protobuf::util::MessageDifferencer;
using ::plantrail::testing::FailsWith;
using ::plantrail::testing::Reply;
using ::plantrail::testing::Succeeded;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// The principal of the first start's admin token, which the tests use.
inline constexpr char kPrincipal[] = "admin";
// What RecordDecision derives from reference V-2022-0218 and 2023-04-05.
inline constexpr char kDecisionId[] = "V-2022-0218-2023-04-05";

// What one call came back with.
MATCHER_P3(ChangeIs, field, before, after, "") {
  if (arg.field() == field && arg.before() == before && arg.after() == after) {
    return true;
  }
  *result_listener << "is {" << arg.ShortDebugString() << "}";
  return false;
}

MATCHER_P(ProtoEquals, expected, "") {
  std::string difference;
  MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&difference);
  if (differencer.Compare(expected, arg)) return true;
  *result_listener << difference;
  return false;
}

using ::plantrail::testing::ToTime;

inline google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  google::protobuf::Timestamp timestamp;
  const int64_t micros = absl::ToUnixMicros(time);
  timestamp.set_seconds(micros / 1000000);
  timestamp.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return timestamp;
}

// "2024-03-07": the UTC day of `time`.
inline std::string DayText(absl::Time time) {
  return absl::FormatCivilTime(absl::ToCivilDay(time, absl::UTCTimeZone()));
}

inline std::vector<std::string> Ids(
    const google::protobuf::RepeatedPtrField<v1::AreaState>& areas) {
  std::vector<std::string> ids;
  for (const v1::AreaState& area : areas) ids.push_back(area.area_id());
  return ids;
}

inline std::vector<std::string> DecisionIds(
    const v1::ListDecisionsResponse& list) {
  std::vector<std::string> ids;
  for (const v1::DecisionState& d : list.decisions()) {
    ids.push_back(d.decision_id());
  }
  return ids;
}

inline std::vector<uint64_t> Positions(
    const std::vector<v1::HistoryEntry>& entries) {
  std::vector<uint64_t> positions;
  for (const v1::HistoryEntry& entry : entries) {
    positions.push_back(entry.position());
  }
  return positions;
}

// --- Requests -------------------------------------------------------------

inline v1::RegisterAreaRequest Register(
    const std::string& area_id, const std::string& title,
    const std::string& support_area, const std::string& planned_end,
    v1::Phase phase = v1::PHASE_UNSPECIFIED) {
  v1::RegisterAreaRequest request;
  request.set_area_id(area_id);
  request.set_title(title);
  request.set_support_area(support_area);
  request.set_planned_end(planned_end);
  request.set_phase(phase);
  request.add_responsible_units("Planeringsenheten");
  return request;
}

// KTH action plan V-2022-0218, support area 3.4 (finance).
inline v1::RegisterAreaRequest BudgetFollowUp() {
  v1::RegisterAreaRequest request;
  request.set_area_id("3.4.2");
  request.set_title("Gemensam modell för budgetuppföljning");
  request.set_support_area("3.4");
  request.set_group("Ekonomi");
  request.add_participating_units("ABE");
  request.add_responsible_units("GVS Ekonomiavdelningen");
  request.set_planned_period("Start april 2023 – slut december 2023");
  return request;
}

inline v1::ReportStatusRequest Report(const std::string& area_id,
                                      v1::Phase phase, v1::Health health,
                                      const std::string& narrative,
                                      const std::string& reported_on = "") {
  v1::ReportStatusRequest request;
  request.set_area_id(area_id);
  request.set_phase(phase);
  request.set_health(health);
  request.set_narrative(narrative);
  request.set_reported_on(reported_on);
  return request;
}

inline v1::ReviseScheduleRequest Reschedule(
    const std::string& area_id, const std::string& planned_end,
    const std::string& reason, const std::string& decision_id = "") {
  v1::ReviseScheduleRequest request;
  request.set_area_id(area_id);
  request.set_planned_end(planned_end);
  request.set_reason(reason);
  request.set_decision_id(decision_id);
  return request;
}

inline v1::CloseAreaRequest Close(const std::string& area_id,
                                  v1::Outcome outcome) {
  v1::CloseAreaRequest request;
  request.set_area_id(area_id);
  request.set_outcome(outcome);
  request.set_reason("Styrgruppen avslutar området");
  return request;
}

inline v1::RecordDecisionRequest Decision(const std::string& decision_id,
                                          const std::string& reference,
                                          const std::string& body,
                                          const std::string& decided_on,
                                          std::vector<std::string> area_ids) {
  v1::RecordDecisionRequest request;
  request.set_decision_id(decision_id);
  request.set_reference(reference);
  request.set_body(body);
  request.set_decided_on(decided_on);
  request.set_title(absl::StrCat("Beslut ", reference));
  for (const std::string& id : area_ids) request.add_area_ids(id);
  request.set_outcome("Fastställt");
  return request;
}

inline v1::CorrectEntryRequest Correct(const std::string& area_id,
                                       uint64_t position,
                                       const std::string& correction) {
  v1::CorrectEntryRequest request;
  request.set_area_id(area_id);
  request.set_position(position);
  request.set_reason("Fel siffror i rapporten");
  request.set_correction(correction);
  return request;
}

class PlanQueriesE2eTest : public plantrail::testing::ServerTest {
 protected:
  // The metrics endpoint: tests see there when the server holds a query.
  std::vector<std::string> ServerArgs() const override {
    return {"--metrics-listen", "127.0.0.1:0"};
  }

  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    queries_ = v1::PlanQueries::NewStub(channel_);
  }

  // How many GetArea calls the server has begun, by its metrics: a query a
  // test sent is held by the server once the count passes what it was.
  double GetAreaCallsBegun() {
    const plantrail::testing::Scrape scrape = plantrail::testing::Parse(
        plantrail::testing::FetchMetrics(server_.metrics_port()));
    const std::string started = plantrail::testing::Rpc(
        "grpc_server_started_total", "PlanQueries", "GetArea");
    return scrape.contains(started) ? scrape.at(started) : 0;
  }

  // Scrapes until the server has begun more than `before` GetArea calls;
  // false (and a test failure) if it has not within 30 s.
  bool AwaitGetAreaCallsBegunBeyond(double before) {
    const std::string started = plantrail::testing::Rpc(
        "grpc_server_started_total", "PlanQueries", "GetArea");
    return plantrail::testing::ScrapeUntil(
               server_.metrics_port(), "the waiting GetArea call begun",
               [&](const plantrail::testing::Scrape& scrape) {
                 return scrape.contains(started) && scrape.at(started) > before;
               })
        .has_value();
  }

  // RestartServer() closes the channel first; so must the query stub.
  void Restart() {
    queries_.reset();
    RestartServer();
    if (HasFatalFailure()) return;
    queries_ = v1::PlanQueries::NewStub(channel_);
  }

  // --- Commands -----------------------------------------------------------

  template <typename Request>
  Reply<v1::CommandResult> Send(const Request& request) {
    Reply<v1::CommandResult> reply;
    reply.status = Invoke(Context().get(), request, &reply.response);
    return reply;
  }

  // Sends a command that must succeed; remembers its position.
  template <typename Request>
  v1::CommandResult Do(const Request& request) {
    Reply<v1::CommandResult> reply = Send(request);
    EXPECT_THAT(reply, Succeeded()) << request.ShortDebugString();
    last_position_ = std::max(last_position_, reply.response.position());
    return reply.response;
  }

  // --- Queries ------------------------------------------------------------

  Reply<v1::GetAreaResponse> GetArea(const v1::GetAreaRequest& request) {
    Reply<v1::GetAreaResponse> reply;
    reply.status = queries_->GetArea(Context().get(), request, &reply.response);
    return reply;
  }
  Reply<v1::ListAreasResponse> ListAreas(const v1::ListAreasRequest& request) {
    Reply<v1::ListAreasResponse> reply;
    reply.status =
        queries_->ListAreas(Context().get(), request, &reply.response);
    return reply;
  }
  Reply<v1::GetHistoryResponse> GetHistory(
      const v1::GetHistoryRequest& request) {
    Reply<v1::GetHistoryResponse> reply;
    reply.status =
        queries_->GetHistory(Context().get(), request, &reply.response);
    return reply;
  }
  Reply<v1::ListDecisionsResponse> ListDecisions(
      const v1::ListDecisionsRequest& request) {
    Reply<v1::ListDecisionsResponse> reply;
    reply.status =
        queries_->ListDecisions(Context().get(), request, &reply.response);
    return reply;
  }

  // The current state of `area_id` once everything written so far is in.
  v1::AreaState Area(const std::string& area_id) {
    v1::GetAreaRequest request;
    request.set_area_id(area_id);
    request.set_min_position(last_position_);
    Reply<v1::GetAreaResponse> reply = GetArea(request);
    EXPECT_THAT(reply, Succeeded()) << area_id;
    return reply.response.area();
  }

  v1::AreaState AreaAt(const std::string& area_id, uint64_t position) {
    v1::GetAreaRequest request;
    request.set_area_id(area_id);
    request.set_at_position(position);
    Reply<v1::GetAreaResponse> reply = GetArea(request);
    EXPECT_THAT(reply, Succeeded()) << area_id << " at " << position;
    return reply.response.area();
  }

  // The ids ListAreas answers `request` with, on one page, once everything
  // written so far is in.
  std::vector<std::string> ListedIds(v1::ListAreasRequest request) {
    request.set_min_position(last_position_);
    request.set_page_size(1000);
    Reply<v1::ListAreasResponse> reply = ListAreas(request);
    EXPECT_THAT(reply, Succeeded()) << request.ShortDebugString();
    EXPECT_EQ(static_cast<int>(reply.response.total()),
              reply.response.areas_size());
    EXPECT_THAT(reply.response.next_page_token(), IsEmpty());
    return Ids(reply.response.areas());
  }

  // The whole history of `area_id`, page by page; `min_position` on the
  // first page.
  std::vector<v1::HistoryEntry> History(const std::string& area_id,
                                        bool oldest_first,
                                        uint64_t min_position,
                                        uint32_t page_size = 1000) {
    std::vector<v1::HistoryEntry> entries;
    v1::GetHistoryRequest request;
    request.set_area_id(area_id);
    request.set_oldest_first(oldest_first);
    request.set_page_size(page_size);
    request.set_min_position(min_position);
    for (int page = 0; page < 10000; ++page) {
      Reply<v1::GetHistoryResponse> reply = GetHistory(request);
      EXPECT_THAT(reply, Succeeded()) << area_id << " page " << page;
      if (!reply.status.ok()) break;
      EXPECT_LE(reply.response.entries_size(), static_cast<int>(page_size));
      entries.insert(entries.end(), reply.response.entries().begin(),
                     reply.response.entries().end());
      if (reply.response.next_page_token().empty()) break;
      request.set_page_token(reply.response.next_page_token());
      request.set_min_position(0);
    }
    return entries;
  }

  std::vector<v1::HistoryEntry> History(const std::string& area_id,
                                        bool oldest_first = true) {
    return History(area_id, oldest_first, last_position_);
  }

  // --- Event store and admin ----------------------------------------------

  // Waits (through min_position) until both projections have applied
  // `position`.
  void WaitForProjections(uint64_t position) {
    v1::ListAreasRequest areas;
    areas.set_min_position(position);
    areas.set_page_size(1);
    EXPECT_THAT(ListAreas(areas), Succeeded());
    v1::GetHistoryRequest history;
    // Any valid id will do: the wait comes before the answer.
    history.set_area_id("no-such-area");
    history.set_min_position(position);
    const Reply<v1::GetHistoryResponse> reply = GetHistory(history);
    EXPECT_NE(reply.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << reply.status.error_message();
  }

  std::map<std::string, v1::ProjectionStatus> Projections() {
    v1::ListProjectionsResponse response;
    const grpc::Status status = admin_->ListProjections(
        Context().get(), v1::ListProjectionsRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::map<std::string, v1::ProjectionStatus> by_name;
    for (const v1::ProjectionStatus& projection : response.projections()) {
      by_name[projection.name()] = projection;
    }
    return by_name;
  }

  Reply<v1::RebuildProjectionResponse> Rebuild(const std::string& name) {
    v1::RebuildProjectionRequest request;
    request.set_name(name);
    Reply<v1::RebuildProjectionResponse> reply;
    reply.status =
        admin_->RebuildProjection(Context().get(), request, &reply.response);
    return reply;
  }

  // Polls ListProjections (at most 20 s) until `name` is RUNNING at
  // `generation`; returns its last status.
  v1::ProjectionStatus AwaitGeneration(const std::string& name,
                                       uint64_t generation) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    v1::ProjectionStatus status;
    while (absl::Now() < deadline) {
      status = Projections()[name];
      if (status.state() == v1::PROJECTION_STATE_RUNNING &&
          status.generation() >= generation) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return status;
  }

  // --- The portfolio used by the ListAreas tests --------------------------

  // Twelve areas in three support areas. Planned ends are far in the future
  // except for 3.4.3 (Q1 2020, open: overdue) and 3.4.4 (2022, closed).
  // Phases and healths after the seed:
  //   2.1.1  in progress  off track   ongoing (undated)
  //   2.1.2  proposed     unknown     HT 2091
  //   2.1.3  paused       at risk     2092
  //   2.1.4  planned      unknown     VT 2093
  //   3.4.1  in progress  unknown     Q4 2090
  //   3.4.2  in progress  at risk     december 2088, rescheduled to VT 2089
  //   3.4.3  in progress  unknown     Q1 2020
  //   3.4.4  completed    unknown     2022, closed
  //   HR.1   in progress  on track    2095
  //   HR.2   planned      unknown     december 2094
  //   HR.3   proposed     unknown     (none)
  //   HR.4   cancelled    unknown     Q2 2096, closed
  // Returns the position of each area's last event.
  std::map<std::string, uint64_t> SeedPortfolio() {
    std::map<std::string, uint64_t> last;
    auto note = [&](const v1::CommandResult& result, const std::string& id) {
      last[id] = result.position();
    };
    note(Do(Register("HR.1", "Kompetensförsörjning", "HR", "2095",
                     v1::PHASE_IN_PROGRESS)),
         "HR.1");
    note(Do(Register("3.4.1", "Översyn av internprissättningen", "3.4",
                     "Q4 2090", v1::PHASE_IN_PROGRESS)),
         "3.4.1");
    note(Do(Register("2.1.1", "E-tjänst för bygglovsansökningar", "2.1",
                     "Löpande", v1::PHASE_IN_PROGRESS)),
         "2.1.1");
    note(Do(Register("3.4.2", "Gemensam modell för budgetuppföljning", "3.4",
                     "december 2088")),
         "3.4.2");
    note(Do(Register("2.1.2", "Digital detaljplanering", "2.1", "HT 2091",
                     v1::PHASE_PROPOSED)),
         "2.1.2");
    note(Do(Register("3.4.3", "Digital attest av fakturor", "3.4", "Q1 2020",
                     v1::PHASE_IN_PROGRESS)),
         "3.4.3");
    note(Do(Register("HR.2", "Lönekartläggning", "HR", "december 2094")),
         "HR.2");
    note(Do(Register("2.1.3", "Bredband på landsbygden", "2.1", "2092")),
         "2.1.3");
    note(Do(Register("HR.3", "Friskvårdssatsning", "HR", "",
                     v1::PHASE_PROPOSED)),
         "HR.3");
    note(Do(Register("3.4.4", "Avveckling av gamla kassasystemet", "3.4",
                     "2022")),
         "3.4.4");
    note(Do(Register("2.1.4", "Ny e-tjänst för färdtjänst", "2.1", "VT 2093")),
         "2.1.4");
    note(Do(Register("HR.4", "E-tjänst för semesteransökan", "HR", "Q2 2096")),
         "HR.4");
    note(Do(Report("2.1.1", v1::PHASE_IN_PROGRESS, v1::HEALTH_OFF_TRACK,
                   "Leverantören är försenad")),
         "2.1.1");
    note(Do(Report("3.4.2", v1::PHASE_IN_PROGRESS, v1::HEALTH_AT_RISK,
                   "Remissvaren dröjer")),
         "3.4.2");
    note(Do(Reschedule("3.4.2", "VT 2089", "Remissvaren från skolorna dröjde")),
         "3.4.2");
    note(Do(Report("2.1.3", v1::PHASE_PAUSED, v1::HEALTH_AT_RISK,
                   "Väntar på statligt stöd")),
         "2.1.3");
    note(Do(Report("HR.1", v1::PHASE_IN_PROGRESS, v1::HEALTH_ON_TRACK,
                   "Enligt plan")),
         "HR.1");
    note(Do(Close("3.4.4", v1::OUTCOME_COMPLETED)), "3.4.4");
    note(Do(Close("HR.4", v1::OUTCOME_CANCELLED)), "HR.4");
    return last;
  }

  std::unique_ptr<v1::PlanQueries::Stub> queries_;
  // The highest position any command of the test has returned.
  uint64_t last_position_ = 0;
};

}  // namespace plantrail::plan_queries_testing

#endif  // PLANTRAIL_TESTS_E2E_PLAN_QUERIES_E2E_FIXTURE_H_
