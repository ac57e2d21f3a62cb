// The simulator's agenda: a binary min-heap of events over one vector.
//
// Order is (time_ns, seq): seq is a counter stamped at push, so events due at
// the same nanosecond run in the order they were scheduled, and the order
// never depends on the heap's internals. The vector keeps its capacity, so a
// run in steady state pushes and pops without allocating.
#pragma once

#include <cstdint>
#include <vector>

#include "base/assert.hpp"

namespace ringcast::fabric::sim {

enum class EventKind : std::uint8_t {
  land,         // write `arg` of `link` (its oldest unlanded one) reaches the target
  ack,          // the ACK of write `arg` of `link` reaches the requester
  nak,          // the target refused write `arg` of `link` (status in `status`)
  detect,       // `link`'s retry timer expires (its peer is gone or cut off)
  peer_closed,  // `link`'s peer end went to the error state and told us
  action,       // run the test's scheduled action number `arg`
};

struct SimEvent {
  std::uint64_t time_ns = 0;
  std::uint64_t seq = 0;
  std::uint32_t link = 0;
  std::uint32_t arg = 0;
  EventKind kind = EventKind::land;
  std::uint8_t status = 0;
};

class EventQueue {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  const SimEvent& top() const noexcept {
    RC_DEBUG_ASSERT(!heap_.empty());
    return heap_.front();
  }

  void push(SimEvent event) {
    event.seq = next_seq_++;
    heap_.push_back(event);
    sift_up(heap_.size() - 1);
  }

  SimEvent pop() noexcept {
    RC_ASSERT(!heap_.empty());
    SimEvent out = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
    return out;
  }

  void reserve(std::size_t events) { heap_.reserve(events); }

 private:
  static bool before(const SimEvent& a, const SimEvent& b) noexcept {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.seq < b.seq;
  }

  void sift_up(std::size_t i) noexcept {
    SimEvent moving = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!before(moving, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = moving;
  }

  void sift_down(std::size_t i) noexcept {
    const std::size_t n = heap_.size();
    SimEvent moving = heap_[i];
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
      if (!before(heap_[child], moving)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = moving;
  }

  std::vector<SimEvent> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace ringcast::fabric::sim
