// The fabric's data-path contract on the simulated backend: bytes, FIFO,
// immediates, signaled completions, chains and queue bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "sim_net.hpp"

namespace ringcast::fabric::sim::test {
namespace {

// Random writes (1 or 2 segments, random sizes and offsets) land with
// exactly the bytes of their sources, and each immediate names its sender,
// carries its value and the write's length.
TEST(SimDatapath, WritesLandWithExactBytesAndImmediates) {
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    SimNet net(seed, {}, 2, 256 << 10, 256 << 10);
    SimRandom& rng = net.world.rng();
    SimHost& a = net.host(1);
    SimHost& b = net.host(2);
    fill(a.send->bytes(), seed);
    struct Expect {
      std::uint64_t src0, src1, dst;
      std::uint32_t len0, len1;
    };
    std::vector<Expect> expects;
    std::uint64_t dst = 0;
    for (std::uint32_t i = 0; i < 20; ++i) {
      const auto len0 = static_cast<std::uint32_t>(rng.between(1, 6000));
      const auto len1 = rng.one_in(2) ? static_cast<std::uint32_t>(rng.between(1, 3000)) : 0;
      const std::uint64_t src0 = rng.below(a.send->size() - len0);
      const std::uint64_t src1 = rng.below(a.send->size() - 3000);
      WriteOp op = with_imm(write_op(*a.send, src0, len0, dst, i), 1000 + i);
      if (len1 > 0) {
        op.segments[1] = {a.send.get(), src1, len1};
        op.segment_count = 2;
      }
      ASSERT_TRUE(net.link(1, 2).post({&op, 1}).ok());
      expects.push_back({src0, src1, dst, len0, len1});
      dst += len0 + len1;
    }
    net.run_all();
    const auto imms = net.of_type(2, CompletionType::received_imm);
    ASSERT_EQ(imms.size(), expects.size()) << "seed " << seed;
    for (std::size_t i = 0; i < expects.size(); ++i) {
      const Expect& e = expects[i];
      EXPECT_EQ(imms[i].peer, 1u);
      EXPECT_EQ(imms[i].imm, 1000 + i);
      EXPECT_EQ(imms[i].byte_len, e.len0 + e.len1);
      auto landed = b.recv->bytes().subspan(e.dst, e.len0 + e.len1);
      ASSERT_TRUE(same(landed.first(e.len0), a.send->bytes().subspan(e.src0, e.len0)))
          << "seed " << seed << " write " << i;
      ASSERT_TRUE(same(landed.subspan(e.len0), a.send->bytes().subspan(e.src1, e.len1)))
          << "seed " << seed << " write " << i;
    }
    // Nothing was written past the last write.
    EXPECT_EQ(b.recv->bytes()[dst], std::byte{0});
    EXPECT_TRUE(net.host(1).completions.empty());  // nothing signaled
    EXPECT_EQ(net.world.stats().writes_landed, expects.size());
  }
}

// Thousands of writes of random sizes, posted at random times in chains,
// under jitter 20 times the base latency: they land in post order. Checked
// after every event: the immediates arrive in order, every earlier write's
// bytes (with or without immediate) are in place, and the next one is not.
TEST(SimDatapath, PerLinkFifoUnderJitter) {
  SimConfig config;
  config.base_latency_ns = 500;
  config.jitter_ns = 10'000;
  config.spike_one_in = 50;
  config.spike_ns = 100'000;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    constexpr std::uint32_t kWrites = 3000;
    SimNet net(seed, config, 2, 4 << 20, 64 << 10);
    SimRandom& rng = net.world.rng();
    SimHost& a = net.host(1);
    SimHost& b = net.host(2);
    fill(a.send->bytes(), seed * 7);
    struct Sent {
      std::uint64_t src, dst;
      std::uint32_t len;
      bool imm;
    };
    std::vector<Sent> sent;
    std::uint64_t dst = 0;
    std::uint32_t verified = 0;  // writes [0, verified) are checked in place
    std::uint32_t imms_seen = 0;
    std::size_t consumed = 0;
    auto check_landed_prefix = [&] {
      const auto& cs = b.completions;
      for (; consumed < cs.size(); ++consumed) {
        ASSERT_EQ(cs[consumed].type, CompletionType::received_imm);
        const std::uint32_t k = cs[consumed].imm;
        ASSERT_GE(k, verified) << "seed " << seed << ": immediate out of order";
        ++imms_seen;
        for (; verified <= k; ++verified) {
          const Sent& s = sent[verified];
          ASSERT_TRUE(
              same(b.recv->bytes().subspan(s.dst, s.len), a.send->bytes().subspan(s.src, s.len)))
              << "seed " << seed << ": write " << verified << " missing when " << k << " landed";
        }
        if (verified < sent.size()) {
          const Sent& s = sent[verified];
          ASSERT_FALSE(
              same(b.recv->bytes().subspan(s.dst, s.len), a.send->bytes().subspan(s.src, s.len)))
              << "seed " << seed << ": write " << verified << " landed before " << k;
        }
      }
    };
    while (sent.size() < kWrites || net.world.pending_events() > 0) {
      if (sent.size() < kWrites && rng.one_in(3)) {
        WriteOp chain[16];
        const auto n = std::min<std::uint32_t>(static_cast<std::uint32_t>(rng.between(1, 16)),
                                               kWrites - static_cast<std::uint32_t>(sent.size()));
        for (std::uint32_t i = 0; i < n; ++i) {
          const auto len = static_cast<std::uint32_t>(rng.between(1, 1200));
          const std::uint64_t src = rng.below(a.send->size() - len);
          const auto index = static_cast<std::uint32_t>(sent.size());
          // Every 4th write has no immediate: its order is checked through
          // the next one that has.
          const bool imm = index % 4 != 3 || index + 1 == kWrites;
          chain[i] = write_op(*a.send, src, len, dst, index);
          if (imm) chain[i] = with_imm(chain[i], index);
          sent.push_back({src, dst, len, imm});
          dst += len;
        }
        Status st = net.link(1, 2).post({chain, n});
        if (!st.ok()) {
          ASSERT_EQ(st.error().code, Errc::try_again);
          sent.resize(sent.size() - n);
          dst = sent.empty() ? 0 : sent.back().dst + sent.back().len;
        }
      } else if (!net.world.step()) {
        net.world.run_until(net.world.now_ns() + 1000);
      }
      net.poll_all();
      check_landed_prefix();
      if (testing::Test::HasFatalFailure()) return;
    }
    EXPECT_EQ(verified, kWrites) << "seed " << seed;
    EXPECT_EQ(imms_seen, kWrites - kWrites / 4 + 1) << "seed " << seed;
  }
}

// write_done only for signaled writes, in post order, with their wr_id and
// the peer; nothing for unsignaled ones; no received_imm for plain writes.
TEST(SimDatapath, SignaledCompletionsOnlyForSignaledWrites) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    SimNet net(seed, {}, 3);
    SimRandom& rng = net.world.rng();
    std::vector<std::uint64_t> expected_done;
    std::uint32_t expected_imms = 0;
    for (std::uint64_t i = 0; i < 40; ++i) {
      WriteOp op = write_op(*net.host(1).send, 0, 64, i * 64, 500 + i);
      if (rng.one_in(2)) {
        op = signaled(op);
        expected_done.push_back(op.wr_id);
      }
      if (rng.one_in(3)) {
        op = with_imm(op, static_cast<std::uint32_t>(i));
        ++expected_imms;
      }
      ASSERT_TRUE(net.link(1, 3).post({&op, 1}).ok());
    }
    net.run_all();
    std::vector<std::uint64_t> done;
    for (const Completion& c : net.host(1).completions) {
      ASSERT_EQ(c.type, CompletionType::write_done);
      EXPECT_EQ(c.peer, 3u);
      done.push_back(c.wr_id);
    }
    EXPECT_EQ(done, expected_done) << "seed " << seed;
    EXPECT_EQ(net.of_type(3, CompletionType::received_imm).size(), expected_imms);
    EXPECT_TRUE(net.host(2).completions.empty());
    EXPECT_EQ(net.link(1, 3).outstanding(), 0u);
  }
}

TEST(SimDatapath, ImmediatesNameTheirSender) {
  SimNet net(7, {}, 4);
  for (NodeId from = 1; from <= 4; ++from) {
    for (NodeId to = 1; to <= 4; ++to) {
      if (from == to) continue;
      WriteOp op = with_imm(write_op(*net.host(from).send, 0, from * 10 + to, 0), from * 100 + to);
      ASSERT_TRUE(net.link(from, to).post({&op, 1}).ok());
    }
  }
  net.run_all();
  for (NodeId to = 1; to <= 4; ++to) {
    const auto imms = net.of_type(to, CompletionType::received_imm);
    ASSERT_EQ(imms.size(), 3u);
    for (const Completion& c : imms) {
      EXPECT_EQ(c.imm, c.peer * 100 + to);
      EXPECT_EQ(c.byte_len, c.peer * 10 + to);
    }
  }
}

TEST(SimDatapath, ChainsRespectTheSendQueueDepth) {
  SimConfig config;
  config.send_queue_depth = 8;
  SimNet net(3, config, 2);
  SimLink& l = net.link(1, 2);
  EXPECT_EQ(l.send_capacity(), 8u);
  EXPECT_EQ(l.max_inline_bytes(), config.max_inline_bytes);
  std::vector<WriteOp> chain;
  for (std::uint64_t i = 0; i < 9; ++i) {
    chain.push_back(
        with_imm(write_op(*net.host(1).send, i, 1, i, i), static_cast<std::uint32_t>(i)));
  }
  // Nine do not fit: nothing is posted.
  Status st = l.post(chain);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, Errc::try_again);
  EXPECT_EQ(net.world.stats().writes_posted, 0u);
  // Eight do, in one post; then the queue is full until ACKs come back.
  ASSERT_TRUE(l.post({chain.data(), 8}).ok());
  EXPECT_EQ(l.send_capacity(), 0u);
  EXPECT_EQ(l.post({chain.data() + 8, 1}).error().code, Errc::try_again);
  net.run_all();
  EXPECT_EQ(l.send_capacity(), 8u);
  ASSERT_TRUE(l.post({chain.data() + 8, 1}).ok());
  net.run_all();
  const auto imms = net.of_type(2, CompletionType::received_imm);
  ASSERT_EQ(imms.size(), 9u);
  for (std::uint32_t i = 0; i < 9; ++i)
    EXPECT_EQ(imms[i].imm, i);
}

TEST(SimDatapath, BadWritesAreRefusedBeforePosting) {
  SimNet net(5, {}, 3, 4096, 4096);
  SimLink& l = net.link(1, 2);
  const MemoryRegion& src = *net.host(1).send;
  auto refused = [&](WriteOp op) {
    WriteOp chain[2] = {write_op(src, 0, 8, 0), op};  // a good write first: all or nothing
    Status st = l.post(chain);
    return !st.ok() && st.error().code == Errc::invalid_argument;
  };
  EXPECT_TRUE(refused(write_op(src, 0, 8, 4089)));        // past the remote region's end
  EXPECT_TRUE(refused(write_op(src, 0, 8, 1ull << 40)));  // far past it
  EXPECT_TRUE(refused(write_op(src, 4090, 8, 0)));        // past the source region's end
  WriteOp wrong_index = write_op(src, 0, 8, 0);
  wrong_index.remote_region = 1;
  EXPECT_TRUE(refused(wrong_index));
  WriteOp too_many = write_op(src, 0, 8, 0);
  too_many.segment_count = 3;
  EXPECT_TRUE(refused(too_many));
  WriteOp no_region = write_op(src, 0, 8, 0);
  no_region.segments[0].region = nullptr;
  EXPECT_TRUE(refused(no_region));
  // A region of another endpoint is not a source this endpoint can use.
  EXPECT_TRUE(refused(write_op(*net.host(3).send, 0, 8, 0)));
  // Two segments that each fit but together overflow the remote region.
  WriteOp two = write_op(src, 0, 4000, 0);
  two.segments[1] = {&src, 0, 200};
  two.segment_count = 2;
  EXPECT_TRUE(refused(two));
  EXPECT_EQ(net.world.stats().writes_posted, 0u);
  EXPECT_EQ(net.world.pending_events(), 0u);
  EXPECT_FALSE(l.failed());
  // Exactly filling the region is fine; so is an empty write with immediate.
  WriteOp full = write_op(src, 0, 4096, 0);
  EXPECT_TRUE(l.post({&full, 1}).ok());
  WriteOp empty = with_imm(write_op(src, 0, 0, 4096), 9);
  EXPECT_TRUE(l.post({&empty, 1}).ok());
  net.run_all();
  const auto imms = net.of_type(2, CompletionType::received_imm);
  ASSERT_EQ(imms.size(), 1u);
  EXPECT_EQ(imms[0].byte_len, 0u);
}

TEST(SimDatapath, RegionsHaveUniqueKeysAndRealAddresses) {
  SimWorld world(1);
  SimEndpoint& ep = world.add_endpoint(1);
  std::vector<std::unique_ptr<MemoryRegion>> regions;
  std::vector<std::uint32_t> keys;
  for (int i = 0; i < 20; ++i) {
    auto r = ep.allocate(100 + i, i % 2 ? Access::remote_write : Access::local_only);
    ASSERT_TRUE(r.ok());
    keys.push_back(r.value()->lkey());
    if (i % 2) {
      keys.push_back(r.value()->remote().rkey);
      EXPECT_EQ(r.value()->remote().addr, reinterpret_cast<std::uint64_t>(r.value()->data()));
      EXPECT_EQ(r.value()->remote().length, 100u + i);
    }
    regions.push_back(std::move(r.value()));
  }
  std::vector<std::byte> caller(333);
  auto registered = ep.register_memory(caller, Access::remote_write);
  ASSERT_TRUE(registered.ok());
  EXPECT_EQ(registered.value()->data(), caller.data());
  keys.push_back(registered.value()->lkey());
  keys.push_back(registered.value()->remote().rkey);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
  EXPECT_EQ(ep.allocate(0, Access::local_only).error().code, Errc::invalid_argument);
  EXPECT_EQ(ep.allocate(std::size_t{1} << 33, Access::remote_write).error().code, Errc::too_big);
}

TEST(SimDatapath, CompletionQueueOverflowIsCounted) {
  SimConfig config;
  config.completion_queue_depth = 4;
  SimNet net(2, config, 2);
  for (std::uint32_t i = 0; i < 10; ++i) {
    WriteOp op = with_imm(write_op(*net.host(1).send, 0, 8, 0), i);
    ASSERT_TRUE(net.link(1, 2).post({&op, 1}).ok());
  }
  while (net.world.step()) {
  }  // nobody polls
  EXPECT_EQ(net.world.stats().cq_overflows, 6u);
  EXPECT_EQ(net.host(2).ep->pending_completions(), 4u);
  net.poll_all();
  const auto imms = net.of_type(2, CompletionType::received_imm);
  ASSERT_EQ(imms.size(), 4u);
  EXPECT_EQ(imms[3].imm, 3u);  // the oldest ones were kept
}

TEST(SimDatapathDeathTest, CompletionQueueOverflowCanAbort) {
  SimConfig config;
  config.completion_queue_depth = 2;
  config.abort_on_cq_overflow = true;
  SimNet net(2, config, 2);
  for (std::uint32_t i = 0; i < 3; ++i) {
    WriteOp op = with_imm(write_op(*net.host(1).send, 0, 8, 0), i);
    ASSERT_TRUE(net.link(1, 2).post({&op, 1}).ok());
  }
  EXPECT_DEATH(while (net.world.step()){}, "abort_on_cq_overflow");
}

TEST(SimDatapath, BandwidthAndLatencyShapeTheTimeline) {
  SimConfig config;
  config.base_latency_ns = 1'000;
  config.jitter_ns = 0;
  config.bandwidth_bytes_per_us = 1'000;  // 1 byte per ns
  config.ack_delay_ns = 500;
  SimNet net(1, config, 3, 1 << 20, 1 << 20);
  // Two 10 kB writes from node 1 (to 2 and to 3) share node 1's egress.
  WriteOp a = signaled(with_imm(write_op(*net.host(1).send, 0, 10'000, 0, 1), 1));
  WriteOp b = signaled(with_imm(write_op(*net.host(1).send, 0, 10'000, 0, 2), 2));
  ASSERT_TRUE(net.link(1, 2).post({&a, 1}).ok());
  ASSERT_TRUE(net.link(1, 3).post({&b, 1}).ok());
  ASSERT_EQ(net.world.next_event_ns(), 11'000u);
  net.run_until(11'000);
  EXPECT_EQ(net.of_type(2, CompletionType::received_imm).size(), 1u);
  EXPECT_EQ(net.of_type(3, CompletionType::received_imm).size(), 0u);
  net.run_until(11'500);
  EXPECT_EQ(net.of_type(1, CompletionType::write_done).size(), 1u);
  net.run_until(20'999);
  EXPECT_EQ(net.of_type(3, CompletionType::received_imm).size(), 0u);
  net.run_until(21'000);
  EXPECT_EQ(net.of_type(3, CompletionType::received_imm).size(), 1u);
  EXPECT_EQ(net.world.now_ns(), 21'000u);
  EXPECT_EQ(net.host(1).ep->now_ns(), 21'000u);
}

}  // namespace
}  // namespace ringcast::fabric::sim::test
