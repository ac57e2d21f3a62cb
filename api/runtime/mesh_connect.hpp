// Mesh set-up for RingNode: links to every other member, lower ids by
// connect (with retries), higher ids by accept. MemberNode's LinkKeeper
// shares the peer checks. Internal to the runtime.
#pragma once

#include <memory>
#include <vector>

#include "base/result.hpp"
#include "fabric/auth/auth_key.hpp"
#include "fabric/connect_info.hpp"
#include "fabric/verbs/endpoint.hpp"
#include "ring/config.hpp"
#include "runtime/ring_node.hpp"

namespace ringcast::runtime {

struct MeshPlan {
  const std::vector<MemberAddress>* members = nullptr;
  std::size_t my_index = 0;
  fabric::ConnectInfo ours;
  ring::RingConfig ring;
  std::uint64_t deadline_ns = 0;  // in the endpoint's clock
  fabric::auth::AuthKey key;      // the listener must have been given the same
};

// links[i] leads to members[i] (null at my_index). The listener must already
// be listening with a check that admits only higher members (peer_check()).
// Without a key, says once per process (log) that links are not
// authenticated.
Result<std::vector<std::unique_ptr<fabric::Link>>> connect_mesh(fabric::verbs::VerbsEndpoint& ep,
                                                                fabric::verbs::Listener& listener,
                                                                const MeshPlan& plan);

// Says once per process (log) that links are not authenticated.
void warn_once_without_key();

// Refuses a peer that is not `expected` (0: any member above my_index not
// yet accepted is checked by the caller) or whose regions do not fit `ring`.
Status check_peer_regions(const fabric::ConnectInfo& peer, const ring::RingConfig& ring);

}  // namespace ringcast::runtime
