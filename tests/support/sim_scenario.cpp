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

bool relay_forced() {
  const char* forced = std::getenv("RINGCAST_RELAY_MIN_BATCH_BYTES");
  return forced != nullptr && *forced != '\0';
}

void force_relay_if_asked(ring::RingConfig& ring) {
  if (!relay_forced()) return;
  ring.relay_min_batch_bytes = std::stoull(std::getenv("RINGCAST_RELAY_MIN_BATCH_BYTES"));
  ring.relay_min_members = 3;
}

void pick_relay(std::uint64_t seed, ring::RingConfig& ring) {
  SimRandom r(seed ^ 0x52454c41594d494eull);  // "RELAYMIN"
  const std::uint64_t x = r.below(3);
  if (x == 0) {
    ring.relay_min_batch_bytes = 1;
    ring.relay_min_members = 3;
  } else if (x == 1) {
    ring.relay_min_batch_bytes = 0;
  }
  force_relay_if_asked(ring);
}

namespace {

constexpr std::array<const char*, 5> kRelayKindNames = {
    "never", "below relay_min_members", "every visit at 3-4", "every visit at 5+", "large visits"};

std::size_t relay_kind(const ring::RingConfig& ring, std::size_t members) {
  if (ring.relay_min_batch_bytes == 0 || members < 3) return 0;
  if (members < ring.relay_min_members) return 1;
  if (ring.relay_min_batch_bytes == 1) return members < 5 ? 2 : 3;
  return 4;
}

}  // namespace

void RelayTally::add(ring::RingConfig ring, std::size_t members, std::uint64_t records_relayed) {
  force_relay_if_asked(ring);
  Kind& k = kinds_[relay_kind(ring, members)];
  ++k.seeds;
  k.relayed += records_relayed;
}

std::string RelayTally::summary() const {
  std::string out = "records relayed by kind of ring (seeds: records):";
  for (std::size_t i = 0; i < kinds_.size(); ++i) {
    out += std::string(i == 0 ? " " : ", ") + kRelayKindNames[i] + " " +
           std::to_string(kinds_[i].seeds) + ": " + std::to_string(kinds_[i].relayed);
  }
  return out;
}

std::string RelayTally::check() const {
  std::string wrong;
  for (std::size_t i = 0; i < kinds_.size(); ++i) {
    const bool may_relay = i >= 2;
    if (may_relay && kinds_[i].relayed == 0) {
      wrong += std::string("no record relayed in ") + kRelayKindNames[i] + "; ";
    }
    if (!may_relay && kinds_[i].relayed != 0) {
      wrong += std::string("records relayed in ") + kRelayKindNames[i] + "; ";
    }
  }
  return wrong;
}

}  // namespace ringcast::test
