// Keeps one projection up to date: a thread that tails the log from the live
// copy's checkpoint and commits each page of events together with the new
// checkpoint. After a restart it resumes where the committed checkpoint
// says, so no event is applied twice and none is skipped.
//
// Rebuild: a shadow copy is folded from position 1 alongside, and replaces
// the live copy once it has caught up with it; until then queries answer
// from the live copy.
//
// Thread safety: all public methods may be called from any thread.
#ifndef PLANTRAIL_PROJECTIONS_RUNNER_H_
#define PLANTRAIL_PROJECTIONS_RUNNER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "eventstore/event_store.h"
#include "projections/projection.h"
#include "projections/projection_store.h"

namespace plantrail::projections {

class PageReadAhead;

struct RunnerStatus {
  enum class State { kRunning, kRebuilding, kFailed };
  std::string name;
  State state = State::kRunning;
  uint64_t checkpoint = 0;
  uint64_t head_position = 0;
  uint64_t rebuild_checkpoint = 0;
  uint64_t generation = 0;
  uint64_t events_applied = 0;
  std::string error;
};

// Whether a projection's live copy was folded from this log: its checkpoint
// is within the log and the chain hash it recorded there is the log's.
struct CheckpointCheck {
  std::string name;
  uint64_t checkpoint = 0;
  bool ok = true;
  std::string problem;
};

class ProjectionRunner {
 public:
  struct Options {
    // Events per committed batch.
    uint32_t page_size = 1000;
    // How often an idle runner wakes to expire waiters.
    absl::Duration idle_wake = absl::Milliseconds(50);
    // Pages that change nothing are not written (the checkpoint moves on in
    // memory; a restart reads them again, to no effect), but the checkpoint
    // is written at least this often.
    uint64_t checkpoint_every_positions = 100000;
    // A rebuild's batch commits once it holds this many bytes of writes
    // (the memory it may take beyond the messages it keeps decoded).
    size_t shadow_batch_bytes = 8 << 20;
    // The runner waits while the projections' disk has less free space
    // than this (0: no floor); see eventstore/disk_full.h.
    uint64_t min_free_bytes = 0;
  };

  // Opens the live copy and starts tailing. The log and the store must
  // outlive the runner.
  static absl::StatusOr<std::unique_ptr<ProjectionRunner>> Start(
      eventstore::EventStore* log, ProjectionStore* store,
      std::unique_ptr<Projection> projection, Options options);
  static absl::StatusOr<std::unique_ptr<ProjectionRunner>> Start(
      eventstore::EventStore* log, ProjectionStore* store,
      std::unique_ptr<Projection> projection) {
    return Start(log, store, std::move(projection), Options());
  }

  // Stops the thread; waiters get kUnavailable.
  ~ProjectionRunner();

  // Stops applying events and fails every waiter (and every later one) with
  // kUnavailable; the live state stays readable. For shutting down without
  // waiting out the deadlines of queries that wait for a position.
  void Stop();

  const std::string& name() const { return name_; }

  // The committed live state, pinned: safe to use across a rebuild.
  std::shared_ptr<const StateReader> Live() const;
  // The live state with the last position applied to it, which may be
  // ahead of reader->checkpoint(): events that wrote nothing to this
  // projection move its checkpoint in memory only. The reader holds every
  // event up to `applied` (and perhaps a few more).
  struct LiveState {
    std::shared_ptr<const StateReader> reader;
    uint64_t applied = 0;
  };
  LiveState LiveWithApplied() const;

  // `done` runs once the live copy has applied `position` (OK), or at
  // `deadline` (kDeadlineExceeded), or when the runner stops or fails. It
  // may run at once on the caller's thread, else on the runner's thread; it
  // must not block.
  void WhenApplied(uint64_t position, absl::Time deadline,
                   absl::AnyInvocable<void(absl::Status) &&> done);
  // Blocking form.
  absl::Status WaitApplied(uint64_t position, absl::Time deadline);

  // Starts rebuilding into a shadow copy; kFailedPrecondition if one is
  // under way.
  absl::Status Rebuild();
  // For when the log changed under the projection (a redaction): starts a
  // rebuild, or, when one is under way (and may have folded the old
  // payload), another as soon as it is done. Failures show in Status().
  void RebuildAgain();

  // After RebuildAgain(): blocks until the rebuild (and any it queued) has
  // made its copy live, then erases what the dropped copies left on disk
  // (ProjectionStore::EraseDropped). kDeadlineExceeded at `deadline`;
  // the runner's error if it failed; kUnavailable if it stopped.
  absl::Status AwaitRebuildAndErase(absl::Time deadline);

  RunnerStatus Status() const;

  // Checks the live copy's checkpoint against the log (see CheckpointCheck).
  CheckpointCheck VerifyCheckpoint() const;

 private:
  struct Waiter {
    uint64_t position;
    absl::Time deadline;
    absl::AnyInvocable<void(absl::Status) &&> done;
  };

  ProjectionRunner(eventstore::EventStore* log, ProjectionStore* store,
                   std::unique_ptr<Projection> projection, Options options);
  void Loop();
  // Applies the next page after `checkpoint` (up to position `up_to`) to
  // `copy`; returns the new checkpoint (unchanged when nothing was applied).
  absl::StatusOr<uint64_t> ApplyPage(const StateCopy& copy,
                                     uint64_t checkpoint);
  absl::StatusOr<uint64_t> ApplyPageUpTo(const StateCopy& copy,
                                         uint64_t checkpoint, uint64_t up_to);
  // Applies the next page after `checkpoint` (up to `up_to`) into `batch`
  // without committing it; returns the last position applied and sets
  // `last_hash` to its chain hash (unchanged when nothing was applied).
  absl::StatusOr<uint64_t> ApplyPageInto(StateCopy::Batch& batch,
                                         uint64_t checkpoint, uint64_t up_to,
                                         eventstore::Hash& last_hash,
                                         PageReadAhead* ahead = nullptr);
  // Applies the next page after `checkpoint` (up to `up_to`) to the shadow,
  // into its open batch, which commits when it holds enough (see
  // shadow_batch_) or has caught up with `up_to`. Returns the last position
  // applied. On an error the open batch is dropped and shadow_checkpoint_
  // goes back to what the shadow committed.
  absl::StatusOr<uint64_t> ApplyShadowPage(
      const std::shared_ptr<StateCopy>& shadow, uint64_t checkpoint,
      uint64_t up_to);
  void Fail(absl::Status error);
  // For a write that failed for lack of space, or the free-space floor:
  // notes it in Status(), waits (longer each time, up to a second; Stop()
  // cuts it short), asks the store to resume writing after a failed write
  // (and fails the runner if it cannot), and returns true: the caller goes
  // round its loop again. False (nothing done) for any other error.
  bool WaitForSpace(const absl::Status& error, bool failed_write = true);
  absl::Status StartShadow() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SettleWaiters();

  eventstore::EventStore* const log_;
  ProjectionStore* const store_;
  const std::unique_ptr<Projection> projection_;
  const std::string name_;
  const Options options_;

  mutable Mutex mu_;
  std::shared_ptr<StateCopy> live_ ABSL_GUARDED_BY(mu_);
  uint64_t checkpoint_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<StateCopy> shadow_ ABSL_GUARDED_BY(mu_);
  uint64_t shadow_checkpoint_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool rebuild_again_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  // Set while writes fail for lack of space (the runner retries).
  absl::Status out_of_space_ ABSL_GUARDED_BY(mu_);
  // Runner thread only.
  absl::Duration space_backoff_ = absl::ZeroDuration();
  // The shadow's batch, open across pages: a rebuild commits many pages at
  // once (up to Options::shadow_batch_bytes, or DecodedCache::kCapacity
  // staged messages), so a busy key is written once per batch instead of
  // once per page. Nothing is lost by committing late: an unfinished
  // shadow is dropped at start (ProjectionStore::Live), so a rebuild
  // interrupted by a crash starts again from position 1 anyway. Runner
  // thread only.
  struct OpenBatch {
    std::shared_ptr<StateCopy> copy;
    std::unique_ptr<StateCopy::Batch> batch;
    // The shadow's committed checkpoint, where the batch begins.
    uint64_t committed = 0;
    // The last position applied into the batch, and its chain hash.
    uint64_t applied = 0;
    eventstore::Hash applied_hash{};
  };
  std::unique_ptr<OpenBatch> shadow_batch_;
  // Reads the log ahead of the shadow on a thread of its own while the
  // runner folds (a rebuild reads the whole log, and reading and decoding
  // it is half the work); made for a rebuild and ended when it is
  // promoted. Runner thread only.
  std::unique_ptr<PageReadAhead> read_ahead_;
  eventstore::FreeSpaceFloor floor_;
  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> events_applied_{0};

  std::thread thread_;
};

}  // namespace plantrail::projections

#endif  // PLANTRAIL_PROJECTIONS_RUNNER_H_
