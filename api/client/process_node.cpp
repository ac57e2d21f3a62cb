// The process's node: started by the first handle from the cluster file
// (RINGCAST_CONFIG, RINGCAST_NODE_ID; docs/configuration.md) and kept until
// the process exits, like the corosync daemon outlives its clients' handles.
// The runtime turns the configuration into a running member with membership
// (runtime/open_transport.hpp).
#include <chrono>
#include <mutex>

#include "base/log.hpp"
#include "client/node.hpp"
#include "config/cluster_config.hpp"
#include "runtime/open_transport.hpp"

namespace ringcast::client {

namespace {

constexpr const char* kDefaultLimitNote =
    " (unset: RLIMIT_MEMLOCK, at most a quarter of the memory; ulimit -l)";

// handle_unreleased_max_ms 0: no eviction (a spill still frees the log).
EvictionLimits eviction_limits_of(const config::Totem& t) {
  EvictionLimits l;
  l.max_bytes = t.handle_unreleased_max_bytes;
  l.max_age = std::chrono::milliseconds(t.handle_unreleased_max_ms);
  l.spill_max_bytes = t.handle_spill_max_bytes;
  return l;
}

cpg::Result<std::shared_ptr<Node>> start_process_node() {
  auto local = config::load_from_environment();
  if (!local.ok()) {
    log_line("cannot load the cluster configuration: " + local.error().message());
    return cpg::Status(CS_ERR_LIBRARY, local.error().message());
  }
  auto node = Node::create();
  node->quorum().set_rules(QuorumRules::from(local->config));
  const std::optional<std::uint64_t>& zcb_limit = local->config.rdma.zero_copy_max_bytes;
  node->set_zero_copy_limit(
      zcb_limit.value_or(0),
      "rdma.zero_copy_max_bytes in " + local->config.file + (zcb_limit ? "" : kDefaultLimitNote));
  node->set_max_fragmented_bytes(local->config.totem.max_fragmented_message_bytes);
  node->set_zcb_copy_below(local->config.totem.zcb_copy_below_bytes);
  // Logs why it failed.
  auto transport = runtime::open_transport(*local, node->round_callback());
  if (!transport.ok()) {
    const cs_error_t code =
        runtime::is_wrong_cluster_key(transport.error()) ? CS_ERR_SECURITY : CS_ERR_LIBRARY;
    return cpg::Status(code, transport.error().message());
  }
  // The first handles wait up to the startup window more for the merge
  // into a running ring and its sync (node_startup.cpp).
  node->attach(std::move(*transport),
               std::chrono::milliseconds(local->config.totem.startup_window_ms));
  node->set_eviction_limits(eviction_limits_of(local->config.totem));
  return node;
}

}  // namespace

cpg::Result<std::shared_ptr<Node>> Node::process_node() {
  static std::mutex mutex;
  static std::shared_ptr<Node> node;
  std::lock_guard lock(mutex);
  if (node) return node;
  auto started = start_process_node();
  if (started) node = *started;
  return started;
}

}  // namespace ringcast::client
