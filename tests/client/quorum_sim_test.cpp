// The quorum API (quorum_*, <corosync/quorum.h>) over a simulated cluster:
// what each side of a partition sees (the majority quorate, the minority not
// and told so), the heal, two_node, wait_for_all at start, bad handles; the
// vote count itself on its own; and the C program quorum_compat.c, compiled
// against the compat header, run on a simulated node.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "c_enum_args.h"
#include "client/quorum_tracker.hpp"
#include "cpg_sim_cluster.hpp"
#include "quorum_compat.h"
#include "ringcast/quorum.h"
#include "support/quorum_log.hpp"

namespace ringcast::cpg_test {
namespace {

using client::count_votes;
using client::QuorumRules;
using namespace quorum_test;

// A V1 handle on node i that tracks changes.
quorum_handle_t open_tracking(SimNodes& nodes, std::size_t i, QuorumLog& log) {
  auto use = nodes.use(i);
  quorum_model_v1_data_t v1{QUORUM_MODEL_V1, on_quorum, on_nodelist};
  quorum_handle_t h = 0;
  EXPECT_EQ(quorum_model_initialize(&h, QUORUM_MODEL_V1,
                                    reinterpret_cast<quorum_model_data_t*>(&v1), nullptr, &log),
            CS_OK);
  EXPECT_EQ(quorum_trackstart(h, CS_TRACK_CHANGES), CS_OK);
  return h;
}

std::string nodes_of(SimNodes& nodes, const std::vector<std::size_t>& members) {
  std::vector<uint32_t> ids;
  for (std::size_t i : members)
    ids.push_back(nodes.node_id(i));
  return list(ids.data(), static_cast<uint32_t>(ids.size()));
}

SimNodes::Prepare with_rules(QuorumRules rules) {
  return [rules](std::size_t, client::Node& node) { node.quorum().set_rules(rules); };
}

// ---- the count alone (votequorum's arithmetic)

TEST(QuorumVotes, AMajorityOfTheExpectedVotes) {
  const QuorumRules three = QuorumRules::equal_votes(3);
  const std::uint32_t two[] = {1, 2};
  const std::uint32_t one[] = {3};
  EXPECT_EQ(count_votes(three, two).needed, 2u);
  EXPECT_EQ(count_votes(three, two).present, 2u);
  EXPECT_EQ(count_votes(three, one).present, 1u);
  const QuorumRules four = QuorumRules::equal_votes(4);
  EXPECT_EQ(count_votes(four, two).needed, 3u);  // 2 of 4 is no majority
}

TEST(QuorumVotes, NodeVotesAndMoreThanExpected) {
  QuorumRules r = QuorumRules::equal_votes(4);
  r.votes = {{1, 2}, {2, 1}, {3, 1}, {4, 0}};
  const std::uint32_t heavy[] = {1, 4};
  EXPECT_EQ(count_votes(r, heavy).present, 2u);
  EXPECT_EQ(count_votes(r, heavy).needed, 3u);
  r.expected_votes = 2;  // more votes present than expected: the majority is of those
  const std::uint32_t all[] = {1, 2, 3};
  EXPECT_EQ(count_votes(r, all).expected, 4u);
  EXPECT_TRUE(count_votes(r, all).all_present);
}

TEST(QuorumVotes, TwoNodeNeedsOneVote) {
  QuorumRules r = QuorumRules::equal_votes(2);
  r.two_node = true;
  const std::uint32_t one[] = {2};
  EXPECT_EQ(count_votes(r, one).needed, 1u);
  r.two_node = false;
  EXPECT_EQ(count_votes(r, one).needed, 2u);
}

// ---- over the simulated cluster

TEST(QuorumSim, APartitionLeavesTheMajorityQuorateAndTellsTheMinority) {
  SimNodes nodes(3, small_ring(), 21, fast_membership(), with_rules(QuorumRules::equal_votes(3)));
  QuorumLog logs[3];
  std::vector<quorum_handle_t> hs;
  for (std::size_t i = 0; i < 3; ++i)
    hs.push_back(open_tracking(nodes, i, logs[i]));
  const std::string all = nodes_of(nodes, {0, 1, 2});
  ASSERT_TRUE(until([&] { return logs[2].last() == "quorate=1 nodes=" + all; }, hs));
  for (quorum_handle_t h : hs)
    EXPECT_EQ(quorate(h), 1);

  nodes.partition({2});
  const std::string pair = nodes_of(nodes, {0, 1});
  const std::string alone = nodes_of(nodes, {2});
  ASSERT_TRUE(until(
      [&] {
        return logs[0].last() == "quorate=1 nodes=" + pair &&
               logs[1].last() == "quorate=1 nodes=" + pair &&
               logs[2].last() == "quorate=0 nodes=" + alone;
      },
      hs));
  EXPECT_EQ(quorate(hs[0]), 1);
  EXPECT_EQ(quorate(hs[1]), 1);
  EXPECT_EQ(quorate(hs[2]), 0);
  // The node list came first, naming who left.
  EXPECT_TRUE(logs[2].saw("nodelist " + alone + " joined=[] left=" + pair));
  EXPECT_TRUE(logs[0].saw("nodelist " + pair + " joined=[] left=" + alone));

  nodes.heal();
  ASSERT_TRUE(until(
      [&] {
        return logs[0].last() == "quorate=1 nodes=" + all &&
               logs[1].last() == "quorate=1 nodes=" + all &&
               logs[2].last() == "quorate=1 nodes=" + all;
      },
      hs));
  for (quorum_handle_t h : hs) {
    EXPECT_EQ(quorate(h), 1);
    EXPECT_EQ(quorum_finalize(h), CS_OK);
  }
}

TEST(QuorumSim, AnEvenSplitLeavesNoSideQuorate) {
  SimNodes nodes(4, small_ring(), 28, fast_membership(), with_rules(QuorumRules::equal_votes(4)));
  QuorumLog logs[4];
  std::vector<quorum_handle_t> hs;
  for (std::size_t i = 0; i < 4; ++i)
    hs.push_back(open_tracking(nodes, i, logs[i]));
  ASSERT_TRUE(until([&] { return logs[3].last().starts_with("quorate=1"); }, hs));
  nodes.partition({0, 1});
  const std::string a = nodes_of(nodes, {0, 1});
  const std::string b = nodes_of(nodes, {2, 3});
  ASSERT_TRUE(until(
      [&] {
        return logs[0].last() == "quorate=0 nodes=" + a &&
               logs[1].last() == "quorate=0 nodes=" + a &&
               logs[2].last() == "quorate=0 nodes=" + b && logs[3].last() == "quorate=0 nodes=" + b;
      },
      hs));
  for (quorum_handle_t h : hs)
    quorum_finalize(h);
}

TEST(QuorumSim, TrackstopEndsTheNotifications) {
  SimNodes nodes(3, small_ring(), 22, fast_membership(), with_rules(QuorumRules::equal_votes(3)));
  QuorumLog log, watcher;
  quorum_handle_t h = open_tracking(nodes, 2, log);
  quorum_handle_t w = open_tracking(nodes, 2, watcher);
  ASSERT_TRUE(until([&] { return !log.last().empty(); }, {h, w}));
  ASSERT_EQ(quorum_trackstop(h), CS_OK);
  quorum_dispatch(h, CS_DISPATCH_ALL);
  const std::size_t before = log.lines.size();
  nodes.partition({2});
  ASSERT_TRUE(until([&] { return watcher.last().starts_with("quorate=0"); }, {w}));
  quorum_dispatch(h, CS_DISPATCH_ALL);
  EXPECT_EQ(log.lines.size(), before);
  EXPECT_EQ(quorate(h), 0);  // the state is still there to ask for
  quorum_finalize(h);
  quorum_finalize(w);
}

TEST(QuorumSim, TwoNodeKeepsBothSidesQuorate) {
  QuorumRules rules = QuorumRules::equal_votes(2);
  rules.two_node = true;
  rules.wait_for_all = true;  // two_node's default
  SimNodes nodes(2, small_ring(), 23, fast_membership(), with_rules(rules));
  QuorumLog logs[2];
  std::vector<quorum_handle_t> hs = {open_tracking(nodes, 0, logs[0]),
                                     open_tracking(nodes, 1, logs[1])};
  const std::string both = nodes_of(nodes, {0, 1});
  ASSERT_TRUE(until([&] { return logs[0].last() == "quorate=1 nodes=" + both; }, hs));
  nodes.partition({1});
  ASSERT_TRUE(until(
      [&] {
        return logs[0].last() == "quorate=1 nodes=" + nodes_of(nodes, {0}) &&
               logs[1].last() == "quorate=1 nodes=" + nodes_of(nodes, {1});
      },
      hs));
  for (quorum_handle_t h : hs)
    quorum_finalize(h);
}

TEST(QuorumSim, TwoNodesWithoutTwoNodeAreBothInquorateWhenCut) {
  SimNodes nodes(2, small_ring(), 24, fast_membership(), with_rules(QuorumRules::equal_votes(2)));
  QuorumLog logs[2];
  std::vector<quorum_handle_t> hs = {open_tracking(nodes, 0, logs[0]),
                                     open_tracking(nodes, 1, logs[1])};
  ASSERT_TRUE(until([&] { return logs[1].last().starts_with("quorate=1"); }, hs));
  nodes.partition({1});
  ASSERT_TRUE(until(
      [&] {
        return logs[0].last().starts_with("quorate=0") && logs[1].last().starts_with("quorate=0");
      },
      hs));
  for (quorum_handle_t h : hs)
    quorum_finalize(h);
}

// Nodes 0 and 1 restart while node 2 is cut off: together they hold 2 of 3
// votes, a majority, but with wait_for_all they are not quorate until they
// have seen node 2 once; after that a partition leaves them quorate again.
// Without wait_for_all they are quorate at once.
void restart_two_while_one_is_cut_off(bool wait_for_all, std::uint64_t seed) {
  QuorumRules rules = QuorumRules::equal_votes(3);
  rules.wait_for_all = wait_for_all;
  SimNodes nodes(3, small_ring(), seed, fast_membership(), with_rules(rules));
  nodes.partition({2});
  nodes.crash(0);
  nodes.crash(1);
  nodes.restart(0);
  nodes.restart(1);
  QuorumLog logs[3];
  std::vector<quorum_handle_t> hs;
  for (std::size_t i = 0; i < 3; ++i)
    hs.push_back(open_tracking(nodes, i, logs[i]));
  const std::string pair = nodes_of(nodes, {0, 1});
  const std::string expect =
      std::string("quorate=") + (wait_for_all ? "0" : "1") + " nodes=" + pair;
  ASSERT_TRUE(until([&] { return logs[0].last() == expect && logs[1].last() == expect; }, hs));
  EXPECT_EQ(quorate(hs[2]), 0);

  nodes.heal();
  const std::string all = nodes_of(nodes, {0, 1, 2});
  ASSERT_TRUE(until(
      [&] {
        return logs[0].last() == "quorate=1 nodes=" + all &&
               logs[2].last() == "quorate=1 nodes=" + all;
      },
      hs));
  nodes.partition({2});
  ASSERT_TRUE(until(
      [&] {
        return logs[0].last() == "quorate=1 nodes=" + pair &&
               logs[2].last().starts_with("quorate=0");
      },
      hs));
  for (quorum_handle_t h : hs)
    quorum_finalize(h);
}

TEST(QuorumSim, WaitForAllHoldsQuorumUntilEveryNodeWasSeen) {
  restart_two_while_one_is_cut_off(true, 25);
}

TEST(QuorumSim, WithoutWaitForAllAMajorityIsQuorateAtOnce) {
  restart_two_while_one_is_cut_off(false, 26);
}

// Random cuts of 5 nodes (each side 1 to 4 nodes), each healed before the
// next: once the rings settle, exactly the side of 3 or more is quorate, and
// never two sides at once.
TEST(QuorumSim, RandomCutsLeaveAtMostTheMajorityQuorate) {
  for (std::uint64_t seed = 31; seed < 34; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SimNodes nodes(5, small_ring(), seed, fast_membership(),
                   with_rules(QuorumRules::equal_votes(5)));
    QuorumLog logs[5];
    std::vector<quorum_handle_t> hs;
    for (std::size_t i = 0; i < 5; ++i)
      hs.push_back(open_tracking(nodes, i, logs[i]));
    std::mt19937_64 random(seed);
    const std::string all = nodes_of(nodes, {0, 1, 2, 3, 4});
    for (int step = 0; step < 4; ++step) {
      std::vector<std::size_t> side, rest;
      for (std::size_t i = 0; i < 5; ++i)
        (random() % 2 == 0 ? side : rest).push_back(i);
      if (side.empty() || rest.empty()) continue;
      nodes.partition(side);
      const std::string a = nodes_of(nodes, side), b = nodes_of(nodes, rest);
      const std::string qa = side.size() >= 3 ? "quorate=1" : "quorate=0";
      const std::string qb = rest.size() >= 3 ? "quorate=1" : "quorate=0";
      ASSERT_TRUE(until(
          [&] {
            for (std::size_t i : side)
              if (logs[i].last() != qa + " nodes=" + a) return false;
            for (std::size_t i : rest)
              if (logs[i].last() != qb + " nodes=" + b) return false;
            return true;
          },
          hs))
          << "step " << step << ": side " << a << " rest " << b;
      int quorate_sides = 0;
      quorate_sides += quorate(hs[side.front()]) + quorate(hs[rest.front()]);
      EXPECT_EQ(quorate_sides, 1);
      nodes.heal();
      ASSERT_TRUE(until(
          [&] {
            for (QuorumLog& log : logs)
              if (log.last() != "quorate=1 nodes=" + all) return false;
            return true;
          },
          hs))
          << "heal after step " << step;
    }
    for (quorum_handle_t h : hs)
      quorum_finalize(h);
  }
}

TEST(QuorumSim, BadHandlesAndArguments) {
  EXPECT_EQ(quorum_compat_bad_handles(), 0);
  SimNodes nodes(1);
  auto use = nodes.use(0);
  quorum_handle_t h = 0;
  ASSERT_EQ(quorum_initialize(&h, nullptr, nullptr), CS_OK);
  EXPECT_EQ(quorum_getquorate(h, nullptr), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(quorum_fd_get(h, nullptr), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(quorum_context_get(h, nullptr), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(quorum_dispatch(h, static_cast<cs_dispatch_flags_t>(0)), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(c_enum_args_quorum(h), 0);
  EXPECT_EQ(c_enum_args_without_handle(), 0);
  ASSERT_EQ(quorum_finalize(h), CS_OK);
  int q = -1;
  EXPECT_EQ(quorum_getquorate(h, &q), CS_ERR_BAD_HANDLE);
  EXPECT_EQ(quorum_trackstart(h, CS_TRACK_CURRENT), CS_ERR_BAD_HANDLE);
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ALL), CS_ERR_BAD_HANDLE);
}

// Rules given after the node's first ring count that ring again at once.
TEST(QuorumSim, RulesSetAfterTheFirstRingApplyAtOnce) {
  SimNodes nodes(1);
  auto use = nodes.use(0);
  quorum_handle_t h = 0;
  ASSERT_EQ(quorum_initialize(&h, nullptr, nullptr), CS_OK);
  EXPECT_EQ(quorate(h), 1);  // the default: one vote per node, of one expected
  nodes.node(0).quorum().set_rules(QuorumRules::equal_votes(3));
  EXPECT_EQ(quorate(h), 0);
  quorum_finalize(h);
}

// A blocked CS_DISPATCH_BLOCKING returns CS_OK once another thread
// finalizes the handle.
TEST(QuorumSim, FinalizeWakesABlockedDispatch) {
  SimNodes nodes(1);
  auto use = nodes.use(0);
  quorum_handle_t h = 0;
  ASSERT_EQ(quorum_initialize(&h, nullptr, nullptr), CS_OK);
  cs_error_t result = CS_ERR_LIBRARY;
  std::thread dispatcher([&] { result = quorum_dispatch(h, CS_DISPATCH_BLOCKING); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(quorum_finalize(h), CS_OK);
  dispatcher.join();
  EXPECT_EQ(result, CS_OK);
}

// quorum_compat.c: every call, from C, against <corosync/quorum.h>.
TEST(QuorumSim, TheCProgramRunsOnASimulatedNode) {
  SimNodes nodes(3, small_ring(), 27, fast_membership(), with_rules(QuorumRules::equal_votes(3)));
  auto use = nodes.use(1);
  EXPECT_EQ(quorum_compat_session(1), 0);
}

}  // namespace
}  // namespace ringcast::cpg_test
