// plantrail.v1.PlanQueries and the Admin projection RPCs end to end: the
// real plantraild, started as a process on a free loopback port with a
// temporary data directory. The plan is written through PlanCommands and
// read back through the queries, waiting for each write with min_position
// (read your writes).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <utility>
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
#include "plantrail/v1/event_store.grpc.pb.h"
#include "plantrail/v1/plan.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "plantrail/v1/plan_queries.grpc.pb.h"
#include "tests/e2e/grpc_reply.h"
#include "tests/e2e/metrics_scrape.h"
#include "tests/e2e/server_test.h"

namespace plantrail {
namespace {

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
constexpr char kPrincipal[] = "admin";
// What RecordDecision derives from reference V-2022-0218 and 2023-04-05.
constexpr char kDecisionId[] = "V-2022-0218-2023-04-05";

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

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  google::protobuf::Timestamp timestamp;
  const int64_t micros = absl::ToUnixMicros(time);
  timestamp.set_seconds(micros / 1000000);
  timestamp.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return timestamp;
}

// "2024-03-07": the UTC day of `time`.
std::string DayText(absl::Time time) {
  return absl::FormatCivilTime(absl::ToCivilDay(time, absl::UTCTimeZone()));
}

std::vector<std::string> Ids(
    const google::protobuf::RepeatedPtrField<v1::AreaState>& areas) {
  std::vector<std::string> ids;
  for (const v1::AreaState& area : areas) ids.push_back(area.area_id());
  return ids;
}

std::vector<std::string> DecisionIds(const v1::ListDecisionsResponse& list) {
  std::vector<std::string> ids;
  for (const v1::DecisionState& d : list.decisions()) {
    ids.push_back(d.decision_id());
  }
  return ids;
}

std::vector<uint64_t> Positions(const std::vector<v1::HistoryEntry>& entries) {
  std::vector<uint64_t> positions;
  for (const v1::HistoryEntry& entry : entries) {
    positions.push_back(entry.position());
  }
  return positions;
}

// --- Requests -------------------------------------------------------------

v1::RegisterAreaRequest Register(const std::string& area_id,
                                 const std::string& title,
                                 const std::string& support_area,
                                 const std::string& planned_end,
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
v1::RegisterAreaRequest BudgetFollowUp() {
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

v1::ReportStatusRequest Report(const std::string& area_id, v1::Phase phase,
                               v1::Health health, const std::string& narrative,
                               const std::string& reported_on = "") {
  v1::ReportStatusRequest request;
  request.set_area_id(area_id);
  request.set_phase(phase);
  request.set_health(health);
  request.set_narrative(narrative);
  request.set_reported_on(reported_on);
  return request;
}

v1::ReviseScheduleRequest Reschedule(const std::string& area_id,
                                     const std::string& planned_end,
                                     const std::string& reason,
                                     const std::string& decision_id = "") {
  v1::ReviseScheduleRequest request;
  request.set_area_id(area_id);
  request.set_planned_end(planned_end);
  request.set_reason(reason);
  request.set_decision_id(decision_id);
  return request;
}

v1::CloseAreaRequest Close(const std::string& area_id, v1::Outcome outcome) {
  v1::CloseAreaRequest request;
  request.set_area_id(area_id);
  request.set_outcome(outcome);
  request.set_reason("Styrgruppen avslutar området");
  return request;
}

v1::RecordDecisionRequest Decision(const std::string& decision_id,
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

v1::CorrectEntryRequest Correct(const std::string& area_id, uint64_t position,
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

// --- min_position ---------------------------------------------------------

TEST_F(PlanQueriesE2eTest, MinPositionWaitsWithinTheCallsDeadline) {
  const v1::CommandResult registered = Do(BudgetFollowUp());
  const uint64_t head = HeadPosition();
  ASSERT_EQ(head, registered.position());

  // Beyond the head: nothing will get there within 300 ms.
  {
    v1::GetAreaRequest request;
    request.set_area_id("3.4.2");
    request.set_min_position(head + 1000);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(300));
    v1::GetAreaResponse response;
    const absl::Time start = absl::Now();
    const grpc::Status status = queries_->GetArea(&context, request, &response);
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << status.error_message();
    EXPECT_LT(took, absl::Seconds(5));
  }
  {
    v1::GetHistoryRequest request;
    request.set_area_id("3.4.2");
    request.set_min_position(head + 1);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(300));
    v1::GetHistoryResponse response;
    const grpc::Status status =
        queries_->GetHistory(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
        << status.error_message();
  }

  // Reached: answered.
  v1::GetAreaRequest request;
  request.set_area_id("3.4.2");
  request.set_min_position(head);
  const Reply<v1::GetAreaResponse> reply = GetArea(request);
  ASSERT_THAT(reply, Succeeded());
  EXPECT_GE(reply.response.position(), head);

  // Reached while waiting: a query for the next position, once the server
  // holds it (its metrics count the call begun, and it is not answered), is
  // answered when the command that writes the position is in, with what the
  // command wrote.
  ASSERT_NE(server_.metrics_port(), 0);
  const double begun = GetAreaCallsBegun();
  Reply<v1::GetAreaResponse> waited;
  std::atomic<bool> answered{false};
  std::thread reader([&] {
    v1::GetAreaRequest next;
    next.set_area_id("3.4.2");
    next.set_min_position(head + 1);
    waited = GetArea(next);
    answered = true;
  });
  const bool held = AwaitGetAreaCallsBegunBeyond(begun);
  EXPECT_FALSE(answered) << "answered before its position was written";
  const v1::CommandResult reported =
      Do(Report("3.4.2", v1::PHASE_IN_PROGRESS, v1::HEALTH_AT_RISK, "Sent"));
  reader.join();
  ASSERT_TRUE(held);
  EXPECT_EQ(reported.position(), head + 1);
  ASSERT_THAT(waited, Succeeded());
  EXPECT_GE(waited.response.position(), head + 1);
  EXPECT_EQ(waited.response.area().health(), v1::HEALTH_AT_RISK);
  EXPECT_EQ(waited.response.area().status_reports(), 1u);
}

// --- Admin: projections ---------------------------------------------------

TEST_F(PlanQueriesE2eTest, PortfolioAndDependenciesOverGrpc) {
  SeedPortfolio();
  v1::AddDependencyRequest depends;
  depends.set_area_id("3.4.2");
  depends.set_on_area_id("3.4.1");
  Do(depends);
  depends.set_area_id("3.4.1");
  depends.set_on_area_id("");
  depends.set_external("Ekonomisystemet");
  Do(depends);

  v1::GetPortfolioRequest portfolio_request;
  portfolio_request.set_min_position(last_position_);
  v1::GetPortfolioResponse portfolio;
  grpc::Status status =
      queries_->GetPortfolio(Context().get(), portfolio_request, &portfolio);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(portfolio.overall().areas(), 12u);
  EXPECT_EQ(portfolio.overall().open(), 10u);
  EXPECT_EQ(portfolio.overall().overdue(), 1u);  // 3.4.3, Q1 2020
  EXPECT_EQ(portfolio.overall().slipped_against_baseline(), 1u);  // 3.4.2
  EXPECT_EQ(portfolio.overall().by_health().at("HEALTH_OFF_TRACK"), 1u);
  ASSERT_EQ(portfolio.support_areas_size(), 3);
  EXPECT_EQ(portfolio.support_areas(0).support_area(), "2.1");
  EXPECT_EQ(portfolio.support_areas(1).support_area(), "3.4");
  EXPECT_EQ(portfolio.support_areas(1).areas(), 4u);
  EXPECT_EQ(portfolio.position(), last_position_);

  v1::GetDependenciesRequest graph_request;
  graph_request.set_area_id("3.4.1");
  graph_request.set_min_position(last_position_);
  v1::GetDependenciesResponse graph;
  status = queries_->GetDependencies(Context().get(), graph_request, &graph);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(graph.upstream_size(), 1);
  EXPECT_EQ(graph.upstream(0).dependency().external(), "Ekonomisystemet");
  ASSERT_EQ(graph.downstream_size(), 1);
  EXPECT_EQ(graph.downstream(0).area_id(), "3.4.2");
  EXPECT_EQ(graph.cycles_size(), 0);

  graph_request.set_area_id("9.9");
  status = queries_->GetDependencies(Context().get(), graph_request, &graph);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  graph_request.set_area_id("3.4.1");
  graph_request.set_if_end("Pilot HT 23");
  status = queries_->GetDependencies(Context().get(), graph_request, &graph);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("if_end: "));
}

// A dense graph a planner can build: 300 areas in a ring, each depending on
// the next ten, and one area depending on the ring with no way back to it.
// Walking every simple path through it would never end; the queries walk a
// bounded amount, answer in full, and leave the server healthy.
class DenseDependencyGraphE2eTest : public PlanQueriesE2eTest {
 protected:
  // Bulk writes: the fsync per command is not what this test is about.
  std::vector<std::string> ServerArgs() const override {
    return {"--durability", "none"};
  }

  static std::string RingId(int i) { return absl::StrCat("ring-", i); }

  // Sends the command `request(i)` for i in [0, count) from a few threads;
  // each must succeed.
  template <typename MakeRequest>
  void InParallel(int count, MakeRequest request) {
    constexpr int kThreads = 4;
    std::atomic<int> next{0};
    std::atomic<uint64_t> highest{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = next++; i < count; i = next++) {
          const Reply<v1::CommandResult> reply = Send(request(i));
          EXPECT_THAT(reply, Succeeded()) << i;
          uint64_t seen = highest.load();
          while (
              seen < reply.response.position() &&
              !highest.compare_exchange_weak(seen, reply.response.position())) {
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    last_position_ = std::max(last_position_, highest.load());
  }

  Reply<v1::GetDependenciesResponse> Dependencies(const std::string& area_id) {
    v1::GetDependenciesRequest request;
    request.set_area_id(area_id);
    request.set_min_position(last_position_);
    Reply<v1::GetDependenciesResponse> reply;
    reply.status =
        queries_->GetDependencies(Context().get(), request, &reply.response);
    return reply;
  }
};

TEST_F(DenseDependencyGraphE2eTest, ConcurrentQueriesAnswerAndServerStaysUp) {
  constexpr int kRing = 300;
  constexpr int kDegree = 10;
  InParallel(kRing + 1, [](int i) {
    return Register(i == kRing ? "entry" : RingId(i), "Område", "3.4", "VT24");
  });
  InParallel(kRing * kDegree + 1, [](int i) {
    v1::AddDependencyRequest depends;
    if (i == kRing * kDegree) {
      depends.set_area_id("entry");
      depends.set_on_area_id(RingId(0));
      return depends;
    }
    depends.set_area_id(RingId(i / kDegree));
    depends.set_on_area_id(RingId((i / kDegree + i % kDegree + 1) % kRing));
    return depends;
  });
  ASSERT_FALSE(HasFailure());

  // Two readers at once, on the area whose search used to run for ever.
  Reply<v1::GetDependenciesResponse> first;
  Reply<v1::GetDependenciesResponse> second;
  std::thread other([&] { second = Dependencies("entry"); });
  first = Dependencies("entry");
  other.join();
  for (const Reply<v1::GetDependenciesResponse>* reply : {&first, &second}) {
    ASSERT_THAT(*reply, Succeeded());
    const v1::GetDependenciesResponse& graph = reply->response;
    EXPECT_FALSE(graph.truncated());
    // entry -> ring-0, then every ring area's ten dependencies.
    EXPECT_EQ(graph.upstream_size(), 1 + kRing * kDegree);
    EXPECT_EQ(graph.downstream_size(), 0);
    EXPECT_EQ(graph.cycles_size(), 0);
    EXPECT_THAT(graph.cycle_area_ids(), IsEmpty());
  }

  // Inside the ring: every ring area is on a cycle through ring-0, and each
  // of its ten dependencies leads back by a shortest way round.
  const Reply<v1::GetDependenciesResponse> ring = Dependencies(RingId(0));
  ASSERT_THAT(ring, Succeeded());
  EXPECT_FALSE(ring.response.truncated());
  EXPECT_EQ(ring.response.cycle_area_ids_size(), kRing);
  EXPECT_THAT(ring.response.cycle_area_ids(),
              Not(::testing::Contains("entry")));
  ASSERT_EQ(ring.response.cycles_size(), kDegree);
  for (const v1::DependencyCycle& cycle : ring.response.cycles()) {
    ASSERT_GE(cycle.area_ids_size(), 3);
    EXPECT_EQ(cycle.area_ids(0), RingId(0));
    EXPECT_EQ(cycle.area_ids(cycle.area_ids_size() - 1), RingId(0));
    EXPECT_LE(cycle.area_ids_size(), kRing / kDegree + 2);
  }
  // The ring's areas, and entry, depend on ring-0 (downstream), each once.
  std::set<std::string> dependents;
  for (const v1::DependencyLink& link : ring.response.downstream()) {
    dependents.insert(link.area_id());
  }
  EXPECT_EQ(dependents.size(), static_cast<size_t>(kRing + 1));

  // Still healthy.
  std::string health;
  const grpc::Status status = plantrail::testing::RawUnary(
      channel_, Context().get(), "/grpc.health.v1.Health/Check", "", &health);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(health, std::string("\x08\x01", 2));
}

TEST_F(PlanQueriesE2eTest, ShutdownReleasesQueriesWaitingForAPosition) {
  Do(Register("3.4.2", "Budgetuppföljning", "3.4", "VT24"));
  ASSERT_NE(server_.metrics_port(), 0);
  const double begun = GetAreaCallsBegun();
  // A query waiting for a position that never comes, with a long deadline.
  v1::GetAreaResponse response;
  grpc::Status waited;
  std::chrono::steady_clock::time_point released;
  std::thread waiter([&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(25));
    v1::GetAreaRequest request;
    request.set_area_id("3.4.2");
    request.set_min_position(last_position_ + 1000);
    waited = queries_->GetArea(&context, request, &response);
    released = std::chrono::steady_clock::now();
  });
  // The server holds the query once its metrics count the call begun.
  const bool held = AwaitGetAreaCallsBegunBeyond(begun);
  const auto stopping = std::chrono::steady_clock::now();
  const int exit_status = server_.Stop(SIGTERM);
  waiter.join();
  ASSERT_TRUE(held);
  ASSERT_TRUE(WIFEXITED(exit_status)) << exit_status;
  EXPECT_EQ(WEXITSTATUS(exit_status), 0);
  // Released by the shutdown, which stops the projections first: their
  // answer, at once. Not the 10 s grace for calls in flight running out, nor
  // the call's own 25 s deadline.
  EXPECT_EQ(waited.error_code(), grpc::StatusCode::UNAVAILABLE)
      << waited.error_message();
  EXPECT_THAT(waited.error_message(), HasSubstr("projection"));
  EXPECT_LT(released - stopping, std::chrono::seconds(5));
}

TEST_F(PlanQueriesE2eTest, ListProjectionsShowsBothCaughtUp) {
  SeedPortfolio();
  const uint64_t head = HeadPosition();
  ASSERT_EQ(head, last_position_);
  WaitForProjections(head);
  const std::map<std::string, v1::ProjectionStatus> projections = Projections();
  ASSERT_EQ(projections.size(), 2u);
  for (const char* name : {"area_state", "history"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(projections.contains(name));
    const v1::ProjectionStatus& status = projections.at(name);
    EXPECT_EQ(status.state(), v1::PROJECTION_STATE_RUNNING);
    EXPECT_EQ(status.checkpoint(), head);
    EXPECT_EQ(status.head_position(), head);
    EXPECT_EQ(status.lag(), 0u);
    EXPECT_EQ(status.generation(), 1u);
    EXPECT_EQ(status.events_applied(), head);
    EXPECT_EQ(status.rebuild_checkpoint(), 0u);
    EXPECT_THAT(status.error(), IsEmpty());
  }
}

TEST_F(PlanQueriesE2eTest, RebuildProjectionOfAnUnknownNameIsNotFound) {
  EXPECT_THAT(Rebuild("areas"),
              FailsWith(grpc::StatusCode::NOT_FOUND,
                        std::vector<std::string>{"name", "\"areas\"",
                                                 "area_state", "history"}));
  EXPECT_THAT(Rebuild(""), FailsWith(grpc::StatusCode::NOT_FOUND,
                                     std::vector<std::string>{
                                         "name", "area_state", "history"}));
}

TEST_F(PlanQueriesE2eTest,
       RebuildHistoryWhileWritingKeepsAnsweringAndEndsComplete) {
  // A quiet area, not written during the rebuild, with a correction.
  const v1::CommandResult quiet_registered = Do(
      Register("3.4.1", "Översyn av internprissättningen", "3.4", "Q4 2090"));
  for (int i = 0; i < 30; ++i) {
    Do(Report("3.4.1", v1::PHASE_IN_PROGRESS, v1::HEALTH_ON_TRACK,
              absl::StrCat("Tyst rapport ", i + 1)));
  }
  Do(Correct("3.4.1", quiet_registered.position(), "Fel titel"));
  // The busy area, written throughout.
  Do(BudgetFollowUp());
  Do(Decision("", "V-2022-0218", "Rektor", "2023-04-05", {"3.4.2", "3.4.1"}));
  WaitForProjections(last_position_);
  const std::vector<v1::HistoryEntry> quiet_before =
      History("3.4.1", true, last_position_);
  ASSERT_THAT(quiet_before, SizeIs(33));
  ASSERT_EQ(Projections()["history"].generation(), 1u);

  // A writer keeps reporting on 3.4.2 for about a second.
  std::atomic<int> written{0};
  std::atomic<bool> writing{true};
  uint64_t writer_last_position = 0;
  uint64_t writer_last_version = 0;
  std::vector<std::string> writer_errors;
  std::thread writer([&] {
    const absl::Time until = absl::Now() + absl::Seconds(1);
    for (int i = 0; absl::Now() < until; ++i) {
      const Reply<v1::CommandResult> reply =
          Send(Report("3.4.2", v1::PHASE_IN_PROGRESS, v1::HEALTH_ON_TRACK,
                      absl::StrCat("Under ombyggnad ", i)));
      if (!reply.status.ok()) {
        writer_errors.push_back(reply.status.error_message());
        break;
      }
      writer_last_position = reply.response.position();
      writer_last_version = reply.response.version();
      written.fetch_add(1);
    }
    writing = false;
  });
  // Start the rebuild once writes are flowing.
  const absl::Time flowing_deadline = absl::Now() + absl::Seconds(10);
  while (written.load() < 5 && writing.load() &&
         absl::Now() < flowing_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const Reply<v1::RebuildProjectionResponse> started = Rebuild("history");
  EXPECT_THAT(started, Succeeded());
  EXPECT_EQ(started.response.status().name(), "history");
  EXPECT_THAT(started.response.status().state(),
              AnyOf(Eq(v1::PROJECTION_STATE_REBUILDING),
                    Eq(v1::PROJECTION_STATE_RUNNING)));

  // Meanwhile queries keep answering, and never with less than before.
  size_t busy_seen = 0;
  int queries = 0;
  int rebuilding_seen = 0;
  bool promoted = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline && (writing.load() || !promoted)) {
    ++queries;
    v1::GetHistoryRequest request;
    request.set_area_id("3.4.1");
    request.set_oldest_first(true);
    request.set_page_size(1000);
    const Reply<v1::GetHistoryResponse> quiet = GetHistory(request);
    ASSERT_THAT(quiet, Succeeded()) << "query " << queries;
    ASSERT_GE(static_cast<size_t>(quiet.response.entries_size()),
              quiet_before.size())
        << "query " << queries;
    request.set_area_id("3.4.2");
    const Reply<v1::GetHistoryResponse> busy = GetHistory(request);
    ASSERT_THAT(busy, Succeeded()) << "query " << queries;
    ASSERT_GE(static_cast<size_t>(busy.response.entries_size()), busy_seen)
        << "query " << queries;
    busy_seen = busy.response.entries_size();

    const v1::ProjectionStatus status = Projections()["history"];
    if (status.state() == v1::PROJECTION_STATE_REBUILDING) ++rebuilding_seen;
    ASSERT_NE(status.state(), v1::PROJECTION_STATE_FAILED) << status.error();
    promoted = status.state() == v1::PROJECTION_STATE_RUNNING &&
               status.generation() == 2;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  writing = false;
  writer.join();
  EXPECT_THAT(writer_errors, IsEmpty());
  EXPECT_TRUE(promoted) << "history never reached generation 2";
  EXPECT_GT(written.load(), 5);
  std::cerr << "[ info ] " << written.load() << " reports written, " << queries
            << " query rounds, " << rebuilding_seen
            << " of them while rebuilding\n";

  // Complete afterwards: every event of 3.4.2, plus the decision.
  last_position_ = std::max(last_position_, writer_last_position);
  const std::vector<v1::HistoryEntry> busy = History("3.4.2", true);
  EXPECT_EQ(busy.size(), writer_last_version + 1);
  const std::vector<v1::RecordedEvent> events = ReadStream("area-3.4.2");
  ASSERT_EQ(events.size(), writer_last_version);
  std::vector<uint64_t> positions;
  for (const v1::RecordedEvent& event : events) {
    positions.push_back(event.position());
  }
  std::vector<uint64_t> history_positions = Positions(busy);
  history_positions.erase(
      std::remove_if(history_positions.begin(), history_positions.end(),
                     [&](uint64_t p) {
                       return std::find(positions.begin(), positions.end(),
                                        p) == positions.end();
                     }),
      history_positions.end());
  EXPECT_EQ(history_positions, positions);
  // The rebuilt quiet history is the same, correction marks included.
  const std::vector<v1::HistoryEntry> quiet_after =
      History("3.4.1", true, last_position_);
  ASSERT_EQ(quiet_after.size(), quiet_before.size());
  for (size_t i = 0; i < quiet_after.size(); ++i) {
    EXPECT_THAT(quiet_after[i], ProtoEquals(quiet_before[i])) << "entry " << i;
  }
  EXPECT_THAT(quiet_after[0].corrected_by(), SizeIs(1));

  WaitForProjections(last_position_);
  std::map<std::string, v1::ProjectionStatus> projections = Projections();
  EXPECT_EQ(projections["history"].state(), v1::PROJECTION_STATE_RUNNING);
  EXPECT_EQ(projections["history"].generation(), 2u);
  EXPECT_EQ(projections["history"].checkpoint(), last_position_);
  EXPECT_EQ(projections["history"].lag(), 0u);
  EXPECT_EQ(projections["history"].rebuild_checkpoint(), 0u);
  // The other projection was left alone.
  EXPECT_EQ(projections["area_state"].generation(), 1u);
  EXPECT_EQ(projections["area_state"].checkpoint(), last_position_);
}

TEST_F(PlanQueriesE2eTest, RebuildWhileRebuildingIsFailedPrecondition) {
  Do(BudgetFollowUp());
  for (int i = 0; i < 100; ++i) {
    Do(Report("3.4.2", v1::PHASE_IN_PROGRESS, v1::HEALTH_ON_TRACK,
              absl::StrCat("Rapport ", i + 1)));
  }
  WaitForProjections(last_position_);
  const std::vector<v1::HistoryEntry> before = History("3.4.2");

  EXPECT_THAT(Rebuild("area_state"), Succeeded());
  const Reply<v1::RebuildProjectionResponse> second = Rebuild("area_state");
  // The first may already be done: then the second is a new rebuild.
  ASSERT_THAT(second.status.error_code(),
              AnyOf(Eq(grpc::StatusCode::OK),
                    Eq(grpc::StatusCode::FAILED_PRECONDITION)))
      << second.status.error_message();
  if (!second.status.ok()) {
    EXPECT_THAT(second.status.error_message(),
                HasSubstr("already being rebuilt"));
  }
  std::cerr << "[ info ] second rebuild: "
            << (second.status.ok() ? "OK (the first had finished)"
                                   : "FAILED_PRECONDITION")
            << "\n";
  const uint64_t generation = second.status.ok() ? 3 : 2;
  const v1::ProjectionStatus status = AwaitGeneration("area_state", generation);
  EXPECT_EQ(status.state(), v1::PROJECTION_STATE_RUNNING);
  EXPECT_EQ(status.generation(), generation);

  // The rebuilt copy answers as the old one did.
  const v1::AreaState area = Area("3.4.2");
  EXPECT_EQ(area.version(), 101u);
  EXPECT_EQ(area.status_reports(), 100u);
  const std::vector<v1::HistoryEntry> after = History("3.4.2");
  EXPECT_EQ(after.size(), before.size());
}

// --- Restart ----------------------------------------------------------------

TEST_F(PlanQueriesE2eTest, QueriesAnswerTheSameAfterARestart) {
  SeedPortfolio();
  Do(Decision("", "V-2022-0218", "Rektor", "2023-04-05", {"3.4.2", "3.4.1"}));
  const v1::CommandResult reported =
      Do(Report("3.4.1", v1::PHASE_IN_PROGRESS, v1::HEALTH_AT_RISK, "Sent"));
  Do(Correct("3.4.1", reported.position(), "Var i tid"));
  const uint64_t head = last_position_;
  WaitForProjections(head);

  // Everything the queries say now.
  auto ask = [&] {
    std::vector<std::string> answers;
    auto keep = [&](const auto& reply) {
      EXPECT_THAT(reply, Succeeded());
      answers.push_back(reply.response.SerializeAsString());
    };
    for (const char* id : {"3.4.1", "3.4.2", "HR.4"}) {
      v1::GetAreaRequest area;
      area.set_area_id(id);
      area.set_min_position(head);
      keep(GetArea(area));
      area.set_at_position(head - 3);
      keep(GetArea(area));
      v1::GetHistoryRequest history;
      history.set_area_id(id);
      history.set_min_position(head);
      keep(GetHistory(history));
      history.set_oldest_first(true);
      history.set_page_size(2);
      keep(GetHistory(history));
    }
    for (const v1::AreaSort sort :
         {v1::AREA_SORT_AREA_ID, v1::AREA_SORT_PLANNED_END,
          v1::AREA_SORT_UPDATED}) {
      v1::ListAreasRequest list;
      list.set_sort(sort);
      list.set_min_position(head);
      keep(ListAreas(list));
    }
    v1::ListAreasRequest open;
    open.set_open_only(true);
    open.set_page_size(4);
    keep(ListAreas(open));
    v1::ListDecisionsRequest decisions;
    decisions.set_min_position(head);
    keep(ListDecisions(decisions));
    return answers;
  };
  const std::vector<std::string> before = ask();

  Restart();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(HeadPosition(), head);
  const std::vector<std::string> after = ask();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i], before[i]) << "answer " << i;
  }

  // The projections resumed from their checkpoints: nothing was re-applied.
  for (const auto& [name, status] : Projections()) {
    SCOPED_TRACE(name);
    EXPECT_EQ(status.state(), v1::PROJECTION_STATE_RUNNING);
    EXPECT_EQ(status.checkpoint(), head);
    EXPECT_EQ(status.lag(), 0u);
    EXPECT_EQ(status.events_applied(), 0u);
  }

  // And carry on from there.
  const v1::CommandResult more =
      Do(Report("3.4.1", v1::PHASE_PAUSED, v1::HEALTH_OFF_TRACK, "Pausat"));
  EXPECT_EQ(more.position(), head + 1);
  EXPECT_EQ(Area("3.4.1").phase(), v1::PHASE_PAUSED);
  const std::vector<v1::HistoryEntry> history = History("3.4.1", false);
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history[0].position(), more.position());
  EXPECT_THAT(history[0].changes(),
              UnorderedElementsAre(ChangeIs("phase", "in progress", "paused"),
                                   ChangeIs("health", "at risk", "off track")));
}

}  // namespace
}  // namespace plantrail
