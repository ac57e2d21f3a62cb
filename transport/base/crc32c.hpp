// CRC-32C (Castagnoli), used to check record headers, tokens and connection
// private data that arrive from peers, and record payloads. On x86-64 CPUs
// with SSE4.2 the crc32 instruction does 8 bytes per step (found at run
// time, once), on three interleaved streams for buffers of 768 bytes and
// more; elsewhere a table-driven loop does one byte per step. All give the
// same values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringcast {

std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t seed = 0) noexcept;

// The byte-table loop, whatever the CPU (tests compare the two).
std::uint32_t crc32c_portable(std::span<const std::byte> bytes, std::uint32_t seed = 0) noexcept;

// Whether crc32c() uses the CPU's crc32 instruction.
bool crc32c_hardware() noexcept;

}  // namespace ringcast
