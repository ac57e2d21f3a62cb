#include "fabric/verbs/completion_queue.hpp"

#include <fcntl.h>

#include <string>

namespace ringcast::fabric::verbs {

Result<CompletionQueue> CompletionQueue::create(ibv_context* context, std::uint32_t depth) {
  CompletionQueue queue;
  queue.channel_.reset(ibv_create_comp_channel(context));
  if (!queue.channel_) return system_error("ibv_create_comp_channel", errno);
  const int flags = fcntl(queue.channel_->fd, F_GETFL);
  if (flags < 0 || fcntl(queue.channel_->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return system_error("fcntl", errno, "making the completion channel non-blocking");
  }
  queue.cq_.reset(
      ibv_create_cq(context, static_cast<int>(depth), nullptr, queue.channel_.get(), 0));
  if (!queue.cq_) {
    return system_error("ibv_create_cq", errno, std::to_string(depth) + " entries");
  }
  return queue;
}

Status CompletionQueue::arm() {
  if (int rc = ibv_req_notify_cq(cq_.get(), 0)) return system_error("ibv_req_notify_cq", rc);
  return {};
}

void CompletionQueue::drain_events() noexcept {
  ibv_cq* cq = nullptr;
  void* context = nullptr;
  unsigned events = 0;
  // Bounded: each event was raised by one arm(), and we arm once per wait.
  for (int i = 0; i < 64 && ibv_get_cq_event(channel_.get(), &cq, &context) == 0; ++i)
    ++events;
  if (events > 0) ibv_ack_cq_events(cq_.get(), events);
}

}  // namespace ringcast::fabric::verbs
