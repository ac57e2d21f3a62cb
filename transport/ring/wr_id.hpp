// Work request ids of the ring's signaled writes. They say which token
// staging slot and which zero-copy visit they free, or that they end a
// forward (neither); the tag, with the ring's generation (membership runs
// successive rings on one endpoint), tells them from anybody else's.
#pragma once

#include <cstdint>
#include <optional>

namespace ringcast::ring {

inline constexpr std::uint64_t kWrTag = 0x52494Eull << 40;  // "RIN"
inline constexpr std::uint64_t kWrTagMask = ~0xFFFFFFFFull;

constexpr std::uint64_t wr_tag(std::uint8_t generation) noexcept {
  return kWrTag | (std::uint64_t{generation} << 32);
}
constexpr std::uint64_t make_wr_id(std::uint8_t generation,
                                   std::optional<std::uint32_t> staging_slot,
                                   std::optional<std::uint32_t> zero_copy_entry) noexcept {
  return wr_tag(generation) | (std::uint64_t{staging_slot ? *staging_slot + 1 : 0} << 16) |
         (zero_copy_entry ? *zero_copy_entry + 1 : 0);
}
// The last write of a forward: no slot, no entry.
constexpr std::uint64_t forward_wr_id(std::uint8_t generation) noexcept {
  return wr_tag(generation);
}

}  // namespace ringcast::ring
