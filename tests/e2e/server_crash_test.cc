// The whole server killed with SIGKILL at random moments, round after
// round, while gRPC clients append, status reports come in, a subscriber
// and a consumer group follow the log and projections are being rebuilt.
//
// After every kill, on a copy of the data directory as the kill left it:
// the log holds every acknowledged append and either all or nothing of each
// unacknowledged one, its positions have no gap, its chain verifies, and
// every projection's committed state equals a fresh fold of the log up to
// that projection's checkpoint. Then the server restarts on the original
// directory (its own crash recovery): Admin.Verify passes, and the
// subscriber and the consumer group resume exactly where they were: no
// event skipped, none delivered twice beyond what the consumer group's
// at-least-once contract allows (events after its last acknowledged
// position), and none delivered that the log then lost.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/sync.h"
#include "eventstore/uuid.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "plantrail/v1/plan_commands.grpc.pb.h"
#include "projections/area_state_projection.h"
#include "projections/history_projection.h"
#include "projections/projection_store.h"
#include "tests/e2e/bearer_channel.h"
#include "tests/e2e/server_process.h"
#include "tests/eventstore/test_util.h"
#include "tests/temp_dir.h"

namespace plantrail {
namespace {

namespace fs = std::filesystem;
using ::plantrail::eventstore::RecordedEvent;

constexpr int kRounds = 20;
constexpr int kAppenders = 3;
constexpr int kEventsPerAppend = 3;
constexpr char kGroup[] = "crash-group";
const char* const kAreas[] = {"9.1.1", "9.1.2", "9.1.3", "9.1.4"};

std::unique_ptr<grpc::ClientContext> Context(int seconds = 30) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(seconds));
  return context;
}

// What the clients were told, and what they saw, across every round.
struct Ledger {
  Mutex mu;
  // Writers (appenders, the reporter, the rebuilder) stop when set.
  std::atomic<bool> writers_stop{false};
  // Every acknowledged event (appends and commands): position -> event id.
  std::map<uint64_t, std::string> acknowledged ABSL_GUARDED_BY(mu);
  // Per appender: the version its stream has as far as it knows, and the
  // events of the append in flight when the server died (if any).
  uint64_t stream_version[kAppenders] ABSL_GUARDED_BY(mu) = {};
  std::vector<std::string> in_flight[kAppenders] ABSL_GUARDED_BY(mu);
  // Acknowledgements in this round (the kill waits for some).
  int acks_this_round ABSL_GUARDED_BY(mu) = 0;
  // The subscriber (every event, from the start): the last position it
  // received, and what it received where.
  uint64_t subscriber_last ABSL_GUARDED_BY(mu) = 0;
  std::map<uint64_t, std::string> subscriber_saw ABSL_GUARDED_BY(mu);
  int subscriber_resumes ABSL_GUARDED_BY(mu) = 0;
  // The consumer group: the positions the server may hold as its
  // acknowledged one (the last it confirmed, and every later ack sent
  // without an answer: the server may have stored it and died before
  // answering), and what it received.
  std::set<uint64_t> group_acked_maybe ABSL_GUARDED_BY(mu) = {0};
  std::map<uint64_t, std::string> group_saw ABSL_GUARDED_BY(mu);
  int group_resumes ABSL_GUARDED_BY(mu) = 0;
  int rebuilds_started ABSL_GUARDED_BY(mu) = 0;
  // Anything a client saw that breaks a promise (checked after each round:
  // gtest assertions are not made from client threads).
  std::vector<std::string> violations ABSL_GUARDED_BY(mu);
  // How each client's calls ended when the server went away.
  std::vector<std::string> unexpected_endings ABSL_GUARDED_BY(mu);
};

// A call that ended because the server died is UNAVAILABLE; anything else
// is a finding.
void NoteEnding(Ledger& ledger, const std::string& who,
                const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) return;
  MutexLock lock(&ledger.mu);
  ledger.unexpected_endings.push_back(absl::StrCat(
      who, ": ", status.error_code(), " ", status.error_message()));
}

void Appender(Ledger& ledger, std::shared_ptr<grpc::Channel> channel, int n) {
  auto store = v1::EventStore::NewStub(channel);
  const std::string stream = absl::StrCat("crash-", n);
  while (!ledger.writers_stop.load()) {
    v1::AppendRequest request;
    request.set_stream_id(stream);
    std::vector<std::string> ids;
    {
      MutexLock lock(&ledger.mu);
      if (ledger.stream_version[n] == 0) {
        request.mutable_expected_version()->mutable_no_stream();
      } else {
        request.mutable_expected_version()->set_exact(ledger.stream_version[n]);
      }
      for (int i = 0; i < kEventsPerAppend; ++i) {
        ids.push_back(eventstore::FormatUuid(eventstore::NewRandomUuid()));
      }
      ledger.in_flight[n] = ids;
    }
    for (const std::string& id : ids) {
      v1::ProposedEvent* event = request.add_events();
      event->set_event_id(id);
      event->set_type("CrashProbe");
      event->set_payload(absl::StrCat("{\"id\":\"", id, "\"}"));
      event->set_content_type("application/json");
    }
    v1::AppendResponse response;
    const grpc::Status status =
        store->Append(Context().get(), request, &response);
    if (!status.ok()) return NoteEnding(ledger, stream, status);
    MutexLock lock(&ledger.mu);
    for (int i = 0; i < kEventsPerAppend; ++i) {
      ledger.acknowledged[response.first_position() + i] = ids[i];
    }
    ledger.stream_version[n] = response.last_version();
    ledger.in_flight[n].clear();
    ++ledger.acks_this_round;
  }
}

void Reporter(Ledger& ledger, std::shared_ptr<grpc::Channel> channel) {
  auto commands = v1::PlanCommands::NewStub(channel);
  for (int i = 0; !ledger.writers_stop.load(); ++i) {
    v1::ReportStatusRequest request;
    request.set_area_id(kAreas[i % std::size(kAreas)]);
    request.set_phase(v1::PHASE_IN_PROGRESS);
    request.set_health(i % 3 == 0 ? v1::HEALTH_AT_RISK : v1::HEALTH_ON_TRACK);
    request.set_narrative(absl::StrCat("report ", i));
    v1::CommandResult result;
    const grpc::Status status =
        commands->ReportStatus(Context().get(), request, &result);
    if (!status.ok()) return NoteEnding(ledger, "reporter", status);
    MutexLock lock(&ledger.mu);
    ledger.acknowledged[result.position()] = result.event_id();
    ++ledger.acks_this_round;
  }
}

// Follows every event from after the last one it received.
void Subscriber(Ledger& ledger, std::shared_ptr<grpc::Channel> channel) {
  auto store = v1::EventStore::NewStub(channel);
  v1::SubscribeRequest request;
  {
    MutexLock lock(&ledger.mu);
    if (ledger.subscriber_last == 0) {
      request.mutable_start();
    } else {
      request.set_after_position(ledger.subscriber_last);
      ++ledger.subscriber_resumes;
    }
  }
  grpc::ClientContext context;
  auto reader = store->Subscribe(&context, request);
  v1::SubscribeResponse response;
  while (reader->Read(&response)) {
    MutexLock lock(&ledger.mu);
    for (const v1::RecordedEvent& event : response.events().events()) {
      if (event.position() != ledger.subscriber_last + 1) {
        ledger.violations.push_back(
            absl::StrCat("subscriber: after ", ledger.subscriber_last,
                         " it received ", event.position()));
      }
      ledger.subscriber_saw[event.position()] = event.event_id();
      ledger.subscriber_last = event.position();
    }
  }
  NoteEnding(ledger, "subscriber", reader->Finish());
}

// A consumer group member that acknowledges each message it received.
void GroupMember(Ledger& ledger, std::shared_ptr<grpc::Channel> channel) {
  auto store = v1::EventStore::NewStub(channel);
  v1::SubscribeRequest request;
  request.set_consumer_group(kGroup);
  request.set_max_batch(50);
  grpc::ClientContext context;
  auto reader = store->Subscribe(&context, request);
  v1::SubscribeResponse response;
  std::optional<uint64_t> last;
  while (reader->Read(&response)) {
    if (response.events().events().empty()) continue;
    {
      MutexLock lock(&ledger.mu);
      for (const v1::RecordedEvent& event : response.events().events()) {
        const uint64_t position = event.position();
        if (!last.has_value()) {
          // The group resumes right after its acknowledged position.
          if (!ledger.group_acked_maybe.contains(position - 1)) {
            ledger.violations.push_back(absl::StrCat(
                "consumer group: resumed at ", position, ", acknowledged ",
                absl::StrJoin(ledger.group_acked_maybe, " or ")));
          }
          if (position > 1) ++ledger.group_resumes;
          ledger.group_acked_maybe = {position - 1};
        } else if (position != *last + 1) {
          ledger.violations.push_back(absl::StrCat(
              "consumer group: after ", *last, " it received ", position));
        }
        ledger.group_saw[position] = event.event_id();
        last = position;
      }
      ledger.group_acked_maybe.insert(*last);
    }
    v1::AckRequest ack;
    ack.set_consumer_group(kGroup);
    ack.set_position(*last);
    v1::AckResponse acked;
    const grpc::Status status = store->Ack(Context().get(), ack, &acked);
    if (!status.ok()) {
      context.TryCancel();
      reader->Finish();
      return NoteEnding(ledger, "consumer group ack", status);
    }
    MutexLock lock(&ledger.mu);
    if (acked.position() != *last) {
      ledger.violations.push_back(absl::StrCat("consumer group: acked ", *last,
                                               ", the server says ",
                                               acked.position()));
    }
    ledger.group_acked_maybe = {acked.position()};
  }
  NoteEnding(ledger, "consumer group", reader->Finish());
}

// Keeps a rebuild of one projection or the other under way.
void Rebuilder(Ledger& ledger, std::shared_ptr<grpc::Channel> channel) {
  auto admin = v1::Admin::NewStub(channel);
  for (int i = 0; !ledger.writers_stop.load(); ++i) {
    v1::RebuildProjectionRequest request;
    request.set_name(i % 2 == 0 ? projections::AreaStateProjection::kName
                                : projections::HistoryProjection::kName);
    v1::RebuildProjectionResponse response;
    const grpc::Status status =
        admin->RebuildProjection(Context().get(), request, &response);
    if (status.ok()) {
      MutexLock lock(&ledger.mu);
      ++ledger.rebuilds_started;
    } else if (status.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
      return NoteEnding(ledger, "rebuilder", status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::vector<std::pair<std::string, std::string>> StateOf(
    projections::ProjectionStore& store, const std::string& name,
    uint64_t* checkpoint) {
  auto copy = store.Live(name);
  EXPECT_TRUE(copy.ok()) << copy.status();
  if (!copy.ok()) return {};
  auto reader = (*copy)->Reader();
  *checkpoint = reader->checkpoint();
  auto entries = reader->Scan("", "", ~size_t{0});
  EXPECT_TRUE(entries.ok()) << entries.status();
  if (!entries.ok()) return {};
  std::vector<std::pair<std::string, std::string>> state;
  for (auto& entry : *entries) {
    // Keys starting with 0x00 are the runner's own (the checkpoint).
    if (!entry.first.empty() && entry.first[0] == '\0') continue;
    state.push_back(std::move(entry));
  }
  return state;
}

std::unique_ptr<projections::Projection> ProjectionNamed(
    const std::string& name) {
  if (name == projections::AreaStateProjection::kName) {
    return std::make_unique<projections::AreaStateProjection>();
  }
  return std::make_unique<projections::HistoryProjection>();
}

class ServerCrashTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // See ServerTest: keeps a client from waiting out a 5 s backup poll.
    setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", 0);
  }

  std::shared_ptr<grpc::Channel> Start() {
    if (!server_.Start(data_)) return nullptr;
    return testing::BearerChannel(server_.address(), server_.AdminToken());
  }

  // Checks the data directory as a kill (or a stop) left it, on a copy, so
  // that the next server start still recovers from the crash itself.
  // With `at_head`, after a clean stop with the projections caught up:
  // each projection must equal a fold of the whole log.
  void CheckDataAsLeft(const std::string& when, bool at_head) {
    SCOPED_TRACE(when);
    const fs::path copy = fs::path(scratch_.path()) / "copy";
    fs::remove_all(copy);
    fs::copy(data_, copy, fs::copy_options::recursive);

    std::vector<RecordedEvent> log;
    {
      auto store =
          eventstore::testing::OpenStore((copy / "eventstore").string());
      ASSERT_NE(store, nullptr);
      log = eventstore::testing::ReadEverything(*store);
      auto verified = store->Verify();
      ASSERT_TRUE(verified.ok()) << verified.status();
      EXPECT_TRUE(verified->ok) << verified->problem;
    }
    for (size_t i = 0; i < log.size(); ++i) {
      if (log[i].position != i + 1) {
        ADD_FAILURE() << "the log skips from " << i << " to "
                      << log[i].position;
        return;
      }
    }
    auto id_at = [&](uint64_t position) -> std::string {
      return position >= 1 && position <= log.size()
                 ? log[position - 1].event_id
                 : "(missing)";
    };

    MutexLock lock(&ledger_.mu);
    for (const auto& [position, id] : ledger_.acknowledged) {
      ASSERT_EQ(id_at(position), id)
          << "acknowledged event at " << position << " is lost";
    }
    // Each appender's stream: whole appends only; the one in flight at the
    // kill is all there (durable, not acknowledged) or not at all.
    for (int n = 0; n < kAppenders; ++n) {
      const std::string stream = absl::StrCat("crash-", n);
      std::vector<const RecordedEvent*> events;
      for (const RecordedEvent& event : log) {
        if (event.stream_id == stream) events.push_back(&event);
      }
      uint64_t& version = ledger_.stream_version[n];
      std::vector<std::string>& in_flight = ledger_.in_flight[n];
      ASSERT_EQ(events.size() % kEventsPerAppend, 0u)
          << stream << " holds part of an append";
      if (events.size() == version + kEventsPerAppend && !in_flight.empty()) {
        for (int i = 0; i < kEventsPerAppend; ++i) {
          const RecordedEvent& event = *events[version + i];
          EXPECT_EQ(event.event_id, in_flight[i]);
          ledger_.acknowledged[event.position] = event.event_id;
        }
        version = events.size();
      }
      ASSERT_EQ(events.size(), version)
          << stream << ": not what was acknowledged plus the append in flight";
      in_flight.clear();
    }
    // Nothing a follower received is gone from the log.
    for (const auto* saw : {&ledger_.subscriber_saw, &ledger_.group_saw}) {
      for (const auto& [position, id] : *saw) {
        ASSERT_EQ(id_at(position), id)
            << "a follower received an event at " << position
            << " that the log does not hold";
      }
    }

    // Every projection's committed state is a fresh fold of the log up to
    // its checkpoint: whatever page the kill interrupted, none is half
    // applied, and a rebuild cut short left the live copy as it was.
    auto server_projections =
        projections::ProjectionStore::Open((copy / "projections").string());
    ASSERT_TRUE(server_projections.ok()) << server_projections.status();
    for (const std::string name : {projections::AreaStateProjection::kName,
                                   projections::HistoryProjection::kName}) {
      uint64_t checkpoint = 0;
      const auto state = StateOf(**server_projections, name, &checkpoint);
      ASSERT_LE(checkpoint, log.size()) << name;
      // Pages that change nothing do not move the stored checkpoint, so a
      // projection that caught up may store an earlier one: folding the
      // rest of the log must then change nothing.
      const uint64_t fold_to = at_head ? log.size() : checkpoint;

      const fs::path fresh_path = fs::path(scratch_.path()) / "fresh";
      fs::remove_all(fresh_path);
      auto fresh = projections::ProjectionStore::Open(fresh_path.string());
      ASSERT_TRUE(fresh.ok()) << fresh.status();
      auto fresh_copy = (*fresh)->Live(name);
      ASSERT_TRUE(fresh_copy.ok()) << fresh_copy.status();
      auto projection = ProjectionNamed(name);
      if (fold_to > 0) {
        projections::StateCopy::Batch batch(fresh_copy->get());
        for (uint64_t p = 1; p <= fold_to; ++p) {
          ASSERT_TRUE(projection->Apply(log[p - 1], batch.writer()).ok())
              << name << " at " << p;
        }
        ASSERT_TRUE(batch.Commit(fold_to, log[fold_to - 1].hash).ok());
      }
      uint64_t fresh_checkpoint = 0;
      const auto folded = StateOf(**fresh, name, &fresh_checkpoint);
      EXPECT_EQ(state.size(), folded.size())
          << name << " at checkpoint " << checkpoint << ", folded to "
          << fold_to;
      EXPECT_TRUE(state == folded)
          << name << " at checkpoint " << checkpoint
          << " differs from a fresh fold of the log to " << fold_to;
    }
  }

  void ReportClientFindings() {
    MutexLock lock(&ledger_.mu);
    for (const std::string& violation : ledger_.violations) {
      ADD_FAILURE() << violation;
    }
    for (const std::string& ending : ledger_.unexpected_endings) {
      ADD_FAILURE() << "a call ended otherwise than UNAVAILABLE: " << ending;
    }
    ledger_.violations.clear();
    ledger_.unexpected_endings.clear();
  }

  testing::TempDir dir_;
  testing::TempDir scratch_;
  const std::string data_ = dir_ / "data";
  testing::ServerProcess server_;
  Ledger ledger_;
};

TEST_F(ServerCrashTest, SigkillAtRandomMomentsLosesNothingAndFollowersResume) {
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  SCOPED_TRACE(absl::StrCat("seed ", seed));

  {
    auto channel = Start();
    ASSERT_NE(channel, nullptr);
    auto commands = v1::PlanCommands::NewStub(channel);
    for (const char* area : kAreas) {
      v1::RegisterAreaRequest request;
      request.set_area_id(area);
      request.set_title(absl::StrCat("Area ", area));
      request.set_support_area("9.1");
      request.add_responsible_units("Crash test unit");
      request.set_planned_period("Q1 2025-Q4 2026");
      request.set_phase(v1::PHASE_IN_PROGRESS);
      v1::CommandResult result;
      const grpc::Status status =
          commands->RegisterArea(Context().get(), request, &result);
      ASSERT_TRUE(status.ok()) << status.error_message();
      MutexLock lock(&ledger_.mu);
      ledger_.acknowledged[result.position()] = result.event_id();
    }
  }

  uint64_t head = 0;
  for (int round = 0; round <= kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const bool last_round = round == kRounds;
    auto channel = round == 0 ? testing::BearerChannel(server_.address(),
                                                       server_.AdminToken())
                              : Start();
    ASSERT_NE(channel, nullptr);
    if (round > 0) {
      // The server recovered from the kill by itself: its own check of the
      // chain and of every projection's checkpoint passes.
      auto admin = v1::Admin::NewStub(channel);
      v1::VerifyResponse verified;
      const grpc::Status status =
          admin->Verify(Context().get(), v1::VerifyRequest(), &verified);
      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_TRUE(verified.ok()) << verified.problem();
    }
    {
      MutexLock lock(&ledger_.mu);
      ledger_.acks_this_round = 0;
    }
    // Writers first: the last round stops them before the followers.
    std::vector<std::thread> clients;
    for (int n = 0; n < kAppenders; ++n) {
      clients.emplace_back(Appender, std::ref(ledger_), channel, n);
    }
    clients.emplace_back(Reporter, std::ref(ledger_), channel);
    clients.emplace_back(Rebuilder, std::ref(ledger_), channel);
    clients.emplace_back(Subscriber, std::ref(ledger_), channel);
    clients.emplace_back(GroupMember, std::ref(ledger_), channel);

    // Let the load get going, then pull the plug at a random moment.
    for (int waited = 0; waited < 3000; ++waited) {
      {
        MutexLock lock(&ledger_.mu);
        if (ledger_.acks_this_round >= 20) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(0, 400)(random)));
    if (last_round) {
      // The last round ends cleanly: the writers stop, and once the
      // followers and the projections have caught up with the head, the
      // server gets SIGTERM. The final check then wants the projections
      // equal to a fold of the whole log, and the followers at the head.
      ledger_.writers_stop = true;
      for (size_t n = 0; n < kAppenders + 2; ++n) clients[n].join();
      clients.erase(clients.begin(), clients.begin() + kAppenders + 2);
      auto admin = v1::Admin::NewStub(channel);
      bool caught_up = false;
      for (int waited = 0; waited < 3000 && !caught_up; ++waited) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        v1::ListProjectionsResponse listed;
        ASSERT_TRUE(admin->ListProjections(Context().get(), {}, &listed).ok());
        caught_up = true;
        for (const auto& projection : listed.projections()) {
          caught_up &= projection.lag() == 0 &&
                       projection.state() != v1::PROJECTION_STATE_REBUILDING;
          head = projection.head_position();
        }
        MutexLock lock(&ledger_.mu);
        caught_up &= ledger_.subscriber_last == head &&
                     ledger_.group_acked_maybe == std::set<uint64_t>{head};
      }
      EXPECT_TRUE(caught_up)
          << "projections or followers did not reach " << head;
    }
    channel.reset();
    const int status = server_.Stop(last_round ? SIGTERM : SIGKILL);
    for (std::thread& client : clients) client.join();
    if (last_round) {
      ASSERT_TRUE(WIFEXITED(status)) << status;
    } else {
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    }
    ReportClientFindings();
    CheckDataAsLeft(absl::StrCat("data after round ", round), last_round);
    if (HasFatalFailure()) return;
  }

  MutexLock lock(&ledger_.mu);
  EXPECT_GE(ledger_.subscriber_resumes, kRounds);
  EXPECT_GE(ledger_.group_resumes, kRounds / 2);
  EXPECT_GT(ledger_.rebuilds_started, kRounds);
  std::printf(
      "%d kills: %zu acknowledged events, %d subscriber resumes, %d consumer "
      "group resumes, %d rebuilds started\n",
      kRounds, ledger_.acknowledged.size(), ledger_.subscriber_resumes,
      ledger_.group_resumes, ledger_.rebuilds_started);
}

}  // namespace
}  // namespace plantrail
