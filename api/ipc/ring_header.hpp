// The shared layout of one single-producer single-consumer byte ring: a
// header page, then `capacity` bytes of frames (a power of two, at least a
// page). head and tail count bytes ever written and ever consumed; each lives
// on a cache-line pair of its own, so the producer's stores to head and the
// consumer's to tail do not bounce one line between two cores.
//
// Neither side trusts what the other wrote there: each keeps its own cursor
// in private memory, only publishes it in the header, and checks the other's
// published cursor before using it (byte_ring.hpp). The capacity in the
// header is informative; each side takes it from the segment size it knows.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ringcast::ipc {

// Two lines: the adjacent-line prefetcher of x86 pulls lines in pairs.
inline constexpr std::size_t kFalseSharingBytes = 128;
inline constexpr std::size_t kRingHeaderBytes = 4096;  // one page before the frames
inline constexpr std::size_t kMinRingCapacity = 4096;
inline constexpr std::uint64_t kRingMagic = 0x31474e4952435052;  // "RPCRING1"

struct RingHeader {
  std::uint64_t magic = kRingMagic;
  std::uint64_t capacity_bytes = 0;
  alignas(kFalseSharingBytes) std::atomic<std::uint64_t> head{0};  // the producer's
  alignas(kFalseSharingBytes) std::atomic<std::uint64_t> tail{0};  // the consumer's
  // 1 while the consumer is, or is about to be, asleep on its eventfd; the
  // producer takes it back to 0 and writes the eventfd once.
  alignas(kFalseSharingBytes) std::atomic<std::uint32_t> consumer_sleeping{0};
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "the ring's cursors must be lock-free to live in shared memory");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(RingHeader) <= kRingHeaderBytes);

// Every frame: u32 length (payload bytes), u32 reserved (0), the payload,
// zeros up to a multiple of 8. Cursors stay multiples of 8, so a frame's
// header never wraps; its payload may (it is copied in two pieces).
inline constexpr std::size_t kFrameAlign = 8;
inline constexpr std::size_t kRingFrameHeaderBytes = 8;

inline constexpr std::uint64_t padded_frame_bytes(std::uint64_t payload_bytes) noexcept {
  return kRingFrameHeaderBytes +
         ((payload_bytes + kFrameAlign - 1) & ~std::uint64_t{kFrameAlign - 1});
}

inline constexpr std::size_t ring_segment_bytes(std::size_t capacity) noexcept {
  return kRingHeaderBytes + capacity;
}

}  // namespace ringcast::ipc
