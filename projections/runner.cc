#include "projections/runner.h"

#include <algorithm>
#include <deque>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace plantrail::projections {

// Reads the log ahead, a few pages at most, on a thread of its own. Take()
// is called from one thread at a time (the runner's).
class PageReadAhead {
 public:
  PageReadAhead(const eventstore::EventStore* log, uint32_t page_size)
      : log_(log), page_size_(page_size), thread_([this] { Loop(); }) {}

  ~PageReadAhead() {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    thread_.join();
  }

  // The events from position `from` on, at most `limit` of them, as
  // ReadAll gives them (none at the head of the log). What was read ahead
  // from elsewhere is dropped, and reading goes on from `from`.
  absl::StatusOr<std::vector<eventstore::RecordedEvent>> Take(uint64_t from,
                                                              uint32_t limit) {
    {
      MutexLock lock(&mu_);
      if (!pages_.empty() && Start(pages_.front()) != from) pages_.clear();
      if (pages_.empty() && next_ != from) {
        // Idle, or reading from elsewhere: a read under way is dropped.
        next_ = from;
        ++restarts_;
      }
    }  // Unlocking wakes the reader to what changed (waiting would not).
    MutexLock lock(&mu_);
    mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !pages_.empty();
    });
    Page& front = pages_.front();
    if (!front.events.ok()) {
      absl::Status error = front.events.status();
      pages_.pop_front();
      return error;
    }
    std::vector<eventstore::RecordedEvent>& events = *front.events;
    const size_t end = std::min(events.size(), front.taken + limit);
    std::vector<eventstore::RecordedEvent> taken;
    if (front.taken == 0 && end == events.size()) {
      taken = std::move(events);
    } else {
      taken.assign(std::make_move_iterator(events.begin() + front.taken),
                   std::make_move_iterator(events.begin() + end));
      front.taken = end;
    }
    if (taken.empty() || front.taken == 0 || front.taken == events.size()) {
      pages_.pop_front();
    }
    return taken;
  }

  // Hands back events taken and folded, to be freed on the reading thread:
  // memory goes back to the malloc arena it came from, instead of every
  // free contending for that arena with the thread allocating in it.
  void Recycle(std::vector<eventstore::RecordedEvent> events) {
    if (events.empty()) return;
    MutexLock lock(&mu_);
    recycled_.push_back(std::move(events));
  }

 private:
  // Pages read and not yet (or not wholly) taken.
  static constexpr size_t kDepth = 3;
  struct Page {
    uint64_t from = 0;
    absl::StatusOr<std::vector<eventstore::RecordedEvent>> events;
    // How many of the events were taken already.
    size_t taken = 0;
  };
  static uint64_t Start(const Page& page) {
    return page.events.ok() && page.taken < page.events->size()
               ? (*page.events)[page.taken].position
               : page.from;
  }

  void Loop() {
    for (;;) {
      uint64_t from, restarts;
      std::vector<std::vector<eventstore::RecordedEvent>> recycled;
      {
        MutexLock lock(&mu_);
        mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || (next_ != 0 && pages_.size() < kDepth);
        });
        if (stopping_) return;
        from = next_;
        restarts = restarts_;
        recycled.swap(recycled_);
      }
      recycled.clear();
      absl::StatusOr<eventstore::LogPage> page =
          log_->ReadAll({.from_position = from, .limit = page_size_});
      MutexLock lock(&mu_);
      if (restarts != restarts_) continue;  // wanted from elsewhere now
      Page& read = pages_.emplace_back();
      read.from = from;
      if (!page.ok()) {
        read.events = page.status();
        next_ = 0;
      } else if (page->events.empty()) {
        // At the head: idle until asked again.
        read.events.emplace();
        next_ = 0;
      } else {
        next_ = page->events.back().position + 1;
        read.events = std::move(page->events);
      }
    }
  }

  const eventstore::EventStore* const log_;
  const uint32_t page_size_;
  Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Where the next page to read begins (0: none wanted).
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 0;
  // Counts changes of position, so that a read in flight from the old one
  // is dropped.
  uint64_t restarts_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Page> pages_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<eventstore::RecordedEvent>> recycled_
      ABSL_GUARDED_BY(mu_);
  // Last: it starts reading once the rest is set up.
  std::thread thread_;
};

absl::StatusOr<std::unique_ptr<ProjectionRunner>> ProjectionRunner::Start(
    eventstore::EventStore* log, ProjectionStore* store,
    std::unique_ptr<Projection> projection, Options options) {
  options.page_size = std::clamp<uint32_t>(options.page_size, 1, 1000);
  std::unique_ptr<ProjectionRunner> runner(
      new ProjectionRunner(log, store, std::move(projection), options));
  PLANTRAIL_ASSIGN_OR_RETURN(std::shared_ptr<StateCopy> live,
                             store->Live(runner->name_));
  PLANTRAIL_ASSIGN_OR_RETURN(uint64_t checkpoint, live->ReadCheckpoint());
  live->NotePersistedCheckpoint(checkpoint);
  const uint32_t layout = runner->projection_->layout();
  PLANTRAIL_ASSIGN_OR_RETURN(uint32_t live_layout, live->ReadLayout());
  // A copy folded under another layout is folded anew beside it.
  const bool refold = checkpoint > 0 && live_layout != layout;
  if (checkpoint == 0 && live_layout != layout) {
    PLANTRAIL_RETURN_IF_ERROR(live->WriteLayout(layout));
  }
  {
    MutexLock lock(&runner->mu_);
    runner->live_ = std::move(live);
    runner->checkpoint_ = checkpoint;
    if (refold) PLANTRAIL_RETURN_IF_ERROR(runner->StartShadow());
  }
  runner->thread_ = std::thread([r = runner.get()] { r->Loop(); });
  return runner;
}

ProjectionRunner::ProjectionRunner(eventstore::EventStore* log,
                                   ProjectionStore* store,
                                   std::unique_ptr<Projection> projection,
                                   Options options)
    : log_(log),
      store_(store),
      projection_(std::move(projection)),
      name_(projection_->name()),
      options_(options),
      floor_(store->path(), options.min_free_bytes) {}

ProjectionRunner::~ProjectionRunner() { Stop(); }

void ProjectionRunner::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const StateReader> ProjectionRunner::Live() const {
  std::shared_ptr<StateCopy> live;
  {
    MutexLock lock(&mu_);
    live = live_;
  }
  return live->Reader();
}

ProjectionRunner::LiveState ProjectionRunner::LiveWithApplied() const {
  std::shared_ptr<StateCopy> live;
  uint64_t applied;
  {
    MutexLock lock(&mu_);
    live = live_;
    applied = checkpoint_;
  }
  // Taken after `applied` was read: it holds at least that much.
  return LiveState{.reader = live->Reader(), .applied = applied};
}

void ProjectionRunner::WhenApplied(
    uint64_t position, absl::Time deadline,
    absl::AnyInvocable<void(absl::Status) &&> done) {
  absl::Status now;
  {
    MutexLock lock(&mu_);
    if (checkpoint_ >= position) {
      now = absl::OkStatus();
    } else if (stopping_) {
      now = absl::UnavailableError("the projection is stopping");
    } else if (!error_.ok()) {
      now = absl::UnavailableError(absl::StrCat(
          "projection ", name_, " has stopped: ", error_.message()));
    } else if (absl::Now() >= deadline) {
      now = absl::DeadlineExceededError(
          absl::StrCat("min_position: projection ", name_, " is at position ",
                       checkpoint_, ", not yet at ", position));
    } else {
      waiters_.push_back(Waiter{position, deadline, std::move(done)});
      return;
    }
  }
  std::move(done)(std::move(now));
}

absl::Status ProjectionRunner::WaitApplied(uint64_t position,
                                           absl::Time deadline) {
  Notification done;
  absl::Status result;
  WhenApplied(position, deadline, [&](absl::Status status) {
    result = std::move(status);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

absl::Status ProjectionRunner::Rebuild() {
  MutexLock lock(&mu_);
  if (shadow_ != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "projection ", name_, " is already being rebuilt (at position ",
        shadow_checkpoint_, ")"));
  }
  return StartShadow();
}

absl::Status ProjectionRunner::StartShadow() {
  PLANTRAIL_ASSIGN_OR_RETURN(shadow_, store_->CreateShadow(name_));
  PLANTRAIL_RETURN_IF_ERROR(shadow_->WriteLayout(projection_->layout()));
  shadow_checkpoint_ = 0;
  // A rebuild is also how a failed projection is retried.
  error_ = absl::OkStatus();
  return absl::OkStatus();
}

void ProjectionRunner::RebuildAgain() {
  MutexLock lock(&mu_);
  if (shadow_ != nullptr) {
    rebuild_again_ = true;
    return;
  }
  if (absl::Status started = StartShadow(); !started.ok()) error_ = started;
}

absl::Status ProjectionRunner::AwaitRebuildAndErase(absl::Time deadline) {
  {
    MutexLock lock(&mu_);
    const bool settled = mu_.AwaitWithDeadline(
        [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || !error_.ok() ||
                 (shadow_ == nullptr && !rebuild_again_);
        },
        deadline);
    if (!error_.ok()) return error_;
    if (stopping_) {
      return absl::UnavailableError(
          absl::StrCat("projection ", name_, " stopped"));
    }
    if (!settled) {
      return absl::DeadlineExceededError(absl::StrCat(
          "projection ", name_, " is still being rebuilt (at position ",
          shadow_checkpoint_, ")"));
    }
  }
  return store_->EraseDropped(deadline);
}

RunnerStatus ProjectionRunner::Status() const {
  RunnerStatus status;
  status.name = name_;
  status.head_position = log_->HeadPosition();
  status.events_applied = events_applied_.load(std::memory_order_relaxed);
  MutexLock lock(&mu_);
  status.checkpoint = checkpoint_;
  status.generation = live_->generation();
  status.rebuild_checkpoint = shadow_checkpoint_;
  if (!error_.ok()) {
    status.state = RunnerStatus::State::kFailed;
    status.error = std::string(error_.message());
  } else if (shadow_ != nullptr) {
    status.state = RunnerStatus::State::kRebuilding;
  }
  if (error_.ok() && !out_of_space_.ok()) {
    status.error = absl::StrCat("waiting for disk space (retrying): ",
                                out_of_space_.message());
  }
  return status;
}

absl::StatusOr<uint64_t> ProjectionRunner::ApplyPage(const StateCopy& copy,
                                                     uint64_t checkpoint) {
  return ApplyPageUpTo(copy, checkpoint, ~uint64_t{0});
}

absl::StatusOr<uint64_t> ProjectionRunner::ApplyPageUpTo(const StateCopy& copy,
                                                         uint64_t checkpoint,
                                                         uint64_t up_to) {
  StateCopy::Batch batch(&copy);
  eventstore::Hash last_hash{};
  PLANTRAIL_ASSIGN_OR_RETURN(
      uint64_t last, ApplyPageInto(batch, checkpoint, up_to, last_hash));
  if (last == checkpoint) return checkpoint;
  // A page that changed nothing (events of other streams: bulk data, the
  // security stream) is not written: the checkpoint moves on in memory, and
  // after a restart the runner reads those events again, which changes
  // nothing either. It saves a projection write per commit group of the
  // log; the checkpoint is still written every so often, so a restart
  // never rereads much.
  if (batch.has_writes() || last - copy.persisted_checkpoint() >=
                                options_.checkpoint_every_positions) {
    PLANTRAIL_RETURN_IF_ERROR(batch.Commit(last, last_hash));
  }
  events_applied_.fetch_add(last - checkpoint, std::memory_order_relaxed);
  return last;
}

absl::StatusOr<uint64_t> ProjectionRunner::ApplyPageInto(
    StateCopy::Batch& batch, uint64_t checkpoint, uint64_t up_to,
    eventstore::Hash& last_hash, PageReadAhead* ahead) {
  if (checkpoint >= up_to) return checkpoint;
  const uint32_t wanted = static_cast<uint32_t>(
      std::min<uint64_t>(options_.page_size, up_to - checkpoint));
  std::vector<eventstore::RecordedEvent> events;
  if (ahead != nullptr) {
    PLANTRAIL_ASSIGN_OR_RETURN(events, ahead->Take(checkpoint + 1, wanted));
  } else {
    PLANTRAIL_ASSIGN_OR_RETURN(
        eventstore::LogPage page,
        log_->ReadAll({.from_position = checkpoint + 1, .limit = wanted}));
    events = std::move(page.events);
  }
  uint64_t last = checkpoint;
  for (const eventstore::RecordedEvent& event : events) {
    if (event.position != last + 1) {
      return absl::DataLossError(absl::StrCat("the log skips from position ",
                                              last, " to ", event.position));
    }
    if (absl::Status applied = projection_->Apply(event, batch.writer());
        !applied.ok()) {
      return absl::Status(applied.code(),
                          absl::StrCat("at position ", event.position, " (",
                                       event.type, "): ", applied.message()));
    }
    last = event.position;
    last_hash = event.hash;
  }
  if (ahead != nullptr) ahead->Recycle(std::move(events));
  return last;
}

absl::StatusOr<uint64_t> ProjectionRunner::ApplyShadowPage(
    const std::shared_ptr<StateCopy>& shadow, uint64_t checkpoint,
    uint64_t up_to) {
  if (shadow_batch_ != nullptr &&
      (shadow_batch_->copy != shadow || shadow_batch_->applied != checkpoint)) {
    // Another shadow (a rebuild started anew) or another position: what the
    // batch holds is not the continuation wanted.
    shadow_batch_.reset();
  }
  if (shadow_batch_ == nullptr) {
    shadow_batch_ = std::make_unique<OpenBatch>();
    shadow_batch_->copy = shadow;
    shadow_batch_->batch = std::make_unique<StateCopy::Batch>(shadow.get());
    shadow_batch_->committed = shadow_batch_->applied = checkpoint;
  }
  OpenBatch& open = *shadow_batch_;
  // On an error nothing of the open batch is kept: the shadow goes on (or
  // is rebuilt) from what it committed.
  auto drop = [&](absl::Status error) {
    const uint64_t committed = open.committed;
    events_applied_.fetch_sub(open.applied - committed,
                              std::memory_order_relaxed);
    shadow_batch_.reset();
    MutexLock lock(&mu_);
    if (shadow_ == shadow) shadow_checkpoint_ = committed;
    return error;
  };
  if (read_ahead_ == nullptr) {
    read_ahead_ = std::make_unique<PageReadAhead>(log_, options_.page_size);
  }
  absl::StatusOr<uint64_t> last = ApplyPageInto(
      *open.batch, open.applied, up_to, open.applied_hash, read_ahead_.get());
  if (!last.ok()) return drop(last.status());
  events_applied_.fetch_add(*last - open.applied, std::memory_order_relaxed);
  open.applied = *last;
  const bool caught_up = open.applied >= up_to;
  if (!caught_up && open.batch->bytes() < options_.shadow_batch_bytes &&
      open.batch->staged() < DecodedCache::kCapacity) {
    return open.applied;
  }
  // Written under the same rule as a page of the live copy (see
  // ApplyPageUpTo), and never without an event (and its hash) applied.
  if (open.applied > open.committed &&
      (open.batch->has_writes() ||
       open.applied - shadow->persisted_checkpoint() >=
           options_.checkpoint_every_positions)) {
    if (absl::Status committed =
            open.batch->Commit(open.applied, open.applied_hash);
        !committed.ok()) {
      return drop(committed);
    }
  }
  const uint64_t applied = open.applied;
  shadow_batch_.reset();
  return applied;
}

bool ProjectionRunner::WaitForSpace(const absl::Status& error,
                                    bool failed_write) {
  if (!absl::IsResourceExhausted(error)) return false;
  space_backoff_ =
      std::clamp(space_backoff_ * 2, absl::Milliseconds(20), absl::Seconds(1));
  {
    MutexLock lock(&mu_);
    out_of_space_ = error;
    mu_.AwaitWithDeadline(
        [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; },
        absl::Now() + space_backoff_);
  }
  if (!failed_write) return true;
  // Still no space: the next try tells. Cannot resume: stop, saying why.
  if (absl::Status resumed = store_->ResumeAfterNoSpace();
      absl::IsFailedPrecondition(resumed)) {
    Fail(resumed);
  }
  return true;
}

void ProjectionRunner::Fail(absl::Status error) {
  MutexLock lock(&mu_);
  error_ = std::move(error);
}

void ProjectionRunner::Loop() {
  for (;;) {
    std::shared_ptr<StateCopy> live, shadow;
    uint64_t checkpoint, shadow_checkpoint;
    {
      MutexLock lock(&mu_);
      if (stopping_) break;
      live = live_;
      checkpoint = checkpoint_;
      shadow = error_.ok() ? shadow_ : nullptr;
      shadow_checkpoint = shadow_checkpoint_;
      if (!error_.ok()) live = nullptr;
    }
    if (absl::Status space = floor_.Check(); !space.ok()) {
      WaitForSpace(space, /*failed_write=*/false);
      continue;
    }
    bool progressed = false;
    if (live != nullptr) {
      absl::StatusOr<uint64_t> next = ApplyPage(*live, checkpoint);
      if (!next.ok()) {
        if (WaitForSpace(next.status())) continue;
        Fail(next.status());
      } else if (*next != checkpoint) {
        MutexLock lock(&mu_);
        checkpoint_ = checkpoint = *next;
        progressed = true;
      }
    }
    if (shadow != nullptr) {
      // The shadow never passes the live copy, so that it replaces it at
      // exactly the same position.
      absl::StatusOr<uint64_t> next =
          ApplyShadowPage(shadow, shadow_checkpoint, checkpoint);
      if (!next.ok()) {
        if (WaitForSpace(next.status())) continue;
        Fail(next.status());
      } else {
        progressed = progressed || *next != shadow_checkpoint;
        if (*next == checkpoint) {
          if (absl::Status promoted = store_->Promote(name_, shadow);
              !promoted.ok()) {
            if (WaitForSpace(promoted)) continue;
            Fail(promoted);
          } else {
            read_ahead_.reset();
            MutexLock lock(&mu_);
            live_ = std::move(shadow);
            shadow_ = nullptr;
            shadow_checkpoint_ = 0;
            if (rebuild_again_) {
              rebuild_again_ = false;
              if (absl::Status started = StartShadow(); !started.ok()) {
                error_ = started;
              }
            }
          }
        } else {
          MutexLock lock(&mu_);
          shadow_checkpoint_ = *next;
        }
      }
    }
    // Here nothing failed for lack of space (that goes round the loop
    // again above): the wait is over.
    if (space_backoff_ != absl::ZeroDuration()) {
      space_backoff_ = absl::ZeroDuration();
      MutexLock lock(&mu_);
      out_of_space_ = absl::OkStatus();
    }
    SettleWaiters();
    if (!progressed) {
      log_->WaitForHead(checkpoint + 1, absl::Now() + options_.idle_wake);
    }
  }
  std::vector<Waiter> left;
  {
    MutexLock lock(&mu_);
    left.swap(waiters_);
  }
  for (Waiter& waiter : left) {
    std::move(waiter.done)(absl::UnavailableError("the projection stopped"));
  }
}

void ProjectionRunner::SettleWaiters() {
  std::vector<std::pair<Waiter, absl::Status>> settled;
  {
    MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    std::vector<Waiter> waiting;
    for (Waiter& waiter : waiters_) {
      if (waiter.position <= checkpoint_) {
        settled.emplace_back(std::move(waiter), absl::OkStatus());
      } else if (!error_.ok()) {
        settled.emplace_back(
            std::move(waiter),
            absl::UnavailableError(absl::StrCat(
                "projection ", name_, " has stopped: ", error_.message())));
      } else if (waiter.deadline <= now) {
        const uint64_t position = waiter.position;
        settled.emplace_back(
            std::move(waiter),
            absl::DeadlineExceededError(absl::StrCat(
                "min_position: projection ", name_, " is at position ",
                checkpoint_, ", not yet at ", position)));
      } else {
        waiting.push_back(std::move(waiter));
      }
    }
    waiters_.swap(waiting);
  }
  for (auto& [waiter, status] : settled) {
    std::move(waiter.done)(std::move(status));
  }
}

CheckpointCheck ProjectionRunner::VerifyCheckpoint() const {
  std::shared_ptr<StateCopy> live;
  {
    MutexLock lock(&mu_);
    live = live_;
  }
  CheckpointCheck check{.name = name_};
  auto problem = [&check](std::string text) {
    check.ok = false;
    check.problem = std::move(text);
    return check;
  };
  absl::StatusOr<StateCopy::Checkpoint> checkpoint =
      live->ReadCheckpointWithHash();
  if (!checkpoint.ok()) {
    return problem(std::string(checkpoint.status().message()));
  }
  check.checkpoint = checkpoint->position;
  if (checkpoint->position == 0) return check;
  if (!checkpoint->hash.has_value()) {
    return problem(absl::StrCat(
        "checkpoint ", checkpoint->position,
        " carries no chain hash (written by an older plantrail): rebuild the "
        "projection to make it verifiable"));
  }
  absl::StatusOr<eventstore::Hash> in_log = log_->HashAt(checkpoint->position);
  if (absl::IsNotFound(in_log.status())) {
    return problem(absl::StrCat(
        "checkpoint ", checkpoint->position, " is beyond the log's head (",
        log_->HeadPosition(),
        "): the projection was folded from a longer log; rebuild it"));
  }
  if (!in_log.ok()) return problem(std::string(in_log.status().message()));
  if (*in_log != *checkpoint->hash) {
    return problem(absl::StrCat(
        "checkpoint ", checkpoint->position,
        " was folded from an event whose chain hash differs from the log's: "
        "the log changed under the projection, or the projection comes from "
        "another log; rebuild it"));
  }
  return check;
}

}  // namespace plantrail::projections
