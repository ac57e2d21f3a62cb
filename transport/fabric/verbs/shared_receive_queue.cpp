#include "fabric/verbs/shared_receive_queue.hpp"

#include <algorithm>
#include <string>

namespace ringcast::fabric::verbs {

Result<SharedReceiveQueue> SharedReceiveQueue::create(ibv_pd* pd, std::uint32_t depth) {
  RC_ASSERT(depth >= 1);
  ibv_srq_init_attr attr{};
  attr.attr.max_wr = depth;
  attr.attr.max_sge = 1;  // some providers refuse 0; our receives use none
  SharedReceiveQueue queue;
  queue.srq_.reset(ibv_create_srq(pd, &attr));
  if (!queue.srq_)
    return system_error("ibv_create_srq", errno, std::to_string(depth) + " receives");
  queue.depth_ = depth;
  // Re-posting one by one costs a provider call per immediate; waiting for too
  // many leaves the queue short under bursts. An eighth is a middle ground.
  queue.batch_ = std::max<std::uint32_t>(1, std::min<std::uint32_t>(depth / 8, 64));
  queue.chain_.resize(depth);
  for (auto& wr : queue.chain_) {
    wr = ibv_recv_wr{};
    wr.wr_id = kReceiveTag;
    wr.sg_list = nullptr;
    wr.num_sge = 0;
  }
  RC_TRY(queue.post(depth));
  return queue;
}

Status SharedReceiveQueue::replenish(bool force) {
  if (consumed_ == 0 || (!force && consumed_ < batch_)) return {};
  const std::uint32_t count = consumed_;
  consumed_ = 0;
  return post(count);
}

Status SharedReceiveQueue::post(std::uint32_t count) {
  RC_ASSERT(count >= 1 && count <= depth_);
  for (std::uint32_t i = 0; i + 1 < count; ++i)
    chain_[i].next = &chain_[i + 1];
  chain_[count - 1].next = nullptr;
  ibv_recv_wr* bad = nullptr;
  if (int rc = ibv_post_srq_recv(srq_.get(), chain_.data(), &bad)) {
    // Receives from `bad` on were not posted: owe them for the next round.
    const auto posted = bad != nullptr ? static_cast<std::uint32_t>(bad - chain_.data()) : 0;
    consumed_ += count - posted;
    return system_error("ibv_post_srq_recv", rc, std::to_string(count) + " receives");
  }
  return {};
}

}  // namespace ringcast::fabric::verbs
