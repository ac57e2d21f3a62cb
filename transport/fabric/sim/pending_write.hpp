// A posted write between post() and its ACK (or its failure): one entry of a
// simulated send queue. Entries live in one pool per world and are chained per
// link in post order, so a run in steady state reuses entries instead of
// allocating them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/assert.hpp"
#include "fabric/fabric.hpp"

namespace ringcast::fabric::sim {

inline constexpr std::uint32_t kNoIndex = UINT32_MAX;

// Where a write reads from. By key, not by pointer: the region may be
// destroyed before the write lands, and the key then finds nothing.
struct SourceSlice {
  std::uint32_t lkey = 0;
  std::uint32_t length = 0;
  std::uint64_t offset = 0;
};

struct PendingWrite {
  std::uint64_t wr_id = 0;
  std::uint64_t post_ns = 0;
  std::uint64_t remote_addr = 0;
  std::uint32_t rkey = 0;
  std::uint32_t length = 0;
  std::uint32_t imm = 0;
  std::uint32_t next = kNoIndex;  // the next write of the same link
  std::array<SourceSlice, kMaxSegments> sources{};
  std::uint8_t source_count = 0;
  bool with_imm = false;
  bool signaled = false;
  bool landed = false;
  // The bytes, read when the requester crashed with this write on the wire
  // (its memory is gone after that). Empty otherwise.
  std::unique_ptr<std::byte[]> snapshot;
};

class PendingPool {
 public:
  PendingWrite& operator[](std::uint32_t i) noexcept {
    RC_DEBUG_ASSERT(i < slots_.size());
    return slots_[i];
  }

  std::uint32_t acquire() {
    if (free_ == kNoIndex) {
      RC_ASSERT(slots_.size() < kNoIndex);
      slots_.emplace_back();
      return static_cast<std::uint32_t>(slots_.size() - 1);
    }
    const std::uint32_t i = free_;
    free_ = slots_[i].next;
    slots_[i].next = kNoIndex;
    return i;
  }

  void release(std::uint32_t i) noexcept {
    PendingWrite& w = slots_[i];
    w.snapshot.reset();
    w.landed = false;
    w.next = free_;
    free_ = i;
  }

  std::size_t capacity() const noexcept { return slots_.size(); }

 private:
  std::vector<PendingWrite> slots_;
  std::uint32_t free_ = kNoIndex;
};

}  // namespace ringcast::fabric::sim
