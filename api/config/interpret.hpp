// From syntax to meaning: the sections and keys of a parsed tree become a
// Config (interpret), then the rules that involve several keys are checked
// and derived defaults filled in (validate). Internal to the config layer.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "config/cluster_config.hpp"
#include "config/tree.hpp"

namespace ringcast::config {

// Each key's value checked alone; unknown and repeated sections and keys refused.
Parsed<ClusterConfig> interpret(const Block& root, std::string_view file);

// Rules across keys and nodes. root is the tree config came from (for the
// places of keys in messages).
Problem validate(ClusterConfig& config, const Block& root, std::string_view file);

// Every entry's key is one of known and appears once; no section nests
// inside block.
Problem check_keys(const Block& block, std::span<const std::string_view> known,
                   std::string_view file);

// The `quorum` section, and the node key `quorum_votes` (quorum.cpp).
Problem read_quorum(const Block& block, Quorum& quorum, std::string_view file);
Problem read_quorum_votes(const Entry& entry, ClusterNode& node, std::string_view file);
// Fills in expected_votes and wait_for_all's default; checks two_node.
Problem validate_quorum(ClusterConfig& config, const Block* quorum, std::string_view file);

// One `uidgid` section, appended to out (uidgid.cpp).
Problem read_uidgid(const Block& block, std::vector<UidGid>& out, std::string_view file);

// The entry for key in block, or nullptr (keys are unique once interpreted).
const Entry* find_entry(const Block& block, std::string_view key);
// The block named name directly inside parent, or nullptr.
const Block* find_block(const Block& parent, std::string_view name);

// "unknown key 'x' in section 'totem'", with a suggestion when one is close.
ConfigError unknown_name(std::string_view what, std::string_view name, std::string_view where,
                         std::span<const std::string_view> known, std::string_view file,
                         std::uint32_t line, std::uint32_t column);

}  // namespace ringcast::config
