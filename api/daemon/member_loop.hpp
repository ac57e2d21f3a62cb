// ringcastd's main loop around the node's ring member (a RingTransport:
// MembershipNode over verbs, or a simulated member in tests).
//
// The member runs on its own threads; this loop only waits: for the member
// to be in an operational ring (then on_ready: READY=1 to systemd), for a
// stop signal (then it leaves the ring at once), and for the member to leave
// the ring for good (then it exits non-zero, for systemd to restart it).
// When nothing else takes the member's rounds (round_callback()), its events
// are drained and released as they come, and each configuration change is
// logged; when a client::Node takes them (the daemon serving clients),
// Hooks::left says whether the member left, and each new ring is logged.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "runtime/ring_transport.hpp"

namespace ringcast::daemon {

class MemberLoop {
 public:
  // startup_window: how long a node that reaches peers outside its ring
  // waits to be merged with them before it is ready anyway (logged).
  explicit MemberLoop(std::chrono::milliseconds startup_window) : startup_window_(startup_window) {}

  // The transport's round callback (runs on its thread).
  runtime::RoundCallback round_callback();

  // Until stop_fd (a signalfd, or any descriptor in tests) is readable, or
  // the member leaves the ring for good; returns the exit status (0 after
  // a stop). On a stop it says STOPPING=1 and stops the transport: the
  // caller destroys it, which closes every link (rdma_disconnect).
  // on_ready runs once, when READY=1 goes out; on_tick after that, at every
  // turn of the loop (about twice a second, and at once after each wake).
  // left: set when the rounds go elsewhere (round_callback() unused):
  // whether the member left the ring for good. on_stop: on a stop signal,
  // before the member stops (the clients' finalizes still go out).
  struct Hooks {
    std::function<void()> on_ready;
    std::function<void()> on_tick;
    std::function<bool()> left;
    std::function<void()> on_stop;
  };
  int run(runtime::RingTransport& transport, int stop_fd, const Hooks& hooks);

  bool ready() const noexcept { return ready_; }
  // Messages drained and released so far (any thread).
  std::uint64_t messages() const noexcept { return messages_.load(std::memory_order_relaxed); }

 private:
  void drain(runtime::EventSource& events);
  // Operational, and every node it has a link to is in its ring.
  bool settled(runtime::RingTransport& transport) const;
  void check_ready(runtime::RingTransport& transport, const Hooks& hooks);
  int stop(runtime::RingTransport& transport, int signal, const Hooks& hooks);
  bool has_left(runtime::RingTransport& transport, const Hooks& hooks);

  std::chrono::milliseconds startup_window_;
  std::chrono::steady_clock::time_point started_{};
  bool ready_ = false;
  std::atomic<bool> left_{false};  // set by the round callback
  std::atomic<std::uint64_t> messages_{0};
  std::uint64_t logged_ring_seq_ = 0;  // the last ring logged by has_left
};

}  // namespace ringcast::daemon
