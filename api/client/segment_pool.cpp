#include "client/segment_pool.hpp"

#include <algorithm>
#include <bit>
#include <string>

#include "client/errors.hpp"
#include "client/session.hpp"
#include "zcb/segment_regions.hpp"

namespace ringcast::client {

namespace {

constexpr std::size_t kLargestClassBytes = std::size_t{1} << 20;

// As the node's own pool: classes up to 1 MiB in 2 MiB slabs, larger buffers
// (up to the largest message) a region each; nothing registered up front.
zcb::PoolConfig config_for(const Node& node, std::size_t segment_bytes) {
  zcb::PoolConfig c;
  c.max_buffer_bytes = std::min(std::bit_ceil(std::max<std::size_t>(node.max_message_bytes(), 64)),
                                kLargestClassBytes);
  c.max_alloc_bytes = std::max<std::size_t>(node.max_fragmented_bytes(), c.max_buffer_bytes);
  c.max_reserved_bytes = std::max(segment_bytes / c.slab_bytes, std::size_t{1}) * c.slab_bytes;
  c.limit_hint = "the client's zcb segment (system.client_zcb_segment_bytes)";
  c.initial_slabs = 0;
  return c;
}

}  // namespace

cpg::Result<std::unique_ptr<SegmentPool>> SegmentPool::create(
    std::shared_ptr<Node> node, std::span<std::byte> memory, std::shared_ptr<const void> keep_alive,
    std::function<void()> on_done) {
  runtime::RingTransport* transport = &node->transport();
  auto regions = zcb::SegmentRegions::create(
      memory, [transport](std::span<std::byte> m) { return transport->register_memory(m); },
      std::move(keep_alive), node->attached_budget());
  auto pool = zcb::ZeroCopyPool::create(regions->allocator(), config_for(*node, memory.size()));
  if (!pool) return to_status(pool.error());
  std::shared_ptr<zcb::ZeroCopyPool> shared = std::move(*pool);
  auto ref = node->attach_pool(shared, std::move(on_done));
  if (!ref) return ref.status();
  return std::unique_ptr<SegmentPool>(new SegmentPool(std::move(node), memory, shared, *ref));
}

SegmentPool::SegmentPool(std::shared_ptr<Node> node, std::span<std::byte> memory,
                         std::shared_ptr<zcb::ZeroCopyPool> pool, PoolRef ref)
    : node_(std::move(node)), memory_(memory), pool_(std::move(pool)), ref_(ref) {}

// Buffers with sends in flight are freed once the NIC read them (the pool
// defers); the node keeps the pool until then.
SegmentPool::~SegmentPool() {
  for (const auto& [offset, capacity] : live_)
    (void)pool_->free(at(offset));
  live_.clear();
  pool_.reset();
  node_->detach_pool(ref_);
}

cpg::Result<SegmentPool::Buffer> SegmentPool::alloc(std::size_t bytes) {
  if (bytes > node_->max_fragmented_bytes())
    return cpg::Status(CS_ERR_TOO_BIG, "above totem.max_fragmented_message_bytes");
  auto b = pool_->alloc(bytes);
  if (!b) {
    if (b.error().code == Errc::try_again ||
        (b.error().code == Errc::system && b.error().sys_errno == ENOMEM))
      return cpg::Status(CS_ERR_NO_MEMORY, b.error().message());
    return to_status(b.error());
  }
  const auto offset = static_cast<std::uint64_t>(static_cast<std::byte*>(*b) - memory_.data());
  const auto capacity = pool_->capacity(*b);
  RC_ASSERT(capacity.ok() && offset < memory_.size());
  live_.emplace(offset, *capacity);
  return Buffer{offset, *capacity};
}

cpg::Status SegmentPool::check_live(std::uint64_t offset, std::uint64_t length) const {
  auto it = live_.find(offset);
  if (it == live_.end())
    return cpg::Status(CS_ERR_INVALID_PARAM,
                       "offset " + std::to_string(offset) + " is not a buffer of this client");
  if (length > it->second)
    return cpg::Status(CS_ERR_INVALID_PARAM, std::to_string(length) + " bytes in a buffer of " +
                                                 std::to_string(it->second));
  return {};
}

cpg::Result<std::uint64_t> SegmentPool::free(std::uint64_t offset) {
  if (cpg::Status s = check_live(offset, 0); !s.ok()) return s;
  if (ringcast::Status s = pool_->free(at(offset)); !s.ok()) return to_status(s);
  const std::uint64_t capacity = live_.at(offset);
  live_.erase(offset);
  return capacity;
}

cpg::Result<bool> SegmentPool::send(Session& session, Guarantee guarantee, std::uint64_t offset,
                                    std::uint64_t length) {
  if (cpg::Status s = check_live(offset, length); !s.ok()) return s;
  if (cpg::Status s = session.send_zero_copy(ref_, guarantee, at(offset), length); !s.ok())
    return s;
  return !node_->zcb_copies(length);
}

bool SegmentPool::in_flight(std::uint64_t offset) const {
  return offset < memory_.size() && pool_->in_flight(at(offset));
}

}  // namespace ringcast::client
