// Error completions of the simulated fabric: remote access errors, reuse of
// a source before its write landed, and what a failed link reports.
#include <gtest/gtest.h>

#include <cstring>

#include "sim_net.hpp"

namespace ringcast::fabric::sim::test {
namespace {

void expect_link_down_both(SimNet& net, NodeId a, NodeId b) {
  ASSERT_FALSE(net.host(a).completions.empty());
  ASSERT_FALSE(net.host(b).completions.empty());
  EXPECT_EQ(net.host(a).completions.back().type, CompletionType::link_down);
  EXPECT_EQ(net.host(a).completions.back().peer, b);
  EXPECT_EQ(net.host(b).completions.back().type, CompletionType::link_down);
  EXPECT_EQ(net.host(b).completions.back().peer, a);
  EXPECT_TRUE(net.link(a, b).failed());
  EXPECT_TRUE(net.link(b, a).failed());
  WriteOp op = write_op(*net.host(a).send, 0, 8, 0);
  EXPECT_EQ(net.link(a, b).post({&op, 1}).error().code, Errc::link_failed);
  EXPECT_EQ(net.link(a, b).send_capacity(), 0u);
}

// The peer advertised regions that are not what it registered. Writes
// before the bad one complete; the bad one fails with "remote access error"
// and writes nothing; later ones are flushed; both ends see link_down.
template <class Claim>
void run_remote_access_error(std::uint64_t seed, Claim claim, std::uint64_t bad_offset) {
  SimNet net(seed, {}, 2, 4096, 4096);
  SimHost& a = net.host(1);
  SimHost& b = net.host(2);
  ConnectInfo lie = b.info();
  lie.region_count = 2;
  lie.regions[1] = claim(b.recv->remote());
  Result<LinkPair> pair = net.world.connect(*a.ep, a.info(), *b.ep, lie);
  ASSERT_TRUE(pair.ok()) << pair.error().message();
  SimLink& l = *pair->a_to_b;
  fill(a.send->bytes(), seed);
  WriteOp good = signaled(with_imm(write_op(*a.send, 0, 64, 0, 1), 1));
  WriteOp bad = signaled(write_op(*a.send, 0, 64, bad_offset, 2));
  bad.remote_region = 1;
  WriteOp after = signaled(with_imm(write_op(*a.send, 0, 64, 128, 3), 3));
  WriteOp silent = write_op(*a.send, 0, 64, 256, 4);
  WriteOp chain[] = {good, bad, after, silent};
  ASSERT_TRUE(l.post(chain).ok());
  net.run_all();
  const auto& ca = a.completions;
  ASSERT_EQ(ca.size(), 4u) << "seed " << seed;
  EXPECT_EQ(ca[0].type, CompletionType::write_done);
  EXPECT_EQ(ca[0].wr_id, 1u);
  EXPECT_EQ(ca[1].type, CompletionType::write_failed);
  EXPECT_EQ(ca[1].wr_id, 2u);
  EXPECT_STREQ(ca[1].status_text, "remote access error");
  EXPECT_EQ(ca[1].status, 10);  // IBV_WC_REM_ACCESS_ERR
  EXPECT_EQ(ca[2].type, CompletionType::write_failed);
  EXPECT_EQ(ca[2].wr_id, 3u);
  EXPECT_STREQ(ca[2].status_text, "Work Request Flushed Error");
  EXPECT_EQ(ca[3].type, CompletionType::link_down);
  // b got the first write, then lost the link; nothing after landed.
  ASSERT_EQ(b.completions.size(), 2u);
  EXPECT_EQ(b.completions[0].type, CompletionType::received_imm);
  EXPECT_TRUE(same(b.recv->bytes().first(64), a.send->bytes().first(64)));
  EXPECT_EQ(b.recv->bytes()[128], std::byte{0});
  EXPECT_EQ(b.recv->bytes()[256], std::byte{0});
  EXPECT_TRUE(pair->b_to_a->failed());
  EXPECT_EQ(b.completions[1].type, CompletionType::link_down);
}

TEST(SimErrors, RegionNotRegisteredIsARemoteAccessError) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    run_remote_access_error(
        seed,
        [](const RemoteRegion&) {
          return RemoteRegion{0x10000, 4096, 0x12345};
        },
        0);
    if (testing::Test::HasFatalFailure()) return;
  }
}

TEST(SimErrors, RegionShorterThanClaimedIsARemoteAccessError) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    // b's real region is 4096 bytes; it claims 64 KiB and is written at 8 KiB.
    auto longer = [](const RemoteRegion& real) {
      RemoteRegion claimed = real;
      claimed.length = 64 << 10;
      return claimed;
    };
    run_remote_access_error(seed, longer, 8192);
    if (testing::Test::HasFatalFailure()) return;
  }
}

TEST(SimErrors, TargetRegionDeregisteredIsARemoteAccessError) {
  SimNet net(4, {}, 2, 4096, 4096);
  net.host(2).recv.reset();  // b deregisters the region it advertised
  WriteOp op = signaled(write_op(*net.host(1).send, 0, 8, 0, 77));
  ASSERT_TRUE(net.link(1, 2).post({&op, 1}).ok());
  net.run_all();
  const auto failed = net.of_type(1, CompletionType::write_failed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].wr_id, 77u);
  EXPECT_STREQ(failed[0].status_text, "remote access error");
  expect_link_down_both(net, 1, 2);
}

// The source is read when the write lands, not when it is posted: a sender
// that rewrites its buffer before the completion sends the new bytes (the
// bug shows in the data), and one that destroys the region fails the write
// instead of reading freed memory.
TEST(SimErrors, SourceReusedBeforeLandingIsVisible) {
  SimNet net(5, {}, 2, 4096, 4096);
  SimHost& a = net.host(1);
  std::memset(a.send->data(), 0x11, 64);
  WriteOp op = with_imm(write_op(*a.send, 0, 64, 0), 1);
  ASSERT_TRUE(net.link(1, 2).post({&op, 1}).ok());
  std::memset(a.send->data(), 0x22, 64);  // too early: no completion yet
  net.run_all();
  EXPECT_EQ(net.host(2).recv->bytes()[0], std::byte{0x22});
}

TEST(SimErrors, SourceDestroyedBeforeLandingIsALocalProtectionError) {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    SimNet net(seed, {}, 2, 4096, 4096);
    SimHost& a = net.host(1);
    auto scratch = a.ep->allocate(4096, Access::local_only);
    ASSERT_TRUE(scratch.ok());
    std::memset(scratch.value()->data(), 0x33, 4096);
    WriteOp first = signaled(write_op(*a.send, 0, 8, 0, 1));
    WriteOp doomed = write_op(*scratch.value(), 0, 64, 64, 2);  // unsignaled: reported anyway
    WriteOp after = signaled(write_op(*a.send, 0, 8, 256, 3));
    WriteOp chain[] = {first, doomed, after};
    ASSERT_TRUE(net.link(1, 2).post(chain).ok());
    scratch.value().reset();
    net.run_all();
    const auto& ca = a.completions;
    ASSERT_EQ(ca.size(), 4u);
    EXPECT_EQ(ca[0].type, CompletionType::write_done);
    EXPECT_EQ(ca[1].type, CompletionType::write_failed);
    EXPECT_EQ(ca[1].wr_id, 2u);
    EXPECT_STREQ(ca[1].status_text, "local protection error");
    EXPECT_EQ(ca[1].status, 4);  // IBV_WC_LOC_PROT_ERR
    EXPECT_EQ(ca[2].wr_id, 3u);
    EXPECT_STREQ(ca[2].status_text, "Work Request Flushed Error");
    EXPECT_EQ(net.host(2).recv->bytes()[64], std::byte{0});
    expect_link_down_both(net, 1, 2);
  }
}

TEST(SimErrors, DisconnectClosesBothEnds) {
  SimNet net(6, {}, 3);
  WriteOp op = signaled(write_op(*net.host(1).send, 0, 8, 0, 9));
  ASSERT_TRUE(net.link(1, 2).post({&op, 1}).ok());
  net.world.disconnect(net.link(1, 2));
  net.run_all();
  const auto& ca = net.host(1).completions;
  ASSERT_EQ(ca.size(), 2u);
  EXPECT_EQ(ca[0].type, CompletionType::write_failed);
  EXPECT_STREQ(ca[0].status_text, "Work Request Flushed Error");
  expect_link_down_both(net, 1, 2);
  EXPECT_FALSE(net.link(1, 3).failed());
  EXPECT_EQ(net.host(2).recv->bytes()[0], std::byte{0});
}

TEST(SimErrors, BadConnectInfoIsRefusedLikeVerbs) {
  SimNet net(7, {}, 2);
  SimHost& a = net.host(1);
  SimHost& b = net.host(2);
  ConnectInfo old = b.info();
  old.version = 9;
  auto refused = net.world.connect(*a.ep, a.info(), *b.ep, old);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::refused);
  ConnectInfo impostor = b.info();
  impostor.node = 42;
  EXPECT_EQ(net.world.connect(*a.ep, a.info(), *b.ep, impostor).error().code, Errc::protocol);
  ConnectInfo wraps = b.info();
  wraps.regions[0].addr = UINT64_MAX - 10;
  EXPECT_EQ(net.world.connect(*a.ep, a.info(), *b.ep, wraps).error().code, Errc::protocol);
  EXPECT_EQ(net.world.connect(*a.ep, a.info(), *a.ep, a.info()).error().code,
            Errc::invalid_argument);
}

}  // namespace
}  // namespace ringcast::fabric::sim::test
