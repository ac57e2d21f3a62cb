#include "runtime/progress_thread.hpp"

#include "base/assert.hpp"
#include "base/thread_name.hpp"
#include "runtime/spin_policy.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace ringcast::runtime {

ProgressLoop::ProgressLoop(fabric::Endpoint& endpoint, WaitSource wait, ProgressOptions options)
    : endpoint_(endpoint), wait_(std::move(wait)), options_(options) {}

ProgressLoop::~ProgressLoop() {
  RC_ASSERT(!thread_.joinable());  // stopped by the subclass, whose round it runs
  if (event_fd_ >= 0) ::close(event_fd_);
}

Status ProgressLoop::start() {
  if (thread_.joinable())
    return make_error(Errc::invalid_argument, "ProgressLoop::start", "running");
  if (event_fd_ < 0) {
    event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) return system_error("eventfd", errno, "progress thread wake-up");
  }
  stop_ = false;
  thread_ = std::thread([this] {
    name_this_thread("rc-progress");
    run();
  });
  return {};
}

void ProgressLoop::stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  kick();
  thread_.join();
}

// The kicker sets kicked_ then looks at sleeping_; the sleeper sets sleeping_
// then looks at kicked_ (both sequentially consistent), so one of them sees
// the other: a kick never lands between the check and the sleep unnoticed.
void ProgressLoop::kick() noexcept {
  kicked_.store(true);
  if (sleeping_.load() && event_fd_ >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
  }
}

bool ProgressLoop::round(std::uint64_t* deadline_ns) {
  std::lock_guard lock(mutex_);
  const bool worked = round_locked();
  *deadline_ns = planned_deadline_ns_ = next_deadline_locked();
  return worked;
}

void ProgressLoop::run() {
  fabric::Endpoint& ep = endpoint_;
  SpinPolicy spin(options_.spin_ns, options_.max_spin_ns);
  spin.on_activity(ep.now_ns());
  while (!stop_.load()) {
    std::uint64_t deadline_ns = ring::kNever;
    const bool worked = round(&deadline_ns);
    const bool kicked = kicked_.exchange(false);
    const std::uint64_t now_ns = ep.now_ns();
    if (worked || kicked) {
      spin.on_activity(now_ns);
      let_waiters_in();
      continue;
    }
    spin.on_idle_round();
    // Due but nothing to do yet (a full link), or still within the spin.
    if (deadline_ns <= now_ns || spin.spinning(now_ns)) {
      if (options_.yield_while_spinning) std::this_thread::yield();
      continue;
    }
    sleep_until(deadline_ns);
    spin.on_wake(ep.now_ns());
  }
}

// Bounded: a waiter needs a moment to be scheduled and take the lock.
void ProgressLoop::let_waiters_in() noexcept {
  for (int i = 0; i < 64 && waiting_.load(std::memory_order_relaxed) != 0; ++i)
    std::this_thread::yield();
}

void ProgressLoop::sleep_until(std::uint64_t deadline_ns) {
  sleeping_.store(true);
  if (kicked_.load()) {
    sleeping_.store(false);
    return;
  }
  if (wait_.prepare) {
    // Under the lock: a thread in with_driver_round() may be polling the
    // same endpoint, and the endpoint is not ours to share unguarded.
    Result<bool> ready = false;
    {
      std::lock_guard lock(mutex_);
      ready = wait_.prepare();
    }
    if (!ready.ok() || *ready) {  // pending already (or the arm failed): poll again
      sleeping_.store(false);
      return;
    }
  }
  const std::uint64_t now_ns = endpoint_.now_ns();
  std::uint64_t sleep_ns = options_.max_sleep_ns;
  if (deadline_ns != ring::kNever && deadline_ns - now_ns < sleep_ns)
    sleep_ns = deadline_ns - now_ns;
  pollfd fds[2] = {{event_fd_, POLLIN, 0}, {wait_.fd, POLLIN, 0}};
  const timespec timeout{static_cast<time_t>(sleep_ns / 1'000'000'000),
                         static_cast<long>(sleep_ns % 1'000'000'000)};
  ::ppoll(fds, wait_.fd >= 0 ? 2 : 1, &timeout, nullptr);
  std::uint64_t drained;
  while (::read(event_fd_, &drained, sizeof drained) > 0) {
  }
  sleeping_.store(false);
  sleeps_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace ringcast::runtime
