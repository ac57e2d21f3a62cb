// client::SegmentPool and the node's attached pools over a simulated
// cluster: sends from a pool over foreign memory (as ringcastd's over a
// client's segment) and from the node's own pool interleave, each ended in
// its own pool by the number in its tag; the receiver gets every byte in
// order; offsets that are no live buffer change nothing; a pool destroyed
// with sends in flight stays attached until the last one ended.
#include <sys/mman.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/segment_pool.hpp"
#include "client/session.hpp"
#include "cpg_sim_cluster.hpp"

namespace ringcast::cpg_test {
namespace {

using namespace std::chrono_literals;

struct Got {
  std::mutex mutex;
  std::vector<std::string> messages;
  std::size_t views_of_two = 0;
  std::size_t count() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
};

cpg::Callbacks recording(Got& got) {
  cpg::Callbacks c;
  c.on_message = [&got](const cpg::Message& m) {
    std::lock_guard lock(got.mutex);
    got.messages.emplace_back(reinterpret_cast<const char*>(m.bytes.data()), m.bytes.size());
  };
  c.on_view_change = [&got](const cpg::ViewChange& v) {
    std::lock_guard lock(got.mutex);
    if (v.members.size() == 2) ++got.views_of_two;
  };
  return c;
}

std::shared_ptr<std::span<std::byte>> mapped(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(p, MAP_FAILED);
  auto* span = new std::span<std::byte>(static_cast<std::byte*>(p), bytes);
  return std::shared_ptr<std::span<std::byte>>(span, [](std::span<std::byte>* s) {
    ::munmap(s->data(), s->size());
    delete s;
  });
}

std::string pattern(int i, std::size_t bytes) {
  std::string s(bytes, '\0');
  for (std::size_t k = 0; k < bytes; ++k)
    s[k] = static_cast<char>((k * 7 + static_cast<std::size_t>(i) * 11) & 0xff);
  return s;
}

template <class Pred>
bool until(const std::vector<client::Session*>& sessions, Pred pred) {
  const auto end = std::chrono::steady_clock::now() + 30s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    for (client::Session* s : sessions)
      (void)s->dispatch(cpg::DispatchMode::all);
    std::this_thread::sleep_for(200us);
  }
  return true;
}

class SegmentPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto na = nodes_.node(0).shared_from_this(), nb = nodes_.node(1).shared_from_this();
    a_ = *client::Session::open(na, recording(got_a_));
    b_ = *client::Session::open(nb, recording(got_b_));
    ASSERT_TRUE(a_->join("seg").ok());
    ASSERT_TRUE(b_->join("seg").ok());
    ASSERT_TRUE(until({a_.get(), b_.get()}, [&] {
      std::lock_guard la(got_a_.mutex), lb(got_b_.mutex);
      return got_a_.views_of_two > 0 && got_b_.views_of_two > 0;
    }));
    memory_ = mapped(16u << 20);
    auto pool = client::SegmentPool::create(na, *memory_, memory_, [this] { ++done_; });
    ASSERT_TRUE(pool.ok()) << pool.status().message();
    pool_ = std::move(*pool);
  }
  void TearDown() override {
    pool_.reset();
    a_.reset();
    b_.reset();
  }
  // Retried while the ring syncs.
  cpg::Result<bool> send(std::uint64_t offset, std::size_t bytes) {
    for (int i = 0; i < 5000; ++i) {
      auto r = pool_->send(*a_, cpg::Guarantee::agreed, offset, bytes);
      if (r.ok() || r.status().code() != CS_ERR_TRY_AGAIN) return r;
      std::this_thread::sleep_for(1ms);
    }
    return cpg::Status(CS_ERR_TRY_AGAIN, "ring busy");
  }

  SimNodes nodes_{2};
  Got got_a_, got_b_;
  std::shared_ptr<client::Session> a_, b_;
  std::shared_ptr<std::span<std::byte>> memory_;
  std::unique_ptr<client::SegmentPool> pool_;
  std::atomic<int> done_{0};
};

TEST_F(SegmentPoolTest, SendsFromBothPoolsInterleaveAndEndInTheirOwn) {
  client::Node& node = nodes_.node(0);
  auto seg = pool_->alloc(40'000);
  ASSERT_TRUE(seg.ok());
  auto own = node.zcb_alloc(40'000);
  ASSERT_TRUE(own.ok());
  std::vector<std::string> sent;
  for (int i = 0; i < 10; ++i) {
    sent.push_back(pattern(i, 40'000));
    if (i % 2 == 0) {
      std::memcpy(memory_->data() + seg->offset, sent.back().data(), 40'000);
      auto r = send(seg->offset, 40'000);
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_TRUE(*r);  // read in place
      ASSERT_TRUE(until({a_.get(), b_.get()}, [&] { return !pool_->in_flight(seg->offset); }));
    } else {
      std::memcpy(*own, sent.back().data(), 40'000);
      cpg::Status s;
      while ((s = a_->send_zero_copy(cpg::Guarantee::agreed, *own, 40'000)).code() ==
             CS_ERR_TRY_AGAIN)
        std::this_thread::sleep_for(1ms);
      ASSERT_TRUE(s.ok()) << s.message();
      ASSERT_TRUE(node.zcb_wait(*own).ok());
    }
  }
  ASSERT_TRUE(until({a_.get(), b_.get()}, [&] { return got_b_.count() >= sent.size(); }));
  {
    std::lock_guard lock(got_b_.mutex);
    EXPECT_TRUE(got_b_.messages == sent);
  }
  EXPECT_GT(done_.load(), 0);
  EXPECT_EQ(pool_->counters().sends_in_flight, 0u);
  EXPECT_TRUE(pool_->free(seg->offset).ok());
  EXPECT_TRUE(node.zcb_free(*own).ok());
}

TEST_F(SegmentPoolTest, OffsetsThatAreNoLiveBufferChangeNothing) {
  auto b = pool_->alloc(4096);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(pool_->free(b->offset + 64).status().code(), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(send(b->offset + 64, 10).status().code(), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(send(b->offset, b->capacity + 1).status().code(), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(pool_->free(15u << 20).status().code(), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(pool_->live_buffers(), 1u);
  EXPECT_TRUE(pool_->free(b->offset).ok());
  EXPECT_EQ(pool_->free(b->offset).status().code(), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(send(b->offset, 10).status().code(), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(pool_->live_buffers(), 0u);
  EXPECT_EQ(got_b_.count(), 0u);
}

TEST_F(SegmentPoolTest, ADestroyedPoolStaysUntilItsLastSendEnded) {
  client::Node& node = nodes_.node(0);
  auto b = pool_->alloc(60'000);
  ASSERT_TRUE(b.ok());
  const std::string p = pattern(3, 60'000);
  std::memcpy(memory_->data() + b->offset, p.data(), p.size());
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(send(b->offset, p.size()).ok());
  pool_.reset();  // frees the buffer (deferred while in flight), detaches
  EXPECT_LE(node.attached_pools(), 1u);
  EXPECT_TRUE(until({a_.get(), b_.get()}, [&] { return node.reap_pools() == 0; }));
  ASSERT_TRUE(until({a_.get(), b_.get()}, [&] { return got_b_.count() >= 4; }));
  std::lock_guard lock(got_b_.mutex);
  for (const std::string& m : got_b_.messages)
    EXPECT_EQ(m, p);
}

}  // namespace
}  // namespace ringcast::cpg_test
