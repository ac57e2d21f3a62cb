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

}  // namespace
}  // namespace ringcast::zcb
