#include "services/plan_command_handler.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
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
#include "projections/plan_stream.h"

namespace plantrail::services {
namespace {

using eventstore::EventStore;
using eventstore::RecordedEvent;

// How often a command is decided again after losing a race for its stream.
constexpr int kAttempts = 5;

struct Decided {
  uint64_t version = 0;
  v1::PlanEvent event;
};
using DecideFn =
    std::function<absl::StatusOr<Decided>(const EventStore&, absl::Time)>;

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

template <typename Request>
DecideFn DecideArea(const Request& command, PlanCommandHandler::Gather gather,
                    const Principal& principal,
                    projections::AreaStateCache* areas) {
  return
      [command, gather = std::move(gather), principal, areas](
          const EventStore& store, absl::Time now) -> absl::StatusOr<Decided> {
        PLANTRAIL_ASSIGN_OR_RETURN(v1::AreaState state,
                                   areas->Fold(store, command.area_id()));
        domain::Facts facts{.now = now};
        if (gather) PLANTRAIL_RETURN_IF_ERROR(gather(store, facts));
        PLANTRAIL_ASSIGN_OR_RETURN(v1::PlanEvent event,
                                   domain::Decide(state, command, facts));
        if (!principal.support_areas.empty()) {
          // Both the area as it is and as the command leaves it: a planner can
          // neither change nor move out (or in) an area outside their scope.
          v1::AreaState after = state;
          domain::EvolveArea(after, event, {.version = state.version() + 1});
          for (const v1::AreaState* area : {&state, &after}) {
            if (area->version() == 0) continue;  // not registered before
            PLANTRAIL_RETURN_IF_ERROR(
                InScope(principal, area->area_id(), area->support_area()));
          }
        }
        return Decided{.version = state.version(), .event = std::move(event)};
      };
}

// Adds `area_id` to the facts when it names an existing area.
absl::Status NoteArea(const EventStore& store, const std::string& area_id,
                      domain::Facts& facts) {
  if (area_id.empty() || !domain::CheckId("area_id", area_id).ok()) {
    return absl::OkStatus();
  }
  PLANTRAIL_ASSIGN_OR_RETURN(bool exists,
                             StreamExists(store, domain::AreaStream(area_id)));
  if (exists) facts.existing_areas.insert(area_id);
  return absl::OkStatus();
}

// A replayed command answers with what the original wrote, so it passes
// the same scope check a new one would: a planner limited to support areas
// learns nothing of an area outside them by replaying a command id.
absl::Status ReplayInScope(const EventStore& store, const Principal& principal,
                           const RecordedEvent& event,
                           projections::AreaStateCache* areas) {
  if (principal.support_areas.empty()) return absl::OkStatus();
  std::vector<std::string> area_ids;
  absl::string_view id = event.stream_id;
  if (absl::ConsumePrefix(&id, domain::kAreaStreamPrefix)) {
    area_ids.emplace_back(id);
  } else if (absl::ConsumePrefix(&id, domain::kDecisionStreamPrefix)) {
    PLANTRAIL_ASSIGN_OR_RETURN(v1::DecisionState decision,
                               projections::FoldDecision(store, id));
    area_ids.assign(decision.area_ids().begin(), decision.area_ids().end());
  }
  for (const std::string& area_id : area_ids) {
    PLANTRAIL_ASSIGN_OR_RETURN(v1::AreaState area, areas->Fold(store, area_id));
    if (area.version() == 0) continue;
    PLANTRAIL_RETURN_IF_ERROR(InScope(principal, area_id, area.support_area()));
  }
  return absl::OkStatus();
}

}  // namespace

struct PlanCommandHandler::Execution {
  Principal principal;
  v1::CommandOptions options;
  std::string stream_id;
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
    auto& queue = queues_[execution->stream_id];
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
    auto it = queues_.find(execution->stream_id);
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
  // may touch `this` after this call.
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
    Finish(std::move(execution),
           eventstore::VersionConflict(
               execution->stream_id,
               eventstore::ExpectedVersion::Exact(options.expected_version()),
               decided->version));
    return;
  }
  domain::EncodedEvent encoded = domain::EncodeEvent(decided->event);
  eventstore::ProposedEvent event{
      .type = encoded.type,
      .payload = std::move(encoded.payload),
      .content_type = std::move(encoded.content_type),
      .metadata = {{kActorKey, execution->principal.name},
                   {kCommandFingerprintKey, execution->fingerprint}},
  };
  if (!options.command_id().empty()) {
    event.event_id = EventIdFor(options.command_id());
    event.metadata[kCommandIdKey] = options.command_id();
  }
  if (!options.correlation_id().empty()) {
    event.metadata[kCorrelationIdKey] = options.correlation_id();
  }
  if (!options.causation_id().empty()) {
    event.metadata[kCausationIdKey] = options.causation_id();
  }
  eventstore::AppendRequest append{
      .stream_id = execution->stream_id,
      .expected_version =
          decided->version == 0
              ? eventstore::ExpectedVersion::NoStream()
              : eventstore::ExpectedVersion::Exact(decided->version),
  };
  append.events.push_back(std::move(event));
  store_->AppendAsync(
      std::move(append),
      [this, execution, type = encoded.type](
          absl::StatusOr<eventstore::AppendResult> appended) mutable {
        if (appended.ok()) {
          v1::CommandResult result;
          result.set_stream_id(execution->stream_id);
          result.set_version(appended->last_version);
          result.set_position(appended->last_position);
          result.set_event_id(appended->event_ids.front());
          result.set_event_type(type);
          result.set_replayed(appended->replayed);
          Finish(std::move(execution), std::move(result));
          return;
        }
        // Another writer got to the stream between our read and our append:
        // decide again on the new state, unless the caller pinned a version.
        if (absl::IsAborted(appended.status()) &&
            !execution->options.has_expected_version() &&
            --execution->attempts_left > 0) {
          pool_.Schedule([this, execution = std::move(execution)]() mutable {
            Attempt(std::move(execution));
          });
          return;
        }
        Finish(std::move(execution), appended.status());
      });
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
  auto execution = std::make_shared<Execution>();
  execution->principal = principal;
  execution->options = command.options();
  execution->stream_id = domain::AreaStream(command.area_id());
  Fingerprints fingerprints = Fingerprint(command, fingerprint_key_);
  execution->fingerprint = std::move(fingerprints.keyed);
  execution->plain_fingerprint = std::move(fingerprints.plain);
  execution->decide =
      DecideArea(command, std::move(gather), principal, &areas_);
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
        bool exists, StreamExists(store, domain::DecisionStream(decision_id)));
    if (exists) facts.existing_decisions.insert(decision_id);
    return absl::OkStatus();
  };
  HandleArea(principal, command, std::move(decision_exists), std::move(done));
}

void PlanCommandHandler::Handle(const Principal& principal,
                                const v1::AddDependencyRequest& command,
                                Done done) {
  Gather area_exists = [on = command.on_area_id()](const EventStore& store,
                                                   domain::Facts& facts) {
    return NoteArea(store, on, facts);
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
  auto execution = std::make_shared<Execution>();
  execution->principal = principal;
  execution->options = command.options();
  execution->stream_id = domain::DecisionStream(*decision_id);
  Fingerprints fingerprints = Fingerprint(command, fingerprint_key_);
  execution->fingerprint = std::move(fingerprints.keyed);
  execution->plain_fingerprint = std::move(fingerprints.plain);
  execution->decide =
      [command, decision_id = *decision_id, principal, areas = &areas_](
          const EventStore& store, absl::Time now) -> absl::StatusOr<Decided> {
    PLANTRAIL_ASSIGN_OR_RETURN(v1::DecisionState state,
                               projections::FoldDecision(store, decision_id));
    domain::Facts facts{.now = now};
    for (const std::string& area_id : command.area_ids()) {
      PLANTRAIL_RETURN_IF_ERROR(NoteArea(store, area_id, facts));
      if (!principal.support_areas.empty() &&
          facts.existing_areas.contains(area_id)) {
        PLANTRAIL_ASSIGN_OR_RETURN(v1::AreaState area,
                                   areas->Fold(store, area_id));
        PLANTRAIL_RETURN_IF_ERROR(
            InScope(principal, area_id, area.support_area()));
      }
    }
    PLANTRAIL_ASSIGN_OR_RETURN(v1::PlanEvent event,
                               domain::Decide(state, command, facts));
    return Decided{.version = state.version(), .event = std::move(event)};
  };
  execution->done = std::move(done);
  Submit(std::move(execution));
}

}  // namespace plantrail::services
