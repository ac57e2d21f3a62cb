// The 32-bit immediate of a write says what just landed. The 2 top bits are
// the kind, the 30 low bits its argument:
//   00 records: bits 28..0 the offset of the batch's LAST record in the log
//      / 64; bit 29 set: a relayed batch, which every
//      member forwards to its successor (docs/protocol.md "Relay"). The write
//      with this immediate is the last of the batch's chain on that link, and
//      the link is FIFO, so every record of the batch has landed with it.
//   01 token:   bits 7..0 the mailbox slot the token was written to, bits
//      29..8 the low 22 bits of the token's checksum: any peer can write the
//      slot, so the reader checks that it holds the bytes the predecessor
//      announced, not a token another peer wrote over them since they landed.
//   10 control: bits 29..24 the control type, 23..0 its argument. Type 0 is
//      a wake (argument: the sender's member index); type 1 a repair request
//      (argument: the sender's member index; the request is in its slot of
//      the mailbox's repair area); type 2 a repair (argument: how many
//      records the write carrying it wrote again, from the requested seq);
//      the other types are left to membership.
//   11 reserved for membership.
#pragma once

#include <cstdint>

#include "ring/record.hpp"

namespace ringcast::ring {

enum class ImmKind : std::uint8_t { records = 0, token = 1, control = 2, membership = 3 };
enum class ControlImmType : std::uint8_t { wake = 0, repair_request = 1, repaired = 2 };

inline constexpr std::uint32_t kImmArgMask = (1u << 30) - 1;
inline constexpr std::uint32_t kRelayImmBit = 1u << 29;
inline constexpr std::uint32_t kRecordsOffsetMask = kRelayImmBit - 1;
// Largest log the records immediate can address.
inline constexpr std::uint64_t kMaxLogBytes =
    (std::uint64_t{kRecordsOffsetMask} + 1) * kRecordAlignBytes;

constexpr std::uint32_t make_imm(ImmKind kind, std::uint32_t arg) noexcept {
  return (static_cast<std::uint32_t>(kind) << 30) | (arg & kImmArgMask);
}
constexpr ImmKind imm_kind(std::uint32_t imm) noexcept {
  return static_cast<ImmKind>(imm >> 30);
}
constexpr std::uint32_t imm_arg(std::uint32_t imm) noexcept {
  return imm & kImmArgMask;
}

constexpr std::uint32_t records_imm(std::uint64_t last_record_offset, bool relay = false) noexcept {
  return make_imm(
      ImmKind::records,
      (static_cast<std::uint32_t>(last_record_offset / kRecordAlignBytes) & kRecordsOffsetMask) |
          (relay ? kRelayImmBit : 0));
}
constexpr std::uint64_t records_imm_offset(std::uint32_t imm) noexcept {
  return std::uint64_t{imm_arg(imm) & kRecordsOffsetMask} * kRecordAlignBytes;
}
constexpr bool records_imm_relay(std::uint32_t imm) noexcept {
  return (imm_arg(imm) & kRelayImmBit) != 0;
}
inline constexpr std::uint32_t kTokenImmSlotBits = 8;
inline constexpr std::uint32_t kMaxMailboxSlots = 1u << kTokenImmSlotBits;
inline constexpr std::uint32_t kTokenImmCheckMask = kImmArgMask >> kTokenImmSlotBits;

constexpr std::uint32_t token_imm(std::uint32_t slot, std::uint32_t token_checksum) noexcept {
  return make_imm(ImmKind::token, (slot & (kMaxMailboxSlots - 1)) |
                                      ((token_checksum & kTokenImmCheckMask) << kTokenImmSlotBits));
}
constexpr std::uint32_t token_imm_slot(std::uint32_t imm) noexcept {
  return imm_arg(imm) & (kMaxMailboxSlots - 1);
}
// Whether the immediate announced a token with this checksum.
constexpr bool token_imm_matches(std::uint32_t imm, std::uint32_t token_checksum) noexcept {
  return (imm_arg(imm) >> kTokenImmSlotBits) == (token_checksum & kTokenImmCheckMask);
}
constexpr std::uint32_t control_imm(ControlImmType type, std::uint32_t arg) noexcept {
  return make_imm(ImmKind::control, (static_cast<std::uint32_t>(type) << 24) | (arg & 0xFFFFFFu));
}
constexpr ControlImmType control_imm_type(std::uint32_t imm) noexcept {
  return static_cast<ControlImmType>(imm_arg(imm) >> 24);
}
constexpr std::uint32_t control_arg(std::uint32_t imm) noexcept {
  return imm_arg(imm) & 0xFFFFFFu;
}

}  // namespace ringcast::ring
