// The per-buffer calls: alloc, free, segment, sends. Each takes mutex_ for a
// lookup and a few stores; errors are built after it is released.
#include "zcb/zero_copy_pool.hpp"

#include <algorithm>

#include "zcb/size_class.hpp"

namespace ringcast::zcb {
namespace {

Error not_live(const char* call, const char* what) {
  return make_error(Errc::invalid_argument, call, what);
}

constexpr const char* kNotLive = "not the start of a live zero-copy buffer";

}  // namespace

Result<void*> ZeroCopyPool::alloc(std::size_t size_bytes) {
  if (size_bytes > max_alloc_bytes(config_))
    return make_error(Errc::too_big, "ZeroCopyPool::alloc",
                      std::to_string(size_bytes) + " bytes, largest buffer " +
                          std::to_string(max_alloc_bytes(config_)));
  if (size_bytes > config_.max_buffer_bytes) return alloc_large(size_bytes);
  const std::uint32_t size_class = size_class_for(size_bytes);
  {
    std::lock_guard lock(mutex_);
    if (void* buffer = take_locked(size_class)) return buffer;
  }
  return grow_and_take(size_class);
}

Status ZeroCopyPool::free(void* buffer) {
  const char* refusal = nullptr;
  std::unique_ptr<fabric::MemoryRegion> dead;  // deregistered once mutex_ is released
  {
    std::lock_guard lock(mutex_);
    const std::optional<ChunkRef> ref = locate(buffer);
    const ChunkState state = ref ? slabs_[ref->slab].state(ref->chunk) : ChunkState::free;
    if (state == ChunkState::live) {
      --counters_.buffers_live;
      Slab& slab = slabs_[ref->slab];
      if (slab.sends(ref->chunk) == 0) {
        dead = release_locked(*ref);
        return {};
      }
      // The NIC may still read it: the memory waits for the last end_send.
      slab.mark_freed_in_flight(ref->chunk);
      ++counters_.buffers_deferred;
      ++counters_.deferred_frees;
      return {};
    }
    ++counters_.invalid_frees;
    refusal = state == ChunkState::freed_in_flight ? "already freed (its sends are in flight)"
              : ref ? "not a live buffer (never handed out, or freed)"
                    : kNotLive;
  }
  return not_live("ZeroCopyPool::free", refusal);
}

Result<fabric::Segment> ZeroCopyPool::segment(const void* buffer, std::size_t length_bytes) const {
  std::unique_lock lock(mutex_);
  const std::optional<ChunkRef> ref = locate_live(buffer);
  if (!ref) {
    lock.unlock();
    return not_live("ZeroCopyPool::segment", kNotLive);
  }
  const Slab& slab = slabs_[ref->slab];
  const std::size_t capacity_bytes = slab.capacity_bytes();
  if (length_bytes > capacity_bytes) {
    lock.unlock();
    return make_error(Errc::invalid_argument, "ZeroCopyPool::segment",
                      std::to_string(length_bytes) + " bytes exceed the buffer's " +
                          std::to_string(capacity_bytes));
  }
  RC_ASSERT(slab.region().contains(slab.data_of(ref->chunk), length_bytes));
  return fabric::Segment{&slab.region(), slab.offset_of(ref->chunk),
                         static_cast<std::uint32_t>(length_bytes)};
}

Result<std::size_t> ZeroCopyPool::capacity(const void* buffer) const {
  std::unique_lock lock(mutex_);
  if (const std::optional<ChunkRef> ref = locate_live(buffer))
    return slabs_[ref->slab].capacity_bytes();
  lock.unlock();
  return not_live("ZeroCopyPool::capacity", kNotLive);
}

Result<std::uint64_t> ZeroCopyPool::begin_send(const void* buffer) {
  std::unique_lock lock(mutex_);
  const std::optional<ChunkRef> ref = locate_live(buffer);
  if (!ref) {
    lock.unlock();
    return not_live("ZeroCopyPool::begin_send", kNotLive);
  }
  const std::optional<std::uint64_t> token = tokens_.begin(*ref);
  if (!token) {
    lock.unlock();
    return make_error(Errc::try_again, "ZeroCopyPool::begin_send",
                      std::to_string(config_.max_sends_in_flight) + " sends already in flight");
  }
  slabs_[ref->slab].add_send(ref->chunk);
  ++counters_.sends_in_flight;
  return *token;
}

Status ZeroCopyPool::end_send(std::uint64_t token) {
  std::unique_ptr<fabric::MemoryRegion> dead;  // deregistered once mutex_ is released
  std::unique_lock lock(mutex_);
  const std::optional<ChunkRef> ref = tokens_.end(token);
  if (!ref) {
    lock.unlock();
    return make_error(Errc::invalid_argument, "ZeroCopyPool::end_send", "token not in flight");
  }
  Slab& slab = slabs_[ref->slab];
  slab.remove_send(ref->chunk);
  --counters_.sends_in_flight;
  if (slab.sends(ref->chunk) == 0 && slab.state(ref->chunk) == ChunkState::freed_in_flight) {
    --counters_.buffers_deferred;
    dead = release_locked(*ref);
  }
  return {};
}

bool ZeroCopyPool::in_flight(const void* buffer) const {
  std::lock_guard lock(mutex_);
  const std::optional<ChunkRef> ref = locate(buffer);
  return ref && slabs_[ref->slab].sends(ref->chunk) > 0;
}

PoolCounters ZeroCopyPool::counters() const {
  std::lock_guard lock(mutex_);
  RC_ASSERT(counters_.sends_in_flight == tokens_.in_use());
  return counters_;
}

// The slab whose range holds the address, then the chunk that starts there.
std::optional<ChunkRef> ZeroCopyPool::locate(const void* buffer) const noexcept {
  const auto addr = reinterpret_cast<std::uintptr_t>(buffer);
  auto after = std::upper_bound(
      by_address_.begin(), by_address_.end(), addr,
      [this](std::uintptr_t a, std::uint32_t id) { return a < slabs_[id].base(); });
  if (after == by_address_.begin()) return std::nullopt;
  const std::uint32_t id = *(after - 1);
  const std::optional<std::uint32_t> chunk = slabs_[id].chunk_at(addr);
  if (!chunk) return std::nullopt;
  return ChunkRef{id, *chunk};
}

std::optional<ChunkRef> ZeroCopyPool::locate_live(const void* buffer) const noexcept {
  std::optional<ChunkRef> ref = locate(buffer);
  if (ref && slabs_[ref->slab].state(ref->chunk) != ChunkState::live) return std::nullopt;
  return ref;
}

// A free chunk of the class from a slab that has one (or from a spare slab
// given the class now); nullptr when only growth can help.
void* ZeroCopyPool::take_locked(std::uint32_t size_class) {
  std::vector<std::uint32_t>& candidates = available_[size_class];
  if (candidates.empty() && !adopt_spare_locked(size_class)) return nullptr;
  const std::uint32_t id = candidates.back();
  Slab& slab = slabs_[id];
  const std::uint32_t chunk = slab.take();
  if (!slab.has_free()) make_unavailable_locked(id);
  ++counters_.buffers_live;
  counters_.bytes_live += slab.capacity_bytes();
  return slab.data_of(chunk);
}

std::unique_ptr<fabric::MemoryRegion> ZeroCopyPool::release_locked(ChunkRef ref) noexcept {
  Slab& slab = slabs_[ref.slab];
  if (slab.size_class() == kLargeClass) return release_large_locked(ref.slab);
  const bool was_full = !slab.has_free();
  slab.release(ref.chunk);
  counters_.bytes_live -= slab.capacity_bytes();
  if (was_full) make_available_locked(ref.slab);
  return nullptr;
}

}  // namespace ringcast::zcb
