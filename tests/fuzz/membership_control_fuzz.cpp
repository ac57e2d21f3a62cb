// Fuzzes membership's control-message decoder (membership/membership_message.hpp): any
// bytes in a control slot, from any sender slot, must be refused or decode
// into a message that keeps every promise the decoder makes, never crash,
// hang or read out of bounds (ASan + UBSan). A decoded message must also
// survive re-encoding unchanged (the decoder and the encoder agree).
//
// Input: u8 options, then the message. Unless the options say otherwise the
// harness makes the byte length agree with the info count (bit 0 keeps it)
// and recomputes the crc at the end of that length (bit 1 keeps it), so
// mutations reach the checks behind the crc.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/assert.hpp"
#include "fuzz_support.hpp"
#include "membership/membership_message.hpp"
#include "membership_samples.hpp"

namespace ringcast::membership {
namespace {

const std::vector<NodeId> kNodes = {7, 11, 13, 42, 99};

void check(const MembershipMessage& m) {
  const NodeMask cluster = bit(kNodes.size()) - 1;
  RC_ASSERT(m.sender_index < kNodes.size() && kNodes[m.sender_index] == m.sender);
  RC_ASSERT(((m.candidates | m.members) & ~cluster) == 0 && (m.failed & ~cluster) == 0 &&
            (m.reach & ~cluster) == 0);
  RC_ASSERT(m.info_count <= kMaxNodes);
  for (std::size_t i = 0; i < m.info_count; ++i) {
    const OldRingInfo& info = m.infos[i];
    RC_ASSERT(info.delivered <= info.received_up_to);
    RC_ASSERT(info.released_position <= info.end_position);
    RC_ASSERT(info.ring.epoch <= info.max_epoch);
  }
  switch (m.type) {
    case MembershipMessageType::join:
      RC_ASSERT(m.info_count == 1 && has(m.candidates, m.sender_index) &&
                !has(m.failed, m.sender_index));
      RC_ASSERT((m.failed & ~m.candidates) == 0 && has(m.reach, m.sender_index));
      break;
    case MembershipMessageType::commit:
      RC_ASSERT(m.info_count == static_cast<std::size_t>(count(m.members)));
      RC_ASSERT(lowest(m.members) == m.sender_index && m.ring.representative == m.sender);
      for (std::size_t i = 0; i < m.info_count; ++i)
        RC_ASSERT(m.infos[i].max_epoch < m.ring.epoch);
      break;
    case MembershipMessageType::recovered:
      RC_ASSERT(m.through_seq >= 1 && m.info_count == 0);
      break;
    case MembershipMessageType::ready:
      RC_ASSERT(m.info_count == 0 && m.members == 0);
      break;
  }
}

// Offsets of the layout (membership_message.hpp): byte length, info count.
constexpr std::size_t kLengthAt = 6;
constexpr std::size_t kInfoCountAt = 10;

void reseal(std::span<std::byte> m, std::uint8_t options) {
  if (m.size() < kMembershipMessageFixedBytes) return;
  if ((options & 1) == 0) {
    const std::size_t n =
        membership_message_bytes(wire::get<std::uint16_t>(m.data() + kInfoCountAt));
    wire::put<std::uint16_t>(m.data() + kLengthAt, static_cast<std::uint16_t>(n));
  }
  const std::size_t length = wire::get<std::uint16_t>(m.data() + kLengthAt);
  if ((options & 2) == 0 && length >= 4) fuzz::reseal_crc_at(m, length - 4);
}

}  // namespace
}  // namespace ringcast::membership

ringcast::fuzz::Seeds make_seeds() {
  using namespace ringcast::membership;
  ringcast::fuzz::Seeds seeds;
  for (const MembershipMessage& m : ringcast::fuzz::sample_messages(kNodes, 5)) {
    std::vector<std::byte> bytes(ringcast::ring::kControlSlotBytes);
    bytes.resize(encode_membership_message(m, bytes));
    MembershipMessage back;
    RC_ASSERT(decode_membership_message(bytes, MembershipMessageLimits{kNodes}, &back) ==
              MembershipMessageFault::none);
    ringcast::fuzz::Writer w;
    w.u8(0).bytes(bytes);
    seeds.push_back(w.take());
  }
  return seeds;
}

RINGCAST_FUZZ_SEEDS()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringcast::membership;
  if (size < 1) return 0;
  std::vector<std::byte> bytes(size - 1);
  std::copy_n(data + 1, size - 1, reinterpret_cast<std::uint8_t*>(bytes.data()));
  reseal(bytes, data[0]);
  MembershipMessage m;
  if (decode_membership_message(bytes, MembershipMessageLimits{kNodes}, &m) !=
      MembershipMessageFault::none)
    return 0;
  check(m);
  std::vector<std::byte> again(ringcast::ring::kControlSlotBytes);
  again.resize(encode_membership_message(m, again));
  MembershipMessage back;
  RC_ASSERT(decode_membership_message(again, MembershipMessageLimits{kNodes}, &back) ==
            MembershipMessageFault::none);
  RC_ASSERT(back.type == m.type && back.sender == m.sender && back.message_seq == m.message_seq);
  RC_ASSERT(back.candidates == m.candidates && back.members == m.members &&
            back.failed == m.failed && back.reach == m.reach);
  RC_ASSERT(back.info_count == m.info_count && back.through_seq == m.through_seq);
  for (std::size_t i = 0; i < m.info_count; ++i)
    RC_ASSERT(back.infos[i] == m.infos[i]);
  return 0;
}
