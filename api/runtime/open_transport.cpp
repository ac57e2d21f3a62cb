#include "runtime/open_transport.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "ring/token.hpp"
#include "runtime/incarnation.hpp"
#include "runtime/kept_epochs.hpp"
#include "runtime/membership_node.hpp"

namespace ringcast::runtime {

namespace {

constexpr std::uint64_t kNsPerMs = 1'000'000;
static_assert(config::kMaxRingMembers == ring::kMaxMembers,
              "totem.relay_min_members accepts what the ring does");

ring::RingConfig ring_config_of(const config::Totem& t) {
  ring::RingConfig r;
  r.log_bytes = t.log_size_bytes;
  r.max_message_bytes = t.max_message_size_bytes;
  r.max_messages_per_visit = t.max_messages;
  r.window_messages = t.window_size;
  r.token_hold_ns = std::uint64_t{t.token_hold_us} * 1000;
  r.relay_min_batch_bytes = t.relay_min_batch_bytes;
  r.relay_min_members = t.relay_min_members;
  return r;
}

// The membership timeouts of the `totem` section (docs/operations.md).
membership::MembershipConfig membership_of(const config::Totem& t) {
  membership::MembershipConfig m;
  m.token_timeout_ns = std::uint64_t{t.token_timeout_ms} * kNsPerMs;
  m.consensus_timeout_ns = std::uint64_t{t.consensus_timeout_ms} * kNsPerMs;
  m.join_interval_ns = std::uint64_t{t.join_timeout_ms} * kNsPerMs;
  return m;
}

// This process's incarnation, kept in the state directory (incarnation.hpp):
// a configured directory must work, the default one may fall back to the
// clock (logged).
Result<std::uint32_t> incarnation_of(const config::ClusterConfig& c, std::uint32_t node) {
  const bool configured = !c.system.state_dir.empty();
  const std::string dir = configured ? c.system.state_dir : config::default_state_dir();
  auto taken = take_incarnation(dir, node, clock_incarnation(), configured);
  RC_TRY(taken);
  if (!taken->warning.empty()) log_line("node " + std::to_string(node) + ": " + taken->warning);
  return taken->incarnation;
}

// The ring epochs its earlier processes named (kept_epochs.hpp), in the
// same directory and by the same rules.
Status keep_epochs(const config::ClusterConfig& c, MemberNodeOptions& o) {
  const bool configured = !c.system.state_dir.empty();
  const std::string dir = configured ? c.system.state_dir : config::default_state_dir();
  auto kept = KeptEpochs::open(dir, o.me, configured);
  RC_TRY(kept);
  if (!kept->warning().empty()) log_line("node " + std::to_string(o.me) + ": " + kept->warning());
  o.epochs_kept = kept->kept();
  // Called on the progress thread only, with the driver's lock held.
  o.keep_epochs = [k = std::make_shared<KeptEpochs>(std::move(*kept))](std::uint64_t through) {
    return k->keep(through);
  };
  return {};
}

Result<MemberNodeOptions> options_of(const config::LocalConfig& local) {
  const config::ClusterConfig& c = local.config;
  MemberNodeOptions o;
  std::vector<const config::ClusterNode*> nodes;
  for (const auto& n : c.nodes)
    nodes.push_back(&n);
  std::sort(nodes.begin(), nodes.end(), [](auto* a, auto* b) { return a->nodeid < b->nodeid; });
  for (const config::ClusterNode* n : nodes)
    o.members.push_back({n->nodeid, n->address.to_string(), n->port});
  const config::ClusterNode& me = local.local();
  o.me = me.nodeid;
  o.device = !me.device.empty() ? me.device : c.rdma.device;
  if (me.gid_index || c.rdma.gid_index)
    o.gid_index = me.gid_index ? *me.gid_index : *c.rdma.gid_index;
  o.ring = ring_config_of(c.totem);
  o.membership = membership_of(c.totem);
  o.startup_window_ns = std::uint64_t{c.totem.startup_window_ms} * kNsPerMs;
  o.reconnect_interval_ns = std::uint64_t{c.totem.reconnect_interval_ms} * kNsPerMs;
  o.progress.spin_ns = std::uint64_t{c.totem.spin_time_us} * 1000;
  auto incarnation = incarnation_of(c, o.me);
  RC_TRY(incarnation);
  o.incarnation = *incarnation;
  RC_TRY(keep_epochs(c, o));
  // The link key (never the cluster key itself) proves membership at every
  // connection set-up; no key in the file: links are not authenticated.
  if (!c.auth.key.empty()) {
    auto key = fabric::auth::AuthKey::derive(c.auth.key.secret_bytes());
    RC_TRY(key);
    o.key = std::move(*key);
  }
  return o;
}

}  // namespace

Result<std::unique_ptr<RingTransport>> open_transport(const config::LocalConfig& local,
                                                      RoundCallback on_events,
                                                      std::span<std::byte> log_memory) {
  auto options = options_of(local);
  if (!options.ok()) {
    log_line(options.error().message());
    return options.error();
  }
  options->on_events = std::move(on_events);
  options->log_memory = log_memory;
  auto member = MembershipNode::start(*options);
  if (!member.ok()) {
    log_line("node " + std::to_string(options->me) +
             " cannot join the ring: " + member.error().message());
    return member.error();
  }
  return std::unique_ptr<RingTransport>(std::move(*member));
}

}  // namespace ringcast::runtime
