#include "metrics/histogram.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "metrics/programming_error.h"

namespace plantrail::metrics {
namespace {

std::vector<double> CheckedBounds(std::vector<double> bounds) {
  if (!bounds.empty() && bounds.back() == HUGE_VAL) bounds.pop_back();
  std::vector<double> kept;
  kept.reserve(bounds.size());
  for (size_t i = 0; i < bounds.size(); ++i) {
    const double bound = bounds[i];
    if (!std::isfinite(bound) || (!kept.empty() && bound <= kept.back())) {
      internal::ProgrammingError(
          absl::StrCat("histogram bound [", i, "] = ", bound,
                       ": bounds must be finite and strictly increasing"));
      continue;
    }
    kept.push_back(bound);
  }
  return kept;
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(CheckedBounds(std::move(upper_bounds))),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_.size() +
                                                         1)) {}

void Histogram::Observe(double value) {
  const size_t bucket =
      std::isnan(value)
          ? upper_bounds_.size()
          : static_cast<size_t>(std::lower_bound(upper_bounds_.begin(),
                                                 upper_bounds_.end(), value) -
                                upper_bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  snapshot.cumulative_counts.reserve(upper_bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(total);
  }
  snapshot.count = total;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> Histogram::ExponentialBounds(double start, double factor,
                                                 int count) {
  if (!(start > 0) || !(factor > 1) || count < 1 || !std::isfinite(start) ||
      !std::isfinite(factor)) {
    internal::ProgrammingError(absl::StrCat(
        "ExponentialBounds(", start, ", ", factor, ", ", count,
        "): needs a finite start > 0, a finite factor > 1 and count >= 1"));
    return {};
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<size_t>(count));
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

}  // namespace plantrail::metrics
