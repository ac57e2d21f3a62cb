// cpg_zcb_mcast_joined on both sides of the crossover
// (totem.zcb_copy_below_bytes) over a simulated cluster: a small send is
// copied and returns with the ring paused (no token moved), in order with
// the copying sends around it; a large one is read from its buffer, copies
// nothing and returns only once the ring ran.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cpg_sim_cluster.hpp"
#include "ringcast/counters.h"

namespace ringcast::cpg_test {
namespace {

constexpr std::uint32_t kCrossover = 4096;

// Tokens received and passed by every member: a visit anywhere moves them.
std::uint64_t token_moves(SimNodes& nodes) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const cpg::Counters c = nodes.node(i).counters();
    n += c.tokens_received + c.tokens_passed;
  }
  return n;
}

class ZcbCrossover : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      nodes_.node(i).set_zcb_copy_below(kCrossover);
      auto use = nodes_.use(i);
      h_[i] = open_recorded(rec_[i]);
    }
    all_.assign(h_, h_ + 3);
    ASSERT_TRUE(join_in_order(all_, {&rec_[0], &rec_[1], &rec_[2]}, "crossover"));
    ASSERT_TRUE(dispatch_until(all_, [&] { return rec_[0].views.size() == 3; }));
  }
  void TearDown() override {
    nodes_.cluster().resume();
    for (auto h : all_)
      cpg_finalize(h);
  }
  // Every member delivered n messages, in the same order as member 0.
  ::testing::AssertionResult delivered_alike(std::size_t n) {
    if (!dispatch_until(all_, [&] {
          return rec_[0].messages.size() == n && rec_[1].messages.size() == n &&
                 rec_[2].messages.size() == n;
        })) {
      return ::testing::AssertionFailure() << "not every member delivered " << n;
    }
    for (int r = 1; r < 3; ++r)
      if (rec_[r].messages != rec_[0].messages)
        return ::testing::AssertionFailure() << "member " << r << " saw another order";
    return ::testing::AssertionSuccess();
  }

  SimNodes nodes_{3};
  Recorder rec_[3];
  cpg_handle_t h_[3] = {};
  std::vector<cpg_handle_t> all_;
};

TEST_F(ZcbCrossover, ASmallSendIsCopiedAndReturnsWithoutTheRing) {
  void* buf = nullptr;
  constexpr std::size_t kBytes = kCrossover - 1;
  ASSERT_EQ(cpg_zcb_alloc(h_[0], kBytes, &buf), CS_OK);
  std::memset(buf, 's', kBytes);
  const cpg::Counters before = nodes_.node(0).counters();

  nodes_.cluster().pause();
  const std::uint64_t moves = token_moves(nodes_);
  ASSERT_EQ(send_text(h_[0], "first"), CS_OK);
  ASSERT_EQ(cpg_zcb_mcast_joined(h_[0], CPG_TYPE_AGREED, buf, kBytes), CS_OK);
  EXPECT_FALSE(nodes_.node(0).zcb_in_flight(buf)) << "a copied send leaves the buffer free";
  // What the buffer holds now is not what was sent: the call copied it.
  std::memset(buf, 'x', kBytes);
  ASSERT_EQ(send_text(h_[0], "last"), CS_OK);
  EXPECT_EQ(token_moves(nodes_), moves) << "no member visited while the sends returned";
  nodes_.cluster().resume();

  ASSERT_TRUE(delivered_alike(3));
  EXPECT_EQ(rec_[0].messages[0], "first");
  EXPECT_EQ(rec_[0].messages[1], std::string(kBytes, 's'));
  EXPECT_EQ(rec_[0].messages[2], "last");
  const cpg::Counters after = nodes_.node(0).counters();
  EXPECT_EQ(after.zero_copy_sends - before.zero_copy_sends, 1u);
  EXPECT_EQ(after.zero_copy_bytes_copied - before.zero_copy_bytes_copied, kBytes);
  EXPECT_EQ(after.zero_copy_bytes_from_buffer, before.zero_copy_bytes_from_buffer);
  EXPECT_EQ(after.bytes_copied_on_send - before.bytes_copied_on_send, 5 + kBytes + 4)
      << "the small zero-copy send is copied once, like the copying ones";
  EXPECT_EQ(cpg_zcb_free(h_[0], buf), CS_OK);
}

TEST_F(ZcbCrossover, ALargeSendIsReadFromItsBufferOnceTheRingRuns) {
  void* buf = nullptr;
  constexpr std::size_t kBytes = kCrossover;  // the crossover itself goes in place
  ASSERT_EQ(cpg_zcb_alloc(h_[0], kBytes, &buf), CS_OK);
  std::memset(buf, 'L', kBytes);
  const cpg::Counters before = nodes_.node(0).counters();

  nodes_.cluster().pause();
  ASSERT_EQ(send_text(h_[0], "before"), CS_OK);
  std::atomic<bool> returned{false};
  cs_error_t result = CS_ERR_LIBRARY;
  std::thread sender([&] {
    result = cpg_zcb_mcast_joined(h_[0], CPG_TYPE_AGREED, buf, kBytes);
    returned = true;
  });
  // It cannot return while nothing runs: the NIC has not read the buffer.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(returned.load());
  nodes_.cluster().resume();
  sender.join();
  ASSERT_EQ(result, CS_OK);
  EXPECT_FALSE(nodes_.node(0).zcb_in_flight(buf)) << "returned once the NIC read it";
  ASSERT_EQ(send_text(h_[0], "after"), CS_OK);

  ASSERT_TRUE(delivered_alike(3));
  EXPECT_EQ(rec_[0].messages[0], "before");
  EXPECT_EQ(rec_[0].messages[1], std::string(kBytes, 'L'));
  EXPECT_EQ(rec_[0].messages[2], "after");
  const cpg::Counters after = nodes_.node(0).counters();
  EXPECT_EQ(after.zero_copy_sends - before.zero_copy_sends, 1u);
  EXPECT_EQ(after.zero_copy_bytes_copied, before.zero_copy_bytes_copied) << "0 bytes copied";
  EXPECT_EQ(after.zero_copy_bytes_from_buffer - before.zero_copy_bytes_from_buffer, kBytes);
  EXPECT_EQ(after.bytes_copied_on_send - before.bytes_copied_on_send, 6u + 5u)
      << "only the copying sends were copied";
  EXPECT_EQ(cpg_zcb_free(h_[0], buf), CS_OK);
}

// Above the atomic size a zero-copy send goes in fragments, each read from
// the buffer whatever the crossover (even the short last slice); only the
// fragment headers are copied.
TEST_F(ZcbCrossover, AMessageInFragmentsIsReadFromTheBuffer) {
  nodes_.node(0).set_zcb_copy_below(nodes_.node(0).max_message_bytes());
  const std::size_t bytes = nodes_.node(0).max_message_bytes() + 100;
  void* buf = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(h_[0], bytes, &buf), CS_OK);
  std::memset(buf, 'F', bytes);
  const cpg::Counters before = nodes_.node(0).counters();
  ASSERT_EQ(cpg_zcb_mcast_joined(h_[0], CPG_TYPE_AGREED, buf, bytes), CS_OK);
  EXPECT_FALSE(nodes_.node(0).zcb_in_flight(buf));
  ASSERT_TRUE(delivered_alike(1));
  EXPECT_EQ(rec_[1].messages[0], std::string(bytes, 'F'));
  const cpg::Counters after = nodes_.node(0).counters();
  EXPECT_EQ(after.zero_copy_bytes_copied, before.zero_copy_bytes_copied);
  EXPECT_EQ(after.zero_copy_bytes_from_buffer - before.zero_copy_bytes_from_buffer, bytes);
  EXPECT_EQ(after.bytes_copied_on_send - before.bytes_copied_on_send, 2 * 32u)
      << "two fragments, their headers copied";
  EXPECT_EQ(cpg_zcb_free(h_[0], buf), CS_OK);
}

// The C struct carries the new counters, appended after the older fields:
// a program built against the struct before them gets exactly what it knew.
TEST_F(ZcbCrossover, TheCountersAreAppendedToTheCStruct) {
  void* buf = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(h_[0], 100, &buf), CS_OK);
  ASSERT_EQ(cpg_zcb_mcast_joined(h_[0], CPG_TYPE_AGREED, buf, 100), CS_OK);
  ringcast_counters c{};
  c.size = sizeof c;
  ASSERT_EQ(ringcast_counters_get(h_[0], &c), CS_OK);
  const cpg::Counters direct = nodes_.node(0).counters();
  EXPECT_EQ(c.zero_copy_bytes_copied, direct.zero_copy_bytes_copied);
  EXPECT_GE(c.zero_copy_bytes_copied, 100u);
  EXPECT_EQ(c.zero_copy_bytes_from_buffer, direct.zero_copy_bytes_from_buffer);

  // The struct before this release's counters (the spill's, then these).
  constexpr std::size_t kOldSize = offsetof(ringcast_counters, messages_spilled);
  static_assert(kOldSize == 184, "the struct as it was before these counters");
  ringcast_counters old;
  std::memset(&old, 0xAB, sizeof old);
  old.size = kOldSize;
  ASSERT_EQ(ringcast_counters_get(h_[0], &old), CS_OK);
  EXPECT_EQ(old.size, kOldSize);
  EXPECT_EQ(old.records_repaired, c.records_repaired);
  EXPECT_EQ(old.messages_spilled, 0xABABABABABABABABull) << "beyond the caller's size";
  EXPECT_EQ(old.zero_copy_bytes_copied, 0xABABABABABABABABull) << "beyond the caller's size";
  EXPECT_EQ(cpg_zcb_free(h_[0], buf), CS_OK);
}

}  // namespace
}  // namespace ringcast::cpg_test
