// The process's transport from its cluster configuration: the one call the
// client layer makes to get a running member.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "base/result.hpp"
#include "config/cluster_config.hpp"
#include "runtime/ring_transport.hpp"

namespace ringcast::runtime {

// Turns the configuration into the runtime's settings (the ring's sizes, the
// membership timeouts, the RDMA device, the link key derived from the
// cluster key) and starts this node's member with membership (MembershipNode):
// a member that dies or is cut off is left out of a new ring, a restarted
// one is merged back. on_events drains the member's events (RingTransport).
// Blocks until the member runs; a failure is logged and returned.
// log_memory: empty, or the receive log's memory (MemberNodeOptions).
Result<std::unique_ptr<RingTransport>> open_transport(const config::LocalConfig& local,
                                                      RoundCallback on_events,
                                                      std::span<std::byte> log_memory = {});

// The `call` of the error a node stops with at start-up when no member
// accepted its cluster key and it never had an authenticated peer
// (Errc::refused): its key is not the cluster's.
inline constexpr std::string_view kWrongClusterKeyCall = "cluster key";
inline bool is_wrong_cluster_key(const Error& e) noexcept {
  return e.code == Errc::refused && e.call == kWrongClusterKeyCall;
}

}  // namespace ringcast::runtime
