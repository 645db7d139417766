// Carries out plan commands: reads the stream's state, gathers the facts the
// command needs, decides (domain/), and appends the one resulting event with
// the state's version as expected version. Knows nothing of gRPC.
//
// One command per stream at a time: the handler is the only writer of plan
// streams (EventStore.Append refuses them), and it queues the commands of a
// stream and starts the next when the previous one's append has completed,
// so a command always decides on the state it appends to. Commands on
// different streams run concurrently and commit in shared groups. A plan's
// ClosePlan and ReopenPlan queue with the commands that open its areas
// (RegisterArea, ReopenArea), so that no area opens in a plan as it closes;
// those appends also hold only while the plan's stream stays where they
// read it (EventStore::AppendTogether with a condition). ClosePlan's
// close_areas are written in its own commit.
//
// Optimistic concurrency: with options.expected_version set, a mismatch
// fails with kAborted carrying the current version. Without it, a lost race
// (only possible if another process wrote the stream) is decided again on
// fresh state, a few times.
//
// Idempotency: a command with options.command_id gets an event id derived
// from it, and its event carries a keyed fingerprint of the command. A retry
// finds that event and returns the first result without deciding again (so
// a retried RegisterArea does not fail as "already registered"); reusing the
// id for another command fails with kAlreadyExists. Durable, because the
// event is. Once that event is redacted, every retry fails alike with
// kFailedPrecondition, so that retries test no guesses of the redacted text.
//
// Thread safety: all methods may be called concurrently. The store must
// outlive the handler; destroy the handler only when no command is in flight.
// `done` runs on the caller's thread, the store's writer thread or one of the
// handler's threads, and must not block. Decisions never run on the store's
// writer thread.
#ifndef PLANTRAIL_SERVICES_PLAN_COMMAND_HANDLER_H_
#define PLANTRAIL_SERVICES_PLAN_COMMAND_HANDLER_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "audit/signing_key.h"
#include "common/sync.h"
#include "common/thread_pool.h"
#include "domain/decide.h"
#include "domain/metadata_keys.h"
#include "domain/streams.h"
#include "eventstore/event_store.h"
#include "plantrail/v1/plan_commands.pb.h"
#include "projections/area_state_cache.h"
#include "projections/stream_fold.h"
#include "services/principal.h"

namespace plantrail::services {

// Event metadata keys the command service stamps.
using domain::kActorKey;
using domain::kCausationIdKey;
using domain::kCommandFingerprintKey;
using domain::kCommandIdKey;
using domain::kCorrelationIdKey;
// Starts a fingerprint keyed with the server's key (see the constructor).
inline constexpr char kKeyedFingerprintPrefix[] = "hmac1:";

// The key of the command fingerprints, derived from the server's signing
// key (an Ed25519 signature is deterministic): secret like it, the same
// after a restore from a backup, and no further file to keep.
absl::StatusOr<std::string> FingerprintKeyOf(const audit::SigningKey& key);

// The plan a command works in, resolved from its plan_id.
struct ResolvedPlan {
  // Empty on a server without plans (unplanned areas).
  std::string plan_id;
  // The plan part of its streams' ids (domain/streams.h): the plan's id, or
  // empty for the plan that holds the unplanned areas.
  std::string stream_plan;
  stored::PlanState state;
};

// Resolves `plan_id` (of the request's `field`): an empty one is the only
// plan when the server holds exactly one, none when it holds none, and
// INVALID_ARGUMENT `[rule: plan-required]` with several. NOT_FOUND for an
// unknown plan; with `what` set, FAILED_PRECONDITION when the plan is
// closed, naming `what` as what needs it open.
absl::StatusOr<ResolvedPlan> ResolvePlan(const eventstore::EventStore& store,
                                         absl::string_view plan_id,
                                         absl::string_view field,
                                         absl::string_view what);

// The plan a stream of the plan model belongs to: its own for a plan stream
// and plan-named ones, else the holder of the unplanned areas. Empty for
// other streams, and unplanned names no plan holds.
absl::StatusOr<std::string> PlanOfStream(const eventstore::EventStore& store,
                                         const domain::PlanStreamName& name);

class PlanCommandHandler {
 public:
  using Done = absl::AnyInvocable<void(absl::StatusOr<v1::CommandResult>) &&>;
  // Adds to `facts` what a command needs to know beyond its own stream.
  using Gather = std::function<absl::Status(const eventstore::EventStore&,
                                            domain::Facts&)>;

  // `fingerprint_key` keys the command fingerprints stored with events
  // (FingerprintKeyOf): without it, a fingerprint of a command with a short
  // free text is an oracle for guesses of that text.
  explicit PlanCommandHandler(
      eventstore::EventStore* store,
      std::function<absl::Time()> now = [] { return absl::Now(); },
      std::string fingerprint_key = "");

  void Handle(const Principal& principal,
              const v1::RegisterAreaRequest& command, Done done);
  void Handle(const Principal& principal,
              const v1::ReviseDetailsRequest& command, Done done);
  void Handle(const Principal& principal,
              const v1::ReportStatusRequest& command, Done done);
  void Handle(const Principal& principal,
              const v1::ReviseScheduleRequest& command, Done done);
  void Handle(const Principal& principal,
              const v1::AddDependencyRequest& command, Done done);
  void Handle(const Principal& principal,
              const v1::RemoveDependencyRequest& command, Done done);
  void Handle(const Principal& principal, const v1::ChangeUnitsRequest& command,
              Done done);
  void Handle(const Principal& principal,
              const v1::RecordDecisionRequest& command, Done done);
  void Handle(const Principal& principal, const v1::CloseAreaRequest& command,
              Done done);
  void Handle(const Principal& principal, const v1::ReopenAreaRequest& command,
              Done done);
  void Handle(const Principal& principal,
              const v1::CorrectEntryRequest& command, Done done);
  void Handle(const Principal& principal,
              const v1::RegisterPlanRequest& command, Done done);
  void Handle(const Principal& principal, const v1::RevisePlanRequest& command,
              Done done);
  void Handle(const Principal& principal, const v1::ClosePlanRequest& command,
              Done done);
  void Handle(const Principal& principal, const v1::ReopenPlanRequest& command,
              Done done);
  void Handle(const Principal& principal,
              const v1::OpenFollowUpRequest& command, Done done);
  void Handle(const Principal& principal,
              const v1::CloseFollowUpRequest& command, Done done);

  // The event id a command id stands for (a name-based UUID).
  static std::string EventIdFor(absl::string_view command_id);

  // The stream's stored payloads changed (a redaction): what the handler
  // remembers of it is folded again from the log.
  void StreamRedacted(absl::string_view stream_id);

 private:
  struct Execution;
  // The plan of an area or decision command, open and in the caller's
  // plans (`what` names the change, for the refusal of a closed plan).
  absl::StatusOr<ResolvedPlan> ResolvePlanFor(const Principal& principal,
                                              const std::string& plan_id,
                                              absl::string_view what) const;
  template <typename Request>
  void HandleArea(const Principal& principal, const Request& command,
                  Gather gather, Done done);
  // `also` (may be empty) adds the events of other streams the command
  // writes in the same commit (ClosePlan's close_areas).
  template <typename Request, typename Also = std::nullptr_t>
  void HandlePlan(const Principal& principal, const Request& command,
                  Gather gather, Done done, Also also = nullptr);
  // Gathers the ids of the plan's open areas (ClosePlan, OpenFollowUp).
  Gather OpenAreas(std::string plan_id);
  // Queues `execution` behind the commands of its stream.
  void Submit(std::shared_ptr<Execution> execution);
  // Runs the command at the head of its stream's queue.
  void Run(std::shared_ptr<Execution> execution);
  void Attempt(std::shared_ptr<Execution> execution);
  // Reports the outcome and starts the stream's next command.
  void Finish(std::shared_ptr<Execution> execution,
              absl::StatusOr<v1::CommandResult> outcome);

  eventstore::EventStore* const store_;
  const std::function<absl::Time()> now_;
  const std::string fingerprint_key_;
  // Each command folds only the events since the area's previous one.
  projections::AreaStateCache areas_;

  Mutex mu_;
  // Per stream, the commands waiting; the front one is running.
  absl::flat_hash_map<std::string, std::deque<std::shared_ptr<Execution>>>
      queues_ ABSL_GUARDED_BY(mu_);
  // Runs continuations off the store's writer thread. Last member: destroyed
  // (joined) first.
  ThreadPool pool_{2};
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PLAN_COMMAND_HANDLER_H_
