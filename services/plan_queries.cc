#include "services/plan_queries.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "common/status_macros.h"
#include "domain/area_schedule.h"
#include "domain/dependency_graph.h"
#include "domain/plan_date.h"
#include "domain/plan_date_proto.h"
#include "domain/rules.h"
#include "domain/stored_twin.h"
#include "domain/streams.h"
#include "domain/text.h"
#include "domain/timestamps.h"
#include "eventstore/record_format.h"
#include "projections/area_state_projection.h"
#include "projections/history_projection.h"
#include "projections/stream_fold.h"
#include "services/page_token.h"
#include "services/plan_index.h"

namespace plantrail::services {
namespace {

using domain::PlanDate;

// The listings' names in their page tokens (services/page_token.h), so that
// a token of one listing is refused by another.
constexpr char kAreasListing[] = "areas";
// Paging folds the areas changed since a listing's first page back to it;
// beyond this many, the listing starts again.
constexpr size_t kMaxAreasFoldedBack = 10000;
constexpr char kDecisionsListing[] = "decisions";
constexpr char kPlansListing[] = "plans";
// GetDependencies: nodes and edges one query may look at in all (a plan of
// ten thousand areas with ten dependencies each takes about a fifth of it),
// and entries per list of its answer, so that its size stays far below a
// message's limit.
constexpr uint64_t kDependencyWorkSteps = 2'000'000;
constexpr int kMaxDependencyLinks = 5'000;
constexpr int kMaxDependencyCycles = 100;

absl::Time LastActivity(const stored::AreaState& area) {
  return domain::FromTimestamp(area.has_latest_report_recorded_at()
                                   ? area.latest_report_recorded_at()
                                   : area.registered_at());
}

void Count(const stored::AreaState& area, absl::Time now, absl::CivilDay today,
           uint32_t stale_days, uint32_t due_within_days,
           v1::PortfolioSlice& slice) {
  slice.set_areas(slice.areas() + 1);
  if (!area.closed()) slice.set_open(slice.open() + 1);
  ++(*slice.mutable_by_phase())[stored::Phase_Name(area.phase())];
  ++(*slice.mutable_by_health())[stored::Health_Name(area.health())];
  if (domain::IsOverdue(area, today)) slice.set_overdue(slice.overdue() + 1);
  if (const auto days = domain::SlipDaysAgainstBaseline(area);
      days && *days > 0) {
    slice.set_slipped_against_baseline(slice.slipped_against_baseline() + 1);
    slice.set_slip_days_against_baseline(slice.slip_days_against_baseline() +
                                         *days);
  }
  if (const auto days = domain::SlipDaysAgainstPrevious(area);
      days && *days > 0) {
    slice.set_slipped_against_previous(slice.slipped_against_previous() + 1);
    slice.set_slip_days_against_previous(slice.slip_days_against_previous() +
                                         *days);
  }
  if (area.closed()) return;
  if (LastActivity(area) <= now - absl::Hours(24) * stale_days) {
    slice.set_stale(slice.stale() + 1);
  }
  if (area.latest_report().has_next_report_due()) {
    if (const auto due =
            domain::FirstDayOf(area.latest_report().next_report_due())) {
      if (*due < today) {
        slice.set_reports_late(slice.reports_late() + 1);
      } else if (*due <= today + due_within_days) {
        slice.set_reports_due(slice.reports_due() + 1);
      }
    }
  }
}

// Where one area lives: the plan it was asked in (resolved), and its
// key in the projections.
struct AreaAddress {
  std::string plan_id;
  std::string qualified_id;
};

// An area query's plan: an empty plan_id is the only plan (none on a
// server without plans); with several it is required.
absl::StatusOr<AreaAddress> Locate(const PlanIndex& plans,
                                   absl::string_view plan_id,
                                   absl::string_view area_id) {
  PLANTRAIL_RETURN_IF_ERROR(domain::CheckId("area_id", area_id));
  AreaAddress address;
  if (!plan_id.empty()) {
    PLANTRAIL_RETURN_IF_ERROR(plans.RequireVisible(std::string(plan_id)));
  }
  if (plan_id.empty()) {
    if (plans.plans.size() > 1) {
      std::vector<std::string> ids;
      for (const auto& [id, plan] : plans.plans) ids.push_back(id);
      return domain::Refuse(
          absl::StatusCode::kInvalidArgument, "plan-required",
          absl::StrCat("plan_id: required: the server holds several plans (",
                       absl::StrJoin(ids, ", "), ")"));
    }
    if (plans.plans.empty()) {
      PLANTRAIL_RETURN_IF_ERROR(plans.RequireVisible(""));
      address.qualified_id = std::string(area_id);
      return address;
    }
    plan_id = plans.plans.begin()->first;
    PLANTRAIL_RETURN_IF_ERROR(plans.RequireVisible(std::string(plan_id)));
  }
  PLANTRAIL_RETURN_IF_ERROR(domain::CheckPlanId("plan_id", plan_id));
  const auto plan = plans.plans.find(std::string(plan_id));
  if (plan == plans.plans.end()) {
    return absl::NotFoundError(
        absl::StrCat("plan_id: plan \"", plan_id, "\" is not registered"));
  }
  address.plan_id = std::string(plan_id);
  address.qualified_id = domain::QualifiedId(
      plan->second.holds_unplanned() ? "" : plan_id, area_id);
  return address;
}

// The areas of `all` changed since `snapshot`, in their order, as they
// were there (version 0: registered since).
absl::StatusOr<std::vector<stored::AreaState>> AreasAt(
    const eventstore::EventStore& log, const PlanIndex& plans,
    const std::vector<stored::AreaState>& all, uint64_t snapshot) {
  std::vector<stored::AreaState> folded;
  for (const stored::AreaState& area : all) {
    if (area.position() <= snapshot) continue;
    if (folded.size() == kMaxAreasFoldedBack) {
      return absl::FailedPreconditionError(absl::StrCat(
          "page_token: more than ", kMaxAreasFoldedBack,
          " areas changed since the listing's first page (position ", snapshot,
          "); start again without a token"));
    }
    PLANTRAIL_ASSIGN_OR_RETURN(
        stored::AreaState then,
        projections::FoldArea(
            log, plans.QualifiedIdOf(area.plan_id(), area.area_id()),
            [snapshot](const projections::PlanEventRecord& record) {
              return record.context.position <= snapshot;
            }));
    folded.push_back(std::move(then));
  }
  return folded;
}

}  // namespace

PlanQueries::PlanQueries(const eventstore::EventStore* log,
                         projections::ProjectionRunner* areas,
                         projections::ProjectionRunner* history,
                         projections::ProjectionRunner* changes,
                         std::function<absl::Time()> now)
    : log_(log),
      areas_(areas),
      history_(history),
      changes_(changes),
      now_(std::move(now)) {}

absl::StatusOr<v1::GetAreaResponse> PlanQueries::GetArea(
    const v1::GetAreaRequest& request,
    const std::vector<std::string>& visible) const {
  PLANTRAIL_RETURN_IF_ERROR(domain::CheckId("area_id", request.area_id()));
  v1::GetAreaResponse response;
  std::shared_ptr<const projections::StateReader> reader = areas_->Live();
  PLANTRAIL_ASSIGN_OR_RETURN(PlanIndex plans, LoadPlans(*reader, visible));
  PLANTRAIL_ASSIGN_OR_RETURN(
      AreaAddress address, Locate(plans, request.plan_id(), request.area_id()));
  if (request.as_of_case() == v1::GetAreaRequest::AS_OF_NOT_SET) {
    PLANTRAIL_ASSIGN_OR_RETURN(
        std::optional<std::string> bytes,
        reader->Get(projections::AreaKey(address.qualified_id)));
    if (!bytes) {
      return absl::NotFoundError(absl::StrCat(
          "area_id: area \"", request.area_id(), "\" is not registered",
          address.plan_id.empty() ? "" : " in plan \"", address.plan_id,
          address.plan_id.empty() ? "" : "\""));
    }
    if (!response.mutable_area()->ParseFromString(*bytes)) {
      return absl::DataLossError("stored area state does not parse");
    }
    Present(plans, *response.mutable_area());
    response.set_position(reader->checkpoint());
    return response;
  }

  // Time travel: fold the area's own stream up to the point asked for.
  projections::EventFilter include;
  std::string point;
  switch (request.as_of_case()) {
    case v1::GetAreaRequest::kAtPosition:
      include = [p = request.at_position()](const auto& record) {
        return record.context.position <= p;
      };
      point = absl::StrCat("position ", request.at_position());
      break;
    case v1::GetAreaRequest::kRecordedAt: {
      const absl::Time t = domain::FromTimestamp(request.recorded_at());
      include = [t](const auto& record) {
        return record.context.recorded_at <= t;
      };
      point = absl::FormatTime(t, absl::UTCTimeZone());
      break;
    }
    case v1::GetAreaRequest::kBusinessDate: {
      PLANTRAIL_ASSIGN_OR_RETURN(
          std::optional<PlanDate> date,
          ParseFilterDate("business_date", request.business_date()));
      if (!date || !date->last_day()) {
        return absl::InvalidArgumentError(
            "business_date: give a date such as \"2018-01-10\"");
      }
      const absl::CivilDay cutoff = *date->last_day();
      include = [cutoff](const auto& record) {
        return projections::BusinessDay(record) <= cutoff;
      };
      point = absl::StrCat("business date ", request.business_date());
      break;
    }
    default:
      break;
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      stored::AreaState area,
      projections::FoldArea(*log_, address.qualified_id, include));
  if (area.version() == 0 || area.area_id().empty()) {
    return absl::NotFoundError(
        absl::StrCat("area_id: area \"", request.area_id(),
                     "\" was not registered at ", point));
  }
  Present(plans, area);
  response.set_position(area.position());
  *response.mutable_area() = domain::Twin<v1::AreaState>(area);
  return response;
}

absl::StatusOr<std::shared_ptr<const std::vector<stored::AreaState>>>
PlanQueries::AllAreas(const projections::StateReader& reader) const {
  {
    MutexLock lock(&mu_);
    if (parsed_.areas != nullptr && parsed_.generation == reader.generation() &&
        parsed_.checkpoint == reader.checkpoint()) {
      return parsed_.areas;
    }
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::vector<stored::AreaState> areas,
      ScanAll<stored::AreaState>(reader, projections::kAreaKeyPrefix));
  auto shared =
      std::make_shared<const std::vector<stored::AreaState>>(std::move(areas));
  MutexLock lock(&mu_);
  // Keep the newest state seen (readers may come in out of order).
  if (parsed_.areas == nullptr ||
      std::pair(reader.generation(), reader.checkpoint()) >
          std::pair(parsed_.generation, parsed_.checkpoint)) {
    parsed_ = {.generation = reader.generation(),
               .checkpoint = reader.checkpoint(),
               .areas = shared};
  }
  return shared;
}

absl::StatusOr<v1::ListAreasResponse> PlanQueries::ListAreas(
    const v1::ListAreasRequest& request,
    const std::vector<std::string>& visible) const {
  const uint32_t page_size = PageSizeOf(request.page_size());
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::optional<PageCursor> cursor,
      DecodePageToken(kAreasListing, request, request.page_token()));
  for (int phase : request.phases()) {
    if (!v1::Phase_IsValid(phase) || phase == v1::PHASE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("phases: ", phase, " is not a phase"));
    }
  }
  for (int health : request.healths()) {
    if (!v1::Health_IsValid(health) || health == v1::HEALTH_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("healths: ", health, " is not a health"));
    }
  }
  if (!v1::AreaSort_IsValid(request.sort())) {
    return absl::InvalidArgumentError("sort: not an AreaSort");
  }
  std::shared_ptr<const projections::StateReader> reader = areas_->Live();
  PLANTRAIL_ASSIGN_OR_RETURN(PlanIndex plans, LoadPlans(*reader, visible));
  PLANTRAIL_RETURN_IF_ERROR(CheckPlanFilter(plans, request.plan_id()));
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::shared_ptr<const std::vector<stored::AreaState>> all,
      AllAreas(*reader));
  // The areas as they were at the first page: every page of a listing
  // filters and sorts the same view, whatever was written in between.
  const uint64_t snapshot = cursor ? cursor->snapshot : reader->checkpoint();
  PLANTRAIL_ASSIGN_OR_RETURN(std::vector<stored::AreaState> folded_back,
                             AreasAt(*log_, plans, *all, snapshot));

  // Filters relative to now keep the first page's clock (and only they
  // put it in the token, so that equal listings get equal tokens).
  const bool relative_to_now = request.overdue() || request.stale_days() > 0;
  const absl::Time now = cursor && relative_to_now
                             ? absl::FromUnixMicros(cursor->now_micros)
                             : now_();
  const absl::CivilDay today = domain::UtcDay(now);
  const std::string title_text = domain::FoldCase(request.title_contains());
  auto keep = [&](const stored::AreaState& area) {
    const std::string& plan_id = plans.EffectivePlan(area.plan_id());
    if (!plans.Sees(plan_id)) return false;
    if (!request.plan_id().empty() && plan_id != request.plan_id()) {
      return false;
    }
    if (!request.support_area().empty() &&
        area.support_area() != request.support_area()) {
      return false;
    }
    if (!request.phases().empty() &&
        std::find(request.phases().begin(), request.phases().end(),
                  area.phase()) == request.phases().end()) {
      return false;
    }
    if (!request.healths().empty() &&
        std::find(request.healths().begin(), request.healths().end(),
                  area.health()) == request.healths().end()) {
      return false;
    }
    if (request.open_only() && area.closed()) return false;
    if (request.overdue() && !domain::IsOverdue(area, today)) return false;
    if (request.slipped() && !domain::HasSlipped(area)) return false;
    if (request.stale_days() > 0 &&
        (area.closed() ||
         LastActivity(area) > now - absl::Hours(24) * request.stale_days())) {
      return false;
    }
    if (!title_text.empty() &&
        !absl::StrContains(domain::FoldCase(area.title()), title_text)) {
      return false;
    }
    return true;
  };
  // Pointers into the shared parse (or the few areas folded back): only
  // the page is copied.
  std::vector<const stored::AreaState*> areas;
  size_t next_folded = 0;
  for (const stored::AreaState& area : *all) {
    const stored::AreaState* then = &area;
    if (area.position() > snapshot) {
      // Changed since the first page: as it was then, if it existed.
      then = &folded_back[next_folded++];
      if (then->version() == 0) continue;
    }
    if (keep(*then)) areas.push_back(then);
  }
  switch (request.sort()) {
    case v1::AREA_SORT_PLANNED_END: {
      // Latest first as domain::CompareByEnd orders ends: "ongoing" (no
      // end) before every dated end, "as soon as possible" after them, and
      // areas without a planned end last. Each end parsed once.
      std::vector<std::pair<std::optional<PlanDate>, const stored::AreaState*>>
          ends;
      ends.reserve(areas.size());
      for (const stored::AreaState* area : areas) {
        std::optional<PlanDate> end;
        if (area->has_planned_end()) {
          if (absl::StatusOr<PlanDate> date =
                  domain::FromProto(area->planned_end());
              date.ok()) {
            end = *std::move(date);
          }
        }
        ends.emplace_back(std::move(end), area);
      }
      std::stable_sort(
          ends.begin(), ends.end(), [](const auto& a, const auto& b) {
            if (a.first.has_value() != b.first.has_value()) {
              return a.first.has_value();
            }
            return a.first && domain::CompareByEnd(*a.first, *b.first) > 0;
          });
      for (size_t i = 0; i < ends.size(); ++i) areas[i] = ends[i].second;
      break;
    }
    case v1::AREA_SORT_UPDATED:
      std::stable_sort(
          areas.begin(), areas.end(),
          [](const stored::AreaState* a, const stored::AreaState* b) {
            return a->position() > b->position();
          });
      break;
    default:
      break;  // the projection's key order: by area id
  }
  v1::ListAreasResponse response;
  response.set_total(static_cast<uint32_t>(areas.size()));
  response.set_position(reader->checkpoint());
  const uint64_t offset = cursor ? cursor->offset : 0;
  for (uint64_t i = offset; i < areas.size() && i < offset + page_size; ++i) {
    v1::AreaState& area = *response.add_areas();
    area = domain::Twin<v1::AreaState>(*areas[i]);
    Present(plans, area);
  }
  if (offset + page_size < areas.size()) {
    response.set_next_page_token(EncodePageToken(
        kAreasListing, request,
        {.snapshot = snapshot,
         .now_micros = relative_to_now ? absl::ToUnixMicros(now) : 0,
         .offset = offset + page_size}));
  }
  return response;
}

absl::StatusOr<v1::GetHistoryResponse> PlanQueries::GetHistory(
    const v1::GetHistoryRequest& request,
    const std::vector<std::string>& visible) const {
  PLANTRAIL_RETURN_IF_ERROR(domain::CheckId("area_id", request.area_id()));
  const uint32_t page_size = PageSizeOf(request.page_size());
  PLANTRAIL_ASSIGN_OR_RETURN(PlanIndex plans,
                             LoadPlans(*areas_->Live(), visible));
  PLANTRAIL_ASSIGN_OR_RETURN(
      AreaAddress address, Locate(plans, request.plan_id(), request.area_id()));
  const std::string& key = address.qualified_id;
  // A history token names its area, so that it continues only that history
  // (the area and the order are its filters), and goes on from the
  // position of the next entry: a history only grows at its end.
  const std::string listing = absl::StrCat("history:", key);
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::optional<PageCursor> cursor,
      DecodePageToken(listing, request, request.page_token()));
  const uint64_t from = cursor ? cursor->offset : 0;
  std::shared_ptr<const projections::StateReader> reader = history_->Live();
  const std::string prefix = projections::HistoryPrefix(key);
  const std::string start =
      from == 0 ? std::string() : projections::HistoryKey(key, from);
  PLANTRAIL_ASSIGN_OR_RETURN(
      auto entries,
      reader->Scan(prefix, start, page_size + 1, !request.oldest_first()));
  if (entries.empty() && from == 0) {
    // No history: an unknown area, unless it is too new for the projection.
    PLANTRAIL_ASSIGN_OR_RETURN(std::optional<std::string> area,
                               areas_->Live()->Get(projections::AreaKey(key)));
    if (!area) {
      return absl::NotFoundError(absl::StrCat(
          "area_id: area \"", request.area_id(), "\" is not registered"));
    }
  }
  v1::GetHistoryResponse response;
  response.set_position(reader->checkpoint());
  for (size_t i = 0; i < entries.size() && i < page_size; ++i) {
    if (!response.add_entries()->ParseFromString(entries[i].second)) {
      return absl::DataLossError("a stored history entry does not parse");
    }
  }
  if (entries.size() > page_size) {
    stored::HistoryEntry next;
    if (!next.ParseFromString(entries[page_size].second)) {
      return absl::DataLossError("a stored history entry does not parse");
    }
    response.set_next_page_token(
        EncodePageToken(listing, request, {.offset = next.position()}));
  }
  return response;
}

absl::StatusOr<v1::ListDecisionsResponse> PlanQueries::ListDecisions(
    const v1::ListDecisionsRequest& request,
    const std::vector<std::string>& visible) const {
  const uint32_t page_size = PageSizeOf(request.page_size());
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::optional<PageCursor> cursor,
      DecodePageToken(kDecisionsListing, request, request.page_token()));
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::optional<PlanDate> from,
      ParseFilterDate("decided_from", request.decided_from()));
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::optional<PlanDate> to,
      ParseFilterDate("decided_to", request.decided_to()));
  std::shared_ptr<const projections::StateReader> reader = areas_->Live();
  PLANTRAIL_ASSIGN_OR_RETURN(PlanIndex plans, LoadPlans(*reader, visible));
  PLANTRAIL_RETURN_IF_ERROR(CheckPlanFilter(plans, request.plan_id()));
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::vector<stored::DecisionState> decisions,
      ScanAll<stored::DecisionState>(*reader, projections::kDecisionKeyPrefix));
  for (stored::DecisionState& decision : decisions) {
    decision.set_plan_id(plans.EffectivePlan(decision.plan_id()));
  }
  const std::string body = domain::FoldCase(request.body());
  // The decisions recorded by the first page (a decision never changes but
  // by redaction, which leaves it where it is).
  const uint64_t snapshot = cursor ? cursor->snapshot : reader->checkpoint();
  auto keep = [&](const stored::DecisionState& decision) {
    if (decision.position() > snapshot) return false;
    if (!plans.Sees(decision.plan_id())) return false;
    const bool of_plan =
        request.plan_id().empty() || decision.plan_id() == request.plan_id();
    if (request.area_id().empty()) {
      if (!of_plan) return false;
    } else {
      // The decisions that concern the area: its plan's naming it, and other
      // plans' naming it as an area of that plan.
      const bool own = of_plan && absl::c_linear_search(decision.area_ids(),
                                                        request.area_id());
      const bool other = absl::c_any_of(
          decision.other_plan_areas(), [&](const stored::AreaRef& named) {
            return named.area_id() == request.area_id() &&
                   (request.plan_id().empty() ||
                    named.plan_id() == request.plan_id());
          });
      if (!own && !other) return false;
    }
    if (!body.empty() && domain::FoldCase(decision.body()) != body) {
      return false;
    }
    const auto first = domain::FirstDayOf(decision.decided_on());
    const auto last = domain::LastDayOf(decision.decided_on());
    if (from && from->first_day() && (!last || *last < *from->first_day())) {
      return false;
    }
    if (to && to->last_day() && (!first || *first > *to->last_day())) {
      return false;
    }
    return true;
  };
  decisions.erase(std::remove_if(decisions.begin(), decisions.end(),
                                 [&](const auto& d) { return !keep(d); }),
                  decisions.end());
  std::stable_sort(
      decisions.begin(), decisions.end(),
      [](const stored::DecisionState& a, const stored::DecisionState& b) {
        return domain::FirstDayOf(a.decided_on()) <
               domain::FirstDayOf(b.decided_on());
      });
  v1::ListDecisionsResponse response;
  response.set_position(reader->checkpoint());
  const uint64_t offset = cursor ? cursor->offset : 0;
  for (uint64_t i = offset; i < decisions.size() && i < offset + page_size;
       ++i) {
    *response.add_decisions() = domain::Twin<v1::DecisionState>(decisions[i]);
  }
  if (offset + page_size < decisions.size()) {
    response.set_next_page_token(
        EncodePageToken(kDecisionsListing, request,
                        {.snapshot = snapshot, .offset = offset + page_size}));
  }
  return response;
}

absl::StatusOr<v1::GetPortfolioResponse> PlanQueries::GetPortfolio(
    const v1::GetPortfolioRequest& request,
    const std::vector<std::string>& visible) const {
  const uint32_t stale_days =
      request.stale_days() == 0 ? 30 : request.stale_days();
  const uint32_t due_within =
      request.due_within_days() == 0 ? 14 : request.due_within_days();
  std::shared_ptr<const projections::StateReader> reader = areas_->Live();
  PLANTRAIL_ASSIGN_OR_RETURN(PlanIndex plans, LoadPlans(*reader, visible));
  PLANTRAIL_RETURN_IF_ERROR(CheckPlanFilter(plans, request.plan_id()));
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::shared_ptr<const std::vector<stored::AreaState>> all,
      AllAreas(*reader));
  const std::vector<stored::AreaState>& areas = *all;
  const absl::Time now = now_();
  const absl::CivilDay today = domain::UtcDay(now);
  v1::GetPortfolioResponse response;
  std::map<std::string, v1::PortfolioSlice> slices;
  for (const stored::AreaState& area : areas) {
    const std::string& plan_id = plans.EffectivePlan(area.plan_id());
    if (!plans.Sees(plan_id)) continue;
    if (!request.plan_id().empty() && plan_id != request.plan_id()) continue;
    if (!request.support_area().empty() &&
        area.support_area() != request.support_area()) {
      continue;
    }
    Count(area, now, today, stale_days, due_within,
          *response.mutable_overall());
    v1::PortfolioSlice& slice = slices[area.support_area()];
    slice.set_support_area(area.support_area());
    Count(area, now, today, stale_days, due_within, slice);
  }
  for (auto& [name, slice] : slices) {
    *response.add_support_areas() = std::move(slice);
  }
  response.set_position(reader->checkpoint());
  return response;
}

absl::StatusOr<v1::ListPlansResponse> PlanQueries::ListPlans(
    const v1::ListPlansRequest& request,
    const std::vector<std::string>& visible) const {
  const uint32_t page_size = PageSizeOf(request.page_size());
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::optional<PageCursor> cursor,
      DecodePageToken(kPlansListing, request, request.page_token()));
  std::shared_ptr<const projections::StateReader> reader = areas_->Live();
  PLANTRAIL_ASSIGN_OR_RETURN(PlanIndex index, LoadPlans(*reader, visible));
  // In plan id order, after the last id given: a plan id never changes.
  v1::ListPlansResponse response;
  response.set_position(reader->checkpoint());
  for (auto& [id, plan] : index.plans) {
    if (cursor && id <= cursor->after) continue;
    if (!index.Sees(id)) continue;
    if (request.open_only() && plan.closed()) continue;
    if (static_cast<uint32_t>(response.plans_size()) == page_size) {
      response.set_next_page_token(
          EncodePageToken(kPlansListing, request,
                          {.after = response.plans().rbegin()->plan_id()}));
      break;
    }
    *response.add_plans() = domain::Twin<v1::PlanState>(plan);
  }
  return response;
}

absl::StatusOr<v1::GetPlanResponse> PlanQueries::GetPlan(
    const v1::GetPlanRequest& request,
    const std::vector<std::string>& visible) const {
  PLANTRAIL_RETURN_IF_ERROR(domain::CheckPlanId("plan_id", request.plan_id()));
  std::shared_ptr<const projections::StateReader> reader = areas_->Live();
  PLANTRAIL_ASSIGN_OR_RETURN(PlanIndex plans, LoadPlans(*reader, visible));
  PLANTRAIL_RETURN_IF_ERROR(plans.RequireVisible(request.plan_id()));
  auto plan = plans.plans.find(request.plan_id());
  if (plan == plans.plans.end()) {
    return absl::NotFoundError(absl::StrCat(
        "plan_id: plan \"", request.plan_id(), "\" is not registered"));
  }
  v1::GetPlanResponse response;
  *response.mutable_plan() = domain::Twin<v1::PlanState>(plan->second);
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::shared_ptr<const std::vector<stored::AreaState>> all,
      AllAreas(*reader));
  const absl::Time now = now_();
  const absl::CivilDay today = domain::UtcDay(now);
  const uint32_t stale_days =
      request.stale_days() == 0 ? 30 : request.stale_days();
  const uint32_t due_within =
      request.due_within_days() == 0 ? 14 : request.due_within_days();
  for (const stored::AreaState& area : *all) {
    if (plans.EffectivePlan(area.plan_id()) != request.plan_id()) continue;
    Count(area, now, today, stale_days, due_within,
          *response.mutable_portfolio());
  }
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::vector<stored::DecisionState> decisions,
      ScanAll<stored::DecisionState>(*reader, projections::kDecisionKeyPrefix));
  uint32_t count = 0;
  for (const stored::DecisionState& decision : decisions) {
    if (plans.EffectivePlan(decision.plan_id()) == request.plan_id()) ++count;
  }
  response.set_decisions(count);
  response.set_position(reader->checkpoint());
  return response;
}

absl::StatusOr<v1::GetDependenciesResponse> PlanQueries::GetDependencies(
    const v1::GetDependenciesRequest& request,
    std::function<absl::Status()> keep_going,
    const std::vector<std::string>& visible) const {
  PLANTRAIL_RETURN_IF_ERROR(domain::CheckId("area_id", request.area_id()));
  PLANTRAIL_ASSIGN_OR_RETURN(std::optional<PlanDate> if_end,
                             ParseFilterDate("if_end", request.if_end()));
  if (if_end && !if_end->last_day()) {
    return absl::InvalidArgumentError(
        "if_end: give a dated end (\"VT24\", \"2024-06-30\"), not an open "
        "form");
  }
  std::shared_ptr<const projections::StateReader> reader = areas_->Live();
  PLANTRAIL_ASSIGN_OR_RETURN(PlanIndex plans, LoadPlans(*reader, visible));
  PLANTRAIL_ASSIGN_OR_RETURN(
      AreaAddress address, Locate(plans, request.plan_id(), request.area_id()));
  PLANTRAIL_ASSIGN_OR_RETURN(
      std::shared_ptr<const std::vector<stored::AreaState>> parsed,
      AllAreas(*reader));
  const std::vector<stored::AreaState>& areas = *parsed;
  // Areas are nodes by plan and id: dependencies may cross plans.
  const auto node_key = [](absl::string_view plan_id,
                           absl::string_view area_id) {
    return absl::StrCat(plan_id, "/", area_id);
  };
  std::vector<std::string> plan_of(areas.size());
  absl::flat_hash_map<std::string, uint32_t> node_of;
  node_of.reserve(areas.size());
  for (uint32_t i = 0; i < areas.size(); ++i) {
    plan_of[i] = plans.EffectivePlan(areas[i].plan_id());
    // What the caller may not see is not in its graph.
    if (!plans.Sees(plan_of[i])) continue;
    node_of.emplace(node_key(plan_of[i], areas[i].area_id()), i);
  }
  const auto found = node_of.find(node_key(address.plan_id, request.area_id()));
  if (found == node_of.end()) {
    return absl::NotFoundError(absl::StrCat(
        "area_id: area \"", request.area_id(), "\" is not registered"));
  }
  const uint32_t start = found->second;
  // How the answer names an area: its id in the plan asked about, its
  // resource name in another.
  const auto display = [&](uint32_t node) {
    return plan_of[node] == address.plan_id
               ? areas[node].area_id()
               : AreaName(plan_of[node], areas[node].area_id());
  };
  // An edge per dependency on a registered area, tagged with the
  // dependency's index in its area's list.
  domain::Digraph graph(areas.size());
  for (uint32_t i = 0; i < areas.size(); ++i) {
    for (int d = 0; d < areas[i].dependencies_size(); ++d) {
      const stored::Dependency& dependency = areas[i].dependencies(d);
      if (!dependency.has_area_id()) continue;
      const std::string& target_plan =
          dependency.plan_id().empty() ? plan_of[i] : dependency.plan_id();
      if (auto to = node_of.find(node_key(target_plan, dependency.area_id()));
          to != node_of.end()) {
        graph.AddEdge(i, to->second, static_cast<uint32_t>(d));
      }
    }
  }
  const domain::Digraph dependents = graph.Reversed();
  // One allowance for the whole query, whatever the graph looks like.
  domain::WorkBudget budget(kDependencyWorkSteps, std::move(keep_going));
  bool truncated = false;

  v1::GetDependenciesResponse response;
  response.set_position(reader->checkpoint());

  // Upstream, breadth first: each area's dependencies, once per area.
  for (const domain::Reached& reached :
       domain::BreadthFirst(graph, start, budget)) {
    const stored::AreaState& area = areas[reached.node];
    for (const stored::Dependency& dependency : area.dependencies()) {
      if (response.upstream_size() >= kMaxDependencyLinks) {
        truncated = true;
        break;
      }
      v1::DependencyLink& link = *response.add_upstream();
      link.set_area_id(area.area_id());
      link.set_plan_id(plan_of[reached.node]);
      *link.mutable_dependency() = domain::Twin<v1::Dependency>(dependency);
      link.set_depth(reached.depth + 1);
    }
  }

  // Downstream: who depends on the area, and on those, and so on.
  for (const domain::Reached& reached :
       domain::BreadthFirst(dependents, start, budget)) {
    for (const domain::Digraph::Edge& edge : dependents.EdgesOf(reached.node)) {
      if (response.downstream_size() >= kMaxDependencyLinks) {
        truncated = true;
        break;
      }
      const stored::AreaState& dependent = areas[edge.to];
      v1::DependencyLink& link = *response.add_downstream();
      link.set_area_id(dependent.area_id());
      link.set_plan_id(plan_of[edge.to]);
      *link.mutable_dependency() =
          domain::Twin<v1::Dependency>(dependent.dependencies(edge.tag));
      link.set_depth(reached.depth + 1);
    }
  }

  // With if_end: the areas that require it, directly or through a chain of
  // requirements ("relates" does not carry a delay), and would start before
  // the proposed end.
  if (if_end) {
    const absl::CivilDay proposed_end = *if_end->last_day();
    auto requires_it = [&](uint32_t, const domain::Digraph::Edge& edge) {
      return areas[edge.to].dependencies(edge.tag).kind() !=
             stored::DEPENDENCY_KIND_RELATES;
    };
    for (const domain::Reached& reached :
         domain::BreadthFirst(dependents, start, budget, requires_it)) {
      if (reached.depth == 0) continue;
      const stored::AreaState& area = areas[reached.node];
      if (!area.has_planned_start()) continue;
      const auto start_day = domain::FirstDayOf(area.planned_start());
      if (!start_day || *start_day > proposed_end) continue;
      v1::DelayedArea& delayed = *response.add_delayed();
      delayed.set_area_id(area.area_id());
      delayed.set_plan_id(plan_of[reached.node]);
      *delayed.mutable_planned_start() =
          domain::Twin<v1::PlanDate>(area.planned_start());
      delayed.set_days_overrun(proposed_end - *start_day + 1);
      delayed.set_depth(reached.depth);
    }
  }

  // Cycles through the area: its strongly connected component, and along
  // each of its dependencies that leads back, the shortest way round.
  const domain::Components components =
      domain::StronglyConnectedComponents(graph, budget, {start});
  const std::optional<uint32_t> component = components.component[start];
  if (component && components.members[*component].size() > 1) {
    std::vector<std::string> ids;
    for (uint32_t member : components.members[*component]) {
      ids.push_back(display(member));
    }
    std::sort(ids.begin(), ids.end());
    for (std::string& id : ids) response.add_cycle_area_ids(std::move(id));
    auto inside = [&](uint32_t node) {
      return components.component[node] == component;
    };
    for (const domain::Digraph::Edge& edge : graph.EdgesOf(start)) {
      if (!inside(edge.to)) continue;
      if (response.cycles_size() >= kMaxDependencyCycles) {
        truncated = true;
        break;
      }
      const std::vector<uint32_t> cycle =
          domain::ShortestCycle(graph, start, edge, inside, budget);
      if (cycle.empty()) continue;  // the budget ran out
      v1::DependencyCycle& listed = *response.add_cycles();
      for (uint32_t node : cycle) listed.add_area_ids(display(node));
    }
  }
  // Told to stop (the call was cancelled or is past its deadline): no answer.
  PLANTRAIL_RETURN_IF_ERROR(budget.status());
  response.set_truncated(truncated || budget.exhausted());
  return response;
}

}  // namespace plantrail::services
