#include "fabric/sim/sim_endpoint.hpp"

#include <cstring>
#include <new>
#include <string>

#include "fabric/sim/sim_world.hpp"

namespace ringcast::fabric::sim {
namespace {

constexpr std::align_val_t kRegionAlignment{64};

}  // namespace

void SimMemoryRegion::AlignedFree::operator()(std::byte* p) const noexcept {
  ::operator delete(p, kRegionAlignment);
}

SimMemoryRegion::SimMemoryRegion(std::shared_ptr<RegionTable> table, std::uint32_t endpoint_uid,
                                 std::span<std::byte> memory, Access access, OwnedBytes owned)
    : table_(std::move(table)), owned_(std::move(owned)) {
  data_ = memory.data();
  size_ = memory.size();
  access_ = access;
  index_ = table_->add(this, endpoint_uid);
  lkey_ = RegionTable::lkey_of(index_);
  rkey_ = access == Access::remote_write ? RegionTable::rkey_of(index_) : 0;
}

SimMemoryRegion::~SimMemoryRegion() {
  table_->remove(index_);
}

SimEndpoint::SimEndpoint(SimWorld& world, NodeId node, std::uint32_t uid, std::uint32_t incarnation,
                         std::size_t cq_depth)
    : world_(&world), node_(node), uid_(uid), incarnation_(incarnation), cq_(cq_depth) {}

Status SimEndpoint::check_usable(std::size_t bytes, Access access) const {
  const std::string what =
      "node " + std::to_string(node_) + ", " + std::to_string(bytes) + " bytes";
  if (!alive_) return make_error(Errc::closed, "sim register memory", what + ": endpoint crashed");
  if (bytes == 0) return make_error(Errc::invalid_argument, "sim register memory", what);
  if (access == Access::remote_write && bytes > UINT32_MAX) {
    return make_error(Errc::too_big, "sim register memory",
                      what + ": a remote region's length is 32 bits");
  }
  return {};
}

Result<std::unique_ptr<MemoryRegion>> SimEndpoint::allocate(std::size_t bytes, Access access) {
  RC_TRY(check_usable(bytes, access));
  SimMemoryRegion::OwnedBytes owned(
      static_cast<std::byte*>(::operator new(bytes, kRegionAlignment)));
  if (world_->config().poison_allocations) {
    for (std::size_t i = 0; i < bytes; i += 8) {
      const std::uint64_t word = world_->rng().next();
      std::memcpy(owned.get() + i, &word, std::min<std::size_t>(8, bytes - i));
    }
  } else {
    std::memset(owned.get(), 0, bytes);
  }
  std::span<std::byte> memory{owned.get(), bytes};
  std::unique_ptr<MemoryRegion> region =
      std::make_unique<SimMemoryRegion>(world_->regions_, uid_, memory, access, std::move(owned));
  world_->trace("n%u alloc %zu bytes %s lkey=%u", node_, bytes,
                access == Access::remote_write ? "remote_write" : "local_only", region->lkey());
  return region;
}

Result<std::unique_ptr<MemoryRegion>> SimEndpoint::register_memory(std::span<std::byte> memory,
                                                                   Access access) {
  RC_TRY(check_usable(memory.size(), access));
  std::unique_ptr<MemoryRegion> region = std::make_unique<SimMemoryRegion>(
      world_->regions_, uid_, memory, access, SimMemoryRegion::OwnedBytes{});
  world_->trace("n%u register %zu bytes %s lkey=%u", node_, memory.size(),
                access == Access::remote_write ? "remote_write" : "local_only", region->lkey());
  return region;
}

std::size_t SimEndpoint::poll(std::span<Completion> out) {
  if (!alive_) return 0;
  return cq_.pop(out);
}

std::uint64_t SimEndpoint::now_ns() const noexcept {
  return world_->now_ns();
}

SimLink::SimLink(SimWorld& world, std::uint32_t id, SimEndpoint& owner, SimEndpoint& target,
                 const ConnectInfo& peer_info) noexcept
    : world_(&world),
      id_(id),
      owner_(&owner),
      target_(&target),
      peer_node_(target.node()),
      regions_(peer_info.regions),
      region_count_(peer_info.region_count) {}

Status SimLink::post(std::span<const WriteOp> chain) {
  return world_->post(*this, chain);
}

std::uint32_t SimLink::send_capacity() const noexcept {
  if (failed()) return 0;
  return world_->config().send_queue_depth - outstanding_;
}

std::uint32_t SimLink::max_inline_bytes() const noexcept {
  return world_->config().max_inline_bytes;
}

NodeId SimLink::node() const noexcept {
  return owner_->node();
}

}  // namespace ringcast::fabric::sim
