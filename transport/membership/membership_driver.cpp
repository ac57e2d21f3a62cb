#include "membership/membership_driver.hpp"

#include <algorithm>
#include <string>

namespace ringcast::membership {
namespace {

std::string ring_text(RingId ring) {
  return std::to_string(ring.representative) + "/" + std::to_string(ring.epoch);
}

}  // namespace

Result<std::unique_ptr<MembershipDriver>> MembershipDriver::create(
    fabric::Endpoint& endpoint, const ring::RingConfig& ring_config, const MembershipConfig& config,
    std::span<std::byte> log_memory) {
  RC_TRY(validate(config, ring_config));
  if (std::find(config.nodes.begin(), config.nodes.end(), endpoint.node()) == config.nodes.end()) {
    return make_error(Errc::invalid_argument, "MembershipDriver::create",
                      "this node is not in the cluster's node list");
  }
  std::unique_ptr<MembershipDriver> d(new MembershipDriver(endpoint, ring_config, config));
  struct Want {
    std::unique_ptr<fabric::MemoryRegion>* into;
    std::size_t bytes;
    fabric::Access access;
  };
  const Want wants[] = {
      {&d->log_, ring_config.log_bytes, fabric::Access::remote_write},
      {&d->mailbox_, ring::mailbox_bytes(ring_config.mailbox_slots), fabric::Access::remote_write},
      {&d->send_buffer_, ring_config.send_buffer_bytes, fabric::Access::local_only},
      {&d->staging_, ring::staging_bytes(ring_config), fabric::Access::local_only},
      {&d->control_staging_, config.nodes.size() * ring::kControlSlotBytes,
       fabric::Access::local_only},
  };
  if (!log_memory.empty() && log_memory.size() != ring_config.log_bytes) {
    return make_error(Errc::invalid_argument, "MembershipDriver::create",
                      "the given receive log is not log_bytes long");
  }
  for (const Want& w : wants) {
    // The caller's memory for the log (a daemon's, shared read-only with its
    // clients); everything else the endpoint's own.
    auto region = w.into == &d->log_ && !log_memory.empty()
                      ? endpoint.register_memory(log_memory, w.access)
                      : endpoint.allocate(w.bytes, w.access);
    RC_TRY(region);
    *w.into = std::move(*region);
  }
  return d;
}

fabric::ConnectInfo MembershipDriver::connect_info(std::uint32_t incarnation) const noexcept {
  fabric::ConnectInfo info;
  info.node = endpoint_->node();
  info.incarnation = incarnation;
  info.region_count = 2;
  info.regions[ring::kLogRegion] = log_->remote();
  info.regions[ring::kMailboxRegion] = mailbox_->remote();
  return info;
}

Status MembershipDriver::check_link(std::size_t u, const fabric::Link* link) const {
  const std::string who = "node " + std::to_string(config_.nodes[u]);
  if (link->peer() != config_.nodes[u]) {
    return make_error(Errc::invalid_argument, "MembershipDriver::start",
                      "the link to " + who + " leads elsewhere");
  }
  if (link->send_capacity() < ring_config_.max_messages_per_visit + 1) {
    return make_error(Errc::invalid_argument, "MembershipDriver::start",
                      "the send queue of the link to " + who + " cannot take a visit's chain");
  }
  auto regions = link->peer_regions();
  if (regions.size() < 2 || regions[ring::kLogRegion].length != ring_config_.log_bytes ||
      regions[ring::kMailboxRegion].length < ring::mailbox_bytes(ring_config_.mailbox_slots)) {
    return make_error(Errc::protocol, "MembershipDriver::start",
                      who + " advertised regions that do not match this ring's config");
  }
  return {};
}

Status MembershipDriver::start(std::span<fabric::Link* const> links, std::uint64_t epoch_floor) {
  return start_with(links, false, epoch_floor);
}

Status MembershipDriver::start_joining(std::span<fabric::Link* const> links,
                                       std::uint64_t epoch_floor) {
  return start_with(links, true, epoch_floor);
}

Status MembershipDriver::add_link(std::size_t u, fabric::Link* link) {
  if (!membership_ || u >= links_.size() || link == nullptr ||
      config_.nodes[u] == endpoint_->node()) {
    return make_error(Errc::invalid_argument, "MembershipDriver::add_link", "no such peer");
  }
  if (has(membership_->live_links(), u)) {
    return make_error(Errc::invalid_argument, "MembershipDriver::add_link",
                      "the link to node " + std::to_string(config_.nodes[u]) + " is still up");
  }
  RC_TRY(check_link(u, link));
  links_[u] = link;
  membership_->on_link_up(u, endpoint_->now_ns());
  return {};
}

Status MembershipDriver::start_with(std::span<fabric::Link* const> links, bool joining,
                                    std::uint64_t epoch_floor) {
  if (membership_)
    return make_error(Errc::invalid_argument, "MembershipDriver::start", "already started");
  if (links.size() != config_.nodes.size()) {
    return make_error(Errc::invalid_argument, "MembershipDriver::start",
                      "one link slot per node of the cluster is needed");
  }
  NodeMask members = 0;
  for (std::size_t u = 0; u < links.size(); ++u) {
    if (config_.nodes[u] == endpoint_->node()) {
      if (links[u] != nullptr) {
        return make_error(Errc::invalid_argument, "MembershipDriver::start", "a link to myself");
      }
      members |= bit(u);
    } else if (links[u] != nullptr) {
      RC_TRY(check_link(u, links[u]));
      members |= bit(u);
    }
  }
  links_.assign(links.begin(), links.end());
  MemberMemory memory{{log_.get(), mailbox_.get(), send_buffer_.get(), staging_.get()},
                      control_staging_.get()};
  auto membership = std::make_unique<Membership>(ring_config_, config_, endpoint_->node(), memory);
  membership->keep_epochs_with(epoch_keeper_);
  if (!joining) {
    membership->start(members, endpoint_->now_ns(), epoch_floor);
  } else if (!membership->start_joining(members, epoch_floor, endpoint_->now_ns())) {
    return make_error(Errc::system, "MembershipDriver::start_joining",
                      "the first ring's epoch could not be kept (see the log)");
  }
  membership_ = std::move(membership);
  return {};
}

Status MembershipDriver::submit(const ring::OutgoingMessage& message) {
  if (!membership_) return make_error(Errc::invalid_argument, "submit", "not started");
  return membership_->submit(message);
}

bool MembershipDriver::post_chains() {
  bool posted = false;
  for (std::size_t u = 0; u < links_.size(); ++u) {
    for (auto chain = membership_->pending_chain(u); !chain.empty();
         chain = membership_->pending_chain(u)) {
      if (links_[u] == nullptr) {
        membership_->on_link_failed(u, endpoint_->now_ns());
        break;
      }
      Status s = links_[u]->post(chain);
      if (s.ok()) {
        membership_->chain_posted(u);
        posted = true;
        continue;
      }
      // try_again: the link's send queue drains, this chain stays first.
      if (s.error().code != Errc::try_again) membership_->on_link_failed(u, endpoint_->now_ns());
      break;
    }
  }
  return posted;
}

void MembershipDriver::cut_links() {
  while (auto u = membership_->next_disconnect()) {
    if (links_[*u] != nullptr && disconnect_) disconnect_(*links_[*u]);
    links_[*u] = nullptr;  // never posted to again
  }
}

bool MembershipDriver::progress() {
  if (!membership_) return false;
  const std::size_t n = endpoint_->poll(completions_);
  const std::uint64_t now = endpoint_->now_ns();
  for (std::size_t i = 0; i < n; ++i) {
    membership_->on_completion(completions_[i], now);
    cut_links();
  }
  if (n > 0) log_wrong_links(now);
  bool acted = membership_->tick(now);
  cut_links();
  report_repairs(now);
  bool posted = post_chains();
  if (posted) {  // a full outbox may have kept a visit or a message back
    acted = membership_->tick(now) || acted;
    posted = post_chains() || posted;
  }
  return n > 0 || acted || posted;
}

// A peer can make these at will, so they are logged rate-limited; the
// counters (StatusSnapshot::writes_wrong_link) have every one.
void MembershipDriver::log_wrong_links(std::uint64_t now_ns) {
  const std::uint64_t refused = membership_->writes_wrong_link();
  if (refused == wrong_link_logged_) return;
  const std::uint64_t fresh = refused - wrong_link_logged_;
  wrong_link_logged_ = refused;
  wrong_link_log_.log(LogLevel::warning, "wrong link",
                      "refused " + std::to_string(fresh) +
                          " write(s) that came on the wrong link (a token not from the ring "
                          "predecessor, or a sender other than the link's peer); " +
                          std::to_string(refused) + " in all",
                      now_ns);
}

// Called every round: reads a counter per ring and builds text only for a line.
void MembershipDriver::report_repairs(std::uint64_t now_ns) {
  Membership& m = *membership_;
  while (const std::optional<StallNotice> stall = m.next_stall()) {
    const std::string what = "delivery stopped at seq " + std::to_string(stall->seq) + " of ring " +
                             ring_text(stall->ring) + " (" + ring::record_fault_name(stall->fault) +
                             ")";
    repair_log_.log(
        LogLevel::warning, "stall",
        what + (stall->running ? ": asking the members that hold it to write it again"
                               : " as that ring ended: the next ring recovers its records only "
                                 "from copies that check"),
        now_ns);
  }
  if (m.counters().unrepaired_gathers != unrepaired_seen_) {
    unrepaired_seen_ = m.counters().unrepaired_gathers;
    const ring::RingState& r = m.ring();
    repair_log_.log(LogLevel::warning, "unrepaired",
                    "no member wrote seq " + std::to_string(r.log().wanted().seq) + " of ring " +
                        ring_text(r.membership().ring) +
                        " again in time: forming a new ring to recover it",
                    now_ns);
  }
  if (m.phase() == Phase::left && !left_logged_) {
    left_logged_ = true;
    log_line(LogLevel::warning, "left the ring: " + m.left_reason());
  }
}

SendPathSnapshot MembershipDriver::send_path() const noexcept {
  return ring::send_path_of(membership_->ring().send_queue(), ring_config_.send_buffer_bytes);
}

}  // namespace ringcast::membership
