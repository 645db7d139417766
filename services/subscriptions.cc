#include "services/subscriptions.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "domain/streams.h"
#include "plantrail/v1/event_store.grpc.pb.h"
#include "projections/follow_filter.h"
#include "services/event_store_proto.h"
#include "services/grpc_status.h"
#include "services/plan_command_handler.h"
#include "services/token_registry.h"

namespace plantrail::services {
namespace {

constexpr uint32_t kDefaultBatch = 100;
constexpr uint32_t kMaxBatch = 1000;
// How many events a filtered subscription scans before it sends a
// checkpoint even though nothing matched.
constexpr uint64_t kScanPage = 1000;
// How far behind the head a caught-up subscription may fall before it says
// so.
constexpr uint64_t kBehind = 1000;

}  // namespace

std::string GroupCursor(absl::string_view consumer_group) {
  return absl::StrCat("group:", consumer_group);
}

absl::Status CheckConsumerGroup(absl::string_view consumer_group) {
  eventstore::Limits limits;
  limits.max_stream_id_length = 100;
  return eventstore::ValidateStreamId("consumer_group", consumer_group, limits);
}

std::string GroupClaimant(const Principal& caller) {
  return caller.Has(v1::ROLE_ADMIN) ? "" : caller.name;
}

absl::Status CheckGroupOwner(absl::string_view consumer_group,
                             const eventstore::EventStore::Cursor& cursor,
                             absl::string_view claimant) {
  if (claimant.empty() || cursor.owner.empty() || cursor.owner == claimant) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "consumer_group: \"", consumer_group,
      "\" belongs to another principal (a group is the first acknowledger's; "
      "an admin may use any) [rule: group-owner]"));
}

namespace {

absl::Status CheckFilterEntries(
    absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& entries,
    size_t& total) {
  if (entries.size() > kMaxFilterEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "filter.", field, ": ", entries.size(), " entries, at most ",
        kMaxFilterEntries, " [rule: filter-limits]"));
  }
  for (int i = 0; i < entries.size(); ++i) {
    if (entries[i].size() > kMaxFilterEntryBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "filter.", field, "[", i, "]: ", entries[i].size(),
          " bytes, at most ", kMaxFilterEntryBytes, " [rule: filter-limits]"));
    }
    total += entries[i].size();
  }
  return absl::OkStatus();
}

// A subscription's filter as the matcher takes it.
projections::FollowFilter FilterOf(const v1::SubscriptionFilter& filter) {
  return {
      .stream_prefixes = {filter.stream_prefixes().begin(),
                          filter.stream_prefixes().end()},
      .event_types = {filter.event_types().begin(), filter.event_types().end()},
      .support_areas = {filter.support_areas().begin(),
                        filter.support_areas().end()},
      .plans = {filter.plans().begin(), filter.plans().end()},
  };
}

}  // namespace

absl::Status CheckSubscriptionFilter(const v1::SubscriptionFilter& filter) {
  size_t total = 0;
  PLANTRAIL_RETURN_IF_ERROR(
      CheckFilterEntries("stream_prefixes", filter.stream_prefixes(), total));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckFilterEntries("event_types", filter.event_types(), total));
  PLANTRAIL_RETURN_IF_ERROR(
      CheckFilterEntries("support_areas", filter.support_areas(), total));
  PLANTRAIL_RETURN_IF_ERROR(CheckFilterEntries("plans", filter.plans(), total));
  if (total > kMaxFilterBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("filter: ", total, " bytes in all entries, at most ",
                     kMaxFilterBytes, " [rule: filter-limits]"));
  }
  return absl::OkStatus();
}

class SubscriptionHub::Subscription final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  // `principal` and `filter` are empty for a subscription refused before it
  // began.
  Subscription(SubscriptionHub* hub, projections::FollowFilter filter,
               uint32_t batch, Principal principal, std::string peer)
      : hub_(hub),
        principal_(std::move(principal)),
        peer_(std::move(peer)),
        batch_(batch),
        filtered_(!filter.empty()),
        matcher_(hub->log_, std::move(filter)),
        expires_at_(principal_.expires_at) {}

  // Starts pumping from position `next`, unless `admitted` refuses it; the
  // reactor keeps itself alive (self_) until gRPC is done with it.
  void Begin(std::shared_ptr<Subscription> self, absl::Status admitted,
             uint64_t next) {
    {
      MutexLock lock(&mu_);
      self_ = self;
    }
    hub_->live_.fetch_add(1, std::memory_order_relaxed);
    if (!admitted.ok()) {
      {
        MutexLock lock(&mu_);
        ended_ = true;
      }
      Finish(ToGrpcStatus(admitted));
      return;
    }
    next_ = next;
    scanned_.store(next_ - 1, std::memory_order_relaxed);
    hub_->Schedule(std::move(self));
  }

  // Reads what comes next from the log and writes it, or parks at the head.
  // Runs on the hub's threads, never two at a time for one subscription.
  void Pump(std::shared_ptr<Subscription> self) {
    {
      MutexLock lock(&mu_);
      // Cleared first, so that a commit from here on schedules another
      // pump. That pump may start while this one runs (the hub has two
      // threads); it must not read or write alongside, or two writes would
      // be in flight at once (gRPC aborts on that), so it leaves a note and
      // this one runs again when it is done.
      scheduled_ = false;
      if (pumping_) {
        pump_again_ = true;
        return;
      }
      if (done_ || writing_) return;
      pumping_ = true;
    }
    PumpOnce(self);
    bool again;
    {
      MutexLock lock(&mu_);
      pumping_ = false;
      again = pump_again_;
      pump_again_ = false;
    }
    if (again) hub_->Schedule(std::move(self));
  }

  // One step of Pump(), which makes sure that only one runs at a time.
  void PumpOnce(const std::shared_ptr<Subscription>& self) {
    // Also here, not only on the timer: nothing is sent once the
    // credentials have expired, however late the timer is.
    if (TakeDue(absl::Now())) {
      hub_->Recheck({self});
      MutexLock lock(&mu_);
      if (ended_) return;
    }
    v1::SubscribeResponse response;
    const uint64_t head = hub_->log_->HeadPosition();
    if (caught_up_ && !behind_ && head + 1 >= next_ + kBehind) {
      behind_ = true;
      response.mutable_fell_behind()->set_position(next_ - 1);
      response.mutable_fell_behind()->set_head_position(head);
      Write(std::move(response));
      return;
    }
    const uint64_t scanned_from = next_;
    absl::Status read = Collect(*response.mutable_events());
    if (!read.ok()) {
      End(ToGrpcStatus(read));
      return;
    }
    scanned_.store(next_ - 1, std::memory_order_relaxed);
    hub_->events_sent_.fetch_add(response.events().events_size(),
                                 std::memory_order_relaxed);
    if (response.events().events_size() == 0) {
      if (filtered_ && next_ != scanned_from) {
        v1::SubscribeResponse::Checkpoint& checkpoint =
            *response.mutable_checkpoint();
        checkpoint.set_position(next_ - 1);
        checkpoint.set_head_position(hub_->log_->HeadPosition());
      } else if (!caught_up_ || behind_) {
        caught_up_ = true;
        behind_ = false;
        response.mutable_caught_up()->set_position(next_ - 1);
      } else {
        hub_->Park(self);
        // A commit between our read and parking would go unnoticed.
        if (hub_->log_->HeadPosition() >= next_) {
          hub_->Unpark(this);
          hub_->Schedule(std::move(self));
        }
        return;
      }
    }
    Write(std::move(response));
  }

  void OnWriteDone(bool ok) override {
    std::optional<grpc::Status> close;
    {
      MutexLock lock(&mu_);
      writing_ = false;
      if (done_) return;
      close = std::move(close_status_);
    }
    if (close) {
      End(*std::move(close));
      return;
    }
    if (!ok) {
      End(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    std::shared_ptr<Subscription> self;
    {
      MutexLock lock(&mu_);
      self = self_;
    }
    hub_->Schedule(std::move(self));
  }

  void OnCancel() override {
    hub_->Unpark(this);
    bool writing;
    {
      MutexLock lock(&mu_);
      writing = writing_;
    }
    // With a write in flight, its OnWriteDone(false) ends the call.
    if (!writing) End(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    hub_->Unpark(this);
    {
      MutexLock lock(&hub_->mu_);
      if (hub_->open_.erase(this) > 0 &&
          --hub_->open_by_principal_[principal_.name] == 0) {
        hub_->open_by_principal_.erase(principal_.name);
      }
    }
    hub_->live_.fetch_sub(1, std::memory_order_relaxed);
    std::shared_ptr<Subscription> self;
    {
      MutexLock lock(&mu_);
      done_ = true;
      self = std::move(self_);
    }
    // Scheduled pumps hold their own reference and see done_.
  }

  // Ends the call with `status`, after the write in flight if there is one.
  // From then on nothing more is written.
  void Close(grpc::Status status) {
    {
      MutexLock lock(&mu_);
      if (ended_ || done_) return;
      if (writing_) {
        if (!close_status_) close_status_ = std::move(status);
        return;
      }
      ended_ = true;
    }
    Finish(std::move(status));
  }

  const Principal& principal() const { return principal_; }
  const std::string& peer() const { return peer_; }

  // When the credentials are to be checked again.
  absl::Time expires_at() const {
    MutexLock lock(&mu_);
    return expires_at_;
  }
  void set_expires_at(absl::Time expires_at) {
    MutexLock lock(&mu_);
    expires_at_ = expires_at;
  }
  // True for the one caller that finds the credentials due for a check at
  // `now`; the check then sets the next time (set_expires_at).
  bool TakeDue(absl::Time now) {
    MutexLock lock(&mu_);
    if (expires_at_ > now) return false;
    expires_at_ = absl::InfiniteFuture();
    return true;
  }

  // The last position this subscription has read past (sent, or passed
  // over by its filter); any thread.
  uint64_t scanned() const { return scanned_.load(std::memory_order_relaxed); }

  bool MarkScheduled() {
    MutexLock lock(&mu_);
    if (scheduled_ || done_) return false;
    scheduled_ = true;
    return true;
  }

 private:
  // Appends the next matching events (up to the batch) and advances next_
  // past everything scanned (at most kScanPage events).
  absl::Status Collect(v1::SubscribeResponse::Events& out) {
    uint64_t scanned = 0;
    while (out.events_size() < static_cast<int>(batch_) &&
           scanned < kScanPage) {
      absl::StatusOr<eventstore::LogPage> page = hub_->log_->ReadAll(
          {.from_position = next_,
           .limit = static_cast<uint32_t>(filtered_ ? kScanPage : batch_)});
      if (!page.ok()) return page.status();
      if (page->events.empty()) break;
      for (eventstore::RecordedEvent& event : page->events) {
        ++scanned;
        next_ = event.position + 1;
        absl::StatusOr<bool> matches = matcher_.Matches(event);
        if (!matches.ok()) return matches.status();
        if (*matches) ToProto(std::move(event), *out.add_events());
        if (out.events_size() >= static_cast<int>(batch_)) break;
      }
    }
    return absl::OkStatus();
  }

  void Write(v1::SubscribeResponse response) {
    {
      MutexLock lock(&mu_);
      if (done_ || ended_) return;
      writing_ = true;
      pending_ = std::move(response);
    }
    StartWrite(&pending_);
  }

  void End(grpc::Status status) {
    {
      MutexLock lock(&mu_);
      if (ended_ || done_) return;
      ended_ = true;
    }
    Finish(std::move(status));
  }

  SubscriptionHub* const hub_;
  // Whom it counts against, and the credentials it lives by.
  const Principal principal_;
  const std::string peer_;
  const uint32_t batch_;
  const bool filtered_;
  // Touched by Pump only (one at a time).
  uint64_t next_ = 1;
  bool caught_up_ = false;
  bool behind_ = false;
  std::atomic<uint64_t> scanned_{0};
  // Follows the plan's structure through the events scanned.
  projections::FollowMatcher matcher_;

  mutable Mutex mu_;
  absl::Time expires_at_ ABSL_GUARDED_BY(mu_);
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool pumping_ ABSL_GUARDED_BY(mu_) = false;
  bool pump_again_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> close_status_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Subscription> self_ ABSL_GUARDED_BY(mu_);
  // The message being written; owned here until OnWriteDone.
  v1::SubscribeResponse pending_;
};

SubscriptionHub::SubscriptionHub(eventstore::EventStore* log,
                                 const Authorizer* authorizer,
                                 SubscriptionLimits limits)
    : log_(log), authorizer_(authorizer), limits_(limits) {
  listener_ = log_->AddCommitListener([this](uint64_t) { Wake(); });
  timer_ = std::thread([this] { RunTimer(); });
}

SubscriptionHub::~SubscriptionHub() {
  {
    MutexLock lock(&timer_mu_);
    stopping_ = true;
  }
  timer_.join();
  log_->RemoveCommitListener(listener_);
}

grpc::ServerWriteReactor<v1::SubscribeResponse>* SubscriptionHub::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest& request,
    absl::StatusOr<Principal> principal) {
  static const std::string* const kMethod =
      new std::string(MethodName<v1::EventStore>("Subscribe"));
  std::string peer = context->peer();
  // Authorised first (the caller did), then the request is checked before
  // anything of it is kept.
  absl::Status admitted = principal.status();
  const uint32_t batch =
      request.max_batch() == 0 ? kDefaultBatch : request.max_batch();
  if (admitted.ok() && batch > kMaxBatch) {
    admitted = absl::InvalidArgumentError(absl::StrCat(
        "max_batch: must be at most ", kMaxBatch, " (got ", batch, ")"));
  }
  if (admitted.ok()) {
    admitted = CheckSubscriptionFilter(request.filter());
    if (!admitted.ok()) {
      authorizer_->LogRefusal(peer, principal->name, *kMethod, admitted);
    }
  }
  uint64_t next = 1;
  if (admitted.ok()) {
    switch (request.from_case()) {
      case v1::SubscribeRequest::kAfterPosition:
        next = request.after_position() + 1;
        break;
      case v1::SubscribeRequest::kNow:
        next = log_->HeadPosition() + 1;
        break;
      default: {
        if (request.consumer_group().empty()) break;
        admitted = CheckConsumerGroup(request.consumer_group());
        if (!admitted.ok()) break;
        absl::StatusOr<eventstore::EventStore::Cursor> acked =
            log_->LoadOwnedCursor(GroupCursor(request.consumer_group()));
        if (!acked.ok()) {
          admitted = acked.status();
          break;
        }
        admitted = CheckGroupOwner(request.consumer_group(), *acked,
                                   GroupClaimant(*principal));
        if (!admitted.ok()) {
          authorizer_->LogRefusal(peer, principal->name, *kMethod, admitted);
          break;
        }
        next = acked->position + 1;
        break;
      }
    }
  }
  const bool ok = admitted.ok();
  projections::FollowFilter filter =
      FilterOf(ok ? request.filter() : v1::SubscriptionFilter());
  if (ok && !Authorizer::MayReadSecurityStream(*principal)) {
    filter.excluded_streams.push_back(kSecurityStream);
  }
  auto subscription = std::make_shared<Subscription>(
      this, std::move(filter), batch, ok ? *std::move(principal) : Principal(),
      std::move(peer));
  Subscription* reactor = subscription.get();
  if (ok) {
    MutexLock lock(&mu_);
    admitted = Admit(reactor, subscription, reactor->principal().name);
  }
  if (admitted.ok() &&
      reactor->principal().expires_at != absl::InfiniteFuture()) {
    TimerChanged();
  }
  reactor->Begin(std::move(subscription), std::move(admitted), next);
  return reactor;
}

absl::Status SubscriptionHub::Admit(
    const Subscription* reactor,
    const std::shared_ptr<Subscription>& subscription,
    const std::string& principal) {
  if (open_.size() >= limits_.max_subscribers) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "subscribers: the server has ", open_.size(),
        " open subscriptions, its limit (--max-subscribers); try again "
        "later [rule: max-subscribers]"));
  }
  uint32_t& mine = open_by_principal_[principal];
  if (mine >= limits_.max_per_principal) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "subscribers: ", principal, " has ", mine,
        " open subscriptions, the limit per principal "
        "(--max-subscriptions-per-principal); end one first [rule: "
        "max-subscriptions-per-principal]"));
  }
  ++mine;
  open_[reactor] = subscription;
  return absl::OkStatus();
}

void SubscriptionHub::EndAll() {
  std::vector<std::shared_ptr<Subscription>> open;
  {
    MutexLock lock(&mu_);
    for (auto& [key, weak] : open_) {
      if (auto subscription = weak.lock())
        open.push_back(std::move(subscription));
    }
  }
  for (auto& subscription : open) {
    subscription->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                     "the server is shutting down; resume "
                                     "after the last position received"));
  }
}

void SubscriptionHub::Revoked(const std::string& token_id,
                              const std::string& principal) {
  std::vector<std::shared_ptr<Subscription>> affected;
  {
    MutexLock lock(&mu_);
    for (auto& [key, weak] : open_) {
      std::shared_ptr<Subscription> subscription = weak.lock();
      if (subscription == nullptr) continue;
      const Principal& by = subscription->principal();
      // A certificate's subscription may have lost its only grant.
      if (by.token_id == token_id ||
          (by.token_id.empty() && by.name == principal)) {
        affected.push_back(std::move(subscription));
      }
    }
  }
  Recheck(affected);
}

void SubscriptionHub::Recheck(
    const std::vector<std::shared_ptr<Subscription>>& subscriptions) {
  static const std::string* const kMethod =
      new std::string(MethodName<v1::EventStore>("Subscribe"));
  bool moved = false;
  for (const std::shared_ptr<Subscription>& subscription : subscriptions) {
    absl::StatusOr<Principal> now = authorizer_->Reauthorize(
        subscription->principal(), *kMethod, subscription->peer());
    if (!now.ok()) {
      subscription->set_expires_at(absl::InfiniteFuture());
      subscription->Close(grpc::Status(
          ToGrpcStatus(now.status()).error_code(),
          absl::StrCat("the subscription ends: ", now.status().message())));
      continue;
    }
    subscription->set_expires_at(now->expires_at);
    moved |= now->expires_at != absl::InfiniteFuture();
  }
  if (moved) TimerChanged();
}

void SubscriptionHub::TimerChanged() {
  MutexLock lock(&timer_mu_);
  timer_changed_ = true;
}

// One thread for every subscription: sleeps until the first expiry among
// them, or until one is added or moved.
void SubscriptionHub::RunTimer() {
  for (;;) {
    std::vector<std::shared_ptr<Subscription>> open;
    {
      MutexLock lock(&mu_);
      for (auto& [key, weak] : open_) {
        if (auto subscription = weak.lock())
          open.push_back(std::move(subscription));
      }
    }
    const absl::Time now = absl::Now();
    absl::Time wake = absl::InfiniteFuture();
    std::vector<std::shared_ptr<Subscription>> due;
    for (std::shared_ptr<Subscription>& subscription : open) {
      if (subscription->TakeDue(now)) {
        due.push_back(std::move(subscription));
      } else {
        wake = std::min(wake, subscription->expires_at());
      }
    }
    open.clear();
    Recheck(due);
    due.clear();
    MutexLock lock(&timer_mu_);
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(timer_mu_) {
      return stopping_ || timer_changed_;
    };
    // No deadline rather than an infinite one, which the clock conversion
    // in std::condition_variable would overflow.
    if (wake == absl::InfiniteFuture()) {
      timer_mu_.Await(woken);
    } else {
      timer_mu_.AwaitWithDeadline(woken, wake);
    }
    if (stopping_) return;
    timer_changed_ = false;
  }
}

SubscriptionHub::Stats SubscriptionHub::GetStats() const {
  const uint64_t head = log_->HeadPosition();
  Stats stats{.open = live(),
              .events_sent = events_sent_.load(std::memory_order_relaxed)};
  MutexLock lock(&mu_);
  for (const auto& [key, weak] : open_) {
    const std::shared_ptr<Subscription> subscription = weak.lock();
    if (subscription == nullptr) continue;
    const uint64_t scanned = subscription->scanned();
    const uint64_t lag = head > scanned ? head - scanned : 0;
    stats.max_lag = std::max(stats.max_lag, lag);
    if (lag >= kBehind) ++stats.behind;
  }
  return stats;
}

void SubscriptionHub::Schedule(std::shared_ptr<Subscription> subscription) {
  if (!subscription->MarkScheduled()) return;
  pool_.Schedule([subscription = std::move(subscription)]() mutable {
    subscription->Pump(subscription);
  });
}

void SubscriptionHub::Park(const std::shared_ptr<Subscription>& subscription) {
  MutexLock lock(&mu_);
  parked_[subscription.get()] = subscription;
}

void SubscriptionHub::Unpark(const Subscription* subscription) {
  MutexLock lock(&mu_);
  parked_.erase(subscription);
}

// On the log's writer thread: only hands the parked subscriptions to the
// pool, which reads.
void SubscriptionHub::Wake() {
  std::vector<std::shared_ptr<Subscription>> woken;
  {
    MutexLock lock(&mu_);
    for (auto& [key, weak] : parked_) {
      if (auto subscription = weak.lock())
        woken.push_back(std::move(subscription));
    }
    parked_.clear();
  }
  for (auto& subscription : woken) Schedule(std::move(subscription));
}

}  // namespace plantrail::services
