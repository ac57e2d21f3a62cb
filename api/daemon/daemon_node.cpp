#include "daemon/daemon_node.hpp"

#include <chrono>

#include "runtime/open_transport.hpp"

namespace ringcast::daemon {

namespace {

constexpr const char* kDefaultLimitNote =
    " (unset: RLIMIT_MEMLOCK, at most a quarter of the memory; ulimit -l)";

// handle_unreleased_max_ms 0: no eviction (a spill still frees the log).
client::EvictionLimits eviction_limits_of(const config::Totem& t) {
  client::EvictionLimits l;
  l.max_bytes = t.handle_unreleased_max_bytes;
  l.max_age = std::chrono::milliseconds(t.handle_unreleased_max_ms);
  l.spill_max_bytes = t.handle_spill_max_bytes;
  return l;
}

}  // namespace

Result<std::shared_ptr<client::Node>> start_node(const config::LocalConfig& local,
                                                 std::span<std::byte> log_memory) {
  const config::ClusterConfig& c = local.config;
  auto node = client::Node::create();
  node->quorum().set_rules(client::QuorumRules::from(c));
  const std::optional<std::uint64_t>& zcb_limit = c.rdma.zero_copy_max_bytes;
  node->set_zero_copy_limit(zcb_limit.value_or(0), "rdma.zero_copy_max_bytes in " + c.file +
                                                       (zcb_limit ? "" : kDefaultLimitNote));
  node->set_max_fragmented_bytes(c.totem.max_fragmented_message_bytes);
  node->set_zcb_copy_below(c.totem.zcb_copy_below_bytes);
  auto transport = runtime::open_transport(local, node->round_callback(), log_memory);
  if (!transport) return transport.error();
  // The daemon serves clients once it is ready (MemberLoop); the window
  // still holds their first sessions until the node's sync is done.
  node->attach(std::move(*transport), std::chrono::milliseconds(c.totem.startup_window_ms));
  node->set_eviction_limits(eviction_limits_of(c.totem));
  return node;
}

}  // namespace ringcast::daemon
