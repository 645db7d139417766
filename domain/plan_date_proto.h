// PlanDate between the domain's value type and the stored schema's message.
#ifndef PLANTRAIL_DOMAIN_PLAN_DATE_PROTO_H_
#define PLANTRAIL_DOMAIN_PLAN_DATE_PROTO_H_

#include "absl/status/statusor.h"
#include "domain/plan_date.h"
#include "plantrail/stored/plan.pb.h"

namespace plantrail::domain {

stored::PlanDate ToProto(const PlanDate& date);
// Built from the structured fields, keeping `text` as its written form when
// it reads as the same period; kInvalidArgument when the fields do not
// describe a period.
absl::StatusOr<PlanDate> FromProto(const stored::PlanDate& date);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_PLAN_DATE_PROTO_H_
