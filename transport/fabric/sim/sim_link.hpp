// One end of a simulated reliable connection: what a connected RC QP is to
// verbs. Made in pairs by SimWorld::connect and owned by the world.
//
// The end's send queue is a chain of PendingWrites in post order; three
// cursors walk it: head_ (oldest not yet acknowledged), next_land_ (oldest not
// yet landed) and tail_ (newest). Land and ACK events advance them in order,
// which is what makes the link FIFO.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "fabric/connect_info.hpp"
#include "fabric/fabric.hpp"
#include "fabric/sim/pending_write.hpp"

namespace ringcast::fabric::sim {

class SimWorld;
class SimEndpoint;

class SimLink final : public Link {
 public:
  // Made by SimWorld::connect only.
  SimLink(SimWorld& world, std::uint32_t id, SimEndpoint& owner, SimEndpoint& target,
          const ConnectInfo& peer_info) noexcept;

  NodeId peer() const noexcept override { return peer_node_; }
  std::span<const RemoteRegion> peer_regions() const noexcept override {
    return {regions_.data(), region_count_};
  }
  Status post(std::span<const WriteOp> chain) override;
  std::uint32_t send_capacity() const noexcept override;
  std::uint32_t max_inline_bytes() const noexcept override;
  // True once this end is in the error state (its failure was reported with
  // a link_down) or its own endpoint crashed.
  bool failed() const noexcept override { return failed_ || owner_dead_; }

  // --- Simulator extras, for tests and traces.
  std::uint32_t id() const noexcept { return id_; }
  NodeId node() const noexcept;  // the node this end belongs to
  SimEndpoint& owner() const noexcept { return *owner_; }
  // Writes posted and not yet acknowledged (or failed).
  std::uint32_t outstanding() const noexcept { return outstanding_; }
  // A fault cut this link: it will fail, and stays failed (RC links do not
  // recover; reconnecting makes a new link).
  bool doomed() const noexcept { return doomed_; }

 private:
  friend class SimWorld;
  static constexpr std::uint64_t kUnlimited = UINT64_MAX;

  SimWorld* world_;
  std::uint32_t id_;
  std::uint32_t partner_ = kNoIndex;  // the other end's id
  SimEndpoint* owner_;
  SimEndpoint* target_;
  NodeId peer_node_;
  std::array<RemoteRegion, kMaxConnectRegions> regions_{};
  std::uint8_t region_count_ = 0;

  bool failed_ = false;
  bool owner_dead_ = false;
  bool doomed_ = false;
  bool acks_cut_ = false;                   // ACKs of this end's writes are lost
  bool detect_armed_ = false;               // a detect event is scheduled
  std::uint64_t land_budget_ = kUnlimited;  // writes still allowed to land
  std::uint64_t doomed_at_ns_ = 0;

  std::uint32_t head_ = kNoIndex;
  std::uint32_t next_land_ = kNoIndex;
  std::uint32_t tail_ = kNoIndex;
  std::uint32_t outstanding_ = 0;

  std::uint64_t last_land_ns_ = 0;
  std::uint64_t last_ack_ns_ = 0;
  std::uint64_t extra_delay_ns_ = 0;  // set_link_delay(owner, peer)
  bool duplicate_next_ = false;       // duplicate_next_landing(owner, peer)
};

}  // namespace ringcast::fabric::sim
