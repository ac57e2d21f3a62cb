// MembershipDriver: binds one process's Membership (state machine and ring) to a
// fabric::Endpoint and its links. Like ring/RingDriver, it uses only
// fabric.hpp, so the same code runs over the simulator and over verbs.
//
//   auto driver = MembershipDriver::create(endpoint, ring_config, membership_config);
//   ConnectInfo mine = driver->connect_info(incarnation);   // log + mailbox
//   ... connect to the other nodes, getting links ...
//   driver->start(links);          // links[u] -> config.nodes[u] (null: none)
//   loop: driver->progress(); drain next_event() (messages and configuration
//         changes) and release_through(index); submit() whenever; sleep until
//         next_deadline_ns() or a completion.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/log.hpp"
#include "base/result.hpp"
#include "fabric/fabric.hpp"
#include "membership/membership.hpp"

namespace ringcast::membership {

class MembershipDriver {
 public:
  static Result<std::unique_ptr<MembershipDriver>> create(fabric::Endpoint& endpoint,
                                                          const ring::RingConfig& ring_config,
                                                          const MembershipConfig& config,
                                                          std::span<std::byte> log_memory = {});

  // ConnectInfo region order as RingDriver's: [kLogRegion] the receive log,
  // [kMailboxRegion] the mailbox (token slots, wake words, control slots).
  fabric::ConnectInfo connect_info(std::uint32_t incarnation) const noexcept;

  // links[u] leads to config.nodes[u], null for this node and for nodes not
  // reachable now; the first ring is this node and every node with a link.
  // epoch_floor: the rings after the first are named above it.
  Status start(std::span<fabric::Link* const> links, std::uint64_t epoch_floor = 0);
  // A process that starts later than the others (or restarts with a new
  // incarnation): it starts in a ring of its own with these links, and merge
  // detection brings it into the running ring.
  // epoch_floor: at or above every ring epoch this node used before
  // (membership::epoch_floor of its incarnation and what its keeper kept),
  // see Membership::start_joining. Errc::system when the keeper could not
  // keep the first epoch.
  Status start_joining(std::span<fabric::Link* const> links, std::uint64_t epoch_floor);
  // Before start: what makes the epochs this node names durable (see
  // membership::EpochKeeper). Every process of a node that may restart and
  // join needs one; without it a restart can reuse a ring id.
  void keep_epochs_with(EpochKeeper keeper) { epoch_keeper_ = std::move(keeper); }
  // A new link to node index u once its old one failed here (the peer
  // restarted, a partition healed): Errc::invalid_argument while the old one
  // is still up here.
  Status add_link(std::size_t u, fabric::Link* link);
  // How to cut a link (rdma_disconnect, SimWorld::disconnect): membership
  // cuts the links to the members a new ring leaves out (fencing, see
  // Membership::next_disconnect). Without it, links are only forgotten.
  void set_disconnect(std::function<void(fabric::Link&)> disconnect) {
    disconnect_ = std::move(disconnect);
  }

  Status submit(const ring::OutgoingMessage& message);
  // One round: completions in, time, chains out. True when it did something.
  bool progress();
  std::optional<MemberEvent> next_event() { return membership_->next_event(); }
  Status release_through(std::uint64_t index) { return membership_->release_through(index); }
  std::optional<std::uint64_t> next_zero_copy_done() noexcept {
    return membership_->next_zero_copy_done();
  }
  std::uint64_t next_deadline_ns() const noexcept {
    return membership_ ? membership_->next_deadline_ns() : ring::kNever;
  }

  // Where the member stands and its counters (every ring it was in).
  StatusSnapshot status() const { return membership_->status(); }
  // The send queue and buffer of the ring installed last.
  SendPathSnapshot send_path() const noexcept;
  // Bit u set: a live link to config.nodes[u].
  NodeMask live_links() const noexcept { return membership_->live_links(); }

  bool started() const noexcept { return membership_ != nullptr; }
  Membership& membership() noexcept { return *membership_; }
  const Membership& membership() const noexcept { return *membership_; }
  const fabric::MemoryRegion& log_region() const noexcept { return *log_; }
  const fabric::MemoryRegion& mailbox_region() const noexcept { return *mailbox_; }
  fabric::Endpoint& endpoint() noexcept { return *endpoint_; }

 private:
  MembershipDriver(fabric::Endpoint& endpoint, const ring::RingConfig& ring_config,
                   const MembershipConfig& config)
      : endpoint_(&endpoint), ring_config_(ring_config), config_(config) {}
  Status check_link(std::size_t u, const fabric::Link* link) const;
  Status start_with(std::span<fabric::Link* const> links, bool joining, std::uint64_t epoch_floor);
  bool post_chains();
  void log_wrong_links(std::uint64_t now_ns);
  void cut_links();
  void report_repairs(std::uint64_t now_ns);

  fabric::Endpoint* endpoint_;
  ring::RingConfig ring_config_;
  MembershipConfig config_;
  EpochKeeper epoch_keeper_;  // handed to the Membership at start
  std::unique_ptr<fabric::MemoryRegion> log_;
  std::unique_ptr<fabric::MemoryRegion> mailbox_;
  std::unique_ptr<fabric::MemoryRegion> send_buffer_;
  std::unique_ptr<fabric::MemoryRegion> staging_;
  std::unique_ptr<fabric::MemoryRegion> control_staging_;
  std::vector<fabric::Link*> links_;
  std::function<void(fabric::Link&)> disconnect_;
  std::unique_ptr<Membership> membership_;
  std::array<fabric::Completion, 64> completions_{};
  LogLimiter wrong_link_log_;
  std::uint64_t wrong_link_logged_ = 0;
  // A stalled log is never silent: a line when delivery stops at a record
  // that fails, when no member writes it again, and when this member leaves.
  LogLimiter repair_log_;
  std::uint64_t unrepaired_seen_ = 0;
  bool left_logged_ = false;
};

}  // namespace ringcast::membership
