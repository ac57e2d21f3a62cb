// How fast the simulator runs, and that its steady state does not allocate.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "alloc_counter.hpp"
#include "sim_net.hpp"

namespace ringcast::fabric::sim::test {
namespace {

// 8 members stream 64-byte writes with immediates to each other (the shape
// of the ring's traffic), 4 per link per microsecond, every 16th signaled.
class Streaming {
 public:
  Streaming() : net_(1, SimConfig{}, 8, 64 << 10, 4096) {
    for (NodeId a = 1; a <= 8; ++a) {
      for (NodeId b = 1; b <= 8; ++b) {
        if (a != b) links_.push_back(&net_.link(a, b));
      }
    }
  }

  void run_for(std::uint64_t virtual_ns) {
    const std::uint64_t end = net_.world.now_ns() + virtual_ns;
    Completion batch[256];
    while (net_.world.now_ns() < end) {
      for (SimLink* l : links_)
        post_chain(*l);
      net_.world.run_until(net_.world.now_ns() + 1'000);
      for (NodeId n = 1; n <= 8; ++n) {
        while (net_.host(n).ep->poll(batch) > 0) {
        }
      }
    }
  }

  SimWorld& world() { return net_.world; }

 private:
  void post_chain(SimLink& l) {
    WriteOp chain[4];
    for (std::uint32_t i = 0; i < 4; ++i) {
      const std::uint64_t k = posted_ + i;
      chain[i] = with_imm(write_op(*net_.host(l.node()).send, 0, 64, k % 1000 * 64, k),
                          static_cast<std::uint32_t>(k));
      chain[i].signaled = k % 16 == 0;
    }
    if (l.post(chain).ok()) posted_ += 4;
  }

  SimNet net_;
  std::vector<SimLink*> links_;
  std::uint64_t posted_ = 0;
};

// Not a timing assertion: prints the rate for the record.
TEST(SimThroughput, EventsPerSecond) {
  Streaming s;
  const auto start = std::chrono::steady_clock::now();
  s.run_for(5'000'000);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const SimStats& st = s.world().stats();
  EXPECT_EQ(st.cq_overflows, 0u);
  EXPECT_GT(st.writes_landed, 1'000'000u);
  std::printf(
      "sim throughput: %llu events, %llu writes landed in %.3f s: %.2f M events/s, "
      "%.2f M writes/s\n",
      static_cast<unsigned long long>(st.events), static_cast<unsigned long long>(st.writes_landed),
      seconds, static_cast<double>(st.events) / seconds / 1e6,
      static_cast<double>(st.writes_landed) / seconds / 1e6);
  RecordProperty("events_per_second", static_cast<int>(static_cast<double>(st.events) / seconds));
}

TEST(SimThroughput, SteadyStateDoesNotAllocate) {
  ringcast::test::start_counting_allocations();
  auto probe = std::make_unique<std::vector<int>>(100);
  ASSERT_GE(ringcast::test::stop_counting_allocations(), 2u);  // the counter counts
  Streaming s;
  s.run_for(200'000);  // warm-up: pools, heap and completion queues reach their size
  const std::uint64_t events_before = s.world().stats().events;
  ringcast::test::start_counting_allocations();
  s.run_for(1'000'000);
  const std::uint64_t allocations = ringcast::test::stop_counting_allocations();
  EXPECT_GT(s.world().stats().events - events_before, 100'000u);
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace ringcast::fabric::sim::test
