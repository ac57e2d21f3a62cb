// The C API in client mode against daemons whose receive logs are shared
// (simulated nodes): deliveries above the copy threshold are read in place
// in the mapped log, byte-exact and in one order at two programs, the
// library's counters show no byte copied for them but by its spill, the
// delivery's memory cannot be made writable, and the library's releases
// keep the log turning
// (four times its size goes through, with eviction off).
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
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
  std::vector<std::string> messages;
  std::size_t views = 0;
  bool writable = false;  // a delivery's page could be made writable
};

void on_deliver(cpg_handle_t h, const cpg_name*, uint32_t, uint32_t, void* msg, size_t len) {
  void* ctx = nullptr;
  cpg_context_get(h, &ctx);
  auto* s = static_cast<Seen*>(ctx);
  s->messages.emplace_back(static_cast<const char*>(msg), len);
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  void* first = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(msg) / page * page);
  if (len >= 256 && ::mprotect(first, page, PROT_READ | PROT_WRITE) == 0) s->writable = true;
}

void on_confchg(cpg_handle_t h, const cpg_name*, const cpg_address*, size_t nm, const cpg_address*,
                size_t, const cpg_address*, size_t) {
  void* ctx = nullptr;
  cpg_context_get(h, &ctx);
  static_cast<Seen*>(ctx)->views = nm;
}

cpg_handle_t open_on(std::uint32_t node, Seen& seen) {
  const cpg_handle_t h = open_program_on(node, on_deliver, on_confchg, &seen);
  EXPECT_NE(h, 0u);
  return h;
}

ringcast_counters counters_of(cpg_handle_t h) {
  ringcast_counters c{};
  c.size = sizeof c;
  EXPECT_EQ(ringcast_counters_get(h, &c), CS_OK);
  return c;
}

std::string text_of(int i) {
  std::string s = std::to_string(i) + ":";
  s.resize(256 + static_cast<std::size_t>(i % 17) * 331, static_cast<char>('A' + i % 26));
  return s;
}

TEST(CpgDeliveriesThroughDaemon, AboveTheThresholdReadInTheLogCopiedOnlyBySpill) {
  SimDaemonOptions o;
  o.share_log = true;
  SimDaemons d(o);
  d.use_for_programs();
  Seen sa, sb;
  const cpg_handle_t a = open_on(1, sa), b = open_on(2, sb);
  ASSERT_EQ(join_retrying(a, "logs"), CS_OK);
  ASSERT_EQ(join_retrying(b, "logs"), CS_OK);
  for (auto end = std::chrono::steady_clock::now() + 10s;
       (sa.views < 2 || sb.views < 2) && std::chrono::steady_clock::now() < end;) {
    cpg_dispatch(a, CS_DISPATCH_ALL);
    cpg_dispatch(b, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(sb.views, 2u);
  // About 4 MiB: four times each daemon's log.
  std::vector<std::string> sent;
  std::uint64_t bytes = 0;
  for (int i = 0; bytes < (4u << 20); ++i) {
    sent.push_back(text_of(i));
    bytes += sent.back().size();
    iovec v{sent.back().data(), sent.back().size()};
    cs_error_t e;
    while ((e = cpg_mcast_joined(a, CPG_TYPE_AGREED, &v, 1)) == CS_ERR_TRY_AGAIN) {
      cpg_dispatch(a, CS_DISPATCH_ALL);
      cpg_dispatch(b, CS_DISPATCH_ALL);
      std::this_thread::sleep_for(100us);
    }
    ASSERT_EQ(e, CS_OK) << i;
    cpg_dispatch(a, CS_DISPATCH_ALL);
    cpg_dispatch(b, CS_DISPATCH_ALL);
  }
  for (auto end = std::chrono::steady_clock::now() + 30s;
       (sa.messages.size() < sent.size() || sb.messages.size() < sent.size()) &&
       std::chrono::steady_clock::now() < end;) {
    cpg_dispatch(a, CS_DISPATCH_ALL);
    cpg_dispatch(b, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(sa.messages == sent);
  EXPECT_TRUE(sb.messages == sent);
  // Copied only by the library's spill: a send that met CS_ERR_TRY_AGAIN
  // while the handle's queue held its share of the log (a slow machine
  // lets a burst of deliveries pile up between two dispatches).
  for (cpg_handle_t h : {a, b}) {
    const ringcast_counters c = counters_of(h);
    EXPECT_EQ(c.deliveries_by_reference + c.deliveries_copied, sent.size());
    EXPECT_EQ(c.bytes_delivered_by_reference + c.bytes_delivered_copied, bytes);
    EXPECT_EQ(c.deliveries_copied, c.messages_spilled);
    EXPECT_EQ(c.bytes_delivered_copied, c.bytes_copied_on_spill);
  }
  const bool spilled = counters_of(a).messages_spilled + counters_of(b).messages_spilled > 0;
  EXPECT_EQ(sa.writable || sb.writable, spilled);
  EXPECT_EQ(d.server(0).counters().releases_refused.load(), 0u);
  EXPECT_EQ(d.server(1).counters().releases_refused.load(), 0u);
  EXPECT_EQ(cpg_finalize(a), CS_OK);
  EXPECT_EQ(cpg_finalize(b), CS_OK);
}

}  // namespace
}  // namespace ringcast::daemon_test
