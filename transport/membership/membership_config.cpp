#include "membership/membership_config.hpp"

#include <algorithm>

#include "membership/membership_message.hpp"

namespace ringcast::membership {

Status validate(const MembershipConfig& c, const ring::RingConfig& ring_config) {
  RC_TRY(ring::validate(ring_config));
  auto bad = [](const char* what) {
    return make_error(Errc::invalid_argument, "membership config", what);
  };
  if (c.nodes.empty() || c.nodes.size() > kMaxNodes) return bad("nodes: 1 to 64 needed");
  std::vector<fabric::NodeId> sorted = c.nodes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return bad("nodes: a node is listed twice");
  }
  if (c.token_timeout_ns == 0 || c.join_interval_ns == 0) return bad("a timeout is 0");
  if (c.consensus_timeout_ns <= c.join_interval_ns || c.consensus_timeout_ns < c.token_timeout_ns) {
    return bad(
        "consensus_timeout_ns must exceed join_interval_ns and be at least token_timeout_ns");
  }
  if (ring_config.log_bytes >= (std::uint64_t{1} << 32)) {
    return bad("log_bytes of 4 GiB or more: recovery writes a log range in at most two writes");
  }
  return {};
}

}  // namespace ringcast::membership
