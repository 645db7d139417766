// Redactions of stored events (lawful disposal, personal data): which events
// may be redacted, what replaces their payload, and the event that records
// each redaction.
#ifndef PLANTRAIL_SERVICES_REDACTION_H_
#define PLANTRAIL_SERVICES_REDACTION_H_

#include "absl/status/statusor.h"
#include "domain/redaction.h"
#include "eventstore/event_store.h"
#include "plantrail/v1/admin.pb.h"
#include "services/principal.h"

namespace plantrail::services {

using domain::kRedactionStream;

// The redaction `request` asks of `store` on behalf of `caller`: the
// tombstone (a plan event without its free text; any other payload
// emptied) and the PayloadRedacted record, whose metadata names the
// redacted event (redacts_position, redacts_stream, redacts_event_id).
// Later events of a plan stream that repeat any of the event's free texts
// (a revision's "before") lose those texts in the same commit, each with a
// PayloadRedacted of its own (repeated_text_of set) in the record.
// Errors: kInvalidArgument (no reason, or too long), kNotFound (no such
// position), kFailedPrecondition (already redacted, nothing of its own text
// left, or a system stream: the security stream and the redactions
// themselves are never redacted). The store checks every payload again
// when it commits (kAborted if one changed meanwhile).
absl::StatusOr<eventstore::RedactRequest> PrepareRedaction(
    const eventstore::EventStore& store, const Principal& caller,
    const v1::RedactEventRequest& request);

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_REDACTION_H_
