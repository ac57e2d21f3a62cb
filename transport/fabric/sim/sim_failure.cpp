// SimWorld's error state and fault injection.
//
// Every way one end of a pair fails makes the other end fail too, so no end
// waits forever on a dead pair (except by design in strict RC mode, see
// SimConfig::idle_link_detection):
//   * a cut (crash, partition, one-way break) dooms both ends; each fails by
//     its own retry timer (detect event);
//   * a refused write fails the responder at once and the requester when
//     the NAK arrives; the requester's failure then closes the responder;
//   * a local error or disconnect() fails this end and sends peer_closed.
#include <algorithm>
#include <cstring>

#include "fabric/sim/sim_world.hpp"

namespace ringcast::fabric::sim {

void SimWorld::refuse(SimLink& l, std::uint32_t write, WcStatus status) {
  const PendingWrite& w = pending_[write];
  trace("n%u>n%u refused wr=%llu len=%u: %s", l.node(), l.peer(),
        static_cast<unsigned long long>(w.wr_id), w.length, wc_status_text(status));
  l.land_budget_ = 0;  // an RC QP stops at its first error: nothing after it lands
  // A remote access error moves the responder's QP to the error state at
  // once; a local protection error is the requester's own.
  if (status == WcStatus::remote_access_error)
    fail_end(link(l.partner_), WcStatus::flushed, kNoIndex);
  schedule_event(ack_time_ns(l), EventKind::nak, l.id_, write, status);
}

void SimWorld::on_nak(SimLink& l, std::uint32_t write, WcStatus status) {
  if (l.failed_) return;
  // A NAK travels like an ACK: lost on a cut link (the retry timer fails
  // the link instead). A local error needs no message.
  if (l.acks_cut_ && status != WcStatus::local_protection_error) return;
  fail_end(l, status, write);
  SimLink& peer = link(l.partner_);
  if (!peer.failed_) {
    schedule_event(now_ns_ + config_.base_latency_ns, EventKind::peer_closed, peer.id_);
  }
}

void SimWorld::on_detect(SimLink& l) {
  l.detect_armed_ = false;
  if (l.failed_ || l.owner_dead_) return;
  if (!config_.idle_link_detection) {
    // Strict RC: only a write that cannot complete runs the retry timer out,
    // timed from the later of the fault and that write's post.
    if (l.outstanding_ == 0) return;  // the next post re-arms
    const std::uint64_t due_ns =
        std::max(l.doomed_at_ns_, pending_[l.head_].post_ns) + config_.link_timeout_ns;
    if (due_ns > now_ns_) return arm_detect(l, due_ns);
  }
  fail_end(l, WcStatus::retry_exceeded, l.head_);
}

void SimWorld::fail_end(SimLink& l, WcStatus status, std::uint32_t culprit) {
  if (l.failed_) return;
  l.failed_ = true;
  ++stats_.link_failures;
  const bool report = !l.owner_dead_ && l.owner_->alive();
  if (report) {
    trace("n%u>n%u link failed: %s, %u writes outstanding", l.node(), l.peer(),
          wc_status_text(status), l.outstanding_);
  }
  bool unlanded = false;
  while (l.head_ != kNoIndex) {
    const std::uint32_t i = l.head_;
    const PendingWrite& w = pending_[i];
    unlanded = unlanded || i == l.next_land_;
    if (unlanded) ++stats_.writes_lost;
    const WcStatus s = i == culprit ? status : WcStatus::flushed;
    // Verbs reports every error, the culprit's even when it was unsignaled;
    // flushed writes that were not signaled are not worth a completion.
    if (report && (w.signaled || s != WcStatus::flushed)) {
      Completion c;
      c.type = CompletionType::write_failed;
      c.peer = l.peer();
      c.wr_id = w.wr_id;
      c.status = static_cast<int>(s);
      c.status_text = wc_status_text(s);
      deliver(*l.owner_, c);
    }
    pop_head(l);
  }
  RC_ASSERT(l.outstanding_ == 0 && l.next_land_ == kNoIndex && l.tail_ == kNoIndex);
  if (report) {
    Completion c;
    c.type = CompletionType::link_down;
    c.peer = l.peer();
    deliver(*l.owner_, c);
  }
}

void SimWorld::arm_detect(SimLink& l, std::uint64_t at_ns) {
  if (l.detect_armed_ || l.failed_ || l.owner_dead_) return;
  l.detect_armed_ = true;
  schedule_event(at_ns, EventKind::detect, l.id_);
}

void SimWorld::doom(SimLink& l) {
  if (l.doomed_ || l.failed_) return;
  l.doomed_ = true;
  l.doomed_at_ns_ = now_ns_;
  if (config_.idle_link_detection || l.outstanding_ > 0) {
    arm_detect(l, now_ns_ + config_.link_timeout_ns);
  }
}

namespace {

std::uint64_t count_from(PendingPool& pool, std::uint32_t i) {
  std::uint64_t n = 0;
  for (; i != kNoIndex; i = pool[i].next)
    ++n;
  return n;
}

}  // namespace

void SimWorld::cut_direction(SimLink& l) {
  // Writes already on the wire land as a random prefix; later ones never.
  const std::uint64_t on_wire = count_from(pending_, l.next_land_);
  const std::uint64_t survive = on_wire == 0 ? 0 : rng_.below(on_wire + 1);
  l.land_budget_ = std::min(l.land_budget_, survive);
  SimLink& reverse = link(l.partner_);
  reverse.acks_cut_ = true;  // the peer's ACKs travel this direction
  trace("n%u>n%u cut: %llu of %llu writes on the wire still land", l.node(), l.peer(),
        static_cast<unsigned long long>(survive), static_cast<unsigned long long>(on_wire));
  doom(l);
  doom(reverse);
}

void SimWorld::snapshot_in_flight(SimLink& l) {
  // The dying process's memory goes away with it; what its NIC had already
  // put on the wire was read before, so copy it now.
  const std::uint64_t on_wire = count_from(pending_, l.next_land_);
  std::uint64_t survive = on_wire == 0 ? 0 : rng_.below(on_wire + 1);
  std::uint64_t copied = 0;
  for (std::uint32_t i = l.next_land_; i != kNoIndex && copied < survive; i = pending_[i].next) {
    PendingWrite& w = pending_[i];
    if (!sources_readable(l, w)) break;  // a write of freed memory: the wire stops here
    auto bytes = std::make_unique<std::byte[]>(std::max<std::uint32_t>(w.length, 1));
    copy_sources(w, bytes.get());
    w.snapshot = std::move(bytes);
    ++copied;
  }
  l.land_budget_ = std::min(l.land_budget_, copied);
  trace("n%u>n%u crash: %llu of %llu writes on the wire still land", l.node(), l.peer(),
        static_cast<unsigned long long>(copied), static_cast<unsigned long long>(on_wire));
}

void SimWorld::crash(NodeId node) {
  SimEndpoint* ep = endpoint(node);
  RC_ASSERT(ep != nullptr);  // crashing a node that is not running is a harness bug
  trace("n%u CRASH", node);
  mix(0xdead0000ull ^ node);
  ep->alive_ = false;
  ep->cq_.clear();
  for (std::uint32_t id : ep->links_) {
    SimLink& l = link(id);
    if (!l.failed_) snapshot_in_flight(l);
    l.owner_dead_ = true;
    l.acks_cut_ = true;
    SimLink& peer = link(l.partner_);
    peer.land_budget_ = 0;  // nothing lands in a dead node's memory
    peer.acks_cut_ = true;  // and it acknowledges nothing
    doom(peer);
  }
}

SimEndpoint& SimWorld::restart(NodeId node) {
  RC_ASSERT(endpoint(node) == nullptr);  // only a crashed node restarts
  std::uint32_t incarnation = 0;
  bool known = false;
  for (const auto& ep : endpoints_) {
    if (ep->node() == node) {
      incarnation = std::max(incarnation, ep->incarnation());
      known = true;
    }
  }
  RC_ASSERT(known);
  return make_endpoint(node, incarnation + 1);
}

template <class Fn>
void SimWorld::for_links_between(NodeId from, NodeId to, Fn&& fn) {
  for (auto& l : links_) {
    if (l->node() == from && l->peer() == to) fn(*l);
  }
}

void SimWorld::partition(std::span<const NodeId> side_a, std::span<const NodeId> side_b) {
  trace("partition: %zu | %zu nodes", side_a.size(), side_b.size());
  mix(0xbbbb);
  for (NodeId a : side_a) {
    for (NodeId b : side_b) {
      if (a == b) continue;
      break_link_one_way(a, b);
      break_link_one_way(b, a);
    }
  }
}

void SimWorld::break_link_one_way(NodeId from, NodeId to) {
  trace("n%u>n%u break one way", from, to);
  mix((std::uint64_t{from} << 32) ^ to ^ 0xb0000000ull);
  if (!blocked(from, to)) blocked_.push_back({from, to});
  for_links_between(from, to, [this](SimLink& l) { cut_direction(l); });
}

void SimWorld::heal() {
  trace("heal");
  mix(0x4ea1);
  blocked_.clear();
}

void SimWorld::set_link_delay(NodeId from, NodeId to, std::uint64_t extra_ns) {
  trace("n%u>n%u extra delay %llu ns", from, to, static_cast<unsigned long long>(extra_ns));
  mix(extra_ns ^ (std::uint64_t{from} << 32) ^ to);
  auto it = std::find_if(delays_.begin(), delays_.end(),
                         [&](const Delay& d) { return d.from == from && d.to == to; });
  if (it != delays_.end()) {
    it->extra_ns = extra_ns;
  } else {
    delays_.push_back({from, to, extra_ns});
  }
  for_links_between(from, to, [extra_ns](SimLink& l) { l.extra_delay_ns_ = extra_ns; });
}

void SimWorld::duplicate_next_landing(NodeId from, NodeId to) {
  trace("n%u>n%u duplicate next landing", from, to);
  mix((std::uint64_t{from} << 32) ^ to ^ 0xD0B1Eull);
  for_links_between(from, to, [](SimLink& l) { l.duplicate_next_ = true; });
}

void SimWorld::set_node_bandwidth(NodeId node, std::uint64_t bytes_per_us) {
  trace("n%u bandwidth %llu bytes/us", node, static_cast<unsigned long long>(bytes_per_us));
  mix(bytes_per_us ^ (std::uint64_t{node} << 40));
  std::erase_if(bandwidths_, [node](const Bandwidth& b) { return b.node == node; });
  bandwidths_.push_back({node, bytes_per_us});
  if (SimEndpoint* ep = endpoint(node)) ep->bandwidth_bytes_per_us_ = bytes_per_us;
}

void SimWorld::disconnect(Link& link_end) {
  auto* l = dynamic_cast<SimLink*>(&link_end);
  RC_ASSERT(l != nullptr && l->world_ == this);
  if (l->failed_ || l->owner_dead_) return;
  trace("n%u>n%u disconnect", l->node(), l->peer());
  mix(0xd15c ^ l->id_);
  fail_end(*l, WcStatus::flushed, kNoIndex);
  SimLink& peer = link(l->partner_);
  if (!peer.failed_) {
    schedule_event(now_ns_ + config_.base_latency_ns, EventKind::peer_closed, peer.id_);
  }
}

}  // namespace ringcast::fabric::sim
