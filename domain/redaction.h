// What a redaction leaves of a plan event. Personal data in a plan lives in
// its free text (rationales, narratives, reasons, notes, outcomes); its
// structure (ids, titles, dates, phases, health, units, dependencies, the
// deciding body) is the organisation's record and keeps the plan foldable.
// Which string field is which is marked in the stored schema itself, with
// the field option `(plantrail.stored.text_class)`
// (proto/plantrail/stored/field_options.proto), not guessed from names. So the
// tombstone of a plan event is the same event with every free text emptied:
// evolve still folds it to the same dates and phases.
#ifndef PLANTRAIL_DOMAIN_REDACTION_H_
#define PLANTRAIL_DOMAIN_REDACTION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "plantrail/stored/plan_events.pb.h"

namespace plantrail::domain {

// The system stream of redaction events (PayloadRedacted, admin.proto),
// which the history folds into the entries they redact.
inline constexpr char kRedactionStream[] = "plantrail-redactions";

// Whether `field` is a string field marked TEXT_FREE, which a redaction
// empties (every element, when repeated).
bool IsFreeText(const google::protobuf::FieldDescriptor& field);

// Whether the AreaState field named `name` is free text: the fields an
// area's history shows the before and after of.
bool IsFreeTextAreaField(absl::string_view name);

// `event` with every free-text field, at any depth, set to "" (a proto3
// optional one stays present, so "changed to nothing" is not read as "not
// changed"; a repeated one keeps its length, each element "").
stored::PlanEvent WithoutFreeText(const stored::PlanEvent& event);

// The non-empty free texts of `event`, at any depth.
std::vector<std::string> FreeTexts(const stored::PlanEvent& event);

// `event` with every free-text field whose value is one of `texts` set to
// "" (present, as in WithoutFreeText). A later event repeats an earlier
// event's text as the "before" of a revision; redacting the earlier event
// takes it from there too.
stored::PlanEvent WithoutTexts(const stored::PlanEvent& event,
                               const std::vector<std::string>& texts);

// The tombstone of a stored plan event: its payload decoded, without free
// text, encoded again. kInvalidArgument for a type that is not a plan
// event; kDataLoss for a payload that does not parse.
absl::StatusOr<std::string> RedactedPlanPayload(absl::string_view type,
                                                absl::string_view payload);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_REDACTION_H_
