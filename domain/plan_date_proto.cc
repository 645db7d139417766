#include "domain/plan_date_proto.h"

#include "absl/status/status.h"

namespace plantrail::domain {

v1::PlanDate ToProto(const PlanDate& date) {
  v1::PlanDate out;
  switch (date.precision()) {
    case PlanDate::Precision::kDay:
      out.set_precision(v1::PLAN_DATE_PRECISION_DAY);
      out.set_day(date.day());
      out.set_month(date.month());
      break;
    case PlanDate::Precision::kMonth:
      out.set_precision(v1::PLAN_DATE_PRECISION_MONTH);
      out.set_month(date.month());
      break;
    case PlanDate::Precision::kQuarter:
      out.set_precision(v1::PLAN_DATE_PRECISION_QUARTER);
      out.set_quarter(date.quarter());
      break;
    case PlanDate::Precision::kTerm:
      out.set_precision(v1::PLAN_DATE_PRECISION_TERM);
      out.set_term(date.term() == PlanDate::Term::kSpring ? v1::TERM_SPRING
                                                          : v1::TERM_AUTUMN);
      break;
    case PlanDate::Precision::kYear:
      out.set_precision(v1::PLAN_DATE_PRECISION_YEAR);
      break;
    case PlanDate::Precision::kAsSoonAsPossible:
      out.set_precision(v1::PLAN_DATE_PRECISION_AS_SOON_AS_POSSIBLE);
      break;
    case PlanDate::Precision::kOngoing:
      out.set_precision(v1::PLAN_DATE_PRECISION_ONGOING);
      break;
  }
  const bool dated =
      date.precision() != PlanDate::Precision::kAsSoonAsPossible &&
      date.precision() != PlanDate::Precision::kOngoing;
  if (dated) out.set_year(date.year());
  out.set_text(date.text());
  return out;
}

namespace {

absl::StatusOr<PlanDate> FromFields(const v1::PlanDate& date) {
  switch (date.precision()) {
    case v1::PLAN_DATE_PRECISION_DAY:
      return PlanDate::Day(date.year(), date.month(), date.day());
    case v1::PLAN_DATE_PRECISION_MONTH:
      return PlanDate::Month(date.year(), date.month());
    case v1::PLAN_DATE_PRECISION_QUARTER:
      return PlanDate::Quarter(date.year(), date.quarter());
    case v1::PLAN_DATE_PRECISION_TERM:
      if (date.term() == v1::TERM_UNSPECIFIED) break;
      return PlanDate::OfTerm(date.year(), date.term() == v1::TERM_SPRING
                                               ? PlanDate::Term::kSpring
                                               : PlanDate::Term::kAutumn);
    case v1::PLAN_DATE_PRECISION_YEAR:
      return PlanDate::Year(date.year());
    case v1::PLAN_DATE_PRECISION_AS_SOON_AS_POSSIBLE:
      return PlanDate::AsSoonAsPossible();
    case v1::PLAN_DATE_PRECISION_ONGOING:
      return PlanDate::Ongoing();
    default:
      break;
  }
  return absl::InvalidArgumentError("a plan date without a valid precision");
}

}  // namespace

absl::StatusOr<PlanDate> FromProto(const v1::PlanDate& date) {
  absl::StatusOr<PlanDate> built = FromFields(date);
  if (!built.ok() || date.text().empty()) return built;
  // Keep the words it was written in, as long as they still say the same.
  absl::StatusOr<PlanDate> written = PlanDate::Parse(date.text());
  if (written.ok() && *written == *built) return written;
  return built;
}

}  // namespace plantrail::domain
