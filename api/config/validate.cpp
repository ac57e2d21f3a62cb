// Rules that involve more than one key or node. A message points at the key
// that was written in the file (the later one when both were).
#include <algorithm>
#include <bit>
#include <string>

#include "config/interpret.hpp"

namespace ringcast::config {
namespace {

// The defaults obey every rule below on their own.
constexpr Totem kDefaults{};
static_assert(kDefaults.consensus_timeout_ms >= kDefaults.token_timeout_ms);
static_assert(kDefaults.max_messages <= kDefaults.window_size);
static_assert(std::has_single_bit(kDefaults.log_size_bytes));
static_assert(kDefaults.max_message_size_bytes <= kDefaults.log_size_bytes / 4);
static_assert(std::uint64_t{kDefaults.token_hold_us} < kDefaults.token_timeout_ms * 1000ull);
static_assert(kDefaults.zcb_copy_below_bytes <= kDefaults.max_message_size_bytes);

struct Place {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

// Where to report a rule about keys a and b of the totem section.
Place place_of(const Block* totem, std::string_view a, std::string_view b) {
  const Entry* ea = totem != nullptr ? find_entry(*totem, a) : nullptr;
  const Entry* eb = totem != nullptr ? find_entry(*totem, b) : nullptr;
  const Entry* later = (ea == nullptr || (eb != nullptr && eb->line > ea->line)) ? eb : ea;
  if (later != nullptr) return {later->line, later->key_column};
  if (totem != nullptr) return {totem->line, totem->column};
  return {};
}

std::string shown(std::string_view key, std::uint64_t value) {
  return std::string(key) + " (" + std::to_string(value) + ")";
}

ConfigError rule_broken(const Block* totem, std::string_view a, std::string_view b,
                        std::string_view file, std::string what) {
  const Place at = place_of(totem, a, b);
  return error_at(file, at.line, at.column, std::move(what));
}

Problem check_totem(Totem& t, const Block* totem, std::string_view file) {
  const bool consensus_set = totem != nullptr && find_entry(*totem, "consensus_timeout_ms");
  // corosync's rule of thumb: consensus = 1.2 x token (token <= 300000: no overflow).
  if (!consensus_set) t.consensus_timeout_ms = t.token_timeout_ms * 6 / 5;
  // An unset hold follows a shortened token timeout: at most half of it.
  const bool hold_set = totem != nullptr && find_entry(*totem, "token_hold_us");
  const std::uint64_t half_token_us = std::uint64_t{t.token_timeout_ms} * 500;
  if (!hold_set && t.token_hold_us > half_token_us) {
    t.token_hold_us = static_cast<std::uint32_t>(half_token_us);
  }
  if (t.consensus_timeout_ms < t.token_timeout_ms) {
    return rule_broken(totem, "consensus_timeout_ms", "token_timeout_ms", file,
                       shown("consensus_timeout_ms", t.consensus_timeout_ms) +
                           " must be at least " + shown("token_timeout_ms", t.token_timeout_ms));
  }
  if (t.max_messages > t.window_size) {
    return rule_broken(totem, "max_messages", "window_size", file,
                       shown("max_messages", t.max_messages) + " must not exceed " +
                           shown("window_size", t.window_size));
  }
  if (!std::has_single_bit(t.log_size_bytes)) {
    return rule_broken(totem, "log_size_bytes", "log_size_bytes", file,
                       shown("log_size_bytes", t.log_size_bytes) + " must be a power of two");
  }
  if (t.max_message_size_bytes > t.log_size_bytes / 4) {
    return rule_broken(totem, "max_message_size_bytes", "log_size_bytes", file,
                       shown("max_message_size_bytes", t.max_message_size_bytes) +
                           " must be at most a quarter of " +
                           shown("log_size_bytes", t.log_size_bytes));
  }
  if (t.max_fragmented_message_bytes < t.max_message_size_bytes) {
    return rule_broken(totem, "max_fragmented_message_bytes", "max_message_size_bytes", file,
                       shown("max_fragmented_message_bytes", t.max_fragmented_message_bytes) +
                           " must be at least " +
                           shown("max_message_size_bytes", t.max_message_size_bytes));
  }
  if (std::uint64_t{t.token_hold_us} >= std::uint64_t{t.token_timeout_ms} * 1000) {
    return rule_broken(totem, "token_hold_us", "token_timeout_ms", file,
                       shown("token_hold_us", t.token_hold_us) + " must be shorter than " +
                           shown("token_timeout_ms", t.token_timeout_ms));
  }
  return std::nullopt;
}

// The eviction bound: at least the largest message (a handle holds one while
// it runs), below the log (the log would be full before it is reached).
Problem check_handle_bounds(Totem& t, const Block* totem, std::string_view file) {
  if (t.handle_unreleased_max_bytes == 0) {
    t.handle_unreleased_max_bytes = std::max(t.log_size_bytes / 2, t.max_message_size_bytes);
  }
  if (t.handle_unreleased_max_bytes < t.max_message_size_bytes) {
    return rule_broken(totem, "handle_unreleased_max_bytes", "max_message_size_bytes", file,
                       shown("handle_unreleased_max_bytes", t.handle_unreleased_max_bytes) +
                           " must be at least " +
                           shown("max_message_size_bytes", t.max_message_size_bytes));
  }
  if (t.handle_unreleased_max_bytes >= t.log_size_bytes) {
    return rule_broken(totem, "handle_unreleased_max_bytes", "log_size_bytes", file,
                       shown("handle_unreleased_max_bytes", t.handle_unreleased_max_bytes) +
                           " must be below " + shown("log_size_bytes", t.log_size_bytes));
  }
  return std::nullopt;
}

// Sends of max_message_size_bytes and more are copied anyway (in
// fragments above it), so a crossover above it would only say "copy
// everything", which cpg_mcast_joined already does: refused when written,
// the default is lowered to it.
Problem check_zcb_crossover(Totem& t, const Block* totem, std::string_view file) {
  const bool set = totem != nullptr && find_entry(*totem, "zcb_copy_below_bytes");
  if (!set) {
    t.zcb_copy_below_bytes = std::min(t.zcb_copy_below_bytes, t.max_message_size_bytes);
    return std::nullopt;
  }
  if (t.zcb_copy_below_bytes > t.max_message_size_bytes) {
    return rule_broken(totem, "zcb_copy_below_bytes", "max_message_size_bytes", file,
                       shown("zcb_copy_below_bytes", t.zcb_copy_below_bytes) + " must not exceed " +
                           shown("max_message_size_bytes", t.max_message_size_bytes) +
                           " (a larger send is copied in fragments anyway)");
  }
  return std::nullopt;
}

// Node ids are unique, and so are (address, port) pairs: two processes may
// share a host when their ports differ.
Problem check_nodes(const std::vector<ClusterNode>& nodes, std::string_view file) {
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const ClusterNode& a = nodes[j];
      const ClusterNode& b = nodes[i];
      if (a.nodeid == b.nodeid) {
        return error_at(file, b.line, 0,
                        "nodeid " + std::to_string(b.nodeid) + " appears twice (first at line " +
                            std::to_string(a.line) + ")");
      }
      if (a.address == b.address && a.port == b.port) {
        return error_at(file, b.line, 0,
                        "node " + std::to_string(b.nodeid) + " has the address " +
                            b.address.to_string() + " port " + std::to_string(b.port) +
                            " of node " + std::to_string(a.nodeid) + " (line " +
                            std::to_string(a.line) + "); give one of them another port");
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Problem validate(ClusterConfig& config, const Block& root, std::string_view file) {
  if (Problem p = check_totem(config.totem, find_block(root, "totem"), file)) return p;
  if (Problem p = check_handle_bounds(config.totem, find_block(root, "totem"), file)) return p;
  if (Problem p = check_zcb_crossover(config.totem, find_block(root, "totem"), file)) return p;
  if (Problem p = check_nodes(config.nodes, file)) return p;
  return validate_quorum(config, find_block(root, "quorum"), file);
}

}  // namespace ringcast::config
