#include "membership/membership_message.hpp"

#include "base/assert.hpp"
#include "base/crc32c.hpp"
#include "base/wire.hpp"
#include "ring/imm.hpp"
#include "ring/log_space.hpp"
#include "ring/record.hpp"

namespace ringcast::membership {
namespace {

std::uint16_t expected_infos(MembershipMessageType type, NodeMask members) noexcept {
  switch (type) {
    case MembershipMessageType::join:
      return 1;
    case MembershipMessageType::commit:
      return static_cast<std::uint16_t>(count(members));
    case MembershipMessageType::recovered:
    case MembershipMessageType::ready:
      return 0;
  }
  return 0;
}

// A record boundary within the log's range (ring/log_space.hpp): a new
// ring's base comes from these ends.
bool position_possible(std::uint64_t position) noexcept {
  return position % ring::kRecordAlignBytes == 0 && position <= ring::kMaxLogPosition;
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
         position_possible(i->end_position) && i->ring.epoch <= i->max_epoch;
}

bool masks_valid(const MembershipMessage& m, NodeMask cluster) noexcept {
  if (((m.candidates | m.members) & ~cluster) != 0 || (m.failed & ~cluster) != 0 ||
      (m.reach & ~cluster) != 0) {
    return false;
  }
  const NodeMask me = bit(m.sender_index);
  switch (m.type) {
    case MembershipMessageType::join:  // candidates include me and the failed; I did not fail
      return (m.candidates & me) != 0 && (m.failed & me) == 0 && (m.failed & ~m.candidates) == 0 &&
             (m.reach & me) != 0;
    case MembershipMessageType::commit:  // sent by the representative: the lowest member
      return m.members != 0 && m.failed == 0 && lowest(m.members) == m.sender_index &&
             m.ring.representative == m.sender;
    case MembershipMessageType::recovered:
    case MembershipMessageType::ready:
      return m.members == 0 && m.failed == 0;
  }
  return false;
}

bool fields_valid(const MembershipMessage& m) noexcept {
  if (m.type == MembershipMessageType::recovered) {
    return m.through_seq >= 1 && position_possible(m.end_position);
  }
  if (m.through_seq != 0 || m.end_position != 0 || m.old_ring != RingId{}) return false;
  if (m.type == MembershipMessageType::commit) {
    for (std::size_t i = 0; i < m.info_count; ++i) {
      if (m.infos[i].max_epoch >= m.ring.epoch) return false;  // the new epoch grows
    }
  }
  return true;
}

}  // namespace

std::size_t encode_membership_message(const MembershipMessage& m,
                                      std::span<std::byte> out) noexcept {
  RC_ASSERT(m.info_count <= kMaxNodes);
  const std::size_t length = membership_message_bytes(m.info_count);
  RC_ASSERT(out.size() >= length);
  std::byte* p = out.data();
  wire::put<std::uint32_t>(p + 0, kMembershipMessageMagic);
  wire::put<std::uint16_t>(p + 4, kMembershipMessageVersion);
  wire::put<std::uint16_t>(p + 6, static_cast<std::uint16_t>(length));
  wire::put<std::uint8_t>(p + 8, static_cast<std::uint8_t>(m.type));
  wire::put<std::uint8_t>(p + 9, m.sender_index);
  wire::put<std::uint16_t>(p + 10, m.info_count);
  wire::put<std::uint32_t>(p + 12, m.sender);
  wire::put<std::uint64_t>(p + 16, m.message_seq);
  wire::put<std::uint32_t>(p + 24, m.ring.representative);
  wire::put<std::uint32_t>(p + 28, 0);
  wire::put<std::uint64_t>(p + 32, m.ring.epoch);
  wire::put<std::uint64_t>(p + 40,
                           m.type == MembershipMessageType::join ? m.candidates : m.members);
  wire::put<std::uint64_t>(p + 48, m.failed);
  wire::put<std::uint64_t>(p + 56, m.type == MembershipMessageType::join ? m.reach : m.through_seq);
  wire::put<std::uint64_t>(p + 64, m.end_position);
  wire::put<std::uint32_t>(p + 72, m.old_ring.representative);
  wire::put<std::uint32_t>(p + 76, 0);
  wire::put<std::uint64_t>(p + 80, m.old_ring.epoch);
  for (std::size_t i = 0; i < m.info_count; ++i)
    put_info(p + kMembershipMessageFixedBytes + i * kMembershipMessageInfoBytes, m.infos[i]);
  wire::put<std::uint32_t>(p + length - 4, crc32c(out.first(length - 4)));
  return length;
}

MembershipMessageFault decode_membership_message(std::span<const std::byte> bytes,
                                                 const MembershipMessageLimits& limits,
                                                 MembershipMessage* out) noexcept {
  if (bytes.size() < membership_message_bytes(0)) return MembershipMessageFault::truncated;
  const std::byte* p = bytes.data();
  if (wire::get<std::uint32_t>(p) != kMembershipMessageMagic)
    return MembershipMessageFault::bad_magic;
  const std::size_t length = wire::get<std::uint16_t>(p + 6);
  const std::size_t infos = wire::get<std::uint16_t>(p + 10);
  if (infos > kMaxNodes || length != membership_message_bytes(infos))
    return MembershipMessageFault::bad_length;
  if (bytes.size() < length) return MembershipMessageFault::truncated;
  if (wire::get<std::uint32_t>(p + length - 4) != crc32c(bytes.first(length - 4))) {
    return MembershipMessageFault::bad_checksum;
  }
  if (wire::get<std::uint16_t>(p + 4) != kMembershipMessageVersion)
    return MembershipMessageFault::bad_version;
  const auto type = wire::get<std::uint8_t>(p + 8);
  if (type < 1 || type > 4) return MembershipMessageFault::bad_type;
  MembershipMessage m;
  m.type = static_cast<MembershipMessageType>(type);
  m.sender_index = wire::get<std::uint8_t>(p + 9);
  m.sender = wire::get<std::uint32_t>(p + 12);
  if (m.sender_index >= limits.nodes.size() || limits.nodes[m.sender_index] != m.sender) {
    return MembershipMessageFault::bad_sender;
  }
  m.info_count = static_cast<std::uint16_t>(infos);
  m.message_seq = wire::get<std::uint64_t>(p + 16);
  m.ring = {wire::get<std::uint32_t>(p + 24), wire::get<std::uint64_t>(p + 32)};
  (m.type == MembershipMessageType::join ? m.candidates : m.members) =
      wire::get<std::uint64_t>(p + 40);
  m.failed = wire::get<std::uint64_t>(p + 48);
  (m.type == MembershipMessageType::join ? m.reach : m.through_seq) =
      wire::get<std::uint64_t>(p + 56);
  m.end_position = wire::get<std::uint64_t>(p + 64);
  m.old_ring = {wire::get<std::uint32_t>(p + 72), wire::get<std::uint64_t>(p + 80)};
  if (wire::get<std::uint32_t>(p + 28) != 0 || wire::get<std::uint32_t>(p + 76) != 0) {
    return MembershipMessageFault::bad_field;
  }
  const NodeMask cluster = limits.nodes.size() >= 64 ? ~NodeMask{0} : bit(limits.nodes.size()) - 1;
  if (!masks_valid(m, cluster) || infos != expected_infos(m.type, m.members)) {
    return MembershipMessageFault::bad_field;
  }
  for (std::size_t i = 0; i < infos; ++i) {
    if (!get_info(p + kMembershipMessageFixedBytes + i * kMembershipMessageInfoBytes,
                  &m.infos[i])) {
      return MembershipMessageFault::bad_field;
    }
  }
  if (!fields_valid(m)) return MembershipMessageFault::bad_field;
  *out = m;
  return MembershipMessageFault::none;
}

const char* membership_message_fault_name(MembershipMessageFault fault) noexcept {
  switch (fault) {
    case MembershipMessageFault::none:
      return "none";
    case MembershipMessageFault::truncated:
      return "truncated";
    case MembershipMessageFault::bad_magic:
      return "bad magic";
    case MembershipMessageFault::bad_length:
      return "bad length";
    case MembershipMessageFault::bad_checksum:
      return "bad checksum";
    case MembershipMessageFault::bad_version:
      return "bad version";
    case MembershipMessageFault::bad_type:
      return "bad type";
    case MembershipMessageFault::bad_sender:
      return "bad sender";
    case MembershipMessageFault::bad_field:
      return "bad field";
    case MembershipMessageFault::stale:
      return "stale";
    case MembershipMessageFault::wrong_link:
      return "wrong link";
  }
  return "unknown";
}

std::uint32_t membership_message_imm(std::size_t sender_index, std::uint64_t message_seq) noexcept {
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
