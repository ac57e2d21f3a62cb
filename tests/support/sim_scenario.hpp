// Pieces of the simulations' scenarios that the ring and the fault
// simulations draw alike from the seed: message sizes and the simulated
// fabric. Each call takes the same draws in the same order for the same
// arguments, so a seed keeps its scenario.
#pragma once

#include <cstdint>
#include <span>

#include "fabric/sim/random.hpp"
#include "fabric/sim/sim_config.hpp"

namespace ringcast::test {

// One band of message sizes: chosen when the percentile drawn is below
// below_percent (and not below the band before); hi 0: up to the maximum
// message size (at least lo).
struct SizeBand {
  std::uint64_t below_percent;
  std::uint64_t lo;
  std::uint64_t hi;
};

// A size from the bands (the last must reach 100), never above max_bytes.
std::uint32_t pick_size(fabric::sim::SimRandom& r, std::uint32_t max_bytes,
                        std::span<const SizeBand> bands);

struct FabricChoice {
  std::uint32_t min_send_queue_depth = 20;
  // Also draw a link timeout and whether idle links are detected (the
  // fault simulations, where links break).
  bool links_break = false;
};

// Latency, jitter, spikes, bandwidth, acks and queue depth from the seed.
fabric::sim::SimConfig pick_fabric(fabric::sim::SimRandom& r, const FabricChoice& choice);

// The ring's relay_min_batch_bytes for a seed, from a stream of its own (the
// seed's other draws stay what they were): a third of the seeds relay every
// visit (1 byte), a third none (0), the rest keep `default_bytes`.
std::uint64_t pick_relay_min_batch_bytes(std::uint64_t seed, std::uint64_t default_bytes);
// RINGCAST_RELAY_MIN_BATCH_BYTES=B: every scenario of the ring and fault
// simulations, seeded or written by hand, runs with B (1: relay every visit,
// 0: none); otherwise `configured`.
std::uint64_t relay_min_batch_bytes_or_forced(std::uint64_t configured);

}  // namespace ringcast::test
