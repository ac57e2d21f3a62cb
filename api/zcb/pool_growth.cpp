// Slabs and size classes: creation, growth by whole slabs, and moving an idle
// slab to another class at the byte bound. Rare paths: they may allocate.
#include <algorithm>
#include <string>

#include "base/log.hpp"
#include "zcb/size_class.hpp"
#include "zcb/zero_copy_pool.hpp"

namespace ringcast::zcb {

Result<std::unique_ptr<ZeroCopyPool>> ZeroCopyPool::create(AllocateRegion allocate,
                                                           const PoolConfig& config) {
  RC_TRY(validate(config));
  auto pool = std::make_unique<ZeroCopyPool>(Key{}, std::move(allocate), config);
  for (std::uint32_t i = 0; i < config.initial_slabs; ++i) {
    auto region = pool->register_slab_region();
    if (!region) return region.error();
    std::lock_guard lock(pool->mutex_);
    pool->counters_.bytes_reserved += config.slab_bytes;
    pool->add_slab_locked(std::move(*region));
  }
  return pool;
}

Result<std::unique_ptr<ZeroCopyPool>> ZeroCopyPool::create(fabric::Endpoint& endpoint,
                                                           const PoolConfig& config) {
  return create(
      [&endpoint](std::size_t bytes) {
        return endpoint.allocate(bytes, fabric::Access::local_only);
      },
      config);
}

ZeroCopyPool::ZeroCopyPool(Key, AllocateRegion allocate, const PoolConfig& config)
    : allocate_(std::move(allocate)),
      config_(config),
      available_(size_class_count(config.max_buffer_bytes)),
      tokens_(config.max_sends_in_flight) {
  reserve_slab_lists_locked(std::min(kInitialSlabCapacity, max_slabs(config)));
}

ZeroCopyPool::~ZeroCopyPool() = default;

// Every per-slab list gets room for `slabs`, so that alloc() and free() never
// allocate: only growth does, doubling the room when the slabs fill it.
void ZeroCopyPool::reserve_slab_lists_locked(std::uint32_t slabs) {
  slabs_.reserve(slabs);
  by_address_.reserve(slabs);
  spare_slabs_.reserve(slabs);
  available_index_.reserve(slabs);
  vacant_slabs_.reserve(slabs);
  for (auto& slabs_of_class : available_)
    slabs_of_class.reserve(slabs);
}

Error ZeroCopyPool::limit_error(const PoolConfig& config) {
  return make_error(Errc::try_again, "ZeroCopyPool::alloc",
                    "at the limit of " + std::to_string(config.max_reserved_bytes) +
                        " registered bytes (" + config.limit_hint + ") with no free buffer");
}

// At the bound: one line, then one more at 10^3, 10^6, ... refusals, so a
// program that retries in a loop says so without flooding the log.
void ZeroCopyPool::log_refusal_locked() {
  const std::uint64_t refusals = ++counters_.limit_refusals;
  if (refusals != next_refusal_log_) return;
  next_refusal_log_ = refusals * 1000;
  log_line(LogLevel::warning, "zero-copy buffers: allocation refused (" + std::to_string(refusals) +
                                  " so far): the pool is at its limit of " +
                                  std::to_string(config_.max_reserved_bytes) +
                                  " registered bytes with no free buffer of that size; raise " +
                                  config_.limit_hint + " or free buffers");
}

// Called when the class has no free chunk and no spare slab is left.
Result<void*> ZeroCopyPool::grow_and_take(std::uint32_t size_class) {
  std::lock_guard grow(grow_mutex_);  // one registration at a time
  {
    std::unique_lock lock(mutex_);
    // Meanwhile another thread may have registered a slab or freed a buffer.
    if (void* buffer = take_locked(size_class)) return buffer;
    if (counters_.bytes_reserved + config_.slab_bytes > config_.max_reserved_bytes) {
      if (reassign_idle_locked(size_class)) return take_locked(size_class);
      log_refusal_locked();
      lock.unlock();
      return limit_error(config_);
    }
    // The budget is taken before registering, so that a large buffer
    // registered meanwhile cannot take it too.
    counters_.bytes_reserved += config_.slab_bytes;
  }
  auto region = register_slab_region();  // slow: pins memory; mutex_ is free meanwhile
  std::lock_guard lock(mutex_);
  if (!region) {
    counters_.bytes_reserved -= config_.slab_bytes;
    if (reassign_idle_locked(size_class)) return take_locked(size_class);
    return region.error();
  }
  add_slab_locked(std::move(*region));
  void* buffer = take_locked(size_class);  // the new slab, unless a buffer was freed meanwhile
  RC_ASSERT(buffer != nullptr);
  return buffer;
}

Result<std::unique_ptr<fabric::MemoryRegion>> ZeroCopyPool::register_slab_region() {
  auto region = allocate_(config_.slab_bytes);
  if (!region) return region.error();
  // Buffer alignment rests on the slab's; fabric.hpp does not promise it.
  if (reinterpret_cast<std::uintptr_t>((*region)->data()) % kBufferAlignment != 0 ||
      (*region)->size() != config_.slab_bytes)
    return make_error(Errc::invalid_argument, "Endpoint::allocate",
                      "zcb slab not 64-byte aligned or of another size");
  return region;
}

// Its bytes are in bytes_reserved already (the budget taken before registering).
void ZeroCopyPool::add_slab_locked(std::unique_ptr<fabric::MemoryRegion> region) {
  const std::uint32_t id = insert_slab_locked(std::move(region));
  spare_slabs_.push_back(id);
  ++counters_.slabs;
}

// A slot for the region (a vacant one, or a new one) and its place in
// by_address_. Regions never overlap: the neighbours end at or before it.
std::uint32_t ZeroCopyPool::insert_slab_locked(std::unique_ptr<fabric::MemoryRegion> region) {
  if (slabs_.size() == slabs_.capacity())
    reserve_slab_lists_locked(static_cast<std::uint32_t>(2 * slabs_.capacity()));
  std::uint32_t id = 0;
  if (vacant_slabs_.empty()) {
    id = static_cast<std::uint32_t>(slabs_.size());
    slabs_.emplace_back(std::move(region));
    available_index_.push_back(kNotAvailable);
  } else {
    id = vacant_slabs_.back();
    vacant_slabs_.pop_back();
    slabs_[id] = Slab(std::move(region));
    RC_ASSERT(available_index_[id] == kNotAvailable);
  }
  const std::uintptr_t base = slabs_[id].base();
  const std::size_t size = slabs_[id].region().size();
  auto after = std::upper_bound(
      by_address_.begin(), by_address_.end(), base,
      [this](std::uintptr_t a, std::uint32_t other) { return a < slabs_[other].base(); });
  RC_ASSERT(after == by_address_.begin() ||
            slabs_[*(after - 1)].base() + slabs_[*(after - 1)].region().size() <= base);
  RC_ASSERT(after == by_address_.end() || base + size <= slabs_[*after].base());
  by_address_.insert(after, id);
  return id;
}

bool ZeroCopyPool::adopt_spare_locked(std::uint32_t size_class) {
  if (spare_slabs_.empty()) return false;
  const std::uint32_t id = spare_slabs_.back();
  spare_slabs_.pop_back();
  assign_locked(id, size_class);
  return true;
}

// At the byte bound: a slab of another class with every chunk free (none
// live, none waiting for the NIC) changes class. Scans the slabs: at most
// max_slabs, and only when the pool is otherwise out of memory.
bool ZeroCopyPool::reassign_idle_locked(std::uint32_t size_class) {
  for (std::uint32_t id = 0; id < slabs_.size(); ++id) {
    const Slab& slab = slabs_[id];
    if (!slab.assigned() || slab.size_class() == size_class || slab.size_class() == kLargeClass ||
        !slab.idle())
      continue;
    make_unavailable_locked(id);
    assign_locked(id, size_class);
    ++counters_.slab_reassignments;
    return true;
  }
  return false;
}

void ZeroCopyPool::assign_locked(std::uint32_t slab, std::uint32_t size_class) {
  RC_ASSERT(available_index_[slab] == kNotAvailable);
  slabs_[slab].assign(size_class, chunk_shift_of_class(size_class));
  make_available_locked(slab);
}

void ZeroCopyPool::make_available_locked(std::uint32_t slab) {
  std::vector<std::uint32_t>& list = available_[slabs_[slab].size_class()];
  RC_ASSERT(available_index_[slab] == kNotAvailable && list.size() < list.capacity());
  available_index_[slab] = static_cast<std::uint32_t>(list.size());
  list.push_back(slab);
}

// Swap-with-last removal: O(1), order does not matter.
void ZeroCopyPool::make_unavailable_locked(std::uint32_t slab) noexcept {
  std::vector<std::uint32_t>& list = available_[slabs_[slab].size_class()];
  const std::uint32_t position = available_index_[slab];
  RC_ASSERT(position < list.size() && list[position] == slab);
  const std::uint32_t last = list.back();
  list[position] = last;
  available_index_[last] = position;
  list.pop_back();
  available_index_[slab] = kNotAvailable;
}

}  // namespace ringcast::zcb
