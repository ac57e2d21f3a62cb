// GroupMessage, the group layer's control records, and the key of a group name.
//
// Control messages travel as records on ring group kControlGroup (0); data
// records carry group_key(name) instead. Both are ordered in the ring's total
// order, which is what makes every member's group table the same.
//
// Wire format of a control payload (little-endian, base/wire.hpp):
//    0 u8  magic (0xC9)          1 u8  version (1)
//    2 u8  kind (GroupMessageKind)    3 u8  flags (0; reserved)
//    4 u16 name bytes            6     name bytes
// join, leave, finalize, announce: 1..128 name bytes; announce_done: none.
// announce and announce_done then carry the ring they belong to (u32 ring
// representative, u64 ring epoch); nothing else follows anything.
// A peer of another version is refused (its records are dropped and counted)
// rather than half-understood; a new version may only be added together with
// a rule for mixed rings.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace ringcast::groups {

// Ring group field of control records; data records never use it.
inline constexpr std::uint32_t kControlGroup = 0;
// Ring group field of the fragments of a message larger than the ring's
// atomic size (groups/fragment.hpp); data records never use it either.
inline constexpr std::uint32_t kFragmentGroup = 0xffff'ffff;
// CPG_MAX_NAME_LENGTH: names are 1..128 bytes, binary, not NUL-terminated.
inline constexpr std::size_t kMaxNameBytes = 128;

inline constexpr std::uint8_t kGroupMessageMagic = 0xC9;
inline constexpr std::uint8_t kGroupMessageVersion = 1;
inline constexpr std::size_t kGroupMessageHeaderBytes = 6;
inline constexpr std::size_t kAnnounceRingBytes = 12;  // u32 representative, u64 epoch
inline constexpr std::size_t kMaxGroupMessageBytes =
    kGroupMessageHeaderBytes + kMaxNameBytes + kAnnounceRingBytes;

enum class GroupMessageKind : std::uint8_t {
  join = 1,
  leave = 2,
  finalize = 3,  // the process closed its handle: it leaves with PROCDOWN
  // After a configuration change that brings nodes together, each node
  // re-announces its process's groups (one announce per group), then says it
  // is done (announce_done, no name). Both name the ring they belong to, so
  // an announce that reaches a later ring is recognised as stale.
  announce = 4,
  announce_done = 5,
};

constexpr bool is_announce(GroupMessageKind kind) noexcept {
  return kind == GroupMessageKind::announce || kind == GroupMessageKind::announce_done;
}
// Whether a message of this kind carries a group name.
constexpr bool names_a_group(GroupMessageKind kind) noexcept {
  return kind != GroupMessageKind::announce_done;
}

struct GroupMessage {
  GroupMessageKind kind = GroupMessageKind::join;
  std::string name;  // binary, 1..kMaxNameBytes bytes; empty for announce_done
  // announce and announce_done only (0 for the others): the ring whose
  // configuration change they answer.
  std::uint32_t ring_representative = 0;
  std::uint64_t ring_epoch = 0;

  friend bool operator==(const GroupMessage&, const GroupMessage&) = default;
};

// Why decode_group_message refused a payload.
enum class GroupMessageFault : std::uint8_t {
  truncated,        // shorter than the header
  bad_magic,        // not a group control message
  bad_version,      // a version this build does not speak
  bad_kind,         // not a GroupMessageKind
  bad_flags,        // a reserved bit set
  empty_name,       // name length 0 (a kind that needs a name)
  name_too_long,    // name length above kMaxNameBytes
  name_truncated,   // name length beyond the bytes present
  trailing_bytes,   // bytes after the name (and the ring, for the announce kinds)
  unexpected_name,  // announce_done with a name
  ring_truncated,   // announce kinds: the ring id missing or cut short
};

const char* group_message_fault_name(GroupMessageFault fault) noexcept;

struct GroupMessageError {
  GroupMessageFault fault = GroupMessageFault::truncated;
  std::size_t payload_bytes = 0;  // the size of the refused payload

  // "group control message refused: name_truncated (payload of 9 bytes)";
  // printable ASCII only, nothing of the peer's bytes.
  std::string message() const;
};

// Whether `name` is a valid group name (1..kMaxNameBytes bytes).
constexpr bool valid_group_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= kMaxNameBytes;
}

// The ring group field of a data record for `name`: crc32c of the name bytes,
// mapped to 1 where it would be kControlGroup and to kFragmentGroup - 1 where
// it would be kFragmentGroup. Different names may share a key
// (see GroupTable::route).
std::uint32_t group_key(std::string_view name) noexcept;

// The bytes encode_group_message writes for `message`.
std::size_t group_message_bytes(const GroupMessage& message) noexcept;

// Writes `message` into `out` and returns the bytes written.
// Preconditions (the caller validated the name): valid_group_name(name)
// (announce_done: an empty name), and out holds group_message_bytes(message).
std::size_t encode_group_message(const GroupMessage& message, std::span<std::byte> out) noexcept;

// Reads a control payload from a peer. Validates every byte; never trusts a
// length.
Result<GroupMessage, GroupMessageError> decode_group_message(std::span<const std::byte> payload);

}  // namespace ringcast::groups
