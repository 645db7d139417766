// How the metrics library reacts to a caller breaking a documented rule (a
// malformed metric name, a sample outside a family, unsorted bounds).
//
// Debug builds abort with the message, so that tests and development catch
// the mistake where it is made. Release builds return, and the caller leaves
// the offending metric out: a typo in a metric must not take down the server
// the metrics are about. Internal to metrics/.
#ifndef PLANTRAIL_METRICS_PROGRAMMING_ERROR_H_
#define PLANTRAIL_METRICS_PROGRAMMING_ERROR_H_

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace plantrail::metrics::internal {

inline void ProgrammingError(std::string_view message) {
#ifndef NDEBUG
  std::fprintf(stderr, "plantrail::metrics: programming error: %.*s\n",
               static_cast<int>(message.size()), message.data());
  std::abort();
#else
  static_cast<void>(message);
#endif
}

}  // namespace plantrail::metrics::internal

#endif  // PLANTRAIL_METRICS_PROGRAMMING_ERROR_H_
