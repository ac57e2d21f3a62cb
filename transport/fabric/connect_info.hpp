// The wire format of connection set-up: ConnectInfo (fabric.hpp) as it
// travels (rdma_cm private data for verbs), and the framing every set-up
// message shares. rdma_cm's private-data budgets on InfiniBand/RoCE bound the
// layouts: 56 bytes in a connect request, 196 in an accept, 148 in a reject.
//
// Every set-up message starts with the same 4 bytes (little-endian):
//   0  u16 magic 0x5243 ("RC")     2  u8 version (2)     3  u8 kind
// The kinds: `open` (below) when the cluster has no key; hello, challenge,
// proof, accept and complaint for the authenticated handshake
// (fabric/auth/messages.hpp). Version 1 had a u16 version and no kind.
//
// The open message (52 bytes), sent by both sides of an unauthenticated link:
//   0  header (kind 1)
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

inline constexpr std::size_t kConnectInfoBytes = 52;
inline constexpr std::size_t kPrivateDataBudget = 56;  // rdma_cm connect on IB/RoCE
inline constexpr std::size_t kAcceptDataBudget = 196;  // rdma_cm accept on IB/RoCE
inline constexpr std::size_t kRejectDataBudget = 148;  // rdma_cm reject on IB/RoCE
static_assert(kConnectInfoBytes <= kPrivateDataBudget);

inline constexpr std::uint16_t kSetupMagic = 0x5243;
inline constexpr std::uint8_t kSetupVersion = ConnectInfo::kVersion;
inline constexpr std::size_t kSetupHeaderBytes = 4;
// Regions as they travel: u8 count, u8 reserved (0), then
// kMaxConnectRegions x { u64 addr, u32 length, u32 rkey } (unused ones 0).
inline constexpr std::size_t kRegionBytes = 16;
inline constexpr std::size_t kRegionBlockBytes = 2 + kMaxConnectRegions * kRegionBytes;

enum class SetupKind : std::uint8_t {
  open = 1,       // ConnectInfo, no authentication (either direction)
  hello = 2,      // connector -> listener: who I am, my nonce
  challenge = 3,  // listener -> connector (reject): my nonce, my proof
  proof = 4,      // connector -> listener: my proof, my regions
  accept = 5,     // listener -> connector (accept): my regions, my proof
  complaint = 6,  // connector -> listener: your proof was wrong
};
const char* setup_kind_name(SetupKind kind) noexcept;

using ConnectInfoBytes = std::array<std::byte, kConnectInfoBytes>;

// The open message.
ConnectInfoBytes encode(const ConnectInfo& info) noexcept;

// Validates everything: length, magic, checksum, version (must equal ours),
// kind (must be open), region count and that no region wraps the address
// space. Errc::refused for a version mismatch, Errc::protocol for anything
// malformed; the detail says what was wrong.
Result<ConnectInfo> decode_connect_info(std::span<const std::byte> bytes);

// The header of any set-up message: its kind once magic and version are
// right. Errc::refused for another version (the detail names both), and
// Errc::protocol for a short message, a bad magic or an unknown kind.
Result<SetupKind> peek_setup_kind(std::span<const std::byte> bytes);
void put_setup_header(std::byte* at, SetupKind kind) noexcept;

// The region block (kRegionBlockBytes) in the layout above. get_regions
// checks the count, the reserved byte and that no region wraps around
// (Errc::protocol).
void put_regions(std::byte* at, const ConnectInfo& info) noexcept;
Status get_regions(const std::byte* at, ConnectInfo& info);

}  // namespace ringcast::fabric
