// Fuzzes membership's control-message decoder (membership/control.hpp): any
// bytes in a control slot, from any sender slot, must be refused or decode
// into a message that keeps every promise the decoder makes, never crash,
// hang or read out of bounds (ASan + UBSan). A decoded message must also
// survive re-encoding unchanged (the decoder and the encoder agree).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/assert.hpp"
#include "membership/control.hpp"

namespace ringcast::membership {
namespace {

const std::vector<NodeId> kNodes = {7, 11, 13, 42, 99};

void check(const ControlMessage& m) {
  const NodeMask cluster = bit(kNodes.size()) - 1;
  RC_ASSERT(m.sender_index < kNodes.size() && kNodes[m.sender_index] == m.sender);
  RC_ASSERT((m.mask_a & ~cluster) == 0 && (m.mask_b & ~cluster) == 0 && (m.reach & ~cluster) == 0);
  RC_ASSERT(m.info_count <= kMaxNodes);
  for (std::size_t i = 0; i < m.info_count; ++i) {
    const OldRingInfo& info = m.infos[i];
    RC_ASSERT(info.delivered <= info.received_up_to);
    RC_ASSERT(info.released_position <= info.end_position);
    RC_ASSERT(info.ring.epoch <= info.max_epoch);
  }
  switch (m.type) {
    case ControlType::join:
      RC_ASSERT(m.info_count == 1 && has(m.mask_a, m.sender_index) &&
                !has(m.mask_b, m.sender_index));
      RC_ASSERT((m.mask_b & ~m.mask_a) == 0 && has(m.reach, m.sender_index));
      break;
    case ControlType::commit:
      RC_ASSERT(m.info_count == static_cast<std::size_t>(count(m.mask_a)));
      RC_ASSERT(lowest(m.mask_a) == m.sender_index && m.ring.representative == m.sender);
      for (std::size_t i = 0; i < m.info_count; ++i)
        RC_ASSERT(m.infos[i].max_epoch < m.ring.epoch);
      break;
    case ControlType::recovered:
      RC_ASSERT(m.through_seq >= 1 && m.info_count == 0);
      break;
    case ControlType::ready:
      RC_ASSERT(m.info_count == 0 && m.mask_a == 0);
      break;
  }
}

}  // namespace
}  // namespace ringcast::membership

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringcast::membership;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  ControlMessage m;
  if (decode_control(bytes, ControlLimits{kNodes}, &m) != ControlFault::none) return 0;
  check(m);
  std::vector<std::byte> again(ringcast::ring::kControlSlotBytes);
  again.resize(encode_control(m, again));
  ControlMessage back;
  RC_ASSERT(decode_control(again, ControlLimits{kNodes}, &back) == ControlFault::none);
  RC_ASSERT(back.type == m.type && back.sender == m.sender && back.message_seq == m.message_seq);
  RC_ASSERT(back.mask_a == m.mask_a && back.mask_b == m.mask_b && back.reach == m.reach);
  RC_ASSERT(back.info_count == m.info_count && back.through_seq == m.through_seq);
  for (std::size_t i = 0; i < m.info_count; ++i)
    RC_ASSERT(back.infos[i] == m.infos[i]);
  return 0;
}
