// Membership's tunables, with units and defaults, and the cluster's node list.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.hpp"
#include "fabric/fabric.hpp"
#include "ring/ring_config.hpp"

namespace ringcast::membership {

struct MembershipConfig {
  // The cluster's nodes (at most 64, distinct). A node's index here is its
  // control slot in every mailbox, and rings keep this order: the token goes
  // from a member to the next one listed, the first listed member of a ring
  // is its representative.
  std::vector<fabric::NodeId> nodes;
  // A member that sees no sign of its ring (token, records, wake) for this
  // long declares the token lost and starts a gather. A link error (retry
  // exceeded, disconnect) is seen far sooner and starts one at once. Idle
  // token holds are shortened so that a rotation takes at most half of it.
  std::uint64_t token_timeout_ns = 1'000'000'000;
  // How often a gathering member repeats its join (and a committing one its
  // commit, recovery or ready message).
  std::uint64_t join_interval_ns = 20'000'000;
  // A gathering member that has not reached agreement within this long
  // declares the nodes that did not agree failed and gathers on without them;
  // a commit not installed within this long is abandoned for a new gather.
  // At least the token timeout (as corosync requires): a member must be able
  // to answer within it over its slowest link, or it is left out again and
  // again. The representative of a running ring also probes the nodes
  // outside it this often (merge detection).
  std::uint64_t consensus_timeout_ns = 1'200'000'000;
};

// Errc::invalid_argument naming what is wrong: too many or repeated nodes, a
// zero timeout, a consensus timeout not above the join interval or below the
// token timeout, a log too
// large for recovery writes (4 GiB).
Status validate(const MembershipConfig& config, const ring::RingConfig& ring_config);

}  // namespace ringcast::membership
