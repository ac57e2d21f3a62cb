// CPG over a changing membership (membership's faults seen through the CPG
// API), on a simulated
// cluster with faults: a crash gives NODEDOWN in every group of the dead
// process and then the totem confchg, at the same point of every survivor's
// stream; a restarted process is merged back (NODEUP for the groups it
// joined alone, JOIN for later joins, and its new handles see the groups'
// existing members); a healed partition merges the groups of both sides into
// one order; sends, joins and leaves get TRY_AGAIN only while the groups
// merge.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cpg_sim_cluster.hpp"

namespace ringcast::cpg_test {
namespace {

struct Handle {
  cpg_handle_t h = 0;
  std::unique_ptr<Recorder> rec = std::make_unique<Recorder>();
  std::size_t node = 0;
  std::string group;
};

using Handles = std::vector<std::unique_ptr<Handle>>;

Handle& open_on(SimNodes& nodes, Handles& hs, std::size_t node, const std::string& group) {
  auto x = std::make_unique<Handle>();
  x->node = node;
  x->group = group;
  {
    auto use = nodes.use(node);
    x->h = open_recorded(*x->rec);
  }
  hs.push_back(std::move(x));
  return *hs.back();
}

// Every handle's events when the test failed (or RINGCAST_CPG_DUMP=1 is
// set), for reading a failure.
void dump(const Handles& hs) {
  if (!::testing::Test::HasFailure() && std::getenv("RINGCAST_CPG_DUMP") == nullptr) return;
  for (std::size_t i = 0; i < hs.size(); ++i) {
    std::lock_guard lock(hs[i]->rec->mutex);
    std::fprintf(stderr, "--- handle %zu (node index %zu, %s)\n", i, hs[i]->node,
                 hs[i]->group.c_str());
    for (const std::string& l : hs[i]->rec->lines)
      std::fprintf(stderr, "  %s\n", l.c_str());
  }
}

struct DumpAtEnd {
  const Handles& hs;
  ~DumpAtEnd() { dump(hs); }
};

std::vector<cpg_handle_t> all(const Handles& hs) {
  std::vector<cpg_handle_t> v;
  for (const auto& x : hs)
    v.push_back(x->h);
  return v;
}

std::vector<std::string> lines_of(Handle& x) {
  std::lock_guard lock(x.rec->mutex);
  return x.rec->lines;
}

// Lines from the first one containing `from` on (empty if none).
std::vector<std::string> from_line(const std::vector<std::string>& lines, const std::string& from) {
  auto it = std::find_if(lines.begin(), lines.end(),
                         [&](const std::string& l) { return l.find(from) != std::string::npos; });
  return {it, lines.end()};
}

std::size_t count_containing(Handle& x, const std::string& text) {
  std::lock_guard lock(x.rec->mutex);
  return static_cast<std::size_t>(
      std::count_if(x.rec->lines.begin(), x.rec->lines.end(),
                    [&](const std::string& l) { return l.find(text) != std::string::npos; }));
}

// Whether a confchg of `x` lists exactly these members joined with NODEUP
// (in any order: they come in the order of their nodes' announces).
bool has_nodeup(SimNodes& nodes, Handle& x, std::vector<std::size_t> expected) {
  std::vector<std::string> want;
  for (std::size_t i : expected)
    want.push_back(std::to_string(nodes.node_id(i)) + "/4");
  std::sort(want.begin(), want.end());
  for (const std::string& l : lines_of(x)) {
    const auto at = l.find(" joined=[");
    if (l.rfind("view ", 0) != 0 || at == std::string::npos) continue;
    const std::string list = l.substr(at + 9, l.size() - at - 10);
    std::vector<std::string> got;
    for (std::size_t p = 0; p < list.size();) {
      const std::size_t q = std::min(list.find(' ', p), list.size());
      got.push_back(list.substr(p, q - p));
      p = q + 1;
    }
    std::sort(got.begin(), got.end());
    if (got == want) return true;
  }
  return false;
}

std::string ring_line_of(SimNodes& nodes, const std::vector<std::size_t>& members) {
  std::string s = "[";
  for (std::size_t i = 0; i < members.size(); ++i)
    s += (i ? " " : "") + std::to_string(nodes.node_id(members[i]));
  return s + "]";
}

std::string addr(SimNodes& nodes, std::size_t i, int reason) {
  return std::to_string(nodes.node_id(i)) + "/" + std::to_string(reason);
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> members_at(SimNodes& nodes, std::size_t i,
                                                                const std::string& group) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (const auto& m : nodes.node(i).members_of(group))
    out.emplace_back(m.node, m.pid);
  return out;
}

TEST(CpgMembership, ACrashGivesNodeDownInEveryGroupThenTheRingAtTheSamePoint) {
  SimNodes nodes(4, small_ring(), 11, fast_membership());
  Handles hs;
  DumpAtEnd dump_at_end{hs};
  for (const std::string g : {"g1", "g2"}) {
    std::vector<cpg_handle_t> group_handles;
    std::vector<Recorder*> recs;
    for (std::size_t n = 0; n < 4; ++n) {
      Handle& x = open_on(nodes, hs, n, g);
      group_handles.push_back(x.h);
      recs.push_back(x.rec.get());
    }
    ASSERT_TRUE(join_in_order(group_handles, recs, g));
  }
  for (std::size_t i = 0; i < hs.size(); ++i)
    ASSERT_EQ(send_text_retry(hs[i]->h, "before-" + std::to_string(i), all(hs)), CS_OK);
  ASSERT_TRUE(dispatch_until(all(hs), [&] {
    for (auto& x : hs)
      if (count_containing(*x, "msg " + x->group + " ") < 4) return false;
    return true;
  }));
  // Node 3 sends a burst and dies in the middle of it: the survivors deliver
  // the same part of it.
  for (int k = 0; k < 20; ++k)
    (void)send_text(hs[3]->h, "dying-" + std::to_string(k));
  nodes.crash(3);
  const std::string ring3 = ring_line_of(nodes, {0, 1, 2});
  std::vector<cpg_handle_t> survivors;
  for (auto& x : hs)
    if (x->node != 3) survivors.push_back(x->h);
  ASSERT_TRUE(dispatch_until(survivors, [&] {
    for (auto& x : hs)
      if (x->node != 3 && count_containing(*x, ring3) == 0) return false;
    return true;
  }));
  // The dead process's handle fails from now on.
  EXPECT_EQ(send_text(hs[3]->h, "ghost"), CS_ERR_LIBRARY);
  // Traffic goes on among the survivors.
  for (auto& x : hs)
    if (x->node != 3) {
      ASSERT_EQ(send_text_retry(x->h, "after-" + x->group, survivors), CS_OK);
    }
  ASSERT_TRUE(dispatch_until(survivors, [&] {
    for (auto& x : hs)
      if (x->node != 3 && count_containing(*x, "after-" + x->group) < 3) return false;
    return true;
  }));
  for (const std::string g : {"g1", "g2"}) {
    std::vector<std::string> first;
    for (auto& x : hs) {
      if (x->node == 3 || x->group != g) continue;
      // From the last join on, every survivor saw the same events.
      const auto lines = from_line(lines_of(*x), "joined=[" + addr(nodes, 3, 1) + "]");
      ASSERT_FALSE(lines.empty());
      // NODEDOWN for node 3 in this group, then at once the ring without it.
      const auto down = from_line(lines, "left=[" + addr(nodes, 3, 3) + "] joined=[]");
      ASSERT_GE(down.size(), 2u) << "no NODEDOWN in " << g;
      EXPECT_EQ(down[0].rfind("view " + g + " members=[", 0), 0u) << down[0];
      EXPECT_NE(down[1].find("ring " + std::to_string(nodes.node_id(0)) + "."), std::string::npos)
          << down[1];
      EXPECT_NE(down[1].find(ring3), std::string::npos) << down[1];
      if (first.empty()) {
        first = lines;
      } else {
        EXPECT_EQ(lines, first) << "survivors of " << g << " diverge";
      }
    }
  }
  for (auto& x : hs)
    cpg_finalize(x->h);
}

TEST(CpgMembership, ARestartedProcessIsMergedBackWithNodeUpAndJoin) {
  SimNodes nodes(3, small_ring(), 12, fast_membership());
  Handles hs;
  DumpAtEnd dump_at_end{hs};
  std::vector<Recorder*> recs;
  std::vector<cpg_handle_t> g_handles;
  for (std::size_t n = 0; n < 3; ++n) {
    Handle& x = open_on(nodes, hs, n, "g");
    g_handles.push_back(x.h);
    recs.push_back(x.rec.get());
  }
  ASSERT_TRUE(join_in_order(g_handles, recs, "g"));
  Handle& g2a = open_on(nodes, hs, 0, "g2");
  Handle& g2b = open_on(nodes, hs, 1, "g2");
  ASSERT_TRUE(join_in_order({g2a.h, g2b.h}, {g2a.rec.get(), g2b.rec.get()}, "g2"));

  // Cut node 2 off, then crash it: its restart stays alone until heal(), so
  // it can join a group in a ring of its own first.
  nodes.partition({2});
  nodes.crash(2);
  const std::vector<cpg_handle_t> survivors = {hs[0]->h, hs[1]->h, g2a.h, g2b.h};
  ASSERT_TRUE(dispatch_until(survivors, [&] {
    return count_containing(*hs[0], "left=[" + addr(nodes, 2, 3) + "]") == 1 &&
           count_containing(*hs[1], "left=[" + addr(nodes, 2, 3) + "]") == 1;
  }));
  nodes.restart(2);
  Handle& again = open_on(nodes, hs, 2, "g");
  ASSERT_EQ(join_retry(again.h, "g", {again.h}), CS_OK);
  ASSERT_TRUE(dispatch_until(again.h, [&] { return again.rec->size() >= 1; }));
  EXPECT_EQ(lines_of(again)[0], "view g members=[" + addr(nodes, 2, 0) + "] left=[] joined=[" +
                                    addr(nodes, 2, 1) + "]");

  nodes.heal();
  std::vector<cpg_handle_t> live = {hs[0]->h, hs[1]->h, g2a.h, g2b.h, again.h};
  // The survivors learn the restarted process with NODEUP, and it learns
  // them (one confchg, listing both), at the end of the sync.
  ASSERT_TRUE(dispatch_until(live, [&] {
    return has_nodeup(nodes, *hs[0], {2}) && has_nodeup(nodes, *hs[1], {2}) &&
           has_nodeup(nodes, again, {0, 1});
  }));
  // The member lists of those confchgs are the same on both sides.
  const std::string up_view = lines_of(*hs[0]).back();
  EXPECT_EQ(up_view.substr(0, up_view.find(" left=")),
            lines_of(again).back().substr(0, lines_of(again).back().find(" left=")));
  // One member order everywhere once every node announced.
  ASSERT_TRUE(dispatch_until(live, [&] {
    return members_at(nodes, 0, "g") == members_at(nodes, 2, "g") &&
           members_at(nodes, 1, "g") == members_at(nodes, 2, "g");
  }));
  EXPECT_EQ(members_at(nodes, 0, "g").size(), 3u);
  EXPECT_EQ(members_at(nodes, 2, "g2"), members_at(nodes, 0, "g2"));

  // A new handle of the restarted process joins g2: its first view lists
  // the members the group already had (in the order of their announces),
  // then itself.
  Handle& late = open_on(nodes, hs, 2, "g2");
  live.push_back(late.h);
  ASSERT_EQ(join_retry(late.h, "g2", live), CS_OK);
  ASSERT_TRUE(dispatch_until(live, [&] { return late.rec->size() >= 1; }));
  const auto g2 = members_at(nodes, 2, "g2");
  ASSERT_EQ(g2.size(), 3u);
  EXPECT_EQ(lines_of(late)[0], "view g2 members=[" + std::to_string(g2[0].first) + "/0 " +
                                   std::to_string(g2[1].first) + "/0 " + addr(nodes, 2, 0) +
                                   "] left=[] joined=[" + addr(nodes, 2, 1) + "]");
  ASSERT_TRUE(dispatch_until(live, [&] {
    return count_containing(g2a, "joined=[" + addr(nodes, 2, 1) + "]") == 1 &&
           count_containing(g2b, "joined=[" + addr(nodes, 2, 1) + "]") == 1;
  }));

  // Traffic in g reaches all three, in one order.
  for (Handle* x : {hs[0].get(), hs[1].get(), &again})
    ASSERT_EQ(send_text_retry(x->h, "merged-" + std::to_string(x->node), live), CS_OK);
  ASSERT_TRUE(dispatch_until(live, [&] {
    for (Handle* x : {hs[0].get(), hs[1].get(), &again})
      if (count_containing(*x, "merged-") < 3) return false;
    return true;
  }));
  auto tail = [&](Handle& x) { return from_line(lines_of(x), "merged-"); };
  EXPECT_EQ(tail(*hs[0]), tail(again));
  EXPECT_EQ(tail(*hs[1]), tail(again));
  for (auto& x : hs)
    cpg_finalize(x->h);
}

TEST(CpgMembership, AHealedPartitionMergesTheGroupsOfBothSides) {
  SimNodes nodes(4, small_ring(), 13, fast_membership());
  Handles hs;
  DumpAtEnd dump_at_end{hs};
  std::vector<Recorder*> recs;
  std::vector<cpg_handle_t> g_handles;
  for (std::size_t n = 0; n < 4; ++n) {
    Handle& x = open_on(nodes, hs, n, "g");
    g_handles.push_back(x.h);
    recs.push_back(x.rec.get());
  }
  ASSERT_TRUE(join_in_order(g_handles, recs, "g"));
  nodes.partition({0, 1});
  const std::string ring_a = ring_line_of(nodes, {0, 1});
  const std::string ring_b = ring_line_of(nodes, {2, 3});
  ASSERT_TRUE(dispatch_until(g_handles, [&] {
    return count_containing(*hs[0], ring_a) == 1 && count_containing(*hs[1], ring_a) == 1 &&
           count_containing(*hs[2], ring_b) == 1 && count_containing(*hs[3], ring_b) == 1;
  }));
  // Each side saw the other's members go with NODEDOWN.
  EXPECT_EQ(count_containing(*hs[0], "left=[" + addr(nodes, 2, 3) + " " + addr(nodes, 3, 3) + "]"),
            1u);
  EXPECT_EQ(count_containing(*hs[3], "left=[" + addr(nodes, 0, 3) + " " + addr(nodes, 1, 3) + "]"),
            1u);
  // Each side goes on alone: node 1 leaves g, node 0 opens ga, node 2 opens
  // gb; the sides' traffic stays on their side.
  const cpg_name g = name_of("g");
  ASSERT_EQ(cpg_leave(hs[1]->h, &g), CS_OK);
  Handle& ga = open_on(nodes, hs, 0, "ga");
  Handle& gb = open_on(nodes, hs, 2, "gb");
  ASSERT_EQ(join_retry(ga.h, "ga", {ga.h}), CS_OK);
  ASSERT_EQ(join_retry(gb.h, "gb", {gb.h}), CS_OK);
  ASSERT_EQ(send_text_retry(hs[3]->h, "side-b", {hs[3]->h}), CS_OK);
  std::vector<cpg_handle_t> live = all(hs);
  ASSERT_TRUE(dispatch_until(live, [&] {
    return count_containing(*hs[2], "side-b") == 1 && ga.rec->size() >= 1 && gb.rec->size() >= 1 &&
           count_containing(*hs[0], "left=[" + addr(nodes, 1, 2)) == 1;
  }));
  EXPECT_EQ(count_containing(*hs[0], "side-b"), 0u);

  nodes.heal();
  const std::string ring4 = ring_line_of(nodes, {0, 1, 2, 3});
  ASSERT_TRUE(dispatch_until(live, [&] {
    return has_nodeup(nodes, *hs[0], {2, 3}) && has_nodeup(nodes, *hs[2], {0}) &&
           has_nodeup(nodes, *hs[3], {0});
  }));
  // Both sides' NODEUP confchg list the merged group in one order.
  auto members_part = [](const std::string& view) { return view.substr(0, view.find(" left=")); };
  EXPECT_EQ(members_part(lines_of(*hs[0]).back()), members_part(lines_of(*hs[2]).back()));
  EXPECT_EQ(members_part(lines_of(*hs[0]).back()), members_part(lines_of(*hs[3]).back()));
  for (auto& x : hs)
    EXPECT_GE(count_containing(*x, ring4), 1u) << "node " << x->node;
  // Node 1 left g while cut off: the other side never sees it come back.
  EXPECT_EQ(count_containing(*hs[2], "joined=[" + addr(nodes, 1, 4) + "]"), 0u);
  // Every node holds the same groups, members in the same order.
  ASSERT_TRUE(dispatch_until(live, [&] {
    for (std::size_t n = 1; n < 4; ++n) {
      for (const std::string group : {"g", "ga", "gb"})
        if (members_at(nodes, n, group) != members_at(nodes, 0, group)) return false;
    }
    return true;
  }));
  EXPECT_EQ(members_at(nodes, 0, "g").size(), 3u);
  EXPECT_EQ(members_at(nodes, 3, "ga").size(), 1u);
  EXPECT_EQ(members_at(nodes, 1, "gb").size(), 1u);
  // One group again: every member's message reaches every member, in one order.
  for (std::size_t n : {0, 2, 3})
    ASSERT_EQ(send_text_retry(hs[n]->h, "one-" + std::to_string(n), live), CS_OK);
  ASSERT_TRUE(dispatch_until(live, [&] {
    for (std::size_t n : {0, 2, 3})
      if (count_containing(*hs[n], "one-") < 3) return false;
    return true;
  }));
  auto tail = [&](std::size_t n) { return from_line(lines_of(*hs[n]), "one-"); };
  EXPECT_EQ(tail(0), tail(2));
  EXPECT_EQ(tail(0), tail(3));
  for (auto& x : hs)
    cpg_finalize(x->h);
}

}  // namespace
}  // namespace ringcast::cpg_test
