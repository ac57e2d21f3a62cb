// ZeroCopyPool against a reference model (random alloc / free / send / end
// sequences, valid and invalid, per seed), and a multithreaded stress where
// sends begun in one thread end in another and frees are deferred.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "fabric/sim/sim_world.hpp"
#include "zcb/zero_copy_pool.hpp"

namespace ringcast::zcb {
namespace {

using fabric::sim::SimRandom;
using fabric::sim::SimWorld;

bool holds(const std::byte* p, std::size_t bytes, std::uint8_t value) {
  for (std::size_t i = 0; i < bytes; ++i)
    if (p[i] != std::byte{value}) return false;
  return true;
}

// What the pool must say, from nothing but the calls made: which buffers
// exist (live or freed and still read), their sends, and the counters.
struct Model {
  struct Buffer {
    std::size_t capacity_bytes = 0;
    std::uint8_t pattern = 0;
    std::uint32_t sends = 0;
    bool freed = false;  // by the caller, sends still in flight
  };
  std::map<std::byte*, Buffer> buffers;  // by start address
  std::map<std::uint64_t, std::byte*> tokens;
  PoolCounters counters;

  bool overlaps_any(const std::byte* p, std::size_t bytes) const {
    auto next = buffers.lower_bound(const_cast<std::byte*>(p));
    if (next != buffers.end() && next->first < p + bytes) return true;
    if (next == buffers.begin()) return false;
    auto prev = std::prev(next);
    return prev->first + prev->second.capacity_bytes > p;
  }
  void forget(std::map<std::byte*, Buffer>::iterator it) {
    counters.bytes_live -= it->second.capacity_bytes;
    buffers.erase(it);
  }
};

class ModelCheck {
 public:
  ModelCheck(std::uint64_t seed, ZeroCopyPool& pool) : rng_(seed), pool_(pool) {}

  void step() {
    const std::uint64_t pick = rng_.below(100);
    if (pick < 30) return alloc();
    if (pick < 50) return free_live();
    if (pick < 58) return free_invalid();
    if (pick < 73) return begin_send();
    if (pick < 90) return end_send();
    if (pick < 94) return end_bogus();
    return check_segment();
  }

  void compare_counters() const {
    const PoolCounters got = pool_.counters();
    const PoolCounters& want = model_.counters;
    ASSERT_EQ(got.buffers_live, want.buffers_live);
    ASSERT_EQ(got.buffers_deferred, want.buffers_deferred);
    ASSERT_EQ(got.bytes_live, want.bytes_live);
    ASSERT_EQ(got.sends_in_flight, want.sends_in_flight);
    ASSERT_EQ(got.deferred_frees, want.deferred_frees);
    ASSERT_EQ(got.invalid_frees, want.invalid_frees);
    for (const auto& [p, b] : model_.buffers)
      ASSERT_EQ(pool_.in_flight(p), b.sends > 0);
  }

  // Ends every send and frees every buffer: the pool must be empty then.
  void drain() {
    while (!model_.tokens.empty())
      end_token(model_.tokens.begin());
    while (!model_.buffers.empty()) {
      auto it = model_.buffers.begin();
      ASSERT_TRUE(pool_.free(it->first).ok());
      --model_.counters.buffers_live;
      model_.forget(it);
    }
  }

 private:
  std::map<std::byte*, Model::Buffer>::iterator random_buffer(bool live_only) {
    std::vector<std::map<std::byte*, Model::Buffer>::iterator> choices;
    for (auto it = model_.buffers.begin(); it != model_.buffers.end(); ++it)
      if (!live_only || !it->second.freed) choices.push_back(it);
    if (choices.empty()) return model_.buffers.end();
    return choices[rng_.below(choices.size())];
  }

  void alloc() {
    if (model_.counters.buffers_live >= 64) return;
    // Mostly small, sometimes up to the largest buffer.
    const std::size_t bytes = rng_.below(8) == 0 ? rng_.below((64 << 10) + 1) : rng_.below(2048);
    auto got = pool_.alloc(bytes);
    ASSERT_TRUE(got.ok()) << got.error().message();
    auto* p = static_cast<std::byte*>(*got);
    const std::size_t capacity_bytes = *pool_.capacity(p);
    ASSERT_EQ(capacity_bytes, std::max<std::size_t>(64, std::bit_ceil(bytes)));
    ASSERT_FALSE(model_.overlaps_any(p, capacity_bytes)) << "handed out memory still in use";
    const auto pattern = static_cast<std::uint8_t>(++patterns_);
    std::memset(p, pattern, capacity_bytes);
    model_.buffers[p] = {capacity_bytes, pattern, 0, false};
    ++model_.counters.buffers_live;
    model_.counters.bytes_live += capacity_bytes;
  }

  void free_live() {
    auto it = random_buffer(true);
    if (it == model_.buffers.end()) return;
    ASSERT_TRUE(holds(it->first, it->second.capacity_bytes, it->second.pattern));
    ASSERT_TRUE(pool_.free(it->first).ok());
    --model_.counters.buffers_live;
    if (it->second.sends == 0) return model_.forget(it);
    it->second.freed = true;
    ++model_.counters.buffers_deferred;
    ++model_.counters.deferred_frees;
  }

  // A freed (deferred) buffer, an interior pointer, or a stale address.
  void free_invalid() {
    std::byte* p = stale_;
    auto it = random_buffer(false);
    if (it != model_.buffers.end())
      p = it->second.freed ? it->first : it->first + 64 * (1 + rng_.below(4)) - rng_.below(2);
    if (p != nullptr && model_.buffers.count(p) && !model_.buffers[p].freed) return;
    const Status s = pool_.free(p);
    ASSERT_FALSE(s.ok());
    ASSERT_EQ(s.error().code, Errc::invalid_argument);
    ++model_.counters.invalid_frees;
  }

  void begin_send() {
    auto it = random_buffer(true);
    if (it == model_.buffers.end()) return;
    auto token = pool_.begin_send(it->first);
    ASSERT_TRUE(token.ok()) << token.error().message();
    ASSERT_EQ(model_.tokens.count(*token), 0u);
    model_.tokens[*token] = it->first;
    ++it->second.sends;
    ++model_.counters.sends_in_flight;
  }

  void end_send() {
    if (model_.tokens.empty()) return;
    auto t = model_.tokens.begin();
    std::advance(t, static_cast<long>(rng_.below(model_.tokens.size())));
    end_token(t);
  }

  void end_token(std::map<std::uint64_t, std::byte*>::iterator t) {
    ASSERT_TRUE(pool_.end_send(t->first).ok());
    auto it = model_.buffers.find(t->second);
    ended_.push_back(t->first);
    model_.tokens.erase(t);
    --model_.counters.sends_in_flight;
    if (--it->second.sends > 0 || !it->second.freed) return;
    // The NIC's last read: the bytes are still the sender's.
    ASSERT_TRUE(holds(it->first, it->second.capacity_bytes, it->second.pattern));
    stale_ = it->first;
    --model_.counters.buffers_deferred;
    model_.forget(it);
  }

  void end_bogus() {
    std::uint64_t token = rng_.next();
    if (!ended_.empty() && rng_.below(2) == 0) token = ended_[rng_.below(ended_.size())];
    if (model_.tokens.count(token)) return;
    const Status s = pool_.end_send(token);
    ASSERT_FALSE(s.ok());
    ASSERT_EQ(s.error().code, Errc::invalid_argument);
  }

  void check_segment() {
    auto it = random_buffer(false);
    if (it == model_.buffers.end()) return;
    const std::size_t length = rng_.below(it->second.capacity_bytes + 2);
    auto segment = pool_.segment(it->first, length);
    const bool valid = !it->second.freed && length <= it->second.capacity_bytes;
    ASSERT_EQ(segment.ok(), valid);
    if (!valid) return;
    ASSERT_EQ(segment->region->data() + segment->offset, it->first);
    ASSERT_EQ(segment->length, length);
  }

  SimRandom rng_;
  ZeroCopyPool& pool_;
  Model model_;
  std::uint32_t patterns_ = 0;
  std::byte* stale_ = nullptr;        // a buffer whose memory went back to the pool
  std::vector<std::uint64_t> ended_;  // tokens already ended
};

TEST(ZcbPoolModel, RandomSequencesMatchTheReferenceModel) {
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SimWorld world(seed);
    PoolConfig config;
    config.max_buffer_bytes = 64 << 10;
    config.slab_bytes = 128 << 10;
    config.initial_slabs = 1;
    config.max_reserved_bytes = 64 << 20;
    auto pool = ZeroCopyPool::create(world.add_endpoint(1), config);
    ASSERT_TRUE(pool.ok());
    ModelCheck check(seed, **pool);
    for (int i = 0; i < 3000; ++i) {
      ASSERT_NO_FATAL_FAILURE(check.step()) << "step " << i;
      ASSERT_NO_FATAL_FAILURE(check.compare_counters()) << "step " << i;
    }
    ASSERT_NO_FATAL_FAILURE(check.drain());
    const PoolCounters n = (*pool)->counters();
    EXPECT_EQ(n.buffers_live + n.buffers_deferred + n.bytes_live + n.sends_in_flight, 0u);
  }
}

// Sends begun by one thread and ended by another (as the runtime's progress
// thread ends them), frees deferred behind them, slabs registered while other
// threads allocate. Every buffer's bytes are checked when it is freed, so a
// buffer handed out twice shows; ASan and the pool's assertions do the rest.
class Stress {
 public:
  explicit Stress(ZeroCopyPool& pool) : pool_(pool) {}

  void run(std::uint64_t seed, int steps) {
    SimRandom rng(seed);
    std::vector<Held> held;
    for (int i = 0; i < steps; ++i) {
      const std::uint64_t pick = rng.below(10);
      if (pick < 4 && held.size() < 32) {
        allocate(rng, held, static_cast<std::uint8_t>(seed * 31 + i));
      } else if (pick < 6 && !held.empty()) {
        send(held[rng.below(held.size())].p);
      } else if (pick < 8) {
        end_one(rng);
      } else if (!held.empty()) {
        const std::size_t k = rng.below(held.size());
        release(held[k]);
        held[k] = held.back();
        held.pop_back();
      }
    }
    for (Held& h : held)
      release(h);
  }

  void end_all() {
    std::lock_guard lock(mutex_);
    for (std::uint64_t t : tokens_)
      EXPECT_TRUE(pool_.end_send(t).ok());
    tokens_.clear();
  }

  int failures() const { return failures_.load(); }

 private:
  struct Held {
    std::byte* p;
    std::size_t bytes;
    std::uint8_t pattern;
  };

  void allocate(SimRandom& rng, std::vector<Held>& held, std::uint8_t pattern) {
    const std::size_t bytes = 1 + rng.below(8192);
    auto got = pool_.alloc(bytes);
    if (!got) return fail();
    auto* p = static_cast<std::byte*>(*got);
    std::memset(p, pattern, bytes);
    held.push_back({p, bytes, pattern});
  }

  void send(std::byte* p) {
    std::lock_guard lock(mutex_);
    if (tokens_.size() >= 256) return;
    auto token = pool_.begin_send(p);
    if (!token) return fail();
    tokens_.push_back(*token);
  }

  void end_one(SimRandom& rng) {
    std::uint64_t token = 0;
    {
      std::lock_guard lock(mutex_);
      if (tokens_.empty()) return;
      const std::size_t k = rng.below(tokens_.size());
      token = tokens_[k];
      tokens_[k] = tokens_.back();
      tokens_.pop_back();
    }
    if (!pool_.end_send(token).ok()) fail();
  }

  void release(const Held& h) {
    if (!holds(h.p, h.bytes, h.pattern)) fail();
    if (!pool_.free(h.p).ok()) fail();
  }

  void fail() { failures_.fetch_add(1); }

  ZeroCopyPool& pool_;
  std::mutex mutex_;
  std::vector<std::uint64_t> tokens_;  // sends in flight, any thread's
  std::atomic<int> failures_{0};
};

TEST(ZcbPoolStress, FourThreadsAllocFreeSendAndEnd) {
  SimWorld world(3);
  PoolConfig config;
  config.max_buffer_bytes = 8 << 10;
  config.slab_bytes = 64 << 10;
  config.initial_slabs = 1;
  config.max_reserved_bytes = 16 << 20;
  auto pool = ZeroCopyPool::create(world.add_endpoint(1), config);
  ASSERT_TRUE(pool.ok());
  Stress stress(**pool);
  std::vector<std::thread> threads;
  for (std::uint64_t t = 0; t < 4; ++t)
    threads.emplace_back([&stress, t] { stress.run(100 + t, 20000); });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(stress.failures(), 0);
  PoolCounters n = (*pool)->counters();
  EXPECT_EQ(n.buffers_live, 0u);
  EXPECT_GT(n.slabs, 1u);  // it grew while the threads ran
  stress.end_all();
  n = (*pool)->counters();
  EXPECT_EQ(n.buffers_deferred, 0u);
  EXPECT_EQ(n.sends_in_flight, 0u);
  EXPECT_EQ(n.bytes_live, 0u);
  EXPECT_EQ(n.invalid_frees, 0u);
}

}  // namespace
}  // namespace ringcast::zcb
