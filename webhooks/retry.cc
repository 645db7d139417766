#include "webhooks/retry.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace plantrail::webhooks {
namespace {

// RFC 9111 section 1.2.2: a delta-seconds too large to hold is taken as
// 2^31.
constexpr int64_t kLongestDeltaSeconds = int64_t{1} << 31;

// The fixed lengths of the two fixed-length date forms: checked before
// parsing, as absl::ParseTime's %Y would take "15" as the year 15.
constexpr size_t kImfFixdateLength =
    sizeof("Wed, 21 Oct 2015 07:28:00 GMT") - 1;
constexpr size_t kAsctimeLength = sizeof("Wed Oct 21 07:28:00 2015") - 1;

bool AllDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

std::optional<absl::Duration> DeltaSeconds(absl::string_view digits) {
  // Leading zeros do not make a number large.
  const size_t first = digits.find_first_not_of('0');
  if (first == absl::string_view::npos) return absl::ZeroDuration();
  digits.remove_prefix(first);
  // Eleven digits or more exceed 2^31 (ten digits, and int64_t, hold it).
  if (digits.size() > 10) return absl::Seconds(kLongestDeltaSeconds);
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(digits, &seconds)) return std::nullopt;
  return absl::Seconds(std::min(seconds, kLongestDeltaSeconds));
}

// "Sunday, 06-Nov-94 08:49:37 GMT": the year completed to the one within
// 50 years of `now` (RFC 9110 section 5.6.7: a year that appears more than
// 50 years in the future is the most recent past one with its last two
// digits).
std::optional<absl::Time> ParseRfc850Date(absl::string_view value,
                                          absl::Time now) {
  const size_t comma = value.find(", ");
  if (comma == absl::string_view::npos) return std::nullopt;
  // "DD-Mon-YY" and " HH:MM:SS GMT" after the comma.
  const size_t date = comma + 2;
  if (value.size() != date + 9 + 13 || value[date + 2] != '-' ||
      value[date + 6] != '-' || !AllDigits(value.substr(date + 7, 2))) {
    return std::nullopt;
  }
  const int two_digits = (value[date + 7] - '0') * 10 + (value[date + 8] - '0');
  const int64_t this_year = absl::ToCivilYear(now, absl::UTCTimeZone()).year();
  int64_t year = this_year - this_year % 100 + two_digits;
  if (year > this_year + 50) year -= 100;
  if (year <= this_year - 50) year += 100;
  const std::string full =
      absl::StrCat(value.substr(0, date + 7), year, value.substr(date + 9));
  absl::Time time;
  std::string error;
  if (!absl::ParseTime("%A, %d-%b-%Y %H:%M:%S GMT", full, &time, &error)) {
    return std::nullopt;
  }
  return time;
}

std::optional<absl::Time> ParseHttpDate(absl::string_view value,
                                        absl::Time now) {
  absl::Time time;
  std::string error;
  if (value.size() == kImfFixdateLength &&
      absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", value, &time, &error)) {
    return time;
  }
  if (value.size() == kAsctimeLength &&
      absl::ParseTime("%a %b %e %H:%M:%S %Y", value, &time, &error)) {
    return time;
  }
  return ParseRfc850Date(value, now);
}

}  // namespace

absl::Duration BackoffDelay(const RetryPolicy& policy, int failures,
                            double unit) {
  const absl::Duration longest = std::max(policy.longest, absl::ZeroDuration());
  const absl::Duration first =
      std::clamp(policy.first, absl::ZeroDuration(), longest);
  // `!(x >= 1)` is true for NaN too.
  const double factor = !(policy.factor >= 1.0) ? 1.0 : policy.factor;

  // In floating point, where a huge power is +inf and compares as more
  // than the cap, rather than in integers that would overflow.
  absl::Duration whole = longest;
  if (first == absl::ZeroDuration()) {
    whole = absl::ZeroDuration();
  } else {
    const double seconds = absl::ToDoubleSeconds(first) *
                           std::pow(factor, std::max(failures, 1) - 1);
    if (seconds < absl::ToDoubleSeconds(longest)) {
      whole = std::min(absl::Seconds(seconds), longest);
    }
  }

  // `!(unit >= 0)` is true for NaN too.
  const double jitter = !(unit >= 0.0) ? 0.0
                        : unit >= 1.0  ? std::nextafter(1.0, 0.0)
                                       : unit;
  const absl::Duration half = whole / 2;
  return half + (whole - half) * jitter;
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  if (AllDigits(value)) return DeltaSeconds(value);
  const std::optional<absl::Time> date = ParseHttpDate(value, now);
  if (!date.has_value()) return std::nullopt;
  return std::max(*date - now, absl::ZeroDuration());
}

}  // namespace plantrail::webhooks
