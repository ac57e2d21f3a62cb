// The per-node cost model of bench/nicmodel: what a member's NIC and CPU
// spend, in virtual time, on the simulated fabric (docs/performance.md,
// "Performance model").
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fabric/sim/sim_config.hpp"

namespace ringcast::nicmodel {

struct CostModel {
  // The NIC's send side serialises its writes: wr_cost_ns + bytes / bandwidth
  // each, one after the other, shared by all of a member's links.
  std::uint64_t bandwidth_bytes_per_us = 12'000;
  std::uint64_t wr_cost_ns = 50;
  // From the end of a write's serialisation to its landing; also the ACK's.
  std::uint64_t latency_ns = 1'000;
  // CPU of a member's round: visit_ns per token visit, record_ns per record
  // delivered (submit, copy, delivery and release together). The writes the
  // round posts leave the NIC once it is done, and the member runs nothing
  // else meanwhile.
  std::uint64_t visit_ns = 500;
  std::uint64_t record_ns = 100;
  // Soft-RoCE: a post runs the write in the caller's system call, so the CPU
  // is busy until its NIC has sent what the round posted. false: a real NIC
  // sends on its own while the CPU goes on.
  bool posts_block_cpu = false;
  // Cores the members share (0: each has its own). With N members on fewer
  // cores, each member's CPU work, and with posts_block_cpu its posts, take
  // N / cores times as long (soft-RoCE under emulation: every member on the
  // VM's two cores).
  std::uint64_t cores = 0;
  // Not costs: the ring's relay_min_batch_bytes and relay_min_members
  // (docs/protocol.md "Relay"); kRingDefault leaves the ring's default.
  static constexpr std::uint64_t kRingDefault = UINT64_MAX;
  std::uint64_t relay_min_batch_bytes = kRingDefault;
  std::uint64_t relay_min_members = kRingDefault;

  // The model as seen by each of `members` members.
  CostModel shared_by(std::size_t members) const {
    if (cores == 0 || members <= cores) return *this;
    CostModel m = *this;
    auto scale = [&](std::uint64_t v) { return v * members / cores; };
    m.visit_ns = scale(visit_ns);
    m.record_ns = scale(record_ns);
    if (posts_block_cpu) {
      m.wr_cost_ns = scale(wr_cost_ns);
      m.bandwidth_bytes_per_us =
          std::max<std::uint64_t>(1, bandwidth_bytes_per_us * cores / members);
    }
    return m;
  }

  fabric::sim::SimConfig sim_config() const {
    fabric::sim::SimConfig c;
    c.base_latency_ns = latency_ns;
    c.jitter_ns = 0;
    c.ack_delay_ns = latency_ns;
    c.bandwidth_bytes_per_us = bandwidth_bytes_per_us;
    c.wr_cost_ns = wr_cost_ns;
    c.abort_on_cq_overflow = true;
    return c;
  }
};

}  // namespace ringcast::nicmodel
