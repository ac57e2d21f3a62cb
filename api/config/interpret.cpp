#include "config/interpret.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "config/values.hpp"

namespace ringcast::config {
namespace {

using Names = std::span<const std::string_view>;

constexpr std::array<std::string_view, 8> kSections = {"totem",  "nodelist", "rdma",    "auth",
                                                       "quorum", "system",   "logging", "uidgid"};
// Sections that may appear any number of times (corosync's uidgid).
constexpr std::string_view kRepeatable = "uidgid";

struct TotemKey {
  std::string_view name;
  std::uint32_t Totem::*field;
  NumberRange range;
};

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::array<TotemKey, 20> kTotemKeys = {{
    {"token_timeout_ms", &Totem::token_timeout_ms, {10, 300'000, false}},
    {"token_retransmits_before_loss", &Totem::token_retransmits_before_loss, {1, 100, false}},
    {"consensus_timeout_ms", &Totem::consensus_timeout_ms, {10, 600'000, false}},
    {"join_timeout_ms", &Totem::join_timeout_ms, {1, 60'000, false}},
    {"max_messages", &Totem::max_messages, {1, 65'535, false}},
    {"window_size", &Totem::window_size, {1, 65'535, false}},
    {"token_hold_us", &Totem::token_hold_us, {0, 1'000'000, false}},
    {"spin_time_us", &Totem::spin_time_us, {0, 1'000'000, false}},
    {"log_size_bytes", &Totem::log_size_bytes, {64 << 10, 1024 * kMiB, true}},
    {"max_message_size_bytes", &Totem::max_message_size_bytes, {64, 256 * kMiB, true}},
    {"max_fragmented_message_bytes", &Totem::max_fragmented_message_bytes, {64, 4095 * kMiB, true}},
    {"startup_window_ms", &Totem::startup_window_ms, {0, 600'000, false}},
    {"reconnect_interval_ms", &Totem::reconnect_interval_ms, {10, 60'000, false}},
    {"handle_unreleased_max_bytes", &Totem::handle_unreleased_max_bytes, {64, 1024 * kMiB, true}},
    {"handle_unreleased_max_ms", &Totem::handle_unreleased_max_ms, {0, 3'600'000, false}},
    {"handle_spill_max_bytes", &Totem::handle_spill_max_bytes, {0, 4095 * kMiB, true}},
    {"zcb_copy_below_bytes", &Totem::zcb_copy_below_bytes, {0, 256 * kMiB, true}},
    {"deliver_copy_below_bytes", &Totem::deliver_copy_below_bytes, {0, 4095 * kMiB, true}},
    {"relay_min_batch_bytes", &Totem::relay_min_batch_bytes, {0, 4095 * kMiB, true}},
    {"relay_min_members", &Totem::relay_min_members, {3, kMaxRingMembers, false}},
}};

constexpr auto kTotemNames = [] {
  std::array<std::string_view, kTotemKeys.size()> names{};
  for (std::size_t i = 0; i < kTotemKeys.size(); ++i)
    names[i] = kTotemKeys[i].name;
  return names;
}();
static_assert(kTotemNames.size() <= 32);  // check_keys() keeps a line per known key
constexpr std::array<std::string_view, 6> kNodeKeys = {"nodeid", "address",   "port",
                                                       "device", "gid_index", "quorum_votes"};
constexpr std::array<std::string_view, 4> kRdmaKeys = {"device", "gid_index", "port",
                                                       "zero_copy_max_bytes"};
constexpr std::array<std::string_view, 3> kAuthKeys = {"key", "key_file", "allow_unauthenticated"};
constexpr std::array<std::string_view, 4> kSystemKeys = {"state_dir", "run_dir", "mode",
                                                         "client_zcb_segment_bytes"};
constexpr std::array<std::string_view, 2> kLoggingKeys = {"to_stderr", "to_syslog"};

constexpr NumberRange kNodeIdRange = {1, 0xffff'ffff, false};
constexpr NumberRange kPortRange = {1, 65'535, false};
constexpr NumberRange kGidIndexRange = {0, 1023, false};
constexpr NumberRange kDevicePortRange = {1, 255, false};
// One 2 MiB slab at least; 1 TiB at most (more than a machine lets one
// process pin).
constexpr NumberRange kZeroCopyBytesRange = {2 * kMiB, 1024 * 1024 * kMiB, true};
// 0: clients get no zcb segment; else whole 2 MiB slabs, up to 64 GiB of
// address space per client.
constexpr NumberRange kClientZcbSegmentRange = {0, 64 * 1024 * kMiB, true};

std::string section_label(const Block& block) {
  return "section '" + std::string(block.name) + "'";
}

}  // namespace

// Every entry's key is known and appears once; no section nests inside block.
Problem check_keys(const Block& block, Names known, std::string_view file) {
  std::array<std::uint32_t, 32> first_line{};  // per known key; 0 = not seen yet
  RC_ASSERT(known.size() <= first_line.size());
  for (const Entry& entry : block.entries) {
    const auto it = std::find(known.begin(), known.end(), entry.key);
    if (it == known.end()) {
      return unknown_name("key", entry.key, section_label(block), known, file, entry.line,
                          entry.key_column);
    }
    std::uint32_t& first = first_line[static_cast<std::size_t>(it - known.begin())];
    if (first != 0) {
      return error_at(file, entry.line, entry.key_column,
                      "key " + quoted(entry.key) + " appears twice in " + section_label(block) +
                          " (first at line " + std::to_string(first) + ")");
    }
    first = entry.line;
  }
  if (!block.blocks.empty()) {
    const Block& inner = block.blocks.front();
    return error_at(
        file, inner.line, inner.column,
        "section " + quoted(inner.name) + " is not allowed inside " + section_label(block));
  }
  return std::nullopt;
}

namespace {

Problem read_totem(const Block& block, Totem& totem, std::string_view file) {
  if (Problem p = check_keys(block, kTotemNames, file)) return p;
  for (const Entry& entry : block.entries) {
    const auto* key = std::find_if(kTotemKeys.begin(), kTotemKeys.end(),
                                   [&](const TotemKey& k) { return k.name == entry.key; });
    Parsed<std::uint64_t> value = parse_number(entry, file, key->range);
    if (!value) return value.error();
    totem.*(key->field) = static_cast<std::uint32_t>(*value);
  }
  return std::nullopt;
}

// The optional device / gid_index pair shared by `rdma` and `node`.
Problem read_device_entry(const Entry& entry, std::string& device,
                          std::optional<std::uint16_t>& gid_index, std::string_view file) {
  if (entry.key == "device") {
    if (Problem p = check_device_name(entry, file)) return p;
    device = std::string(entry.value);
    return std::nullopt;
  }
  RC_ASSERT(entry.key == "gid_index");
  Parsed<std::uint64_t> value = parse_number(entry, file, kGidIndexRange);
  if (!value) return value.error();
  gid_index = static_cast<std::uint16_t>(*value);
  return std::nullopt;
}

Problem read_node_entry(const Entry& entry, ClusterNode& node, std::string_view file) {
  if (entry.key == "address") {
    Parsed<IpAddress> address = parse_address(entry, file);
    if (!address) return address.error();
    node.address = *address;
    return std::nullopt;
  }
  if (entry.key == "nodeid" || entry.key == "port") {
    const bool is_id = entry.key == "nodeid";
    Parsed<std::uint64_t> value = parse_number(entry, file, is_id ? kNodeIdRange : kPortRange);
    if (!value) return value.error();
    if (is_id) node.nodeid = static_cast<std::uint32_t>(*value);
    if (!is_id) node.port = static_cast<std::uint16_t>(*value);
    return std::nullopt;
  }
  if (entry.key == "quorum_votes") return read_quorum_votes(entry, node, file);
  return read_device_entry(entry, node.device, node.gid_index, file);
}

Parsed<ClusterNode> read_node(const Block& block, std::string_view file) {
  if (Problem p = check_keys(block, kNodeKeys, file)) return *std::move(p);
  ClusterNode node;
  node.line = block.line;
  for (const Entry& entry : block.entries) {
    if (Problem p = read_node_entry(entry, node, file)) return *std::move(p);
  }
  if (find_entry(block, "nodeid") == nullptr) {
    return error_at(file, block.line, block.column, "node has no nodeid");
  }
  if (find_entry(block, "address") == nullptr) {
    return error_at(file, block.line, block.column,
                    "node " + std::to_string(node.nodeid) + " has no address");
  }
  return node;
}

Problem read_nodelist(const Block& block, std::vector<ClusterNode>& nodes, std::string_view file) {
  if (!block.entries.empty()) {
    const Entry& entry = block.entries.front();
    return error_at(file, entry.line, entry.key_column,
                    "key " + quoted(entry.key) +
                        " directly in the nodelist: keys belong inside a 'node { }' section");
  }
  constexpr std::array<std::string_view, 1> kNode = {"node"};
  for (const Block& inner : block.blocks) {
    if (inner.name != "node") {
      return unknown_name("section", inner.name, "the nodelist", kNode, file, inner.line,
                          inner.column);
    }
    if (nodes.size() == kMaxNodes) {
      return error_at(file, inner.line, inner.column,
                      "more than " + std::to_string(kMaxNodes) + " nodes");
    }
    Parsed<ClusterNode> node = read_node(inner, file);
    if (!node) return node.error();
    nodes.push_back(std::move(*node));
  }
  if (nodes.empty()) return error_at(file, block.line, block.column, "the nodelist has no node");
  return std::nullopt;
}

Problem read_rdma(const Block& block, Rdma& rdma, std::string_view file) {
  if (Problem p = check_keys(block, kRdmaKeys, file)) return p;
  for (const Entry& entry : block.entries) {
    if (entry.key == "port") {
      Parsed<std::uint64_t> value = parse_number(entry, file, kDevicePortRange);
      if (!value) return value.error();
      rdma.port = static_cast<std::uint8_t>(*value);
    } else if (entry.key == "zero_copy_max_bytes") {
      Parsed<std::uint64_t> value = parse_number(entry, file, kZeroCopyBytesRange);
      if (!value) return value.error();
      rdma.zero_copy_max_bytes = *value;
    } else if (Problem p = read_device_entry(entry, rdma.device, rdma.gid_index, file)) {
      return p;
    }
  }
  return std::nullopt;
}

// A relative key_file is relative to the directory of the configuration file.
std::string resolve_path(std::string_view path, std::string_view config_file) {
  if (path.front() == '/') return std::string(path);
  const std::size_t slash = config_file.rfind('/');
  if (slash == std::string_view::npos) return std::string(path);
  return std::string(config_file.substr(0, slash + 1)) + std::string(path);
}

Problem read_yes_no(const Entry& entry, bool& value, std::string_view file) {
  if (entry.value != "yes" && entry.value != "no") {
    return error_at(file, entry.line, entry.value_column,
                    std::string(entry.key) + ": 'yes' or 'no', not " + quoted(entry.value));
  }
  value = entry.value == "yes";
  return std::nullopt;
}

Problem read_allow_unauthenticated(const Entry& entry, Auth& auth, std::string_view file) {
  if (Problem p = read_yes_no(entry, auth.allow_unauthenticated, file)) return p;
  auth.allow_unauthenticated_line = entry.line;
  return std::nullopt;
}

// The cluster key (key or key_file), or allow_unauthenticated: yes to run
// without one; never both.
Problem read_auth(const Block& block, Auth& auth, std::string_view file) {
  if (Problem p = check_keys(block, kAuthKeys, file)) return p;
  const Entry* key_entry = nullptr;
  for (const Entry& e : block.entries) {
    if (e.key == "allow_unauthenticated") {
      if (Problem p = read_allow_unauthenticated(e, auth, file)) return p;
      continue;
    }
    if (key_entry != nullptr) {
      return error_at(file, e.line, e.key_column,
                      "give the cluster key either as key or as key_file, not both");
    }
    key_entry = &e;
  }
  if (key_entry == nullptr) {
    if (auth.allow_unauthenticated) return std::nullopt;
    return error_at(file, block.line, block.column,
                    "section 'auth' has neither key nor key_file (allow_unauthenticated: yes "
                    "runs without a key)");
  }
  if (auth.allow_unauthenticated) {
    return error_at(file, key_entry->line, key_entry->key_column,
                    "a cluster key and allow_unauthenticated: yes: remove one");
  }
  const Entry& entry = *key_entry;
  if (entry.key == "key_file") {
    if (entry.value.empty()) {
      return error_at(file, entry.line, entry.value_column, "key_file: empty path");
    }
    auth.key_file = resolve_path(entry.value, file);
    auth.key_file_line = entry.line;
    return std::nullopt;
  }
  Parsed<std::vector<std::byte>> key = parse_hex_key(entry, file);
  if (!key) return key.error();
  auth.key = ClusterKey(std::move(*key));
  auth.key_line = entry.line;
  return std::nullopt;
}

Problem read_mode(const Entry& entry, System& system, std::string_view file) {
  if (entry.value == "daemon") {
    system.mode = System::Mode::daemon;
  } else if (entry.value == "embedded") {
    system.mode = System::Mode::embedded;
  } else {
    return error_at(file, entry.line, entry.value_column,
                    "mode: '" + std::string(entry.value) + "' is neither daemon nor embedded");
  }
  system.mode_line = entry.line;
  return std::nullopt;
}

Problem read_system(const Block& block, System& system, std::string_view file) {
  if (Problem p = check_keys(block, kSystemKeys, file)) return p;
  for (const Entry& entry : block.entries) {
    if (entry.key == "mode") {
      if (Problem p = read_mode(entry, system, file)) return p;
      continue;
    }
    if (entry.key == "client_zcb_segment_bytes") {
      Parsed<std::uint64_t> value = parse_number(entry, file, kClientZcbSegmentRange);
      if (!value) return value.error();
      if (*value % (2 * kMiB) != 0)
        return error_at(file, entry.line, entry.value_column,
                        "client_zcb_segment_bytes: must be 0 or a multiple of 2m");
      system.client_zcb_segment_bytes = *value;
      continue;
    }
    if (entry.value.empty())
      return error_at(file, entry.line, entry.value_column,
                      std::string(entry.key) + ": empty path");
    std::string& dir = entry.key == "run_dir" ? system.run_dir : system.state_dir;
    dir = resolve_path(entry.value, file);
  }
  return std::nullopt;
}

Problem read_logging(const Block& block, Logging& logging, std::string_view file) {
  if (Problem p = check_keys(block, kLoggingKeys, file)) return p;
  for (const Entry& entry : block.entries) {
    bool& flag = entry.key == "to_syslog" ? logging.to_syslog : logging.to_stderr;
    if (Problem p = read_yes_no(entry, flag, file)) return p;
  }
  return std::nullopt;
}

Problem read_section(const Block& block, ClusterConfig& config, std::string_view file) {
  if (block.name == "system") return read_system(block, config.system, file);
  if (block.name == "totem") return read_totem(block, config.totem, file);
  if (block.name == "nodelist") return read_nodelist(block, config.nodes, file);
  if (block.name == "rdma") return read_rdma(block, config.rdma, file);
  if (block.name == "quorum") return read_quorum(block, config.quorum, file);
  if (block.name == "logging") return read_logging(block, config.logging, file);
  if (block.name == "uidgid") return read_uidgid(block, config.uidgid, file);
  RC_ASSERT(block.name == "auth");
  return read_auth(block, config.auth, file);
}

// Top level: only the known sections, each at most once (but uidgid).
Problem check_sections(const Block& root, std::string_view file) {
  if (!root.entries.empty()) {
    const Entry& entry = root.entries.front();
    return error_at(file, entry.line, entry.key_column,
                    "key " + quoted(entry.key) + " is outside of any section");
  }
  std::array<std::uint32_t, kSections.size()> first_line{};
  for (const Block& block : root.blocks) {
    const auto it = std::find(kSections.begin(), kSections.end(), block.name);
    if (it == kSections.end()) {
      return unknown_name("section", block.name, "", kSections, file, block.line, block.column);
    }
    std::uint32_t& first = first_line[static_cast<std::size_t>(it - kSections.begin())];
    if (first != 0 && block.name != kRepeatable) {
      return error_at(
          file, block.line, block.column,
          section_label(block) + " appears twice (first at line " + std::to_string(first) + ")");
    }
    first = block.line;
  }
  return std::nullopt;
}

}  // namespace

const Entry* find_entry(const Block& block, std::string_view key) {
  for (const Entry& entry : block.entries) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

const Block* find_block(const Block& parent, std::string_view name) {
  for (const Block& block : parent.blocks) {
    if (block.name == name) return &block;
  }
  return nullptr;
}

Parsed<ClusterConfig> interpret(const Block& root, std::string_view file) {
  if (Problem p = check_sections(root, file)) return *std::move(p);
  ClusterConfig config;
  config.file = std::string(file);
  for (const Block& block : root.blocks) {
    if (Problem p = read_section(block, config, file)) return *std::move(p);
  }
  if (find_block(root, "nodelist") == nullptr) {
    return error_at(file, 0, 0, "no nodelist section: at least one node is required");
  }
  return config;
}

}  // namespace ringcast::config
