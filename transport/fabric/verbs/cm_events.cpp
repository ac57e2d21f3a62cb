#include "fabric/verbs/cm_events.hpp"

#include <poll.h>
#include <time.h>

#include <algorithm>

namespace ringcast::fabric::verbs {

std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

int remaining_ms(std::uint64_t deadline_ns) noexcept {
  const std::uint64_t now = monotonic_ns();
  if (now >= deadline_ns) return 1;
  return static_cast<int>(std::clamp<std::uint64_t>((deadline_ns - now) / 1'000'000u, 1, 1 << 30));
}

Result<CmEventHandle> next_cm_event(rdma_event_channel* channel, std::uint64_t deadline_ns,
                                    const std::string& what) {
  // poll() first: rdma_get_cm_event itself would block without a bound.
  for (;;) {
    const std::uint64_t now = monotonic_ns();
    if (now >= deadline_ns) return make_error(Errc::timeout, what, "no answer in time");
    pollfd fd{channel->fd, POLLIN, 0};
    const int rc = poll(&fd, 1, remaining_ms(deadline_ns));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return system_error("poll", errno, what);
    if (rc == 0) continue;  // the deadline check above ends it
    rdma_cm_event* raw = nullptr;
    if (rdma_get_cm_event(channel, &raw) != 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return system_error("rdma_get_cm_event", errno, what);
    }
    return CmEventHandle(raw);
  }
}

std::span<const std::byte> private_data(const rdma_cm_event& event) noexcept {
  const rdma_conn_param& conn = event.param.conn;
  if (conn.private_data == nullptr) return {};
  return {static_cast<const std::byte*>(conn.private_data), conn.private_data_len};
}

}  // namespace ringcast::fabric::verbs
