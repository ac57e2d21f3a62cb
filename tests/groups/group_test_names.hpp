// Group names with chosen keys, for the group layer's tests: a name whose
// crc32c is any wanted value, found by solving for its last four bytes.
// A CRC of a fixed prefix followed by 4 free bytes is an affine function of
// those 32 bits over GF(2), and that map is invertible, so every value is
// reached by exactly one suffix.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/crc32c.hpp"

namespace ringcast::groups::testing {

inline std::uint32_t crc_of(const std::string& name) {
  return crc32c(std::as_bytes(std::span(name.data(), name.size())));
}

inline std::string with_suffix(const std::string& prefix, std::uint32_t suffix) {
  std::string name = prefix;
  for (int i = 0; i < 4; ++i)
    name.push_back(static_cast<char>((suffix >> (8 * i)) & 0xFFu));
  return name;
}

// prefix + 4 bytes whose crc32c is `target` (nullopt if the map were singular).
inline std::optional<std::string> name_with_crc(const std::string& prefix, std::uint32_t target) {
  const std::uint32_t base = crc_of(with_suffix(prefix, 0));
  // An XOR basis of the columns, each with the suffix bits that produce it.
  std::array<std::uint32_t, 32> value{}, combination{};
  for (int i = 0; i < 32; ++i) {
    std::uint32_t v = crc_of(with_suffix(prefix, 1u << i)) ^ base;
    std::uint32_t c = 1u << i;
    for (int bit = 31; bit >= 0 && v != 0; --bit) {
      if (((v >> bit) & 1u) == 0) continue;
      if (value[bit] == 0) {
        value[bit] = v;
        combination[bit] = c;
        break;
      }
      v ^= value[bit];
      c ^= combination[bit];
    }
  }
  std::uint32_t want = target ^ base, suffix = 0;
  for (int bit = 31; bit >= 0; --bit) {
    if (((want >> bit) & 1u) == 0) continue;
    if (value[bit] == 0) return std::nullopt;
    want ^= value[bit];
    suffix ^= combination[bit];
  }
  return with_suffix(prefix, suffix);
}

}  // namespace ringcast::groups::testing
