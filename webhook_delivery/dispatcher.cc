#include "webhook_delivery/dispatcher.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "logging/log.h"
#include "webhooks/cloud_event.h"
#include "webhooks/endpoint_url.h"
#include "webhooks/signature.h"

namespace plantrail::webhook_delivery {
namespace {

// How long an idle worker waits for a commit before it looks again anyway
// (a commit listener wakes it sooner).
constexpr absl::Duration kIdleWait = absl::Seconds(1);
// How long a worker waits after the log itself failed it.
constexpr absl::Duration kLogRetry = absl::Seconds(1);

}  // namespace

class Dispatcher::Worker {
 public:
  Worker(Dispatcher* dispatcher, EndpointConfig config)
      : dispatcher_(dispatcher), config_(std::move(config)) {}

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Update(EndpointConfig config) {
    MutexLock lock(&mu_);
    config_ = std::move(config);
    ++version_;
  }
  void Stop() {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  void HeadMoved(uint64_t head) {
    MutexLock lock(&mu_);
    head_ = std::max(head_, head);
  }
  EndpointStatus Status() const {
    const absl::Time now = Now();
    MutexLock lock(&mu_);
    EndpointStatus status = status_;
    status.failing =
        status.retrying() &&
        now - status.failing_since >= dispatcher_->options_.failing_after;
    return status;
  }

 private:
  // Waits until `deadline`, a configuration change or the stop (and, when
  // `for_head` is set, a commit beyond it); the caller looks again at all
  // of them.
  void Wait(absl::Time deadline, std::optional<uint64_t> for_head = {}) {
    MutexLock lock(&mu_);
    const uint64_t seen = seen_version_;
    mu_.AwaitWithDeadline(
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || version_ != seen ||
                 (for_head && head_ > *for_head);
        },
        deadline);
  }

  absl::Time Now() const { return dispatcher_->options_.now(); }

  void Log(absl::string_view what, const std::string& detail = "") {
    logging::Info(what,
                  {{"endpoint", config_now_.endpoint_id}, {"detail", detail}});
  }

  // Takes a changed configuration; false when stopping.
  bool TakeConfig() {
    EndpointConfig config;
    {
      MutexLock lock(&mu_);
      if (stopping_) return false;
      if (version_ == seen_version_ && matcher_) return true;
      config = config_;
      seen_version_ = version_;
    }
    const bool restart = !matcher_ || config.cursor != config_now_.cursor;
    if (config_now_.paused && !config.paused) {
      // Resumed: a new failing spell, and a new chance to pause itself.
      failing_logged_ = false;
      MutexLock lock(&mu_);
      status_.failing_since = absl::InfinitePast();
    }
    config_now_ = std::move(config);
    absl::StatusOr<webhooks::EndpointUrl> url =
        webhooks::ParseEndpointUrl("url", config_now_.url);
    url_ = url.ok() ? std::optional(*std::move(url)) : std::nullopt;
    if (restart) {
      absl::StatusOr<uint64_t> cursor =
          dispatcher_->log_->LoadCursor(config_now_.cursor);
      position_ =
          std::max(cursor.ok() ? *cursor : 0, config_now_.after_position);
      saved_ = cursor.ok() ? *cursor : 0;
      matcher_.emplace(dispatcher_->log_, config_now_.filter);
      page_.clear();
      next_ = 0;
      MutexLock lock(&mu_);
      status_.delivered_position = position_;
      status_.oldest_undelivered_at = absl::InfinitePast();
    }
    return true;
  }

  // A paused endpoint waits for no retry.
  void Paused() {
    MutexLock lock(&mu_);
    status_.next_attempt_at = absl::InfinitePast();
  }

  // Saves the cursor past events the filter passed over, so a restart does
  // not scan them again; only when idle (each save is a synced write).
  void SavePassedOver() {
    if (position_ <= saved_) return;
    absl::StatusOr<uint64_t> saved =
        dispatcher_->log_->SaveCursor(config_now_.cursor, position_);
    if (saved.ok()) saved_ = *saved;
  }

  void Run() {
    while (TakeConfig()) {
      if (config_now_.paused) {
        Paused();
        SavePassedOver();
        Wait(absl::InfiniteFuture());
        continue;
      }
      if (!url_) {
        Fail("the URL does not parse", std::nullopt);
        Wait(absl::InfiniteFuture());
        continue;
      }
      if (next_ >= page_.size()) {
        absl::StatusOr<eventstore::LogPage> page = dispatcher_->log_->ReadAll(
            {.from_position = position_ + 1, .limit = kPageEvents});
        if (!page.ok()) {
          logging::Error("webhook delivery cannot read the log",
                         {{"endpoint", config_now_.endpoint_id},
                          {"error", page.status().ToString()}});
          Wait(Now() + kLogRetry);
          continue;
        }
        page_ = std::move(page->events);
        next_ = 0;
        NextInLine();
        if (page_.empty()) {
          SavePassedOver();
          Wait(Now() + kIdleWait, position_);
          continue;
        }
      }
      const eventstore::RecordedEvent& event = page_[next_];
      absl::StatusOr<bool> matches = matcher_->Matches(event);
      if (!matches.ok()) {
        logging::Error("webhook delivery cannot follow the plan's structure",
                       {{"endpoint", config_now_.endpoint_id},
                        {"position", event.position},
                        {"error", matches.status().ToString()}});
        Wait(Now() + kLogRetry);
        // The matcher may have learned half of the event: begin again
        // from the cursor.
        matcher_.reset();
        continue;
      }
      if (!*matches) {
        Passed(event.position);
        continue;
      }
      if (Deliver(event)) Passed(event.position);
    }
  }

  void Passed(uint64_t position) {
    position_ = position;
    ++next_;
    {
      MutexLock lock(&mu_);
      status_.delivered_position = position;
    }
    NextInLine();
  }

  // The lag in time: how long the first position not yet delivered (or
  // passed over) has been in the log; none when the page read holds no
  // more (the next read says again).
  void NextInLine() {
    const absl::Time waiting =
        next_ < page_.size() ? page_[next_].recorded_at : absl::InfinitePast();
    MutexLock lock(&mu_);
    status_.oldest_undelivered_at = waiting;
  }

  void Fail(const std::string& error, std::optional<absl::Duration> wait) {
    const absl::Time now = Now();
    bool first = false;
    bool now_failing = false;
    absl::Time failing_since;
    {
      MutexLock lock(&mu_);
      ++status_.failed;
      status_.last_error = error;
      status_.last_error_at = now;
      if (!status_.retrying()) {
        status_.failing_since = now;
        first = true;
      }
      failing_since = status_.failing_since;
      status_.next_attempt_at = wait ? now + *wait : absl::InfinitePast();
    }
    if (first) Log("webhook endpoint retrying", error);
    if (!failing_logged_ &&
        now - failing_since >= dispatcher_->options_.failing_after) {
      failing_logged_ = now_failing = true;
      Log("webhook endpoint failing", error);
    }
    if (now_failing && config_now_.pause_when_failing &&
        dispatcher_->options_.on_give_up) {
      Log("webhook endpoint pauses itself", error);
      dispatcher_->options_.on_give_up(
          config_now_.endpoint_id,
          absl::StrCat("failing since ", absl::FormatTime(failing_since), ": ",
                       error));
    }
  }

  // Sends `event` until a 2xx, a change of configuration or the stop;
  // whether it was delivered.
  bool Deliver(const eventstore::RecordedEvent& event) {
    absl::StatusOr<std::string> plan = matcher_->PlanOf(event);
    const std::string body = webhooks::CloudEventJson(
        event, dispatcher_->options_.source, plan.ok() ? *plan : "");
    const absl::Time now = Now();
    const int64_t timestamp = absl::ToUnixSeconds(now);
    std::vector<std::string> keys;
    for (const SigningKey& key : config_now_.keys) {
      if (key.until > now) keys.push_back(key.key);
    }
    const std::vector<std::pair<std::string, std::string>> headers = {
        {"webhook-id", event.event_id},
        {"webhook-timestamp", absl::StrCat(timestamp)},
        {"webhook-signature",
         webhooks::SignatureHeader(keys, event.event_id, timestamp, body)},
    };
    if (failures_ > 0) {
      MutexLock lock(&mu_);
      ++status_.retries;
    }
    const PostOutcome outcome =
        Post(*url_, headers, body, dispatcher_->options_.post);
    if (outcome.delivered()) {
      absl::StatusOr<uint64_t> saved =
          dispatcher_->log_->SaveCursor(config_now_.cursor, event.position);
      if (saved.ok()) {
        saved_ = *saved;
      } else {
        // Delivered all the same; after a restart it may come again.
        logging::Error("webhook delivery cannot save its cursor",
                       {{"endpoint", config_now_.endpoint_id},
                        {"error", saved.status().ToString()}});
      }
      const bool was_failing = failures_ > 0;
      failures_ = 0;
      failing_logged_ = false;
      {
        MutexLock lock(&mu_);
        ++status_.delivered;
        status_.last_delivered_at = Now();
        status_.last_error.clear();
        status_.failing_since = absl::InfinitePast();
        status_.next_attempt_at = absl::InfinitePast();
      }
      if (was_failing) Log("webhook endpoint delivering again");
      return true;
    }
    ++failures_;
    const webhooks::RetryPolicy& retry = dispatcher_->options_.retry;
    absl::Duration wait = webhooks::BackoffDelay(
        retry, failures_, absl::Uniform(bits_, 0.0, 1.0));
    if (outcome.retry_after) {
      std::optional<absl::Duration> asked =
          webhooks::ParseRetryAfter(*outcome.retry_after, now);
      if (asked) wait = std::min(std::max(*asked, wait), retry.longest);
    }
    Fail(outcome.error, wait);
    Wait(Now() + wait);
    return false;
  }

  Dispatcher* const dispatcher_;
  std::thread thread_;

  // The worker thread's own.
  EndpointConfig config_now_;
  std::optional<webhooks::EndpointUrl> url_;
  std::optional<projections::FollowMatcher> matcher_;
  std::vector<eventstore::RecordedEvent> page_;
  size_t next_ = 0;
  // The last position delivered or passed over, and the cursor's.
  uint64_t position_ = 0;
  uint64_t saved_ = 0;
  int failures_ = 0;
  // Whether this failing spell was logged (and the pause asked for).
  bool failing_logged_ = false;
  absl::BitGen bits_;

  mutable Mutex mu_;
  EndpointConfig config_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t seen_version_ ABSL_GUARDED_BY(mu_) = ~uint64_t{0};
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t head_ ABSL_GUARDED_BY(mu_) = 0;
  EndpointStatus status_ ABSL_GUARDED_BY(mu_);
};

Dispatcher::Dispatcher(eventstore::EventStore* log, DispatcherOptions options)
    : log_(log), options_(std::move(options)) {
  listener_ = log_->AddCommitListener([this](uint64_t head) {
    MutexLock lock(&mu_);
    for (auto& [id, worker] : workers_) worker->HeadMoved(head);
  });
}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Configure(EndpointConfig config) {
  MutexLock lock(&mu_);
  if (stopped_) return;
  auto it = workers_.find(config.endpoint_id);
  if (it != workers_.end()) {
    it->second->Update(std::move(config));
    return;
  }
  const std::string id = config.endpoint_id;
  auto worker = std::make_shared<Worker>(this, std::move(config));
  workers_.emplace(id, worker);
  worker->Start();
}

void Dispatcher::Remove(const std::string& endpoint_id) {
  MutexLock lock(&mu_);
  auto it = workers_.find(endpoint_id);
  if (it == workers_.end()) return;
  it->second->Stop();
  retired_.push_back(std::move(it->second));
  workers_.erase(it);
}

std::optional<EndpointStatus> Dispatcher::Status(
    const std::string& endpoint_id) const {
  MutexLock lock(&mu_);
  auto it = workers_.find(endpoint_id);
  if (it == workers_.end()) return std::nullopt;
  return it->second->Status();
}

std::map<std::string, EndpointStatus> Dispatcher::AllStatus() const {
  MutexLock lock(&mu_);
  std::map<std::string, EndpointStatus> all;
  for (const auto& [id, worker] : workers_) all[id] = worker->Status();
  return all;
}

void Dispatcher::Stop() {
  std::vector<std::shared_ptr<Worker>> workers;
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [id, worker] : workers_) workers.push_back(worker);
    workers.insert(workers.end(), retired_.begin(), retired_.end());
  }
  log_->RemoveCommitListener(listener_);
  for (auto& worker : workers) worker->Stop();
  for (auto& worker : workers) worker->Join();
}

}  // namespace plantrail::webhook_delivery
