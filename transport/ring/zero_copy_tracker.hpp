// Which zero-copy messages the NIC may still be reading. A visit that sends
// zero-copy payloads opens an entry; the last write of each destination's
// chain is then signaled, and when all of them completed (per-link FIFO: a
// completion covers the earlier writes of its chain) the visit's tags are
// handed back in visit order: the caller may reuse those regions.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace ringcast::ring {

class ZeroCopyTracker {
 public:
  ZeroCopyTracker(std::uint32_t visits, std::uint32_t max_messages_per_visit);

  // A free entry for the current visit, or nothing when all are in use.
  std::optional<std::uint32_t> open() noexcept;
  void add(std::uint32_t entry, std::uint64_t tag) noexcept;
  // The visit is built: `signals` signaled writes will report (0: done now).
  void close(std::uint32_t entry, std::uint32_t signals) noexcept;
  void signal_done(std::uint32_t entry) noexcept;
  // Tags whose sources are free, oldest visit first.
  std::optional<std::uint64_t> next_done() noexcept;

  std::uint32_t in_use() const noexcept { return count_; }
  // open() would fail: every entry's tags are still to be handed back.
  bool full() const noexcept { return count_ == entries_.size(); }

 private:
  struct Entry {
    bool closed = false;
    std::uint32_t pending = 0;
    std::uint32_t tags = 0;
    std::uint32_t returned = 0;
  };
  std::vector<Entry> entries_;
  std::vector<std::uint64_t> tags_;  // [entry][max_per_visit]
  std::uint32_t max_per_visit_;
  std::uint32_t head_ = 0;
  std::uint32_t count_ = 0;
};

}  // namespace ringcast::ring
