#include "zcb/slab.hpp"

#include <bit>
#include <limits>

#include "base/assert.hpp"
#include "zcb/size_class.hpp"

namespace ringcast::zcb {

Slab::Slab(std::unique_ptr<fabric::MemoryRegion> region) noexcept
    : region_(std::move(region)), base_(reinterpret_cast<std::uintptr_t>(region_->data())) {
  RC_ASSERT(base_ % kBufferAlignment == 0);
}

void Slab::assign(std::uint32_t size_class, std::uint32_t chunk_shift) {
  RC_ASSERT(!assigned() || idle());
  RC_ASSERT((region_->size() >> chunk_shift) > 0 && region_->size() % (1ull << chunk_shift) == 0);
  size_class_ = size_class;
  chunk_shift_ = chunk_shift;
  chunk_count_ = static_cast<std::uint32_t>(region_->size() >> chunk_shift);
  state_.assign(chunk_count_, ChunkState::free);
  sends_.assign(chunk_count_, 0);
  free_chunks_.clear();
  free_chunks_.reserve(chunk_count_);
  // Highest index first, so the first take() hands out the slab's start.
  for (std::uint32_t i = chunk_count_; i > 0; --i)
    free_chunks_.push_back(i - 1);
}

void Slab::assign_single(std::uint32_t size_class) {
  RC_ASSERT(!assigned() && region_ != nullptr && region_->size() > 0);
  size_class_ = size_class;
  chunk_shift_ = static_cast<std::uint32_t>(std::bit_width(region_->size() - 1));
  chunk_count_ = 1;
  state_.assign(1, ChunkState::free);
  sends_.assign(1, 0);
  free_chunks_.assign(1, 0);
}

std::unique_ptr<fabric::MemoryRegion> Slab::take_region() noexcept {
  RC_ASSERT(chunk_count_ == 1 && idle());
  size_class_ = kNoClass;
  chunk_count_ = 0;
  free_chunks_.clear();
  return std::move(region_);
}

std::optional<std::uint32_t> Slab::chunk_at(std::uintptr_t addr) const noexcept {
  if (!assigned() || addr < base_ || addr - base_ >= region_->size()) return std::nullopt;
  const std::uintptr_t offset = addr - base_;
  if ((offset & (chunk_bytes() - 1)) != 0) return std::nullopt;
  return static_cast<std::uint32_t>(offset >> chunk_shift_);
}

std::uint32_t Slab::take() noexcept {
  RC_ASSERT(has_free());
  const std::uint32_t chunk = free_chunks_.back();
  free_chunks_.pop_back();
  RC_ASSERT(state_[chunk] == ChunkState::free && sends_[chunk] == 0);
  state_[chunk] = ChunkState::live;
  return chunk;
}

void Slab::release(std::uint32_t chunk) noexcept {
  RC_ASSERT(chunk < chunk_count_ && state_[chunk] != ChunkState::free && sends_[chunk] == 0);
  RC_ASSERT(free_chunks_.size() < chunk_count_);  // within the reserved capacity: no allocation
  state_[chunk] = ChunkState::free;
  free_chunks_.push_back(chunk);
}

void Slab::mark_freed_in_flight(std::uint32_t chunk) noexcept {
  RC_ASSERT(state_[chunk] == ChunkState::live && sends_[chunk] > 0);
  state_[chunk] = ChunkState::freed_in_flight;
}

void Slab::add_send(std::uint32_t chunk) noexcept {
  RC_ASSERT(state_[chunk] == ChunkState::live);
  RC_ASSERT(sends_[chunk] < std::numeric_limits<std::uint16_t>::max());
  ++sends_[chunk];
}

void Slab::remove_send(std::uint32_t chunk) noexcept {
  RC_ASSERT(state_[chunk] != ChunkState::free && sends_[chunk] > 0);
  --sends_[chunk];
}

}  // namespace ringcast::zcb
