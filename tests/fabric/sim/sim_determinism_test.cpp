// A seed replays a run exactly; the random generator and the event queue
// underneath.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "fabric/sim/event_queue.hpp"
#include "sim_net.hpp"

namespace ringcast::fabric::sim::test {
namespace {

struct Outcome {
  std::uint64_t trace_hash = 0;
  std::uint64_t trace_lines = 0;
  std::uint64_t event_hash = 0;
  std::uint64_t memory_hash = 0;
  std::uint64_t events = 0;
};

std::uint64_t fnv(std::uint64_t h, std::span<const std::byte> bytes) {
  for (std::byte b : bytes)
    h = (h ^ static_cast<std::uint8_t>(b)) * 0x100000001b3ull;
  return h;
}

// A random workload over 5 members: chains of random writes between random
// pairs, polling, and at random times a crash, a restart, a partition, a
// heal and a slow link, all drawn from the world's generator.
Outcome run_workload(std::uint64_t seed, bool traced) {
  SimConfig config;
  config.link_timeout_ns = 50'000;
  config.spike_one_in = 20;
  config.spike_ns = 30'000;
  SimNet net(seed, config, 5, 64 << 10, 16 << 10);
  Outcome out;
  out.trace_hash = 0xcbf29ce484222325ull;
  if (traced) {
    net.world.set_trace([&out](std::string_view line) {
      out.trace_hash = fnv(out.trace_hash, std::as_bytes(std::span(line.data(), line.size())));
      ++out.trace_lines;
    });
  }
  SimRandom& rng = net.world.rng();
  for (NodeId n = 1; n <= 5; ++n)
    fill(net.host(n).send->bytes(), seed + n);
  const std::uint64_t crash_ns = rng.between(20'000, 100'000);
  net.world.schedule(crash_ns,
                     [](SimWorld& w) { w.crash(static_cast<NodeId>(w.rng().between(4, 5))); });
  net.world.schedule(rng.between(20'000, 200'000), [](SimWorld& w) {
    const NodeId a[] = {1};
    const NodeId b[] = {2, 3};
    w.partition(a, b);
  });
  net.world.schedule(250'000, [](SimWorld& w) { w.heal(); });
  net.world.set_link_delay(2, 3, rng.below(20'000));
  std::uint32_t wr = 0;
  while (net.world.now_ns() < 400'000) {
    for (int k = 0; k < 3; ++k) {
      const auto from = static_cast<NodeId>(rng.between(1, 5));
      const auto to = static_cast<NodeId>(rng.between(1, 5));
      if (from == to || net.world.endpoint(from) == nullptr || net.link(from, to).failed())
        continue;
      WriteOp chain[4];
      const auto n = static_cast<std::uint32_t>(rng.between(1, 4));
      for (std::uint32_t i = 0; i < n; ++i) {
        const auto len = static_cast<std::uint32_t>(rng.between(0, 2000));
        chain[i] = write_op(*net.host(from).send, rng.below(8000), len, rng.below(60'000), ++wr);
        if (rng.one_in(2)) chain[i] = with_imm(chain[i], wr);
        if (rng.one_in(3)) chain[i] = signaled(chain[i]);
      }
      (void)net.link(from, to).post({chain, n});
    }
    net.run_until(net.world.now_ns() + rng.between(100, 3'000));
    if (net.world.now_ns() > 300'000 && net.world.endpoint(4) == nullptr) {
      net.start(4);
      for (NodeId p : {1u, 2u, 3u, 5u}) {
        if (net.world.endpoint(p) != nullptr) (void)net.try_connect(4, p);
      }
    }
  }
  out.event_hash = net.world.event_hash();
  out.events = net.world.stats().events;
  out.memory_hash = 0xcbf29ce484222325ull;
  for (NodeId n = 1; n <= 5; ++n) {
    if (net.host(n).recv) out.memory_hash = fnv(out.memory_hash, net.host(n).recv->bytes());
  }
  return out;
}

TEST(SimDeterminism, SameSeedSameRunDifferentSeedDifferentRun) {
  std::set<std::uint64_t> traces;
  std::set<std::uint64_t> memories;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    const Outcome first = run_workload(seed, true);
    const Outcome again = run_workload(seed, true);
    const Outcome untraced = run_workload(seed, false);
    ASSERT_GT(first.trace_lines, 1000u);
    ASSERT_EQ(first.trace_hash, again.trace_hash) << "seed " << seed;
    ASSERT_EQ(first.trace_lines, again.trace_lines) << "seed " << seed;
    ASSERT_EQ(first.event_hash, again.event_hash) << "seed " << seed;
    ASSERT_EQ(first.memory_hash, again.memory_hash) << "seed " << seed;
    // Tracing observes; it does not change the run.
    ASSERT_EQ(first.event_hash, untraced.event_hash) << "seed " << seed;
    ASSERT_EQ(first.memory_hash, untraced.memory_hash) << "seed " << seed;
    traces.insert(first.trace_hash);
    memories.insert(first.memory_hash);
  }
  EXPECT_EQ(traces.size(), 100u);
  EXPECT_EQ(memories.size(), 100u);
}

TEST(SimDeterminism, TraceLinesAreReadable) {
  SimNet net(1, {}, 2);
  std::vector<std::string> lines;
  net.world.set_trace([&](std::string_view line) { lines.emplace_back(line); });
  WriteOp op = signaled(with_imm(write_op(*net.host(1).send, 0, 64, 0, 7), 3));
  ASSERT_TRUE(net.link(1, 2).post({&op, 1}).ok());
  net.run_all();
  net.world.crash(2);
  ASSERT_GE(lines.size(), 4u);
  EXPECT_NE(lines[0].find("n1>n2 post wr=7 len=64 imm=3 signaled"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("n1>n2 land wr=7 len=64 imm=3"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("n1>n2 ack wr=7 signaled"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("n2 CRASH"), std::string::npos) << lines[3];
}

TEST(SimRandomTest, ReplaysAndStaysInRange) {
  SimRandom a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs = differs || x != c.next();
  }
  EXPECT_TRUE(differs);
  std::vector<int> counts(10);
  for (int i = 0; i < 100'000; ++i) {
    const std::uint64_t v = a.below(10);
    ASSERT_LT(v, 10u);
    ++counts[v];
  }
  for (int n : counts)
    EXPECT_NEAR(n, 10'000, 600);
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t v = a.between(5, 7);
    EXPECT_TRUE(v >= 5 && v <= 7);
  }
  EXPECT_EQ(a.below(1), 0u);
}

TEST(SimEventQueue, PopsByTimeThenByPushOrder) {
  EventQueue q;
  SimRandom rng(9);
  for (std::uint32_t i = 0; i < 5000; ++i) {
    SimEvent e;
    e.time_ns = rng.below(100);
    e.arg = i;
    q.push(e);
  }
  std::uint64_t last_time = 0;
  std::uint32_t last_arg = 0;
  bool first = true;
  while (!q.empty()) {
    const SimEvent e = q.pop();
    ASSERT_GE(e.time_ns, last_time);
    if (!first && e.time_ns == last_time) {
      ASSERT_GT(e.arg, last_arg);
    }
    last_time = e.time_ns;
    last_arg = e.arg;
    first = false;
  }
}

}  // namespace
}  // namespace ringcast::fabric::sim::test
