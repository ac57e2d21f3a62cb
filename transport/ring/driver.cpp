#include "ring/driver.hpp"

#include <string>

namespace ringcast::ring {

Result<std::unique_ptr<RingDriver>> RingDriver::create(fabric::Endpoint& endpoint,
                                                       const RingConfig& config) {
  RC_TRY(validate(config));
  std::unique_ptr<RingDriver> d(new RingDriver(endpoint, config));
  auto log = endpoint.allocate(config.log_bytes, fabric::Access::remote_write);
  RC_TRY(log);
  auto mailbox =
      endpoint.allocate(mailbox_bytes(config.mailbox_slots), fabric::Access::remote_write);
  RC_TRY(mailbox);
  auto send_buffer = endpoint.allocate(config.send_buffer_bytes, fabric::Access::local_only);
  RC_TRY(send_buffer);
  auto staging = endpoint.allocate(staging_bytes(config), fabric::Access::local_only);
  RC_TRY(staging);
  d->log_ = std::move(*log);
  d->mailbox_ = std::move(*mailbox);
  d->send_buffer_ = std::move(*send_buffer);
  d->staging_ = std::move(*staging);
  return d;
}

std::array<fabric::RemoteRegion, 2> RingDriver::local_regions() const noexcept {
  std::array<fabric::RemoteRegion, 2> regions;
  regions[kLogRegion] = log_->remote();
  regions[kMailboxRegion] = mailbox_->remote();
  return regions;
}

fabric::ConnectInfo RingDriver::connect_info(std::uint32_t incarnation) const noexcept {
  fabric::ConnectInfo info;
  info.node = endpoint_->node();
  info.incarnation = incarnation;
  const auto regions = local_regions();
  info.region_count = static_cast<std::uint8_t>(regions.size());
  for (std::size_t i = 0; i < regions.size(); ++i)
    info.regions[i] = regions[i];
  return info;
}

Status RingDriver::check_link(const RingMembership& m, std::size_t i,
                              const fabric::Link* link) const {
  const std::string who =
      "member " + std::to_string(i) + " (node " + std::to_string(m.members[i]) + ")";
  if (i == m.my_index) {
    if (link != nullptr)
      return make_error(Errc::invalid_argument, "RingDriver::start", "a link to myself");
    return {};
  }
  if (link == nullptr)
    return make_error(Errc::invalid_argument, "RingDriver::start", "no link to " + who);
  if (link->peer() != m.members[i]) {
    return make_error(Errc::invalid_argument, "RingDriver::start",
                      "the link to " + who + " leads elsewhere");
  }
  // A visit's chain (its records' writes and the token) is posted whole.
  if (link->send_capacity() < config_.max_messages_per_visit + 1) {
    return make_error(Errc::invalid_argument, "RingDriver::start",
                      "the send queue of the link to " + who +
                          " cannot take a visit's chain: max_messages_per_visit + 1 = " +
                          std::to_string(config_.max_messages_per_visit + 1) + " writes");
  }
  auto regions = link->peer_regions();
  if (regions.size() < 2 || regions[kLogRegion].length != config_.log_bytes ||
      regions[kMailboxRegion].length < mailbox_bytes(config_.mailbox_slots)) {
    return make_error(Errc::protocol, "RingDriver::start",
                      who + " advertised regions that do not match this ring's config");
  }
  return {};
}

Status RingDriver::start(RingMembership membership, std::span<fabric::Link* const> links) {
  if (state_) return make_error(Errc::invalid_argument, "RingDriver::start", "already started");
  if (membership.members.empty() || membership.size() > kMaxMembers ||
      membership.my_index >= membership.size() || links.size() != membership.size() ||
      membership.me() != endpoint_->node()) {
    return make_error(Errc::invalid_argument, "RingDriver::start",
                      "membership and links do not match this endpoint");
  }
  for (std::size_t i = 0; i < membership.size(); ++i)
    RC_TRY(check_link(membership, i, links[i]));
  links_.assign(links.begin(), links.end());
  LocalMemory memory{log_.get(), mailbox_.get(), send_buffer_.get(), staging_.get()};
  state_ = std::make_unique<RingState>(config_, std::move(membership), memory);
  state_->start(endpoint_->now_ns());
  return {};
}

Status RingDriver::submit(const OutgoingMessage& message) {
  if (!state_) return make_error(Errc::invalid_argument, "submit", "the ring is not started");
  return state_->submit(message);
}

bool RingDriver::post_chains() {
  bool posted = false;
  const std::size_t members = state_->membership().size();
  for (std::size_t d = 0; d < members; ++d) {
    for (auto chain = state_->pending_chain(d); !chain.empty(); chain = state_->pending_chain(d)) {
      RC_ASSERT(links_[d] != nullptr);  // chains go to other members, never to myself
      Status s = links_[d]->post(chain);
      if (s.ok()) {
        state_->chain_posted(d);
        posted = true;
        continue;
      }
      if (s.error().code != Errc::try_again) state_->on_link_failed(d, s.error());
      break;  // try_again: the link's send queue drains; this chain stays first
    }
  }
  return posted;
}

bool RingDriver::progress() {
  if (!state_) return false;
  const std::size_t n = endpoint_->poll(completions_);
  std::uint64_t now = endpoint_->now_ns();
  for (std::size_t i = 0; i < n; ++i)
    state_->on_completion(completions_[i], now);
  bool acted = state_->tick(now);
  // Alone, a ring cannot form another whose recovery would rewrite the record.
  if (state_->repair_exhausted() && !state_->failed()) state_->fail_unrepaired();
  bool posted = post_chains();
  if (posted && state_->holds_token()) {  // the outbox had been full: try once more now
    acted = state_->tick(now) || acted;
    posted = post_chains() || posted;
  }
  return n > 0 || acted || posted;
}

std::optional<Delivery> RingDriver::next_delivery() noexcept {
  if (!state_) return std::nullopt;
  return state_->next_delivery();
}

StatusSnapshot RingDriver::status() const {
  StatusSnapshot s;
  if (!started()) return s;
  const RingMembership& m = state_->membership();
  s.ring_representative = m.ring.representative;
  s.ring_seq = m.ring.epoch;
  s.members = m.members;
  s.tokens_received = state_->counters().tokens_received;
  s.tokens_passed = state_->counters().tokens_passed;
  s.tokens_dropped = state_->counters().tokens_dropped;
  s.records_delivered = state_->log().counters().records_delivered;
  s.records_dropped = state_->log().counters().records_dropped;
  s.record_stalls = state_->log().counters().stalls;
  s.records_repaired = state_->log().counters().records_repaired;
  s.records_relayed = state_->counters().records_relayed;
  s.relay_waits = state_->counters().relay_waits;
  return s;
}

SendPathSnapshot RingDriver::send_path() const noexcept {
  if (!started()) return {};
  return send_path_of(state_->send_queue(), config_.send_buffer_bytes);
}

Status RingDriver::release_through_seq(std::uint64_t seq) {
  if (!state_) return make_error(Errc::invalid_argument, "release_through_seq", "not started");
  return state_->release_through_seq(seq);
}

std::optional<std::uint64_t> RingDriver::next_zero_copy_done() noexcept {
  if (!state_) return std::nullopt;
  return state_->next_zero_copy_done();
}

std::uint64_t RingDriver::next_deadline_ns() const noexcept {
  return state_ ? state_->next_deadline_ns() : kNever;
}

}  // namespace ringcast::ring
