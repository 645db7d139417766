// The projections behind PlanQueries end to end: min_position (read your
// writes) and what shutdown does to a query waiting for it, the Admin
// projection RPCs (list, rebuild while answering), and a restart. Apart from
// plan_queries_e2e_test.cc (GetArea, ListAreas), one feature a file; the
// same binary and fixture (plan_queries_e2e_fixture.h).
#include <atomic>
#include <iostream>

#include "tests/e2e/plan_queries_e2e_fixture.h"

namespace plantrail {
namespace {

using namespace ::plantrail::plan_queries_testing;  // NOLINT: the fixture's
                                                    // vocabulary

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

// --- Admin: projections ---------------------------------------------------

TEST_F(PlanQueriesE2eTest, ListProjectionsShowsEveryOneCaughtUp) {
  SeedPortfolio();
  const uint64_t head = HeadPosition();
  ASSERT_EQ(head, last_position_);
  WaitForProjections(head);
  const std::map<std::string, v1::ProjectionStatus> projections = Projections();
  ASSERT_EQ(projections.size(), 3u);
  for (const char* name : {"area_state", "changes", "history"}) {
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
