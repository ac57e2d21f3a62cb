// The C API in client mode (RINGCAST_MODE=daemon) against the daemon's
// client server over simulated nodes: cpg_* calls of this process go
// through real sockets and rings to a ClientServer whose Node runs over the
// simulator. Two programs on two nodes join, send 100 messages each (every
// 25th of 300 KB: parts both ways, fragments in the ring), see one order;
// a finalize is PROCDOWN at the other.
#include <gtest/gtest.h>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "program_calls.hpp"
#include "ringcast/cpg.h"
#include "sim_daemons.hpp"

namespace ringcast::daemon_test {
namespace {

using namespace std::chrono_literals;

struct Seen {
  std::mutex m;
  std::vector<std::string> messages;
  std::vector<std::string> views;
  std::string order;  // 'm' a message, 'v' a view, as dispatched
};

void on_deliver(cpg_handle_t h, const cpg_name*, uint32_t, uint32_t, void* msg, size_t len) {
  void* ctx = nullptr;
  cpg_context_get(h, &ctx);
  auto* s = static_cast<Seen*>(ctx);
  std::lock_guard lock(s->m);
  s->messages.emplace_back(static_cast<const char*>(msg), len);
  s->order += 'm';
}

void on_confchg(cpg_handle_t h, const cpg_name*, const cpg_address*, size_t nm,
                const cpg_address* left, size_t nl, const cpg_address*, size_t nj) {
  void* ctx = nullptr;
  cpg_context_get(h, &ctx);
  auto* s = static_cast<Seen*>(ctx);
  std::lock_guard lock(s->m);
  s->views.push_back(std::to_string(nm) + " " + std::to_string(nl) + " " + std::to_string(nj) +
                     (nl ? " reason " + std::to_string(left[0].reason) : ""));
  s->order += 'v';
}

cpg_handle_t open_on(std::uint32_t node, Seen& seen) {
  const cpg_handle_t h = open_program_on(node, on_deliver, on_confchg, &seen);
  EXPECT_NE(h, 0u);
  return h;
}

TEST(CpgThroughDaemon, TwoProgramsOnTwoNodes) {
  SimDaemons d({});
  d.use_for_programs();
  Seen sa, sb;
  const cpg_handle_t a = open_on(1, sa), b = open_on(2, sb);
  ASSERT_EQ(join_retrying(a, "through"), CS_OK);
  ASSERT_EQ(join_retrying(b, "through"), CS_OK);
  auto joined = [](Seen& s) {
    std::lock_guard lock(s.m);
    for (const auto& v : s.views)
      if (v.rfind("2 ", 0) == 0) return true;
    return false;
  };
  const auto joins_end = std::chrono::steady_clock::now() + 10s;
  while ((!joined(sa) || !joined(sb)) && std::chrono::steady_clock::now() < joins_end) {
    cpg_dispatch(a, CS_DISPATCH_ALL);
    cpg_dispatch(b, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(joined(sa) && joined(sb));
  unsigned int local = 0;
  ASSERT_EQ(cpg_local_get(b, &local), CS_OK);
  EXPECT_EQ(local, 2u);
  constexpr int kEach = 100;
  auto sender = [&](cpg_handle_t h, int who) {
    for (int i = 0; i < kEach; ++i) {
      std::string text = std::to_string(who) + ":" + std::to_string(i);
      if (i % 25 == 3) text.resize(300'000, 'x');
      iovec v{text.data(), text.size()};
      cs_error_t r;
      while ((r = cpg_mcast_joined(h, CPG_TYPE_AGREED, &v, 1)) == CS_ERR_TRY_AGAIN) {
        cpg_dispatch(h, CS_DISPATCH_ALL);
        std::this_thread::sleep_for(100us);
      }
      ASSERT_EQ(r, CS_OK);
    }
  };
  std::thread tb([&] { sender(b, 2); });
  sender(a, 1);
  tb.join();
  auto end = std::chrono::steady_clock::now() + 30s;
  auto count = [](Seen& s) {
    std::lock_guard lock(s.m);
    return s.messages.size();
  };
  while ((count(sa) < 2 * kEach || count(sb) < 2 * kEach) &&
         std::chrono::steady_clock::now() < end) {
    cpg_dispatch(a, CS_DISPATCH_ALL);
    cpg_dispatch(b, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(count(sa), 2u * kEach);
  {
    std::lock_guard la(sa.m), lb(sb.m);
    std::size_t i = 0;
    while (i < sa.messages.size() && i < sb.messages.size() && sa.messages[i] == sb.messages[i])
      ++i;
    EXPECT_TRUE(sa.messages == sb.messages)
        << "a " << sa.messages.size() << " b " << sb.messages.size() << " differ at " << i << ": "
        << (i < sa.messages.size() ? sa.messages[i].substr(0, 12) : "-") << " vs "
        << (i < sb.messages.size() ? sb.messages[i].substr(0, 12) : "-");
  }
  ASSERT_EQ(cpg_finalize(a), CS_OK);
  end = std::chrono::steady_clock::now() + 5s;
  bool procdown = false;
  while (!procdown && std::chrono::steady_clock::now() < end) {
    cpg_dispatch(b, CS_DISPATCH_ALL);
    std::lock_guard lock(sb.m);
    for (const auto& v : sb.views)
      procdown |= v.find(" 1 0 reason ") != std::string::npos;
  }
  EXPECT_TRUE(procdown) << sb.views.back() << " connected0 "
                        << d.server(0).counters().connected.load()
                        << " members at 1: " << d.node(0).members_of("through").size()
                        << " at 2: " << d.node(1).members_of("through").size();
  EXPECT_EQ(cpg_finalize(b), CS_OK);
  EXPECT_EQ(d.server(0).counters().accepted.load(), 1u);
  EXPECT_EQ(d.server(1).counters().accepted.load(), 1u);
}

// Retries what the ring asks to retry: a sync, a full queue, or a join
// while the handle's last leave is still on its way.
template <class Call>
cs_error_t retried(cpg_handle_t h, Call call) {
  cs_error_t e = CS_ERR_TRY_AGAIN;
  for (int i = 0; i < 20'000; ++i) {
    e = call();
    if (e != CS_ERR_TRY_AGAIN && e != CS_ERR_EXIST) return e;
    cpg_dispatch(h, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(100us);
  }
  return e;
}

// A program sends bursts on a small credit, leaving and joining again
// between them: its leave and join reach the ring after the messages sent
// before them (the daemon takes its requests in order, and holds a
// credited mcast the ring refused before it takes anything after it), so
// another member sees each burst whole between the two views.
TEST(CpgThroughDaemon, BurstsBetweenLeavesAndJoinsKeepTheirPlace) {
  SimDaemonOptions o;
  o.server.quota.max_credit_messages = 4;
  o.server.quota.max_credit_bytes = 16 << 10;
  o.send_queue_messages = 2;  // sends meet CS_ERR_TRY_AGAIN: holds
  SimDaemons d(o);
  d.use_for_programs();
  Seen sa, sb;
  const cpg_handle_t a = open_on(1, sa), b = open_on(2, sb);
  const cpg_name g = group_name("bursts");
  ASSERT_EQ(retried(b, [&] { return cpg_join(b, &g); }), CS_OK);
  constexpr int kBursts = 4, kEach = 40;
  for (int k = 0; k < kBursts; ++k) {
    ASSERT_EQ(retried(a, [&] { return cpg_join(a, &g); }), CS_OK) << k;
    for (int i = 0; i < kEach; ++i) {
      std::string text = std::to_string(k) + ":" + std::to_string(i);
      text.resize(200 + static_cast<std::size_t>(i) * 97 % 3000, '.');
      iovec v{text.data(), text.size()};
      ASSERT_EQ(retried(a, [&] { return cpg_mcast_joined(a, CPG_TYPE_AGREED, &v, 1); }), CS_OK);
    }
    ASSERT_EQ(retried(a, [&] { return cpg_leave(a, &g); }), CS_OK) << k;
    cpg_dispatch(a, CS_DISPATCH_ALL);
  }
  const auto end = std::chrono::steady_clock::now() + 30s;
  auto done = [&] {
    std::lock_guard lock(sb.m);
    return sb.messages.size() >= kBursts * kEach && sb.views.size() >= 1 + 2 * kBursts;
  };
  while (!done() && std::chrono::steady_clock::now() < end) {
    cpg_dispatch(b, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(1ms);
  }
  std::lock_guard lock(sb.m);
  ASSERT_TRUE(sb.messages.size() >= kBursts * kEach && sb.views.size() >= 1 + 2 * kBursts)
      << "after 30 s: " << sb.messages.size() << " of " << kBursts * kEach << " messages, "
      << sb.views.size() << " of " << 1 + 2 * kBursts << " views";
  ASSERT_EQ(sb.messages.size(), std::size_t{kBursts * kEach});
  for (int k = 0; k < kBursts; ++k)
    for (int i = 0; i < kEach; ++i)
      EXPECT_EQ(sb.messages[k * kEach + i].substr(0, sb.messages[k * kEach + i].find('.')),
                std::to_string(k) + ":" + std::to_string(i));
  // b's own join, then a's join and leave around each burst, in that order.
  EXPECT_EQ(sb.order.size(), sb.messages.size() + sb.views.size());
  std::string shape;
  for (char c : sb.order)
    if (shape.empty() || shape.back() != c || c != 'm') shape += c;
  EXPECT_EQ(shape, "v" + std::string("vmv") + "vmv" + "vmv" + "vmv");
  EXPECT_EQ(d.server(0).counters().over_quota.load(), 0u);
  EXPECT_EQ(cpg_finalize(a), CS_OK);
  EXPECT_EQ(cpg_finalize(b), CS_OK);
}

}  // namespace
}  // namespace ringcast::daemon_test
