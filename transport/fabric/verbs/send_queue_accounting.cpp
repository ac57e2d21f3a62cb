#include "fabric/verbs/send_queue_accounting.hpp"

#include "base/assert.hpp"

namespace ringcast::fabric::verbs {

SendQueueAccounting::SendQueueAccounting(std::uint32_t depth)
    : depth_(depth), interval_(depth / 2 > 0 ? depth / 2 : 1), entries_(depth) {
  RC_ASSERT(depth >= 1);
  // The fit-eventually argument in the header: tail < interval leaves room.
  RC_ASSERT(depth_ - (interval_ - 1) >= interval_);
}

SendQueueAccounting::Posted SendQueueAccounting::push(std::uint64_t caller_wr_id,
                                                      bool caller_signaled) noexcept {
  RC_ASSERT(free_slots() > 0);
  const bool signal = caller_signaled || unsignaled_run_ + 1 >= interval_;
  unsignaled_run_ = signal ? 0 : unsignaled_run_ + 1;
  RC_ASSERT(unsignaled_run_ < interval_);
  const std::uint64_t seq = head_++;
  entries_[seq % depth_] = Entry{caller_wr_id, caller_signaled};
  return {seq, signal};
}

std::optional<SendQueueAccounting::Retired> SendQueueAccounting::complete(
    std::uint64_t seq) noexcept {
  if (seq < tail_ || seq >= head_) return std::nullopt;
  const Entry& entry = entries_[seq % depth_];
  tail_ = seq + 1;
  return Retired{entry.wr_id, entry.caller_signaled};
}

}  // namespace ringcast::fabric::verbs
