// The endpoint's completion path: busy poll, blocking wait, rdma_cm events.
#include <arpa/inet.h>
#include <poll.h>

#include <algorithm>

#include "base/log.hpp"
#include "fabric/verbs/cm_events.hpp"
#include "fabric/verbs/endpoint_impl.hpp"
#include "fabric/verbs/link.hpp"

namespace ringcast::fabric::verbs {
namespace {

// rdma_cm events that end an established connection.
bool ends_connection(rdma_cm_event_type type) {
  switch (type) {
    case RDMA_CM_EVENT_DISCONNECTED:
    case RDMA_CM_EVENT_DEVICE_REMOVAL:
    case RDMA_CM_EVENT_REJECTED:
    case RDMA_CM_EVENT_UNREACHABLE:
    case RDMA_CM_EVENT_CONNECT_ERROR:
      return true;
    default:
      return false;  // ESTABLISHED, TIMEWAIT_EXIT, ADDR_CHANGE: nothing lost
  }
}

}  // namespace

std::size_t VerbsEndpoint::Impl::poll(std::span<Completion> out) {
  if (--polls_until_cm_check_ == 0) {
    polls_until_cm_check_ = kCmCheckInterval;
    if (const std::uint64_t now = monotonic_ns(); now >= next_cm_check_ns_) {
      next_cm_check_ns_ = now + kCmCheckPeriodNs;
      read_cm_events();
    }
  }
  std::size_t n = pending_.drain(out);
  if (n < out.size()) n += poll_cq(out.subspan(n));
  replenish_receives();
  return n;
}

std::size_t VerbsEndpoint::Impl::poll_cq(std::span<Completion> out) {
  // One wc yields at most one completion, so never take more than fit.
  const int want = static_cast<int>(std::min(out.size(), wcs_.size()));
  cq_may_hold_more_ = want == 0;
  if (want == 0) return 0;
  const int got = ibv_poll_cq(cq.get(), want, wcs_.data());
  cq_may_hold_more_ = got == want;
  if (got < 0) {
    // Only a CQ overrun or a provider failure does this; the CQ budget
    // (can_attach) exists to make overruns impossible.
    log_line("ibv_poll_cq failed on " + device.name() + ": completion queue in error");
    return 0;
  }
  std::size_t n = 0;
  for (int i = 0; i < got; ++i) {
    if (to_completion(wcs_[i], out[n])) ++n;
  }
  return n;
}

bool VerbsEndpoint::Impl::to_completion(const ibv_wc& wc, Completion& out) {
  if ((wc.wr_id & kReceiveTag) != 0) {
    srq.consumed();
    return on_receive(wc, out);
  }
  VerbsLink* link = links_.find(wc.qp_num);
  // No link: its QP was destroyed with work outstanding. Nobody to tell.
  return link != nullptr && link->on_send_completion(wc, out);
}

bool VerbsEndpoint::Impl::on_receive(const ibv_wc& wc, Completion& out) {
  VerbsLink* link = links_.find(wc.qp_num);
  if (link == nullptr) return false;
  if (wc.status != IBV_WC_SUCCESS) {
    if (!receive_failure_logged_) {
      log_line(std::string("receive failed on ") + device.name() + ": " +
               ibv_wc_status_str(wc.status));
      receive_failure_logged_ = true;
    }
    return link->on_down(ibv_wc_status_str(wc.status), out);
  }
  // ringcast peers only write with immediate; anything else carries nothing.
  if ((wc.wc_flags & IBV_WC_WITH_IMM) == 0) return false;
  out = Completion{};
  out.type = CompletionType::received_imm;
  out.peer = link->peer();
  out.imm = ntohl(wc.imm_data);
  out.byte_len = wc.byte_len;
  return true;
}

void VerbsEndpoint::Impl::read_cm_events() {
  // Bounded: at most one event per link and kind, a few kinds.
  for (std::uint32_t i = 0; i < 4 * options.max_links; ++i) {
    rdma_cm_event* raw = nullptr;
    if (rdma_get_cm_event(cm_channel.get(), &raw) != 0) return;  // EAGAIN: none
    const rdma_cm_event_type type = raw->event;
    auto* link = static_cast<VerbsLink*>(raw->id->context);
    rdma_ack_cm_event(raw);
    Completion down;
    if (link != nullptr && ends_connection(type) && link->on_down(rdma_event_str(type), down)) {
      if (!pending_.push(down)) log_line("link_down dropped: pending completions full");
    }
  }
}

void VerbsEndpoint::Impl::replenish_receives() {
  if (auto posted = srq.replenish(); !posted) log_line(posted.error().message());
}

Result<bool> VerbsEndpoint::Impl::prepare_wait() {
  cq.drain_events();
  RC_TRY(cq.arm());
  read_cm_events();
  // A completion that came before arm() raises no event: look once more.
  bool found = false;
  std::array<Completion, kPollBatch> batch;
  const std::size_t room = std::min(pending_.room(), batch.size());
  const std::size_t n = poll_cq(std::span(batch).first(room));
  for (std::size_t i = 0; i < n; ++i)
    found = pending_.push(batch[i]) || found;
  replenish_receives();
  // A full batch may have left older completions behind, which raise no event.
  return found || cq_may_hold_more_ || !pending_.empty();
}

Status VerbsEndpoint::Impl::wait(std::uint64_t timeout_ns) {
  auto ready = prepare_wait();
  if (!ready) return ready.error();
  if (*ready) return {};
  pollfd fd{wait_set.get(), POLLIN, 0};
  const timespec timeout{static_cast<time_t>(timeout_ns / 1'000'000'000u),
                         static_cast<long>(timeout_ns % 1'000'000'000u)};
  const int rc = ppoll(&fd, 1, &timeout, nullptr);
  if (rc < 0 && errno != EINTR) return system_error("ppoll", errno, "waiting for completions");
  if (rc == 0) return make_error(Errc::timeout, "wait");
  return {};
}

}  // namespace ringcast::fabric::verbs
