// RingDriver: binds one member's RingState to a fabric::Endpoint and its
// links. The same code runs over the simulator and over verbs: it uses only
// fabric.hpp.
//
// Set-up, for one member per process:
//   auto driver = RingDriver::create(endpoint, config);     // allocates regions
//   ConnectInfo mine = driver->connect_info(incarnation);   // advertise them
//   ... connect to every other member with the backend, getting links ...
//   driver->start(membership, links);                        // links[i] -> members[i]
//   loop: driver->progress(); drain next_delivery() and release_through_seq();
//         submit() whenever; sleep until next_deadline_ns() or a completion
//         (the runtime's ProgressThread does the waiting).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "base/status_snapshot.hpp"
#include "fabric/fabric.hpp"
#include "ring/ring_config.hpp"
#include "ring/ring_state.hpp"

namespace ringcast::ring {

class RingDriver {
 public:
  static Result<std::unique_ptr<RingDriver>> create(fabric::Endpoint& endpoint,
                                                    const RingConfig& config);

  // What every peer must learn at connection set-up, in ConnectInfo region
  // order: [kLogRegion] the receive log, [kMailboxRegion] the token mailbox.
  std::array<fabric::RemoteRegion, 2> local_regions() const noexcept;
  fabric::ConnectInfo connect_info(std::uint32_t incarnation) const noexcept;

  // links[i] is the link to membership.members[i] (null at my_index). Checks
  // that each link leads to that member and that its regions have the sizes
  // this config needs (Errc::invalid_argument / Errc::protocol otherwise).
  Status start(RingMembership membership, std::span<fabric::Link* const> links);

  Status submit(const OutgoingMessage& message);
  // One round: polls completions, feeds them to the state machine, lets it
  // act, posts the chains it asks for. True when any of that did something.
  bool progress();
  std::optional<Delivery> next_delivery() noexcept;
  Status release_through_seq(std::uint64_t seq);
  std::optional<std::uint64_t> next_zero_copy_done() noexcept;
  // In the endpoint's clock: 0 means at once, kNever means only on an event.
  std::uint64_t next_deadline_ns() const noexcept;

  // Where the member stands and its counters; its one ring (ring id and
  // members empty before start()).
  StatusSnapshot status() const;
  // The send queue and buffer; all zero before start().
  SendPathSnapshot send_path() const noexcept;

  bool started() const noexcept { return state_ != nullptr; }
  RingState& state() noexcept { return *state_; }
  const RingState& state() const noexcept { return *state_; }
  fabric::Endpoint& endpoint() noexcept { return *endpoint_; }
  const RingConfig& config() const noexcept { return config_; }
  const fabric::MemoryRegion& log_region() const noexcept { return *log_; }

 private:
  RingDriver(fabric::Endpoint& endpoint, const RingConfig& config) noexcept
      : endpoint_(&endpoint), config_(config) {}
  Status check_link(const RingMembership& m, std::size_t i, const fabric::Link* link) const;
  bool post_chains();

  fabric::Endpoint* endpoint_;
  RingConfig config_;
  std::unique_ptr<fabric::MemoryRegion> log_;
  std::unique_ptr<fabric::MemoryRegion> mailbox_;
  std::unique_ptr<fabric::MemoryRegion> send_buffer_;
  std::unique_ptr<fabric::MemoryRegion> staging_;
  std::vector<fabric::Link*> links_;
  std::unique_ptr<RingState> state_;
  std::array<fabric::Completion, 64> completions_{};
};

}  // namespace ringcast::ring
