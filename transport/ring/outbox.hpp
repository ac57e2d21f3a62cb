// Chains of writes the ring state wants posted, per destination member, in
// order. The state machine fills them; the driver posts the front chain of
// each destination with one doorbell and pops it once the link took it. A
// link that is momentarily full (Errc::try_again) keeps its chains here, so
// nothing is lost and nothing is reordered. Bounded: a destination holds at
// most chains_per_member chains of at most max_ops writes; all storage is
// allocated once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fabric/fabric.hpp"

namespace ringcast::ring {

class Outbox {
 public:
  Outbox(std::size_t members, std::size_t chains_per_member, std::size_t max_ops);

  bool has_room(std::size_t member) const noexcept { return queued_[member] < chains_per_member_; }
  // Storage for the next chain of `member` (has_room must hold); nothing is
  // queued until commit().
  std::span<fabric::WriteOp> open(std::size_t member) noexcept;
  void commit(std::size_t member, std::size_t op_count) noexcept;

  // The oldest chain of `member`, empty when none.
  std::span<const fabric::WriteOp> front(std::size_t member) const noexcept;
  void pop(std::size_t member) noexcept;

  std::size_t queued(std::size_t member) const noexcept { return queued_[member]; }
  std::size_t total_queued() const noexcept { return total_; }
  std::size_t chains_per_member() const noexcept { return chains_per_member_; }
  std::size_t max_ops() const noexcept { return max_ops_; }

 private:
  std::size_t chain_index(std::size_t member, std::size_t nth) const noexcept {
    return member * chains_per_member_ + (first_[member] + nth) % chains_per_member_;
  }

  std::size_t chains_per_member_;
  std::size_t max_ops_;
  std::vector<fabric::WriteOp> ops_;    // [member][chain][op]
  std::vector<std::size_t> op_counts_;  // [member][chain]
  std::vector<std::size_t> first_;
  std::vector<std::size_t> queued_;
  std::size_t total_ = 0;
};

}  // namespace ringcast::ring
