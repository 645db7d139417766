// The system stream `plantrail-security`: who may do what (tokens) and where
// plan data leaves the server (webhook endpoints), as events, folded into
// memory by the registries that enforce them.
#ifndef PLANTRAIL_SERVICES_SECURITY_STREAM_H_
#define PLANTRAIL_SERVICES_SECURITY_STREAM_H_

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "eventstore/event_store.h"

namespace plantrail::services {

inline constexpr char kSecurityStream[] = "plantrail-security";

// Calls `fold` with every event of the security stream after version
// `after`, in order, and returns the last version read (`after` when there
// was nothing new; 0 for a stream without events).
absl::StatusOr<uint64_t> ReadSecurityStream(
    const eventstore::EventStore& log, uint64_t after,
    absl::FunctionRef<void(const eventstore::RecordedEvent&)> fold);

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_SECURITY_STREAM_H_
