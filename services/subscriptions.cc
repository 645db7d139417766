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
#include "common/status_macros.h"
#include "domain/streams.h"
#include "projections/plan_stream.h"
#include "services/event_codec.h"
#include "services/grpc_status.h"

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

class SubscriptionHub::Subscription final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  Subscription(SubscriptionHub* hub, v1::SubscribeRequest request,
               std::string principal)
      : hub_(hub),
        request_(std::move(request)),
        principal_(std::move(principal)) {}

  // Validates the request and starts pumping, unless `admitted` refuses it;
  // the reactor keeps itself alive (self_) until gRPC is done with it.
  void Begin(std::shared_ptr<Subscription> self, absl::Status admitted) {
    self_ = self;
    hub_->live_.fetch_add(1, std::memory_order_relaxed);
    if (!admitted.ok()) {
      Finish(ToGrpcStatus(admitted));
      return;
    }
    batch_ = request_.max_batch() == 0 ? kDefaultBatch : request_.max_batch();
    if (batch_ > kMaxBatch) {
      Finish(ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
          "max_batch: must be at most ", kMaxBatch, " (got ", batch_, ")"))));
      return;
    }
    switch (request_.from_case()) {
      case v1::SubscribeRequest::kAfterPosition:
        next_ = request_.after_position() + 1;
        break;
      case v1::SubscribeRequest::kNow:
        next_ = hub_->log_->HeadPosition() + 1;
        break;
      default: {
        next_ = 1;
        if (request_.consumer_group().empty()) break;
        if (absl::Status valid = CheckConsumerGroup(request_.consumer_group());
            !valid.ok()) {
          Finish(ToGrpcStatus(valid));
          return;
        }
        absl::StatusOr<uint64_t> acked =
            hub_->log_->LoadCursor(GroupCursor(request_.consumer_group()));
        if (!acked.ok()) {
          Finish(ToGrpcStatus(acked.status()));
          return;
        }
        next_ = *acked + 1;
        break;
      }
    }
    scanned_.store(next_ - 1, std::memory_order_relaxed);
    filtered_ = !request_.filter().stream_prefixes().empty() ||
                !request_.filter().event_types().empty() ||
                !request_.filter().support_areas().empty();
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
    hub_->Schedule(self_);
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
          --hub_->open_by_principal_[principal_] == 0) {
        hub_->open_by_principal_.erase(principal_);
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
  void Close(grpc::Status status) {
    {
      MutexLock lock(&mu_);
      if (writing_) {
        close_status_ = std::move(status);
        return;
      }
    }
    End(std::move(status));
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
  // The support area of `area_id` as of `event` (an event of that area, or
  // a decision naming it): followed through the events this subscription
  // scans, and folded from the area's stream the first time it is met.
  absl::StatusOr<std::string> SupportAreaOf(
      const std::string& area_id, const eventstore::RecordedEvent& event,
      const v1::PlanEvent* plan_event) {
    if (plan_event != nullptr) {
      if (plan_event->has_area_registered()) {
        return support_areas_[area_id] =
                   plan_event->area_registered().support_area();
      }
      if (plan_event->area_details_revised().after().has_support_area()) {
        return support_areas_[area_id] =
                   plan_event->area_details_revised().after().support_area();
      }
    }
    auto it = support_areas_.find(area_id);
    if (it != support_areas_.end()) return it->second;
    const uint64_t up_to = event.position;
    PLANTRAIL_ASSIGN_OR_RETURN(
        v1::AreaState area,
        projections::FoldArea(*hub_->log_, area_id,
                              [up_to](const projections::PlanEventRecord& r) {
                                return r.context.position <= up_to;
                              }));
    return support_areas_[area_id] = area.support_area();
  }

  absl::StatusOr<bool> InSupportAreas(const eventstore::RecordedEvent& event) {
    const auto& wanted = request_.filter().support_areas();
    auto wanted_one = [&](const std::string& support_area) {
      return std::find(wanted.begin(), wanted.end(), support_area) !=
             wanted.end();
    };
    absl::string_view stream = event.stream_id;
    const bool area = absl::ConsumePrefix(&stream, domain::kAreaStreamPrefix);
    if (!area && !absl::StartsWith(stream, domain::kDecisionStreamPrefix)) {
      return false;
    }
    PLANTRAIL_ASSIGN_OR_RETURN(
        std::optional<projections::PlanEventRecord> record,
        projections::DecodePlanEvent(event));
    if (!record) return false;
    if (area) {
      PLANTRAIL_ASSIGN_OR_RETURN(
          std::string support_area,
          SupportAreaOf(std::string(stream), event, &record->event));
      return wanted_one(support_area);
    }
    for (const std::string& area_id :
         record->event.decision_recorded().area_ids()) {
      PLANTRAIL_ASSIGN_OR_RETURN(std::string support_area,
                                 SupportAreaOf(area_id, event, nullptr));
      if (wanted_one(support_area)) return true;
    }
    return false;
  }

  absl::StatusOr<bool> Matches(const eventstore::RecordedEvent& event) {
    const v1::SubscriptionFilter& filter = request_.filter();
    bool stream = filter.stream_prefixes().empty();
    for (const std::string& prefix : filter.stream_prefixes()) {
      stream = stream || absl::StartsWith(event.stream_id, prefix);
    }
    bool type = filter.event_types().empty();
    for (const std::string& wanted : filter.event_types()) {
      type = type || event.type == wanted;
    }
    if (!stream || !type) return false;
    if (filter.support_areas().empty()) return true;
    return InSupportAreas(event);
  }

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
        absl::StatusOr<bool> matches = Matches(event);
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
  const v1::SubscribeRequest request_;
  // Whom it counts against.
  const std::string principal_;
  uint32_t batch_ = kDefaultBatch;
  bool filtered_ = false;
  // Touched by Pump only (one at a time).
  uint64_t next_ = 1;
  bool caught_up_ = false;
  bool behind_ = false;
  std::atomic<uint64_t> scanned_{0};
  // Area id -> its support area as of the last event scanned.
  std::map<std::string, std::string> support_areas_;

  Mutex mu_;
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
                                 SubscriptionLimits limits)
    : log_(log), limits_(limits) {
  listener_ = log_->AddCommitListener([this](uint64_t) { Wake(); });
}

SubscriptionHub::~SubscriptionHub() { log_->RemoveCommitListener(listener_); }

grpc::ServerWriteReactor<v1::SubscribeResponse>* SubscriptionHub::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest& request,
    absl::StatusOr<Principal> principal) {
  auto subscription = std::make_shared<Subscription>(
      this, request, principal.ok() ? principal->name : "");
  Subscription* reactor = subscription.get();
  absl::Status admitted = principal.status();
  if (principal.ok()) {
    MutexLock lock(&mu_);
    admitted = Admit(reactor, subscription, principal->name);
  }
  reactor->Begin(std::move(subscription), std::move(admitted));
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
