// Pieces of the simulations' scenarios that the ring and the fault
// simulations draw alike from the seed: message sizes and the simulated
// fabric. Each call takes the same draws in the same order for the same
// arguments, so a seed keeps its scenario.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "fabric/sim/random.hpp"
#include "fabric/sim/sim_config.hpp"
#include "ring/ring_config.hpp"

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

// The ring's relay settings for a seed, from a stream of their own (the
// seed's other draws stay what they were): a third of the seeds relay every
// visit of a ring of 3 or more (relay_min_batch_bytes 1, relay_min_members
// 3), a third none (0), the rest keep the ring's defaults in `ring`.
void pick_relay(std::uint64_t seed, ring::RingConfig& ring);
// RINGCAST_RELAY_MIN_BATCH_BYTES=B: every scenario of the ring and fault
// simulations, seeded or written by hand, runs with relay_min_batch_bytes B
// (1: relay every visit, 0: none) and relay_min_members 3, so that rings of
// any size from 3 relay; otherwise `ring` stays as configured.
void force_relay_if_asked(ring::RingConfig& ring);
// RINGCAST_RELAY_MIN_BATCH_BYTES is set (not empty).
bool relay_forced();

// Records the relay forwarded over many seeds, by the kind of ring each seed
// ran (its relay settings once forced as asked, and its size), so that a
// simulation can show the relay acting where it may and nowhere else.
class RelayTally {
 public:
  void add(ring::RingConfig ring, std::size_t members, std::uint64_t records_relayed);
  // One line: each kind, its seeds and the records relayed in them.
  std::string summary() const;
  // Empty when, over these seeds, the relay forwarded records in every kind of
  // ring that relays by its settings (every visit with 3 or 4 members and
  // with 5 or more, large visits at the default settings) and none where it
  // may not; else what is wrong. Meaningful for seed ranges that draw every
  // kind, and unforced (RINGCAST_RELAY_MIN_BATCH_BYTES unset).
  std::string check() const;

 private:
  struct Kind {
    std::uint64_t seeds = 0;
    std::uint64_t relayed = 0;
  };
  // never (0 bytes or fewer than 3 members), below relay_min_members, every
  // visit with 3 or 4 members, every visit with 5 or more, large visits.
  std::array<Kind, 5> kinds_{};
};

}  // namespace ringcast::test
