// Size classes: powers of two from 64 bytes up to the pool's largest buffer.
// Class k holds buffers of 64 << k bytes. Every buffer starts at a multiple
// of its own size inside a slab whose base is 64-byte aligned, so every
// buffer is 64-byte aligned (a cache line; the ring's record alignment).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace ringcast::zcb {

inline constexpr std::uint32_t kMinBufferShift = 6;
inline constexpr std::size_t kMinBufferBytes = std::size_t{1} << kMinBufferShift;
inline constexpr std::size_t kBufferAlignment = kMinBufferBytes;

// log2 of the smallest class that holds `bytes` (0 bytes: the 64 B class).
constexpr std::uint32_t chunk_shift_for(std::size_t bytes) noexcept {
  if (bytes <= kMinBufferBytes) return kMinBufferShift;
  return static_cast<std::uint32_t>(std::bit_width(bytes - 1));
}

constexpr std::uint32_t size_class_for(std::size_t bytes) noexcept {
  return chunk_shift_for(bytes) - kMinBufferShift;
}

constexpr std::uint32_t chunk_shift_of_class(std::uint32_t size_class) noexcept {
  return size_class + kMinBufferShift;
}

// Classes of a pool whose largest buffer is max_buffer_bytes (a power of two).
constexpr std::uint32_t size_class_count(std::size_t max_buffer_bytes) noexcept {
  return size_class_for(max_buffer_bytes) + 1;
}

static_assert(chunk_shift_for(0) == 6 && chunk_shift_for(64) == 6 && chunk_shift_for(65) == 7);
static_assert(size_class_for(1u << 20) == 14 && size_class_count(1u << 20) == 15);

}  // namespace ringcast::zcb
