// Latency summary in perftest's terms (ib_write_lat): samples sorted, the
// typical value is the median, percentiles index the sorted samples.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

namespace ringcast::bench {

struct LatencySummary {
  std::size_t count = 0;
  double min_us = 0, max_us = 0, typical_us = 0, avg_us = 0, p99_us = 0, p999_us = 0;
};

// `samples_ns`: one-way latencies in nanoseconds (sorted in place).
inline LatencySummary summarize(std::vector<std::uint64_t>& samples_ns) {
  LatencySummary s;
  s.count = samples_ns.size();
  if (samples_ns.empty()) return s;
  std::sort(samples_ns.begin(), samples_ns.end());
  const auto at = [&](double fraction) {
    const auto i = static_cast<std::size_t>(static_cast<double>(s.count) * fraction);
    return static_cast<double>(samples_ns[std::min(i, s.count - 1)]) / 1000.0;
  };
  const double sum = std::accumulate(samples_ns.begin(), samples_ns.end(), 0.0);
  s.min_us = static_cast<double>(samples_ns.front()) / 1000.0;
  s.max_us = static_cast<double>(samples_ns.back()) / 1000.0;
  s.typical_us = at(0.5);
  s.avg_us = sum / static_cast<double>(s.count) / 1000.0;
  s.p99_us = at(0.99);
  s.p999_us = at(0.999);
  return s;
}

}  // namespace ringcast::bench
