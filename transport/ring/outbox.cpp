#include "ring/outbox.hpp"

#include "base/assert.hpp"

namespace ringcast::ring {

Outbox::Outbox(std::size_t members, std::size_t chains_per_member, std::size_t max_ops)
    : chains_per_member_(chains_per_member),
      max_ops_(max_ops),
      ops_(members * chains_per_member * max_ops),
      op_counts_(members * chains_per_member, 0),
      first_(members, 0),
      queued_(members, 0) {
  RC_ASSERT(chains_per_member > 0);
  RC_ASSERT(max_ops > 0);
}

std::span<fabric::WriteOp> Outbox::open(std::size_t member) noexcept {
  RC_ASSERT(has_room(member));
  const std::size_t chain = chain_index(member, queued_[member]);
  return {ops_.data() + chain * max_ops_, max_ops_};
}

void Outbox::commit(std::size_t member, std::size_t op_count) noexcept {
  RC_ASSERT(has_room(member));
  RC_ASSERT(op_count > 0);
  RC_ASSERT(op_count <= max_ops_);
  op_counts_[chain_index(member, queued_[member])] = op_count;
  ++queued_[member];
  ++total_;
}

std::span<const fabric::WriteOp> Outbox::front(std::size_t member) const noexcept {
  if (queued_[member] == 0) return {};
  const std::size_t chain = chain_index(member, 0);
  return {ops_.data() + chain * max_ops_, op_counts_[chain]};
}

void Outbox::pop(std::size_t member) noexcept {
  RC_ASSERT(queued_[member] > 0);
  RC_ASSERT(total_ >= queued_[member]);  // the total counts every member's chains
  first_[member] = (first_[member] + 1) % chains_per_member_;
  --queued_[member];
  --total_;
}

}  // namespace ringcast::ring
