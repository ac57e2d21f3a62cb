#include "groups/group_message.hpp"

#include <cstring>

#include "base/assert.hpp"
#include "base/crc32c.hpp"
#include "base/wire.hpp"

namespace ringcast::groups {

const char* group_message_fault_name(GroupMessageFault fault) noexcept {
  switch (fault) {
    case GroupMessageFault::truncated:
      return "truncated";
    case GroupMessageFault::bad_magic:
      return "bad_magic";
    case GroupMessageFault::bad_version:
      return "bad_version";
    case GroupMessageFault::bad_kind:
      return "bad_kind";
    case GroupMessageFault::bad_flags:
      return "bad_flags";
    case GroupMessageFault::empty_name:
      return "empty_name";
    case GroupMessageFault::name_too_long:
      return "name_too_long";
    case GroupMessageFault::name_truncated:
      return "name_truncated";
    case GroupMessageFault::trailing_bytes:
      return "trailing_bytes";
    case GroupMessageFault::unexpected_name:
      return "unexpected_name";
    case GroupMessageFault::ring_truncated:
      return "ring_truncated";
  }
  return "unknown";
}

std::string GroupMessageError::message() const {
  return std::string("group control message refused: ") + group_message_fault_name(fault) +
         " (payload of " + std::to_string(payload_bytes) + " bytes)";
}

std::uint32_t group_key(std::string_view name) noexcept {
  const std::uint32_t crc = crc32c(std::as_bytes(std::span(name.data(), name.size())));
  // Keys 0 and 2^32 - 1 carry control records and fragments: a name hashing
  // to one of them shares a neighbouring key instead.
  if (crc == kControlGroup) return 1;
  if (crc == kFragmentGroup) return kFragmentGroup - 1;
  return crc;
}

std::size_t group_message_bytes(const GroupMessage& message) noexcept {
  return kGroupMessageHeaderBytes + message.name.size() +
         (is_announce(message.kind) ? kAnnounceRingBytes : 0);
}

std::size_t encode_group_message(const GroupMessage& message, std::span<std::byte> out) noexcept {
  RC_ASSERT(names_a_group(message.kind) ? valid_group_name(message.name) : message.name.empty());
  const std::size_t total = group_message_bytes(message);
  RC_ASSERT(out.size() >= total);
  std::byte* p = out.data();
  wire::put<std::uint8_t>(p + 0, kGroupMessageMagic);
  wire::put<std::uint8_t>(p + 1, kGroupMessageVersion);
  wire::put<std::uint8_t>(p + 2, static_cast<std::uint8_t>(message.kind));
  wire::put<std::uint8_t>(p + 3, 0);
  wire::put<std::uint16_t>(p + 4, static_cast<std::uint16_t>(message.name.size()));
  if (!message.name.empty())
    std::memcpy(p + kGroupMessageHeaderBytes, message.name.data(), message.name.size());
  if (is_announce(message.kind)) {
    std::byte* ring = p + kGroupMessageHeaderBytes + message.name.size();
    wire::put<std::uint32_t>(ring, message.ring_representative);
    wire::put<std::uint64_t>(ring + 4, message.ring_epoch);
  }
  return total;
}

namespace {

bool known_kind(std::uint8_t kind) noexcept {
  return kind >= static_cast<std::uint8_t>(GroupMessageKind::join) &&
         kind <= static_cast<std::uint8_t>(GroupMessageKind::announce_done);
}

// The header's fields in wire order; the first fault found wins, so a payload
// has exactly one fault.
Result<GroupMessageKind, GroupMessageFault> check_header(
    std::span<const std::byte> payload) noexcept {
  if (payload.size() < kGroupMessageHeaderBytes) return GroupMessageFault::truncated;
  const std::byte* p = payload.data();
  if (wire::get<std::uint8_t>(p + 0) != kGroupMessageMagic) return GroupMessageFault::bad_magic;
  if (wire::get<std::uint8_t>(p + 1) != kGroupMessageVersion) return GroupMessageFault::bad_version;
  const std::uint8_t kind = wire::get<std::uint8_t>(p + 2);
  if (!known_kind(kind)) return GroupMessageFault::bad_kind;
  if (wire::get<std::uint8_t>(p + 3) != 0) return GroupMessageFault::bad_flags;
  const auto k = static_cast<GroupMessageKind>(kind);
  const std::size_t name_bytes = wire::get<std::uint16_t>(p + 4);
  if (!names_a_group(k)) {
    if (name_bytes != 0) return GroupMessageFault::unexpected_name;
  } else {
    if (name_bytes == 0) return GroupMessageFault::empty_name;
    if (name_bytes > kMaxNameBytes) return GroupMessageFault::name_too_long;
  }
  const std::size_t present = payload.size() - kGroupMessageHeaderBytes;
  if (name_bytes > present) return GroupMessageFault::name_truncated;
  const std::size_t ring_bytes = is_announce(k) ? kAnnounceRingBytes : 0;
  if (present - name_bytes < ring_bytes) return GroupMessageFault::ring_truncated;
  if (present - name_bytes > ring_bytes) return GroupMessageFault::trailing_bytes;
  return k;
}

}  // namespace

Result<GroupMessage, GroupMessageError> decode_group_message(std::span<const std::byte> payload) {
  Result<GroupMessageKind, GroupMessageFault> kind = check_header(payload);
  if (!kind) return GroupMessageError{kind.error(), payload.size()};
  // check_header proved that the name (and the ring, for the announce kinds)
  // fill the rest of the payload exactly.
  const std::size_t name_bytes = wire::get<std::uint16_t>(payload.data() + 4);
  const auto name = payload.subspan(kGroupMessageHeaderBytes, name_bytes);
  GroupMessage m{*kind, std::string(reinterpret_cast<const char*>(name.data()), name.size())};
  RC_ASSERT(names_a_group(m.kind) ? valid_group_name(m.name) : m.name.empty());
  if (is_announce(m.kind)) {
    const std::byte* ring = payload.data() + kGroupMessageHeaderBytes + name_bytes;
    m.ring_representative = wire::get<std::uint32_t>(ring);
    m.ring_epoch = wire::get<std::uint64_t>(ring + 4);
  }
  return m;
}

}  // namespace ringcast::groups
