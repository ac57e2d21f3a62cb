#include "base/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ringcast {
namespace {

constexpr std::uint32_t kPolyReflected = 0x82F63B78u;

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1u) ? (c >> 1) ^ kPolyReflected : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr auto kTable = make_table();

std::uint32_t table_update(std::uint32_t c, const std::byte* p, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    c = kTable[(c ^ static_cast<std::uint8_t>(p[i])) & 0xFFu] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__)
// The crc32 instruction computes the same reflected CRC-32C as the table.
// Built for SSE4.2 on its own so the rest of the library keeps the baseline
// ISA; only called once the CPU said it has the instruction.
__attribute__((target("sse4.2"))) std::uint32_t hardware_update(std::uint32_t c, const std::byte* p,
                                                                std::size_t n) noexcept {
  std::uint64_t c64 = c;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // unaligned load, little-endian as the CRC wants
    c64 = _mm_crc32_u64(c64, word);
  }
  auto c32 = static_cast<std::uint32_t>(c64);
  for (; n > 0; --n, ++p)
    c32 = _mm_crc32_u8(c32, static_cast<std::uint8_t>(*p));
  return c32;
}

bool cpu_has_crc32() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") != 0;
}
#else
std::uint32_t hardware_update(std::uint32_t c, const std::byte* p, std::size_t n) noexcept {
  return table_update(c, p, n);
}
bool cpu_has_crc32() noexcept {
  return false;
}
#endif

}  // namespace

bool crc32c_hardware() noexcept {
  static const bool has = cpu_has_crc32();
  return has;
}

std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t seed) noexcept {
  const std::uint32_t c = ~seed;
  if (crc32c_hardware()) return ~hardware_update(c, bytes.data(), bytes.size());
  return ~table_update(c, bytes.data(), bytes.size());
}

std::uint32_t crc32c_portable(std::span<const std::byte> bytes, std::uint32_t seed) noexcept {
  return ~table_update(~seed, bytes.data(), bytes.size());
}

}  // namespace ringcast
