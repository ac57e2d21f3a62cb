// Buffers above the largest size class: each a region of its own, sized to
// whole 4 KiB pages, registered by alloc() and deregistered by the free that
// makes it idle (or the last end_send of a deferred free). A slab of a
// message-sized class would park that much pinned memory in one class.
//
// Such a buffer is a single-chunk slab (kLargeClass) in slabs_ and
// by_address_, so every lookup, send and free treats it as any other; its
// slot is reused by the next slab or large buffer.
#include <algorithm>
#include <string>

#include "zcb/size_class.hpp"
#include "zcb/zero_copy_pool.hpp"

namespace ringcast::zcb {

Result<void*> ZeroCopyPool::alloc_large(std::size_t size_bytes) {
  const std::size_t region_bytes =
      (size_bytes + kLargePageBytes - 1) / kLargePageBytes * kLargePageBytes;
  {
    std::unique_lock lock(mutex_);
    if (counters_.bytes_reserved + region_bytes > config_.max_reserved_bytes) {
      log_refusal_locked();
      lock.unlock();
      return limit_error(config_);
    }
    // The budget is taken before registering, outside the lock.
    counters_.bytes_reserved += region_bytes;
  }
  auto region = allocate_(region_bytes);  // slow: pins memory; mutex_ is free meanwhile
  const bool usable = region && (*region)->size() == region_bytes &&
                      reinterpret_cast<std::uintptr_t>((*region)->data()) % kBufferAlignment == 0;
  std::unique_lock lock(mutex_);
  if (!usable) {
    counters_.bytes_reserved -= region_bytes;
    lock.unlock();
    if (!region) return region.error();
    return make_error(Errc::invalid_argument, "Endpoint::allocate",
                      "zcb buffer not 64-byte aligned or of another size");
  }
  const std::uint32_t id = insert_slab_locked(std::move(*region));
  Slab& slab = slabs_[id];
  slab.assign_single(kLargeClass);
  const std::uint32_t chunk = slab.take();
  ++counters_.buffers_live;
  ++counters_.large_buffers;
  counters_.bytes_live += slab.capacity_bytes();
  return slab.data_of(chunk);
}

// No allocation: by_address_ shrinks and vacant_slabs_ has room for every slab.
std::unique_ptr<fabric::MemoryRegion> ZeroCopyPool::release_large_locked(
    std::uint32_t id) noexcept {
  Slab& slab = slabs_[id];
  slab.release(0);
  counters_.bytes_live -= slab.capacity_bytes();
  counters_.bytes_reserved -= slab.region().size();
  --counters_.large_buffers;
  const std::uintptr_t base = slab.base();
  auto at = std::lower_bound(
      by_address_.begin(), by_address_.end(), base,
      [this](std::uint32_t other, std::uintptr_t a) { return slabs_[other].base() < a; });
  RC_ASSERT(at != by_address_.end() && *at == id);
  by_address_.erase(at);
  RC_ASSERT(vacant_slabs_.size() < vacant_slabs_.capacity());
  vacant_slabs_.push_back(id);
  return slab.take_region();
}

}  // namespace ringcast::zcb
