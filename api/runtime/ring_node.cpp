#include "runtime/ring_node.hpp"

#include <string>

#include "fabric/verbs/endpoint.hpp"
#include "ring/token.hpp"
#include "runtime/driver_events.hpp"
#include "runtime/mesh_connect.hpp"

namespace ringcast::runtime {

struct RingNode::Parts {
  fabric::NodeId me = 0;
  ring::RingMembership membership;
  std::unique_ptr<fabric::verbs::VerbsEndpoint> endpoint;
  std::unique_ptr<fabric::verbs::Listener> listener;
  std::vector<std::unique_ptr<fabric::Link>> links;
  std::unique_ptr<ring::RingDriver> driver;
};

namespace {

Result<RingNode::Parts> build(const RingNodeOptions& o) {
  RingNode::Parts p;
  p.me = o.me;
  const std::size_t my_index = index_of(o.members, o.me);
  const MemberAddress& mine = o.members[my_index];
  const std::string where = describe(mine);
  fabric::verbs::EndpointOptions eo;
  eo.node = o.me;
  eo.device = o.device;
  eo.local_ip = mine.ip;
  eo.gid_index = o.gid_index;
  auto ep = fabric::verbs::VerbsEndpoint::open(eo);
  if (!ep.ok()) {
    Error e = ep.error();
    e.detail = "opening the endpoint of " + where + ": " + e.detail;
    return e;
  }
  p.endpoint = std::move(*ep);
  auto driver = ring::RingDriver::create(*p.endpoint, o.ring);
  RC_TRY(driver);
  p.driver = std::move(*driver);

  LinkPlan plan;
  plan.members = o.members;
  plan.my_index = my_index;
  plan.ours = p.driver->connect_info(o.incarnation);
  plan.ring = o.ring;
  plan.key = o.key;
  auto listener = listen_for_links(*p.endpoint, plan);
  RC_TRY(listener);
  p.listener = std::move(*listener);

  auto links =
      connect_mesh(*p.endpoint, *p.listener, plan, p.endpoint->now_ns() + o.connect_timeout_ns);
  RC_TRY(links);
  p.links = std::move(*links);

  p.membership.ring = ring::RingId{o.members.front().node, 1};
  for (const auto& m : o.members)
    p.membership.members.push_back(m.node);
  p.membership.my_index = my_index;
  std::vector<fabric::Link*> raw;
  for (auto& l : p.links)
    raw.push_back(l.get());
  RC_TRY(p.driver->start(p.membership, raw));
  return p;
}

}  // namespace

Status validate_members(const std::vector<MemberAddress>& members, fabric::NodeId me,
                        const char* what) {
  const auto bad = [what](const std::string& why) {
    return make_error(Errc::invalid_argument, what, why);
  };
  if (members.empty()) return bad("no members");
  if (members.size() > ring::kMaxMembers)
    return bad(std::to_string(members.size()) + " members, at most " +
               std::to_string(ring::kMaxMembers));
  bool found = false;
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (members[i].node == 0) return bad("node id 0 at position " + std::to_string(i));
    if (i > 0 && members[i - 1].node >= members[i].node)
      return bad("members not sorted by node id, or a duplicate: node " +
                 std::to_string(members[i].node));
    if (members[i].ip.empty())
      return bad("node " + std::to_string(members[i].node) + " has no address");
    found = found || members[i].node == me;
  }
  if (!found) return bad("my node id " + std::to_string(me) + " is not in the member list");
  return {};
}

Status validate(const RingNodeOptions& o) {
  RC_TRY(validate_members(o.members, o.me, "RingNodeOptions"));
  if (o.on_round && o.on_events) {
    return make_error(Errc::invalid_argument, "RingNodeOptions",
                      "both on_round and on_events are set");
  }
  return ring::validate(o.ring);
}

Result<std::unique_ptr<RingNode>> RingNode::start(const RingNodeOptions& options) {
  RC_TRY(validate(options));
  auto parts = build(options);
  RC_TRY(parts);
  auto node = std::make_unique<RingNode>(std::move(*parts));
  fabric::verbs::VerbsEndpoint* ep = node->endpoint_.get();
  WaitSource wait{[ep] { return ep->prepare_wait(); }, ep->wait_fd()};
  ProgressThread::RoundCallback on_round = options.on_round;
  if (options.on_events) {
    // The adapter lives in the callback, which lives as long as the thread.
    auto events = std::make_shared<StaticRingEvents>(*node->driver_, node->membership_);
    on_round = [events, fn = options.on_events](ring::RingDriver&) { fn(*events); };
  }
  node->progress_ = std::make_unique<ProgressThread>(*node->driver_, std::move(wait),
                                                     options.progress, std::move(on_round));
  RC_TRY(node->progress_->start());
  return node;
}

RingNode::RingNode(Parts parts)
    : me_(parts.me),
      membership_(std::move(parts.membership)),
      endpoint_(std::move(parts.endpoint)),
      listener_(std::move(parts.listener)),
      links_(std::move(parts.links)),
      driver_(std::move(parts.driver)) {}

RingNode::~RingNode() {
  stop();
}

void RingNode::stop() {
  if (progress_) progress_->stop();
}

// The round runs here rather than on the progress thread: when this member
// keeps the token the message goes out, and comes back to us, at once.
Status RingNode::submit(const ring::OutgoingMessage& message) {
  return progress_->with_driver_round([&](ring::RingDriver& d) { return d.submit(message); });
}

Status RingNode::submit(const OutgoingTransportMessage& message) {
  return submit(to_ring(message));
}

std::optional<ring::Delivery> RingNode::next_delivery() {
  return with_driver([](ring::RingDriver& d) { return d.next_delivery(); });
}

Status RingNode::release_through(std::uint64_t seq) {
  return progress_->with_driver_if_due(
      [seq](ring::RingDriver& d) { return d.release_through_seq(seq); });
}

// Registration needs no lock in verbs (ibv_reg_mr is thread-safe), but the
// endpoint object is shared with the progress thread: take the driver lock.
Result<std::unique_ptr<fabric::MemoryRegion>> RingNode::allocate(std::size_t bytes) {
  return progress_->with_driver_quietly([bytes](ring::RingDriver& d) {
    return d.endpoint().allocate(bytes, fabric::Access::local_only);
  });
}

Result<std::unique_ptr<fabric::MemoryRegion>> RingNode::register_memory(
    std::span<std::byte> memory) {
  return progress_->with_driver_quietly([memory](ring::RingDriver& d) {
    return d.endpoint().register_memory(memory, fabric::Access::local_only);
  });
}

StatusSnapshot RingNode::status() {
  return progress_->with_driver_quietly([](ring::RingDriver& d) { return d.status(); });
}

SendPathSnapshot RingNode::send_path() {
  return progress_->with_driver_quietly([](ring::RingDriver& d) { return d.send_path(); });
}

std::vector<std::uint32_t> RingNode::linked_nodes() {
  std::vector<std::uint32_t> out;
  for (fabric::NodeId n : membership_.members)
    if (n != me_) out.push_back(n);
  return out;
}

}  // namespace ringcast::runtime
