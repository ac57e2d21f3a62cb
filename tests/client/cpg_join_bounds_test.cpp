// A join beyond the group table's bounds (members per group, groups) is
// never silent: cpg_join returns the error when this node can already tell,
// and a join refused at its delivery (others took the last place first)
// leaves the handle out of the group with its sends failing, counted in
// joins_refused. Before, the handle stayed "joining" for ever while every
// send returned CS_OK and every member dropped it.
#include <gtest/gtest.h>

#include <string>

#include "cpg_sim_cluster.hpp"
#include "groups/group_table.hpp"
#include "ringcast/counters.h"

namespace ringcast::cpg_test {
namespace {

struct Bounded {
  SimNodes nodes{3};
  Recorder rec[3];
  cpg_handle_t h[3] = {};
  explicit Bounded(groups::GroupLimits limits) {
    for (std::size_t i = 0; i < 3; ++i) {
      nodes.node(i).set_group_limits(limits);
      auto use = nodes.use(i);
      h[i] = open_recorded(rec[i]);
    }
  }
  ~Bounded() {
    for (cpg_handle_t x : h)
      cpg_finalize(x);
  }
};

TEST(CpgJoinBounds, AFullGroupIsRefusedByCpgJoin) {
  Bounded c({.max_groups = 4096, .max_members = 2});
  ASSERT_TRUE(join_in_order({c.h[0], c.h[1]}, {&c.rec[0], &c.rec[1]}, "full"));
  ASSERT_TRUE(dispatch_until({c.h[0], c.h[1], c.h[2]},
                             [&] { return c.nodes.node(2).members_of("full").size() == 2; }));
  const cpg_name g = name_of("full");
  EXPECT_EQ(cpg_join(c.h[2], &g), CS_ERR_NO_RESOURCES);
  EXPECT_EQ(send_text(c.h[2], "dropped?"), CS_ERR_NOT_EXIST) << "not in a group";
}

TEST(CpgJoinBounds, TooManyGroupsIsRefusedByCpgJoin) {
  Bounded c({.max_groups = 1, .max_members = 128});
  ASSERT_TRUE(join_in_order({c.h[0]}, {&c.rec[0]}, "one"));
  ASSERT_TRUE(dispatch_until({c.h[0], c.h[1]},
                             [&] { return c.nodes.node(1).members_of("one").size() == 1; }));
  const cpg_name g = name_of("two");
  EXPECT_EQ(cpg_join(c.h[1], &g), CS_ERR_NO_RESOURCES);
  const cpg_name one = name_of("one");
  EXPECT_EQ(cpg_join(c.h[1], &one), CS_OK) << "an existing group with room is fine";
}

// Three joins at once for two places: each node's cpg_join saw room, so the
// ring decides; the one refused there says so on its next send.
TEST(CpgJoinBounds, AJoinRefusedAtDeliveryMakesSendsFail) {
  Bounded c({.max_groups = 4096, .max_members = 2});
  const cpg_name g = name_of("race");
  for (cpg_handle_t x : c.h)
    ASSERT_EQ(cpg_join(x, &g), CS_OK);
  const std::vector<cpg_handle_t> all(c.h, c.h + 3);
  ASSERT_TRUE(dispatch_until(
      all,
      [&] {
        std::uint64_t refused = 0;
        for (std::size_t i = 0; i < 3; ++i)
          refused += c.nodes.node(i).counters().joins_refused;
        return refused == 1 && c.nodes.node(0).members_of("race").size() == 2;
      },
      std::chrono::seconds(5)))
      << "no join refused visibly";
  std::size_t loser = 3;
  for (std::size_t i = 0; i < 3; ++i)
    if (c.nodes.node(i).counters().joins_refused == 1) loser = i;
  ASSERT_LT(loser, 3u);
  EXPECT_EQ(send_text(c.h[loser], "lost"), CS_ERR_NOT_EXIST);
  ringcast_counters counters{};
  counters.size = sizeof counters;
  ASSERT_EQ(ringcast_counters_get(c.h[loser], &counters), CS_OK);
  EXPECT_EQ(counters.joins_refused, 1u);
  // The handle is out of the group: it may try again once there is room.
  const cpg_name other = name_of("elsewhere");
  EXPECT_EQ(cpg_join(c.h[loser], &other), CS_OK);
}

}  // namespace
}  // namespace ringcast::cpg_test
