// Randomized: several tables fed the same stream of control records, data
// records, hostile junk and node losses end equal, and every answer on the
// way (view changes, ignore reasons, routes) matches a plain reference model
// written without indexes. A failing seed is printed; rerun it alone with
// --gtest_filter and RINGCAST_GROUP_SEED=<seed>.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "group_test_names.hpp"
#include "groups/group_table.hpp"

namespace ringcast::groups {
namespace {

// The reference: a list of groups searched by scanning, nothing cached.
class Model {
 public:
  explicit Model(GroupLimits limits) : limits_(limits) {}

  Result<GroupViewChange, Ignored> apply(const GroupMessage& m, GroupMember s) {
    if (m.kind == GroupMessageKind::join) return join(m.name, s);
    return leave(
        m.name, s,
        m.kind == GroupMessageKind::leave ? GroupChangeReason::leave : GroupChangeReason::procdown);
  }

  std::optional<std::string> route(std::uint32_t key, GroupMember s) const {
    for (const Group& g : groups_) {
      if (g.key == key && contains(g, s)) return g.name;
    }
    return std::nullopt;
  }

  std::vector<GroupViewChange> remove_nodes(const std::vector<NodeId>& gone) {
    std::vector<GroupViewChange> out;
    for (Group& g : sorted()) {
      GroupViewChange v{g.name, g.key, {}, {}, {}};
      for (GroupMember m : g.members) {
        const bool goes = std::find(gone.begin(), gone.end(), m.node) != gone.end();
        if (goes) v.left.push_back({m, GroupChangeReason::nodedown});
        if (!goes) v.members.push_back(m);
      }
      if (!v.left.empty()) out.push_back(v);
      g.members = v.members;
    }
    std::erase_if(groups_, [](const Group& g) { return g.members.empty(); });
    return out;
  }

  // Groups in name byte order.
  std::vector<Group>& sorted() {
    std::sort(groups_.begin(), groups_.end(), [](const Group& a, const Group& b) {
      return std::lexicographical_compare(
          a.name.begin(), a.name.end(), b.name.begin(), b.name.end(), [](char x, char y) {
            return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
          });
    });
    return groups_;
  }

 private:
  static bool contains(const Group& g, GroupMember s) {
    return std::find(g.members.begin(), g.members.end(), s) != g.members.end();
  }

  Group* by_name(const std::string& name) {
    for (Group& g : groups_) {
      if (g.name == name) return &g;
    }
    return nullptr;
  }

  Result<GroupViewChange, Ignored> join(const std::string& name, GroupMember s) {
    for (const Group& g : groups_) {
      if (g.key != group_key(name) || !contains(g, s)) continue;
      return Ignored{g.name == name ? IgnoreReason::already_member : IgnoreReason::key_conflict};
    }
    Group* g = by_name(name);
    if (g == nullptr && groups_.size() >= limits_.max_groups) {
      return Ignored{IgnoreReason::too_many_groups};
    }
    if (g != nullptr && g->members.size() >= limits_.max_members) {
      return Ignored{IgnoreReason::group_full};
    }
    if (g == nullptr) g = &groups_.emplace_back(Group{name, group_key(name), {}});
    g->members.push_back(s);
    return GroupViewChange{name, g->key, g->members, {}, {{s, GroupChangeReason::join}}};
  }

  Result<GroupViewChange, Ignored> leave(const std::string& name, GroupMember s,
                                         GroupChangeReason reason) {
    Group* g = by_name(name);
    if (g == nullptr || !contains(*g, s)) return Ignored{IgnoreReason::not_member};
    std::erase(g->members, s);
    GroupViewChange v{name, g->key, g->members, {{s, reason}}, {}};
    std::erase_if(groups_, [](const Group& x) { return x.members.empty(); });
    return v;
  }

  GroupLimits limits_;
  std::vector<Group> groups_;
};

void expect_same(const Result<GroupViewChange, Ignored>& got,
                 const Result<GroupViewChange, Ignored>& want) {
  ASSERT_EQ(got.ok(), want.ok());
  if (got.ok()) {
    EXPECT_EQ(*got, *want);
  } else {
    EXPECT_EQ(got.error().reason, want.error().reason);
  }
}

class Stream {
 public:
  explicit Stream(std::uint64_t seed) : rng_(seed) {
    names_ = {"alpha", "beta", "gamma", std::string("nul\0", 4), "\xff\xfe", "first"};
    names_.push_back(*testing::name_with_crc("second-", testing::crc_of("first")));
    names_.push_back(*testing::name_with_crc("third-", testing::crc_of("first")));
  }

  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }
  bool chance(std::uint32_t percent) { return below(100) < percent; }
  const std::string& name() { return names_[below(static_cast<std::uint32_t>(names_.size()))]; }
  GroupMember member() { return {1 + below(4), 1 + below(3)}; }
  GroupMessageKind kind() { return static_cast<GroupMessageKind>(1 + below(3)); }
  std::uint32_t key() {
    return chance(80) ? group_key(name()) : static_cast<std::uint32_t>(rng_());
  }

  // Junk that arrives on the control group: random bytes, or a valid message
  // with one byte changed or cut short.
  std::vector<std::byte> junk() {
    std::vector<std::byte> out(kMaxGroupMessageBytes);
    out.resize(encode_group_message({kind(), name()}, out));
    if (chance(30)) {
      out.resize(below(150));
      for (std::byte& b : out)
        b = static_cast<std::byte>(rng_());
    } else if (chance(50)) {
      out[below(static_cast<std::uint32_t>(out.size()))] = static_cast<std::byte>(rng_());
    } else {
      out.resize(below(static_cast<std::uint32_t>(out.size()) + 2), std::byte{'j'});
    }
    return out;
  }

  std::vector<NodeId> some_nodes() {
    std::vector<NodeId> gone;
    for (NodeId n = 1; n <= 4; ++n) {
      if (chance(30)) gone.push_back(n);
    }
    return gone;
  }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> names_;
};

// Three tables: one fed GroupMessages, one fed encoded records, and a copy
// of the first taken halfway. All must agree with the model at every step.
void run_seed(std::uint64_t seed, GroupLimits limits, int steps) {
  SCOPED_TRACE("RINGCAST_GROUP_SEED=" + std::to_string(seed));
  Stream s(seed);
  Model model(limits);
  std::vector<GroupTable> tables(2, GroupTable(limits));
  std::uint64_t expect_dropped = 0, expect_invalid = 0;
  for (int step = 0; step < steps && !::testing::Test::HasFailure(); ++step) {
    if (step == steps / 2) tables.push_back(tables[0]);
    const std::uint32_t what = s.below(100);
    if (what < 40) {
      const GroupMessage m{s.kind(), s.name()};
      const GroupMember sender = s.member();
      const auto want = model.apply(m, sender);
      std::vector<std::byte> record(kMaxGroupMessageBytes);
      record.resize(encode_group_message(m, record));
      for (std::size_t i = 0; i < tables.size(); ++i)
        expect_same(i == 1 ? tables[i].apply_record(record, sender) : tables[i].apply(m, sender),
                    want);
    } else if (what < 80) {
      const std::uint32_t key = s.key();
      const GroupMember sender = s.member();
      const std::optional<std::string> want = model.route(key, sender);
      expect_dropped += want ? 0 : 1;
      for (GroupTable& t : tables) {
        const Group* g = t.route(key, sender);
        ASSERT_EQ(g != nullptr, want.has_value());
        if (g != nullptr) {
          EXPECT_EQ(g->name, *want);
        }
      }
    } else if (what < 97) {
      const std::vector<std::byte> junk = s.junk();
      const GroupMember sender = s.member();
      auto decoded = decode_group_message(junk);
      expect_invalid += decoded ? 0 : 1;
      const auto want =
          decoded ? model.apply(*decoded, sender)
                  : Result<GroupViewChange, Ignored>(Ignored{IgnoreReason::invalid_control});
      for (GroupTable& t : tables)
        expect_same(t.apply_record(junk, sender), want);
    } else {
      const std::vector<NodeId> gone = s.some_nodes();
      const std::vector<GroupViewChange> want = model.remove_nodes(gone);
      for (GroupTable& t : tables)
        EXPECT_EQ(t.remove_nodes(gone), want);
    }
  }
  // Full state: the tables are equal, and equal to the model's groups.
  EXPECT_EQ(tables[0], tables[1]);
  EXPECT_EQ(tables[0], tables[2]);
  std::vector<Group> have;
  tables[0].for_each_group([&](const Group& g) { have.push_back(g); });
  EXPECT_EQ(have, model.sorted());
  EXPECT_EQ(tables[1].counters().data_dropped_not_member, expect_dropped);
  EXPECT_EQ(tables[1].counters().control_invalid, expect_invalid);
}

std::vector<std::uint64_t> seeds(std::uint64_t first, int count) {
  if (const char* one = std::getenv("RINGCAST_GROUP_SEED"))
    return {std::strtoull(one, nullptr, 10)};
  std::vector<std::uint64_t> out;
  for (int i = 0; i < count; ++i)
    out.push_back(first + static_cast<std::uint64_t>(i));
  return out;
}

TEST(GroupTableRandom, TablesFedTheSameStreamAgreeWithTheModel) {
  for (std::uint64_t seed : seeds(1, 200))
    run_seed(seed, GroupLimits{}, 2000);
}

TEST(GroupTableRandom, TightBoundsHoldUnderTheSameStream) {
  for (std::uint64_t seed : seeds(10'001, 200))
    run_seed(seed, GroupLimits{.max_groups = 3, .max_members = 4}, 2000);
}

}  // namespace
}  // namespace ringcast::groups
