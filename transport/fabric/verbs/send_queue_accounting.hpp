// Book-keeping of one send queue with selective signaling. Pure: no verbs.
//
// A verbs send queue frees its slots only when a *signaled* work request
// completes (and with it every earlier one, RC completes in order). Signaling
// every write costs a completion each; signaling none would never free a
// slot. So a write is signaled when the caller asked for it, or when it is the
// `interval`-th unsignaled write in a row (interval = depth / 2). The backend
// swallows the completions of writes it signaled on its own.
//
// Why chains are at most `interval` long: the writes after the last signaled
// one (the "unsignaled tail") are fewer than `interval`, so once every signaled
// write has completed at least depth - interval + 1 >= interval slots are
// free. A chain of at most `interval` writes therefore always fits eventually;
// a longer one could wait forever for a completion nobody asked for.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace ringcast::fabric::verbs {

class SendQueueAccounting {
 public:
  struct Posted {
    std::uint64_t seq = 0;  // the work request's id on the wire (wr_id)
    bool signal = false;    // post with IBV_SEND_SIGNALED
  };
  struct Retired {
    std::uint64_t wr_id = 0;       // the caller's wr_id of the completed write
    bool caller_signaled = false;  // false: an internal signal, never reported
  };

  explicit SendQueueAccounting(std::uint32_t depth);

  std::uint32_t depth() const noexcept { return depth_; }
  std::uint32_t max_chain() const noexcept { return interval_; }
  std::uint32_t free_slots() const noexcept {
    return depth_ - static_cast<std::uint32_t>(head_ - tail_);
  }
  std::uint64_t outstanding() const noexcept { return head_ - tail_; }

  // Takes the next slot. Requires free_slots() > 0.
  Posted push(std::uint64_t caller_wr_id, bool caller_signaled) noexcept;

  // A completion (success or error) for work request `seq` arrived: retires it
  // and every earlier one. nullopt when `seq` is not outstanding (a stale
  // completion, e.g. of a destroyed queue pair whose number was reused).
  std::optional<Retired> complete(std::uint64_t seq) noexcept;

 private:
  struct Entry {
    std::uint64_t wr_id = 0;
    bool caller_signaled = false;
  };

  std::uint32_t depth_;
  std::uint32_t interval_;
  std::vector<Entry> entries_;  // ring indexed by seq % depth
  std::uint64_t head_ = 0;      // seq of the next push
  std::uint64_t tail_ = 0;      // oldest outstanding seq
  std::uint32_t unsignaled_run_ = 0;
};

}  // namespace ringcast::fabric::verbs
