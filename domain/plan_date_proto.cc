#include "domain/plan_date_proto.h"

#include "absl/status/status.h"

namespace plantrail::domain {

stored::PlanDate ToProto(const PlanDate& date) {
  stored::PlanDate out;
  switch (date.precision()) {
    case PlanDate::Precision::kDay:
      out.set_precision(stored::PLAN_DATE_PRECISION_DAY);
      out.set_day(date.day());
      out.set_month(date.month());
      break;
    case PlanDate::Precision::kMonth:
      out.set_precision(stored::PLAN_DATE_PRECISION_MONTH);
      out.set_month(date.month());
      break;
    case PlanDate::Precision::kQuarter:
      out.set_precision(stored::PLAN_DATE_PRECISION_QUARTER);
      out.set_quarter(date.quarter());
      break;
    case PlanDate::Precision::kTerm:
      out.set_precision(stored::PLAN_DATE_PRECISION_TERM);
      out.set_term(date.term() == PlanDate::Term::kSpring
                       ? stored::TERM_SPRING
                       : stored::TERM_AUTUMN);
      break;
    case PlanDate::Precision::kYear:
      out.set_precision(stored::PLAN_DATE_PRECISION_YEAR);
      break;
    case PlanDate::Precision::kAsSoonAsPossible:
      out.set_precision(stored::PLAN_DATE_PRECISION_AS_SOON_AS_POSSIBLE);
      break;
    case PlanDate::Precision::kOngoing:
      out.set_precision(stored::PLAN_DATE_PRECISION_ONGOING);
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

absl::StatusOr<PlanDate> FromFields(const stored::PlanDate& date) {
  switch (date.precision()) {
    case stored::PLAN_DATE_PRECISION_DAY:
      return PlanDate::Day(date.year(), date.month(), date.day());
    case stored::PLAN_DATE_PRECISION_MONTH:
      return PlanDate::Month(date.year(), date.month());
    case stored::PLAN_DATE_PRECISION_QUARTER:
      return PlanDate::Quarter(date.year(), date.quarter());
    case stored::PLAN_DATE_PRECISION_TERM:
      if (date.term() == stored::TERM_UNSPECIFIED) break;
      return PlanDate::OfTerm(date.year(), date.term() == stored::TERM_SPRING
                                               ? PlanDate::Term::kSpring
                                               : PlanDate::Term::kAutumn);
    case stored::PLAN_DATE_PRECISION_YEAR:
      return PlanDate::Year(date.year());
    case stored::PLAN_DATE_PRECISION_AS_SOON_AS_POSSIBLE:
      return PlanDate::AsSoonAsPossible();
    case stored::PLAN_DATE_PRECISION_ONGOING:
      return PlanDate::Ongoing();
    default:
      break;
  }
  return absl::InvalidArgumentError("a plan date without a valid precision");
}

}  // namespace

absl::StatusOr<PlanDate> FromProto(const stored::PlanDate& date) {
  absl::StatusOr<PlanDate> built = FromFields(date);
  if (!built.ok() || date.text().empty()) return built;
  // Keep the words it was written in, as long as they still say the same.
  absl::StatusOr<PlanDate> written = PlanDate::Parse(date.text());
  if (written.ok() && *written == *built) return written;
  return built;
}

}  // namespace plantrail::domain
