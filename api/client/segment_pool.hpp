// SegmentPool: zero-copy buffers inside memory shared with another process,
// named by their offset in it: ringcastd's buffers of one client, in the
// client's zcb segment. The node's ring sends them as its own zcb buffers
// (the NIC reads the client's pages); slabs and large buffers are carved out
// of the segment and registered only as the pool needs them
// (zcb::SegmentRegions), so an idle client pins nothing; all of a node's
// segment pools together register at most the node's zero-copy limit
// (Node::attached_budget: rdma.zero_copy_max_bytes in ringcastd).
//
// Every offset comes from an untrusted process: each call checks that it is
// the start of a live buffer of this pool (and a send's length fits it), and
// refuses anything else with CS_ERR_INVALID_PARAM, changing nothing. Foreign
// memory cannot be named at all (an offset is inside this segment).
//
// Destroying it frees every buffer the peer still held and detaches the
// pool: the node keeps it, and the segment's registrations and mapping with
// it, until the NIC read the last buffer in flight (Node::reap_pools).
//
// Threads: one (the connection's); on_done runs on the ring's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>

#include "client/node.hpp"

namespace ringcast::client {

class Session;

class SegmentPool {
 public:
  // Over `memory` (page-aligned; `keep_alive` owns it), at most
  // max_reserved_bytes of it registered (rounded down to whole slabs, at
  // least one). on_done: after a ring round ended sends from it.
  static cpg::Result<std::unique_ptr<SegmentPool>> create(std::shared_ptr<Node> node,
                                                          std::span<std::byte> memory,
                                                          std::shared_ptr<const void> keep_alive,
                                                          std::function<void()> on_done);
  ~SegmentPool();
  SegmentPool(const SegmentPool&) = delete;
  SegmentPool& operator=(const SegmentPool&) = delete;

  struct Buffer {
    std::uint64_t offset = 0;
    std::uint64_t capacity = 0;
  };
  // CS_ERR_TOO_BIG above the largest message, CS_ERR_NO_MEMORY when the
  // segment has no room.
  cpg::Result<Buffer> alloc(std::size_t bytes);
  // The freed buffer's capacity.
  cpg::Result<std::uint64_t> free(std::uint64_t offset);
  // The send of `length` bytes at `offset` through `session`; whether the NIC
  // reads them in place (else they were copied, and the buffer is free).
  cpg::Result<bool> send(Session& session, Guarantee guarantee, std::uint64_t offset,
                         std::uint64_t length);
  // Sends of the buffer at `offset` not yet read by the NIC.
  bool in_flight(std::uint64_t offset) const;

  std::size_t live_buffers() const noexcept { return live_.size(); }
  zcb::PoolCounters counters() const { return pool_->counters(); }

 private:
  SegmentPool(std::shared_ptr<Node> node, std::span<std::byte> memory,
              std::shared_ptr<zcb::ZeroCopyPool> pool, PoolRef ref);
  std::byte* at(std::uint64_t offset) const noexcept { return memory_.data() + offset; }
  cpg::Status check_live(std::uint64_t offset, std::uint64_t length) const;

  std::shared_ptr<Node> node_;
  std::span<std::byte> memory_;
  std::shared_ptr<zcb::ZeroCopyPool> pool_;
  PoolRef ref_;
  std::map<std::uint64_t, std::uint64_t> live_;  // offset -> capacity
};

}  // namespace ringcast::client
