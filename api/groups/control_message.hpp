// The group layer's control messages and the key of a group name.
//
// Control messages travel as records on ring group kControlGroup (0); data
// records carry group_key(name) instead. Both are ordered in the ring's total
// order, which is what makes every member's group table the same.
//
// Wire format of a control payload (little-endian, base/wire.hpp):
//    0 u8  magic (0xC9)          1 u8  version (1)
//    2 u8  kind (ControlKind)    3 u8  flags (0; reserved)
//    4 u16 name bytes (1..128)   6     name bytes, nothing after them
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
// CPG_MAX_NAME_LENGTH: names are 1..128 bytes, binary, not NUL-terminated.
inline constexpr std::size_t kMaxNameBytes = 128;

inline constexpr std::uint8_t kControlMagic = 0xC9;
inline constexpr std::uint8_t kControlVersion = 1;
inline constexpr std::size_t kControlHeaderBytes = 6;
inline constexpr std::size_t kMaxControlBytes = kControlHeaderBytes + kMaxNameBytes;

enum class ControlKind : std::uint8_t {
  join = 1,
  leave = 2,
  finalize = 3,  // the process closed its handle: it leaves with PROCDOWN
};

struct ControlMessage {
  ControlKind kind = ControlKind::join;
  std::string name;  // binary, 1..kMaxNameBytes bytes

  friend bool operator==(const ControlMessage&, const ControlMessage&) = default;
};

// Why decode_control refused a payload.
enum class ControlFault : std::uint8_t {
  truncated,       // shorter than the header
  bad_magic,       // not a group control message
  bad_version,     // a version this build does not speak
  bad_kind,        // not join, leave or finalize
  bad_flags,       // a reserved bit set
  empty_name,      // name length 0
  name_too_long,   // name length above kMaxNameBytes
  name_truncated,  // name length beyond the bytes present
  trailing_bytes,  // bytes after the name
};

const char* control_fault_name(ControlFault fault) noexcept;

struct ControlError {
  ControlFault fault = ControlFault::truncated;
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
// mapped to 1 where it would be kControlGroup. Different names may share a key
// (see GroupTable::route).
std::uint32_t group_key(std::string_view name) noexcept;

// Writes `message` into `out` and returns the bytes written.
// Preconditions (the caller validated the name): valid_group_name(name), and
// out holds at least kControlHeaderBytes + name.size() bytes.
std::size_t encode_control(const ControlMessage& message, std::span<std::byte> out) noexcept;

// Reads a control payload from a peer. Validates every byte; never trusts a
// length.
Result<ControlMessage, ControlError> decode_control(std::span<const std::byte> payload);

}  // namespace ringcast::groups
