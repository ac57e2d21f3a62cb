#include "daemon/member_loop.hpp"

#include <poll.h>

#include <algorithm>
#include <optional>
#include <string>

#include "base/log.hpp"
#include "daemon/daemon_log.hpp"
#include "daemon/notify.hpp"
#include "daemon/options.hpp"
#include "daemon/stop_signals.hpp"

namespace ringcast::daemon {

namespace {

// How often the loop looks at the member while it waits to be ready (a ring
// forms in tens of milliseconds), and afterwards (only to see it left).
constexpr int kStartingPollMs = 10;
constexpr int kRunningPollMs = 500;

std::string nodes_text(const std::vector<std::uint32_t>& nodes) {
  std::string s;
  for (std::uint32_t n : nodes)
    s += " " + std::to_string(n);
  return s.empty() ? " none" : s;
}

void log_change(const runtime::TransportConfiguration& c) {
  if (c.transitional) return;  // the regular one that follows says it all
  log_line("ring " + std::to_string(c.ring.representative) + ":" + std::to_string(c.ring.epoch) +
           " members" + nodes_text(c.members) + ", joined" + nodes_text(c.joined) + ", left" +
           nodes_text(c.left));
}

void log_notify_failure(const Status& s) {
  if (!s.ok()) log_line(LogLevel::warning, "cannot tell systemd: " + s.error().message());
}

}  // namespace

runtime::RoundCallback MemberLoop::round_callback() {
  return [this](runtime::EventSource& events) { drain(events); };
}

void MemberLoop::drain(runtime::EventSource& events) {
  std::optional<std::uint64_t> last;
  while (std::optional<runtime::TransportEvent> e = events.next_event()) {
    if (e->change != nullptr) {
      log_change(*e->change);
    } else {
      messages_.fetch_add(1, std::memory_order_relaxed);
    }
    last = e->index;
  }
  while (events.next_zero_copy_done()) {
  }
  if (last && *last > 0) (void)events.release_through(*last);
  if (events.left_unsent() && !left_.exchange(true))
    log_error("the node left the ring for good and cannot go on");
}

bool MemberLoop::settled(runtime::RingTransport& transport) const {
  const StatusSnapshot s = transport.status();
  if (!s.operational) return false;
  const std::vector<std::uint32_t> linked = transport.linked_nodes();
  return std::all_of(linked.begin(), linked.end(), [&](std::uint32_t n) {
    return std::find(s.members.begin(), s.members.end(), n) != s.members.end();
  });
}

void MemberLoop::check_ready(runtime::RingTransport& transport, const Hooks& hooks) {
  if (ready_) return;
  const bool late = std::chrono::steady_clock::now() - started_ >= startup_window_;
  if (!settled(transport)) {
    if (!late || !transport.status().operational) return;
    log_line(LogLevel::warning,
             "not merged with every node it reaches within the startup "
             "window; ready in the ring it has");
  }
  ready_ = true;
  const StatusSnapshot s = transport.status();
  log_line("node " + std::to_string(transport.me()) + " is in an operational ring: members" +
           nodes_text(s.members));
  log_notify_failure(notify("READY=1\nSTATUS=in an operational ring"));
  if (hooks.on_ready) hooks.on_ready();
}

int MemberLoop::stop(runtime::RingTransport& transport, int signal, const Hooks& hooks) {
  log_line(std::string(signal_name(signal)) + ": node " + std::to_string(transport.me()) +
           " leaves the ring");
  log_notify_failure(notify("STOPPING=1"));
  if (hooks.on_stop) hooks.on_stop();
  transport.stop();
  return kExitOk;
}

bool MemberLoop::has_left(runtime::RingTransport& transport, const Hooks& hooks) {
  if (!hooks.left) return left_.load();
  const StatusSnapshot s = transport.status();
  if (s.operational && s.ring_seq != logged_ring_seq_) {
    logged_ring_seq_ = s.ring_seq;
    log_line("ring " + std::to_string(s.ring_representative) + ":" + std::to_string(s.ring_seq) +
             " members" + nodes_text(s.members));
  }
  if (!hooks.left()) return false;
  if (!left_.exchange(true)) log_error("the node left the ring for good and cannot go on");
  return true;
}

int MemberLoop::run(runtime::RingTransport& transport, int stop_fd, const Hooks& hooks) {
  started_ = std::chrono::steady_clock::now();
  // Unbounded on purpose: a daemon runs until it is stopped or leaves.
  for (;;) {
    check_ready(transport, hooks);
    if (ready_ && hooks.on_tick) hooks.on_tick();
    if (has_left(transport, hooks)) {
      transport.stop();
      return kExitFailed;
    }
    pollfd p{stop_fd, POLLIN, 0};
    const int n = ::poll(&p, 1, ready_ ? kRunningPollMs : kStartingPollMs);
    if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const int signal = read_stop_signal(stop_fd);
      return stop(transport, signal, hooks);
    }
  }
}

}  // namespace ringcast::daemon
