// Setting up a link to another member over verbs, one way for RingNode's
// static mesh (mesh_connect.hpp) and MembershipNode's LinkKeeper: listen on my
// address admitting only members with a HIGHER node id, dial those with a
// LOWER one. Both sides vet the peer's ConnectInfo (the node expected, regions
// that fit this ring) and, with a cluster key, pass the key's
// challenge-response (fabric/auth/handshake.hpp) before a link exists.
// Internal to the runtime.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "fabric/auth/auth_key.hpp"
#include "fabric/connect_info.hpp"
#include "fabric/verbs/endpoint.hpp"
#include "ring/ring_config.hpp"
#include "runtime/ring_node.hpp"

namespace ringcast::runtime {

struct LinkPlan {
  std::vector<MemberAddress> members;  // sorted by node id
  std::size_t my_index = 0;
  fabric::ConnectInfo ours;
  ring::RingConfig ring;
  fabric::auth::AuthKey key;  // empty: links are not authenticated
  // Takes the lock held by whoever polls the endpoint (LinkOptions), when
  // links are set up beside a running progress thread. Empty: one thread.
  std::function<std::unique_lock<std::mutex>()> endpoint_lock;
  // Names the set-up in errors: "mesh" (RingNode), "member" (MembershipNode).
  const char* context = "mesh";
  // Told of every peer that passed the checks, with its member index.
  std::function<void(const fabric::ConnectInfo& peer, std::size_t index)> on_peer;
};

// "node 2 at 10.0.0.2:7405"
std::string describe(const MemberAddress& member);
// members.size() when node is none of them.
std::size_t index_of(const std::vector<MemberAddress>& members, fabric::NodeId node);

// Listens on my member's address and port, admitting members above me only.
Result<std::unique_ptr<fabric::verbs::Listener>> listen_for_links(fabric::verbs::VerbsEndpoint& ep,
                                                                  const LinkPlan& plan);

// One attempt at the link to member `index` (resolve, connect, the key's
// handshake, attach), within timeout_ns.
Result<std::unique_ptr<fabric::Link>> dial_member(fabric::verbs::VerbsEndpoint& ep,
                                                  const LinkPlan& plan, std::size_t index,
                                                  std::uint64_t timeout_ns);

// Says once per process (log) that links are not authenticated.
void warn_once_without_key();

// Refuses a peer that connects from another address than its member's
// configured one (a listener's check: anyone who reaches the port can claim
// any node id).
Status check_peer_address(const MemberAddress& member, std::string_view from);

// Refuses a peer whose regions do not fit `ring`.
Status check_peer_regions(const fabric::ConnectInfo& peer, const ring::RingConfig& ring);

}  // namespace ringcast::runtime
