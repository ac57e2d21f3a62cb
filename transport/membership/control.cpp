#include "membership/control.hpp"

#include "base/assert.hpp"
#include "base/crc32c.hpp"
#include "base/wire.hpp"
#include "ring/imm.hpp"

namespace ringcast::membership {
namespace {

std::uint16_t expected_infos(ControlType type, NodeMask members) noexcept {
  switch (type) {
    case ControlType::join:
      return 1;
    case ControlType::commit:
      return static_cast<std::uint16_t>(count(members));
    case ControlType::recovered:
    case ControlType::ready:
      return 0;
  }
  return 0;
}

void put_info(std::byte* p, const OldRingInfo& i) noexcept {
  wire::put<std::uint32_t>(p + 0, i.ring.representative);
  wire::put<std::uint32_t>(p + 4, 0);
  wire::put<std::uint64_t>(p + 8, i.ring.epoch);
  wire::put<std::uint64_t>(p + 16, i.received_up_to);
  wire::put<std::uint64_t>(p + 24, i.delivered);
  wire::put<std::uint64_t>(p + 32, i.end_position);
  wire::put<std::uint64_t>(p + 40, i.released_position);
  wire::put<std::uint64_t>(p + 48, i.max_epoch);
}

// An info is consistent alone: delivered within received, released within
// the end, positions aligned, its ring no newer than what it has seen.
bool get_info(const std::byte* p, OldRingInfo* i) noexcept {
  if (wire::get<std::uint32_t>(p + 4) != 0) return false;
  i->ring = {wire::get<std::uint32_t>(p + 0), wire::get<std::uint64_t>(p + 8)};
  i->received_up_to = wire::get<std::uint64_t>(p + 16);
  i->delivered = wire::get<std::uint64_t>(p + 24);
  i->end_position = wire::get<std::uint64_t>(p + 32);
  i->released_position = wire::get<std::uint64_t>(p + 40);
  i->max_epoch = wire::get<std::uint64_t>(p + 48);
  return i->delivered <= i->received_up_to && i->released_position <= i->end_position &&
         i->end_position % ring::kRecordAlignBytes == 0 && i->ring.epoch <= i->max_epoch;
}

bool masks_valid(const ControlMessage& m, NodeMask cluster) noexcept {
  if ((m.mask_a & ~cluster) != 0 || (m.mask_b & ~cluster) != 0 || (m.reach & ~cluster) != 0) {
    return false;
  }
  const NodeMask me = bit(m.sender_index);
  switch (m.type) {
    case ControlType::join:  // candidates include me and the failed; I did not fail
      return (m.mask_a & me) != 0 && (m.mask_b & me) == 0 && (m.mask_b & ~m.mask_a) == 0 &&
             (m.reach & me) != 0;
    case ControlType::commit:  // sent by the representative: the lowest member
      return m.mask_a != 0 && m.mask_b == 0 && lowest(m.mask_a) == m.sender_index &&
             m.ring.representative == m.sender;
    case ControlType::recovered:
    case ControlType::ready:
      return m.mask_a == 0 && m.mask_b == 0;
  }
  return false;
}

bool fields_valid(const ControlMessage& m) noexcept {
  if (m.type == ControlType::recovered) {
    return m.through_seq >= 1 && m.end_position % ring::kRecordAlignBytes == 0;
  }
  if (m.through_seq != 0 || m.end_position != 0 || m.old_ring != RingId{}) return false;
  if (m.type == ControlType::commit) {
    for (std::size_t i = 0; i < m.info_count; ++i) {
      if (m.infos[i].max_epoch >= m.ring.epoch) return false;  // the new epoch grows
    }
  }
  return true;
}

}  // namespace

std::size_t encode_control(const ControlMessage& m, std::span<std::byte> out) noexcept {
  RC_ASSERT(m.info_count <= kMaxNodes);
  const std::size_t length = control_encoded_bytes(m.info_count);
  RC_ASSERT(out.size() >= length);
  std::byte* p = out.data();
  wire::put<std::uint32_t>(p + 0, kControlMagic);
  wire::put<std::uint16_t>(p + 4, kControlVersion);
  wire::put<std::uint16_t>(p + 6, static_cast<std::uint16_t>(length));
  wire::put<std::uint8_t>(p + 8, static_cast<std::uint8_t>(m.type));
  wire::put<std::uint8_t>(p + 9, m.sender_index);
  wire::put<std::uint16_t>(p + 10, m.info_count);
  wire::put<std::uint32_t>(p + 12, m.sender);
  wire::put<std::uint64_t>(p + 16, m.message_seq);
  wire::put<std::uint32_t>(p + 24, m.ring.representative);
  wire::put<std::uint32_t>(p + 28, 0);
  wire::put<std::uint64_t>(p + 32, m.ring.epoch);
  wire::put<std::uint64_t>(p + 40, m.mask_a);
  wire::put<std::uint64_t>(p + 48, m.mask_b);
  wire::put<std::uint64_t>(p + 56, m.type == ControlType::join ? m.reach : m.through_seq);
  wire::put<std::uint64_t>(p + 64, m.end_position);
  wire::put<std::uint32_t>(p + 72, m.old_ring.representative);
  wire::put<std::uint32_t>(p + 76, 0);
  wire::put<std::uint64_t>(p + 80, m.old_ring.epoch);
  for (std::size_t i = 0; i < m.info_count; ++i)
    put_info(p + kControlFixedBytes + i * kControlInfoBytes, m.infos[i]);
  wire::put<std::uint32_t>(p + length - 4, crc32c(out.first(length - 4)));
  return length;
}

ControlFault decode_control(std::span<const std::byte> bytes, const ControlLimits& limits,
                            ControlMessage* out) noexcept {
  if (bytes.size() < control_encoded_bytes(0)) return ControlFault::truncated;
  const std::byte* p = bytes.data();
  if (wire::get<std::uint32_t>(p) != kControlMagic) return ControlFault::bad_magic;
  const std::size_t length = wire::get<std::uint16_t>(p + 6);
  const std::size_t infos = wire::get<std::uint16_t>(p + 10);
  if (infos > kMaxNodes || length != control_encoded_bytes(infos)) return ControlFault::bad_length;
  if (bytes.size() < length) return ControlFault::truncated;
  if (wire::get<std::uint32_t>(p + length - 4) != crc32c(bytes.first(length - 4))) {
    return ControlFault::bad_checksum;
  }
  if (wire::get<std::uint16_t>(p + 4) != kControlVersion) return ControlFault::bad_version;
  const auto type = wire::get<std::uint8_t>(p + 8);
  if (type < 1 || type > 4) return ControlFault::bad_type;
  ControlMessage m;
  m.type = static_cast<ControlType>(type);
  m.sender_index = wire::get<std::uint8_t>(p + 9);
  m.sender = wire::get<std::uint32_t>(p + 12);
  if (m.sender_index >= limits.nodes.size() || limits.nodes[m.sender_index] != m.sender) {
    return ControlFault::bad_sender;
  }
  m.info_count = static_cast<std::uint16_t>(infos);
  m.message_seq = wire::get<std::uint64_t>(p + 16);
  m.ring = {wire::get<std::uint32_t>(p + 24), wire::get<std::uint64_t>(p + 32)};
  m.mask_a = wire::get<std::uint64_t>(p + 40);
  m.mask_b = wire::get<std::uint64_t>(p + 48);
  (m.type == ControlType::join ? m.reach : m.through_seq) = wire::get<std::uint64_t>(p + 56);
  m.end_position = wire::get<std::uint64_t>(p + 64);
  m.old_ring = {wire::get<std::uint32_t>(p + 72), wire::get<std::uint64_t>(p + 80)};
  if (wire::get<std::uint32_t>(p + 28) != 0 || wire::get<std::uint32_t>(p + 76) != 0) {
    return ControlFault::bad_field;
  }
  const NodeMask cluster = limits.nodes.size() >= 64 ? ~NodeMask{0} : bit(limits.nodes.size()) - 1;
  if (!masks_valid(m, cluster) || infos != expected_infos(m.type, m.mask_a)) {
    return ControlFault::bad_field;
  }
  for (std::size_t i = 0; i < infos; ++i) {
    if (!get_info(p + kControlFixedBytes + i * kControlInfoBytes, &m.infos[i])) {
      return ControlFault::bad_field;
    }
  }
  if (!fields_valid(m)) return ControlFault::bad_field;
  *out = m;
  return ControlFault::none;
}

const char* control_fault_name(ControlFault fault) noexcept {
  switch (fault) {
    case ControlFault::none:
      return "none";
    case ControlFault::truncated:
      return "truncated";
    case ControlFault::bad_magic:
      return "bad magic";
    case ControlFault::bad_length:
      return "bad length";
    case ControlFault::bad_checksum:
      return "bad checksum";
    case ControlFault::bad_version:
      return "bad version";
    case ControlFault::bad_type:
      return "bad type";
    case ControlFault::bad_sender:
      return "bad sender";
    case ControlFault::bad_field:
      return "bad field";
    case ControlFault::stale:
      return "stale";
  }
  return "unknown";
}

std::uint32_t control_imm(std::size_t sender_index, std::uint64_t message_seq) noexcept {
  return ring::make_imm(ring::ImmKind::membership,
                        (static_cast<std::uint32_t>(sender_index) << 24) |
                            static_cast<std::uint32_t>(message_seq & 0xFFFFFFu));
}
std::size_t control_imm_sender(std::uint32_t imm) noexcept {
  return ring::imm_arg(imm) >> 24;
}
std::uint32_t control_imm_seq(std::uint32_t imm) noexcept {
  return ring::imm_arg(imm) & 0xFFFFFFu;
}

}  // namespace ringcast::membership
