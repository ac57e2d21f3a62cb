// A reliable connection to one peer: an RC QP on the endpoint's PD, CQ and
// SRQ, owned together with the rdma_cm id that connected it. Internal: made by
// VerbsEndpoint::connect and Listener::accept, seen by callers as fabric::Link.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "fabric/connect_info.hpp"
#include "fabric/fabric.hpp"
#include "fabric/verbs/endpoint_impl.hpp"
#include "fabric/verbs/handles.hpp"
#include "fabric/verbs/send_queue_accounting.hpp"

namespace ringcast::fabric::verbs {

class VerbsLink final : public Link {
 public:
  // `id` is connected, carries the QP and is already on the endpoint's cm
  // channel. `max_inline` is what the QP granted.
  VerbsLink(VerbsEndpoint::Impl& endpoint, CmIdHandle id, const ConnectInfo& peer,
            std::uint32_t sq_depth, std::uint32_t max_inline);
  ~VerbsLink() override;
  VerbsLink(const VerbsLink&) = delete;
  VerbsLink& operator=(const VerbsLink&) = delete;

  NodeId peer() const noexcept override { return peer_.node; }
  std::span<const RemoteRegion> peer_regions() const noexcept override {
    return peer_.region_span();
  }
  Status post(std::span<const WriteOp> chain) override;
  // What one post() can take now: free slots, at most a chain's maximum.
  std::uint32_t send_capacity() const noexcept override {
    return failed_ ? 0 : std::min(sq_.free_slots(), sq_.max_chain());
  }
  std::uint32_t max_inline_bytes() const noexcept override { return max_inline_; }
  bool failed() const noexcept override { return failed_; }

  // For the endpoint. A send completion of this QP; false: nothing to report
  // (an internal signal, or stale).
  bool on_send_completion(const ibv_wc& wc, Completion& out) noexcept;
  // The connection is gone (rdma_cm event, receive error). True only the
  // first time, when `out` holds the link_down to report.
  bool on_down(const char* why, Completion& out) noexcept;
  // VerbsEndpoint::disconnect: the link fails here and the peer is told.
  void cut() noexcept { fail(); }

 private:
  Status check(const WriteOp& op, std::size_t index) const;
  void fill(const WriteOp& op, SendQueueAccounting::Posted slot, ibv_send_wr& wr,
            ibv_sge* sges) const noexcept;
  void fail() noexcept;

  VerbsEndpoint::Impl& endpoint_;
  CmIdHandle id_;
  ConnectInfo peer_;
  SendQueueAccounting sq_;
  std::uint32_t max_inline_;
  std::string description_;  // "link to node 2 at 10.99.0.1"
  bool failed_ = false;
  bool disconnected_ = false;
  bool down_reported_ = false;
  // The post path builds the chain here: no allocation per post.
  std::vector<ibv_send_wr> wrs_;
  std::vector<ibv_sge> sges_;
};

}  // namespace ringcast::fabric::verbs
