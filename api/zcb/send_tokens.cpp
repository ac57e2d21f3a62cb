#include "zcb/send_tokens.hpp"

#include "base/assert.hpp"

namespace ringcast::zcb {

SendTokens::SendTokens(std::uint32_t capacity) : slots_(capacity) {
  RC_ASSERT(capacity > 0);
  free_slots_.reserve(capacity);
  for (std::uint32_t i = capacity; i > 0; --i)
    free_slots_.push_back(i - 1);
}

std::optional<std::uint64_t> SendTokens::begin(ChunkRef target) noexcept {
  if (free_slots_.empty()) return std::nullopt;
  const std::uint32_t index = free_slots_.back();
  free_slots_.pop_back();
  Slot& slot = slots_[index];
  RC_ASSERT(!slot.live);
  slot.target = target;
  slot.live = true;
  if (++slot.generation == 0) slot.generation = 1;  // 0 never names a token
  return (std::uint64_t{slot.generation} << 32) | index;
}

std::optional<ChunkRef> SendTokens::end(std::uint64_t token) noexcept {
  const auto index = static_cast<std::uint32_t>(token);
  const auto generation = static_cast<std::uint32_t>(token >> 32);
  if (index >= slots_.size()) return std::nullopt;
  Slot& slot = slots_[index];
  if (!slot.live || slot.generation != generation) return std::nullopt;
  slot.live = false;
  RC_ASSERT(free_slots_.size() < slots_.size());  // within the reserved capacity
  free_slots_.push_back(index);
  return slot.target;
}

}  // namespace ringcast::zcb
