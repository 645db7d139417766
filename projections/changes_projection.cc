#include "projections/changes_projection.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "domain/evolve.h"
#include "domain/streams.h"
#include "domain/timestamps.h"
#include "eventstore/record_format.h"
#include "google/protobuf/wrappers.pb.h"
#include "projections/stream_fold.h"

namespace plantrail::projections {

std::string RecordedIndexPrefix() { return "r"; }

namespace {

// A day as a number that sorts as the days do, before 1970 too. A
// registration's business day is CivilDay::min(), whose distance from 1970
// does not fit in 64 bits: it is the first of all.
uint64_t EncodeDay(absl::CivilDay day) {
  return day == absl::CivilDay::min()
             ? 0
             : static_cast<uint64_t>(day - absl::CivilDay(1970, 1, 1)) ^
                   (uint64_t{1} << 63);
}

}  // namespace

std::string RecordedIndexKey(absl::CivilDay day, uint64_t position) {
  std::string key = RecordedIndexPrefix();
  eventstore::record_format::AppendU64(key, EncodeDay(day));
  eventstore::record_format::AppendU64(key, position);
  return key;
}

std::string AreaDayPrefix(absl::string_view qualified_id) {
  std::string key = absl::StrCat("d", qualified_id);
  key.push_back('\0');
  return key;
}

std::string AreaDayKey(absl::string_view qualified_id, absl::CivilDay day,
                       uint64_t position) {
  std::string key = AreaDayPrefix(qualified_id);
  eventstore::record_format::AppendU64(key, EncodeDay(day));
  eventstore::record_format::AppendU64(key, position);
  return key;
}

std::string AreaLastDayKey(absl::string_view qualified_id) {
  return absl::StrCat("x", qualified_id);
}

std::string AreaStepPrefix(absl::string_view qualified_id) {
  std::string key = absl::StrCat("s", qualified_id);
  key.push_back('\0');
  return key;
}

std::string AreaStepKey(absl::string_view qualified_id, uint64_t position) {
  std::string key = AreaStepPrefix(qualified_id);
  eventstore::record_format::AppendU64(key, position);
  return key;
}

stored::AreaState AreaStep(const stored::AreaState& state) {
  stored::AreaState step = state;
  step.clear_rationale();
  step.clear_desired_effect();
  step.clear_participating_units();
  step.clear_responsible_units();
  step.clear_outcome_text();
  return step;
}

void ChangesProjection::StepAside(stored::AreaState& state) {
  // What AreaStep clears; swapped twice, the state is as it was.
  state.mutable_rationale()->swap(aside_.rationale);
  state.mutable_desired_effect()->swap(aside_.desired_effect);
  state.mutable_participating_units()->Swap(&aside_.participating_units);
  state.mutable_responsible_units()->Swap(&aside_.responsible_units);
  state.mutable_outcome_text()->swap(aside_.outcome_text);
}

absl::Status ChangesProjection::Apply(const eventstore::RecordedEvent& event,
                                      StateWriter& state) {
  if (!absl::StartsWith(event.stream_id, domain::kAreaStreamPrefix)) {
    return absl::OkStatus();
  }
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<PlanEventRecord> record,
                             DecodePlanEvent(event));
  if (!record) return absl::OkStatus();
  const absl::string_view area =
      absl::string_view(event.stream_id)
          .substr(sizeof(domain::kAreaStreamPrefix) - 1);
  state.Put(RecordedIndexKey(days_.UtcDay(event.recorded_at), event.position),
            area);
  const absl::CivilDay business_day = days_.BusinessDay(*record);
  state.Put(AreaDayKey(area, business_day, event.position), "");
  PLANTRAIL_ASSIGN_OR_RETURN(google::protobuf::UInt64Value * last_day,
                             StagedMessage<google::protobuf::UInt64Value>(
                                 state, AreaLastDayKey(area)));
  if (last_day->value() != kOutOfOrder) {
    const uint64_t day = EncodeDay(business_day);
    last_day->set_value(day < last_day->value() ? kOutOfOrder : day);
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      stored::AreaState * working,
      StagedMessage<stored::AreaState>(state, absl::StrCat("w", area)));
  domain::EvolveArea(*working, record->event, record->context);
  // AreaStep(*working), serialized without copying the state: the fields a
  // step leaves out are moved aside (swapped, which allocates nothing) and
  // back.
  StepAside(*working);
  bytes_.clear();
  working->AppendToString(&bytes_);
  StepAside(*working);
  state.Put(AreaStepKey(area, event.position), bytes_);
  return absl::OkStatus();
}

}  // namespace plantrail::projections
