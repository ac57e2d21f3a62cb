// The fabric demo's latency summary (bench/common/latency_stats.hpp), on the host.
#include "latency_stats.hpp"

#include <gtest/gtest.h>

namespace ringcast::bench {
namespace {

TEST(LatencySummary, ReportsPerftestStyleFiguresInMicroseconds) {
  std::vector<std::uint64_t> ns;
  for (std::uint64_t i = 1000; i >= 1; --i)
    ns.push_back(i * 1000);  // 1..1000 us, reversed
  const LatencySummary s = summarize(ns);
  EXPECT_EQ(s.count, 1000u);
  EXPECT_DOUBLE_EQ(s.min_us, 1.0);
  EXPECT_DOUBLE_EQ(s.max_us, 1000.0);
  EXPECT_DOUBLE_EQ(s.typical_us, 501.0);  // sorted[500]
  EXPECT_DOUBLE_EQ(s.avg_us, 500.5);
  EXPECT_DOUBLE_EQ(s.p99_us, 991.0);    // sorted[990]
  EXPECT_DOUBLE_EQ(s.p999_us, 1000.0);  // sorted[999]
}

TEST(LatencySummary, SmallAndEmptySamplesStayInBounds) {
  std::vector<std::uint64_t> none;
  EXPECT_EQ(summarize(none).count, 0u);
  std::vector<std::uint64_t> one{2500};
  const LatencySummary s = summarize(one);
  EXPECT_DOUBLE_EQ(s.p999_us, 2.5);
  EXPECT_DOUBLE_EQ(s.typical_us, 2.5);
}

}  // namespace
}  // namespace ringcast::bench
