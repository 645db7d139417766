#include "services/plan_command_handler.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/status_handoff.h"
#include "common/status_macros.h"
#include "domain/decide.h"
#include "domain/event_codec.h"
#include "domain/evolve.h"
#include "domain/rules.h"
#include "domain/streams.h"
#include "eventstore/record_format.h"
#include "eventstore/uuid.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "projections/follow_filter.h"
#include "projections/stream_fold.h"

namespace plantrail::services {
namespace {

using eventstore::EventStore;
using eventstore::RecordedEvent;

// How often a command is decided again after losing a race for its stream.
constexpr int kAttempts = 5;
// Bounds of the listings a plan command reads.
constexpr size_t kMaxAreasPerPlan = 1000000;

struct Decided {
  uint64_t version = 0;
  stored::PlanEvent event;
  // Events of other streams, appended with `event` or not at all.
  struct Other {
    std::string stream_id;
    uint64_t version = 0;
    stored::PlanEvent event;
    // No event: the append only holds while the stream is at `version`.
    bool condition = false;
  };
  std::vector<Other> also;
};
using DecideFn =
    std::function<absl::StatusOr<Decided>(const EventStore&, absl::Time)>;
// Adds to a plan command's decision the events it writes to other streams.
using AlsoFn =
    std::function<absl::Status(const EventStore&, const stored::PlanState&,
                               const domain::Facts&, Decided&)>;

absl::StatusOr<bool> StreamExists(const EventStore& store,
                                  const std::string& stream_id) {
  PLANTRAIL_ASSIGN_OR_RETURN(uint64_t version, store.StreamVersion(stream_id));
  return version > 0;
}

// Stable digests of what a command asks, to tell a retry from a reuse of
// its id for something else. The stored one is keyed (HMAC-SHA-256 with the
// server's fingerprint key): a plain hash of a command with a short free
// text lets anyone who reads the log test guesses of that text, also after
// a redaction took it. Events from before keys carry the plain one.
struct Fingerprints {
  std::string keyed;
  std::string plain;
};

template <typename Request>
Fingerprints Fingerprint(const Request& command, absl::string_view key) {
  Request bare = command;
  bare.clear_options();
  std::string bytes = bare.GetDescriptor()->full_name();
  bytes += '\0';
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    bare.SerializeToCodedStream(&coded);
  }
  const eventstore::Hash hash = eventstore::record_format::Sha256(bytes);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), mac,
       &mac_size);
  return Fingerprints{
      .keyed = absl::StrCat(
          kKeyedFingerprintPrefix,
          absl::BytesToHexString(absl::string_view(
              reinterpret_cast<const char*>(mac), std::min(mac_size, 16u)))),
      .plain = absl::BytesToHexString(
          absl::string_view(reinterpret_cast<const char*>(hash.data()), 16)),
  };
}

// PERMISSION_DENIED unless a planner limited to support areas may touch an
// area of `support_area`.
absl::Status InScope(const Principal& principal, absl::string_view area_id,
                     absl::string_view support_area) {
  if (principal.support_areas.empty() ||
      std::find(principal.support_areas.begin(), principal.support_areas.end(),
                support_area) != principal.support_areas.end()) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "area_id: area \"", area_id, "\" is in support area \"", support_area,
      "\", outside ", principal.name, "'s (",
      absl::StrJoin(principal.support_areas, ", "), ") [rule: planner-scope]"));
}

// PERMISSION_DENIED unless a principal limited to plans may work in
// `plan_id` (empty: the areas without a plan, outside every limit).
absl::Status PlanInScope(const Principal& principal, const std::string& plan_id,
                         absl::string_view field = "plan_id") {
  if (principal.SeesPlan(plan_id)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      field, ": ",
      plan_id.empty() ? std::string("areas without a plan are")
                      : absl::StrCat("plan \"", plan_id, "\" is"),
      " outside ", principal.name, "'s plans (",
      absl::StrJoin(principal.plans, ", "), ") [rule: plan-scope]"));
}

// A planner limited to support areas works in areas; plans themselves are
// changed by planners without such a limit (and admins), and only a
// planner free of plan limits registers new ones.
absl::Status PlanCommandsInScope(const Principal& principal,
                                 const std::string& plan_id, bool registers) {
  if (!principal.support_areas.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "plan_id: ", principal.name, " may change areas of support areas ",
        absl::StrJoin(principal.support_areas, ", "),
        " only, not the plans themselves [rule: planner-scope]"));
  }
  if (registers && !principal.plans.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("plan_id: ", principal.name, " works in the plans ",
                     absl::StrJoin(principal.plans, ", "),
                     " only and may not register another [rule: plan-scope]"));
  }
  return PlanInScope(principal, plan_id);
}

// A status report that answers a follow-up round.
template <typename Request>
bool NamesRound(const Request& command) {
  if constexpr (std::is_same_v<Request, v1::ReportStatusRequest>) {
    return !command.round_id().empty();
  } else {
    return false;
  }
}

template <typename Request>
DecideFn DecideArea(const Request& command, std::string stream_plan,
                    PlanCommandHandler::Gather gather,
                    const Principal& principal,
                    projections::AreaStateCache* areas) {
  return
      [command, stream_plan = std::move(stream_plan),
       gather = std::move(gather), principal, areas](
          const EventStore& store, absl::Time now) -> absl::StatusOr<Decided> {
        PLANTRAIL_ASSIGN_OR_RETURN(
            stored::AreaState state,
            areas->Fold(store,
                        domain::QualifiedId(stream_plan, command.area_id())));
        domain::Facts facts{.now = now, .stream_plan = stream_plan};
        if (gather) PLANTRAIL_RETURN_IF_ERROR(gather(store, facts));
        // An area that opens (registered or reopened) does so only while its
        // plan is open, and a report answers a follow-up round only while
        // the round is open. Such commands queue with their plan's commands
        // (see HandleArea), so one decides after the other has committed;
        // the append also holds only while the plan's stream has not moved,
        // so that the log itself never takes an area opening in a closed
        // plan or a report in a closed round.
        constexpr bool kOpensArea =
            std::is_same_v<Request, v1::RegisterAreaRequest> ||
            std::is_same_v<Request, v1::ReopenAreaRequest>;
        const bool reads_plan =
            !command.plan_id().empty() && (kOpensArea || NamesRound(command));
        stored::PlanState plan;
        if (reads_plan) {
          PLANTRAIL_ASSIGN_OR_RETURN(
              plan, projections::FoldPlan(store, command.plan_id()));
          facts.rounds = plan.rounds();
        }
        PLANTRAIL_ASSIGN_OR_RETURN(stored::PlanEvent event,
                                   domain::Execute(state, command, facts));
        if (!principal.support_areas.empty()) {
          // Both the area as it is and as the command leaves it: a planner can
          // neither change nor move out (or in) an area outside their scope.
          stored::AreaState after = state;
          domain::EvolveArea(after, event, {.version = state.version() + 1});
          for (const stored::AreaState* area : {&state, &after}) {
            if (area->version() == 0) continue;  // not registered before
            PLANTRAIL_RETURN_IF_ERROR(
                InScope(principal, area->area_id(), area->support_area()));
          }
        }
        Decided decided{.version = state.version(), .event = std::move(event)};
        if (reads_plan) {
          if (kOpensArea) {
            PLANTRAIL_RETURN_IF_ERROR(domain::RequirePlanOpen(
                plan, command.plan_id(),
                absl::StrCat("a change of area \"", command.area_id(), "\"")));
          }
          decided.also.push_back(Decided::Other{
              .stream_id = domain::PlanStream(command.plan_id()),
              .version = plan.version(),
              .condition = true,
          });
        }
        return decided;
      };
}

// Adds `area_id` to the facts when it names an existing area of the plan
// whose streams are named with `stream_plan`.
absl::Status NoteArea(const EventStore& store, absl::string_view stream_plan,
                      const std::string& area_id, domain::Facts& facts) {
  if (area_id.empty() || !domain::CheckId("area_id", area_id).ok()) {
    return absl::OkStatus();
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      bool exists,
      StreamExists(store, domain::AreaStream(stream_plan, area_id)));
  if (exists) facts.existing_areas.insert(area_id);
  return absl::OkStatus();
}

// A replayed command answers with what the original wrote, so it passes
// the same scope check a new one would: a planner limited to support areas
// learns nothing of an area outside them by replaying a command id.
absl::Status ReplayInScope(const EventStore& store, const Principal& principal,
                           const RecordedEvent& event,
                           projections::AreaStateCache* areas) {
  const domain::PlanStreamName name = domain::ParseStreamName(event.stream_id);
  if (!principal.plans.empty()) {
    PLANTRAIL_ASSIGN_OR_RETURN(std::string plan_id, PlanOfStream(store, name));
    PLANTRAIL_RETURN_IF_ERROR(PlanInScope(principal, plan_id));
  }
  if (principal.support_areas.empty()) return absl::OkStatus();
  std::vector<std::string> area_ids;
  if (name.kind == domain::PlanStreamName::Kind::kPlan) {
    return PlanCommandsInScope(principal, name.id, false);
  } else if (name.kind == domain::PlanStreamName::Kind::kArea) {
    area_ids.push_back(name.id);
  } else if (name.kind == domain::PlanStreamName::Kind::kDecision) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        stored::DecisionState decision,
        projections::FoldDecision(
            store, domain::QualifiedId(name.stream_plan, name.id)));
    area_ids.assign(decision.area_ids().begin(), decision.area_ids().end());
    for (const stored::AreaRef& named : decision.other_plan_areas()) {
      PLANTRAIL_RETURN_IF_ERROR(PlanInScope(principal, named.plan_id()));
      PLANTRAIL_ASSIGN_OR_RETURN(ResolvedPlan other,
                                 ResolvePlan(store, named.plan_id(), "", ""));
      PLANTRAIL_ASSIGN_OR_RETURN(
          stored::AreaState area,
          areas->Fold(store,
                      domain::QualifiedId(other.stream_plan, named.area_id())));
      if (area.version() == 0) continue;
      PLANTRAIL_RETURN_IF_ERROR(
          InScope(principal, named.area_id(), area.support_area()));
    }
  }
  for (const std::string& area_id : area_ids) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        stored::AreaState area,
        areas->Fold(store, domain::QualifiedId(name.stream_plan, area_id)));
    if (area.version() == 0) continue;
    PLANTRAIL_RETURN_IF_ERROR(InScope(principal, area_id, area.support_area()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ResolvedPlan> ResolvePlan(const EventStore& store,
                                         absl::string_view plan_id,
                                         absl::string_view field,
                                         absl::string_view what) {
  ResolvedPlan resolved;
  if (plan_id.empty()) {
    // Enough to tell none, one and several apart, and to name a few.
    constexpr size_t kNamed = 20;
    PLANTRAIL_ASSIGN_OR_RETURN(
        std::vector<std::string> streams,
        store.ListStreams(domain::kPlanStreamPrefix, kNamed + 1));
    if (streams.empty()) return resolved;  // a server without plans
    std::vector<std::string> plans;
    for (absl::string_view stream : streams) {
      absl::ConsumePrefix(&stream, domain::kPlanStreamPrefix);
      plans.emplace_back(stream);
    }
    if (plans.size() > 1) {
      return domain::Refuse(
          absl::StatusCode::kInvalidArgument, "plan-required",
          absl::StrCat(
              field, ": required: the server holds several plans (",
              absl::StrJoin(plans.begin(),
                            plans.begin() + std::min(plans.size(), kNamed),
                            ", "),
              plans.size() > kNamed ? ", ..." : "", ")"));
    }
    resolved.plan_id = plans.front();
  } else {
    PLANTRAIL_RETURN_IF_ERROR(domain::CheckPlanId(field, plan_id));
    resolved.plan_id = std::string(plan_id);
  }
  PLANTRAIL_ASSIGN_OR_RETURN(resolved.state,
                             projections::FoldPlan(store, resolved.plan_id));
  if (resolved.state.version() == 0) {
    return domain::Refuse(absl::StatusCode::kNotFound, "plan-exists",
                          absl::StrCat(field, ": plan \"", resolved.plan_id,
                                       "\" is not registered"));
  }
  if (!what.empty()) {
    PLANTRAIL_RETURN_IF_ERROR(
        domain::RequirePlanOpen(resolved.state, resolved.plan_id, what));
  }
  resolved.stream_plan =
      resolved.state.holds_unplanned() ? "" : resolved.plan_id;
  return resolved;
}

absl::StatusOr<std::string> PlanOfStream(const EventStore& store,
                                         const domain::PlanStreamName& name) {
  if (name.kind == domain::PlanStreamName::Kind::kNone) return std::string();
  if (name.kind == domain::PlanStreamName::Kind::kPlan) return name.id;
  if (!name.stream_plan.empty()) return name.stream_plan;
  return projections::HolderOfUnplanned(store);
}

struct PlanCommandHandler::Execution {
  Principal principal;
  v1::CommandOptions options;
  std::string stream_id;
  // Commands with one key run one at a time: the stream's id; one key for
  // the plan commands that change a plan's fields; the plan's stream id for
  // its ClosePlan, ReopenPlan and the commands that open its areas.
  std::string queue_key;
  std::string fingerprint;
  // The unkeyed fingerprint, for events from before keyed ones.
  std::string plain_fingerprint;
  DecideFn decide;
  Done done;
  int attempts_left = kAttempts;
};

absl::StatusOr<std::string> FingerprintKeyOf(const audit::SigningKey& key) {
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::string signature,
      key.Sign("plantrail command fingerprint key, version 1"));
  const eventstore::Hash hash = eventstore::record_format::Sha256(signature);
  return std::string(hash.begin(), hash.end());
}

PlanCommandHandler::PlanCommandHandler(eventstore::EventStore* store,
                                       std::function<absl::Time()> now,
                                       std::string fingerprint_key)
    : store_(store),
      now_(std::move(now)),
      fingerprint_key_(std::move(fingerprint_key)) {}

std::string PlanCommandHandler::EventIdFor(absl::string_view command_id) {
  const eventstore::Hash hash = eventstore::record_format::Sha256(
      absl::StrCat("plantrail/command-id/", command_id));
  eventstore::Uuid id;
  std::copy(hash.begin(), hash.begin() + id.size(), id.begin());
  id[6] = (id[6] & 0x0f) | 0x80;  // version 8: a name-based, custom UUID
  id[8] = (id[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return eventstore::FormatUuid(id);
}

void PlanCommandHandler::StreamRedacted(absl::string_view stream_id) {
  absl::string_view area_id = stream_id;
  if (absl::ConsumePrefix(&area_id, domain::kAreaStreamPrefix)) {
    areas_.Forget(area_id);
  }
}

void PlanCommandHandler::Submit(std::shared_ptr<Execution> execution) {
  if (absl::Status valid = domain::CheckOptions(execution->options);
      !valid.ok()) {
    std::move(execution->done)(valid);
    return;
  }
  bool first;
  {
    MutexLock lock(&mu_);
    auto& queue = queues_[execution->queue_key];
    queue.push_back(execution);
    first = queue.size() == 1;
  }
  if (first) Run(std::move(execution));
}

void PlanCommandHandler::Finish(std::shared_ptr<Execution> execution,
                                absl::StatusOr<v1::CommandResult> outcome) {
  std::shared_ptr<Execution> next;
  {
    MutexLock lock(&mu_);
    auto it = queues_.find(execution->queue_key);
    it->second.pop_front();
    if (it->second.empty()) {
      queues_.erase(it);
    } else {
      next = it->second.front();
    }
  }
  // The next command decides on the state this one just wrote; never on the
  // store's writer thread, which may be the thread we are on.
  if (next) {
    pool_.Schedule(
        [this, next = std::move(next)]() mutable { Run(std::move(next)); });
  }
  // Last: once the caller hears back it may destroy the handler, so nothing
  // may touch `this` after this call. The caller's thread gets a status of
  // its own: copies of this one may still die on ours.
  if (!outcome.ok()) outcome = Unshared(outcome.status());
  std::move(execution->done)(std::move(outcome));
}

void PlanCommandHandler::Run(std::shared_ptr<Execution> execution) {
  // The command-id check runs in the stream's turn, so a retry racing its
  // original sees the original's event.
  const std::string& command_id = execution->options.command_id();
  if (!command_id.empty()) {
    absl::StatusOr<std::optional<RecordedEvent>> earlier =
        store_->ReadEvent(EventIdFor(command_id));
    if (!earlier.ok()) {
      Finish(std::move(execution), earlier.status());
      return;
    }
    if (earlier->has_value()) {
      const RecordedEvent& event = **earlier;
      if (event.redacted) {
        // The same answer whatever the retry says: comparing it with what
        // was redacted would confirm or refute a guess of the text.
        Finish(std::move(execution),
               domain::Refuse(
                   absl::StatusCode::kFailedPrecondition, "command-id-once",
                   absl::StrCat("options.command_id: \"", command_id,
                                "\" was used by the command of position ",
                                event.position,
                                ", whose event has since been redacted; a "
                                "retry cannot be compared with it")));
        return;
      }
      const auto fingerprint = event.metadata.find(kCommandFingerprintKey);
      const std::string& expected =
          fingerprint != event.metadata.end() &&
                  absl::StartsWith(fingerprint->second, kKeyedFingerprintPrefix)
              ? execution->fingerprint
              : execution->plain_fingerprint;
      if (fingerprint == event.metadata.end() ||
          fingerprint->second != expected) {
        Finish(std::move(execution),
               domain::Refuse(
                   absl::StatusCode::kAlreadyExists, "command-id-once",
                   absl::StrCat("options.command_id: \"", command_id,
                                "\" was already used for another command "
                                "(position ",
                                event.position, ")")));
        return;
      }
      if (absl::Status in_scope =
              ReplayInScope(*store_, execution->principal, event, &areas_);
          !in_scope.ok()) {
        Finish(std::move(execution), in_scope);
        return;
      }
      v1::CommandResult result;
      result.set_stream_id(event.stream_id);
      result.set_version(event.stream_version);
      result.set_position(event.position);
      result.set_event_id(event.event_id);
      result.set_event_type(event.type);
      result.set_replayed(true);
      Finish(std::move(execution), std::move(result));
      return;
    }
  }
  Attempt(std::move(execution));
}

void PlanCommandHandler::Attempt(std::shared_ptr<Execution> execution) {
  absl::StatusOr<Decided> decided = execution->decide(*store_, now_());
  if (!decided.ok()) {
    Finish(std::move(execution), decided.status());
    return;
  }
  const v1::CommandOptions& options = execution->options;
  if (options.has_expected_version() &&
      options.expected_version() != decided->version) {
    // Made before the call: its arguments may be evaluated in any order.
    absl::Status conflict = eventstore::VersionConflict(
        execution->stream_id,
        eventstore::ExpectedVersion::Exact(options.expected_version()),
        decided->version);
    Finish(std::move(execution), std::move(conflict));
    return;
  }
  // Every event carries who and which command; `part` tells a command's
  // events apart (empty for its own stream's).
  auto propose = [&](const stored::PlanEvent& decided_event,
                     absl::string_view part) {
    domain::EncodedEvent encoded = domain::EncodeEvent(decided_event);
    eventstore::ProposedEvent event{
        .type = encoded.type,
        .payload = std::move(encoded.payload),
        .content_type = std::move(encoded.content_type),
        .metadata = {{kActorKey, execution->principal.name},
                     {kCommandFingerprintKey, execution->fingerprint}},
    };
    if (!options.command_id().empty()) {
      event.event_id = EventIdFor(
          part.empty() ? options.command_id()
                       : absl::StrCat(options.command_id(), "#", part));
      event.metadata[kCommandIdKey] = options.command_id();
    }
    if (!options.correlation_id().empty()) {
      event.metadata[kCorrelationIdKey] = options.correlation_id();
    }
    if (!options.causation_id().empty()) {
      event.metadata[kCausationIdKey] = options.causation_id();
    }
    return event;
  };
  auto append_to = [](std::string stream_id, uint64_t version,
                      eventstore::ProposedEvent event) {
    eventstore::AppendRequest append{
        .stream_id = std::move(stream_id),
        .expected_version = version == 0
                                ? eventstore::ExpectedVersion::NoStream()
                                : eventstore::ExpectedVersion::Exact(version),
    };
    append.events.push_back(std::move(event));
    return append;
  };
  auto result_of = [](const std::string& stream_id,
                      const eventstore::AppendResult& appended,
                      const std::string& type) {
    v1::CommandResult result;
    result.set_stream_id(stream_id);
    result.set_version(appended.last_version);
    result.set_position(appended.last_position);
    result.set_event_id(appended.event_ids.front());
    result.set_event_type(type);
    result.set_replayed(appended.replayed);
    return result;
  };
  // Another writer got to a stream between our read and our append: decide
  // again on the new state, unless the caller pinned a version.
  auto retry_after = [this](std::shared_ptr<Execution>& execution,
                            const absl::Status& status) {
    if (absl::IsAborted(status) && !execution->options.has_expected_version() &&
        --execution->attempts_left > 0) {
      pool_.Schedule([this, execution = std::move(execution)]() mutable {
        Attempt(std::move(execution));
      });
      return true;
    }
    return false;
  };

  eventstore::ProposedEvent event = propose(decided->event, "");
  std::string type = event.type;
  eventstore::AppendRequest append =
      append_to(execution->stream_id, decided->version, std::move(event));
  if (decided->also.empty()) {
    store_->AppendAsync(
        std::move(append),
        [this, execution, type = std::move(type), result_of, retry_after](
            absl::StatusOr<eventstore::AppendResult> appended) mutable {
          if (appended.ok()) {
            v1::CommandResult result =
                result_of(execution->stream_id, *appended, type);
            Finish(std::move(execution), std::move(result));
          } else if (!retry_after(execution, appended.status())) {
            Finish(std::move(execution), std::move(appended).status());
          }
        });
    return;
  }
  std::vector<eventstore::AppendRequest> appends;
  std::vector<std::pair<std::string, std::string>> streams_and_types;
  appends.push_back(std::move(append));
  streams_and_types.emplace_back(execution->stream_id, std::move(type));
  for (Decided::Other& other : decided->also) {
    if (other.condition) {
      appends.push_back(eventstore::AppendRequest{
          .stream_id = std::move(other.stream_id),
          .expected_version =
              eventstore::ExpectedVersion::Exact(other.version)});
      continue;
    }
    eventstore::ProposedEvent other_event =
        propose(other.event, other.stream_id);
    streams_and_types.emplace_back(other.stream_id, other_event.type);
    appends.push_back(append_to(std::move(other.stream_id), other.version,
                                std::move(other_event)));
  }
  store_->AppendTogetherAsync(
      std::move(appends),
      [this, execution, streams_and_types = std::move(streams_and_types),
       result_of,
       retry_after](absl::StatusOr<std::vector<eventstore::AppendResult>>
                        appended) mutable {
        if (!appended.ok()) {
          if (!retry_after(execution, appended.status())) {
            Finish(std::move(execution), std::move(appended).status());
          }
          return;
        }
        // Conditions wrote nothing and have no result of their own; the
        // appends with events are in streams_and_types' order.
        std::vector<const eventstore::AppendResult*> written;
        for (const eventstore::AppendResult& one : *appended) {
          if (!one.event_ids.empty()) written.push_back(&one);
        }
        v1::CommandResult result =
            result_of(streams_and_types[0].first, *written[0],
                      streams_and_types[0].second);
        for (size_t i = 1; i < written.size(); ++i) {
          *result.add_also_written() =
              result_of(streams_and_types[i].first, *written[i],
                        streams_and_types[i].second);
        }
        Finish(std::move(execution), std::move(result));
      });
}

absl::StatusOr<ResolvedPlan> PlanCommandHandler::ResolvePlanFor(
    const Principal& principal, const std::string& plan_id,
    absl::string_view what) const {
  // A plan outside the caller's is refused before anything about it (even
  // whether it exists) is looked up; the plan an empty id stands for, once
  // it is known.
  if (!plan_id.empty()) {
    PLANTRAIL_RETURN_IF_ERROR(PlanInScope(principal, plan_id));
  }
  PLANTRAIL_ASSIGN_OR_RETURN(ResolvedPlan plan,
                             ResolvePlan(*store_, plan_id, "plan_id", what));
  PLANTRAIL_RETURN_IF_ERROR(PlanInScope(principal, plan.plan_id));
  return plan;
}

template <typename Request>
void PlanCommandHandler::HandleArea(const Principal& principal,
                                    const Request& command, Gather gather,
                                    Done done) {
  if (absl::Status valid = domain::CheckId("area_id", command.area_id());
      !valid.ok()) {
    std::move(done)(valid);
    return;
  }
  absl::StatusOr<ResolvedPlan> plan = ResolvePlanFor(
      principal, command.plan_id(),
      absl::StrCat("a change of area \"", command.area_id(), "\""));
  if (!plan.ok()) {
    std::move(done)(plan.status());
    return;
  }
  // Decided with the plan named, so that the event says which it is.
  Request resolved = command;
  resolved.set_plan_id(plan->plan_id);
  auto execution = std::make_shared<Execution>();
  execution->principal = principal;
  execution->options = command.options();
  execution->stream_id =
      domain::AreaStream(plan->stream_plan, command.area_id());
  execution->queue_key = execution->stream_id;
  if (std::is_same_v<Request, v1::RegisterAreaRequest> ||
      std::is_same_v<Request, v1::ReopenAreaRequest> || NamesRound(command)) {
    // One at a time with the plan's ClosePlan, ReopenPlan and follow-up
    // commands: a plan never closes while an area of it opens, nor a round
    // while a report answers it (their own stream's commands still exclude
    // each other by its expected version).
    if (!plan->plan_id.empty()) {
      execution->queue_key = domain::PlanStream(plan->plan_id);
    }
  }
  Fingerprints fingerprints = Fingerprint(command, fingerprint_key_);
  execution->fingerprint = std::move(fingerprints.keyed);
  execution->plain_fingerprint = std::move(fingerprints.plain);
  execution->decide = DecideArea(resolved, plan->stream_plan, std::move(gather),
                                 principal, &areas_);
  execution->done = std::move(done);
  Submit(std::move(execution));
}

template <typename Request, typename Also>
void PlanCommandHandler::HandlePlan(const Principal& principal,
                                    const Request& command, Gather gather,
                                    Done done, Also also_given) {
  AlsoFn also = std::move(also_given);
  if (absl::Status valid = domain::CheckPlanId("plan_id", command.plan_id());
      !valid.ok()) {
    std::move(done)(valid);
    return;
  }
  if (absl::Status in_scope =
          PlanCommandsInScope(principal, command.plan_id(),
                              std::is_same_v<Request, v1::RegisterPlanRequest>);
      !in_scope.ok()) {
    std::move(done)(in_scope);
    return;
  }
  auto execution = std::make_shared<Execution>();
  execution->principal = principal;
  execution->options = command.options();
  execution->stream_id = domain::PlanStream(command.plan_id());
  // Plan commands run one at a time (adopting the unplanned areas is once);
  // closing and reopening a plan and its follow-up commands run with the
  // commands that open its areas and answer its rounds instead (HandleArea),
  // and retry like any command when they meet a RevisePlan on the plan's
  // stream.
  execution->queue_key =
      std::is_same_v<Request, v1::ClosePlanRequest> ||
              std::is_same_v<Request, v1::ReopenPlanRequest> ||
              std::is_same_v<Request, v1::OpenFollowUpRequest> ||
              std::is_same_v<Request, v1::CloseFollowUpRequest>
          ? execution->stream_id
          : std::string(domain::kPlanStreamPrefix);
  Fingerprints fingerprints = Fingerprint(command, fingerprint_key_);
  execution->fingerprint = std::move(fingerprints.keyed);
  execution->plain_fingerprint = std::move(fingerprints.plain);
  execution->decide =
      [command, gather = std::move(gather), also = std::move(also)](
          const EventStore& store, absl::Time now) -> absl::StatusOr<Decided> {
    PLANTRAIL_ASSIGN_OR_RETURN(stored::PlanState state,
                               projections::FoldPlan(store, command.plan_id()));
    domain::Facts facts{.now = now};
    if (gather) PLANTRAIL_RETURN_IF_ERROR(gather(store, facts));
    PLANTRAIL_ASSIGN_OR_RETURN(stored::PlanEvent event,
                               domain::Execute(state, command, facts));
    Decided decided{.version = state.version(), .event = std::move(event)};
    if (also) PLANTRAIL_RETURN_IF_ERROR(also(store, state, facts, decided));
    return decided;
  };
  execution->done = std::move(done);
  Submit(std::move(execution));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::RegisterAreaRequest& command,
                                Done done) {
  HandleArea(principal, command, nullptr, std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::ReviseDetailsRequest& command,
                                Done done) {
  HandleArea(principal, command, nullptr, std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::ReportStatusRequest& command,
                                Done done) {
  HandleArea(principal, command, nullptr, std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::RemoveDependencyRequest& command,
                                Done done) {
  HandleArea(principal, command, nullptr, std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::ChangeUnitsRequest& command,
                                Done done) {
  HandleArea(principal, command, nullptr, std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::CloseAreaRequest& command,
                                Done done) {
  HandleArea(principal, command, nullptr, std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::ReopenAreaRequest& command,
                                Done done) {
  HandleArea(principal, command, nullptr, std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::ReviseScheduleRequest& command,
                                Done done) {
  Gather decision_exists = [decision_id = command.decision_id()](
                               const EventStore& store,
                               domain::Facts& facts) -> absl::Status {
    if (!domain::CheckId("decision_id", decision_id).ok()) {
      return absl::OkStatus();
    }
    PLANTRAIL_ASSIGN_OR_RETURN(
        bool exists, StreamExists(store, domain::DecisionStream(
                                             facts.stream_plan, decision_id)));
    if (exists) facts.existing_decisions.insert(decision_id);
    return absl::OkStatus();
  };
  HandleArea(principal, command, std::move(decision_exists), std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::AddDependencyRequest& command,
                                Done done) {
  Gather area_exists =
      [on = command.on_area_id(), on_plan = command.on_plan_id(),
       plan = command.plan_id()](const EventStore& store,
                                 domain::Facts& facts) -> absl::Status {
    if (on_plan.empty() || on_plan == plan) {
      return NoteArea(store, facts.stream_plan, on, facts);
    }
    // An area of another plan: that plan's names. A closed plan's areas
    // may still be depended on.
    absl::StatusOr<ResolvedPlan> other =
        ResolvePlan(store, on_plan, "on_plan_id", "");
    if (absl::IsNotFound(other.status())) return absl::OkStatus();
    PLANTRAIL_RETURN_IF_ERROR(other.status());
    return NoteArea(store, other->stream_plan, on, facts);
  };
  HandleArea(principal, command, std::move(area_exists), std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::CorrectEntryRequest& command,
                                Done done) {
  Gather event_at_position = [position = command.position()](
                                 const EventStore& store,
                                 domain::Facts& facts) -> absl::Status {
    if (position == 0) return absl::OkStatus();
    PLANTRAIL_ASSIGN_OR_RETURN(
        eventstore::LogPage page,
        store.ReadAll({.from_position = position, .limit = 1}));
    if (!page.events.empty() && page.events[0].position == position) {
      const RecordedEvent& event = page.events[0];
      facts.event_at_position = domain::EventRef{
          .position = event.position,
          .stream_id = event.stream_id,
          .event_id = event.event_id,
          .type = event.type,
      };
    }
    return absl::OkStatus();
  };
  HandleArea(principal, command, std::move(event_at_position), std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::RecordDecisionRequest& command,
                                Done done) {
  absl::StatusOr<std::string> decision_id = domain::DecisionIdOf(command);
  if (!decision_id.ok()) {
    std::move(done)(decision_id.status());
    return;
  }
  absl::StatusOr<ResolvedPlan> plan =
      ResolvePlanFor(principal, command.plan_id(), "a new decision");
  if (!plan.ok()) {
    std::move(done)(plan.status());
    return;
  }
  v1::RecordDecisionRequest resolved = command;
  resolved.set_plan_id(plan->plan_id);
  auto execution = std::make_shared<Execution>();
  execution->principal = principal;
  execution->options = command.options();
  execution->stream_id =
      domain::DecisionStream(plan->stream_plan, *decision_id);
  execution->queue_key = execution->stream_id;
  Fingerprints fingerprints = Fingerprint(command, fingerprint_key_);
  execution->fingerprint = std::move(fingerprints.keyed);
  execution->plain_fingerprint = std::move(fingerprints.plain);
  execution->decide =
      [command = std::move(resolved),
       qualified_id = domain::QualifiedId(plan->stream_plan, *decision_id),
       stream_plan = plan->stream_plan, principal, areas = &areas_](
          const EventStore& store, absl::Time now) -> absl::StatusOr<Decided> {
    PLANTRAIL_ASSIGN_OR_RETURN(stored::DecisionState state,
                               projections::FoldDecision(store, qualified_id));
    domain::Facts facts{.now = now, .stream_plan = stream_plan};
    for (const std::string& area_id : command.area_ids()) {
      PLANTRAIL_RETURN_IF_ERROR(NoteArea(store, stream_plan, area_id, facts));
      if (!principal.support_areas.empty() &&
          facts.existing_areas.contains(area_id)) {
        PLANTRAIL_ASSIGN_OR_RETURN(
            stored::AreaState area,
            areas->Fold(store, domain::QualifiedId(stream_plan, area_id)));
        PLANTRAIL_RETURN_IF_ERROR(
            InScope(principal, area_id, area.support_area()));
      }
    }
    // Areas of other plans: the caller's scopes hold there too, since the
    // decision shows in those areas' histories. A closed plan's areas may
    // still be ruled on.
    for (int i = 0; i < command.other_plan_areas_size(); ++i) {
      const v1::AreaRef& named = command.other_plan_areas(i);
      if (!domain::CheckPlanId("plan_id", named.plan_id()).ok() ||
          !domain::CheckId("area_id", named.area_id()).ok() ||
          named.plan_id() == command.plan_id()) {
        continue;  // domain::Decide says what is wrong
      }
      const std::string field =
          absl::StrCat("other_plan_areas[", i, "].plan_id");
      PLANTRAIL_RETURN_IF_ERROR(PlanInScope(principal, named.plan_id(), field));
      absl::StatusOr<ResolvedPlan> other =
          ResolvePlan(store, named.plan_id(), field, "");
      if (absl::IsNotFound(other.status())) continue;
      PLANTRAIL_RETURN_IF_ERROR(other.status());
      const std::string qualified =
          domain::QualifiedId(other->stream_plan, named.area_id());
      PLANTRAIL_ASSIGN_OR_RETURN(
          bool exists,
          StreamExists(
              store, domain::AreaStream(other->stream_plan, named.area_id())));
      if (!exists) continue;
      facts.existing_other_plan_areas.insert(
          domain::OtherPlanAreaKey(named.plan_id(), named.area_id()));
      if (!principal.support_areas.empty()) {
        PLANTRAIL_ASSIGN_OR_RETURN(stored::AreaState area,
                                   areas->Fold(store, qualified));
        PLANTRAIL_RETURN_IF_ERROR(
            InScope(principal, named.area_id(), area.support_area()));
      }
    }
    PLANTRAIL_ASSIGN_OR_RETURN(stored::PlanEvent event,
                               domain::Execute(state, command, facts));
    return Decided{.version = state.version(), .event = std::move(event)};
  };
  execution->done = std::move(done);
  Submit(std::move(execution));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::RegisterPlanRequest& command,
                                Done done) {
  Gather holder = [adopt = command.adopt_unplanned()](
                      const EventStore& store,
                      domain::Facts& facts) -> absl::Status {
    if (!adopt) return absl::OkStatus();
    PLANTRAIL_ASSIGN_OR_RETURN(facts.unplanned_holder,
                               projections::HolderOfUnplanned(store));
    return absl::OkStatus();
  };
  HandlePlan(principal, command, std::move(holder), std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::RevisePlanRequest& command,
                                Done done) {
  HandlePlan(principal, command, nullptr, std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::ClosePlanRequest& command,
                                Done done) {
  Gather open_areas = OpenAreas(command.plan_id());
  // The areas named in close_areas are closed by CloseArea's rules, with
  // the plan's reason, in the plan's commit (domain::Decide has checked that
  // they are the plan's open areas).
  AlsoFn close_areas = [this, command](const EventStore& store,
                                       const stored::PlanState& plan,
                                       const domain::Facts& facts,
                                       Decided& decided) -> absl::Status {
    const std::string stream_plan =
        plan.holds_unplanned() ? "" : plan.plan_id();
    for (int i = 0; i < command.close_areas_size(); ++i) {
      const v1::AreaClosure& closure = command.close_areas(i);
      PLANTRAIL_ASSIGN_OR_RETURN(
          stored::AreaState area,
          areas_.Fold(store,
                      domain::QualifiedId(stream_plan, closure.area_id())));
      v1::CloseAreaRequest close;
      close.set_area_id(closure.area_id());
      close.set_outcome(closure.outcome());
      close.set_outcome_text(closure.outcome_text());
      close.set_reason(command.reason());
      close.set_plan_id(plan.plan_id());
      absl::StatusOr<stored::PlanEvent> closed =
          domain::Decide(area, close, facts);
      if (!closed.ok()) {
        return absl::Status(
            closed.status().code(),
            absl::StrCat("close_areas[", i, "].", closed.status().message()));
      }
      decided.also.push_back(Decided::Other{
          .stream_id = domain::AreaStream(stream_plan, closure.area_id()),
          .version = area.version(),
          .event = *std::move(closed),
      });
    }
    return absl::OkStatus();
  };
  HandlePlan(principal, command, std::move(open_areas), std::move(done),
             std::move(close_areas));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::ReopenPlanRequest& command,
                                Done done) {
  HandlePlan(principal, command, nullptr, std::move(done));
}

PlanCommandHandler::Gather PlanCommandHandler::OpenAreas(std::string plan_id) {
  return [this, plan_id = std::move(plan_id)](
             const EventStore& store, domain::Facts& facts) -> absl::Status {
    PLANTRAIL_ASSIGN_OR_RETURN(stored::PlanState plan,
                               projections::FoldPlan(store, plan_id));
    if (plan.version() == 0) return absl::OkStatus();
    const std::string stream_plan = plan.holds_unplanned() ? "" : plan_id;
    const std::string prefix = domain::AreaStream(stream_plan, "");
    PLANTRAIL_ASSIGN_OR_RETURN(std::vector<std::string> streams,
                               store.ListStreams(prefix, kMaxAreasPerPlan));
    for (absl::string_view stream : streams) {
      const domain::PlanStreamName name = domain::ParseStreamName(stream);
      if (name.stream_plan != stream_plan) continue;  // another plan's
      PLANTRAIL_ASSIGN_OR_RETURN(
          stored::AreaState area,
          areas_.Fold(store, domain::QualifiedId(stream_plan, name.id)));
      if (area.version() > 0 && !area.closed()) {
        facts.open_areas.push_back(area.area_id());
      }
    }
    return absl::OkStatus();
  };
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::OpenFollowUpRequest& command,
                                Done done) {
  HandlePlan(principal, command, OpenAreas(command.plan_id()), std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::CloseFollowUpRequest& command,
                                Done done) {
  HandlePlan(principal, command, nullptr, std::move(done));
}

}  // namespace plantrail::services
