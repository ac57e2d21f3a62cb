// cpg_zcb_* in client mode against the daemon's client server over
// simulated nodes: buffers of cpg_zcb_alloc lie in the zcb segment the
// daemon mapped into this process, and cpg_zcb_mcast_joined has the ring
// read them there. The other node's program gets the bytes exactly and in
// order; the sender's counters show what was copied (only the send below
// the crossover) and what the NIC read in place; a buffer may be rewritten
// as soon as the call returns; pointers that are no buffer are refused.
#include <gtest/gtest.h>

#include <sys/uio.h>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "program_calls.hpp"
#include "ringcast/counters.h"
#include "ringcast/cpg.h"
#include "sim_daemons.hpp"

namespace ringcast::daemon_test {
namespace {

using namespace std::chrono_literals;

struct Seen {
  std::mutex m;
  std::vector<std::string> messages;
  std::size_t views_of_two = 0;
};

void on_deliver(cpg_handle_t h, const cpg_name*, uint32_t, uint32_t, void* msg, size_t len) {
  void* ctx = nullptr;
  cpg_context_get(h, &ctx);
  auto* s = static_cast<Seen*>(ctx);
  std::lock_guard lock(s->m);
  s->messages.emplace_back(static_cast<const char*>(msg), len);
}

void on_confchg(cpg_handle_t h, const cpg_name*, const cpg_address*, size_t nm, const cpg_address*,
                size_t, const cpg_address*, size_t) {
  void* ctx = nullptr;
  cpg_context_get(h, &ctx);
  auto* s = static_cast<Seen*>(ctx);
  std::lock_guard lock(s->m);
  if (nm == 2) ++s->views_of_two;
}

cpg_handle_t open_on(std::uint32_t node, Seen& seen) {
  const cpg_handle_t h = open_program_on(node, on_deliver, on_confchg, &seen);
  EXPECT_NE(h, 0u);
  return h;
}

// Dispatches both until pred() or 30 s.
template <class Pred>
bool pump(cpg_handle_t a, cpg_handle_t b, Pred pred) {
  const auto end = std::chrono::steady_clock::now() + 30s;
  while (!pred() && std::chrono::steady_clock::now() < end) {
    cpg_dispatch(a, CS_DISPATCH_ALL);
    cpg_dispatch(b, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

std::string pattern(int i, std::size_t bytes) {
  std::string s(bytes, '\0');
  for (std::size_t k = 0; k < bytes; ++k)
    s[k] = static_cast<char>((k * 13 + static_cast<std::size_t>(i) * 5) & 0xff);
  return s;
}

cs_error_t zcb_send(cpg_handle_t h, void* buffer, std::size_t bytes) {
  cs_error_t e;
  while ((e = cpg_zcb_mcast_joined(h, CPG_TYPE_AGREED, buffer, bytes)) == CS_ERR_TRY_AGAIN)
    std::this_thread::sleep_for(1ms);
  return e;
}

TEST(CpgZcbThroughDaemon, BuffersAreReadInPlaceAndCountedApart) {
  SimDaemons d({});
  d.use_for_programs();
  Seen sa, sb;
  const cpg_handle_t a = open_on(1, sa), b = open_on(2, sb);
  ASSERT_EQ(join_retrying(a, "zcb"), CS_OK);
  ASSERT_EQ(join_retrying(b, "zcb"), CS_OK);
  ASSERT_TRUE(pump(a, b, [&] {
    std::lock_guard la(sa.m), lb(sb.m);
    return sa.views_of_two > 0 && sb.views_of_two > 0;
  }));
  // Below the crossover (copied), in place, in fragments; the 40 KB buffer
  // is rewritten and sent again right after its call returned.
  void* small = nullptr;
  void* mid = nullptr;
  void* large = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(a, 1000, &small), CS_OK);
  ASSERT_EQ(cpg_zcb_alloc(a, 40'000, &mid), CS_OK);
  ASSERT_EQ(cpg_zcb_alloc(a, 200'000, &large), CS_OK);
  std::vector<std::string> sent = {pattern(0, 1000), pattern(1, 40'000), pattern(2, 40'000),
                                   pattern(3, 200'000)};
  std::memcpy(small, sent[0].data(), 1000);
  ASSERT_EQ(zcb_send(a, small, 1000), CS_OK);
  std::memcpy(mid, sent[1].data(), 40'000);
  ASSERT_EQ(zcb_send(a, mid, 40'000), CS_OK);
  std::memcpy(mid, sent[2].data(), 40'000);
  ASSERT_EQ(zcb_send(a, mid, 40'000), CS_OK);
  std::memcpy(large, sent[3].data(), 200'000);
  ASSERT_EQ(zcb_send(a, large, 200'000), CS_OK);
  ASSERT_TRUE(pump(a, b, [&] {
    std::lock_guard lb(sb.m);
    return sb.messages.size() >= sent.size();
  }));
  {
    std::lock_guard lb(sb.m);
    EXPECT_TRUE(sb.messages == sent);
  }
  ringcast_counters c{};
  c.size = sizeof c;
  ASSERT_EQ(ringcast_counters_get(a, &c), CS_OK);
  EXPECT_EQ(c.zero_copy_sends, 4u);
  EXPECT_EQ(c.zero_copy_bytes_copied, 1000u);
  EXPECT_EQ(c.zero_copy_bytes_from_buffer, 280'000u);
  EXPECT_EQ(c.bytes_copied_on_send, 0u);
  // Not a buffer: refused, nothing sent.
  char local[64] = {};
  EXPECT_EQ(cpg_zcb_free(a, local), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(cpg_zcb_mcast_joined(a, CPG_TYPE_AGREED, local, sizeof local), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(cpg_zcb_free(a, static_cast<char*>(mid) + 64), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(cpg_zcb_free(a, small), CS_OK);
  EXPECT_EQ(cpg_zcb_free(a, small), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(cpg_zcb_mcast_joined(a, CPG_TYPE_AGREED, small, 100), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(cpg_zcb_free(a, mid), CS_OK);
  // The library refused the wrong frees itself (they are not answered): the
  // daemon refused only the send of the freed buffer, and took the good
  // frees back before the alloc that follows them.
  EXPECT_EQ(d.server(0).counters().zcb_refused.load(), 1u);
  void* again = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(a, 1000, &again), CS_OK);
  EXPECT_EQ(cpg_zcb_free(a, again), CS_OK);
  // Finalize with a buffer held: the daemon frees it, its pool goes.
  EXPECT_EQ(cpg_finalize(a), CS_OK);
  EXPECT_TRUE(pump(a, b, [&] { return d.node(0).reap_pools() == 0; }));
  {
    std::lock_guard la(sa.m);
    EXPECT_TRUE(sa.messages == sent);
  }
  EXPECT_EQ(cpg_finalize(b), CS_OK);
  EXPECT_EQ(d.server(0).counters().malformed.load(), 0u);
}

// Messages in fragments, each 60% of the 1 MiB log, sent back to back by a
// program that dispatches between sends: each one's fragments wait for log
// space that the delivery of the one before holds until the connection has
// written it to the program. The connection must go on writing while a
// send is on its way, for buffers (the NIC reads the segment) as for
// copies.
void sends_in_fragments_never_wait_for_their_own_deliveries(bool zero_copy) {
  SimDaemons d({});
  d.use_for_programs();
  Seen sa, sb;
  const cpg_handle_t a = open_on(1, sa), b = open_on(2, sb);
  ASSERT_EQ(join_retrying(a, "frag"), CS_OK);
  ASSERT_EQ(join_retrying(b, "frag"), CS_OK);
  ASSERT_TRUE(pump(a, b, [&] {
    std::lock_guard la(sa.m), lb(sb.m);
    return sa.views_of_two > 0 && sb.views_of_two > 0;
  }));
  constexpr std::size_t kBytes = 600'000;
  constexpr int kMessages = 6;
  void* buffer = nullptr;
  if (zero_copy) {
    ASSERT_EQ(cpg_zcb_alloc(a, kBytes, &buffer), CS_OK);
  }
  std::vector<std::string> sent;
  // The other program dispatches throughout, as a listener does.
  std::atomic<bool> stop{false};
  std::thread listener([&] {
    while (!stop.load()) {
      cpg_dispatch(b, CS_DISPATCH_ALL);
      std::this_thread::sleep_for(1ms);
    }
  });
  for (int i = 0; i < kMessages; ++i) {
    sent.push_back(pattern(i, kBytes));
    cs_error_t e;
    const auto end = std::chrono::steady_clock::now() + 30s;
    do {
      cpg_dispatch(a, CS_DISPATCH_ALL);
      if (zero_copy) {
        std::memcpy(buffer, sent.back().data(), kBytes);
        e = cpg_zcb_mcast_joined(a, CPG_TYPE_AGREED, buffer, kBytes);
      } else {
        iovec iov{sent.back().data(), kBytes};
        e = cpg_mcast_joined(a, CPG_TYPE_AGREED, &iov, 1);
      }
    } while (e == CS_ERR_TRY_AGAIN && std::chrono::steady_clock::now() < end);
    ASSERT_EQ(e, CS_OK) << "message " << i;
  }
  const bool all = pump(a, a, [&] {
    std::lock_guard la(sa.m), lb(sb.m);
    return sa.messages.size() >= sent.size() && sb.messages.size() >= sent.size();
  });
  stop = true;
  listener.join();
  ASSERT_TRUE(all);
  {
    std::lock_guard la(sa.m), lb(sb.m);
    EXPECT_TRUE(sa.messages == sent);
    EXPECT_TRUE(sb.messages == sent);
  }
  EXPECT_EQ(cpg_finalize(a), CS_OK);
  EXPECT_EQ(cpg_finalize(b), CS_OK);
}

TEST(CpgZcbThroughDaemon, BuffersInFragmentsNeverWaitForTheirOwnDeliveries) {
  sends_in_fragments_never_wait_for_their_own_deliveries(true);
}

TEST(CpgZcbThroughDaemon, CopiesInFragmentsNeverWaitForTheirOwnDeliveries) {
  sends_in_fragments_never_wait_for_their_own_deliveries(false);
}

}  // namespace
}  // namespace ringcast::daemon_test
