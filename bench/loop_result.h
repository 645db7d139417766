// What every bench/run program reports for a closed loop of calls: one JSON
// object with the rate and the p50/p99 latency, in the shape report.py
// reads.
#ifndef PLANTRAIL_BENCH_LOOP_RESULT_H_
#define PLANTRAIL_BENCH_LOOP_RESULT_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace plantrail::bench {

// The p-th percentile (0-100) of `values`, which it partly reorders; 0 when
// empty.
inline double Percentile(std::vector<int64_t>& values, double p) {
  if (values.empty()) return 0;
  const size_t index = std::min(values.size() - 1,
                                static_cast<size_t>(p / 100.0 * values.size()));
  std::nth_element(values.begin(), values.begin() + index, values.end());
  return static_cast<double>(values[index]);
}

// `calls` calls of `per_call` items each in `seconds`, with the latency of
// every call in microseconds.
inline nlohmann::ordered_json LoopResult(const std::string& mode, int clients,
                                         int per_call, uint64_t calls,
                                         double seconds,
                                         std::vector<int64_t> latencies_us) {
  nlohmann::ordered_json json = {
      {"mode", mode},
      {"clients", clients},
      {"per_call", per_call},
      {"calls", calls},
      {"items_per_second", static_cast<double>(calls) * per_call / seconds}};
  json["p50_us"] = Percentile(latencies_us, 50);
  json["p99_us"] = Percentile(latencies_us, 99);
  return json;
}

}  // namespace plantrail::bench

#endif  // PLANTRAIL_BENCH_LOOP_RESULT_H_
