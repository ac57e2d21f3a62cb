// The `quorum` section and the nodes' `quorum_votes`: how the quorum API
// (quorum_getquorate and its notifications) counts votes. The options mean
// what corosync's votequorum options of the same names mean, so that a
// cluster moved from corosync keeps its rules; docs/configuration.md.
#include <array>
#include <string>

#include "config/interpret.hpp"
#include "config/values.hpp"

namespace ringcast::config {
namespace {

constexpr std::array<std::string_view, 3> kQuorumKeys = {"expected_votes", "two_node",
                                                         "wait_for_all"};
// A node's votes; 0 makes it a member that does not count towards quorum.
constexpr NumberRange kVotesRange = {0, 1000, false};
// At most every node with the most votes each.
constexpr NumberRange kExpectedVotesRange = {1, kMaxNodes * 1000, false};

// 0 or 1, as corosync writes these options; yes and no as well.
Parsed<bool> parse_flag(const Entry& entry, std::string_view file) {
  if (entry.value == "1" || entry.value == "yes") return true;
  if (entry.value == "0" || entry.value == "no") return false;
  return error_at(
      file, entry.line, entry.value_column,
      std::string(entry.key) + ": expected 0 or 1 (or yes or no), got " + quoted(entry.value));
}

std::uint64_t votes_of(const std::vector<ClusterNode>& nodes) {
  std::uint64_t sum = 0;
  for (const ClusterNode& node : nodes)
    sum += node.quorum_votes;
  return sum;
}

}  // namespace

Problem read_quorum(const Block& block, Quorum& quorum, std::string_view file) {
  if (Problem p = check_keys(block, kQuorumKeys, file)) return p;
  for (const Entry& entry : block.entries) {
    if (entry.key == "expected_votes") {
      Parsed<std::uint64_t> value = parse_number(entry, file, kExpectedVotesRange);
      if (!value) return value.error();
      quorum.expected_votes = static_cast<std::uint32_t>(*value);
      continue;
    }
    Parsed<bool> flag = parse_flag(entry, file);
    if (!flag) return flag.error();
    if (entry.key == "two_node") quorum.two_node = *flag;
    if (entry.key == "wait_for_all") quorum.wait_for_all = *flag;
  }
  return std::nullopt;
}

Problem read_quorum_votes(const Entry& entry, ClusterNode& node, std::string_view file) {
  Parsed<std::uint64_t> value = parse_number(entry, file, kVotesRange);
  if (!value) return value.error();
  node.quorum_votes = static_cast<std::uint32_t>(*value);
  return std::nullopt;
}

// expected_votes defaults to the votes of the nodelist, as votequorum computes
// it from its nodelist; wait_for_all defaults to two_node. two_node is refused
// where it cannot apply (votequorum would ignore it there silently): it is
// meant for exactly two votes expected, one per node.
Problem validate_quorum(ClusterConfig& config, const Block* quorum, std::string_view file) {
  const std::uint64_t nodelist_votes = votes_of(config.nodes);
  const Entry* expected = quorum != nullptr ? find_entry(*quorum, "expected_votes") : nullptr;
  if (expected == nullptr && nodelist_votes == 0) {
    return error_at(file, 0, 0,
                    "every node has quorum_votes 0: give at least one node a vote, or set "
                    "quorum.expected_votes");
  }
  if (expected == nullptr)
    config.quorum.expected_votes = static_cast<std::uint32_t>(nodelist_votes);
  if (quorum == nullptr) return std::nullopt;
  if (find_entry(*quorum, "wait_for_all") == nullptr)
    config.quorum.wait_for_all = config.quorum.two_node;
  const Entry* two_node = find_entry(*quorum, "two_node");
  if (config.quorum.two_node && config.quorum.expected_votes != 2) {
    return error_at(file, two_node->line, two_node->key_column,
                    "two_node needs 2 expected votes (two nodes of one vote each), not " +
                        std::to_string(config.quorum.expected_votes));
  }
  return std::nullopt;
}

}  // namespace ringcast::config
