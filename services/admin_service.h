// plantrail.v1.Admin: integrity checks and statistics of the log.
//
// Thread safety: all methods may run concurrently. The store must outlive
// the service.
#ifndef PLANTRAIL_SERVICES_ADMIN_SERVICE_H_
#define PLANTRAIL_SERVICES_ADMIN_SERVICE_H_

#include <vector>

#include "eventstore/event_store.h"
#include "plantrail/v1/admin.grpc.pb.h"
#include "projections/runner.h"
#include "services/subscriptions.h"

namespace plantrail::services {

class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(eventstore::EventStore* store,
               std::vector<projections::ProjectionRunner*> projections,
               const SubscriptionHub* subscriptions)
      : store_(store),
        projections_(std::move(projections)),
        subscriptions_(subscriptions) {}

  grpc::ServerUnaryReactor* Verify(grpc::CallbackServerContext* context,
                                   const v1::VerifyRequest* request,
                                   v1::VerifyResponse* response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override;
  grpc::ServerUnaryReactor* ListProjections(
      grpc::CallbackServerContext* context,
      const v1::ListProjectionsRequest* request,
      v1::ListProjectionsResponse* response) override;
  grpc::ServerUnaryReactor* RebuildProjection(
      grpc::CallbackServerContext* context,
      const v1::RebuildProjectionRequest* request,
      v1::RebuildProjectionResponse* response) override;

 private:
  eventstore::EventStore* const store_;
  const std::vector<projections::ProjectionRunner*> projections_;
  const SubscriptionHub* const subscriptions_;
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_ADMIN_SERVICE_H_
