// The sends in flight: a bounded table whose tokens name one send of one
// chunk. A token is handed out by begin() and taken back by end() exactly
// once: a second end() of the same token, a token never issued, or one from
// a slot since reused (its generation differs) is refused, so a stray tag
// can never release a buffer the NIC still reads.
//
// token = generation << 32 | slot; generations start at 1, so 0 is never a
// token (the ring's tag of copied messages).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace ringcast::zcb {

struct ChunkRef {
  std::uint32_t slab = 0;
  std::uint32_t chunk = 0;
};

class SendTokens {
 public:
  explicit SendTokens(std::uint32_t capacity);

  // A token for one send of `target`; nothing when the table is full.
  std::optional<std::uint64_t> begin(ChunkRef target) noexcept;
  // The chunk of a live token, which stops being live; nothing otherwise.
  std::optional<ChunkRef> end(std::uint64_t token) noexcept;

  std::uint32_t in_use() const noexcept {
    return static_cast<std::uint32_t>(slots_.size() - free_slots_.size());
  }

 private:
  struct Slot {
    ChunkRef target;
    std::uint32_t generation = 0;  // of the current or last token
    bool live = false;
  };
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;  // stack; capacity slots_.size(), never grows
};

}  // namespace ringcast::zcb
