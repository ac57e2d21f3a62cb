// Fuzzes the cluster file parser: any bytes in, a Config or a ConfigError out,
// never a crash, a hang or undefined behaviour (ASan + UBSan). On top of not
// crashing, every result must keep the parser's promises:
//   - an error names a line that exists and is printable ASCII (no escape
//     sequences from the input reach a terminal or a log);
//   - a Config obeys every documented range and cross-key rule, and the
//     local-node lookup works on it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.hpp"
#include "config/cluster_config.hpp"

namespace ringcast::config {
namespace {

void check_error(const ConfigError& error, std::string_view text) {
  const std::uint32_t lines =
      static_cast<std::uint32_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  RC_ASSERT(error.line <= lines);
  RC_ASSERT(error.column == 0 || error.line != 0);
  RC_ASSERT(error.column <= kMaxLineBytes + 1);
  RC_ASSERT(error.sys_errno == 0);  // parse() does no I/O
  const std::string message = error.message();
  RC_ASSERT(!error.what.empty());
  for (char c : message)
    RC_ASSERT(c >= 0x20 && c < 0x7f);
}

void check_totem(const Totem& t) {
  RC_ASSERT(t.token_timeout_ms >= 10 && t.token_timeout_ms <= 300'000);
  RC_ASSERT(t.consensus_timeout_ms >= t.token_timeout_ms);
  RC_ASSERT(t.max_messages >= 1 && t.max_messages <= t.window_size);
  RC_ASSERT(t.log_size_bytes >= (64u << 10) && (t.log_size_bytes & (t.log_size_bytes - 1)) == 0);
  RC_ASSERT(t.max_message_size_bytes >= 64 && t.max_message_size_bytes <= t.log_size_bytes / 4);
  RC_ASSERT(std::uint64_t{t.token_hold_us} < std::uint64_t{t.token_timeout_ms} * 1000);
}

void check_config(const ClusterConfig& c) {
  check_totem(c.totem);
  RC_ASSERT(!c.nodes.empty() && c.nodes.size() <= kMaxNodes);
  RC_ASSERT(c.rdma.port >= 1);
  RC_ASSERT(c.auth.key.empty() || c.auth.key.size_bytes() >= ClusterKey::kMinBytes);
  RC_ASSERT(c.auth.key.empty() || c.auth.key_file.empty());
  for (std::size_t i = 0; i < c.nodes.size(); ++i) {
    const ClusterNode& n = c.nodes[i];
    RC_ASSERT(n.nodeid != 0 && n.port != 0 && n.line != 0);
    RC_ASSERT(c.node(n.nodeid) == &n);
    for (std::size_t j = 0; j < i; ++j) {
      RC_ASSERT(!(c.nodes[j].address == n.address && c.nodes[j].port == n.port));
    }
    // The node is found by its id, and by its address when no other node has it.
    Parsed<std::size_t> by_id = find_local_node(c, std::to_string(n.nodeid), {});
    RC_ASSERT(by_id.ok() && *by_id == i);
    const IpAddress host[] = {n.address};
    Parsed<std::size_t> by_address = find_local_node(c, "", host);
    RC_ASSERT(!by_address.ok() || c.nodes[*by_address].address == n.address);
    RC_ASSERT(IpAddress::parse(n.address.to_string()) == n.address);
  }
}

}  // namespace
}  // namespace ringcast::config

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringcast::config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Parsed<ClusterConfig> config = parse(text, "fuzz.conf");
  if (config.ok()) {
    check_config(*config);
  } else {
    check_error(config.error(), text);
  }
  return 0;
}
