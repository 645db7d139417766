#include "projections/stream_fold.h"

#include "absl/strings/match.h"
#include "common/status_macros.h"
#include "domain/area_schedule.h"
#include "domain/event_codec.h"
#include "domain/streams.h"
#include "domain/timestamps.h"

namespace plantrail::projections {
namespace {

// Folds the stream's events after `state` (at state.version()) into it.
template <typename State, typename Evolve>
absl::StatusOr<State> Fold(const eventstore::EventStore& log,
                           const std::string& stream_id, Evolve evolve,
                           const EventFilter& include, State state = State()) {
  PLANTRAIL_RETURN_IF_ERROR(ForEachPlanEvent(
      log, stream_id,
      [&](const PlanEventRecord& record) {
        if (!include || include(record)) {
          evolve(state, record.event, record.context);
        }
      },
      state.version() + 1));
  return state;
}

}  // namespace

absl::StatusOr<std::optional<PlanEventRecord>> DecodePlanEvent(
    const eventstore::RecordedEvent& recorded) {
  if (!absl::StartsWith(recorded.stream_id, domain::kAreaStreamPrefix) &&
      !absl::StartsWith(recorded.stream_id, domain::kDecisionStreamPrefix) &&
      !absl::StartsWith(recorded.stream_id, domain::kPlanStreamPrefix)) {
    return std::nullopt;
  }
  absl::StatusOr<stored::PlanEvent> event =
      domain::DecodeForFold(recorded.type, recorded.payload);
  PLANTRAIL_RETURN_IF_ERROR(event.status());
  const auto actor = recorded.metadata.find(kActorKey);
  return PlanEventRecord{
      .event = *std::move(event),
      .context =
          domain::EventContext{
              .position = recorded.position,
              .version = recorded.stream_version,
              .recorded_at = recorded.recorded_at,
              .actor = actor == recorded.metadata.end() ? std::string()
                                                        : actor->second,
          },
  };
}

absl::StatusOr<stored::AreaState> FoldArea(const eventstore::EventStore& log,
                                           absl::string_view qualified_id,
                                           const EventFilter& include) {
  return Fold<stored::AreaState>(log, domain::AreaStream(qualified_id),
                                 domain::EvolveArea, include);
}

absl::StatusOr<stored::AreaState> FoldAreaAfter(
    const eventstore::EventStore& log, absl::string_view qualified_id,
    stored::AreaState state) {
  return Fold<stored::AreaState>(log, domain::AreaStream(qualified_id),
                                 domain::EvolveArea, nullptr, std::move(state));
}

absl::Status ForEachPlanEvent(
    const eventstore::EventStore& log, const std::string& stream_id,
    const std::function<void(const PlanEventRecord&)>& visit,
    uint64_t from_version) {
  for (uint64_t from = from_version; from != 0;) {
    absl::StatusOr<eventstore::StreamPage> page = log.ReadStream(
        {.stream_id = stream_id, .from_version = from, .limit = 1000});
    if (absl::IsNotFound(page.status())) return absl::OkStatus();
    PLANTRAIL_RETURN_IF_ERROR(page.status());
    for (const eventstore::RecordedEvent& recorded : page->events) {
      PLANTRAIL_ASSIGN_OR_RETURN(std::optional<PlanEventRecord> record,
                                 DecodePlanEvent(recorded));
      if (record) visit(*record);
    }
    from = page->next_version;
  }
  return absl::OkStatus();
}

absl::StatusOr<AreaWindow> FoldAreaWindow(const eventstore::EventStore& log,
                                          absl::string_view qualified_id,
                                          const EventFilter& at_start,
                                          const EventFilter& at_end) {
  AreaWindow window;
  PLANTRAIL_RETURN_IF_ERROR(ForEachPlanEvent(
      log, domain::AreaStream(qualified_id),
      [&](const PlanEventRecord& record) {
        if (at_start(record)) {
          domain::EvolveArea(window.start, record.event, record.context);
        }
        if (at_end(record)) {
          domain::EvolveArea(window.end, record.event, record.context);
        }
      }));
  return window;
}

absl::CivilDay BusinessDay(const PlanEventRecord& record) {
  return DayMemo().BusinessDay(record);
}

absl::CivilDay DayMemo::UtcDay(absl::Time time) {
  if (time < begins_ || time >= ends_) {
    day_ = domain::UtcDay(time);
    begins_ = absl::FromCivil(day_, absl::UTCTimeZone());
    ends_ = absl::FromCivil(day_ + 1, absl::UTCTimeZone());
  }
  return day_;
}

absl::CivilDay DayMemo::BusinessDay(const PlanEventRecord& record) {
  if (record.event.has_area_registered()) return absl::CivilDay::min();
  if (record.event.has_status_reported() &&
      record.event.status_reported().report().has_reported_on()) {
    const stored::PlanDate& reported_on =
        record.event.status_reported().report().reported_on();
    // Compared as bytes: whatever fields a date gains, the same bytes are
    // the same date.
    scratch_.clear();
    reported_on.AppendToString(&scratch_);
    if (!has_reported_on_ || scratch_ != reported_on_) {
      reported_day_ = domain::FirstDayOf(reported_on);
      reported_on_.swap(scratch_);
      has_reported_on_ = true;
    }
    if (reported_day_) return *reported_day_;
  }
  return UtcDay(record.context.recorded_at);
}

absl::StatusOr<stored::DecisionState> FoldDecision(
    const eventstore::EventStore& log, absl::string_view qualified_id) {
  return Fold<stored::DecisionState>(log, domain::DecisionStream(qualified_id),
                                     domain::EvolveDecision, nullptr);
}

absl::StatusOr<stored::PlanState> FoldPlan(const eventstore::EventStore& log,
                                           absl::string_view plan_id,
                                           const EventFilter& include) {
  return Fold<stored::PlanState>(log, domain::PlanStream(plan_id),
                                 domain::EvolvePlan, include);
}

}  // namespace plantrail::projections
