// Eviction over a simulated cluster: a handle whose application stops
// dispatching (the fault `stalled_app`: it never releases what it was
// delivered) would hold its node's receive log, and through the space rule
// stall every sender of the cluster while the token keeps turning. With a
// bound on what one handle may leave unreleased, it is evicted instead: its
// next call returns CS_ERR_LIBRARY, the other members see it leave with
// CPG_REASON_PROCDOWN, its node stays in the ring, the stream goes on, and
// a counter says so. A handle that is slow but keeps dispatching is not.
// Before eviction, a handle's queued messages are copied out of the log (a
// spill, bounded a handle), so a program that sends without dispatching
// loses nothing and stalls nobody.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "cpg_sim_cluster.hpp"
#include "ringcast/counters.h"

namespace ringcast::cpg_test {
namespace {

using namespace std::chrono_literals;

// 16 KiB messages, 3 MiB in all: three times the 1 MiB log of small_ring().
constexpr int kMessages = 192;
constexpr std::size_t kMessageBytes = 16u << 10;

client::EvictionLimits tight_limits() {
  client::EvictionLimits l;
  l.max_bytes = 128u << 10;
  l.max_age = 200ms;
  return l;
}

// Retries while CS_ERR_TRY_AGAIN, dispatching `drain`, for at most `bound`.
cs_error_t send_bounded(cpg_handle_t h, const std::string& text, std::vector<cpg_handle_t> drain,
                        std::chrono::milliseconds bound) {
  const auto end = std::chrono::steady_clock::now() + bound;
  for (;;) {
    cs_error_t e = send_text(h, text);
    // The live handles dispatch after every send, not only while the log
    // is full, so only the stalled one is ever evicted.
    for (cpg_handle_t d : drain)
      cpg_dispatch(d, CS_DISPATCH_ALL);
    if (e != CS_ERR_TRY_AGAIN || std::chrono::steady_clock::now() > end) return e;
    std::this_thread::sleep_for(100us);
  }
}

bool saw_procdown_of(Recorder& rec, std::uint32_t node) {
  const std::string left =
      "left=[" + std::to_string(node) + "/" + std::to_string(CPG_REASON_PROCDOWN) + "]";
  std::lock_guard lock(rec.mutex);
  for (const std::string& v : rec.views)
    if (v.find(left) != std::string::npos) return true;
  return false;
}

struct Cluster {
  SimNodes nodes{3};
  Recorder rec[3];
  cpg_handle_t h[3] = {};
  explicit Cluster(client::EvictionLimits limits) {
    for (std::size_t i = 0; i < 3; ++i) {
      nodes.node(i).set_eviction_limits(limits);
      auto use = nodes.use(i);
      h[i] = open_recorded(rec[i]);
    }
  }
};

TEST(CpgEviction, AStalledHandleIsEvictedAndTheStreamGoesOn) {
  Cluster c(tight_limits());
  ASSERT_TRUE(join_in_order({c.h[0], c.h[1], c.h[2]}, {&c.rec[0], &c.rec[1], &c.rec[2]}, "ev"));
  // From here on h[2]'s application never dispatches again.
  const std::vector<cpg_handle_t> live = {c.h[0], c.h[1]};
  const std::string text(kMessageBytes, 'e');
  for (int k = 0; k < kMessages; ++k) {
    ASSERT_EQ(send_bounded(c.h[0], text, live, 10s), CS_OK)
        << "message " << k << ": the cluster stalls behind the handle that stopped dispatching";
  }
  ASSERT_TRUE(dispatch_until(live, [&] {
    return c.rec[0].messages.size() == kMessages && c.rec[1].messages.size() == kMessages &&
           saw_procdown_of(c.rec[0], c.nodes.node_id(2)) &&
           saw_procdown_of(c.rec[1], c.nodes.node_id(2));
  })) << ::testing::PrintToString(c.rec[0].views);

  EXPECT_EQ(cpg_dispatch(c.h[2], CS_DISPATCH_ALL), CS_ERR_LIBRARY);
  EXPECT_EQ(send_text(c.h[2], "late"), CS_ERR_LIBRARY);
  ringcast_counters counters{};
  counters.size = sizeof counters;
  ASSERT_EQ(ringcast_counters_get(c.h[2], &counters), CS_OK);
  EXPECT_EQ(counters.handles_evicted, 1u);
  EXPECT_EQ(c.nodes.node(0).counters().handles_evicted, 0u);
  // Its node stays in the ring, and a new handle there works.
  EXPECT_EQ(counters.members, 3u);
  EXPECT_EQ(cpg_finalize(c.h[2]), CS_OK);
  {
    auto use = c.nodes.use(2);
    Recorder again;
    cpg_handle_t h = open_recorded(again);
    ASSERT_EQ(join_retry(h, "ev", {h, c.h[0], c.h[1]}), CS_OK);
    ASSERT_EQ(send_text_retry(h, "back", {h, c.h[0], c.h[1]}), CS_OK);
    EXPECT_TRUE(dispatch_until({h, c.h[0], c.h[1]}, [&] {
      std::lock_guard lock(again.mutex);
      return !again.messages.empty() && again.messages.back() == "back";
    }));
    EXPECT_EQ(cpg_finalize(h), CS_OK);
  }
  EXPECT_EQ(cpg_finalize(c.h[0]), CS_OK);
  EXPECT_EQ(cpg_finalize(c.h[1]), CS_OK);
}

client::EvictionLimits spilling_limits(std::uint64_t spill_max_bytes) {
  client::EvictionLimits l = tight_limits();
  l.spill_max_bytes = spill_max_bytes;
  return l;
}

std::string numbered(int k) {
  std::string text(kMessageBytes, 'n');
  const std::string tag = std::to_string(k) + ":";
  text.replace(0, tag.size(), tag);
  return text;
}

// corosync's cpgbound: the handle retries CS_ERR_TRY_AGAIN of its own send
// and dispatches only once it went out, while another node floods the group
// with three logs' worth. Its queue is copied out of the log instead of
// holding it: the flood goes on, its own send goes out, it is not evicted,
// and its dispatch then delivers every message, in the ring's order.
TEST(CpgEviction, AHandleThatSendsBeforeItDispatchesIsSpilledNotEvicted) {
  Cluster c(spilling_limits(64u << 20));
  ASSERT_TRUE(join_in_order({c.h[0], c.h[1], c.h[2]}, {&c.rec[0], &c.rec[1], &c.rec[2]}, "sp"));
  const std::vector<cpg_handle_t> live = {c.h[0], c.h[1]};
  for (int k = 0; k < kMessages; ++k)
    ASSERT_EQ(send_bounded(c.h[0], numbered(k), live, 10s), CS_OK) << "message " << k;
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  cs_error_t own = CS_ERR_TRY_AGAIN;
  while (own == CS_ERR_TRY_AGAIN && std::chrono::steady_clock::now() < give_up) {
    own = send_text(c.h[2], numbered(kMessages));
    if (own == CS_ERR_TRY_AGAIN) std::this_thread::sleep_for(100us);
  }
  ASSERT_EQ(own, CS_OK) << "its own send waits for room only its dispatch would free";
  ASSERT_TRUE(dispatch_until({c.h[0], c.h[1], c.h[2]}, [&] {
    return c.rec[0].messages.size() == kMessages + 1 && c.rec[2].messages.size() == kMessages + 1;
  }));
  // Every message, in the order the other members delivered them.
  EXPECT_TRUE(c.rec[2].messages == c.rec[0].messages);
  for (int k = 0; k <= kMessages; ++k)
    EXPECT_EQ(std::count(c.rec[2].messages.begin(), c.rec[2].messages.end(), numbered(k)), 1)
        << "message " << k;
  const auto counters = c.nodes.node(2).counters();
  EXPECT_EQ(counters.handles_evicted, 0u);
  EXPECT_GT(counters.messages_spilled, 0u);
  EXPECT_GE(counters.bytes_copied_on_spill, counters.messages_spilled * kMessageBytes);
  for (cpg_handle_t h : c.h)
    EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// The spill is bounded: a handle that never dispatches is evicted once its
// copies reach handle_spill_max_bytes and the log fills behind it again.
TEST(CpgEviction, AHandleBeyondItsSpillIsEvicted) {
  Cluster c(spilling_limits(256u << 10));
  ASSERT_TRUE(join_in_order({c.h[0], c.h[1], c.h[2]}, {&c.rec[0], &c.rec[1], &c.rec[2]}, "sb"));
  const std::vector<cpg_handle_t> live = {c.h[0], c.h[1]};
  const std::string text(kMessageBytes, 'b');
  for (int k = 0; k < kMessages; ++k)
    ASSERT_EQ(send_bounded(c.h[0], text, live, 10s), CS_OK) << "message " << k;
  ASSERT_TRUE(dispatch_until(live, [&] { return saw_procdown_of(c.rec[0], c.nodes.node_id(2)); }));
  const auto counters = c.nodes.node(2).counters();
  EXPECT_EQ(counters.handles_evicted, 1u);
  EXPECT_EQ(counters.bytes_copied_on_spill, 256u << 10) << "copies stop at the bound";
  EXPECT_EQ(cpg_dispatch(c.h[2], CS_DISPATCH_ALL), CS_ERR_LIBRARY);
  for (cpg_handle_t h : c.h)
    EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// A consumer that dispatches late but keeps dispatching holds the log only
// briefly at a time: never evicted, whatever the bytes in flight.
TEST(CpgEviction, ASlowHandleThatKeepsDispatchingIsNotEvicted) {
  // A second between dispatches is far from the 20 ms cadence below, so a
  // loaded machine does not make it flaky.
  client::EvictionLimits limits = tight_limits();
  limits.max_age = 1s;
  Cluster c(limits);
  ASSERT_TRUE(join_in_order({c.h[0], c.h[1], c.h[2]}, {&c.rec[0], &c.rec[1], &c.rec[2]}, "slow"));
  const std::string text(kMessageBytes, 's');
  int sent = 0;
  auto last_slow = std::chrono::steady_clock::now();
  while (sent < kMessages) {
    const cs_error_t e = send_text(c.h[0], text);
    ASSERT_TRUE(e == CS_OK || e == CS_ERR_TRY_AGAIN) << cs_strerror(e);
    sent += e == CS_OK;
    cpg_dispatch(c.h[0], CS_DISPATCH_ALL);
    cpg_dispatch(c.h[1], CS_DISPATCH_ALL);
    if (std::chrono::steady_clock::now() - last_slow > 20ms) {
      cpg_dispatch(c.h[2], CS_DISPATCH_ALL);
      last_slow = std::chrono::steady_clock::now();
    }
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(dispatch_until({c.h[0], c.h[1], c.h[2]},
                             [&] { return c.rec[2].messages.size() == kMessages; }));
  EXPECT_EQ(c.nodes.node(2).counters().handles_evicted, 0u);
  for (cpg_handle_t h : c.h)
    EXPECT_EQ(cpg_finalize(h), CS_OK);
}

}  // namespace
}  // namespace ringcast::cpg_test
