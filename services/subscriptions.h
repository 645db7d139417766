// EventStore.Subscribe: one gRPC write reactor per subscription, no thread
// per subscriber. Every subscription reads the log by position (pages from
// disk, whether it is far behind or at the head); a commit only wakes the
// subscriptions that wait at the head. So there is no switch from "catch up"
// to "live" that could drop or repeat an event, and a slow consumer costs
// nobody else anything: it is further behind, and reads from disk.
//
// A subscription lives as long as its credentials: it ends (UNAUTHENTICATED)
// when its token is revoked, at once, and when it expires, by one timer
// thread for all subscriptions, also when nothing is committed meanwhile.
//
// Thread safety: all methods may be called from any thread. The log and the
// authorizer must outlive the hub; destroy the hub only after the gRPC
// server has shut down.
#ifndef PLANTRAIL_SERVICES_SUBSCRIPTIONS_H_
#define PLANTRAIL_SERVICES_SUBSCRIPTIONS_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/sync.h"
#include "common/thread_pool.h"
#include "eventstore/event_store.h"
#include "grpcpp/support/server_callback.h"
#include "plantrail/v1/event_store.pb.h"
#include "services/authorizer.h"
#include "services/principal.h"

namespace plantrail::services {

// The log cursor that keeps a consumer group's acknowledged position, and
// the rule for group names: [A-Za-z0-9][A-Za-z0-9._:@-]*, at most 100.
std::string GroupCursor(absl::string_view consumer_group);
absl::Status CheckConsumerGroup(absl::string_view consumer_group);
// Who acknowledges or resumes a group as `caller`: its name, which claims
// a group nobody owns yet; empty for an admin, who may use any group and
// claims none.
std::string GroupClaimant(const Principal& caller);
// PERMISSION_DENIED [rule: group-owner] when `cursor` (the group's) belongs
// to another than `claimant`.
absl::Status CheckGroupOwner(absl::string_view consumer_group,
                             const eventstore::EventStore::Cursor& cursor,
                             absl::string_view claimant);

// What one subscription's filter may hold: so that each subscription's
// footprint is small and bounded (a few KiB whatever the request was).
// Beyond them: INVALID_ARGUMENT naming the field and the limit.
inline constexpr int kMaxFilterEntries = 100;        // of each kind
inline constexpr size_t kMaxFilterEntryBytes = 200;  // each entry
inline constexpr size_t kMaxFilterBytes = 8 * 1024;  // all entries together
absl::Status CheckSubscriptionFilter(const v1::SubscriptionFilter& filter);

// What keeps many subscribers from exhausting the server: open
// subscriptions in all and per principal. A subscription beyond either is
// refused with RESOURCE_EXHAUSTED naming the limit.
struct SubscriptionLimits {
  uint32_t max_subscribers = 1000;
  uint32_t max_per_principal = 500;
};

class SubscriptionHub {
 public:
  // `authorizer` checks a subscription's credentials again at its token's
  // revocation (see Revoked) and expiry.
  SubscriptionHub(eventstore::EventStore* log, const Authorizer* authorizer,
                  SubscriptionLimits limits = {});
  ~SubscriptionHub();

  // `caller` is who subscribes (counted against the limits), or why the
  // subscription is refused. The request is checked before anything is
  // kept of it; a subscription keeps only a compact copy of its filter.
  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context, const v1::SubscribeRequest& request,
      absl::StatusOr<Principal> caller);

  // A token was revoked (TokenRegistry's listener): every open
  // subscription of it, or for one by client certificate of its principal,
  // is checked again at once, and ends if refused; nothing is written to it
  // after this returns. Must not block: it is called on the log's writer
  // thread.
  void Revoked(const std::string& token_id, const std::string& principal);

  // Subscriptions open now.
  uint64_t live() const { return live_.load(std::memory_order_relaxed); }

  struct Stats {
    uint64_t open = 0;
    // Events delivered since the hub started, over all subscriptions.
    uint64_t events_sent = 0;
    // Positions between the log's head and the furthest-behind open
    // subscription; and how many are far enough behind to read from disk
    // (those that were sent fell_behind).
    uint64_t max_lag = 0;
    uint64_t behind = 0;
  };
  Stats GetStats() const;

  // Ends every open subscription with UNAVAILABLE (a consumer resumes after
  // the last position it received). For shutting down: a subscription
  // waiting at the head would otherwise hold the server's shutdown.
  void EndAll();

 private:
  class Subscription;
  friend class Subscription;

  void Schedule(std::shared_ptr<Subscription> subscription);
  // Parks a subscription at the head until the next commit.
  void Park(const std::shared_ptr<Subscription>& subscription);
  void Unpark(const Subscription* subscription);
  void Wake();

  // Checks the credentials of `subscriptions` again; ends those refused.
  void Recheck(const std::vector<std::shared_ptr<Subscription>>& subscriptions);
  // The timer thread: rechecks each subscription when its credentials
  // expire.
  void RunTimer();
  // A subscription's expiry was set or moved: the timer recomputes when to
  // wake.
  void TimerChanged();

  // Counts `reactor` against the limits; OK when it may open.
  absl::Status Admit(const Subscription* reactor,
                     const std::shared_ptr<Subscription>& subscription,
                     const std::string& principal)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  eventstore::EventStore* const log_;
  const Authorizer* const authorizer_;
  const SubscriptionLimits limits_;
  std::atomic<uint64_t> live_{0};
  std::atomic<uint64_t> events_sent_{0};
  uint64_t listener_ = 0;
  mutable Mutex mu_;
  std::map<const Subscription*, std::weak_ptr<Subscription>> parked_
      ABSL_GUARDED_BY(mu_);
  std::map<const Subscription*, std::weak_ptr<Subscription>> open_
      ABSL_GUARDED_BY(mu_);
  // Open subscriptions per principal (admitted ones only).
  std::map<std::string, uint32_t> open_by_principal_ ABSL_GUARDED_BY(mu_);
  // The timer thread's own lock: a commit's Wake() does not wake it.
  Mutex timer_mu_;
  bool timer_changed_ ABSL_GUARDED_BY(timer_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(timer_mu_) = false;
  std::thread timer_;
  // Last member: joined first, while the rest is still there.
  ThreadPool pool_{2};
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_SUBSCRIPTIONS_H_
