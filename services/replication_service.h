// The leader's half of replication (docs/replication.md): the Replication
// service, which streams the log's stored records, exactly as they are, to
// every replica that follows it, from the position the replica names, after
// checking that the replica's chain agrees with this log's there.
//
// Each Follow stream has a sender thread of its own (replicas are few, and a
// thread that blocks on the log's head is the simplest correct tailer); the
// replica's durable positions arrive on the same stream.
//
// Thread safety: every method may be called from any thread.
#ifndef PLANTRAIL_SERVICES_REPLICATION_SERVICE_H_
#define PLANTRAIL_SERVICES_REPLICATION_SERVICE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "eventstore/event_store.h"
#include "plantrail/v1/replication.grpc.pb.h"
#include "replication/sync_gate.h"
#include "services/authorizer.h"

namespace plantrail::services {

struct ReplicationLimits {
  // Records and bytes in one message to a replica (at least one record).
  size_t max_records = 1000;
  size_t max_bytes = 4 << 20;
  // How often an idle stream sends the leader's head (a heartbeat).
  absl::Duration heartbeat = absl::Seconds(1);
};

class ReplicationService final : public v1::Replication::CallbackService {
 public:
  // Called when a replica holds a newer leadership term than this log:
  // this server was deposed and must stop accepting writes.
  using DeposedListener = std::function<void(uint64_t own, uint64_t newer)>;

  // `log` and `authorizer` must outlive the service; so must `gate`, which
  // hears every replica's durable position (nullptr: no synchronous
  // replication).
  ReplicationService(eventstore::EventStore* log, const Authorizer* authorizer,
                     replication::SyncGate* gate, DeposedListener on_deposed,
                     ReplicationLimits limits = {});
  // Ends every stream (EndAll) and waits for their senders.
  ~ReplicationService() override;

  grpc::ServerBidiReactor<v1::FollowLogRequest, v1::FollowLogResponse>* Follow(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* GetChainHashes(
      grpc::CallbackServerContext* context,
      const v1::GetChainHashesRequest* request,
      v1::GetChainHashesResponse* response) override;

  // The replicas following now, for Admin.GetStats and the metrics.
  std::vector<v1::ReplicaStatus> Replicas() const;

  // Ends every stream (UNAVAILABLE: the server is going away) and refuses
  // new ones; returns once no sender thread is left.
  void EndAll();

 private:
  class FollowStream;

  eventstore::EventStore* const log_;
  const Authorizer* const authorizer_;
  replication::SyncGate* const gate_;
  const DeposedListener on_deposed_;
  const ReplicationLimits limits_;

  mutable Mutex mu_;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_stream_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, FollowStream*> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_REPLICATION_SERVICE_H_
