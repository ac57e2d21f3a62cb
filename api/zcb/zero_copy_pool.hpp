// ZeroCopyPool: the buffers of cpg_zcb_alloc / cpg_zcb_free /
// cpg_zcb_mcast_joined. Every buffer lies inside a memory region registered
// with the endpoint, so the ring's zero-copy send has the NIC read it where
// the application wrote it.
//
// Memory. Slabs (PoolConfig::slab_bytes each) come from the AllocateRegion
// function the pool is created with: local registered memory
// (Endpoint::allocate(Access::local_only) behind the runtime's transport;
// over verbs, registered on the NIC's NUMA node). The pool keeps the regions. create() registers
// initial_slabs; afterwards the pool registers one more slab only when a size class has no free
// buffer and no unassigned slab is left, never beyond max_reserved_bytes (nothing is reserved for
// that bound: the runtime sets it to what the process may pin). At that bound a slab whose
// buffers are all free moves to the class that needs one; failing that, alloc() returns
// Errc::try_again and a line naming the limit and limit_hint is logged (the first refusal, then
// at 10^3, 10^6, ... refusals). Slabs are deregistered only when the pool is destroyed, which its
// owner does before destroying what registered them. Buffers are powers of two from 64 bytes to
// max_buffer_bytes, 64-byte aligned (see size_class.hpp, and slab.hpp for why slabs per class).
// Above that, up to max_alloc_bytes, a buffer is a region of its own, registered by alloc() and
// deregistered by the free that ends it; it counts against max_reserved_bytes too
// (large_buffers.cpp).
//
// Validation. free(), segment(), begin_send(), capacity() and in_flight()
// find a buffer by its address alone (binary search of the slabs sorted by
// base, then index arithmetic): a pointer is never dereferenced, so foreign,
// stale or interior pointers cost nothing and change nothing.
//
// In flight. The NIC reads a zero-copy buffer after cpg_zcb_mcast_joined
// returns, until the ring reports its writes complete. The contract:
//   1. Before submitting, the client calls begin_send(buffer) and passes the
//      token as the message's tag (a buffer may have several sends in
//      flight; each has its own token). If the submit fails, it calls
//      end_send(token) at once.
//   2. When the transport's next_zero_copy_done() returns the tag, the client
//      calls end_send(tag). Each token ends exactly once; a repeated, unknown
//      or stale token is Errc::invalid_argument and changes nothing.
//   3. The application may write to a buffer again only once in_flight() is
//      false (the NIC reads it until then). It may free() it at any time:
//      with sends in flight the free is deferred (the buffer is no longer the
//      application's: free, segment and begin_send refuse it) and its memory
//      is handed out again only after the last end_send. Nothing the NIC may
//      still read is ever returned by alloc().
//   4. The pool must outlive every send of its buffers: the runtime stops the
//      ring (or waits for every end_send) before destroying it.
//
// Threads. Every member function may be called from any thread: one mutex
// guards the bookkeeping, held for a lookup and a few stores per call (errors
// are built after it is released). Registering a slab (slow: it pins memory)
// happens outside that mutex, one registration at a time, so other threads
// keep allocating and freeing meanwhile; the allocate function then runs
// in the allocating thread. Verbs allows that. The simulator has no locks:
// a pool over a SimEndpoint must be the only user of its SimWorld while
// several threads call it (as in the stress test).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/result.hpp"
#include "fabric/fabric.hpp"
#include "zcb/pool_config.hpp"
#include "zcb/send_tokens.hpp"
#include "zcb/slab.hpp"

namespace ringcast::zcb {

struct PoolCounters {
  std::uint64_t buffers_live = 0;      // allocated and not yet freed
  std::uint64_t buffers_deferred = 0;  // freed with sends in flight, memory not yet reusable
  std::uint64_t bytes_live = 0;        // capacity of the live and deferred buffers
  std::uint64_t bytes_reserved = 0;    // registered slab bytes
  std::uint64_t slabs = 0;
  std::uint64_t sends_in_flight = 0;     // begun, not yet ended
  std::uint64_t deferred_frees = 0;      // total frees that waited for sends
  std::uint64_t invalid_frees = 0;       // total frees refused (nothing changed)
  std::uint64_t slab_reassignments = 0;  // total idle slabs moved to another class
  std::uint64_t limit_refusals = 0;      // total allocs refused at max_reserved_bytes
  std::uint64_t large_buffers = 0;       // live buffers with a region of their own
};

// Registered local memory of `bytes` (Access::local_only), or why not.
using AllocateRegion =
    std::function<Result<std::unique_ptr<fabric::MemoryRegion>>(std::size_t bytes)>;

class ZeroCopyPool {
 public:
  // Validates `config` (Errc::invalid_argument) and registers its initial
  // slabs (allocate's error if that fails). Whatever allocate draws on must
  // outlive the pool.
  static Result<std::unique_ptr<ZeroCopyPool>> create(AllocateRegion allocate,
                                                      const PoolConfig& config);
  // Slabs from endpoint.allocate(bytes, Access::local_only).
  static Result<std::unique_ptr<ZeroCopyPool>> create(fabric::Endpoint& endpoint,
                                                      const PoolConfig& config);
  struct Key {  // create() only
   private:
    friend class ZeroCopyPool;
    Key() = default;
  };
  ZeroCopyPool(Key, AllocateRegion allocate, const PoolConfig& config);
  ~ZeroCopyPool();
  ZeroCopyPool(const ZeroCopyPool&) = delete;
  ZeroCopyPool& operator=(const ZeroCopyPool&) = delete;

  // A buffer of at least size_bytes (0 gives a 64-byte buffer), 64-byte
  // aligned, its contents unspecified. Errc::too_big above max_alloc_bytes;
  // Errc::try_again at max_reserved_bytes with no idle slab to move; the
  // allocate function's error (Errc::system, e.g. ENOMEM from ibv_reg_mr) when a new
  // slab or large buffer could not be registered.
  Result<void*> alloc(std::size_t size_bytes);
  // Errc::invalid_argument, changing nothing, unless `buffer` is the start of
  // a live buffer: nullptr, foreign memory, an interior pointer, a buffer
  // never handed out, or one already freed (double free). Deferred while the
  // buffer has sends in flight (see the contract above).
  Status free(void* buffer);

  // What the ring's zero-copy send reads: the buffer's region, its offset in
  // it and `length_bytes`. Errc::invalid_argument unless `buffer` is the
  // start of a live buffer and length_bytes <= its capacity.
  Result<fabric::Segment> segment(const void* buffer, std::size_t length_bytes) const;
  // The buffer's usable size (its size class). Errc::invalid_argument unless live.
  Result<std::size_t> capacity(const void* buffer) const;

  // Marks one send of a live buffer in flight; the token (never 0) ends it.
  // Errc::invalid_argument unless live; Errc::try_again at max_sends_in_flight.
  Result<std::uint64_t> begin_send(const void* buffer);
  // Ends the send of `token`; a deferred-freed buffer whose last send this
  // was becomes free. Errc::invalid_argument for a token not in flight.
  Status end_send(std::uint64_t token);
  // True while sends of the buffer at `buffer` are in flight (also after a
  // deferred free); false for anything else.
  bool in_flight(const void* buffer) const;

  PoolCounters counters() const;
  const PoolConfig& config() const noexcept { return config_; }

 private:
  // zero_copy_pool.cpp: lookups and per-buffer calls, under mutex_.
  std::optional<ChunkRef> locate(const void* buffer) const noexcept;
  std::optional<ChunkRef> locate_live(const void* buffer) const noexcept;
  void* take_locked(std::uint32_t size_class);
  // A large buffer's region comes back, for the caller to destroy once
  // mutex_ is released (deregistering is slow); nullptr otherwise.
  [[nodiscard]] std::unique_ptr<fabric::MemoryRegion> release_locked(ChunkRef ref) noexcept;

  // pool_growth.cpp: slabs, classes, growth.
  Result<void*> grow_and_take(std::uint32_t size_class);
  Result<std::unique_ptr<fabric::MemoryRegion>> register_slab_region();
  void add_slab_locked(std::unique_ptr<fabric::MemoryRegion> region);
  bool adopt_spare_locked(std::uint32_t size_class);
  bool reassign_idle_locked(std::uint32_t size_class);
  void assign_locked(std::uint32_t slab, std::uint32_t size_class);
  void make_available_locked(std::uint32_t slab);
  void make_unavailable_locked(std::uint32_t slab) noexcept;
  void reserve_slab_lists_locked(std::uint32_t slabs);
  void log_refusal_locked();
  static Error limit_error(const PoolConfig& config);
  std::uint32_t insert_slab_locked(std::unique_ptr<fabric::MemoryRegion> region);

  // large_buffers.cpp: buffers above the largest class.
  Result<void*> alloc_large(std::size_t size_bytes);
  std::unique_ptr<fabric::MemoryRegion> release_large_locked(std::uint32_t slab) noexcept;

  static constexpr std::uint32_t kNotAvailable = ~0u;
  // The class of a single-chunk slab: on no available_ list, never reassigned.
  static constexpr std::uint32_t kLargeClass = Slab::kNoClass - 1;
  static constexpr std::size_t kLargePageBytes = 4096;
  static constexpr std::uint32_t kInitialSlabCapacity = 64;

  AllocateRegion allocate_;
  const PoolConfig config_;

  // Held while one slab is registered; taken before mutex_, never after.
  std::mutex grow_mutex_;
  mutable std::mutex mutex_;
  // Every vector below has room for every slab (reserve_slab_lists_locked):
  // only adding a slab may allocate (and move the Slabs, whose regions stay
  // where they are), never alloc() or free().
  std::vector<Slab> slabs_;                            // index = slab id
  std::vector<std::uint32_t> by_address_;              // slab ids sorted by base
  std::vector<std::uint32_t> spare_slabs_;             // registered, no class yet
  std::vector<std::vector<std::uint32_t>> available_;  // per class: slabs with a free chunk
  std::vector<std::uint32_t> available_index_;         // per slab: position in available_
  std::vector<std::uint32_t> vacant_slabs_;            // ids of freed large buffers, for reuse
  SendTokens tokens_;
  PoolCounters counters_;
  std::uint64_t next_refusal_log_ = 1;  // limit_refusals at which a line is logged
};

}  // namespace ringcast::zcb
