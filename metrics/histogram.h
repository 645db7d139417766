// A Prometheus histogram: observations counted into buckets with fixed upper
// bounds, and their sum.
//
// Thread safety: Observe() and Read() may be called from any number of
// threads at once. Observe() takes no lock: one relaxed atomic increment of
// its bucket, and an atomic<double> fetch_add for the sum (a compare-and-swap
// loop; lock-free where double is, checked at compile time). Fixed point was
// the alternative, but it would bound the range and precision of what may be
// observed, and the sum is only ever read as a double.
//
// What Read() guarantees: each bucket is loaded once, and the cumulative
// counts and the count are derived from those loads, so the counts never
// decrease from one bucket to the next and the +Inf bucket equals count, as
// Prometheus requires, however many threads observe meanwhile. The sum is a
// separate load: it may already include an observation the buckets missed,
// or miss one they include. Prometheus tolerates that (rate(sum) / rate(count)
// over a scrape interval); no client library does better without a lock.
#ifndef PLANTRAIL_METRICS_HISTOGRAM_H_
#define PLANTRAIL_METRICS_HISTOGRAM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace plantrail::metrics {

class Histogram {
 public:
  // `upper_bounds` must be finite and strictly increasing; the +Inf bucket is
  // implied (a trailing +Inf is accepted and dropped, as the Go client does).
  // Any other bound breaking the rule is a programming error: it aborts in
  // debug builds and is dropped in release builds.
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts `value` in the first bucket whose bound is >= value (a value equal
  // to a bound is in that bucket, Prometheus' "le"). NaN goes to the +Inf
  // bucket and makes the sum NaN, as in the Go client.
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    // One per bound, then the +Inf bucket last (== count).
    std::vector<uint64_t> cumulative_counts;
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;

  // The bounds in use (after the constructor dropped any it refused).
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

  // `count` bounds: start, start * factor, start * factor^2, ...
  // Needs start > 0, factor > 1 and count >= 1; otherwise a programming error
  // (debug builds abort, release builds return no bounds).
  static std::vector<double> ExponentialBounds(double start, double factor,
                                               int count);

 private:
  static_assert(std::atomic<double>::is_always_lock_free);

  const std::vector<double> upper_bounds_;
  // Not cumulative: buckets_[i] counts the observations in
  // (upper_bounds_[i-1], upper_bounds_[i]]; the last one is the +Inf bucket.
  // Cumulating in Read() keeps Observe() at one increment.
  const std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
};

}  // namespace plantrail::metrics

#endif  // PLANTRAIL_METRICS_HISTOGRAM_H_
