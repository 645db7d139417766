// Delivers the log to webhook endpoints: one worker thread per endpoint, a
// durable cursor each (a named cursor in the log, saved after every 2xx),
// so delivery is at least once and in log order per endpoint, and a
// restart (or a crash) goes on after the last event acknowledged.
//
// A failed request is retried with exponential backoff and jitter (or after
// the receiver's Retry-After, capped at the longest backoff), never
// skipped: the endpoint is retrying until one succeeds, and failing once it
// has been retrying for `failing_after`. An endpoint added with
// pause_when_failing then asks to be paused (`on_give_up`: the registry
// records the pause, which comes back as a configuration).
//
// Bounded memory: a worker holds one page of the log (at most kPageEvents
// events) and one request at a time. A slow or dead endpoint holds only its
// own worker: the log is read on snapshots, never locked, and every other
// endpoint has its own thread.
//
// Thread safety: every method may be called from any thread. The log must
// outlive the dispatcher; on_give_up is called on a worker thread and must
// not block on the dispatcher.
#ifndef PLANTRAIL_WEBHOOK_DELIVERY_DISPATCHER_H_
#define PLANTRAIL_WEBHOOK_DELIVERY_DISPATCHER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "common/sync.h"
#include "eventstore/event_store.h"
#include "projections/follow_filter.h"
#include "webhook_delivery/http_post.h"
#include "webhooks/retry.h"

namespace plantrail::webhook_delivery {

inline constexpr uint32_t kPageEvents = 100;

// A signing key (the secret's bytes) and until when it signs.
struct SigningKey {
  std::string key;
  absl::Time until = absl::InfiniteFuture();
};

// What the registry says of an endpoint.
struct EndpointConfig {
  std::string endpoint_id;
  std::string url;
  projections::FollowFilter filter;
  // The current key first; a previous one while a rotation overlaps.
  std::vector<SigningKey> keys;
  // The log cursor this delivery keeps (a replay starts a new one: cursors
  // never move back) and the position it begins after.
  std::string cursor;
  uint64_t after_position = 0;
  bool paused = false;
  bool pause_when_failing = false;
};

// What delivery to an endpoint has done since the server started.
struct EndpointStatus {
  uint64_t delivered_position = 0;
  uint64_t delivered = 0;
  uint64_t failed = 0;
  uint64_t retries = 0;
  std::string last_error;
  absl::Time last_error_at = absl::InfinitePast();
  // Since the first failure in a row; InfinitePast after a success.
  absl::Time failing_since = absl::InfinitePast();
  // Retrying for failing_after or longer.
  bool failing = false;
  // InfinitePast when not waiting to retry.
  absl::Time next_attempt_at = absl::InfinitePast();
  absl::Time last_delivered_at = absl::InfinitePast();
  // The recorded time of the first position after delivered_position, as
  // far as the worker has read the log; InfinitePast when it has read none
  // (caught up, or between pages).
  absl::Time oldest_undelivered_at = absl::InfinitePast();

  bool retrying() const { return failing_since != absl::InfinitePast(); }
};

struct DispatcherOptions {
  // The server's name in each event's CloudEvents `source`.
  std::string source = "plantrail";
  PostOptions post;
  webhooks::RetryPolicy retry;
  // How long an endpoint retries before it is failing (and one with
  // pause_when_failing pauses).
  absl::Duration failing_after = absl::Hours(1);
  // Called once per failing spell of an endpoint with pause_when_failing.
  std::function<void(const std::string& endpoint_id, const std::string& reason)>
      on_give_up;
  // The current time (tests move it).
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class Dispatcher {
 public:
  Dispatcher(eventstore::EventStore* log, DispatcherOptions options);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Adds an endpoint or changes one; its worker picks the change up before
  // its next request (a request under way finishes first).
  void Configure(EndpointConfig config);
  // Stops delivering to the endpoint (a request under way finishes).
  void Remove(const std::string& endpoint_id);
  std::optional<EndpointStatus> Status(const std::string& endpoint_id) const;
  std::map<std::string, EndpointStatus> AllStatus() const;

  // Stops every worker and waits for them; idempotent.
  void Stop();

 private:
  class Worker;

  eventstore::EventStore* const log_;
  const DispatcherOptions options_;
  uint64_t listener_ = 0;

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<Worker>> workers_ ABSL_GUARDED_BY(mu_);
  // Removed workers still finishing a request; joined at Stop.
  std::vector<std::shared_ptr<Worker>> retired_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace plantrail::webhook_delivery

#endif  // PLANTRAIL_WEBHOOK_DELIVERY_DISPATCHER_H_
