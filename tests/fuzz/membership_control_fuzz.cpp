// Fuzzes membership's control-message decoder (membership/membership_message.hpp): any
// bytes in a control slot, from any sender slot, must be refused or decode
// into a message that keeps every promise the decoder makes, never crash,
// hang or read out of bounds (ASan + UBSan). A decoded message must also
// survive re-encoding unchanged (the decoder and the encoder agree).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/assert.hpp"
#include "membership/membership_message.hpp"

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

}  // namespace
}  // namespace ringcast::membership

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringcast::membership;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
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
