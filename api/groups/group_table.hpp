// GroupTable: the closed process groups as the total order defines them.
//
// Sans-I/O: the runtime feeds it the ring's deliveries in order (control
// records through apply(), data records through route(), ring membership
// changes through remove_nodes()) and turns what it returns into callbacks.
// No threads, no clock, no I/O: every member that is fed the same total
// order holds an equal table (operator==) and returns the same view changes
// at the same points of the stream.
//
// A group member is one process: (node, pid). Members are kept in join
// order, which is the order of the confchg member list. A data record with
// key K from sender S belongs to the group with key K of which S is a member
// at that point of the order; S is never a member of two groups with the
// same key (such a join is refused as a key conflict), so that group is
// unique. A group whose last member left no longer exists.
//
// Bounds, so that a hostile peer cannot grow memory without limit:
// GroupLimits::max_groups (4096) groups and max_members (CPG_MEMBERS_MAX,
// 128) members per group; a join beyond either is ignored and counted. So at
// most 524288 memberships: a few tens of MiB in the worst case.
//
// Nodes that come together (a restart, a healed partition): each side has
// missed the other's joins. After such a configuration change every node
// re-announces its processes' groups (GroupMessageKind::announce, in the new ring's
// order; client/node_sync.cpp decides when). An announce of a member the table
// lacks adds it with NODEUP; an announce of a member it has moves that member
// to the end of the list, silently. Once every node has announced, every
// group lists its members in the order of their announces, at every node,
// whichever side it came from. remove_nodes() is the other half (NODEDOWN).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.hpp"
#include "groups/group_message.hpp"

namespace ringcast::groups {

using NodeId = std::uint32_t;  // the ring's fabric::NodeId

struct GroupMember {
  NodeId node = 0;
  std::uint32_t pid = 0;

  friend bool operator==(const GroupMember&, const GroupMember&) = default;
};

// The values of cpg_reason_t.
enum class GroupChangeReason : std::uint32_t {
  join = 1,
  leave = 2,
  nodedown = 3,
  nodeup = 4,
  procdown = 5,
};

struct GroupMemberChange {
  GroupMember member;
  GroupChangeReason reason = GroupChangeReason::join;

  friend bool operator==(const GroupMemberChange&, const GroupMemberChange&) = default;
};

// One confchg: the group's members after the change and who left or joined.
struct GroupViewChange {
  std::string name;
  std::uint32_t key = 0;
  std::vector<GroupMember> members;  // after the change, in join order
  std::vector<GroupMemberChange> left;
  std::vector<GroupMemberChange> joined;

  friend bool operator==(const GroupViewChange&, const GroupViewChange&) = default;
};

struct Group {
  std::string name;  // binary, 1..kMaxNameBytes bytes
  std::uint32_t key = 0;
  std::vector<GroupMember> members;  // never empty, no duplicates, join order

  friend bool operator==(const Group&, const Group&) = default;
};

// Why apply() changed nothing.
enum class IgnoreReason : std::uint8_t {
  already_member,   // join of a member
  not_member,       // leave or finalize of a non-member
  key_conflict,     // join while a member of another group with the same key
  group_full,       // join beyond max_members
  too_many_groups,  // join that would create a group beyond max_groups
  invalid_control,  // apply_record(): the payload failed decode_group_message
  no_group_change,  // announce_done: the end of a node's announce, for the runtime
};

const char* ignore_reason_name(IgnoreReason reason) noexcept;

struct Ignored {
  IgnoreReason reason = IgnoreReason::not_member;
  GroupMessageFault fault = GroupMessageFault::truncated;  // only for invalid_control

  // "ignored: key_conflict"; printable ASCII only.
  std::string message() const;
};

struct GroupCounters {
  std::uint64_t data_dropped_not_member = 0;  // route() found no group
  std::uint64_t control_invalid = 0;          // apply_record() could not decode
  std::uint64_t joins_ignored = 0;            // already a member
  std::uint64_t leaves_ignored = 0;           // leave or finalize of a non-member
  std::uint64_t key_conflicts = 0;
  std::uint64_t joins_over_limit = 0;  // group_full or too_many_groups

  friend bool operator==(const GroupCounters&, const GroupCounters&) = default;
};

struct GroupLimits {
  std::size_t max_groups = 4096;
  std::size_t max_members = 128;  // CPG_MEMBERS_MAX; never above it
};

class GroupTable {
 public:
  GroupTable() = default;
  explicit GroupTable(GroupLimits limits);
  // A copy is a snapshot with its own routes (they point into its own groups).
  GroupTable(const GroupTable& other);
  GroupTable& operator=(const GroupTable& other);
  GroupTable(GroupTable&&) noexcept = default;  // map nodes move: routes stay valid
  GroupTable& operator=(GroupTable&&) noexcept = default;
  ~GroupTable() = default;

  // A control record from `sender`, in ring order. Returns the view change,
  // or why nothing changed (already counted). An announce of a member the
  // group has already returns a change with empty left and joined lists: the
  // member moved to the end (no confchg for that).
  Result<GroupViewChange, Ignored> apply(const GroupMessage& message, GroupMember sender);
  // The same from the record's payload; a payload decode_group_message refuses is
  // counted in control_invalid and returned as invalid_control.
  Result<GroupViewChange, Ignored> apply_record(std::span<const std::byte> payload,
                                                GroupMember sender);

  // The group a data record with `key` from `sender` belongs to, or null
  // (counted in data_dropped_not_member). No allocation. The pointer is
  // valid until the next apply(), apply_record() or remove_nodes().
  const Group* route(std::uint32_t key, GroupMember sender) noexcept;

  // Nodes that left the ring: their members leave every group with NODEDOWN.
  // One view change per affected group, in name byte order.
  std::vector<GroupViewChange> remove_nodes(std::span<const NodeId> gone);

  const Group* find(std::string_view name) const;
  // Every group in name byte order (memcmp order of the name bytes).
  template <class F>
  void for_each_group(F&& visit) const {
    for (const auto& [name, group] : groups_)
      std::invoke(visit, group);
  }
  std::size_t group_count() const noexcept { return groups_.size(); }
  const GroupCounters& counters() const noexcept { return counters_; }
  const GroupLimits& limits() const noexcept { return limits_; }

  // Same groups, members in the same order, same counters.
  friend bool operator==(const GroupTable& a, const GroupTable& b) {
    return a.groups_ == b.groups_ && a.counters_ == b.counters_;
  }

 private:
  struct RouteKey {
    std::uint32_t key;
    GroupMember member;
    friend bool operator==(const RouteKey&, const RouteKey&) = default;
  };
  struct RouteKeyHash {
    std::size_t operator()(const RouteKey& k) const noexcept;
  };

  Result<GroupViewChange, Ignored> join(const std::string& name, GroupMember sender,
                                        GroupChangeReason reason);
  Result<GroupViewChange, Ignored> announce(const std::string& name, GroupMember sender);
  Result<GroupViewChange, Ignored> leave(const std::string& name, GroupMember sender,
                                         GroupChangeReason reason);
  Result<Group*, Ignored> group_for_join(const std::string& name, std::uint32_t key);
  void erase_if_empty(std::map<std::string, Group, std::less<>>::iterator it);
  void check_group(const Group& group) const;
  void rebuild_routes();

  GroupLimits limits_;
  std::map<std::string, Group, std::less<>> groups_;  // std::string orders bytes as unsigned
  // (key, member) -> the member's one group with that key: route() in one lookup.
  std::unordered_map<RouteKey, Group*, RouteKeyHash> routes_;
  GroupCounters counters_;
};

}  // namespace ringcast::groups
