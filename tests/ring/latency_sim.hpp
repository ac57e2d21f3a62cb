// ringcast-bench's latency mode over the simulated fabric: member 0 sends one
// message at a time (submit, wait for its self-delivery, submit the next) and
// every member's delivery of each message is timed in virtual time, next to
// the token passes the ring made meanwhile.
//
// The members' progress threads are modelled (api/runtime/progress_thread.cpp,
// with its spin rule, api/runtime/spin_policy.hpp): a thread whose spin ended
// sleeps, and whatever reaches a sleeping member (a completion, a deadline)
// is handled wakeup_ns later; the
// sender's submit runs one round in the caller's thread (RingNode::submit,
// with_driver_round), and a self-delivery made by the progress thread reaches
// the waiting application wakeup_ns later. spin_ns = kNever, wakeup_ns = 0:
// the protocol alone, every member reacting at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fabric/sim/sim_config.hpp"
#include "ring/ring_config.hpp"
#include "ring/ring_state.hpp"

namespace ringcast::ring::sim_test {

struct ProgressModel {
  // runtime::SpinPolicy's: busy-polls at least spin_ns after the last
  // activity, up to max_spin_ns while activity comes in a steady stream
  // (max_spin_ns <= spin_ns: a fixed spin).
  std::uint64_t spin_ns = kNever;
  std::uint64_t max_spin_ns = 0;
  std::uint64_t wakeup_ns = 0;  // a sleeping thread handles an event this much later
};

struct LatencyCase {
  std::size_t members = 3;
  std::uint32_t size_bytes = 64;
  Guarantee guarantee = Guarantee::agreed;
  bool zero_copy = false;  // the sender's payloads are written from its own region
  std::uint64_t messages = 200;
  std::uint64_t warmup = 20;  // first messages not counted (the bench's warm-up)
  // Virtual time the ring runs idle after it starts, before the first
  // submit: where the token then is (held idle by whom) depends on it.
  std::uint64_t idle_before_ns = 250'000'000;
  // Messages every member sends at once before the idle time (a throughput
  // case before this one in a bench series); 0: none.
  std::uint64_t prelude_per_member = 0;
  // The sender's time from a self-delivery to its next submit (on rxe a post
  // runs the whole write in the caller's system call: tens of microseconds
  // per message that the protocol does not see).
  std::uint64_t think_ns = 0;
  ProgressModel progress;
  fabric::sim::SimConfig sim;
  RingConfig ring;
  std::uint64_t seed = 1;
};

struct LatencySummaryNs {
  std::uint64_t min = 0;
  std::uint64_t median = 0;
  std::uint64_t p99 = 0;
  std::uint64_t max = 0;
};

struct LatencyFigures {
  std::string failure;       // empty: every member delivered every message in order
  LatencySummaryNs self;     // submit -> self-delivery at the sender
  LatencySummaryNs slowest;  // submit -> delivery at the last other member
  std::uint64_t counted = 0;
  // Over the counted messages: token passes (all members) per message, and
  // how many of them waited for the token (it was not at the sender when
  // they were submitted).
  double passes_per_message = 0;
  std::uint64_t waited_for_token = 0;
  std::uint64_t one_write_ns = 0;  // the fabric's latency of one small write
  std::string describe() const;
};

LatencyFigures run_latency_case(const LatencyCase& c);

}  // namespace ringcast::ring::sim_test
