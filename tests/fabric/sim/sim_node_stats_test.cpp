// Per-node counts of what each NIC was asked to send: the work requests and
// bytes a node posted, whatever became of them, summed over its incarnations.
#include <gtest/gtest.h>

#include "sim_net.hpp"

namespace ringcast::fabric::sim::test {
namespace {

void expect_posted(const SimNodeStats& s, std::uint64_t writes, std::uint64_t bytes) {
  EXPECT_EQ(s.writes_posted, writes);
  EXPECT_EQ(s.bytes_posted, bytes);
}

// Each write counts once at its sender, with every segment's bytes; the
// receivers count nothing for what lands in them.
TEST(SimNodeStats, CountsEachSendersWritesAndBytes) {
  SimNet net(1, {}, 3);
  const MemoryRegion& a = *net.host(1).send;
  WriteOp chain[2] = {write_op(a, 0, 100, 0), with_imm(write_op(a, 512, 28, 100), 7)};
  chain[1].segments[1] = {&a, 4096, 1000};
  chain[1].segment_count = 2;
  ASSERT_TRUE(net.link(1, 2).post(chain).ok());
  WriteOp to_three = write_op(a, 0, 64, 0);
  ASSERT_TRUE(net.link(1, 3).post({&to_three, 1}).ok());
  WriteOp back = signaled(write_op(*net.host(2).send, 0, 4000, 0));
  ASSERT_TRUE(net.link(2, 1).post({&back, 1}).ok());
  net.run_all();

  expect_posted(net.world.node_stats(1), 3, 100 + 28 + 1000 + 64);
  expect_posted(net.world.node_stats(2), 1, 4000);
  expect_posted(net.world.node_stats(3), 0, 0);
  expect_posted(net.world.node_stats(9), 0, 0);  // never added
  EXPECT_EQ(net.world.stats().writes_posted, 4u);
  EXPECT_EQ(net.world.stats().bytes_landed, 100u + 28 + 1000 + 64 + 4000);
}

// A post refused whole (a bad write in the chain, a full send queue) puts
// nothing on the NIC and counts nothing.
TEST(SimNodeStats, RefusedPostsCountNothing) {
  SimConfig config;
  config.send_queue_depth = 2;
  SimNet net(2, config, 2);
  const MemoryRegion& a = *net.host(1).send;
  WriteOp bad[2] = {write_op(a, 0, 10, 0), write_op(a, 0, 10, 0)};
  bad[1].remote_region = 3;
  EXPECT_FALSE(net.link(1, 2).post(bad).ok());
  WriteOp three[3] = {write_op(a, 0, 10, 0), write_op(a, 0, 10, 0), write_op(a, 0, 10, 0)};
  EXPECT_FALSE(net.link(1, 2).post(three).ok());
  expect_posted(net.world.node_stats(1), 0, 0);
  ASSERT_TRUE(net.link(1, 2).post({three, 2}).ok());
  expect_posted(net.world.node_stats(1), 2, 20);
}

// Writes lost to a crash were posted all the same; a restarted node starts
// a new incarnation at zero and the node's total goes on.
TEST(SimNodeStats, SumsIncarnationsAndCountsLostWrites) {
  SimNet net(3, {}, 2);
  WriteOp w = write_op(*net.host(2).send, 0, 300, 0);
  ASSERT_TRUE(net.link(2, 1).post({&w, 1}).ok());
  net.world.crash(2);
  net.run_all();
  net.start(2);
  net.connect(1, 2);
  EXPECT_EQ(net.host(2).ep->incarnation(), 1u);
  expect_posted(net.host(2).ep->posted(), 0, 0);
  WriteOp again = write_op(*net.host(2).send, 0, 50, 0);
  ASSERT_TRUE(net.link(2, 1).post({&again, 1}).ok());
  net.run_all();
  expect_posted(net.host(2).ep->posted(), 1, 50);
  expect_posted(net.world.node_stats(2), 2, 350);
}

}  // namespace
}  // namespace ringcast::fabric::sim::test
