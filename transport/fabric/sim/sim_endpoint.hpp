// One simulated member's attachment to the fabric, and its memory regions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "fabric/fabric.hpp"
#include "fabric/sim/completion_ring.hpp"
#include "fabric/sim/region_table.hpp"
#include "fabric/sim/sim_config.hpp"

namespace ringcast::fabric::sim {

class SimWorld;

// Registered memory of a simulated endpoint. remote() gives the real address
// of the bytes, as verbs does, so a peer's write is a memcpy to that address
// once the key and bounds check out.
class SimMemoryRegion final : public MemoryRegion {
 public:
  struct AlignedFree {
    void operator()(std::byte* p) const noexcept;
  };
  using OwnedBytes = std::unique_ptr<std::byte[], AlignedFree>;

  SimMemoryRegion(std::shared_ptr<RegionTable> table, std::uint32_t endpoint_uid,
                  std::span<std::byte> memory, Access access, OwnedBytes owned);
  ~SimMemoryRegion() override;

  std::uint32_t rkey() const noexcept { return rkey_; }

 private:
  std::shared_ptr<RegionTable> table_;
  std::uint32_t index_ = 0;
  OwnedBytes owned_;  // null for register_memory(): the caller owns the bytes
};

class SimEndpoint final : public Endpoint {
 public:
  // Made by SimWorld::add_endpoint / restart only.
  SimEndpoint(SimWorld& world, NodeId node, std::uint32_t uid, std::uint32_t incarnation,
              std::size_t cq_depth);

  NodeId node() const noexcept override { return node_; }
  // Regions are zeroed (or poisoned, see SimConfig), 64-byte aligned.
  // Errc::closed on a crashed endpoint, invalid_argument for 0 bytes, too_big
  // for a remote_write region over 4 GiB (RemoteRegion's length is 32 bits).
  Result<std::unique_ptr<MemoryRegion>> allocate(std::size_t bytes, Access access) override;
  // The caller keeps `memory` alive until the region is destroyed.
  Result<std::unique_ptr<MemoryRegion>> register_memory(std::span<std::byte> memory,
                                                        Access access) override;
  // A crashed endpoint returns nothing.
  std::size_t poll(std::span<Completion> out) override;
  std::uint64_t now_ns() const noexcept override;

  // --- Simulator extras.
  bool alive() const noexcept { return alive_; }
  // 0 for the first start of a node, +1 per restart.
  std::uint32_t incarnation() const noexcept { return incarnation_; }
  // Unique per endpoint of a world (a restarted node gets a new one).
  std::uint32_t uid() const noexcept { return uid_; }
  std::size_t pending_completions() const noexcept { return cq_.size(); }
  // When the egress port has sent every write timed so far.
  std::uint64_t egress_free_ns() const noexcept { return tx_free_ns_; }
  // The writes this incarnation posted (SimWorld::node_stats sums a node's
  // incarnations).
  const SimNodeStats& posted() const noexcept { return posted_; }

 private:
  friend class SimWorld;
  Status check_usable(std::size_t bytes, Access access) const;

  SimWorld* world_;
  NodeId node_;
  std::uint32_t uid_;
  std::uint32_t incarnation_;
  bool alive_ = true;
  CompletionRing cq_;
  std::uint64_t tx_free_ns_ = 0;              // when the egress port is free again
  std::uint64_t bandwidth_bytes_per_us_ = 0;  // egress; 0: unlimited
  std::vector<std::uint32_t> links_;          // ids of the link ends this endpoint owns
  SimNodeStats posted_;
  // Between SimWorld::hold_posts and release_posts: writes queued, not yet
  // timed (link id, pending write index), in post order.
  bool holding_posts_ = false;
  struct HeldWrite {
    std::uint32_t link, write;
  };
  std::vector<HeldWrite> held_;
};

}  // namespace ringcast::fabric::sim
