// Little-endian encoding helpers for everything that crosses the wire.
// The wire format is little-endian. Every host ringcast targets (x86-64,
// aarch64, ppc64le) is little-endian, so a build for a big-endian host is
// refused rather than carrying byte swaps nobody tests.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace ringcast::wire {

static_assert(std::endian::native == std::endian::little,
              "ringcast's wire format is little-endian");

template <class T>
inline void put(std::byte* at, T value) noexcept {
  static_assert(std::is_unsigned_v<T>);
  std::memcpy(at, &value, sizeof(T));
}

template <class T>
inline T get(const std::byte* at) noexcept {
  static_assert(std::is_unsigned_v<T>);
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

}  // namespace ringcast::wire
