// GroupTable: joins, leaves, finalize, ignored control messages, routing,
// colliding keys, NODEDOWN removal and bounds.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "group_test_names.hpp"
#include "groups/group_table.hpp"

namespace ringcast::groups {
namespace {

constexpr GroupMember kA{1, 100};
constexpr GroupMember kB{2, 200};
constexpr GroupMember kC{3, 300};

GroupViewChange must_change(Result<GroupViewChange, Ignored> r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : GroupViewChange{};
}

IgnoreReason must_ignore(const Result<GroupViewChange, Ignored>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? IgnoreReason::invalid_control : r.error().reason;
}

std::vector<GroupMember> members_of(const GroupTable& t, std::string_view name) {
  const Group* g = t.find(name);
  return g == nullptr ? std::vector<GroupMember>{} : g->members;
}

TEST(GroupTable, AJoinCreatesTheGroupAndTheJoinerSeesItself) {
  GroupTable t;
  GroupViewChange v = must_change(t.apply({GroupMessageKind::join, "g"}, kA));
  EXPECT_EQ(v.name, "g");
  EXPECT_EQ(v.key, group_key("g"));
  EXPECT_EQ(v.members, std::vector<GroupMember>{kA});
  EXPECT_TRUE(v.left.empty());
  EXPECT_EQ(v.joined, (std::vector<GroupMemberChange>{{kA, GroupChangeReason::join}}));
  ASSERT_NE(t.find("g"), nullptr);
  EXPECT_EQ(t.group_count(), 1u);
}

TEST(GroupTable, MembersAreInJoinOrder) {
  GroupTable t;
  for (GroupMember m : {kC, kA, kB})
    must_change(t.apply({GroupMessageKind::join, "g"}, m));
  EXPECT_EQ(members_of(t, "g"), (std::vector<GroupMember>{kC, kA, kB}));
}

TEST(GroupTable, LeaveAndFinalizeRemoveWithTheirReasons) {
  GroupTable t;
  for (GroupMember m : {kA, kB, kC})
    must_change(t.apply({GroupMessageKind::join, "g"}, m));
  GroupViewChange left = must_change(t.apply({GroupMessageKind::leave, "g"}, kB));
  EXPECT_EQ(left.members, (std::vector<GroupMember>{kA, kC}));
  EXPECT_EQ(left.left, (std::vector<GroupMemberChange>{{kB, GroupChangeReason::leave}}));
  EXPECT_TRUE(left.joined.empty());
  GroupViewChange closed = must_change(t.apply({GroupMessageKind::finalize, "g"}, kA));
  EXPECT_EQ(closed.members, std::vector<GroupMember>{kC});
  EXPECT_EQ(closed.left, (std::vector<GroupMemberChange>{{kA, GroupChangeReason::procdown}}));
}

TEST(GroupTable, TheLastLeaveRemovesTheGroupAndARejoinStartsAgain) {
  GroupTable t;
  must_change(t.apply({GroupMessageKind::join, "g"}, kA));
  must_change(t.apply({GroupMessageKind::join, "g"}, kB));
  must_change(t.apply({GroupMessageKind::leave, "g"}, kA));
  GroupViewChange last = must_change(t.apply({GroupMessageKind::leave, "g"}, kB));
  EXPECT_TRUE(last.members.empty());
  EXPECT_EQ(t.find("g"), nullptr);
  EXPECT_EQ(t.group_count(), 0u);
  EXPECT_EQ(t.route(group_key("g"), kB), nullptr);
  must_change(t.apply({GroupMessageKind::join, "g"}, kB));
  GroupViewChange again = must_change(t.apply({GroupMessageKind::join, "g"}, kA));
  EXPECT_EQ(again.members, (std::vector<GroupMember>{kB, kA}));  // the rejoiner is last
}

TEST(GroupTable, IgnoredMessagesChangeNothingAndAreCounted) {
  GroupTable t;
  must_change(t.apply({GroupMessageKind::join, "g"}, kA));
  const GroupTable before = t;
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::join, "g"}, kA)), IgnoreReason::already_member);
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::leave, "g"}, kB)), IgnoreReason::not_member);
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::finalize, "g"}, kB)), IgnoreReason::not_member);
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::leave, "nowhere"}, kA)),
            IgnoreReason::not_member);
  // Same pid on another node, same node with another pid: other members.
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::leave, "g"}, {kA.node, kA.pid + 1})),
            IgnoreReason::not_member);
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::leave, "g"}, {kA.node + 1, kA.pid})),
            IgnoreReason::not_member);
  EXPECT_EQ(t.counters().joins_ignored, 1u);
  EXPECT_EQ(t.counters().leaves_ignored, 5u);
  EXPECT_EQ(members_of(t, "g"), members_of(before, "g"));
  EXPECT_EQ(t.group_count(), 1u);
}

TEST(GroupTable, ApplyRecordDecodesAndCountsInvalidPayloads) {
  GroupTable t;
  std::array<std::byte, kMaxGroupMessageBytes> buffer{};
  const std::size_t n = encode_group_message({GroupMessageKind::join, "g"}, buffer);
  EXPECT_TRUE(t.apply_record(std::span(buffer).first(n), kA).ok());
  auto bad = t.apply_record(std::span(buffer).first(n - 1), kB);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason, IgnoreReason::invalid_control);
  EXPECT_EQ(bad.error().fault, GroupMessageFault::name_truncated);
  EXPECT_EQ(bad.error().message(), "ignored: invalid_control (name_truncated)");
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::join, ""}, kB)), IgnoreReason::invalid_control);
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::join, std::string(129, 'x')}, kB)),
            IgnoreReason::invalid_control);
  EXPECT_EQ(t.counters().control_invalid, 3u);
  EXPECT_EQ(members_of(t, "g"), std::vector<GroupMember>{kA});
}

TEST(GroupTable, RoutesOnlyMembersData) {
  GroupTable t;
  must_change(t.apply({GroupMessageKind::join, "g"}, kA));
  must_change(t.apply({GroupMessageKind::join, "h"}, kB));
  const Group* g = t.route(group_key("g"), kA);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->name, "g");
  EXPECT_EQ(t.route(group_key("g"), kB), nullptr);  // a member of h, not of g
  EXPECT_EQ(t.route(group_key("g"), kC), nullptr);  // in no group
  EXPECT_EQ(t.route(kControlGroup, kA), nullptr);
  EXPECT_EQ(t.counters().data_dropped_not_member, 3u);
  must_change(t.apply({GroupMessageKind::leave, "g"}, kA));
  must_change(t.apply({GroupMessageKind::join, "g"}, kB));
  EXPECT_EQ(t.route(group_key("g"), kA), nullptr);  // left: its later data is junk
  EXPECT_EQ(t.route(group_key("g"), kB)->name, "g");
}

TEST(GroupTable, NamesSharingAKeyRouteBySender) {
  const std::string first = "first";
  const auto second = testing::name_with_crc("second-", testing::crc_of(first));
  ASSERT_TRUE(second);
  const std::uint32_t key = group_key(first);
  ASSERT_EQ(group_key(*second), key);

  GroupTable t;
  must_change(t.apply({GroupMessageKind::join, first}, kA));
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::join, *second}, kA)),
            IgnoreReason::key_conflict);
  EXPECT_EQ(t.counters().key_conflicts, 1u);
  EXPECT_EQ(t.find(*second), nullptr);  // a refused join creates nothing
  must_change(t.apply({GroupMessageKind::join, *second}, kB));
  EXPECT_EQ(t.route(key, kA)->name, first);
  EXPECT_EQ(t.route(key, kB)->name, *second);
  EXPECT_EQ(t.route(key, kC), nullptr);
  // Leaving the other name does not touch the first membership.
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::leave, *second}, kA)), IgnoreReason::not_member);
  must_change(t.apply({GroupMessageKind::leave, first}, kA));
  must_change(t.apply({GroupMessageKind::join, *second}, kA));  // no conflict any more
  EXPECT_EQ(t.route(key, kA)->name, *second);
}

TEST(GroupTable, BinaryNamesAreDistinctAndSortedAsBytes) {
  GroupTable t;
  const std::string names[] = {"\xff", "a", std::string("a\0", 2), "B", "\x80x"};
  for (const std::string& n : names)
    must_change(t.apply({GroupMessageKind::join, n}, kA));
  std::vector<std::string> order;
  t.for_each_group([&](const Group& g) { order.push_back(g.name); });
  EXPECT_EQ(order, (std::vector<std::string>{"B", "a", std::string("a\0", 2), "\x80x", "\xff"}));
}

TEST(GroupTable, NodesLeavingTheRingLeaveEveryGroupWithNodeDown) {
  GroupTable t;
  const GroupMember a2{1, 101}, b2{2, 201};
  for (GroupMember m : {kB, kA, kC, b2})
    must_change(t.apply({GroupMessageKind::join, "b"}, m));
  for (GroupMember m : {kC, kB})
    must_change(t.apply({GroupMessageKind::join, "c"}, m));
  for (GroupMember m : {kA, a2})
    must_change(t.apply({GroupMessageKind::join, "a"}, m));
  must_change(t.apply({GroupMessageKind::join, "only-gone"}, kC));

  const NodeId gone[] = {3, 2};
  std::vector<GroupViewChange> changes = t.remove_nodes(gone);
  ASSERT_EQ(changes.size(), 3u);  // "a" has nobody on nodes 2 and 3
  EXPECT_EQ(changes[0].name, "b");
  EXPECT_EQ(changes[0].members, std::vector<GroupMember>{kA});
  EXPECT_EQ(changes[0].left, (std::vector<GroupMemberChange>{{kB, GroupChangeReason::nodedown},
                                                             {kC, GroupChangeReason::nodedown},
                                                             {b2, GroupChangeReason::nodedown}}));
  EXPECT_TRUE(changes[0].joined.empty());
  EXPECT_EQ(changes[1].name, "c");
  EXPECT_TRUE(changes[1].members.empty());
  EXPECT_EQ(changes[1].left, (std::vector<GroupMemberChange>{{kC, GroupChangeReason::nodedown},
                                                             {kB, GroupChangeReason::nodedown}}));
  EXPECT_EQ(changes[2].name, "only-gone");
  EXPECT_EQ(t.group_count(), 2u);
  EXPECT_EQ(t.find("c"), nullptr);
  EXPECT_EQ(members_of(t, "a"), (std::vector<GroupMember>{kA, a2}));
  EXPECT_EQ(t.route(group_key("b"), kB), nullptr);
  EXPECT_EQ(t.route(group_key("b"), kA)->name, "b");
  EXPECT_TRUE(t.remove_nodes(gone).empty());
}

TEST(GroupTable, AGroupHoldsAtMost128Members) {
  GroupTable t;
  for (std::uint32_t pid = 1; pid <= 128; ++pid)
    must_change(t.apply({GroupMessageKind::join, "g"}, {1, pid}));
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::join, "g"}, {1, 129})),
            IgnoreReason::group_full);
  EXPECT_EQ(t.counters().joins_over_limit, 1u);
  EXPECT_EQ(members_of(t, "g").size(), 128u);
  EXPECT_EQ(t.route(group_key("g"), {1, 129}), nullptr);
  must_change(t.apply({GroupMessageKind::leave, "g"}, {1, 7}));
  must_change(t.apply({GroupMessageKind::join, "g"}, {1, 129}));  // room again
}

TEST(GroupTable, TheTableHoldsAtMost4096Groups) {
  GroupTable t;
  EXPECT_EQ(t.limits().max_groups, 4096u);
  for (int i = 0; i < 4096; ++i)
    must_change(t.apply({GroupMessageKind::join, "g" + std::to_string(i)}, kA));
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::join, "one-more"}, kB)),
            IgnoreReason::too_many_groups);
  EXPECT_EQ(t.find("one-more"), nullptr);
  must_change(t.apply({GroupMessageKind::join, "g0"}, kB));  // existing groups still grow
  EXPECT_EQ(t.group_count(), 4096u);
  must_change(t.apply({GroupMessageKind::finalize, "g17"}, kA));
  must_change(t.apply({GroupMessageKind::join, "one-more"}, kB));
}

TEST(GroupTable, ACopyIsAnIndependentSnapshot) {
  GroupTable t;
  must_change(t.apply({GroupMessageKind::join, "g"}, kA));
  GroupTable copy = t;
  EXPECT_EQ(copy, t);
  must_change(t.apply({GroupMessageKind::leave, "g"}, kA));
  EXPECT_NE(copy, t);
  EXPECT_EQ(t.find("g"), nullptr);
  EXPECT_EQ(copy.route(group_key("g"), kA)->name, "g");
  GroupTable moved = std::move(copy);
  EXPECT_EQ(moved.route(group_key("g"), kA), moved.find("g"));
}

}  // namespace
}  // namespace ringcast::groups

namespace ringcast::groups {
namespace {

// Two sides of a healed partition: each table knows its own side's members;
// after every node announced (in one ring order), both hold the same groups
// in the same order, and each side saw the other's members come with NODEUP.
TEST(GroupTable, AnnouncesMergeTwoSidesIntoOneOrder) {
  GroupTable left;
  GroupTable right;
  must_change(left.apply({GroupMessageKind::join, "g"}, kB));
  must_change(left.apply({GroupMessageKind::join, "g"}, kA));
  must_change(right.apply({GroupMessageKind::join, "g"}, kC));
  must_change(right.apply({GroupMessageKind::join, "h"}, kC));
  // The ring's order: A's announce, C's two, then B's.
  const std::vector<std::pair<GroupMessage, GroupMember>> order = {
      {{GroupMessageKind::announce, "g", 1, 9}, kA},
      {{GroupMessageKind::announce_done, "", 1, 9}, kA},
      {{GroupMessageKind::announce, "g", 1, 9}, kC},
      {{GroupMessageKind::announce, "h", 1, 9}, kC},
      {{GroupMessageKind::announce_done, "", 1, 9}, kC},
      {{GroupMessageKind::announce, "g", 1, 9}, kB},
      {{GroupMessageKind::announce_done, "", 1, 9}, kB},
  };
  std::vector<GroupMemberChange> left_ups;
  std::vector<GroupMemberChange> right_ups;
  for (const auto& [m, sender] : order) {
    for (auto [table, ups] : {std::pair{&left, &left_ups}, std::pair{&right, &right_ups}}) {
      auto r = table->apply(m, sender);
      if (m.kind == GroupMessageKind::announce_done) {
        EXPECT_EQ(must_ignore(r), IgnoreReason::no_group_change);
        continue;
      }
      GroupViewChange v = must_change(r);
      EXPECT_TRUE(v.left.empty());
      ups->insert(ups->end(), v.joined.begin(), v.joined.end());
    }
  }
  EXPECT_EQ(left, right);
  EXPECT_EQ(members_of(left, "g"), (std::vector<GroupMember>{kA, kC, kB}));
  EXPECT_EQ(members_of(left, "h"), std::vector<GroupMember>{kC});
  EXPECT_EQ(left_ups, (std::vector<GroupMemberChange>{{kC, GroupChangeReason::nodeup},
                                                      {kC, GroupChangeReason::nodeup}}));
  EXPECT_EQ(right_ups, (std::vector<GroupMemberChange>{{kA, GroupChangeReason::nodeup},
                                                       {kB, GroupChangeReason::nodeup}}));
  // Routes follow: C's data to h now reaches the left side's table.
  EXPECT_NE(left.route(group_key("h"), kC), nullptr);
}

TEST(GroupTable, AnnouncesFollowTheJoinRules) {
  GroupTable t(GroupLimits{.max_groups = 1, .max_members = 1});
  must_change(t.apply({GroupMessageKind::join, "g"}, kA));
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::announce, "g", 1, 1}, kB)),
            IgnoreReason::group_full);
  EXPECT_EQ(must_ignore(t.apply({GroupMessageKind::announce, "h", 1, 1}, kB)),
            IgnoreReason::too_many_groups);
  EXPECT_EQ(t.counters().joins_over_limit, 2u);
  // A member announcing again stays, alone: an empty change.
  GroupViewChange v = must_change(t.apply({GroupMessageKind::announce, "g", 1, 1}, kA));
  EXPECT_TRUE(v.joined.empty() && v.left.empty());
  EXPECT_EQ(v.members, std::vector<GroupMember>{kA});
}

}  // namespace
}  // namespace ringcast::groups
