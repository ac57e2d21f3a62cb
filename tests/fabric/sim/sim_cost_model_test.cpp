// The fabric's cost model on a small case: a member writing one record of B
// bytes to each of N-1 members lands the last at (N-1) * (wr_cost + B /
// bandwidth) + latency, and held posts leave when released.
#include <gtest/gtest.h>

#include <map>

#include "sim_net.hpp"

namespace ringcast::fabric::sim::test {
namespace {

constexpr std::uint32_t kBytes = 1000;
constexpr std::uint64_t kBandwidth = 100;  // bytes/us: 10,000 ns per write
constexpr std::uint64_t kLatency = 2'000;
constexpr NodeId kMembers = 4;

SimConfig model(std::uint64_t wr_cost_ns) {
  SimConfig c;
  c.base_latency_ns = kLatency;
  c.jitter_ns = 0;
  c.bandwidth_bytes_per_us = kBandwidth;
  c.wr_cost_ns = wr_cost_ns;
  return c;
}

// Node 1 writes one record to each other member; the virtual time each
// write's immediate reached its target.
std::map<NodeId, std::uint64_t> fan_out(SimNet& net) {
  for (NodeId to = 2; to <= kMembers; ++to) {
    WriteOp op = with_imm(write_op(*net.host(1).send, 0, kBytes, 0, to), to);
    EXPECT_TRUE(net.link(1, to).post({&op, 1}).ok());
  }
  std::map<NodeId, std::uint64_t> landed;
  while (net.world.step()) {
    net.poll_all();
    for (NodeId to = 2; to <= kMembers; ++to) {
      if (!net.of_type(to, CompletionType::received_imm).empty() && !landed.count(to))
        landed[to] = net.world.now_ns();
    }
  }
  return landed;
}

TEST(SimCostModel, OneRecordToEveryOtherMember) {
  SimNet net(1, model(300), kMembers);
  const auto landed = fan_out(net);
  const std::uint64_t per_write = 300 + kBytes * 1000 / kBandwidth;
  ASSERT_EQ(landed.size(), kMembers - 1u);
  for (NodeId to = 2; to <= kMembers; ++to)
    EXPECT_EQ(landed.at(to), (to - 1) * per_write + kLatency) << "to n" << to;
}

TEST(SimCostModel, OffLeavesTimingAsBefore) {
  SimNet net(1, model(0), kMembers);
  const auto landed = fan_out(net);
  for (NodeId to = 2; to <= kMembers; ++to)
    EXPECT_EQ(landed.at(to), (to - 1) * (kBytes * 1000 / kBandwidth) + kLatency);
}

TEST(SimCostModel, HeldPostsLeaveWhenReleased) {
  SimNet net(1, model(300), 2);
  net.world.hold_posts(1);
  WriteOp op = with_imm(write_op(*net.host(1).send, 0, kBytes, 0, 7), 7);
  ASSERT_TRUE(net.link(1, 2).post({&op, 1}).ok());
  EXPECT_FALSE(net.world.next_event_ns().has_value());
  net.world.release_posts(1, 5'000);
  EXPECT_EQ(net.world.next_event_ns().value(), 5'000 + 300 + kBytes * 1000 / kBandwidth + kLatency);
}

}  // namespace
}  // namespace ringcast::fabric::sim::test
