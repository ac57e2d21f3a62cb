// Zero-copy pools that are not the node's own: ringcastd makes one per
// client over the client's shared segment. Their sends go through the same
// ring as the node's own; the tag of each names its pool (ring_tag), so
// on_round ends it in the right one. A pool outlives its owner until the
// NIC read its last buffer: detach_pool only marks it, reap_pools destroys
// it (deregistering its regions) once nothing of it is in flight.
#include <algorithm>

#include "client/errors.hpp"
#include "client/node.hpp"
#include "config/cluster_config.hpp"

namespace ringcast::client {

cpg::Result<PoolRef> Node::attach_pool(std::shared_ptr<zcb::ZeroCopyPool> pool,
                                       std::function<void()> on_done) {
  if (!pool) return cpg::Status(CS_ERR_INVALID_PARAM, "no pool");
  // A token's slot must leave bits 16..31 free for the number.
  if (pool->config().max_sends_in_flight > 0xffff)
    return cpg::Status(CS_ERR_INVALID_PARAM, "a pool's sends in flight above 65535");
  (void)reap_pools();
  std::lock_guard lock(mutex_);
  if (attached_.size() >= kMaxAttachedPools)
    return cpg::Status(CS_ERR_NO_RESOURCES, "65535 zero-copy pools attached");
  while (next_pool_number_ == 0 || attached_.contains(next_pool_number_))
    next_pool_number_ = (next_pool_number_ + 1) & kMaxAttachedPools;
  const std::uint32_t number = next_pool_number_;
  next_pool_number_ = (next_pool_number_ + 1) & kMaxAttachedPools;
  PoolRef ref{pool.get(), number};
  attached_.emplace(number, AttachedPool{std::move(pool), std::move(on_done), false});
  return ref;
}

void Node::detach_pool(const PoolRef& ref) {
  {
    std::lock_guard lock(mutex_);
    auto it = attached_.find(ref.number);
    if (it == attached_.end() || it->second.pool.get() != ref.pool) return;
    it->second.detached = true;
    it->second.on_done = nullptr;
  }
  (void)reap_pools();
}

std::size_t Node::reap_pools() {
  std::vector<std::shared_ptr<zcb::ZeroCopyPool>> dead;
  std::size_t left = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto it = attached_.begin(); it != attached_.end();) {
      AttachedPool& a = it->second;
      if (!a.detached || a.pool->counters().sends_in_flight != 0) {
        ++it;
        continue;
      }
      dead.push_back(std::move(a.pool));
      it = attached_.erase(it);
    }
    left = attached_.size();
  }
  dead.clear();  // deregisters, outside the node's lock
  return left;
}

std::shared_ptr<zcb::RegisteredBudget> Node::attached_budget() {
  std::lock_guard lock(zcb_mutex_);
  if (!attached_budget_) {
    const std::uint64_t limit =
        zero_copy_max_bytes_ != 0 ? zero_copy_max_bytes_ : config::default_zero_copy_max_bytes();
    attached_budget_ = std::make_shared<zcb::RegisteredBudget>(limit);
  }
  return attached_budget_;
}

std::size_t Node::attached_pools() const {
  std::lock_guard lock(mutex_);
  return attached_.size();
}

void Node::end_zero_copy_send_locked(std::uint64_t tag, Woken& woken) {
  const std::uint32_t number = pool_number_of(tag);
  if (number == 0) {
    if (zcb::ZeroCopyPool* p = pool_ptr_.load(std::memory_order_acquire)) (void)p->end_send(tag);
    return;
  }
  auto it = attached_.find(number);
  if (it == attached_.end()) return;
  (void)it->second.pool->end_send(token_of(tag));
  if (!it->second.on_done) return;
  const bool known =
      std::any_of(woken.begin(), woken.end(), [&](const auto& w) { return w.first == number; });
  if (!known) woken.emplace_back(number, it->second.on_done);
}

}  // namespace ringcast::client
