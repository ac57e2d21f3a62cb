// The zero-copy pool's tunables, with their units and defaults. validate()
// refuses a combination the pool cannot honour and names the field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/result.hpp"

namespace ringcast::zcb {

struct PoolConfig {
  // Largest buffer alloc() hands out: the largest size class. A power of two,
  // at least 64. The runtime passes the ring's max_message_bytes rounded up.
  std::size_t max_buffer_bytes = std::size_t{1} << 20;
  // Largest buffer alloc() hands out at all; 0: max_buffer_bytes. Buffers
  // above max_buffer_bytes get a region of their own (sized to 4 KiB pages),
  // deregistered when they are freed: a message-sized slab would park that
  // much memory in one class. At most 2^31 (a Segment's length is 32 bits).
  std::size_t max_alloc_bytes = 0;
  // The unit of registration and of growth: one memory region each. A power
  // of two, at least max_buffer_bytes. 2 MiB: a huge page, two buffers of the
  // largest class, 32768 of the smallest.
  std::size_t slab_bytes = std::size_t{2} << 20;
  // Slabs registered by create(), before any alloc(), so that a program's
  // first buffers never wait for a registration.
  std::uint32_t initial_slabs = 2;
  // Bound on registered bytes: at it, alloc() fails with Errc::try_again
  // unless an idle slab can change size class. A multiple of slab_bytes.
  // Nothing is reserved for it up front: the runtime sets it from the
  // cluster file or from what the machine lets a process pin.
  std::size_t max_reserved_bytes = std::size_t{64} << 20;
  // What raises max_reserved_bytes, named in the line logged when alloc()
  // refuses at the bound.
  std::string limit_hint = "max_reserved_bytes";
  // Sends begun and not yet ended, over all buffers; beyond: try_again. The
  // ring holds at most send_queue_messages + zero_copy_visits *
  // max_messages_per_visit (1536 by default) zero-copy messages at once.
  std::uint32_t max_sends_in_flight = 4096;
};

// Errc::invalid_argument naming the first field that is out of range.
Status validate(const PoolConfig& config);

inline std::size_t max_alloc_bytes(const PoolConfig& config) noexcept {
  return config.max_alloc_bytes != 0 ? config.max_alloc_bytes : config.max_buffer_bytes;
}

// Slabs the configuration allows at most (max_reserved_bytes / slab_bytes).
inline std::uint32_t max_slabs(const PoolConfig& config) noexcept {
  return static_cast<std::uint32_t>(config.max_reserved_bytes / config.slab_bytes);
}

}  // namespace ringcast::zcb
