// A simulated completion queue: a FIFO of Completions with a hard bound.
//
// Storage grows by doubling up to the bound (so a world of many endpoints
// does not pay for the full depth up front) and never shrinks, so a run in
// steady state pushes and polls without allocating.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "base/assert.hpp"
#include "fabric/fabric.hpp"

namespace ringcast::fabric::sim {

class CompletionRing {
 public:
  explicit CompletionRing(std::size_t bound) : bound_(bound) { RC_ASSERT(bound > 0); }

  std::size_t size() const noexcept { return count_; }
  std::size_t bound() const noexcept { return bound_; }
  bool empty() const noexcept { return count_ == 0; }

  // False when the queue already holds `bound` completions (nothing stored).
  bool push(const Completion& c) {
    if (count_ == bound_) return false;
    if (count_ == slots_.size()) grow();
    std::size_t at = head_ + count_;
    if (at >= slots_.size()) at -= slots_.size();
    slots_[at] = c;
    ++count_;
    return true;
  }

  std::size_t pop(std::span<Completion> out) noexcept {
    const std::size_t n = std::min(out.size(), count_);
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = slots_[head_];
      if (++head_ == slots_.size()) head_ = 0;
    }
    count_ -= n;
    return n;
  }

  void clear() noexcept { head_ = count_ = 0; }

 private:
  void grow() {
    const std::size_t capacity = std::min(bound_, std::max<std::size_t>(16, slots_.size() * 2));
    std::vector<Completion> bigger(capacity);
    for (std::size_t i = 0; i < count_; ++i) {
      bigger[i] = slots_[(head_ + i) % slots_.size()];
    }
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<Completion> slots_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t bound_;
};

}  // namespace ringcast::fabric::sim
