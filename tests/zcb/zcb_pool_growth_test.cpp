// ZeroCopyPool past its first slabs, over the simulated fabric: the working
// sets of corosync's stress_cpgzc (2,000 live buffers of 1 to 100,000 bytes)
// and testzcgc (100 buffers of 1 MiB), the limit (a refusal and one log line,
// not one per refused call), and memory coming back on free.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "fabric/sim/random.hpp"
#include "fabric/sim/sim_world.hpp"
#include "zcb/zero_copy_pool.hpp"

namespace ringcast::zcb {
namespace {

std::vector<std::string> g_lines;
void keep_line(std::string_view line) {
  g_lines.emplace_back(line);
}

// The runtime's shape (1 MiB classes in 2 MiB slabs) under a given limit.
PoolConfig runtime_like(std::size_t limit_bytes) {
  PoolConfig c;
  c.initial_slabs = 1;
  c.max_reserved_bytes = limit_bytes;
  c.limit_hint = "test.limit";
  return c;
}

class ZcbPoolGrowth : public ::testing::Test {
 protected:
  void make(const PoolConfig& config) {
    auto created = ZeroCopyPool::create(endpoint_, config);
    ASSERT_TRUE(created.ok()) << created.error().message();
    pool_ = std::move(*created);
  }
  fabric::sim::SimWorld world_{1};
  fabric::sim::SimEndpoint& endpoint_ = world_.add_endpoint(1);
  std::unique_ptr<ZeroCopyPool> pool_;
};

// Each buffer carries its index at both ends: an overlap would overwrite one.
void mark(void* buffer, std::size_t bytes, std::uint32_t index) {
  auto* b = static_cast<std::byte*>(buffer);
  std::memcpy(b, &index, std::min(bytes, sizeof index));
  if (bytes >= 2 * sizeof index) std::memcpy(b + bytes - sizeof index, &index, sizeof index);
}
bool marked(const void* buffer, std::size_t bytes, std::uint32_t index) {
  std::uint32_t head = 0;
  std::uint32_t tail = 0;
  const auto* b = static_cast<const std::byte*>(buffer);
  std::memcpy(&head, b, std::min(bytes, sizeof head));
  if (bytes < sizeof index) return std::memcmp(&head, &index, bytes) == 0;
  if (bytes >= 2 * sizeof index) std::memcpy(&tail, b + bytes - sizeof index, sizeof tail);
  return head == index && (bytes < 2 * sizeof index || tail == index);
}

TEST_F(ZcbPoolGrowth, TwoThousandLiveBuffersOfOneTo100000Bytes) {
  make(runtime_like(std::size_t{1} << 30));
  fabric::sim::SimRandom rng(7);
  std::vector<std::pair<void*, std::size_t>> live;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    const std::size_t bytes = 1 + rng.below(100'000);
    auto buffer = pool_->alloc(bytes);
    ASSERT_TRUE(buffer.ok()) << i << ": " << buffer.error().message();
    mark(*buffer, bytes, i);
    live.emplace_back(*buffer, bytes);
  }
  const PoolCounters full = pool_->counters();
  EXPECT_EQ(full.buffers_live, 2000u);
  EXPECT_GT(full.bytes_reserved, std::uint64_t{64} << 20);  // past the old fixed bound
  for (std::uint32_t i = 0; i < live.size(); ++i) {
    ASSERT_TRUE(marked(live[i].first, live[i].second, i)) << i;
    ASSERT_TRUE(pool_->free(live[i].first).ok());
  }
  EXPECT_EQ(pool_->counters().buffers_live, 0u);
  EXPECT_EQ(pool_->counters().bytes_live, 0u);
}

TEST_F(ZcbPoolGrowth, HundredBuffersOfOneMiB) {
  make(runtime_like(std::size_t{1} << 30));
  std::vector<void*> buffers;
  for (std::uint32_t i = 0; i < 100; ++i) {
    auto buffer = pool_->alloc(std::size_t{1} << 20);
    ASSERT_TRUE(buffer.ok()) << i << ": " << buffer.error().message();
    mark(*buffer, std::size_t{1} << 20, i);
    buffers.push_back(*buffer);
  }
  EXPECT_EQ(pool_->counters().slabs, 50u);  // two per slab, nothing wasted
  for (std::uint32_t i = 0; i < buffers.size(); ++i)
    ASSERT_TRUE(marked(buffers[i], std::size_t{1} << 20, i)) << i;
}

TEST_F(ZcbPoolGrowth, TheLimitRefusesAndLogsOnceNotPerCall) {
  make(runtime_like(std::size_t{8} << 20));
  std::vector<void*> buffers;
  for (int i = 0; i < 8; ++i) {
    auto buffer = pool_->alloc(std::size_t{1} << 20);
    ASSERT_TRUE(buffer.ok()) << i << ": " << buffer.error().message();
    buffers.push_back(*buffer);
  }
  g_lines.clear();
  set_log_sink(keep_line);
  for (int i = 0; i < 50; ++i) {
    auto refused = pool_->alloc(1000);  // another class: no idle slab to move either
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, Errc::try_again);
  }
  set_log_sink(nullptr);
  ASSERT_EQ(g_lines.size(), 1u);
  EXPECT_NE(g_lines[0].find("8388608"), std::string::npos) << g_lines[0];
  EXPECT_NE(g_lines[0].find("test.limit"), std::string::npos) << g_lines[0];
  EXPECT_EQ(pool_->counters().limit_refusals, 50u);
  EXPECT_EQ(pool_->counters().bytes_reserved, std::uint64_t{8} << 20);
}

TEST_F(ZcbPoolGrowth, FreeThenAllocReusesTheMemory) {
  make(runtime_like(std::size_t{8} << 20));
  std::vector<void*> buffers;
  for (int i = 0; i < 8; ++i)
    buffers.push_back(*pool_->alloc(std::size_t{1} << 20));
  ASSERT_FALSE(pool_->alloc(std::size_t{1} << 20).ok());
  ASSERT_TRUE(pool_->free(buffers[3]).ok());
  auto again = pool_->alloc(std::size_t{1} << 20);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, buffers[3]);
  // A whole slab freed serves a smaller class at the limit.
  ASSERT_TRUE(pool_->free(buffers[0]).ok());
  ASSERT_TRUE(pool_->free(buffers[1]).ok());
  EXPECT_TRUE(pool_->alloc(100).ok());
  EXPECT_EQ(pool_->counters().bytes_reserved, std::uint64_t{8} << 20);
}

constexpr std::size_t kMiB = std::size_t{1} << 20;

TEST_F(ZcbPoolGrowth, ALargeBufferHasARegionOfItsOwnUntilFreed) {
  PoolConfig c = runtime_like(64 * kMiB);
  c.max_alloc_bytes = 8 * kMiB;
  make(c);
  const std::size_t bytes = 3 * kMiB + 1;
  auto large = pool_->alloc(bytes);
  ASSERT_TRUE(large.ok()) << large.error().message();
  PoolCounters n = pool_->counters();
  EXPECT_EQ(n.large_buffers, 1u);
  EXPECT_EQ(n.slabs, 1u);  // the initial slab only
  EXPECT_EQ(n.bytes_reserved, 2 * kMiB + 3 * kMiB + 4096);
  EXPECT_EQ(*pool_->capacity(*large), 3 * kMiB + 4096);  // whole pages
  auto segment = pool_->segment(*large, bytes);
  ASSERT_TRUE(segment.ok());
  EXPECT_EQ(segment->offset, 0u);
  EXPECT_EQ(segment->region->size(), 3 * kMiB + 4096);
  EXPECT_FALSE(pool_->segment(*large, 3 * kMiB + 4097).ok());
  EXPECT_FALSE(pool_->free(static_cast<std::byte*>(*large) + 4096).ok());  // interior
  std::memset(*large, 'L', bytes);
  ASSERT_TRUE(pool_->free(*large).ok());
  n = pool_->counters();
  EXPECT_EQ(n.large_buffers, 0u);
  EXPECT_EQ(n.bytes_reserved, 2 * kMiB);  // deregistered on free
  EXPECT_EQ(n.bytes_live, 0u);
  EXPECT_FALSE(pool_->free(*large).ok());  // its address names nothing now
  EXPECT_EQ(pool_->alloc(8 * kMiB + 1).error().code, Errc::too_big);
  // Its slot serves the next one; the small classes are untouched meanwhile.
  void* small = *pool_->alloc(100);
  auto again = pool_->alloc(5 * kMiB);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(pool_->free(small).ok());
  EXPECT_TRUE(pool_->free(*again).ok());
}

TEST_F(ZcbPoolGrowth, LargeBuffersCountAgainstTheLimit) {
  PoolConfig c = runtime_like(8 * kMiB);
  c.max_alloc_bytes = 8 * kMiB;
  make(c);
  auto first = pool_->alloc(5 * kMiB);  // 2 MiB slab + 5 MiB
  ASSERT_TRUE(first.ok());
  g_lines.clear();
  set_log_sink(keep_line);
  auto refused = pool_->alloc(5 * kMiB);
  set_log_sink(nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::try_again);
  EXPECT_EQ(g_lines.size(), 1u);
  ASSERT_TRUE(pool_->free(*first).ok());
  EXPECT_TRUE(pool_->alloc(5 * kMiB).ok());
}

TEST_F(ZcbPoolGrowth, ALargeBufferFreedInFlightWaitsForItsLastSend) {
  PoolConfig c = runtime_like(64 * kMiB);
  c.max_alloc_bytes = 4 * kMiB;
  make(c);
  void* large = *pool_->alloc(3 * kMiB);
  auto token = pool_->begin_send(large);
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(pool_->free(large).ok());
  EXPECT_TRUE(pool_->in_flight(large));
  EXPECT_EQ(pool_->counters().large_buffers, 1u);  // the NIC may still read it
  ASSERT_TRUE(pool_->end_send(*token).ok());
  EXPECT_FALSE(pool_->in_flight(large));
  EXPECT_EQ(pool_->counters().large_buffers, 0u);
  EXPECT_EQ(pool_->counters().bytes_reserved, 2 * kMiB);
}

}  // namespace
}  // namespace ringcast::zcb
