#include "replication/follower.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/record_format.h"
#include "grpcpp/create_channel.h"
#include "logging/log.h"
#include "plantrail/v1/replication.grpc.pb.h"
#include "replication/terms.h"

namespace plantrail::replication {
namespace {

absl::Time FromProto(const google::protobuf::Timestamp& time) {
  return absl::FromUnixSeconds(time.seconds()) +
         absl::Nanoseconds(time.nanos());
}

absl::Time RecordedAtOf(const std::string& record) {
  absl::StatusOr<eventstore::RecordedEvent> event =
      eventstore::record_format::DecodeRecord(record);
  return event.ok() ? event->recorded_at : absl::UnixEpoch();
}

}  // namespace

std::unique_ptr<Follower> Follower::Start(eventstore::EventStore* log,
                                          FollowerOptions options) {
  std::unique_ptr<Follower> follower(new Follower(log, std::move(options)));
  follower->thread_ = std::thread([raw = follower.get()] { raw->Run(); });
  return follower;
}

Follower::Follower(eventstore::EventStore* log, FollowerOptions options)
    : log_(log), options_(std::move(options)) {
  const uint64_t head = log_->HeadPosition();
  status_.head = head;
  status_.leader_head = head;
  if (head > 0) {
    absl::StatusOr<std::vector<eventstore::StoredRecord>> last =
        log_->ReadStoredRecords(head, 1, 1);
    if (last.ok() && !last->empty()) {
      status_.head_recorded_at = RecordedAtOf(last->front().record);
    }
  }
}

Follower::~Follower() { Stop(); }

void Follower::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

FollowerStatus Follower::Status() const {
  MutexLock lock(&mu_);
  return status_;
}

void Follower::SetState(FollowerStatus::State state, std::string problem) {
  MutexLock lock(&mu_);
  status_.state = state;
  status_.problem = std::move(problem);
}

void Follower::Run() {
  absl::Duration backoff = options_.first_retry;
  for (;;) {
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
      ++status_.connections;
    }
    const uint64_t before = log_->HeadPosition();
    if (!FollowOnce()) return;
    // Progress on the last connection: the next attempt starts quickly.
    if (log_->HeadPosition() > before) backoff = options_.first_retry;
    MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(
        [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; },
        absl::Now() + backoff);
    backoff = std::min(backoff * 2, options_.longest_retry);
  }
}

bool Follower::FollowOnce() {
  auto channel = grpc::CreateChannel(options_.leader, options_.credentials);
  auto stub = v1::Replication::NewStub(channel);
  grpc::ClientContext context;
  if (!options_.token.empty()) {
    context.AddMetadata("authorization",
                        absl::StrCat("Bearer ", options_.token));
  }
  {
    MutexLock lock(&mu_);
    if (stopping_) return false;
    context_ = &context;
  }
  struct Unregister {
    Follower* follower;
    ~Unregister() {
      MutexLock lock(&follower->mu_);
      follower->context_ = nullptr;
    }
  } unregister{this};

  auto stream = stub->Follow(&context);
  v1::FollowLogRequest first;
  first.set_replica_name(options_.replica_name);
  const uint64_t head = log_->HeadPosition();
  first.set_after_position(head);
  if (head > 0) {
    absl::StatusOr<eventstore::Hash> hash = log_->HashAt(head);
    if (!hash.ok()) {
      SetState(FollowerStatus::State::kStopped,
               absl::StrCat("cannot read this log's own head: ",
                            hash.status().message()));
      return false;
    }
    first.set_hash_at_position(
        std::string(reinterpret_cast<const char*>(hash->data()), hash->size()));
  }
  absl::StatusOr<Term> own_term = LastTerm(*log_);
  if (!own_term.ok()) {
    SetState(FollowerStatus::State::kStopped,
             absl::StrCat("cannot read this log's leadership term: ",
                          own_term.status().message()));
    return false;
  }
  first.set_term(own_term->term);
  stream->Write(first);

  v1::FollowLogResponse response;
  absl::Status refused;
  while (stream->Read(&response)) {
    if (response.term() < own_term->term) {
      // A deposed leader (one that came back without knowing): nothing of
      // its can be taken. Its current successor is who to follow.
      refused = absl::UnavailableError(absl::StrCat(
          "the leader at ", options_.leader, " is in term ", response.term(),
          ", older than this log's term ", own_term->term,
          ": it was deposed; records from it are refused"));
      context.TryCancel();
      break;
    }
    {
      MutexLock lock(&mu_);
      status_.state = FollowerStatus::State::kFollowing;
      status_.problem.clear();
      status_.leader_head = response.leader_head();
      status_.leader_head_recorded_at =
          FromProto(response.leader_head_recorded_at());
      status_.last_heard = absl::Now();
      if (status_.lag_events() == 0) status_.last_caught_up = absl::Now();
    }
    if (response.records().empty()) continue;
    std::vector<eventstore::StoredRecord> records;
    records.reserve(response.records_size());
    bool rewrote = false;
    for (v1::ReplicatedRecord& in : *response.mutable_records()) {
      eventstore::StoredRecord& record = records.emplace_back();
      record.position = in.position();
      record.record = std::move(*in.mutable_record());
      record.append_first = in.append_first();
      record.append_count = in.append_count();
      for (v1::RewrittenRecord& r : *in.mutable_rewritten()) {
        record.rewritten.push_back({.position = r.position(),
                                    .record = std::move(*r.mutable_record())});
        rewrote = true;
      }
    }
    const uint64_t first_position = records.front().position;
    const uint64_t last_position = records.back().position;
    const absl::Time last_time = RecordedAtOf(records.back().record);
    absl::Status applied = log_->AppendStored(std::move(records));
    if (applied.ok()) {
      // The batch may have begun a term (LeaderTermBegan).
      absl::StatusOr<Term> now = LastTerm(*log_);
      if (now.ok()) own_term = *std::move(now);
    }
    if (!applied.ok()) {
      refused = std::move(applied);
      context.TryCancel();
      break;
    }
    {
      MutexLock lock(&mu_);
      status_.head = last_position;
      status_.head_recorded_at = last_time;
      if (status_.lag_events() == 0) status_.last_caught_up = absl::Now();
      status_.records_received += last_position - first_position + 1;
    }
    if (options_.on_applied) {
      options_.on_applied(first_position, last_position, rewrote);
    }
    v1::FollowLogRequest durable;
    durable.set_durable_position(last_position);
    if (!stream->Write(durable)) break;
  }
  const grpc::Status ended = stream->Finish();
  if (!refused.ok()) {
    // The store said what is wrong and where; the log holds everything
    // before it, and nothing of the refused batch.
    const bool for_good = absl::IsDataLoss(refused) ||
                          absl::IsFailedPrecondition(refused) ||
                          absl::IsInvalidArgument(refused);
    logging::Error(for_good ? "replication stopped: a record was refused"
                            : "replication interrupted",
                   {{"leader", options_.leader},
                    {"problem", std::string(refused.message())}});
    SetState(for_good ? FollowerStatus::State::kStopped
                      : FollowerStatus::State::kConnecting,
             std::string(refused.message()));
    return !for_good;
  }
  {
    MutexLock lock(&mu_);
    if (stopping_) return false;
  }
  if (ended.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
      ended.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    const std::string problem = absl::StrCat(
        "the leader refused to be followed: ", ended.error_message());
    logging::Error("replication stopped",
                   {{"leader", options_.leader}, {"problem", problem}});
    SetState(FollowerStatus::State::kStopped, problem);
    return false;
  }
  SetState(FollowerStatus::State::kConnecting,
           absl::StrCat("the stream from ", options_.leader,
                        " ended: ", ended.error_message()));
  return true;
}

}  // namespace plantrail::replication
