// How long the progress thread busy-polls after its last activity before it
// sleeps (ProgressLoop::run). Pure: time comes in as an argument, so the
// simulated latency runs (tests/ring/latency_sim) use the same rule.
//
// A member that receives a steady stream of records (a busy holder elsewhere
// sending one message every 60 to 100 us, as on rxe with 3 members) and
// sleeps between them pays a wake-up per record: tens to hundreds of
// microseconds in a VM, taken from the sender's CPU on an oversubscribed
// host, and added to every other member's delivery. A fixed spin shorter
// than the stream's gap sleeps before every record; one much longer burns a
// core after every burst. So the window follows the stream: twice the last
// pause between two activities, at least spin_ns, and at most max_spin_ns.
// A pause longer than max_spin_ns (an idle ring, a slow sender) is not worth
// spinning through and sets the window back to spin_ns. spin_ns 0 never
// spins (a process that asked for no busy-polling gets none).
#pragma once

#include <algorithm>
#include <cstdint>

namespace ringcast::runtime {

class SpinPolicy {
 public:
  SpinPolicy(std::uint64_t spin_ns, std::uint64_t max_spin_ns) noexcept
      : spin_ns_(spin_ns), max_spin_ns_(std::max(spin_ns, max_spin_ns)), window_ns_(spin_ns) {}

  // A round did work at now_ns. Only a pause (rounds that found nothing in
  // between) says how far apart the stream's events are; consecutive busy
  // rounds are one burst. The window grows at once and shrinks by halves: a
  // gap measured from an activity that a wake-up delayed looks shorter than
  // the stream's.
  void on_activity(std::uint64_t now_ns) noexcept {
    if (paused_ && seen_ && spin_ns_ > 0 && now_ns >= last_activity_ns_) {
      const std::uint64_t gap = now_ns - last_activity_ns_;
      if (gap >= max_spin_ns_) {
        window_ns_ = spin_ns_;
      } else {
        const std::uint64_t want = std::clamp(2 * gap, spin_ns_, max_spin_ns_);
        window_ns_ = want >= window_ns_ ? want : (window_ns_ + want) / 2;
      }
    }
    last_activity_ns_ = spin_from_ns_ = now_ns;
    paused_ = false;
    seen_ = true;
  }
  // A round found nothing to do.
  void on_idle_round() noexcept { paused_ = true; }
  // The thread woke from a sleep at now_ns: it spins a whole window again
  // (whatever woke it may bring more); the sleep still counts in the gap.
  void on_wake(std::uint64_t now_ns) noexcept { spin_from_ns_ = now_ns; }

  // Still within the spin after the last activity or wake.
  bool spinning(std::uint64_t now_ns) const noexcept { return now_ns - spin_from_ns_ < window_ns_; }
  std::uint64_t window_ns() const noexcept { return window_ns_; }
  // When the current spin ends, if nothing happens before.
  std::uint64_t spin_end_ns() const noexcept {
    return window_ns_ > UINT64_MAX - spin_from_ns_ ? UINT64_MAX : spin_from_ns_ + window_ns_;
  }

 private:
  std::uint64_t spin_ns_;
  std::uint64_t max_spin_ns_;
  std::uint64_t window_ns_;
  std::uint64_t last_activity_ns_ = 0;
  std::uint64_t spin_from_ns_ = 0;
  bool paused_ = false;
  bool seen_ = false;
};

}  // namespace ringcast::runtime
