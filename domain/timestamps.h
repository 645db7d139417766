// google.protobuf.Timestamp and absl::Time, both ways, in one place.
//
// A Timestamp holds the years 1 to 9999, and protobuf's TimeUtil aborts the
// process on any other time. Only a damaged log or a hostile request holds
// one (the store stamps events with its clock), and a server must not die
// of either, so ToTimestamp clamps into the range (found by
// fuzz/stored_event_fuzzer.cc) and FromTimestamp never aborts.
//
// Pure functions; thread-safe.
#ifndef PLANTRAIL_DOMAIN_TIMESTAMPS_H_
#define PLANTRAIL_DOMAIN_TIMESTAMPS_H_

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace plantrail::domain {

// To the microsecond (the log's resolution), clamped to the years 1-9999.
google::protobuf::Timestamp ToTimestamp(absl::Time time);
void SetTimestamp(google::protobuf::Timestamp& out, absl::Time time);

// Seconds and nanoseconds as they are; an unset Timestamp is the epoch.
absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp);

// The calendar day of `time` in UTC, the zone every business day of the
// plans is counted in.
absl::CivilDay UtcDay(absl::Time time);

}  // namespace plantrail::domain

#endif  // PLANTRAIL_DOMAIN_TIMESTAMPS_H_
