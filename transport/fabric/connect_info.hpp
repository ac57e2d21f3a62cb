// ConnectInfo: what one side of a link tells the other at connection set-up
// (rdma_cm private data for verbs). It must fit the smallest private-data
// budget rdma_cm offers, a connect request on InfiniBand/RoCE: 56 bytes.
//
// Layout (little-endian, 52 bytes):
//   0  u16 magic 0x5243 ("RC")     2  u16 version
//   4  u32 node id                 8  u32 incarnation (a restart changes it)
//  12  u16 flags                  14  u8  region count   15 u8 reserved (0)
//  16  2 x { u64 addr, u32 length, u32 rkey }
//  48  u32 crc32c of bytes 0..47
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.hpp"
#include "fabric/fabric.hpp"

namespace ringcast::fabric {

inline constexpr std::size_t kMaxConnectRegions = 2;
inline constexpr std::size_t kConnectInfoBytes = 52;
inline constexpr std::size_t kPrivateDataBudget = 56;  // rdma_cm connect on IB/RoCE
static_assert(kConnectInfoBytes <= kPrivateDataBudget);

struct ConnectInfo {
  static constexpr std::uint16_t kMagic = 0x5243;
  static constexpr std::uint16_t kVersion = 1;

  std::uint16_t version = kVersion;
  NodeId node = 0;
  std::uint32_t incarnation = 0;
  std::uint16_t flags = 0;
  std::uint8_t region_count = 0;
  std::array<RemoteRegion, kMaxConnectRegions> regions{};

  std::span<const RemoteRegion> region_span() const noexcept {
    return {regions.data(), region_count};
  }
  friend bool operator==(const ConnectInfo&, const ConnectInfo&) = default;
};

using ConnectInfoBytes = std::array<std::byte, kConnectInfoBytes>;

ConnectInfoBytes encode(const ConnectInfo& info) noexcept;

// Validates everything: length, magic, checksum, version (must equal ours),
// region count and that no region wraps the address space. Errc::refused for
// a version mismatch, Errc::protocol for anything malformed; the detail says
// what was wrong.
Result<ConnectInfo> decode_connect_info(std::span<const std::byte> bytes);

}  // namespace ringcast::fabric
