#include "domain/timestamps.h"

#include <algorithm>

#include "google/protobuf/util/time_util.h"

namespace plantrail::domain {

using google::protobuf::util::TimeUtil;

void SetTimestamp(google::protobuf::Timestamp& out, absl::Time time) {
  static const absl::Time kFirst =
      absl::FromUnixSeconds(TimeUtil::kTimestampMinSeconds);
  static const absl::Time kLast =
      absl::FromUnixSeconds(TimeUtil::kTimestampMaxSeconds) + absl::Seconds(1) -
      absl::Microseconds(1);
  out = TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(std::clamp(time, kFirst, kLast)));
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  google::protobuf::Timestamp out;
  SetTimestamp(out, time);
  return out;
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) +
         absl::Nanoseconds(timestamp.nanos());
}

absl::CivilDay UtcDay(absl::Time time) {
  return absl::ToCivilDay(time, absl::UTCTimeZone());
}

}  // namespace plantrail::domain
