// The endpoint's shared receive queue. ringcast only ever receives RDMA WRITE
// WITH IMMEDIATE, whose data lands where the writer aimed it; a receive is
// consumed just to carry the immediate, so every receive is zero-length and
// all of them are alike. Consumed receives are re-posted in batches, one
// ibv_post_srq_recv per batch, from a preallocated chain.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.hpp"
#include "fabric/verbs/handles.hpp"

namespace ringcast::fabric::verbs {

// Receive wr_ids carry this bit; send wr_ids (sequence numbers) never do.
inline constexpr std::uint64_t kReceiveTag = std::uint64_t{1} << 63;

class SharedReceiveQueue {
 public:
  static Result<SharedReceiveQueue> create(ibv_pd* pd, std::uint32_t depth);

  ibv_srq* get() const noexcept { return srq_.get(); }
  std::uint32_t depth() const noexcept { return depth_; }

  // A receive completion (any status) used up one posted receive.
  void consumed() noexcept { ++consumed_; }
  // Re-posts the consumed receives once enough have gathered (or `force`).
  Status replenish(bool force = false);

 private:
  Status post(std::uint32_t count);

  SrqHandle srq_;
  std::uint32_t depth_ = 0;
  std::uint32_t batch_ = 1;
  std::uint32_t consumed_ = 0;
  std::vector<ibv_recv_wr> chain_;  // depth entries, linked on demand
};

}  // namespace ringcast::fabric::verbs
