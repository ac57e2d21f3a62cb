// The token: the right to send, and the ring's shared bookkeeping. It travels
// as one RDMA WRITE WITH IMMEDIATE into a slot of the successor's mailbox and
// is validated there before use (decode_token); a stale, duplicate or
// malformed token is dropped and counted.
//
// Layout (little-endian). Only the used part is written: the member and
// retransmit arrays are as long as their counts say.
//    0 u32 magic "RCT1"           4 u16 version (1)    6 u16 byte length
//    8 u32 ring representative   12 u16 member count  14 u16 retransmit count
//   16 u64 ring epoch            24 u64 token seq (+1 per pass)
//   32 u64 highest assigned seq  40 u64 next log position
//   48 u32 fcc (messages sent in the last rotation)
//   52 u32 backlog (messages queued at all members, as last reported)
//   56 u64 reserved (0)
//   64 member count x { u64 received_up_to (seq), u64 released_position }
//    . retransmit count x u64 seq (requests; membership's recovery uses them)
//    . u32 crc32c of everything before it
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ring/ring_id.hpp"

namespace ringcast::ring {

inline constexpr std::size_t kMaxMembers = 64;
inline constexpr std::size_t kMaxRetransmitRequests = 32;
inline constexpr std::uint32_t kTokenMagic = 0x31544352;  // "RCT1"
inline constexpr std::uint16_t kTokenVersion = 1;
inline constexpr std::size_t kTokenFixedBytes = 64;

struct MemberProgress {
  // Every seq <= this has landed at the member.
  std::uint64_t received_up_to = 0;
  // The member delivered and its application released everything before
  // this log position.
  std::uint64_t released_position = 0;

  friend bool operator==(const MemberProgress&, const MemberProgress&) = default;
};

struct Token {
  RingId ring;
  std::uint64_t token_seq = 0;
  std::uint64_t highest_seq = 0;
  std::uint64_t next_position = 0;
  std::uint32_t fcc = 0;
  std::uint32_t backlog = 0;
  std::uint16_t member_count = 0;
  std::uint16_t retransmit_count = 0;
  std::array<MemberProgress, kMaxMembers> members{};
  std::array<std::uint64_t, kMaxRetransmitRequests> retransmit{};

  friend bool operator==(const Token&, const Token&) = default;
};

constexpr std::size_t token_encoded_bytes(std::size_t members, std::size_t retransmits) noexcept {
  return kTokenFixedBytes + members * 16 + retransmits * 8 + 4;
}
inline constexpr std::size_t kMaxTokenBytes =
    token_encoded_bytes(kMaxMembers, kMaxRetransmitRequests);
// A mailbox slot holds the largest token, rounded to 64 bytes.
inline constexpr std::size_t kTokenSlotBytes = (kMaxTokenBytes + 63) / 64 * 64;
// After the token slots, a mailbox has one 8-byte wake word per member.
inline constexpr std::size_t kWakeAreaBytes = kMaxMembers * 8;
// Then one repair request slot per member (ring_state.cpp, docs/protocol.md
// "Repair"): member i of the ring writes its requests to slot i only.
inline constexpr std::size_t kRepairSlotBytes = 32;
inline constexpr std::size_t kRepairAreaBytes = kMaxMembers * kRepairSlotBytes;
constexpr std::size_t repair_area_offset(std::size_t slots) noexcept {
  return slots * kTokenSlotBytes + kWakeAreaBytes;
}
// Then one control slot per peer (membership's messages, membership/membership_message.hpp):
// peer u of the cluster's node list writes its messages to slot u only.
inline constexpr std::size_t kControlSlotBytes = 4096;
inline constexpr std::size_t kControlAreaBytes = kMaxMembers * kControlSlotBytes;

constexpr std::size_t control_area_offset(std::size_t slots) noexcept {
  return repair_area_offset(slots) + kRepairAreaBytes;
}
constexpr std::size_t mailbox_bytes(std::size_t slots) noexcept {
  return control_area_offset(slots) + kControlAreaBytes;
}

// Writes the token into out (at least token_encoded_bytes(...)), returns the
// bytes written.
std::size_t encode_token(const Token& token, std::span<std::byte> out) noexcept;

enum class TokenFault : std::uint8_t {
  none,
  truncated,
  bad_magic,
  bad_length,
  bad_checksum,
  bad_version,
  wrong_ring,
  wrong_members,  // member count not the ring's
  bad_field,      // counts, progress or retransmit requests impossible
  stale,          // not newer than the newest token this member accepted
  wrong_link,     // not from this member's ring predecessor
  overwritten,    // not the token its immediate announced: another write replaced it
};

const char* token_fault_name(TokenFault fault) noexcept;

struct TokenLimits {
  RingId ring;
  std::size_t member_count = 0;
};

// Validates everything before filling *out: sizes, magic, checksum, version,
// ring id, member count, and that the fields are consistent (no member
// received beyond the highest seq or released beyond the next position, no
// request for a seq not yet assigned). Staleness (token seq) is the caller's.
// *checksum, when given, gets the checksum the bytes were checked against
// (one read of the bytes for both: they may change while it reads).
TokenFault decode_token(std::span<const std::byte> bytes, const TokenLimits& limits, Token* out,
                        std::uint32_t* checksum = nullptr) noexcept;

// The checksum of a token encode_token wrote as `encoded`.
std::uint32_t encoded_token_checksum(std::span<const std::byte> encoded) noexcept;

}  // namespace ringcast::ring
