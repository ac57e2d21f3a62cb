// nic-model's cases (bench/nicmodel): the ring on the simulated fabric with
// the cost model delivers in order everywhere, large messages run at the
// NIC's bandwidth with 2 members, and the holder's N-1 copies divide it.
#include <gtest/gtest.h>

#include "model_case.hpp"

namespace ringcast::nicmodel {
namespace {

CostModel nic() {
  CostModel m;
  m.bandwidth_bytes_per_us = 1'000;  // 1 GB/s
  m.wr_cost_ns = 100;
  m.latency_ns = 1'000;
  m.visit_ns = 200;
  m.record_ns = 100;
  return m;
}

CaseResult throughput(std::size_t members) {
  CaseSpec c;
  c.members = members;
  c.size = 65536;
  c.latency = false;
  c.count = 200;
  return run_case(c, nic());
}

TEST(NicModel, LargeMessagesRunAtTheNicsBandwidth) {
  const CaseResult r = throughput(2);
  EXPECT_TRUE(r.order_ok);
  EXPECT_GT(r.mb_per_s, 800.0);
  EXPECT_LE(r.mb_per_s, 1'000.0);
}

TEST(NicModel, TheHoldersCopiesDivideThroughput) {
  const double two = throughput(2).mb_per_s;
  const CaseResult four = throughput(4);
  EXPECT_TRUE(four.order_ok);
  EXPECT_LT(four.mb_per_s, two / 2.0);
}

TEST(NicModel, OneMessageInFlightTakesAWriteAndTheCpu) {
  CaseSpec c;
  c.members = 3;
  c.size = 64;
  c.count = 200;
  c.pace_on_all = true;
  const CaseResult r = run_case(c, nic());
  EXPECT_TRUE(r.order_ok);
  // At least one write (wr + bytes + latency) and a record's CPU.
  EXPECT_GE(r.slowest_median_us, 1.2);
  EXPECT_GE(r.slowest_median_us, r.self_median_us);
}

}  // namespace
}  // namespace ringcast::nicmodel
