// Parameters and counters of a simulated fabric.
#pragma once

#include <cstdint>

namespace ringcast::fabric::sim {

struct SimConfig {
  // --- Timing of one write: landing time at the target is
  //   max(post, sender's egress free)
  //   + wr_cost_ns + bytes / bandwidth                           (egress serialisation)
  //   + base_latency_ns + uniform[0, jitter_ns] (+ a spike)      (wire and NICs)
  //   + the link's extra delay (SimWorld::set_link_delay)
  // and never earlier than the previous write of the same link (RC is FIFO).
  std::uint64_t base_latency_ns = 2'000;
  std::uint64_t jitter_ns = 1'000;
  // With probability 1/spike_one_in (0: never) a write gets up to spike_ns
  // more: rare long delays, as a congested switch gives.
  std::uint64_t spike_one_in = 0;
  std::uint64_t spike_ns = 0;
  // Egress bandwidth of each endpoint (its NIC port), shared by all its links.
  // 12'500 bytes/us = 100 Gb/s. 0: unlimited.
  std::uint64_t bandwidth_bytes_per_us = 12'500;
  // Time the sender's NIC spends on each work request before its bytes go
  // out (doorbell, WQE fetch, DMA set-up), serialised on the egress port like
  // the bytes: a NIC does 1e9 / wr_cost_ns writes per second at most. 0: none.
  std::uint64_t wr_cost_ns = 0;
  // From landing to the requester's completion (the ACK's way back).
  std::uint64_t ack_delay_ns = 2'000;

  // --- Failure detection. A link whose peer crashed or is cut off fails
  // link_timeout_ns after the fault (an RC QP's retry_cnt x timeout, or
  // rdma_cm noticing the disconnect), never earlier.
  std::uint64_t link_timeout_ns = 1'000'000;
  // true: both ends of a cut link fail at fault + link_timeout_ns whether or
  //   not they were writing (as with a keep-alive or an rdma_cm DISCONNECTED).
  // false: strict RC, an end fails only once a write of its own cannot
  //   complete: at max(fault, the post of that write) + link_timeout_ns; an
  //   end that never writes never notices.
  bool idle_link_detection = true;

  // --- Queues.
  std::uint32_t send_queue_depth = 256;         // writes outstanding per link
  std::uint32_t max_inline_bytes = 220;         // reported only: the simulator reads
                                                // every source at landing time
  std::uint32_t completion_queue_depth = 4096;  // per endpoint
  // A completion queue overflow is a bug of the code driving the endpoint (it
  // did not poll enough). false: the completion is dropped and counted in
  // SimStats::cq_overflows (the harness's oracle must check it is 0);
  // true: RC_ASSERT stops the process at once.
  bool abort_on_cq_overflow = false;

  // Fill allocate()d memory with seeded random bytes instead of zeros, so
  // code that trusts memory nobody wrote is caught.
  bool poison_allocations = false;
};

struct SimStats {
  std::uint64_t events = 0;  // events run by step()
  std::uint64_t writes_posted = 0;
  std::uint64_t writes_landed = 0;
  std::uint64_t bytes_landed = 0;
  std::uint64_t writes_lost = 0;    // never landed (crash, cut link)
  std::uint64_t completions = 0;    // pushed to completion queues
  std::uint64_t cq_overflows = 0;   // completions dropped: a bug, see SimConfig
  std::uint64_t link_failures = 0;  // link ends that went to the error state
};

// What one node's NIC was asked to send: the cost of dissemination per
// member. Counted at post, whether or not the write lands later.
struct SimNodeStats {
  std::uint64_t writes_posted = 0;  // work requests
  std::uint64_t bytes_posted = 0;   // bytes of those writes (every segment)
};

}  // namespace ringcast::fabric::sim
