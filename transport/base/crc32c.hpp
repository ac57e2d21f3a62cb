// CRC-32C (Castagnoli), used to check record headers, tokens and connection
// private data that arrive from peers. Small inputs only (headers): a
// table-driven loop is fast enough and portable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringcast {

std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t seed = 0) noexcept;

}  // namespace ringcast
