// Runs whole rings over the simulated fabric: N members, each a RingDriver on
// a SimEndpoint, all pairs connected, an application per member that submits
// bursts of messages of random sizes and guarantees (some zero-copy), and
// holds what it is delivered for a random time before releasing it. The
// oracle (ring_oracle.hpp) watches every delivery and release.
//
// Everything is chosen from the seed (make_scenario), so a seed replays
// exactly: RINGCAST_SEED=<seed> build/tests/ring/ring_sim_test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fabric/sim/sim_config.hpp"
#include "ring/record.hpp"
#include "ring/ring_config.hpp"

namespace ringcast::ring::sim_test {

struct PlannedMessage {
  std::uint64_t at_ns = 0;  // submitted at or after this virtual time
  std::uint32_t bytes = 0;
  Guarantee guarantee = Guarantee::agreed;
  bool zero_copy = false;
};

struct SlowLink {
  std::uint32_t from = 0;  // member indexes
  std::uint32_t to = 0;
  std::uint64_t extra_ns = 0;
};

struct Scenario {
  std::uint64_t seed = 0;
  std::size_t members = 0;
  fabric::sim::SimConfig sim;
  RingConfig ring;
  std::vector<std::vector<PlannedMessage>> plan;  // [member], by time
  std::vector<SlowLink> slow_links;
  std::uint64_t max_release_delay_ns = 0;
  std::uint32_t zero_copy_slot_bytes = 0;
  std::uint32_t zero_copy_slots = 0;
  // A zero-copy message's first bytes go as a copied prefix (up to this
  // many); 0 in make_scenario's mix.
  std::uint32_t zero_copy_prefix_bytes = 0;

  std::size_t message_count() const;
  std::string describe() const;
};

Scenario make_scenario(std::uint64_t seed);

struct RunResult {
  bool ok = false;
  std::string failure;
  std::uint64_t virtual_ns = 0;
  std::uint64_t events = 0;
  std::uint64_t delivered = 0;  // deliveries over all members
  std::uint64_t token_passes = 0;
  std::uint64_t wakes = 0;
  std::uint64_t holds = 0;
  std::uint64_t space_waits = 0;      // visits stopped by the space rule
  std::uint64_t submit_retries = 0;   // submits refused with try_again
  std::uint64_t post_retries = 0;     // chains left in the outbox for a full link
  std::uint64_t records_relayed = 0;  // forwarded by the members (RingCounters)
};

// trace: one line per fabric event and per delivery on stderr.
RunResult run_scenario(const Scenario& scenario, bool trace = false);

}  // namespace ringcast::ring::sim_test
