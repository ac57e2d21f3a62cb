// The registry of a world's live memory regions: what a NIC's memory
// translation table is to verbs.
//
// A key names a slot: lkey = index * 2, rkey = index * 2 + 1 (so the two are
// never confused and 0 is never valid). Indexes are never reused within a
// world, so a key of a destroyed region stays dead instead of silently naming
// a newer region: a write that read a freed source, or targets a stale rkey,
// is caught rather than served. The table is shared (shared_ptr) with every
// region so a region may outlive its world without touching freed memory.
#pragma once

#include <cstdint>
#include <vector>

#include "base/assert.hpp"

namespace ringcast::fabric::sim {

class SimMemoryRegion;

class RegionTable {
 public:
  struct Entry {
    const SimMemoryRegion* region = nullptr;  // nullptr once deregistered
    std::uint32_t endpoint_uid = 0;           // the endpoint that registered it
  };

  RegionTable() { entries_.push_back({}); }  // index 0: never a region

  std::uint32_t add(const SimMemoryRegion* region, std::uint32_t endpoint_uid) {
    RC_ASSERT(entries_.size() < (1u << 31));
    entries_.push_back({region, endpoint_uid});
    return static_cast<std::uint32_t>(entries_.size() - 1);
  }

  void remove(std::uint32_t index) noexcept {
    RC_ASSERT(index > 0 && index < entries_.size() && entries_[index].region != nullptr);
    entries_[index].region = nullptr;
  }

  // The live region of a key, or nullptr (wrong kind of key, never issued,
  // or deregistered).
  const Entry* by_lkey(std::uint32_t lkey) const noexcept {
    return live((lkey & 1) ? 0 : lkey >> 1);
  }
  const Entry* by_rkey(std::uint32_t rkey) const noexcept {
    return live((rkey & 1) ? rkey >> 1 : 0);
  }

  static std::uint32_t lkey_of(std::uint32_t index) noexcept { return index << 1; }
  static std::uint32_t rkey_of(std::uint32_t index) noexcept { return (index << 1) | 1; }

 private:
  const Entry* live(std::uint32_t index) const noexcept {
    if (index == 0 || index >= entries_.size()) return nullptr;
    const Entry& e = entries_[index];
    return e.region != nullptr ? &e : nullptr;
  }

  std::vector<Entry> entries_;
};

}  // namespace ringcast::fabric::sim
