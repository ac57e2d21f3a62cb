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
// Appending n zero bytes to a message is a linear map of the CRC register
// (GF(2)); shift() applies it for the fixed n of a stream block, through
// four byte tables built once by squaring the one-zero-bit operator. It lets
// three streams of a long buffer run through the crc32 instruction at once
// and be joined after (the instruction's latency is three times its
// throughput).
using Gf2Matrix = std::array<std::uint32_t, 32>;

std::uint32_t times(const Gf2Matrix& mat, std::uint32_t vec) noexcept {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; vec != 0; ++i, vec >>= 1)
    if (vec & 1u) sum ^= mat[i];
  return sum;
}

Gf2Matrix square(const Gf2Matrix& mat) noexcept {
  Gf2Matrix out{};
  for (std::size_t n = 0; n < 32; ++n)
    out[n] = times(mat, mat[n]);
  return out;
}

using ShiftTables = std::array<std::array<std::uint32_t, 256>, 4>;

// The operator appending `bytes` zero bytes (a power of two, >= 1).
ShiftTables make_shift(std::size_t bytes) noexcept {
  Gf2Matrix op{};  // one zero bit
  op[0] = kPolyReflected;
  for (std::size_t n = 1; n < 32; ++n)
    op[n] = std::uint32_t{1} << (n - 1);
  for (std::size_t bits = 1; bits < bytes * 8; bits *= 2)
    op = square(op);
  ShiftTables t{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    for (std::size_t k = 0; k < 4; ++k)
      t[k][n] = times(op, n << (8 * k));
  }
  return t;
}

std::uint32_t shift(const ShiftTables& t, std::uint32_t crc) noexcept {
  return t[0][crc & 0xFFu] ^ t[1][(crc >> 8) & 0xFFu] ^ t[2][(crc >> 16) & 0xFFu] ^ t[3][crc >> 24];
}

constexpr std::size_t kLongBlock = 8192;  // per stream
constexpr std::size_t kShortBlock = 256;

std::uint64_t load(const std::byte* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, 8);  // unaligned load, little-endian as the CRC wants
  return word;
}

// Three streams of `block` bytes each, joined; returns the register after
// all 3 * block bytes.
__attribute__((target("sse4.2"))) std::uint64_t three_streams(std::uint64_t c0, const std::byte* p,
                                                              std::size_t block,
                                                              const ShiftTables& t) noexcept {
  std::uint64_t c1 = 0;
  std::uint64_t c2 = 0;
  for (const std::byte* end = p + block; p < end; p += 8) {
    c0 = _mm_crc32_u64(c0, load(p));
    c1 = _mm_crc32_u64(c1, load(p + block));
    c2 = _mm_crc32_u64(c2, load(p + 2 * block));
  }
  c0 = shift(t, static_cast<std::uint32_t>(c0)) ^ static_cast<std::uint32_t>(c1);
  return shift(t, static_cast<std::uint32_t>(c0)) ^ static_cast<std::uint32_t>(c2);
}

// The crc32 instruction computes the same reflected CRC-32C as the table.
// Built for SSE4.2 on its own so the rest of the library keeps the baseline
// ISA; only called once the CPU said it has the instruction.
__attribute__((target("sse4.2"))) std::uint32_t hardware_update(std::uint32_t c, const std::byte* p,
                                                                std::size_t n) noexcept {
  static const ShiftTables long_shift = make_shift(kLongBlock);
  static const ShiftTables short_shift = make_shift(kShortBlock);
  std::uint64_t c64 = c;
  for (; n >= 3 * kLongBlock; n -= 3 * kLongBlock, p += 3 * kLongBlock)
    c64 = three_streams(c64, p, kLongBlock, long_shift);
  for (; n >= 3 * kShortBlock; n -= 3 * kShortBlock, p += 3 * kShortBlock)
    c64 = three_streams(c64, p, kShortBlock, short_shift);
  for (; n >= 8; n -= 8, p += 8)
    c64 = _mm_crc32_u64(c64, load(p));
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
