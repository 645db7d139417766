// Handing an error status to another thread.
//
// absl::Status shares one heap representation between its copies and counts
// the references with atomics inside libabsl_status. Debian's Abseil is not
// built for ThreadSanitizer, so TSan does not see those atomics: when two
// copies of one status die on two threads it reports the second delete as a
// race with the first thread's reads. The program is correct, but a TSan run
// that stops on a false report checks nothing after it.
//
// Unshared() returns a status equal to its argument (code, message and every
// payload) that shares no representation with it. Hand that one over and
// every copy left behind stays on this thread.
#ifndef PLANTRAIL_COMMON_STATUS_HANDOFF_H_
#define PLANTRAIL_COMMON_STATUS_HANDOFF_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace plantrail {

inline absl::Status Unshared(const absl::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status fresh(status.code(), status.message());
  status.ForEachPayload(
      [&fresh](absl::string_view type_url, const absl::Cord& payload) {
        fresh.SetPayload(type_url, absl::Cord(std::string(payload)));
      });
  return fresh;
}

}  // namespace plantrail

#endif  // PLANTRAIL_COMMON_STATUS_HANDOFF_H_
