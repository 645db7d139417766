// EventStore.Subscribe against the real server: every event in order, no gap
// and no duplicate across catch-up and live, filters with checkpoints,
// cancellation frees the subscription, shutdown ends it.
#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/server_test.h"

namespace plantrail {
namespace {

using ::testing::ElementsAre;

class SubscribeE2eTest : public plantrail::testing::ServerTest {
 protected:
  // Appends `count` events of `type` to `stream`, one per call.
  void AppendEvents(const std::string& stream, int count,
                    const std::string& type = "Noted") {
    for (int i = 0; i < count; ++i) {
      v1::AppendRequest request;
      request.set_stream_id(stream);
      v1::ProposedEvent* event = request.add_events();
      event->set_type(type);
      event->set_payload(absl::StrCat(stream, "/", i));
      v1::AppendResponse response;
      ASSERT_TRUE(store_->Append(Context().get(), request, &response).ok());
    }
  }

  uint64_t LiveSubscriptions() {
    v1::GetStatsResponse stats;
    EXPECT_TRUE(
        admin_->GetStats(Context().get(), v1::GetStatsRequest(), &stats).ok());
    return stats.live_subscriptions();
  }
};

TEST_F(SubscribeE2eTest, WritersFirstThenSubscribeFromStartGetsExactlyAll) {
  // Writers start first and keep writing while the subscriber catches up
  // from disk and then follows live.
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int batch = 0; batch < 40; ++batch) {
        AppendEvents(absl::StrCat("w", w), 5);
      }
    });
  }
  while (HeadPosition() < base_ + 50) std::this_thread::yield();

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(60));
  v1::SubscribeRequest request;
  request.set_after_position(base_);  // what the test writes
  auto reader = store_->Subscribe(&context, request);
  constexpr size_t kTotal = 4 * 40 * 5;
  std::vector<uint64_t> positions;
  bool caught_up = false;
  v1::SubscribeResponse message;
  while (positions.size() < kTotal && reader->Read(&message)) {
    if (message.has_caught_up()) caught_up = true;
    for (const v1::RecordedEvent& event : message.events().events()) {
      positions.push_back(event.position());
    }
  }
  for (auto& writer : writers) writer.join();
  const uint64_t final_head = HeadPosition();
  context.TryCancel();
  reader->Finish().IgnoreError();

  EXPECT_TRUE(caught_up);
  ASSERT_EQ(final_head, base_ + kTotal);
  ASSERT_EQ(positions.size(), kTotal);
  for (size_t i = 0; i < positions.size(); ++i) {
    ASSERT_EQ(positions[i], base_ + i + 1) << "a gap, a repeat or a reordering";
  }
}

TEST_F(SubscribeE2eTest, ASlowConsumerBlocksNobodyAndCatchesUpFromDisk) {
  // The slow consumer is held after its first message (not slowed by a sleep,
  // which a sanitizer build's slower writer could outpace): the writer and a
  // fast consumer must both finish while it reads nothing, and it must then
  // get every event, in order, from where it stopped.
  constexpr int kEvents = 600;
  std::promise<void> release_slow;
  std::shared_future<void> slow_released = release_slow.get_future().share();
  auto follow = [&](bool slow, std::atomic<size_t>* received) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(120));
    v1::SubscribeRequest request;
    request.set_after_position(base_);  // what the test writes
    request.set_max_batch(slow ? 1 : 100);
    auto reader = store_->Subscribe(&context, request);
    v1::SubscribeResponse message;
    uint64_t expected = base_ + 1;
    bool held = false;
    while (*received < static_cast<size_t>(kEvents) && reader->Read(&message)) {
      for (const auto& event : message.events().events()) {
        EXPECT_EQ(event.position(), expected++);
        ++*received;
      }
      if (slow && !held && *received > 0) {
        slow_released.wait();
        held = true;
      }
    }
    context.TryCancel();
    reader->Finish().IgnoreError();
  };
  std::atomic<size_t> slow_received{0}, fast_received{0};
  std::thread slow([&] { follow(true, &slow_received); });
  std::thread fast([&] { follow(false, &fast_received); });
  // If the server made the writer or the fast consumer wait for the held
  // one, they would never finish: a bounded wait turns that into a failure.
  auto writer_and_fast = std::async(std::launch::async, [&] {
    AppendEvents("s", kEvents);
    fast.join();
  });
  const bool finished = writer_and_fast.wait_for(std::chrono::seconds(60)) ==
                        std::future_status::ready;
  const size_t slow_while_held = slow_received;
  release_slow.set_value();
  writer_and_fast.wait();
  slow.join();
  EXPECT_TRUE(finished)
      << "the writer or the fast consumer waited for the slow consumer";
  EXPECT_LE(slow_while_held, 1u) << "the slow consumer was not held";
  EXPECT_EQ(fast_received, static_cast<size_t>(kEvents));
  EXPECT_EQ(slow_received, static_cast<size_t>(kEvents))
      << "the slow consumer was dropped";
}

// Threads of a process, from /proc.
int ThreadsOf(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

TEST_F(SubscribeE2eTest, TwoHundredSubscribersAllGetEverythingOnFewThreads) {
  constexpr int kSubscribers = 200;
  constexpr int kEvents = 100;
  const int threads_before = ThreadsOf(server_.pid());
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>>>
      readers;
  for (int i = 0; i < kSubscribers; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(std::chrono::system_clock::now() +
                                  std::chrono::seconds(60));
    v1::SubscribeRequest request;
    request.set_after_position(base_);  // what the test writes
    readers.push_back(store_->Subscribe(contexts.back().get(), request));
  }
  std::thread writer([&] { AppendEvents("s", kEvents); });
  std::vector<std::thread> consumers;
  std::atomic<int> complete{0};
  for (int i = 0; i < kSubscribers; ++i) {
    consumers.emplace_back([&, i] {
      v1::SubscribeResponse message;
      uint64_t expected = base_ + 1;
      while (expected <= base_ + kEvents && readers[i]->Read(&message)) {
        for (const auto& event : message.events().events()) {
          ASSERT_EQ(event.position(), expected++);
        }
      }
      if (expected == base_ + kEvents + 1) ++complete;
    });
  }
  writer.join();
  for (auto& consumer : consumers) consumer.join();
  EXPECT_EQ(LiveSubscriptions(), static_cast<uint64_t>(kSubscribers));
  const int threads_during = ThreadsOf(server_.pid());
  for (auto& context : contexts) context->TryCancel();
  for (auto& reader : readers) reader->Finish().IgnoreError();
  EXPECT_EQ(complete, kSubscribers);
  // No thread per subscriber: gRPC's and ours are a small fixed set.
  EXPECT_LT(threads_during - threads_before, 20)
      << threads_before << " threads before, " << threads_during << " with "
      << kSubscribers << " subscribers";
}

TEST_F(SubscribeE2eTest, SaysWhenItFellBehindAndWhenItIsBackAtTheHead) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  v1::SubscribeRequest request;
  request.mutable_now();
  auto reader = store_->Subscribe(&context, request);
  v1::SubscribeResponse message;
  ASSERT_TRUE(reader->Read(&message));
  ASSERT_TRUE(message.has_caught_up());
  // 1,000 events in one commit: the head jumps 1,000 ahead at once.
  v1::AppendRequest append;
  append.set_stream_id("burst");
  for (int j = 0; j < 1000; ++j) append.add_events()->set_type("Noted");
  v1::AppendResponse appended;
  ASSERT_TRUE(store_->Append(Context().get(), append, &appended).ok());
  std::vector<std::string> story;
  uint64_t expected = base_ + 1;
  while (reader->Read(&message)) {
    if (message.has_fell_behind()) story.push_back("fell behind");
    if (message.has_caught_up()) {
      story.push_back("caught up");
      break;
    }
    for (const auto& event : message.events().events()) {
      ASSERT_EQ(event.position(), expected++);
    }
  }
  context.TryCancel();
  reader->Finish().IgnoreError();
  EXPECT_EQ(expected, base_ + 1001) << "every event, none twice";
  EXPECT_THAT(story, ElementsAre("fell behind", "caught up"));
}

TEST_F(SubscribeE2eTest, ResumesAfterAPositionAndFromNow) {
  AppendEvents("a", 10);
  auto first = [&](v1::SubscribeRequest request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    auto reader = store_->Subscribe(&context, request);
    v1::SubscribeResponse message;
    std::vector<uint64_t> positions;
    while (reader->Read(&message)) {
      for (const auto& event : message.events().events()) {
        positions.push_back(event.position());
      }
      if (message.has_caught_up()) break;
    }
    context.TryCancel();
    reader->Finish().IgnoreError();
    return positions;
  };
  v1::SubscribeRequest after;
  after.set_after_position(base_ + 7);
  EXPECT_THAT(first(after), ElementsAre(base_ + 8, base_ + 9, base_ + 10));
  v1::SubscribeRequest now;
  now.mutable_now();
  EXPECT_TRUE(first(now).empty());
}

TEST_F(SubscribeE2eTest, FilteredSubscriptionsSendCheckpoints) {
  AppendEvents("noise", 1500);
  AppendEvents("wanted-1", 3, "Wanted");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  v1::SubscribeRequest request;
  request.mutable_filter()->add_event_types("Wanted");
  auto reader = store_->Subscribe(&context, request);
  v1::SubscribeResponse message;
  std::vector<uint64_t> wanted;
  std::vector<uint64_t> checkpoints;
  while (reader->Read(&message)) {
    for (const auto& event : message.events().events()) {
      EXPECT_EQ(event.type(), "Wanted");
      wanted.push_back(event.position());
    }
    if (message.has_checkpoint()) {
      checkpoints.push_back(message.checkpoint().position());
    }
    if (message.has_caught_up()) break;
  }
  context.TryCancel();
  reader->Finish().IgnoreError();
  EXPECT_THAT(wanted, ElementsAre(base_ + 1501, base_ + 1502, base_ + 1503));
  // 1,500 events of noise scanned: at least one checkpoint within them.
  ASSERT_FALSE(checkpoints.empty());
  EXPECT_GE(checkpoints.front(), 1000u);
  EXPECT_LE(checkpoints.front(), base_ + 1500);
}

TEST_F(SubscribeE2eTest, CancellingFreesTheSubscription) {
  AppendEvents("a", 5);
  {
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>>>
        readers;
    for (int i = 0; i < 5; ++i) {
      contexts.push_back(std::make_unique<grpc::ClientContext>());
      v1::SubscribeRequest request;
      request.mutable_start();
      readers.push_back(store_->Subscribe(contexts.back().get(), request));
      v1::SubscribeResponse message;
      ASSERT_TRUE(readers.back()->Read(&message));
    }
    EXPECT_EQ(LiveSubscriptions(), 5u);
    for (auto& context : contexts) context->TryCancel();
    for (auto& reader : readers) reader->Finish().IgnoreError();
  }
  uint64_t live = LiveSubscriptions();
  for (int i = 0; i < 500 && live != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    live = LiveSubscriptions();
  }
  EXPECT_EQ(live, 0u) << "cancelled subscriptions are still held";
}

TEST_F(SubscribeE2eTest, ShutdownEndsSubscriptionsWithUnavailable) {
  AppendEvents("a", 3);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(25));
  v1::SubscribeRequest request;
  request.mutable_start();
  auto reader = store_->Subscribe(&context, request);
  v1::SubscribeResponse message;
  while (reader->Read(&message) && !message.has_caught_up()) {
  }
  const int exit_status = server_.Stop(SIGTERM);
  while (reader->Read(&message)) {
  }
  const grpc::Status status = reader->Finish();
  ASSERT_TRUE(WIFEXITED(exit_status)) << exit_status;
  EXPECT_EQ(WEXITSTATUS(exit_status), 0);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
}

TEST_F(SubscribeE2eTest, AConsumerGroupResumesAfterItsAckAlsoAfterARestart) {
  AppendEvents("a", 10);
  // Reads until it has `count` events, acks the `ack_at`-th, and leaves.
  auto consume = [&](int count, int ack_at) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    v1::SubscribeRequest request;
    request.set_consumer_group("billing");
    auto reader = store_->Subscribe(&context, request);
    std::vector<uint64_t> positions;
    v1::SubscribeResponse message;
    while (static_cast<int>(positions.size()) < count &&
           reader->Read(&message)) {
      for (const auto& event : message.events().events()) {
        if (static_cast<int>(positions.size()) == count) break;
        positions.push_back(event.position());
        if (static_cast<int>(positions.size()) == ack_at) {
          v1::AckRequest ack;
          ack.set_consumer_group("billing");
          ack.set_position(event.position());
          v1::AckResponse acked;
          EXPECT_TRUE(store_->Ack(Context().get(), ack, &acked).ok());
          EXPECT_EQ(acked.position(), event.position());
        }
      }
    }
    context.TryCancel();
    reader->Finish().IgnoreError();
    return positions;
  };
  std::vector<uint64_t> first = consume(6, 4);  // processed 1..4 for sure
  EXPECT_THAT(first, ElementsAre(1, 2, 3, 4, 5, 6));
  // At least once: 5 and 6 were not acknowledged, so they come again.
  std::vector<uint64_t> second = consume(3, 0);
  EXPECT_THAT(second, ElementsAre(5, 6, 7));

  v1::AckRequest ack;
  ack.set_consumer_group("billing");
  ack.set_position(8);
  v1::AckResponse acked;
  ASSERT_TRUE(store_->Ack(Context().get(), ack, &acked).ok());
  ack.set_position(2);  // an older ack never moves the group back
  ASSERT_TRUE(store_->Ack(Context().get(), ack, &acked).ok());
  EXPECT_EQ(acked.position(), 8u);

  RestartServer();
  EXPECT_THAT(consume(2, 0), ElementsAre(9, 10));

  ack.set_consumer_group("");
  grpc::Status status = store_->Ack(Context().get(), ack, &acked);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("consumer_group"), std::string::npos);
  ack.set_consumer_group("billing");
  ack.set_position(999);
  status = store_->Ack(Context().get(), ack, &acked);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(SubscribeE2eTest, FiltersBySupportAreaAsOfEachEvent) {
  auto command = [&](auto call, const auto& request) {
    v1::CommandResult result;
    grpc::Status status =
        (commands_.get()->*call)(Context().get(), request, &result);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return result.position();
  };
  auto area = [](const std::string& id, const std::string& support_area) {
    v1::RegisterAreaRequest request;
    request.set_area_id(id);
    request.set_title(id);
    request.set_support_area(support_area);
    return request;
  };
  auto report = [](const std::string& id) {
    v1::ReportStatusRequest request;
    request.set_area_id(id);
    request.set_phase(v1::PHASE_IN_PROGRESS);
    request.set_health(v1::HEALTH_ON_TRACK);
    request.set_narrative("ok");
    return request;
  };
  using Stub = v1::PlanCommands::Stub;
  std::vector<uint64_t> expected;
  expected.push_back(command(&Stub::RegisterArea, area("hr.1", "HR")));
  command(&Stub::RegisterArea, area("fin.1", "3.4"));
  command(&Stub::ReportStatus, report("fin.1"));
  AppendEvents("ledger", 2);  // not an area: never matches
  v1::RecordDecisionRequest decision;
  decision.set_decision_id("D-1");
  decision.set_reference("V-1");
  decision.set_body("Board");
  decision.set_decided_on("2023-04-05");
  decision.set_title("HR matters");
  decision.add_area_ids("hr.1");
  expected.push_back(command(&Stub::RecordDecision, decision));
  // fin.1 moves to HR: its events count from the move on.
  v1::ReviseDetailsRequest move;
  move.set_area_id("fin.1");
  move.mutable_details()->set_support_area("HR");
  move.set_reason("reorganised");
  expected.push_back(command(&Stub::ReviseDetails, move));
  expected.push_back(command(&Stub::ReportStatus, report("fin.1")));
  expected.push_back(command(&Stub::ReportStatus, report("hr.1")));

  for (uint64_t after : {uint64_t{0}, uint64_t{4}}) {
    SCOPED_TRACE(absl::StrCat("after position ", after));
    v1::SubscribeRequest request;
    request.set_after_position(after);
    request.mutable_filter()->add_support_areas("HR");
    const std::vector<uint64_t> received =
        PositionsIn(SubscribeUntilCaughtUp(request));
    std::vector<uint64_t> want;
    for (uint64_t p : expected) {
      if (p > after) want.push_back(p);
    }
    EXPECT_EQ(received, want);
  }
}

TEST_F(SubscribeE2eTest, FiltersByPlanTheUnplannedAreasCountingAsTheirHolders) {
  using Stub = v1::PlanCommands::Stub;
  auto command = [&](auto call, const auto& request) {
    v1::CommandResult result;
    grpc::Status status =
        (commands_.get()->*call)(Context().get(), request, &result);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return result.position();
  };
  auto area = [](const std::string& plan, const std::string& id) {
    v1::RegisterAreaRequest request;
    request.set_plan_id(plan);
    request.set_area_id(id);
    request.set_title(id);
    request.set_support_area("3.1");
    return request;
  };
  auto plan = [](const std::string& id, bool adopt) {
    v1::RegisterPlanRequest request;
    request.set_plan_id(id);
    request.mutable_fields()->set_title(id);
    request.set_adopt_unplanned(adopt);
    return request;
  };
  // An area from before plans, then the plan that adopts it, and another.
  std::vector<uint64_t> expected;
  expected.push_back(command(&Stub::RegisterArea, area("", "old.1")));
  expected.push_back(command(&Stub::RegisterPlan, plan("kth", true)));
  command(&Stub::RegisterPlan, plan("pitea", false));
  expected.push_back(command(&Stub::RegisterArea, area("kth", "1")));
  command(&Stub::RegisterArea, area("pitea", "1"));
  AppendEvents("ledger", 1);  // not a plan's: never matches

  v1::SubscribeRequest request;
  request.set_after_position(base_);
  request.mutable_filter()->add_plans("kth");
  EXPECT_EQ(PositionsIn(SubscribeUntilCaughtUp(request)), expected);
}

TEST_F(SubscribeE2eTest, BadRequestsAreRefused) {
  grpc::ClientContext context;
  v1::SubscribeRequest request;
  request.set_max_batch(5000);
  auto reader = store_->Subscribe(&context, request);
  v1::SubscribeResponse message;
  EXPECT_FALSE(reader->Read(&message));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("max_batch"), std::string::npos);
}

TEST_F(SubscribeE2eTest, OverLargeFiltersAreRefusedNamingTheFieldAndLimit) {
  auto refused = [&](const v1::SubscriptionFilter& filter,
                     const std::string& why) {
    SCOPED_TRACE(why);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    v1::SubscribeRequest request;
    *request.mutable_filter() = filter;
    auto reader = store_->Subscribe(&context, request);
    v1::SubscribeResponse message;
    EXPECT_FALSE(reader->Read(&message));
    const grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find(why), std::string::npos)
        << status.error_message();
  };
  v1::SubscriptionFilter many;
  for (int i = 0; i < 5000; ++i) many.add_stream_prefixes(absl::StrCat(i));
  refused(many, "filter.stream_prefixes: 5000 entries, at most 100");
  v1::SubscriptionFilter long_entry;
  long_entry.add_event_types("Noted");
  long_entry.add_event_types(std::string(201, 'x'));
  refused(long_entry, "filter.event_types[1]: 201 bytes, at most 200");
  v1::SubscriptionFilter large;
  for (int i = 0; i < 50; ++i) {
    large.add_support_areas(std::string(200, static_cast<char>('a' + i % 26)));
  }
  refused(large, "filter: 10000 bytes in all entries, at most 8192");

  // Within the limits a filter works as before.
  AppendEvents("kept", 1, "Wanted");
  AppendEvents("other", 1);
  v1::SubscriptionFilter fine;
  for (int i = 0; i < 100; ++i) {
    fine.add_event_types(absl::StrCat("Type", i));
  }
  fine.add_stream_prefixes("kept");
  *fine.mutable_event_types(99) = "Wanted";
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  v1::SubscribeRequest request;
  *request.mutable_filter() = fine;
  auto reader = store_->Subscribe(&context, request);
  std::vector<std::string> received;
  v1::SubscribeResponse message;
  while (reader->Read(&message) && !message.has_caught_up()) {
    for (const auto& event : message.events().events()) {
      received.push_back(event.stream_id());
    }
  }
  context.TryCancel();
  reader->Finish().IgnoreError();
  EXPECT_THAT(received, ElementsAre("kept"));

  // Refused requests are in the security log.
  std::ifstream in(std::string(dir_ / "data") + "/security.log");
  const std::string log((std::istreambuf_iterator<char>(in)),
                        std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("rpc=/plantrail.v1.EventStore/Subscribe "
                     "code=INVALID_ARGUMENT reason=\"filter.stream_prefixes"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace plantrail
