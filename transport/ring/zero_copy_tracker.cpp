#include "ring/zero_copy_tracker.hpp"

#include "base/assert.hpp"

namespace ringcast::ring {

ZeroCopyTracker::ZeroCopyTracker(std::uint32_t visits, std::uint32_t max_messages_per_visit)
    : entries_(visits),
      tags_(std::size_t{visits} * max_messages_per_visit, 0),
      max_per_visit_(max_messages_per_visit) {
  RC_ASSERT(visits > 0);
  RC_ASSERT(max_messages_per_visit > 0);
}

std::optional<std::uint32_t> ZeroCopyTracker::open() noexcept {
  if (count_ == entries_.size()) return std::nullopt;
  const auto entry = static_cast<std::uint32_t>((head_ + count_) % entries_.size());
  entries_[entry] = Entry{};
  ++count_;
  return entry;
}

void ZeroCopyTracker::add(std::uint32_t entry, std::uint64_t tag) noexcept {
  Entry& e = entries_[entry];
  RC_ASSERT(!e.closed);
  RC_ASSERT(e.tags < max_per_visit_);  // one tag per zero-copy record of a visit
  tags_[std::size_t{entry} * max_per_visit_ + e.tags++] = tag;
}

void ZeroCopyTracker::close(std::uint32_t entry, std::uint32_t signals) noexcept {
  Entry& e = entries_[entry];
  RC_ASSERT(!e.closed);
  e.closed = true;
  e.pending = signals;
}

void ZeroCopyTracker::signal_done(std::uint32_t entry) noexcept {
  RC_ASSERT(entry < entries_.size());
  Entry& e = entries_[entry];
  RC_ASSERT(e.closed);
  RC_ASSERT(e.pending > 0);
  --e.pending;
}

std::optional<std::uint64_t> ZeroCopyTracker::next_done() noexcept {
  while (count_ > 0) {
    Entry& e = entries_[head_];
    if (!e.closed || e.pending > 0) return std::nullopt;
    RC_ASSERT(e.returned <= e.tags);
    if (e.returned < e.tags) return tags_[std::size_t{head_} * max_per_visit_ + e.returned++];
    head_ = static_cast<std::uint32_t>((head_ + 1) % entries_.size());
    --count_;
  }
  return std::nullopt;
}

}  // namespace ringcast::ring
