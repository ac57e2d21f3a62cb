// SegmentRegions: a pool's regions carved out of a given span and
// registered only as the pool asks (over the simulated fabric). Ranges come
// back on free and coalesce; a span with no room refuses; the span's owner
// lives until the last region over it is gone; a pool over it hands out
// buffers inside the span only, registering as it grows.
#include <gtest/gtest.h>

#include <sys/mman.h>

#include <memory>
#include <vector>

#include "fabric/sim/sim_world.hpp"
#include "zcb/segment_regions.hpp"

namespace ringcast::zcb {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

// Page-aligned anonymous memory, unmapped when the last owner lets go.
std::shared_ptr<std::span<std::byte>> mapped(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(p, MAP_FAILED);
  auto* span = new std::span<std::byte>(static_cast<std::byte*>(p), bytes);
  return std::shared_ptr<std::span<std::byte>>(span, [](std::span<std::byte>* s) {
    ::munmap(s->data(), s->size());
    delete s;
  });
}

class SegmentRegionsTest : public ::testing::Test {
 protected:
  std::shared_ptr<SegmentRegions> make(std::size_t bytes) {
    memory_ = mapped(bytes);
    return SegmentRegions::create(
        *memory_,
        [this](std::span<std::byte> m) {
          ++registrations_;
          return endpoint_.register_memory(m, fabric::Access::local_only);
        },
        memory_);
  }
  fabric::sim::SimWorld world_{1};
  fabric::sim::SimEndpoint& endpoint_ = world_.add_endpoint(1);
  std::shared_ptr<std::span<std::byte>> memory_;
  int registrations_ = 0;
};

TEST_F(SegmentRegionsTest, CarvesPagesInsideTheSpanAndTakesThemBack) {
  auto regions = make(4 * kMiB);
  EXPECT_EQ(registrations_, 0);
  auto a = regions->carve(1);
  auto b = regions->carve(2 * kMiB);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(registrations_, 2);
  EXPECT_EQ((*a)->size(), SegmentRegions::kPageBytes);
  EXPECT_EQ((*b)->size(), 2 * kMiB);
  EXPECT_TRUE(regions->offset_of((*a)->data()).has_value());
  EXPECT_TRUE(regions->offset_of((*b)->data() + 2 * kMiB - 1).has_value());
  EXPECT_EQ(regions->carved_bytes(), 2 * kMiB + SegmentRegions::kPageBytes);
  // No room for another 2 MiB: the first page is taken.
  auto c = regions->carve(2 * kMiB);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Errc::try_again);
  a->reset();
  b->reset();
  EXPECT_EQ(regions->carved_bytes(), 0u);
  // Given back and coalesced: the whole span is one range again.
  auto whole = regions->carve(4 * kMiB);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ((*whole)->data(), memory_->data());
}

TEST_F(SegmentRegionsTest, ASharedBudgetBoundsSeveralSpans) {
  auto budget = std::make_shared<RegisteredBudget>(2 * kMiB);
  auto register_range = [this](std::span<std::byte> m) {
    return endpoint_.register_memory(m, fabric::Access::local_only);
  };
  auto one_memory = mapped(4 * kMiB), two_memory = mapped(4 * kMiB);
  auto one = SegmentRegions::create(*one_memory, register_range, one_memory, budget);
  auto two = SegmentRegions::create(*two_memory, register_range, two_memory, budget);
  auto a = one->carve(2 * kMiB);
  ASSERT_TRUE(a.ok());
  auto refused = two->carve(1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::try_again);
  EXPECT_EQ(two->carved_bytes(), 0u);
  a->reset();
  EXPECT_EQ(budget->used.load(), 0u);
  auto b = two->carve(kMiB);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(budget->used.load(), kMiB);
  auto none = one->carve(8 * kMiB);  // no range that long: the budget is untouched
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(budget->used.load(), kMiB);
}

TEST_F(SegmentRegionsTest, TheSpanOutlivesItsLastRegion) {
  auto regions = make(2 * kMiB);
  std::weak_ptr<std::span<std::byte>> owner = memory_;
  auto r = regions->carve(kMiB);
  ASSERT_TRUE(r.ok());
  memory_.reset();
  regions.reset();
  EXPECT_FALSE(owner.expired());  // the region keeps it mapped
  (*r)->data()[0] = std::byte{1};
  r->reset();
  EXPECT_TRUE(owner.expired());
}

TEST_F(SegmentRegionsTest, APoolOverItStaysInsideAndRegistersAsItGrows) {
  auto regions = make(8 * kMiB);
  PoolConfig c;
  c.initial_slabs = 0;
  c.max_reserved_bytes = 8 * kMiB;
  c.max_alloc_bytes = 3 * kMiB;
  auto pool = ZeroCopyPool::create(regions->allocator(), c);
  ASSERT_TRUE(pool.ok()) << pool.error().message();
  EXPECT_EQ(registrations_, 0);
  std::vector<void*> buffers;
  for (int i = 0; i < 3; ++i) {
    auto b = (*pool)->alloc(1000);
    ASSERT_TRUE(b.ok());
    buffers.push_back(*b);
  }
  EXPECT_EQ(registrations_, 1);  // one slab
  auto large = (*pool)->alloc(3 * kMiB);
  ASSERT_TRUE(large.ok());
  EXPECT_EQ(registrations_, 2);
  for (void* b : buffers)
    EXPECT_TRUE(regions->offset_of(b).has_value());
  EXPECT_TRUE(regions->offset_of(static_cast<std::byte*>(*large) + 3 * kMiB - 1).has_value());
  auto second = (*pool)->alloc(3 * kMiB);  // the span is full then
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(regions->carved_bytes(), 8 * kMiB);
  EXPECT_FALSE((*pool)->alloc(3 * kMiB).ok());
  ASSERT_TRUE((*pool)->free(*large).ok());
  ASSERT_TRUE((*pool)->free(*second).ok());
  EXPECT_EQ(regions->carved_bytes(), 2 * kMiB);  // large buffers deregistered on free
  pool->reset();
  EXPECT_EQ(regions->carved_bytes(), 0u);
}

}  // namespace
}  // namespace ringcast::zcb
