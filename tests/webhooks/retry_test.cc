// Retry timing: backoff growth, its cap and jitter, inputs at and beyond
// their bounds, and the forms of Retry-After a receiver may send.
#include "webhooks/retry.h"

#include <climits>
#include <cmath>
#include <limits>
#include <optional>

#include "gtest/gtest.h"

namespace plantrail::webhooks {
namespace {

constexpr double kAlmostOne = 0.999;

TEST(BackoffDelayTest, DoublesFromTheFirstWait) {
  const RetryPolicy policy;
  // At unit 0 the wait is half the exponential one.
  EXPECT_EQ(BackoffDelay(policy, 1, 0), absl::Milliseconds(500));
  EXPECT_EQ(BackoffDelay(policy, 2, 0), absl::Seconds(1));
  EXPECT_EQ(BackoffDelay(policy, 3, 0), absl::Seconds(2));
  EXPECT_EQ(BackoffDelay(policy, 4, 0), absl::Seconds(4));
  EXPECT_EQ(BackoffDelay(policy, 10, 0), absl::Seconds(256));
}

TEST(BackoffDelayTest, FollowsThePolicy) {
  const RetryPolicy policy{
      .first = absl::Seconds(10), .longest = absl::Hours(1), .factor = 3.0};
  EXPECT_EQ(BackoffDelay(policy, 1, 0), absl::Seconds(5));
  EXPECT_EQ(BackoffDelay(policy, 2, 0), absl::Seconds(15));
  EXPECT_EQ(BackoffDelay(policy, 3, 0), absl::Seconds(45));
  EXPECT_EQ(BackoffDelay(policy, 6, 0), absl::Seconds(1215));
  EXPECT_EQ(BackoffDelay(policy, 7, 0), absl::Minutes(30));
}

TEST(BackoffDelayTest, IsCappedAtTheLongest) {
  const RetryPolicy policy;
  // 2^9 s = 512 s is under the 600 s cap, 2^10 s is over it.
  EXPECT_EQ(BackoffDelay(policy, 10, 0), absl::Seconds(256));
  EXPECT_EQ(BackoffDelay(policy, 11, 0), absl::Seconds(300));
  EXPECT_EQ(BackoffDelay(policy, 12, 0), absl::Seconds(300));
  EXPECT_LE(BackoffDelay(policy, 11, kAlmostOne), absl::Minutes(10));
  EXPECT_GE(BackoffDelay(policy, 11, kAlmostOne),
            absl::Minutes(10) * kAlmostOne);
}

TEST(BackoffDelayTest, JitterStaysBetweenHalfAndWhole) {
  const RetryPolicy policy;
  for (int failures = 1; failures <= 14; ++failures) {
    const absl::Duration whole =
        std::min(absl::Seconds(std::pow(2.0, failures - 1)), absl::Minutes(10));
    EXPECT_EQ(BackoffDelay(policy, failures, 0), whole / 2) << failures;
    const absl::Duration high = BackoffDelay(policy, failures, kAlmostOne);
    EXPECT_LT(high, whole) << failures;
    EXPECT_GE(high, whole * kAlmostOne) << failures;
    for (double unit : {0.1, 0.25, 0.5, 0.75, 0.9}) {
      const absl::Duration delay = BackoffDelay(policy, failures, unit);
      EXPECT_GE(delay, whole / 2) << failures << " " << unit;
      EXPECT_LE(delay, whole) << failures << " " << unit;
    }
  }
  // The unit moves the wait linearly: after three failures the range is
  // [2 s, 4 s], its middle at 0.5.
  EXPECT_EQ(BackoffDelay(policy, 3, 0.5), absl::Seconds(3));
  EXPECT_EQ(BackoffDelay(policy, 3, 0.25), absl::Milliseconds(2500));
}

TEST(BackoffDelayTest, HugeFailureCountsDoNotOverflow) {
  const RetryPolicy policy;
  for (int failures : {64, 1000, 1 << 20, INT_MAX}) {
    EXPECT_EQ(BackoffDelay(policy, failures, 0), absl::Minutes(5)) << failures;
    const absl::Duration high = BackoffDelay(policy, failures, kAlmostOne);
    EXPECT_GT(high, absl::Minutes(9)) << failures;
    EXPECT_LE(high, absl::Minutes(10)) << failures;
  }
  const RetryPolicy steep{.factor = 1e300};
  EXPECT_EQ(BackoffDelay(steep, 3, 0), absl::Minutes(5));
  const RetryPolicy unbounded{.longest = absl::InfiniteDuration()};
  EXPECT_EQ(BackoffDelay(unbounded, 11, 0), absl::Seconds(512));
  EXPECT_GT(BackoffDelay(unbounded, INT_MAX, 0), absl::Hours(1000000));
}

TEST(BackoffDelayTest, OddInputsStayInRange) {
  const RetryPolicy policy;
  // Fewer than one failure counts as one.
  EXPECT_EQ(BackoffDelay(policy, 0, 0), absl::Milliseconds(500));
  EXPECT_EQ(BackoffDelay(policy, INT_MIN, 0), absl::Milliseconds(500));
  // A unit outside [0, 1) is clamped into it.
  EXPECT_EQ(BackoffDelay(policy, 1, -1), absl::Milliseconds(500));
  EXPECT_EQ(BackoffDelay(policy, 1, std::nan("")), absl::Milliseconds(500));
  EXPECT_LE(BackoffDelay(policy, 1, 1.0), absl::Seconds(1));
  EXPECT_LE(BackoffDelay(policy, 1, 1e9), absl::Seconds(1));
  EXPECT_LE(BackoffDelay(policy, 1, std::numeric_limits<double>::infinity()),
            absl::Seconds(1));
  // A factor below one does not shrink the wait.
  const RetryPolicy shrinking{.factor = 0.5};
  EXPECT_EQ(BackoffDelay(shrinking, 5, 0), absl::Milliseconds(500));
  const RetryPolicy nan_factor{.factor = std::nan("")};
  EXPECT_EQ(BackoffDelay(nan_factor, 5, 0), absl::Milliseconds(500));
  // A first wait beyond the cap is capped; no wait stays none.
  const RetryPolicy first_too_long{.first = absl::Hours(1)};
  EXPECT_EQ(BackoffDelay(first_too_long, 1, 0), absl::Minutes(5));
  const RetryPolicy no_wait{.first = absl::ZeroDuration()};
  EXPECT_EQ(BackoffDelay(no_wait, 100, kAlmostOne), absl::ZeroDuration());
  const RetryPolicy negative{.first = absl::Seconds(-1),
                             .longest = absl::Seconds(-1)};
  EXPECT_EQ(BackoffDelay(negative, 3, 0.5), absl::ZeroDuration());
}

// 2015-10-21 07:27:00 UTC: a minute before the dates below.
absl::Time Now() {
  return absl::FromCivil(absl::CivilSecond(2015, 10, 21, 7, 27, 0),
                         absl::UTCTimeZone());
}

TEST(ParseRetryAfterTest, DeltaSeconds) {
  EXPECT_EQ(ParseRetryAfter("120", Now()), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter("0", Now()), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("007", Now()), absl::Seconds(7));
  EXPECT_EQ(ParseRetryAfter(" 30\t", Now()), absl::Seconds(30));
  // Not capped: the caller decides how long is too long.
  EXPECT_EQ(ParseRetryAfter("86400", Now()), absl::Hours(24));
  EXPECT_EQ(ParseRetryAfter("2147483648", Now()), absl::Seconds(2147483648));
  // Beyond 2^31 it is 2^31, however many digits.
  EXPECT_EQ(ParseRetryAfter("2147483649", Now()), absl::Seconds(2147483648));
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999999999", Now()),
            absl::Seconds(2147483648));
  EXPECT_EQ(ParseRetryAfter("0000000000000000000000000005", Now()),
            absl::Seconds(5));
}

TEST(ParseRetryAfterTest, ImfFixdate) {
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Now()),
            absl::Minutes(1));
  EXPECT_EQ(ParseRetryAfter("Thu, 22 Oct 2015 07:27:00 GMT", Now()),
            absl::Hours(24));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", Now()),
            absl::ZeroDuration());
}

TEST(ParseRetryAfterTest, ADateInThePastIsNoWait) {
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:26:59 GMT", Now()),
            absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", Now()),
            absl::ZeroDuration());
}

TEST(ParseRetryAfterTest, Rfc850Date) {
  EXPECT_EQ(ParseRetryAfter("Wednesday, 21-Oct-15 07:28:00 GMT", Now()),
            absl::Minutes(1));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", Now()),
            absl::ZeroDuration());
  // Two digits name the year within 50 years of now: from 2015, "64" is
  // 2064 (ahead), "66" is 1966 (past).
  const absl::Time in_2064 = absl::FromCivil(
      absl::CivilSecond(2064, 10, 21, 7, 27, 0), absl::UTCTimeZone());
  EXPECT_EQ(ParseRetryAfter("Tuesday, 21-Oct-64 07:27:00 GMT", Now()),
            in_2064 - Now());
  EXPECT_EQ(ParseRetryAfter("Thursday, 21-Oct-66 07:27:00 GMT", Now()),
            absl::ZeroDuration());
  // From 2090, "05" is 2105, not 2005.
  const absl::Time in_2090 =
      absl::FromCivil(absl::CivilSecond(2090, 1, 1), absl::UTCTimeZone());
  const absl::Time in_2105 =
      absl::FromCivil(absl::CivilSecond(2105, 1, 1), absl::UTCTimeZone());
  EXPECT_EQ(ParseRetryAfter("Thursday, 01-Jan-05 00:00:00 GMT", in_2090),
            in_2105 - in_2090);
}

TEST(ParseRetryAfterTest, AsctimeDate) {
  EXPECT_EQ(ParseRetryAfter("Wed Oct 21 07:28:00 2015", Now()),
            absl::Minutes(1));
  const absl::Time before = absl::FromCivil(
      absl::CivilSecond(1994, 11, 6, 8, 49, 27), absl::UTCTimeZone());
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:37 1994", before),
            absl::Seconds(10));
}

TEST(ParseRetryAfterTest, GarbageIsNotAWait) {
  for (absl::string_view value : {
           "",
           " ",
           "-5",
           "+5",
           "1.5",
           "12a",
           "0x10",
           "1e3",
           "soon",
           "120 seconds",
           "Wed, 21 Oct 2015 07:28:00",
           "Wed, 21 Oct 2015 07:28:00 UTC",
           "Wed, 21 Oct 2015 07:28:00 GMT+1",
           "Wed, 21 Oct 15 07:28:00 GMT",
           "Wed, 32 Oct 2015 07:28:00 GMT",
           "Wed, 21 Foo 2015 07:28:00 GMT",
           "2015-10-21T07:28:00Z",
           "Wednesday, 21-Oct-2015 07:28:00 GMT",
           "Wednesday, 21-Oct-1x 07:28:00 GMT",
           "Wed Oct 21 07:28:00",
       }) {
    EXPECT_EQ(ParseRetryAfter(value, Now()), std::nullopt) << value;
  }
}

}  // namespace
}  // namespace plantrail::webhooks
