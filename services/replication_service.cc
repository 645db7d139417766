#include "services/replication_service.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "domain/timestamps.h"
#include "eventstore/record_format.h"
#include "logging/log.h"
#include "replication/terms.h"
#include "services/grpc_status.h"

namespace plantrail::services {
namespace {

constexpr size_t kMaxReplicaName = 128;
// How often a sender waiting at the head looks whether its stream ended.
constexpr absl::Duration kPoll = absl::Milliseconds(100);

absl::Status CheckReplicaName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxReplicaName) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replica_name: required, at most ", kMaxReplicaName, " bytes"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '-' && c != '_' && c != ':') {
      return absl::InvalidArgumentError(
          "replica_name: letters, digits, '.', '-', '_' and ':' only");
    }
  }
  return absl::OkStatus();
}

// Whether the replica's log agrees with `log` at its head: FAILED_PRECONDITION
// naming the position when it does not (a fork) or when it is ahead.
absl::Status CheckAgreement(const eventstore::EventStore& log,
                            const v1::FollowLogRequest& first) {
  const uint64_t after = first.after_position();
  const uint64_t head = log.HeadPosition();
  if (after > head) {
    return absl::FailedPreconditionError(absl::StrCat(
        "after_position: ", after, " is beyond this leader's head (", head,
        "); the replica holds records the leader does not, so it cannot "
        "follow it as it is"));
  }
  if (after == 0) return absl::OkStatus();
  absl::StatusOr<eventstore::Hash> hash = log.HashAt(after);
  if (!hash.ok()) return hash.status();
  if (first.hash_at_position() !=
      absl::string_view(reinterpret_cast<const char*>(hash->data()),
                        hash->size())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "hash_at_position: the replica's chain differs from the leader's at "
        "position ",
        after, "; its log forked from the leader's at or before it"));
  }
  return absl::OkStatus();
}

// The time the record at `position` was recorded (the leader's head), for
// the replica's lag in seconds.
absl::Time RecordedAt(const eventstore::EventStore& log, uint64_t position) {
  if (position == 0) return absl::UnixEpoch();
  absl::StatusOr<std::vector<eventstore::StoredRecord>> records =
      log.ReadStoredRecords(position, 1, 1);
  if (!records.ok() || records->empty()) return absl::UnixEpoch();
  absl::StatusOr<eventstore::RecordedEvent> event =
      eventstore::record_format::DecodeRecord(records->front().record);
  return event.ok() ? event->recorded_at : absl::UnixEpoch();
}

}  // namespace

class ReplicationService::FollowStream final
    : public grpc::ServerBidiReactor<v1::FollowLogRequest,
                                     v1::FollowLogResponse> {
 public:
  FollowStream(ReplicationService* service,
               grpc::CallbackServerContext* context)
      : service_(service), peer_(context->peer()) {
    absl::StatusOr<Principal> principal = service_->authorizer_->Authorize(
        *context, MethodName<v1::Replication>("Follow"));
    absl::Status admitted = principal.status();
    if (admitted.ok()) {
      MutexLock lock(&service_->mu_);
      if (service_->ending_) {
        admitted = absl::UnavailableError("the server is shutting down");
      } else {
        id_ = service_->next_stream_++;
        service_->streams_[id_] = this;
      }
    }
    if (!admitted.ok()) {
      Finish(ToGrpcStatus(admitted));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The replica closed its side, or the call ended.
      bool started;
      {
        MutexLock lock(&mu_);
        reads_done_ = true;
        started = sender_.joinable();
      }
      if (!started) {
        Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                            "the replica closed the stream before following"));
      }
      return;
    }
    bool started;
    {
      MutexLock lock(&mu_);
      started = sender_.joinable();
      if (started) {
        status_.set_durable_position(
            std::max(status_.durable_position(), request_.durable_position()));
      }
    }
    if (started && service_->gate_ != nullptr) {
      service_->gate_->Durable(id_, request_.durable_position());
    }
    if (!started) {
      absl::Status admitted = CheckReplicaName(request_.replica_name());
      if (admitted.ok()) admitted = CheckTerm(request_);
      if (admitted.ok()) admitted = CheckAgreement(*service_->log_, request_);
      if (!admitted.ok()) {
        logging::Warning("replica refused",
                         {{"replica", request_.replica_name()},
                          {"peer", peer_},
                          {"problem", std::string(admitted.message())}});
        Finish(ToGrpcStatus(admitted));
        return;
      }
      if (service_->gate_ != nullptr) {
        // What the replica holds when it connects is durable on its side.
        service_->gate_->Durable(id_, request_.after_position());
      }
      MutexLock lock(&mu_);
      status_.set_replica_name(request_.replica_name());
      status_.set_peer(peer_);
      status_.set_started_after(request_.after_position());
      status_.set_sent_position(request_.after_position());
      status_.set_durable_position(request_.after_position());
      *status_.mutable_connected_at() = domain::ToTimestamp(absl::Now());
      sender_ = std::thread(
          [this, after = request_.after_position()] { Send(after); });
      logging::Info("replica following",
                    {{"replica", status_.replica_name()},
                     {"peer", peer_},
                     {"after", absl::StrCat(request_.after_position())}});
    }
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    MutexLock lock(&mu_);
    writing_ = false;
    write_ok_ = ok;
  }

  void OnCancel() override {
    MutexLock lock(&mu_);
    cancelled_ = true;
  }

  void OnDone() override {
    if (sender_.joinable()) sender_.join();
    if (service_->gate_ != nullptr && id_ != 0) service_->gate_->Gone(id_);
    if (id_ != 0) {
      MutexLock lock(&service_->mu_);
      service_->streams_.erase(id_);
    }
    delete this;
  }

  v1::ReplicaStatus Status() const {
    MutexLock lock(&mu_);
    return status_;
  }

 private:
  // A replica of a newer term than this log's: this server was deposed.
  absl::Status CheckTerm(const v1::FollowLogRequest& first) {
    absl::StatusOr<replication::Term> own =
        replication::LastTerm(*service_->log_);
    if (!own.ok()) return own.status();
    if (first.term() <= own->term) return absl::OkStatus();
    if (service_->on_deposed_) service_->on_deposed_(own->term, first.term());
    return absl::FailedPreconditionError(absl::StrCat(
        "term: the replica's log holds term ", first.term(),
        ", newer than this server's term ", own->term,
        ": this server was deposed and accepts no writes; follow the "
        "current leader"));
  }

  // Whether the stream should end, and with what.
  std::optional<grpc::Status> Ended() const {
    {
      MutexLock lock(&service_->mu_);
      if (service_->ending_) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "the leader is shutting down");
      }
    }
    MutexLock lock(&mu_);
    if (cancelled_) return grpc::Status::CANCELLED;
    if (reads_done_) {
      return grpc::Status(grpc::StatusCode::CANCELLED,
                          "the replica closed its side of the stream");
    }
    return std::nullopt;
  }

  // The sender thread: the records after `after`, as they are committed;
  // a heartbeat when there are none for a while.
  void Send(uint64_t after) {
    eventstore::EventStore& log = *service_->log_;
    const ReplicationLimits& limits = service_->limits_;
    uint64_t next = after + 1;
    absl::Time last_sent = absl::InfinitePast();
    grpc::Status end;
    for (;;) {
      if (std::optional<grpc::Status> ended = Ended()) {
        end = *std::move(ended);
        break;
      }
      absl::StatusOr<std::vector<eventstore::StoredRecord>> records =
          log.ReadStoredRecords(next, limits.max_records, limits.max_bytes);
      if (!records.ok()) {
        end = ToGrpcStatus(records.status());
        break;
      }
      const absl::Time now = absl::Now();
      if (records->empty() && now - last_sent < limits.heartbeat) {
        log.WaitForHead(next,
                        std::min(now + kPoll, last_sent + limits.heartbeat));
        continue;
      }
      response_.Clear();
      for (eventstore::StoredRecord& record : *records) {
        v1::ReplicatedRecord& out = *response_.add_records();
        out.set_position(record.position);
        out.set_record(std::move(record.record));
        out.set_append_first(record.append_first);
        out.set_append_count(record.append_count);
        for (eventstore::StoredRecord::Rewritten& rewritten :
             record.rewritten) {
          v1::RewrittenRecord& r = *out.add_rewritten();
          r.set_position(rewritten.position);
          r.set_record(std::move(rewritten.record));
        }
      }
      const uint64_t head =
          std::max(log.HeadPosition(), next - 1 + records->size());
      response_.set_leader_head(head);
      absl::StatusOr<replication::Term> term = replication::LastTerm(log);
      if (!term.ok()) {
        end = ToGrpcStatus(term.status());
        break;
      }
      response_.set_term(term->term);
      *response_.mutable_leader_head_recorded_at() =
          domain::ToTimestamp(RecordedAt(log, head));
      {
        MutexLock lock(&mu_);
        writing_ = true;
      }
      StartWrite(&response_);
      {
        MutexLock lock(&mu_);
        mu_.Await([this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_; });
        if (!write_ok_) {
          end = grpc::Status(grpc::StatusCode::CANCELLED,
                             "the replica went away");
          break;
        }
        next += records->size();
        status_.set_sent_position(next - 1);
      }
      last_sent = now;
    }
    logging::Info("replica stream ended", {{"replica", Status().replica_name()},
                                           {"peer", peer_},
                                           {"sent", absl::StrCat(next - 1)},
                                           {"why", end.error_message()}});
    Finish(std::move(end));
  }

  ReplicationService* const service_;
  const std::string peer_;
  uint64_t id_ = 0;
  v1::FollowLogRequest request_;
  v1::FollowLogResponse response_;
  std::thread sender_;

  mutable Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool write_ok_ ABSL_GUARDED_BY(mu_) = true;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  v1::ReplicaStatus status_ ABSL_GUARDED_BY(mu_);
};

ReplicationService::ReplicationService(eventstore::EventStore* log,
                                       const Authorizer* authorizer,
                                       replication::SyncGate* gate,
                                       DeposedListener on_deposed,
                                       ReplicationLimits limits)
    : log_(log),
      authorizer_(authorizer),
      gate_(gate),
      on_deposed_(std::move(on_deposed)),
      limits_(limits) {}

ReplicationService::~ReplicationService() {
  EndAll();
  MutexLock lock(&mu_);
  mu_.Await(
      [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return streams_.empty(); });
}

grpc::ServerBidiReactor<v1::FollowLogRequest, v1::FollowLogResponse>*
ReplicationService::Follow(grpc::CallbackServerContext* context) {
  return new FollowStream(this, context);
}

grpc::ServerUnaryReactor* ReplicationService::GetChainHashes(
    grpc::CallbackServerContext* context,
    const v1::GetChainHashesRequest* request,
    v1::GetChainHashesResponse* response) {
  absl::StatusOr<Principal> caller = authorizer_->Authorize(
      *context, MethodName<v1::Replication>("GetChainHashes"));
  if (!caller.ok()) return FinishUnary(context, caller.status());
  if (request->positions_size() > 64) {
    return FinishUnary(context, absl::InvalidArgumentError(absl::StrCat(
                                    "positions: ", request->positions_size(),
                                    " asked; at most 64 in one call")));
  }
  const uint64_t head = log_->HeadPosition();
  for (uint64_t position : request->positions()) {
    std::string& out = *response->add_hashes();
    if (position == 0 || position > head) continue;
    absl::StatusOr<eventstore::Hash> hash = log_->HashAt(position);
    if (!hash.ok()) return FinishUnary(context, hash.status());
    out.assign(reinterpret_cast<const char*>(hash->data()), hash->size());
  }
  response->set_head(head);
  absl::StatusOr<replication::Term> term = replication::LastTerm(*log_);
  if (!term.ok()) return FinishUnary(context, term.status());
  response->set_term(term->term);
  return FinishUnary(context, absl::OkStatus());
}

std::vector<v1::ReplicaStatus> ReplicationService::Replicas() const {
  std::vector<v1::ReplicaStatus> replicas;
  MutexLock lock(&mu_);
  for (const auto& [id, stream] : streams_) {
    v1::ReplicaStatus status = stream->Status();
    if (!status.replica_name().empty()) replicas.push_back(std::move(status));
  }
  return replicas;
}

void ReplicationService::EndAll() {
  MutexLock lock(&mu_);
  ending_ = true;
}

}  // namespace plantrail::services
