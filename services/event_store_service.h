// plantrail.v1.EventStore over the callback API: no thread is held per call.
// Appends finish from the store's writer thread when their group commits;
// reads run on the calling gRPC thread (RocksDB reads do not wait on the
// writer).
//
// Thread safety: all methods may run concurrently. The store must outlive
// the service.
#ifndef PLANTRAIL_SERVICES_EVENT_STORE_SERVICE_H_
#define PLANTRAIL_SERVICES_EVENT_STORE_SERVICE_H_

#include "eventstore/event_store.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "services/authorizer.h"
#include "services/subscriptions.h"

namespace plantrail::services {

class EventStoreService final : public v1::EventStore::CallbackService {
 public:
  // Every RPC asks `authorizer` first. All must outlive the service.
  EventStoreService(eventstore::EventStore* store, SubscriptionHub* hub,
                    const Authorizer* authorizer)
      : store_(store), hub_(hub), authorizer_(authorizer) {}

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const v1::AppendRequest* request,
                                   v1::AppendResponse* response) override;
  grpc::ServerUnaryReactor* ReadStream(
      grpc::CallbackServerContext* context,
      const v1::ReadStreamRequest* request,
      v1::ReadStreamResponse* response) override;
  grpc::ServerUnaryReactor* ReadAll(grpc::CallbackServerContext* context,
                                    const v1::ReadAllRequest* request,
                                    v1::ReadAllResponse* response) override;
  grpc::ServerUnaryReactor* Ack(grpc::CallbackServerContext* context,
                                const v1::AckRequest* request,
                                v1::AckResponse* response) override;
  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const v1::SubscribeRequest* request) override;

 private:
  eventstore::EventStore* const store_;
  SubscriptionHub* const hub_;
  const Authorizer* const authorizer_;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_EVENT_STORE_SERVICE_H_
