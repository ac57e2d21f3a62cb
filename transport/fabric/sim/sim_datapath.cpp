// SimWorld's data path: posting a chain, landing writes, ACKs.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "fabric/sim/sim_world.hpp"

namespace ringcast::fabric::sim {
namespace {

Error bad_write(const SimLink& l, const char* what) {
  return make_error(
      Errc::invalid_argument, "sim post",
      "write n" + std::to_string(l.node()) + ">n" + std::to_string(l.peer()) + ": " + what);
}

struct ImmText {
  char text[24] = "";
};

ImmText imm_text(const PendingWrite& w) {
  ImmText t;
  if (w.with_imm) std::snprintf(t.text, sizeof t.text, " imm=%u", w.imm);
  return t;
}

}  // namespace

Status SimWorld::post(SimLink& l, std::span<const WriteOp> chain) {
  if (l.owner_dead_) return make_error(Errc::closed, "sim post", "endpoint crashed");
  if (l.failed_) return make_error(Errc::link_failed, "sim post");
  if (chain.size() > config_.send_queue_depth - l.outstanding_) {
    return make_error(Errc::try_again, "sim post");
  }
  // All or nothing: the whole chain is checked before any of it is queued.
  for (const WriteOp& op : chain)
    RC_TRY(check_write(l, op));
  for (const WriteOp& op : chain)
    enqueue(l, op);
  return {};
}

Status SimWorld::check_write(const SimLink& l, const WriteOp& op) const {
  if (op.segment_count > kMaxSegments) return bad_write(l, "too many segments");
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < op.segment_count; ++i) {
    const Segment& s = op.segments[i];
    if (s.region == nullptr) return bad_write(l, "segment without a region");
    // What a NIC checks: the key, and the bytes it covers. A region object
    // that wraps a registration (same address, size and key) is that
    // registration (zcb::SegmentRegions hands such out).
    const RegionTable::Entry* e = regions_->by_lkey(s.region->lkey());
    if (e == nullptr || e->region->data() != s.region->data() ||
        e->region->size() != s.region->size() || e->endpoint_uid != l.owner_->uid()) {
      return bad_write(l, "source region not registered with this endpoint");
    }
    if (s.offset > s.region->size() || s.length > s.region->size() - s.offset) {
      return bad_write(l, "segment outside its region");
    }
    total += s.length;
  }
  if (op.remote_region >= l.region_count_) return bad_write(l, "no such remote region");
  if (!l.regions_[op.remote_region].contains(op.remote_offset, total)) {
    return bad_write(l, "outside the remote region");
  }
  return {};
}

void SimWorld::enqueue(SimLink& l, const WriteOp& op) {
  const std::uint32_t i = pending_.acquire();
  PendingWrite& w = pending_[i];
  const RemoteRegion& remote = l.regions_[op.remote_region];
  w.wr_id = op.wr_id;
  w.post_ns = now_ns_;
  w.remote_addr = remote.addr + op.remote_offset;
  w.rkey = remote.rkey;
  w.imm = op.imm;
  w.with_imm = op.with_imm;
  w.signaled = op.signaled;
  w.landed = false;
  w.source_count = op.segment_count;
  w.length = 0;
  for (std::size_t k = 0; k < op.segment_count; ++k) {
    const Segment& s = op.segments[k];
    w.sources[k] = {s.region->lkey(), s.length, s.offset};
    w.length += s.length;
  }
  w.next = kNoIndex;
  if (l.tail_ != kNoIndex) {
    pending_[l.tail_].next = i;
  } else {
    l.head_ = i;
  }
  l.tail_ = i;
  if (l.next_land_ == kNoIndex) l.next_land_ = i;
  ++l.outstanding_;
  ++stats_.writes_posted;
  ++l.owner_->posted_.writes_posted;
  l.owner_->posted_.bytes_posted += w.length;
  if (l.owner_->holding_posts_) {
    l.owner_->held_.push_back({l.id_, i});
    return;
  }
  launch(l, i, now_ns_);
}

// Times a queued write: its land event and, on a doomed link, its detection.
void SimWorld::launch(SimLink& l, std::uint32_t i, std::uint64_t post_ns) {
  PendingWrite& w = pending_[i];
  w.post_ns = post_ns;
  const std::uint64_t land_ns = std::max(land_time_ns(l, w.length, post_ns), l.last_land_ns_);
  l.last_land_ns_ = land_ns;
  schedule_event(land_ns, EventKind::land, l.id_, i);
  if (l.doomed_ && !config_.idle_link_detection) {
    arm_detect(l, std::max(l.doomed_at_ns_, post_ns) + config_.link_timeout_ns);
  }
  mix(0xa0 ^ (static_cast<std::uint64_t>(l.id_) << 8));
  mix(land_ns ^ (static_cast<std::uint64_t>(w.length) << 40));
  if (tracing()) {
    trace("n%u>n%u post wr=%llu len=%u%s%s land@%llu", l.node(), l.peer(),
          static_cast<unsigned long long>(w.wr_id), w.length, imm_text(w).text,
          w.signaled ? " signaled" : "", static_cast<unsigned long long>(land_ns));
  }
}

std::uint64_t SimWorld::land_time_ns(SimLink& l, std::uint32_t bytes, std::uint64_t post_ns) {
  SimEndpoint& ep = *l.owner_;
  const std::uint64_t start = std::max(post_ns, ep.tx_free_ns_);
  const std::uint64_t bw = ep.bandwidth_bytes_per_us_;
  const std::uint64_t serialize_ns =
      config_.wr_cost_ns + (bw == 0 ? 0 : (std::uint64_t{bytes} * 1000 + bw - 1) / bw);
  ep.tx_free_ns_ = start + serialize_ns;
  std::uint64_t wire_ns = config_.base_latency_ns + l.extra_delay_ns_;
  if (config_.jitter_ns > 0) wire_ns += rng_.below(config_.jitter_ns + 1);
  if (config_.spike_one_in > 0 && rng_.one_in(config_.spike_one_in)) {
    wire_ns += rng_.below(config_.spike_ns + 1);
  }
  return start + serialize_ns + wire_ns;
}

void SimWorld::hold_posts(NodeId node) {
  SimEndpoint* ep = endpoint(node);
  RC_ASSERT(ep != nullptr && !ep->holding_posts_ && ep->held_.empty());
  ep->holding_posts_ = true;
}

void SimWorld::release_posts(NodeId node, std::uint64_t at_ns) {
  SimEndpoint* ep = endpoint(node);
  RC_ASSERT(ep != nullptr && ep->holding_posts_ && at_ns >= now_ns_);
  ep->holding_posts_ = false;
  for (const SimEndpoint::HeldWrite& h : ep->held_)
    launch(link(h.link), h.write, at_ns);
  ep->held_.clear();
}

void SimWorld::on_land(SimLink& l, std::uint32_t write) {
  if (l.failed_) return;  // its queue was flushed: nothing of it is on the wire any more
  // Land events fire in post order (landing times of a link never go down),
  // so the event's write is always the link's oldest unlanded one.
  const std::uint32_t i = l.next_land_;
  RC_ASSERT(i != kNoIndex && i == write);
  PendingWrite& w = pending_[i];
  l.next_land_ = w.next;
  const SimLink& responder = link(l.partner_);
  if (l.land_budget_ == 0 || responder.failed_ || !l.target_->alive()) {
    ++stats_.writes_lost;
    if (tracing()) {
      trace("n%u>n%u lost wr=%llu len=%u", l.node(), l.peer(),
            static_cast<unsigned long long>(w.wr_id), w.length);
    }
    return;
  }
  if (l.land_budget_ != SimLink::kUnlimited) --l.land_budget_;
  if (target_region(l, w) == nullptr) return refuse(l, i, WcStatus::remote_access_error);
  if (!sources_readable(l, w)) return refuse(l, i, WcStatus::local_protection_error);
  copy_sources(w, reinterpret_cast<std::byte*>(w.remote_addr));  // NOLINT: the rkey checked it
  if (land_hook_) {
    land_hook_(l.node(), l.peer(),
               {reinterpret_cast<std::byte*>(w.remote_addr), w.length},  // NOLINT
               w.with_imm, w.imm);
  }
  w.landed = true;
  ++stats_.writes_landed;
  stats_.bytes_landed += w.length;
  if (tracing()) {
    trace("n%u>n%u land wr=%llu len=%u%s", l.node(), l.peer(),
          static_cast<unsigned long long>(w.wr_id), w.length, imm_text(w).text);
  }
  if (w.with_imm) {
    Completion c;
    c.type = CompletionType::received_imm;
    c.peer = l.node();
    c.imm = w.imm;
    c.byte_len = w.length;
    deliver(*l.target_, c);
    if (l.duplicate_next_) {
      l.duplicate_next_ = false;
      copy_sources(w, reinterpret_cast<std::byte*>(w.remote_addr));  // NOLINT: as above
      if (tracing())
        trace("n%u>n%u land again wr=%llu", l.node(), l.peer(),
              static_cast<unsigned long long>(w.wr_id));
      deliver(*l.target_, c);
    }
  }
  if (!l.acks_cut_) schedule_event(ack_time_ns(l), EventKind::ack, l.id_, i);
}

std::uint64_t SimWorld::ack_time_ns(SimLink& l) {
  // The ACK travels the reverse direction, so it carries that direction's
  // extra delay; ACKs of one link arrive in order like everything else.
  const std::uint64_t reverse_ns = link(l.partner_).extra_delay_ns_;
  l.last_ack_ns_ = std::max(now_ns_ + config_.ack_delay_ns + reverse_ns, l.last_ack_ns_);
  return l.last_ack_ns_;
}

const RegionTable::Entry* SimWorld::target_region(const SimLink& l, const PendingWrite& w) const {
  const RegionTable::Entry* e = regions_->by_rkey(w.rkey);
  if (e == nullptr || e->endpoint_uid != l.target_->uid()) return nullptr;
  const MemoryRegion& r = *e->region;
  if (r.access() != Access::remote_write) return nullptr;
  const auto base = reinterpret_cast<std::uint64_t>(r.data());
  if (w.remote_addr < base) return nullptr;
  const std::uint64_t offset = w.remote_addr - base;
  if (offset > r.size() || w.length > r.size() - offset) return nullptr;
  return e;
}

bool SimWorld::sources_readable(const SimLink& l, const PendingWrite& w) const {
  if (w.snapshot) return true;
  for (std::size_t k = 0; k < w.source_count; ++k) {
    const SourceSlice& s = w.sources[k];
    const RegionTable::Entry* e = regions_->by_lkey(s.lkey);
    if (e == nullptr || e->endpoint_uid != l.owner_->uid()) return false;
  }
  return true;
}

void SimWorld::copy_sources(const PendingWrite& w, std::byte* to) const {
  if (w.snapshot) {
    std::memmove(to, w.snapshot.get(), w.length);
    return;
  }
  for (std::size_t k = 0; k < w.source_count; ++k) {
    const SourceSlice& s = w.sources[k];
    const MemoryRegion& r = *regions_->by_lkey(s.lkey)->region;
    // memmove: a test may register the same bytes at two endpoints.
    std::memmove(to, r.data() + s.offset, s.length);
    to += s.length;
  }
}

void SimWorld::on_ack(SimLink& l, std::uint32_t write) {
  if (l.failed_ || l.owner_dead_ || l.acks_cut_) return;  // lost, or flushed already
  RC_ASSERT(l.head_ == write && pending_[write].landed);
  const PendingWrite& w = pending_[write];
  Completion c;
  c.type = CompletionType::write_done;
  c.peer = l.peer();
  c.wr_id = w.wr_id;
  const bool signaled = w.signaled;
  if (tracing()) {
    trace("n%u>n%u ack wr=%llu%s", l.node(), l.peer(), static_cast<unsigned long long>(w.wr_id),
          signaled ? " signaled" : "");
  }
  pop_head(l);
  if (signaled) deliver(*l.owner_, c);
}

void SimWorld::pop_head(SimLink& l) {
  const std::uint32_t i = l.head_;
  RC_ASSERT(i != kNoIndex && l.outstanding_ > 0);
  l.head_ = pending_[i].next;
  if (l.head_ == kNoIndex) l.tail_ = kNoIndex;
  if (l.next_land_ == i) l.next_land_ = l.head_;
  --l.outstanding_;
  pending_.release(i);
}

void SimWorld::deliver(SimEndpoint& ep, const Completion& c) {
  if (!ep.alive()) return;
  if (!ep.cq_.push(c)) {
    ++stats_.cq_overflows;
    trace("n%u COMPLETION QUEUE OVERFLOW (depth %zu): completion dropped", ep.node(),
          ep.cq_.bound());
    RC_ASSERT(!config_.abort_on_cq_overflow);
    return;
  }
  ++stats_.completions;
}

}  // namespace ringcast::fabric::sim
