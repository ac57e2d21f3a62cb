#include "support/sim_scenario.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace ringcast::test {

using fabric::sim::SimRandom;

std::uint32_t pick_size(SimRandom& r, std::uint32_t max_bytes, std::span<const SizeBand> bands) {
  const std::uint64_t x = r.below(100);
  const auto band = std::find_if(bands.begin(), bands.end() - 1,
                                 [x](const SizeBand& b) { return x < b.below_percent; });
  const std::uint64_t hi = band->hi != 0 ? band->hi : std::max<std::uint64_t>(band->lo, max_bytes);
  const std::uint64_t bytes = r.between(band->lo, hi);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes, max_bytes));
}

fabric::sim::SimConfig pick_fabric(SimRandom& r, const FabricChoice& choice) {
  fabric::sim::SimConfig s;
  s.base_latency_ns = r.between(500, 5'000);
  s.jitter_ns = r.between(0, 3'000);
  if (r.one_in(4)) {
    s.spike_one_in = 30;
    s.spike_ns = r.between(10'000, 200'000);
  }
  const std::uint64_t bw = r.below(3);
  s.bandwidth_bytes_per_us = bw == 0 ? 12'500 : bw == 1 ? 1'250 : 0;
  s.ack_delay_ns = r.between(500, 5'000);
  s.send_queue_depth = static_cast<std::uint32_t>(r.between(choice.min_send_queue_depth, 256));
  if (choice.links_break) {
    s.link_timeout_ns = r.between(100'000, 2'000'000);
    s.idle_link_detection = !r.one_in(4);
  }
  s.poison_allocations = r.one_in(2);  // catches trusting unwritten memory; costs time
  return s;
}

std::uint64_t relay_min_batch_bytes_or_forced(std::uint64_t configured) {
  const char* forced = std::getenv("RINGCAST_RELAY_MIN_BATCH_BYTES");
  return forced != nullptr && *forced != '\0' ? std::stoull(forced) : configured;
}

std::uint64_t pick_relay_min_batch_bytes(std::uint64_t seed, std::uint64_t default_bytes) {
  SimRandom r(seed ^ 0x52454c41594d494eull);  // "RELAYMIN"
  const std::uint64_t x = r.below(3);
  return relay_min_batch_bytes_or_forced(x == 0 ? 1 : x == 1 ? 0 : default_bytes);
}

}  // namespace ringcast::test
