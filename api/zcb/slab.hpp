// One registered memory region cut into equal chunks of one size class.
//
// Why a slab per size class and not a buddy allocator: a slab finds the chunk
// of any address with one subtraction and one shift, so free() can validate a
// pointer (start of a chunk? which state?) without touching its bytes or
// walking a structure; alloc and free are a pop and a push on the slab's stack
// of free chunks, with no splitting or merging under the lock. The cost is
// internal fragmentation (at most half a buffer, as with buddies) and memory
// parked in one class: the pool answers that by moving a wholly idle slab to
// another class when it reaches its byte bound.
//
// Chunk states: free -> live (alloc) -> free (free, no send in flight) or
// live -> freed_in_flight (free while sends are in flight) -> free (last
// end_send). Only free chunks are on the stack; only a slab whose chunks are
// all free changes class.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "fabric/fabric.hpp"

namespace ringcast::zcb {

enum class ChunkState : std::uint8_t { free, live, freed_in_flight };

class Slab {
 public:
  static constexpr std::uint32_t kNoClass = ~0u;

  explicit Slab(std::unique_ptr<fabric::MemoryRegion> region) noexcept;

  // Cuts the slab into chunks of 1 << chunk_shift bytes, all free. Allocates
  // the per-chunk arrays: growth path only, never per buffer.
  void assign(std::uint32_t size_class, std::uint32_t chunk_shift);
  // One chunk, the whole region, whatever its size (a buffer above the
  // largest class, registered on its own).
  void assign_single(std::uint32_t size_class);
  // The region of an idle single-chunk slab, which is left without a class
  // and without memory (its owner deregisters the region, outside any lock).
  std::unique_ptr<fabric::MemoryRegion> take_region() noexcept;

  std::uint32_t size_class() const noexcept { return size_class_; }
  bool assigned() const noexcept { return size_class_ != kNoClass; }
  std::uintptr_t base() const noexcept { return base_; }
  // The power of two that aligns chunks (for a single chunk: the region's
  // size rounded up); capacity_bytes() is what a chunk holds.
  std::size_t chunk_bytes() const noexcept { return std::size_t{1} << chunk_shift_; }
  std::size_t capacity_bytes() const noexcept {
    return chunk_count_ == 1 ? region_->size() : chunk_bytes();
  }
  const fabric::MemoryRegion& region() const noexcept { return *region_; }

  // The chunk that starts exactly at addr; nothing for an address outside the
  // slab, inside a chunk, or in a slab with no class yet. Never dereferences.
  std::optional<std::uint32_t> chunk_at(std::uintptr_t addr) const noexcept;

  bool has_free() const noexcept { return !free_chunks_.empty(); }
  bool idle() const noexcept { return free_chunks_.size() == chunk_count_; }

  // Pops a free chunk and makes it live.
  std::uint32_t take() noexcept;
  // A live or freed_in_flight chunk with no send in flight becomes free.
  void release(std::uint32_t chunk) noexcept;

  ChunkState state(std::uint32_t chunk) const noexcept { return state_[chunk]; }
  void mark_freed_in_flight(std::uint32_t chunk) noexcept;
  std::uint16_t sends(std::uint32_t chunk) const noexcept { return sends_[chunk]; }
  void add_send(std::uint32_t chunk) noexcept;
  void remove_send(std::uint32_t chunk) noexcept;

  std::uint64_t offset_of(std::uint32_t chunk) const noexcept {
    return std::uint64_t{chunk} << chunk_shift_;
  }
  std::byte* data_of(std::uint32_t chunk) const noexcept {
    return region_->data() + offset_of(chunk);
  }

 private:
  std::unique_ptr<fabric::MemoryRegion> region_;
  std::uintptr_t base_ = 0;
  std::uint32_t size_class_ = kNoClass;
  std::uint32_t chunk_shift_ = 0;
  std::uint32_t chunk_count_ = 0;
  std::vector<ChunkState> state_;           // per chunk
  std::vector<std::uint16_t> sends_;        // per chunk: sends in flight
  std::vector<std::uint32_t> free_chunks_;  // stack; capacity chunk_count_, never grows
};

}  // namespace ringcast::zcb
