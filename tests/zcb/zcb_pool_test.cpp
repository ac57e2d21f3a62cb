// ZeroCopyPool over the simulated fabric: size classes, growth and its bound,
// the refusal of every pointer that is not a live buffer (changing nothing),
// deferred frees while sends are in flight, a randomized check against a
// reference model, and a multithreaded stress (run it under ASan too).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "fabric/sim/sim_world.hpp"
#include "zcb/zero_copy_pool.hpp"

namespace ringcast::zcb {
namespace {

using fabric::sim::SimEndpoint;
using fabric::sim::SimRandom;
using fabric::sim::SimWorld;

// 4 KiB slabs of at most four 1 KiB buffers, at most four slabs.
PoolConfig small_config() {
  PoolConfig c;
  c.max_buffer_bytes = 1024;
  c.slab_bytes = 4096;
  c.initial_slabs = 1;
  c.max_reserved_bytes = 4 * 4096;
  c.max_sends_in_flight = 8;
  return c;
}

class ZcbPool : public ::testing::Test {
 protected:
  void make(const PoolConfig& config) {
    auto created = ZeroCopyPool::create(endpoint_, config);
    ASSERT_TRUE(created.ok()) << created.error().message();
    pool_ = std::move(*created);
  }
  void* alloc_ok(std::size_t bytes) {
    auto buffer = pool_->alloc(bytes);
    EXPECT_TRUE(buffer.ok()) << buffer.error().message();
    return buffer.ok() ? *buffer : nullptr;
  }
  // Allocates `bytes` buffers until the pool refuses; returns them all.
  std::vector<std::byte*> exhaust(std::size_t bytes) {
    std::vector<std::byte*> out;
    for (;;) {
      auto buffer = pool_->alloc(bytes);
      if (!buffer) {
        EXPECT_EQ(buffer.error().code, Errc::try_again) << buffer.error().message();
        return out;
      }
      out.push_back(static_cast<std::byte*>(*buffer));
    }
  }

  SimWorld world_{1};
  SimEndpoint& endpoint_ = world_.add_endpoint(1);
  std::unique_ptr<ZeroCopyPool> pool_;
};

bool same(const PoolCounters& a, const PoolCounters& b) {
  return a.buffers_live == b.buffers_live && a.buffers_deferred == b.buffers_deferred &&
         a.bytes_live == b.bytes_live && a.bytes_reserved == b.bytes_reserved &&
         a.slabs == b.slabs && a.sends_in_flight == b.sends_in_flight &&
         a.deferred_frees == b.deferred_frees && a.invalid_frees == b.invalid_frees &&
         a.slab_reassignments == b.slab_reassignments;
}

// The error code of a failed result; nothing for a success (so a wrong
// success fails the expectation instead of asserting inside error()).
template <class R>
std::optional<Errc> error_code(const R& result) {
  if (result.ok()) return std::nullopt;
  return result.error().code;
}

bool overlaps(const std::byte* a, std::size_t a_bytes, const std::byte* b, std::size_t b_bytes) {
  return a < b + b_bytes && b < a + a_bytes;
}

void fill(void* buffer, std::size_t bytes, std::uint8_t value) {
  std::memset(buffer, value, bytes);
}

bool holds(const void* buffer, std::size_t bytes, std::uint8_t value) {
  const auto* p = static_cast<const std::uint8_t*>(buffer);
  return std::all_of(p, p + bytes, [value](std::uint8_t b) { return b == value; });
}

TEST(ZcbPoolConfig, RefusesEachBadFieldByName) {
  EXPECT_TRUE(validate(PoolConfig{}).ok());
  EXPECT_TRUE(validate(small_config()).ok());
  auto refused = [](PoolConfig c, const char* field) {
    Status s = validate(c);
    ASSERT_FALSE(s.ok()) << field;
    EXPECT_EQ(s.error().code, Errc::invalid_argument);
    EXPECT_NE(s.error().message().find(field), std::string::npos) << s.error().message();
  };
  PoolConfig c = small_config();
  c.max_buffer_bytes = 1000;  // not a power of two
  refused(c, "max_buffer_bytes");
  c = small_config();
  c.max_buffer_bytes = 32;
  refused(c, "max_buffer_bytes");
  c = small_config();
  c.slab_bytes = 512;  // smaller than the largest buffer
  refused(c, "slab_bytes");
  c = small_config();
  c.max_reserved_bytes = 4096 * 3 + 1;
  refused(c, "max_reserved_bytes");
  c = small_config();
  c.initial_slabs = 5;
  refused(c, "initial_slabs");
  c = small_config();
  c.max_sends_in_flight = 0;
  refused(c, "max_sends_in_flight");
  c.max_sends_in_flight = 70000;
  refused(c, "max_sends_in_flight");
}

TEST_F(ZcbPool, CreateRegistersTheInitialSlabsOnly) {
  PoolConfig c;
  c.initial_slabs = 3;
  make(c);
  PoolCounters n = pool_->counters();
  EXPECT_EQ(n.slabs, 3u);
  EXPECT_EQ(n.bytes_reserved, 3 * c.slab_bytes);
  EXPECT_EQ(n.buffers_live, 0u);
  // A crashed endpoint cannot register: create() reports the endpoint's error.
  world_.crash(1);
  auto failed = ZeroCopyPool::create(endpoint_, c);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::closed);
}

TEST_F(ZcbPool, EverySizeRoundTripsInItsClassAligned) {
  make(PoolConfig{});
  std::vector<std::size_t> sizes = {0, 1, 63, 64, 65, 100, 128, 129, 4095, 4096, 4097};
  for (std::size_t s = 256; s <= (1u << 20); s <<= 1) {
    sizes.push_back(s - 1);
    sizes.push_back(s);
  }
  for (std::size_t size : sizes) {
    void* buffer = alloc_ok(size);
    ASSERT_NE(buffer, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buffer) % 64, 0u) << size;
    const std::size_t expected = std::max<std::size_t>(64, std::bit_ceil(size));
    ASSERT_EQ(*pool_->capacity(buffer), expected) << size;
    fill(buffer, expected, 0xA5);  // the whole capacity is writable (ASan would tell)
    auto segment = pool_->segment(buffer, size);
    ASSERT_TRUE(segment.ok()) << segment.error().message();
    EXPECT_EQ(segment->region->data() + segment->offset, buffer);
    EXPECT_EQ(segment->length, size);
    EXPECT_EQ(segment->region->access(), fabric::Access::local_only);
    EXPECT_TRUE(segment->region->contains(buffer, expected));
    EXPECT_EQ(pool_->counters().buffers_live, 1u);
    ASSERT_TRUE(pool_->free(buffer).ok());
  }
  PoolCounters n = pool_->counters();
  EXPECT_EQ(n.buffers_live, 0u);
  EXPECT_EQ(n.bytes_live, 0u);
  EXPECT_EQ(n.invalid_frees, 0u);
}

TEST_F(ZcbPool, LiveBuffersNeverOverlapAndKeepTheirBytes) {
  make(PoolConfig{});
  SimRandom rng(7);
  struct Live {
    std::byte* p;
    std::size_t bytes;
  };
  std::vector<Live> live;
  for (int i = 0; i < 300; ++i) {
    const std::size_t bytes = 1 + rng.below(64 << 10);
    auto* p = static_cast<std::byte*>(alloc_ok(bytes));
    ASSERT_NE(p, nullptr);
    for (const Live& other : live)
      ASSERT_FALSE(overlaps(p, bytes, other.p, other.bytes));
    fill(p, bytes, static_cast<std::uint8_t>(i));
    live.push_back({p, bytes});
  }
  for (std::size_t i = 0; i < live.size(); ++i) {
    EXPECT_TRUE(holds(live[i].p, live[i].bytes, static_cast<std::uint8_t>(i)));
    ASSERT_TRUE(pool_->free(live[i].p).ok());
  }
  EXPECT_EQ(pool_->counters().buffers_live, 0u);
}

TEST_F(ZcbPool, TooBigIsRefusedAndChangesNothing) {
  make(small_config());
  const PoolCounters before = pool_->counters();
  auto refused = pool_->alloc(1025);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::too_big);
  EXPECT_TRUE(same(before, pool_->counters()));
}

TEST_F(ZcbPool, GrowsByWholeSlabsUpToTheBoundThenTryAgain) {
  make(small_config());
  std::vector<void*> buffers;
  for (std::uint64_t i = 0; i < 16; ++i) {
    buffers.push_back(alloc_ok(1024));
    EXPECT_EQ(pool_->counters().slabs, i / 4 + 1) << i;  // a new slab only when the last is full
  }
  const PoolCounters full = pool_->counters();
  EXPECT_EQ(full.bytes_reserved, 4 * 4096u);
  auto refused = pool_->alloc(1000);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::try_again);
  EXPECT_TRUE(same(full, pool_->counters()));
  // One freed buffer is the next one handed out.
  ASSERT_TRUE(pool_->free(buffers[5]).ok());
  EXPECT_EQ(alloc_ok(1024), buffers[5]);
}

TEST_F(ZcbPool, GrowsBeforeTakingAnIdleSlabOfAnotherClass) {
  make(small_config());
  ASSERT_TRUE(pool_->free(alloc_ok(64)).ok());  // the only slab is now an idle 64 B slab
  alloc_ok(1024);
  EXPECT_EQ(pool_->counters().slabs, 2u);
  EXPECT_EQ(pool_->counters().slab_reassignments, 0u);
}

TEST_F(ZcbPool, AtTheBoundAnIdleSlabChangesClass) {
  make(small_config());
  std::vector<std::byte*> small = exhaust(64);
  ASSERT_EQ(small.size(), 4u * 64);
  // No slab is idle: a 1 KiB buffer cannot be had.
  ASSERT_FALSE(pool_->alloc(1024).ok());
  // Free every buffer of one slab (they share its region), but one.
  const fabric::MemoryRegion* region = pool_->segment(small[0], 0)->region;
  std::vector<std::byte*> same_slab;
  for (std::byte* p : small)
    if (pool_->segment(p, 0)->region == region) same_slab.push_back(p);
  ASSERT_EQ(same_slab.size(), 64u);
  for (std::size_t i = 1; i < same_slab.size(); ++i)
    ASSERT_TRUE(pool_->free(same_slab[i]).ok());
  ASSERT_FALSE(pool_->alloc(1024).ok());  // one live buffer keeps the slab in its class
  ASSERT_TRUE(pool_->free(same_slab[0]).ok());
  auto* big = static_cast<std::byte*>(alloc_ok(1024));
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(pool_->segment(big, 1024)->region, region);
  EXPECT_EQ(pool_->counters().slabs, 4u);
  EXPECT_EQ(pool_->counters().slab_reassignments, 1u);
}

TEST_F(ZcbPool, FailedRegistrationReportsTheEndpointsError) {
  make(small_config());
  for (int i = 0; i < 4; ++i)
    alloc_ok(1024);
  world_.crash(1);  // the endpoint refuses every allocate() from now on
  auto refused = pool_->alloc(1024);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::closed);
  EXPECT_EQ(pool_->counters().slabs, 1u);
}

// Every kind of pointer that is not a live buffer: refused, and afterwards
// the pool hands out exactly the buffers it would have (none overlapping
// the live ones, whose bytes are intact).
TEST_F(ZcbPool, InvalidFreesAreRefusedAndChangeNothing) {
  make(small_config());
  auto* a = static_cast<std::byte*>(alloc_ok(1024));
  auto* b = static_cast<std::byte*>(alloc_ok(128));
  fill(a, 1024, 0xAA);
  fill(b, 128, 0xBB);
  const fabric::Segment sa = *pool_->segment(a, 0);
  std::byte* slab_start = sa.region->data();
  int on_stack = 0;
  auto on_heap = std::make_unique<std::byte[]>(256);
  std::byte* freed = static_cast<std::byte*>(alloc_ok(1024));
  ASSERT_TRUE(pool_->free(freed).ok());
  ASSERT_EQ(slab_start, a);  // the first chunk of the first slab
  std::vector<void*> invalid = {
      nullptr,
      &on_stack,
      on_heap.get(),
      a + 1,
      a + 64,
      a + 1023,
      b + 64,
      b + 127,
      freed,                           // freed already
      slab_start + 2048,               // a chunk never handed out
      slab_start + sa.region->size(),  // one past the slab
      slab_start - 64,                 // before it
  };
  // Around the slab may lie another slab of the pool; never a live buffer but b.
  std::erase(invalid, static_cast<void*>(b));
  const PoolCounters before = pool_->counters();
  for (void* p : invalid) {
    Status s = pool_->free(p);
    ASSERT_FALSE(s.ok()) << p;
    EXPECT_EQ(s.error().code, Errc::invalid_argument);
  }
  PoolCounters after = pool_->counters();
  EXPECT_EQ(after.invalid_frees, before.invalid_frees + invalid.size());
  after.invalid_frees = before.invalid_frees;
  EXPECT_TRUE(same(before, after));
  // 1 KiB: the 3 free chunks of a's slab, then 2 new slabs of 4 (b's slab is
  // the 2nd of 4); 128 B: the 31 free chunks of b's slab.
  std::vector<std::byte*> big = exhaust(1024);
  std::vector<std::byte*> small = exhaust(128);
  EXPECT_EQ(big.size(), 3u + 8);
  EXPECT_EQ(small.size(), 31u);
  for (std::byte* p : big) {
    EXPECT_FALSE(overlaps(p, 1024, a, 1024) || overlaps(p, 1024, b, 128));
    fill(p, 1024, 0x11);
  }
  for (std::byte* p : small) {
    EXPECT_FALSE(overlaps(p, 128, a, 1024) || overlaps(p, 128, b, 128));
    fill(p, 128, 0x22);
  }
  EXPECT_TRUE(holds(a, 1024, 0xAA));
  EXPECT_TRUE(holds(b, 128, 0xBB));
}

TEST_F(ZcbPool, DoubleFreeIsRefusedAndTheBufferIsHandedOutOnce) {
  make(small_config());
  void* p = alloc_ok(256);
  void* q = alloc_ok(256);
  ASSERT_TRUE(pool_->free(p).ok());
  Status again = pool_->free(p);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::invalid_argument);
  EXPECT_EQ(pool_->counters().invalid_frees, 1u);
  EXPECT_EQ(pool_->counters().buffers_live, 1u);
  void* first = alloc_ok(256);
  void* second = alloc_ok(256);
  EXPECT_EQ(first, p);
  EXPECT_NE(second, p);
  EXPECT_NE(second, q);
}

TEST_F(ZcbPool, SegmentOnlyForTheStartOfALiveBufferWithinItsCapacity) {
  make(small_config());
  auto* p = static_cast<std::byte*>(alloc_ok(200));  // a 256 B buffer
  auto full = pool_->segment(p, 256);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->length, 256u);
  EXPECT_LE(full->offset + full->length, full->region->size());
  EXPECT_TRUE(pool_->segment(p, 0).ok());
  auto code = [&](const void* ptr, std::size_t len) {
    return error_code(pool_->segment(ptr, len));
  };
  EXPECT_EQ(code(p, 257), Errc::invalid_argument);
  EXPECT_EQ(code(p + 64, 64), Errc::invalid_argument);
  EXPECT_EQ(code(nullptr, 0), Errc::invalid_argument);
  auto sent = pool_->begin_send(p);
  ASSERT_TRUE(sent.ok());
  ASSERT_TRUE(pool_->free(p).ok());  // deferred: no longer the caller's
  EXPECT_EQ(code(p, 1), Errc::invalid_argument);
  EXPECT_EQ(error_code(pool_->capacity(p)), Errc::invalid_argument);
  ASSERT_TRUE(pool_->end_send(*sent).ok());
  EXPECT_EQ(code(p, 1), Errc::invalid_argument);  // freed
}

TEST_F(ZcbPool, FreeWhileInFlightWaitsForTheLastEndSend) {
  make(small_config());
  auto* p = static_cast<std::byte*>(alloc_ok(1024));
  fill(p, 1024, 0x5A);
  auto t1 = pool_->begin_send(p);
  auto t2 = pool_->begin_send(p);
  ASSERT_TRUE(t1.ok() && t2.ok());
  EXPECT_NE(*t1, 0u);
  EXPECT_NE(*t1, *t2);
  EXPECT_TRUE(pool_->in_flight(p));
  EXPECT_EQ(pool_->counters().sends_in_flight, 2u);

  ASSERT_TRUE(pool_->free(p).ok());
  PoolCounters n = pool_->counters();
  EXPECT_EQ(n.buffers_live, 0u);
  EXPECT_EQ(n.buffers_deferred, 1u);
  EXPECT_EQ(n.deferred_frees, 1u);
  EXPECT_EQ(n.bytes_live, 1024u);
  EXPECT_TRUE(pool_->in_flight(p));
  EXPECT_EQ(error_code(pool_->free(p)), Errc::invalid_argument);  // a double free still
  EXPECT_EQ(error_code(pool_->begin_send(p)), Errc::invalid_argument);

  // While the NIC may read it, no alloc returns it, whatever the pressure.
  std::vector<std::byte*> others = exhaust(1024);
  EXPECT_EQ(others.size(), 15u);
  for (std::byte* o : others)
    EXPECT_NE(o, p);
  ASSERT_TRUE(pool_->end_send(*t1).ok());
  EXPECT_TRUE(pool_->in_flight(p));
  EXPECT_FALSE(pool_->alloc(1024).ok());
  EXPECT_TRUE(holds(p, 1024, 0x5A));  // nobody wrote into it meanwhile
  ASSERT_TRUE(pool_->end_send(*t2).ok());
  EXPECT_FALSE(pool_->in_flight(p));
  n = pool_->counters();
  EXPECT_EQ(n.buffers_deferred, 0u);
  EXPECT_EQ(n.sends_in_flight, 0u);
  EXPECT_EQ(alloc_ok(1024), p);  // now, and only now
}

TEST_F(ZcbPool, EndSendWithoutFreeKeepsTheBufferLive) {
  make(small_config());
  void* p = alloc_ok(64);
  auto t = pool_->begin_send(p);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(pool_->end_send(*t).ok());
  EXPECT_FALSE(pool_->in_flight(p));
  EXPECT_EQ(pool_->counters().buffers_live, 1u);
  EXPECT_TRUE(pool_->segment(p, 64).ok());
  EXPECT_TRUE(pool_->free(p).ok());
}

TEST_F(ZcbPool, EachTokenEndsExactlyOnce) {
  make(small_config());
  void* p = alloc_ok(64);
  auto t1 = pool_->begin_send(p);
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(error_code(pool_->end_send(0)), Errc::invalid_argument);
  EXPECT_EQ(error_code(pool_->end_send(*t1 + 1)), Errc::invalid_argument);
  EXPECT_EQ(error_code(pool_->end_send(~0ull)), Errc::invalid_argument);
  ASSERT_TRUE(pool_->end_send(*t1).ok());
  EXPECT_EQ(error_code(pool_->end_send(*t1)), Errc::invalid_argument);
  // The slot is reused with a new generation: the stale token stays dead.
  auto t2 = pool_->begin_send(p);
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(static_cast<std::uint32_t>(*t2), static_cast<std::uint32_t>(*t1));
  EXPECT_EQ(error_code(pool_->end_send(*t1)), Errc::invalid_argument);
  EXPECT_TRUE(pool_->in_flight(p));
  EXPECT_EQ(pool_->counters().sends_in_flight, 1u);
  ASSERT_TRUE(pool_->end_send(*t2).ok());
}

TEST_F(ZcbPool, SendsInFlightAreBounded) {
  make(small_config());  // 8 sends at most
  void* p = alloc_ok(64);
  void* q = alloc_ok(64);
  std::vector<std::uint64_t> tokens;
  for (int i = 0; i < 8; ++i)
    tokens.push_back(*pool_->begin_send(i % 2 ? p : q));
  auto refused = pool_->begin_send(p);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::try_again);
  EXPECT_EQ(pool_->counters().sends_in_flight, 8u);
  ASSERT_TRUE(pool_->end_send(tokens[3]).ok());
  EXPECT_TRUE(pool_->begin_send(p).ok());
}

}  // namespace
}  // namespace ringcast::zcb
