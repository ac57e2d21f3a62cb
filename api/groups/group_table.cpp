#include "groups/group_table.hpp"

#include <algorithm>

#include "base/assert.hpp"

namespace ringcast::groups {

const char* ignore_reason_name(IgnoreReason reason) noexcept {
  switch (reason) {
    case IgnoreReason::already_member:
      return "already_member";
    case IgnoreReason::not_member:
      return "not_member";
    case IgnoreReason::key_conflict:
      return "key_conflict";
    case IgnoreReason::group_full:
      return "group_full";
    case IgnoreReason::too_many_groups:
      return "too_many_groups";
    case IgnoreReason::invalid_control:
      return "invalid_control";
    case IgnoreReason::no_group_change:
      return "no_group_change";
  }
  return "unknown";
}

std::string Ignored::message() const {
  std::string text = std::string("ignored: ") + ignore_reason_name(reason);
  if (reason == IgnoreReason::invalid_control)
    text += std::string(" (") + group_message_fault_name(fault) + ")";
  return text;
}

std::size_t GroupTable::RouteKeyHash::operator()(const RouteKey& k) const noexcept {
  // The key is already a crc; mix in the member so one key spreads out.
  std::uint64_t h = (std::uint64_t{k.key} << 32) ^ (std::uint64_t{k.member.node} << 16) ^
                    std::uint64_t{k.member.pid};
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return static_cast<std::size_t>(h);
}

GroupTable::GroupTable(GroupLimits limits) : limits_(limits) {
  RC_ASSERT(limits_.max_groups >= 1);
  RC_ASSERT(limits_.max_members >= 1 && limits_.max_members <= 128);
}

GroupTable::GroupTable(const GroupTable& other)
    : limits_(other.limits_), groups_(other.groups_), counters_(other.counters_) {
  rebuild_routes();
}

GroupTable& GroupTable::operator=(const GroupTable& other) {
  if (this != &other) *this = GroupTable(other);
  return *this;
}

void GroupTable::rebuild_routes() {
  routes_.clear();
  for (auto& [name, g] : groups_) {
    for (const GroupMember& m : g.members)
      routes_.emplace(RouteKey{g.key, m}, &g);
    check_group(g);
  }
}

Result<GroupViewChange, Ignored> GroupTable::apply(const GroupMessage& message,
                                                   GroupMember sender) {
  if (message.kind == GroupMessageKind::announce_done)
    return Ignored{IgnoreReason::no_group_change};
  // decode_group_message() never returns such a name; a caller that built the
  // message itself gets the same answer as for a bad payload.
  if (!valid_group_name(message.name)) {
    ++counters_.control_invalid;
    return Ignored{IgnoreReason::invalid_control, message.name.empty()
                                                      ? GroupMessageFault::empty_name
                                                      : GroupMessageFault::name_too_long};
  }
  switch (message.kind) {
    case GroupMessageKind::join:
      return join(message.name, sender, GroupChangeReason::join);
    case GroupMessageKind::announce:
      return announce(message.name, sender);
    case GroupMessageKind::leave:
      return leave(message.name, sender, GroupChangeReason::leave);
    case GroupMessageKind::finalize:
      return leave(message.name, sender, GroupChangeReason::procdown);
    case GroupMessageKind::announce_done:
      break;
  }
  ++counters_.control_invalid;
  return Ignored{IgnoreReason::invalid_control, GroupMessageFault::bad_kind};
}

Result<GroupViewChange, Ignored> GroupTable::apply_record(std::span<const std::byte> payload,
                                                          GroupMember sender) {
  Result<GroupMessage, GroupMessageError> message = decode_group_message(payload);
  if (!message) {
    ++counters_.control_invalid;
    return Ignored{IgnoreReason::invalid_control, message.error().fault};
  }
  return apply(*message, sender);
}

Result<Group*, Ignored> GroupTable::group_for_join(const std::string& name, std::uint32_t key) {
  auto it = groups_.find(name);
  if (it != groups_.end()) {
    if (it->second.members.size() >= limits_.max_members) return Ignored{IgnoreReason::group_full};
    return &it->second;
  }
  if (groups_.size() >= limits_.max_groups) return Ignored{IgnoreReason::too_many_groups};
  Group& g = groups_.emplace(name, Group{name, key, {}}).first->second;
  return &g;
}

Result<GroupViewChange, Ignored> GroupTable::join(const std::string& name, GroupMember sender,
                                                  GroupChangeReason reason) {
  const std::uint32_t key = group_key(name);
  if (auto r = routes_.find({key, sender}); r != routes_.end()) {
    if (r->second->name == name) {
      ++counters_.joins_ignored;
      return Ignored{IgnoreReason::already_member};
    }
    ++counters_.key_conflicts;
    return Ignored{IgnoreReason::key_conflict};
  }
  Result<Group*, Ignored> found = group_for_join(name, key);
  if (!found) {
    ++counters_.joins_over_limit;
    return found.error();
  }
  Group& g = **found;
  g.members.push_back(sender);
  const bool inserted = routes_.emplace(RouteKey{key, sender}, &g).second;
  RC_ASSERT(inserted);
  check_group(g);
  return GroupViewChange{g.name, g.key, g.members, {}, {{sender, reason}}};
}

// A member the table has goes to the end of its group's list (no confchg);
// one it lacks joins with NODEUP, under the same rules as a join.
Result<GroupViewChange, Ignored> GroupTable::announce(const std::string& name, GroupMember sender) {
  auto it = groups_.find(name);
  if (it != groups_.end()) {
    Group& g = it->second;
    auto m = std::find(g.members.begin(), g.members.end(), sender);
    if (m != g.members.end()) {
      std::rotate(m, m + 1, g.members.end());
      check_group(g);
      return GroupViewChange{g.name, g.key, g.members, {}, {}};
    }
  }
  return join(name, sender, GroupChangeReason::nodeup);
}

Result<GroupViewChange, Ignored> GroupTable::leave(const std::string& name, GroupMember sender,
                                                   GroupChangeReason reason) {
  auto not_member = [this] {
    ++counters_.leaves_ignored;
    return Ignored{IgnoreReason::not_member};
  };
  auto it = groups_.find(name);
  if (it == groups_.end()) return not_member();
  Group& g = it->second;
  auto member = std::find(g.members.begin(), g.members.end(), sender);
  if (member == g.members.end()) return not_member();
  g.members.erase(member);
  const std::size_t erased = routes_.erase({g.key, sender});
  RC_ASSERT(erased == 1);
  GroupViewChange change{g.name, g.key, g.members, {{sender, reason}}, {}};
  erase_if_empty(it);
  return change;
}

const Group* GroupTable::route(std::uint32_t key, GroupMember sender) noexcept {
  auto r = routes_.find({key, sender});
  if (r == routes_.end()) {
    ++counters_.data_dropped_not_member;
    return nullptr;
  }
  RC_ASSERT(r->second->key == key);
  return r->second;
}

std::vector<GroupViewChange> GroupTable::remove_nodes(std::span<const NodeId> gone) {
  auto is_gone = [gone](const GroupMember& m) {
    return std::find(gone.begin(), gone.end(), m.node) != gone.end();
  };
  std::vector<GroupViewChange> changes;
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    auto next = std::next(it);
    // Members that stay keep their join order; those that go are listed in it.
    auto first_gone = std::stable_partition(g.members.begin(), g.members.end(),
                                            [&](const GroupMember& m) { return !is_gone(m); });
    if (first_gone != g.members.end()) {
      GroupViewChange change{g.name, g.key, {}, {}, {}};
      for (auto m = first_gone; m != g.members.end(); ++m) {
        change.left.push_back({*m, GroupChangeReason::nodedown});
        const std::size_t erased = routes_.erase({g.key, *m});
        RC_ASSERT(erased == 1);
      }
      g.members.erase(first_gone, g.members.end());
      change.members = g.members;
      changes.push_back(std::move(change));
      erase_if_empty(it);
    }
    it = next;
  }
  return changes;
}

const Group* GroupTable::find(std::string_view name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : &it->second;
}

void GroupTable::erase_if_empty(std::map<std::string, Group, std::less<>>::iterator it) {
  if (it->second.members.empty()) {
    groups_.erase(it);
  } else {
    check_group(it->second);
  }
}

// The invariants of one group, checked after every change to it.
void GroupTable::check_group(const Group& g) const {
  RC_ASSERT(!g.members.empty());
  RC_ASSERT(g.members.size() <= limits_.max_members);
  RC_ASSERT(g.key == group_key(g.name));
  RC_ASSERT(groups_.size() <= limits_.max_groups);
  for (std::size_t i = 0; i < g.members.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j)
      RC_ASSERT(!(g.members[j] == g.members[i]));
    auto r = routes_.find({g.key, g.members[i]});
    RC_ASSERT(r != routes_.end() && r->second == &g);
  }
}

}  // namespace ringcast::groups
