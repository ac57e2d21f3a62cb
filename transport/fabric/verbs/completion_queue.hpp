// The endpoint's completion queue with its completion channel, so that a
// caller can sleep on a file descriptor instead of spinning.
//
// Waiting protocol (the usual verbs one): drain_events(), arm(), poll the CQ
// once more (a completion that arrived before arm() raises no event), and only
// if that finds nothing, sleep on fd().
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "fabric/verbs/handles.hpp"

namespace ringcast::fabric::verbs {

class CompletionQueue {
 public:
  static Result<CompletionQueue> create(ibv_context* context, std::uint32_t depth);

  ibv_cq* get() const noexcept { return cq_.get(); }
  int fd() const noexcept { return channel_->fd; }
  // Entries the CQ can hold (what the provider granted, at least what was asked).
  std::uint32_t depth() const noexcept { return static_cast<std::uint32_t>(cq_->cqe); }

  // Asks for an event on the channel at the next completion.
  Status arm();
  // Reads and acks every pending channel event without blocking (the channel
  // fd is non-blocking). Every event must be acked before the CQ is destroyed.
  void drain_events() noexcept;

 private:
  // Declared first so that it is destroyed after the CQ that uses it.
  CompChannelHandle channel_;
  CqHandle cq_;
};

}  // namespace ringcast::fabric::verbs
