// One case of nic-model: a throughput or latency run of the ring on
// ModelSim, with the order check every member's deliveries must pass.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cost_model.hpp"

namespace ringcast::nicmodel {

struct CaseSpec {
  std::size_t members = 2;
  std::uint32_t size = 64;
  bool latency = true;
  std::uint64_t count = 1000;  // messages in all
  // Latency: the next message goes once every member delivered the last
  // (one message in the ring: unloaded latency), not once the sender did
  // (ringcast-bench's pacing: the sender may run ahead of the others).
  bool pace_on_all = false;
};

struct CaseResult {
  double msgs_per_s = 0;  // throughput cases
  double mb_per_s = 0;    // 10^6 bytes/s, as ringcast-bench
  double self_median_us = 0;
  double self_p99_us = 0;
  double slowest_median_us = 0;  // the last member to deliver each message
  double slowest_p99_us = 0;
  bool order_ok = false;      // every member delivered the same sequence
  std::uint64_t visits = 0;   // token visits, all members
  std::uint64_t records = 0;  // records delivered, all members
};

// Throws std::runtime_error when the run does not finish.
CaseResult run_case(const CaseSpec& spec, const CostModel& model);

}  // namespace ringcast::nicmodel
