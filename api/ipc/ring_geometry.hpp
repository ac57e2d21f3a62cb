// The checks both ends of a ring make on attaching: a segment of a header
// page plus a power-of-two capacity, aligned for the header's atomics, and a
// largest frame that fits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.hpp"
#include "ipc/ring_header.hpp"

namespace ringcast::ipc {

// What follows the header page (0 for a segment smaller than it).
inline std::size_t ring_capacity(std::span<std::byte> segment) noexcept {
  return segment.size() > kRingHeaderBytes ? segment.size() - kRingHeaderBytes : 0;
}

Status check_geometry(std::span<std::byte> segment, std::size_t capacity,
                      std::uint64_t max_frame_bytes, const char* call);

}  // namespace ringcast::ipc
