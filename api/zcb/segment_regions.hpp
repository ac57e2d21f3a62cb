// SegmentRegions: the AllocateRegion of a ZeroCopyPool whose memory is not
// allocated but given: a fixed span (ringcastd's zcb segment of one client,
// shared memory the client writes its messages into). Each region the pool
// asks for is a page-aligned range of the span, carved first fit and
// registered through `register_range` only then, so memory is pinned as it
// is handed out, never the whole span up front. Destroying a region
// deregisters it and gives its range back.
//
// Lifetime: every region and the allocator function keep the SegmentRegions
// alive (shared ownership), and it keeps `keep_alive` (the mapping behind the
// span): the memory stays mapped until the last registration over it ended.
//
// Threads: any; one mutex guards the free ranges (registration runs outside it).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>

#include "base/result.hpp"
#include "fabric/fabric.hpp"
#include "zcb/zero_copy_pool.hpp"

namespace ringcast::zcb {

// Registers caller memory (Access::local_only), or says why not.
using RegisterRange =
    std::function<Result<std::unique_ptr<fabric::MemoryRegion>>(std::span<std::byte>)>;

// A bound on the bytes registered by several SegmentRegions together (one
// per client of ringcastd: the node's zero-copy limit over all of them).
struct RegisteredBudget {
  explicit RegisteredBudget(std::uint64_t limit_bytes) : limit(limit_bytes) {}
  bool take(std::uint64_t bytes) noexcept;
  void give(std::uint64_t bytes) noexcept { used.fetch_sub(bytes, std::memory_order_relaxed); }
  const std::uint64_t limit;
  std::atomic<std::uint64_t> used{0};
};

class SegmentRegions : public std::enable_shared_from_this<SegmentRegions> {
 public:
  // `memory` must be page-aligned; `keep_alive` owns what it points into.
  // With a budget, carve() also refuses (Errc::try_again) what would take
  // it beyond its limit.
  static std::shared_ptr<SegmentRegions> create(std::span<std::byte> memory,
                                                RegisterRange register_range,
                                                std::shared_ptr<const void> keep_alive,
                                                std::shared_ptr<RegisteredBudget> budget = {});
  struct Key {  // create() only
   private:
    friend class SegmentRegions;
    Key() = default;
  };
  SegmentRegions(Key, std::span<std::byte> memory, RegisterRange register_range,
                 std::shared_ptr<const void> keep_alive, std::shared_ptr<RegisteredBudget> budget);

  // A registered range of `bytes` (rounded up to whole pages); Errc::try_again
  // when no free range is that long.
  Result<std::unique_ptr<fabric::MemoryRegion>> carve(std::size_t bytes);
  // carve() as a pool's AllocateRegion (it holds this object).
  AllocateRegion allocator();

  std::span<std::byte> memory() const noexcept { return memory_; }
  // Bytes carved and not yet given back (registered now).
  std::size_t carved_bytes() const;
  // Offset of `p` in the span, or nullopt outside it.
  std::optional<std::size_t> offset_of(const void* p) const noexcept;

  static constexpr std::size_t kPageBytes = 4096;

 private:
  friend class CarvedRegion;
  void give_back(std::size_t offset, std::size_t bytes) noexcept;

  const std::span<std::byte> memory_;
  const RegisterRange register_range_;
  const std::shared_ptr<const void> keep_alive_;
  const std::shared_ptr<RegisteredBudget> budget_;
  mutable std::mutex mutex_;
  std::map<std::size_t, std::size_t> free_;  // offset -> bytes, coalesced
  std::size_t carved_ = 0;
};

}  // namespace ringcast::zcb
