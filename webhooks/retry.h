// When to try a webhook delivery again: exponential backoff with jitter,
// and the receiver's own Retry-After.
//
// Jitter spreads the retries of many deliveries that failed together (a
// receiver that was down) so they do not all come back at once. The caller
// draws the random part and passes it in, so these stay pure functions,
// deterministic in tests; thread-safe.
#ifndef PLANTRAIL_WEBHOOKS_RETRY_H_
#define PLANTRAIL_WEBHOOKS_RETRY_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace plantrail::webhooks {

struct RetryPolicy {
  absl::Duration first = absl::Seconds(1);     // the wait after one failure
  absl::Duration longest = absl::Minutes(10);  // the cap on any wait
  double factor = 2.0;                         // the growth per failure
};

// The wait before attempt `failures` + 1, after `failures` failed attempts
// in a row: first * factor^(failures - 1), capped at `longest`, and then a
// point uniformly in [half, whole] of that chosen by `unit` (in [0, 1),
// drawn by the caller: half at 0, nearly whole near 1).
//
// Never negative, never more than `longest`, and defined for every input:
// `failures` below 1 counts as 1, any count is capped without overflow,
// `unit` outside [0, 1) (or NaN) is clamped into it, a `factor` below 1
// (or NaN) counts as 1.
absl::Duration BackoffDelay(const RetryPolicy& policy, int failures,
                            double unit);

// A Retry-After header value (RFC 9110 section 10.2.3) as a wait from
// `now`: delta-seconds ("120") or an HTTP-date: the IMF-fixdate
// ("Wed, 21 Oct 2015 07:28:00 GMT") or the obsolete RFC 850
// ("Wednesday, 21-Oct-15 07:28:00 GMT", the two-digit year taken within
// 50 years of `now`) and asctime ("Wed Oct 21 07:28:00 2015") forms. A date
// in the past gives zero; delta-seconds beyond 2^31 give 2^31 seconds (as
// RFC 9111 does with its delta-seconds). nullopt when unparsable (a
// negative or fractional number, another date form). Not capped here: the
// caller decides how long a receiver may ask it to wait.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now);

}  // namespace plantrail::webhooks

#endif  // PLANTRAIL_WEBHOOKS_RETRY_H_
