// SimWorld: set-up, connections and the event loop.
#include "fabric/sim/sim_world.hpp"

#include <cstdarg>
#include <cstdio>
#include <string>

namespace ringcast::fabric::sim {

SimWorld::SimWorld(std::uint64_t seed, SimConfig config)
    : seed_(seed), config_(config), rng_(seed), regions_(std::make_shared<RegionTable>()) {
  RC_ASSERT(config_.send_queue_depth > 0);
  RC_ASSERT(config_.completion_queue_depth > 0);
  RC_ASSERT(config_.link_timeout_ns > 0);
  queue_.reserve(1024);
}

SimWorld::~SimWorld() = default;

SimEndpoint& SimWorld::make_endpoint(NodeId node, std::uint32_t incarnation) {
  RC_ASSERT(endpoint(node) == nullptr);  // one live endpoint per node
  const auto uid = static_cast<std::uint32_t>(endpoints_.size());
  endpoints_.push_back(
      std::make_unique<SimEndpoint>(*this, node, uid, incarnation, config_.completion_queue_depth));
  endpoints_.back()->bandwidth_bytes_per_us_ = config_.bandwidth_bytes_per_us;
  for (const Bandwidth& b : bandwidths_) {
    if (b.node == node) endpoints_.back()->bandwidth_bytes_per_us_ = b.bytes_per_us;
  }
  mix(0xe0);
  mix(node);
  trace("n%u start incarnation %u", node, incarnation);
  return *endpoints_.back();
}

SimEndpoint& SimWorld::add_endpoint(NodeId node) {
  return make_endpoint(node, 0);
}

SimEndpoint* SimWorld::endpoint(NodeId node) noexcept {
  for (auto& ep : endpoints_) {
    if (ep->node() == node && ep->alive()) return ep.get();
  }
  return nullptr;
}

SimNodeStats SimWorld::node_stats(NodeId node) const noexcept {
  SimNodeStats sum;
  for (const auto& ep : endpoints_) {
    if (ep->node() != node) continue;
    sum.writes_posted += ep->posted().writes_posted;
    sum.bytes_posted += ep->posted().bytes_posted;
  }
  return sum;
}

namespace {

// The verbs backend learns the peer from rdma_cm private data; the simulator
// sends its infos the same way so both reject the same malformed ones.
Result<ConnectInfo> through_the_wire(const SimEndpoint& ep, const ConnectInfo& info) {
  const ConnectInfoBytes bytes = encode(info);
  Result<ConnectInfo> decoded = decode_connect_info(bytes);
  if (!decoded.ok()) return decoded;
  if (decoded->node != ep.node()) {
    return make_error(Errc::protocol, "sim connect",
                      "connect info names node " + std::to_string(decoded->node) +
                          ", sent by node " + std::to_string(ep.node()));
  }
  return decoded;
}

}  // namespace

Result<LinkPair> SimWorld::connect(SimEndpoint& a, const ConnectInfo& a_info, SimEndpoint& b,
                                   const ConnectInfo& b_info) {
  const std::string what = "n" + std::to_string(a.node()) + " <-> n" + std::to_string(b.node());
  if (&a == &b) return make_error(Errc::invalid_argument, "sim connect", what + ": self");
  if (!a.alive() || !b.alive()) {
    return make_error(Errc::unreachable, "sim connect", what + ": endpoint crashed");
  }
  if (blocked(a.node(), b.node()) || blocked(b.node(), a.node())) {
    return make_error(Errc::unreachable, "sim connect", what + ": partitioned");
  }
  Result<ConnectInfo> from_a = through_the_wire(a, a_info);
  if (!from_a.ok()) return from_a.error();
  Result<ConnectInfo> from_b = through_the_wire(b, b_info);
  if (!from_b.ok()) return from_b.error();

  const auto id_a = static_cast<std::uint32_t>(links_.size());
  links_.push_back(std::make_unique<SimLink>(*this, id_a, a, b, *from_b));
  links_.push_back(std::make_unique<SimLink>(*this, id_a + 1, b, a, *from_a));
  SimLink& ab = *links_[id_a];
  SimLink& ba = *links_[id_a + 1];
  ab.partner_ = ba.id_;
  ba.partner_ = ab.id_;
  ab.extra_delay_ns_ = delay_for(a.node(), b.node());
  ba.extra_delay_ns_ = delay_for(b.node(), a.node());
  a.links_.push_back(ab.id_);
  b.links_.push_back(ba.id_);
  mix(0xc0);
  mix(id_a);
  trace("n%u>n%u connect links %u/%u", a.node(), b.node(), ab.id_, ba.id_);
  return LinkPair{&ab, &ba};
}

std::optional<std::uint64_t> SimWorld::next_event_ns() const noexcept {
  if (queue_.empty()) return std::nullopt;
  return queue_.top().time_ns;
}

bool SimWorld::step() {
  if (queue_.empty()) return false;
  const SimEvent e = queue_.pop();
  RC_ASSERT(e.time_ns >= now_ns_);
  now_ns_ = e.time_ns;
  ++stats_.events;
  mix(e.time_ns);
  mix((static_cast<std::uint64_t>(e.kind) << 32) | e.link);
  dispatch(e);
  return true;
}

void SimWorld::run_until(std::uint64_t t_ns) {
  RC_ASSERT(t_ns >= now_ns_);
  while (!queue_.empty() && queue_.top().time_ns <= t_ns)
    step();
  now_ns_ = t_ns;
}

void SimWorld::dispatch(const SimEvent& e) {
  switch (e.kind) {
    case EventKind::land:
      on_land(link(e.link), e.arg);
      return;
    case EventKind::ack:
      on_ack(link(e.link), e.arg);
      return;
    case EventKind::nak:
      on_nak(link(e.link), e.arg, static_cast<WcStatus>(e.status));
      return;
    case EventKind::detect:
      on_detect(link(e.link));
      return;
    case EventKind::peer_closed: {
      SimLink& l = link(e.link);
      if (!l.failed_) trace("n%u>n%u peer closed", l.node(), l.peer());
      fail_end(l, WcStatus::flushed, kNoIndex);
      return;
    }
    case EventKind::action: {
      trace("action %u", e.arg);
      // Moved out first: the action may schedule more actions.
      auto action = std::move(actions_[e.arg]);
      action(*this);
      return;
    }
  }
  RC_ASSERT(false && "unknown event kind");
}

void SimWorld::schedule_event(std::uint64_t at_ns, EventKind kind, std::uint32_t link_id,
                              std::uint32_t arg, WcStatus status) {
  RC_ASSERT(at_ns >= now_ns_);
  SimEvent e;
  e.time_ns = at_ns;
  e.link = link_id;
  e.arg = arg;
  e.kind = kind;
  e.status = static_cast<std::uint8_t>(status);
  queue_.push(e);
}

void SimWorld::schedule(std::uint64_t at_ns, std::function<void(SimWorld&)> action) {
  RC_ASSERT(at_ns >= now_ns_);
  RC_ASSERT(actions_.size() < UINT32_MAX);
  actions_.push_back(std::move(action));
  schedule_event(at_ns, EventKind::action, 0, static_cast<std::uint32_t>(actions_.size() - 1));
}

void SimWorld::mix(std::uint64_t value) noexcept {
  // FNV-1a over 64-bit words, with a final avalanche per word so that close
  // values (consecutive times) spread.
  hash_ ^= value * 0x9e3779b97f4a7c15ull;
  hash_ *= 0x100000001b3ull;
  hash_ ^= hash_ >> 29;
}

bool SimWorld::blocked(NodeId from, NodeId to) const noexcept {
  for (const Blocked& b : blocked_) {
    if (b.from == from && b.to == to) return true;
  }
  return false;
}

std::uint64_t SimWorld::delay_for(NodeId from, NodeId to) const noexcept {
  for (const Delay& d : delays_) {
    if (d.from == from && d.to == to) return d.extra_ns;
  }
  return 0;
}

void SimWorld::trace(const char* format, ...) const {
  if (!trace_) return;
  char line[320];
  int at = std::snprintf(line, sizeof line, "%12llu ",
                         static_cast<unsigned long long>(now_ns_));  // NOLINT: printf
  std::va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(line + at, sizeof line - static_cast<std::size_t>(at), format, args);
  va_end(args);
  const std::size_t len = std::min(sizeof line - 1, static_cast<std::size_t>(at + std::max(n, 0)));
  trace_(std::string_view(line, len));
}

}  // namespace ringcast::fabric::sim
