#include "groups/control_message.hpp"

#include <cstring>

#include "base/assert.hpp"
#include "base/crc32c.hpp"
#include "base/wire.hpp"

namespace ringcast::groups {

const char* control_fault_name(ControlFault fault) noexcept {
  switch (fault) {
    case ControlFault::truncated:
      return "truncated";
    case ControlFault::bad_magic:
      return "bad_magic";
    case ControlFault::bad_version:
      return "bad_version";
    case ControlFault::bad_kind:
      return "bad_kind";
    case ControlFault::bad_flags:
      return "bad_flags";
    case ControlFault::empty_name:
      return "empty_name";
    case ControlFault::name_too_long:
      return "name_too_long";
    case ControlFault::name_truncated:
      return "name_truncated";
    case ControlFault::trailing_bytes:
      return "trailing_bytes";
  }
  return "unknown";
}

std::string ControlError::message() const {
  return std::string("group control message refused: ") + control_fault_name(fault) +
         " (payload of " + std::to_string(payload_bytes) + " bytes)";
}

std::uint32_t group_key(std::string_view name) noexcept {
  const std::uint32_t crc = crc32c(std::as_bytes(std::span(name.data(), name.size())));
  // Key 0 is the control group: a name hashing to it shares key 1 instead.
  return crc == kControlGroup ? 1 : crc;
}

std::size_t encode_control(const ControlMessage& message, std::span<std::byte> out) noexcept {
  RC_ASSERT(valid_group_name(message.name));
  const std::size_t total = kControlHeaderBytes + message.name.size();
  RC_ASSERT(out.size() >= total);
  std::byte* p = out.data();
  wire::put<std::uint8_t>(p + 0, kControlMagic);
  wire::put<std::uint8_t>(p + 1, kControlVersion);
  wire::put<std::uint8_t>(p + 2, static_cast<std::uint8_t>(message.kind));
  wire::put<std::uint8_t>(p + 3, 0);
  wire::put<std::uint16_t>(p + 4, static_cast<std::uint16_t>(message.name.size()));
  std::memcpy(p + kControlHeaderBytes, message.name.data(), message.name.size());
  return total;
}

namespace {

bool known_kind(std::uint8_t kind) noexcept {
  return kind >= static_cast<std::uint8_t>(ControlKind::join) &&
         kind <= static_cast<std::uint8_t>(ControlKind::finalize);
}

// The header's fields in wire order; the first fault found wins, so a payload
// has exactly one fault.
Result<ControlKind, ControlFault> check_header(std::span<const std::byte> payload) noexcept {
  if (payload.size() < kControlHeaderBytes) return ControlFault::truncated;
  const std::byte* p = payload.data();
  if (wire::get<std::uint8_t>(p + 0) != kControlMagic) return ControlFault::bad_magic;
  if (wire::get<std::uint8_t>(p + 1) != kControlVersion) return ControlFault::bad_version;
  const std::uint8_t kind = wire::get<std::uint8_t>(p + 2);
  if (!known_kind(kind)) return ControlFault::bad_kind;
  if (wire::get<std::uint8_t>(p + 3) != 0) return ControlFault::bad_flags;
  const std::size_t name_bytes = wire::get<std::uint16_t>(p + 4);
  if (name_bytes == 0) return ControlFault::empty_name;
  if (name_bytes > kMaxNameBytes) return ControlFault::name_too_long;
  const std::size_t present = payload.size() - kControlHeaderBytes;
  if (name_bytes > present) return ControlFault::name_truncated;
  if (name_bytes < present) return ControlFault::trailing_bytes;
  return static_cast<ControlKind>(kind);
}

}  // namespace

Result<ControlMessage, ControlError> decode_control(std::span<const std::byte> payload) {
  Result<ControlKind, ControlFault> kind = check_header(payload);
  if (!kind) return ControlError{kind.error(), payload.size()};
  // check_header proved that the name fills the rest of the payload exactly.
  const auto name = payload.subspan(kControlHeaderBytes);
  RC_ASSERT(valid_group_name({reinterpret_cast<const char*>(name.data()), name.size()}));
  return ControlMessage{*kind,
                        std::string(reinterpret_cast<const char*>(name.data()), name.size())};
}

}  // namespace ringcast::groups
