// ProgressThread: runs a driver (ring::RingDriver, membership::MembershipDriver)
// on a thread of its own, for processes whose application threads do other
// things (the CPG layer). It busy-polls for spin_ns after the last activity,
// then sleeps until the fabric has completions, the driver's next deadline,
// or another thread kicked it.
//
// It is the runtime's, not ring/'s: the protocol layers are sans-I/O (events
// and time in, actions out), so the thread, the eventfd and ppoll live here,
// in the layer that binds a driver to a backend.
//
// The sleep is the backend's: a WaitSource says how to arm it and which file
// descriptor becomes readable (for verbs: VerbsEndpoint::prepare_wait and
// wait_fd). No backend header is included here.
//
// Locking: the driver and its endpoint are guarded by one mutex, held by the
// progress thread while it runs a round or arms its wait, and by
// with_driver() / with_driver_round() for other threads (submit,
// next_delivery, release_through). So the endpoint is only ever used by one
// thread at a time, as the verbs backend requires; only the sleep itself
// (ppoll on the fds) happens without the lock. Code that sets links up on
// another thread takes the same lock around the steps that touch the
// endpoint (lock_from_outside(); verbs LinkOptions::endpoint_lock).
//
// Defaults and the trade (docs/protocol.md, "Idle"): spinning answers in
// microseconds but burns a core; 3 to 5 members on a 2-core VM that all spin
// starve the one holding the token, so the spin is short (50 us, about one
// token rotation on a real NIC) and yields the CPU between polls; past it the
// thread sleeps and an arriving token or record wakes it through the
// completion channel, at the cost of a wake-up (a few microseconds to tens).
// While records arrive in a steady stream the spin stretches to cover the
// pauses between them, up to max_spin_ns (spin_policy.hpp): a member asleep
// between a busy holder's records pays that wake-up for every one.
//
// The loop (ProgressLoop) knows a driver only as "a round" and "the next
// deadline"; BasicProgressThread<Driver> binds it to one driver type, which
// must offer bool progress(), std::uint64_t next_deadline_ns() and
// fabric::Endpoint& endpoint(). ProgressThread is the static ring's.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "base/result.hpp"
#include "fabric/fabric.hpp"
#include "ring/driver.hpp"

namespace ringcast::runtime {

struct WaitSource {
  // Arms the notification. true: completions are already pending, poll now
  // instead of sleeping. Called on the progress thread only.
  std::function<Result<bool>()> prepare;
  // Readable once completions may be pending. -1: no fd, sleep on time only.
  int fd = -1;
};

struct ProgressOptions {
  std::uint64_t spin_ns = 50'000;  // busy-poll at least this long after the last activity
  // While activity comes in a steady stream, the spin follows it: twice the
  // last pause between two activities, up to this (SpinPolicy). A member
  // that receives a busy holder's records every 60 to 100 us then stays awake
  // instead of paying a wake-up per record. At most spin_ns: a fixed spin.
  std::uint64_t max_spin_ns = 200'000;
  bool yield_while_spinning = true;          // sched_yield between polls (oversubscribed hosts)
  std::uint64_t max_sleep_ns = 100'000'000;  // one sleep at most (bounds stop() too)
};

// The thread, the lock, the spin and the sleep; the driver is the subclass's.
class ProgressLoop {
 public:
  ProgressLoop(const ProgressLoop&) = delete;
  ProgressLoop& operator=(const ProgressLoop&) = delete;

  // Errc::system when the wake-up eventfd cannot be made.
  Status start();
  void stop();

  // Rounds that found nothing to do and slept, for tests and tuning.
  std::uint64_t sleeps() const noexcept { return sleeps_.load(std::memory_order_relaxed); }
  // The lock that guards the driver and its endpoint (see the top), taken
  // from another thread: the progress thread lets such a waiter in between
  // two rounds instead of taking the lock straight back.
  std::unique_lock<std::mutex> lock_from_outside() {
    waiting_.fetch_add(1, std::memory_order_relaxed);
    std::unique_lock lock(mutex_);
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    return lock;
  }

 protected:
  ProgressLoop(fabric::Endpoint& endpoint, WaitSource wait, ProgressOptions options);
  // The subclass stops the thread in its destructor: a round calls into it.
  ~ProgressLoop();

  // One round of the driver and the round callback; the lock is held.
  virtual bool round_locked() = 0;
  virtual std::uint64_t next_deadline_locked() const noexcept = 0;

  void kick() noexcept;

  std::mutex mutex_;
  // Threads blocked in lock_from_outside(): a busy progress thread re-takes
  // a std::mutex before a waiter wakes (no fairness), and starved link
  // set-up and submits for as long as the ring was busy.
  std::atomic<std::uint32_t> waiting_{0};
  // The deadline the progress thread computed in its last round and sleeps
  // towards (guarded by mutex_).
  std::uint64_t planned_deadline_ns_ = 0;

 private:
  void run();
  bool round(std::uint64_t* deadline_ns);
  void sleep_until(std::uint64_t deadline_ns);
  void let_waiters_in() noexcept;

  fabric::Endpoint& endpoint_;
  WaitSource wait_;
  ProgressOptions options_;
  std::thread thread_;
  int event_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> kicked_{false};
  std::atomic<bool> sleeping_{false};
  std::atomic<std::uint64_t> sleeps_{0};
};

template <class Driver>
class BasicProgressThread final : public ProgressLoop {
 public:
  // Called on the progress thread after every round, with the lock held:
  // drain deliveries and zero-copy completions there (or signal whoever does).
  using RoundCallback = std::function<void(Driver&)>;

  BasicProgressThread(Driver& driver, WaitSource wait, ProgressOptions options,
                      RoundCallback on_round)
      : ProgressLoop(driver.endpoint(), std::move(wait), options),
        driver_(driver),
        on_round_(std::move(on_round)) {}
  ~BasicProgressThread() { stop(); }

  // Runs fn(driver) under the lock from any thread, then makes sure the
  // progress thread acts on it (it skips or ends its sleep).
  template <class Fn>
  auto with_driver(Fn&& fn) {
    struct Kick {
      BasicProgressThread* self;
      ~Kick() { self->kick(); }
    } kick_after{this};
    auto lock = lock_from_outside();
    return fn(driver_);
  }

  // The same without the kick, for calls that give the ring nothing to act
  // on (next_delivery, next_zero_copy_done, reading state): an application
  // that polls for deliveries then does not keep the progress thread awake.
  template <class Fn>
  auto with_driver_quietly(Fn&& fn) {
    auto lock = lock_from_outside();
    return fn(driver_);
  }

  // Like with_driver(), but kicks the progress thread only when fn moved the
  // ring's next deadline before the one that thread planned with: for calls
  // that rarely give the ring work at once (release_through, which a CPG
  // dispatcher makes after every message: a kick each time woke the progress
  // thread for nothing).
  template <class Fn>
  auto with_driver_if_due(Fn&& fn) {
    bool earlier = false;
    auto result = [&] {
      auto lock = lock_from_outside();
      auto r = fn(driver_);
      earlier = driver_.next_deadline_ns() < planned_deadline_ns_;
      return r;
    }();
    if (earlier) kick();
    return result;
  }

  // Like with_driver(), then runs one round right here, in the caller's
  // thread, before the progress thread would wake: a member that keeps the
  // token (busy hold) sends the caller's message and delivers it to itself
  // without two thread hand-offs (the kick, then the delivery wake-up).
  // It kicks the progress thread only when the round moved the ring's next
  // deadline before the one that thread planned with: otherwise that thread
  // would only wake to find nothing to do and spin, taking the CPU from the
  // caller (on an oversubscribed host that doubled the latency).
  template <class Fn>
  auto with_driver_round(Fn&& fn) {
    return with_driver_if_due([&](Driver& d) {
      auto r = fn(d);
      round_locked();
      return r;
    });
  }

 private:
  bool round_locked() override {
    const bool worked = driver_.progress();
    if (on_round_) on_round_(driver_);
    return worked;
  }
  std::uint64_t next_deadline_locked() const noexcept override {
    return driver_.next_deadline_ns();
  }

  Driver& driver_;
  RoundCallback on_round_;
};

using ProgressThread = BasicProgressThread<ring::RingDriver>;

}  // namespace ringcast::runtime
