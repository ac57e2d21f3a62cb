// A process's first cpg_initialize on a simulated cluster: it returns once
// the process's node is in the ring of every node it reaches, with that
// ring's sync over, so that a join and sends right after it are CS_OK; a
// node whose peers are all down starts in a ring of its own; the wait never
// outlasts the startup window.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cpg_sim_cluster.hpp"

namespace ringcast::cpg_test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kStartupWindow{3000};

std::string ring_nodes(SimNodes& nodes, const std::vector<std::size_t>& members) {
  std::string s = "[";
  for (std::size_t i = 0; i < members.size(); ++i)
    s += (i ? " " : "") + std::to_string(nodes.node_id(members[i]));
  return s + "]";
}

bool wait_for_ring(SimNodes& nodes, const std::vector<std::size_t>& members) {
  std::vector<fabric::NodeId> want;
  for (std::size_t i : members)
    want.push_back(nodes.node_id(i));
  const auto end = Clock::now() + std::chrono::seconds(20);
  for (;;) {
    bool all = true;
    for (std::size_t i : members)
      all = all && nodes.cluster().ring_members(i) == want;
    if (all) return true;
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
}

std::size_t count_of(Recorder& r, const std::string& text) {
  std::lock_guard lock(r.mutex);
  std::size_t n = 0;
  for (const std::string& l : r.lines)
    n += l.find(text) != std::string::npos ? 1 : 0;
  return n;
}

std::string first_line(Recorder& r) {
  std::lock_guard lock(r.mutex);
  return r.lines.empty() ? "" : r.lines.front();
}

// Opens a recording handle on member i (its initial totem confchg first)
// and says how long cpg_model_initialize took.
cpg_handle_t open_timed(SimNodes& nodes, std::size_t i, Recorder& rec, milliseconds& took) {
  auto use = nodes.use(i);
  const auto start = Clock::now();
  const cpg_handle_t h = open_recorded(rec, true);
  took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  return h;
}

// Members 0..2 run a ring and a group "g"; member 3's process starts late.
void one_late_start(std::uint64_t seed) {
  SimNodes nodes(4, small_ring(), seed, fast_membership());
  nodes.crash(3);
  ASSERT_TRUE(wait_for_ring(nodes, {0, 1, 2})) << nodes.cluster().describe(0);
  std::vector<Recorder> recs(4);
  std::vector<cpg_handle_t> hs;
  for (std::size_t i = 0; i < 3; ++i) {
    auto use = nodes.use(i);
    hs.push_back(open_recorded(recs[i]));
  }
  ASSERT_TRUE(join_in_order(hs, {&recs[0], &recs[1], &recs[2]}, "g"));

  nodes.restart(3, kStartupWindow);
  milliseconds took{};
  const cpg_handle_t late = open_timed(nodes, 3, recs[3], took);
  hs.push_back(late);
  EXPECT_LT(took, kStartupWindow);
  // Right away: the join and a send are accepted.
  const cpg_name g = name_of("g");
  EXPECT_EQ(cpg_join(late, &g), CS_OK);
  EXPECT_EQ(send_text(late, "late-0"), CS_OK);
  // The ring it started in is the cluster's, all four.
  ASSERT_TRUE(dispatch_until(late, [&] { return recs[3].size() >= 1; }));
  EXPECT_NE(first_line(recs[3]).find(ring_nodes(nodes, {0, 1, 2, 3})), std::string::npos)
      << first_line(recs[3]) << "; " << nodes.cluster().describe(3);
  // No merge follows: sends over three merge-probe intervals all go out.
  int try_again = 0;
  for (int k = 1; k < 100; ++k) {
    const cs_error_t e = send_text(late, "late-" + std::to_string(k));
    if (e == CS_ERR_TRY_AGAIN) ++try_again;
    EXPECT_TRUE(e == CS_OK || e == CS_ERR_TRY_AGAIN) << cs_strerror(e);
    for (cpg_handle_t h : hs)
      cpg_dispatch(h, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(milliseconds(3));
  }
  EXPECT_EQ(try_again, 0);
  // Every member of g gets every one of them.
  EXPECT_TRUE(dispatch_until(hs, [&] {
    for (Recorder& r : recs)
      if (count_of(r, " late-") < 100 - static_cast<std::size_t>(try_again)) return false;
    return true;
  }));
  for (cpg_handle_t h : hs)
    cpg_finalize(h);
}

TEST(CpgStartup, AProcessStartingOnARunningClusterIsInItsRingWhenInitializeReturns) {
  for (std::uint64_t seed : {31, 32, 33, 34, 35, 36}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    one_late_start(seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(CpgStartup, AProcessWhosePeersAreAllDownStartsInARingOfItsOwn) {
  SimNodes nodes(3, small_ring(), 41, fast_membership());
  for (std::size_t i = 0; i < 3; ++i)
    nodes.crash(i);
  nodes.restart(2, kStartupWindow);
  Recorder rec;
  milliseconds took{};
  const cpg_handle_t h = open_timed(nodes, 2, rec, took);
  // No link to wait for: it does not wait for the window.
  EXPECT_LT(took, kStartupWindow);
  const cpg_name g = name_of("g");
  EXPECT_EQ(cpg_join(h, &g), CS_OK);
  EXPECT_EQ(send_text(h, "alone"), CS_OK);
  ASSERT_TRUE(dispatch_until(h, [&] { return count_of(rec, "msg g ") == 1; }));
  EXPECT_NE(first_line(rec).find(ring_nodes(nodes, {2})), std::string::npos) << first_line(rec);
  cpg_finalize(h);
}

// A window too short for any merge: cpg_initialize returns when it ends,
// with the ring the node has; the merge comes later, as before.
TEST(CpgStartup, TheWaitEndsWithTheStartupWindow) {
  SimNodes nodes(3, small_ring(), 51, fast_membership());
  nodes.crash(2);
  ASSERT_TRUE(wait_for_ring(nodes, {0, 1}));
  nodes.restart(2, milliseconds(1));
  Recorder rec;
  milliseconds took{};
  const cpg_handle_t h = open_timed(nodes, 2, rec, took);
  EXPECT_LT(took, milliseconds(500));
  EXPECT_EQ(join_retry(h, "g", {h}), CS_OK);
  EXPECT_EQ(send_text_retry(h, "later", {h}), CS_OK);
  EXPECT_TRUE(wait_for_ring(nodes, {0, 1, 2}));
  cpg_finalize(h);
}

}  // namespace
}  // namespace ringcast::cpg_test
