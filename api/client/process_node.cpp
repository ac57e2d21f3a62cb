// The process's node: started by the first handle from the cluster file
// (RINGCAST_CONFIG, RINGCAST_NODE_ID; docs/configuration.md) and kept until
// the process exits, like the corosync daemon outlives its clients' handles.
// The node runs with membership (runtime::MemberNode): a member that dies or
// is cut off is left out of a new ring, a restarted one is merged back.
#include <algorithm>
#include <cstdio>
#include <mutex>

#include "client/node.hpp"
#include "config/config.hpp"
#include "runtime/member_node.hpp"

namespace ringcast::client {

namespace {

ring::RingConfig ring_config_of(const config::Totem& t) {
  ring::RingConfig r;
  r.log_bytes = t.log_size_bytes;
  r.max_message_bytes = t.max_message_size_bytes;
  r.max_messages_per_visit = t.max_messages;
  r.window_messages = t.window_size;
  r.token_hold_ns = std::uint64_t{t.token_hold_us} * 1000;
  return r;
}

constexpr std::uint64_t kNsPerMs = 1'000'000;

// The membership timeouts of the `totem` section (docs/operations.md).
membership::MembershipConfig membership_of(const config::Totem& t) {
  membership::MembershipConfig m;
  m.token_timeout_ns = std::uint64_t{t.token_timeout_ms} * kNsPerMs;
  m.consensus_timeout_ns = std::uint64_t{t.consensus_timeout_ms} * kNsPerMs;
  m.join_interval_ns = std::uint64_t{t.join_timeout_ms} * kNsPerMs;
  return m;
}

cpg::Result<runtime::MemberNodeOptions> options_of(const config::LocalConfig& local) {
  const config::Config& c = local.config;
  runtime::MemberNodeOptions o;
  std::vector<const config::Node*> nodes;
  for (const auto& n : c.nodes)
    nodes.push_back(&n);
  std::sort(nodes.begin(), nodes.end(), [](auto* a, auto* b) { return a->nodeid < b->nodeid; });
  for (const config::Node* n : nodes)
    o.members.push_back({n->nodeid, n->address.to_string(), n->port});
  const config::Node& me = local.local();
  o.me = me.nodeid;
  o.device = !me.device.empty() ? me.device : c.rdma.device;
  if (me.gid_index || c.rdma.gid_index)
    o.gid_index = me.gid_index ? *me.gid_index : *c.rdma.gid_index;
  o.ring = ring_config_of(c.totem);
  o.membership = membership_of(c.totem);
  o.startup_window_ns = std::uint64_t{c.totem.startup_window_ms} * kNsPerMs;
  o.redial_interval_ns = std::uint64_t{c.totem.reconnect_interval_ms} * kNsPerMs;
  o.progress.spin_ns = std::uint64_t{c.totem.spin_time_us} * 1000;
  // The link key (never the cluster key itself) proves membership at every
  // connection set-up; no key in the file: links are not authenticated.
  if (!c.auth.key.empty()) {
    auto key = fabric::auth::AuthKey::derive(c.auth.key.secret_bytes());
    if (!key.ok()) return cpg::Status(CS_ERR_LIBRARY, key.error().message());
    o.key = std::move(*key);
  }
  return o;
}

cpg::Result<std::shared_ptr<Node>> start_process_node() {
  auto local = config::load_from_environment();
  if (!local.ok()) {
    std::fprintf(stderr, "ringcast: cannot load the cluster configuration: %s\n",
                 local.error().message().c_str());
    return cpg::Status(CS_ERR_LIBRARY, local.error().message());
  }
  auto node = Node::create();
  auto options = options_of(*local);
  if (!options) {
    std::fprintf(stderr, "ringcast: %s\n", options.status().message().c_str());
    return options.status();
  }
  runtime::MemberNodeOptions o = std::move(*options);
  o.on_events = node->round_callback();
  auto ring = runtime::MemberNode::start(o);
  if (!ring.ok()) {
    std::fprintf(stderr, "ringcast: node %u cannot join the ring: %s\n", o.me,
                 ring.error().message().c_str());
    return cpg::Status(CS_ERR_LIBRARY, ring.error().message());
  }
  node->attach(std::move(*ring));
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
