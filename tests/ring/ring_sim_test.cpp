// The ring over the simulated fabric, many seeds (label sim). Each seed picks
// a ring (1 to 16 members), a fabric (latency, jitter, spikes, bandwidth,
// send-queue depth, slow links), a small log and queues (wrap-around and
// back-pressure), and applications that send bursts and hold deliveries; the
// oracle checks every property of the ring (see ring_oracle.hpp).
//
//   RINGCAST_SEEDS=N         run N seeds (default 2000) from RINGCAST_FIRST_SEED (default 1)
//   RINGCAST_SEED=S          replay one seed; add RINGCAST_TRACE=1 for every event
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "ring/send_queue.hpp"
#include "ring_sim_harness.hpp"
#include "support/seed_range.hpp"
#include "support/sim_scenario.hpp"

namespace ringcast::ring::sim_test {
namespace {

using ::ringcast::sim_test::for_each_seed;
using ::ringcast::sim_test::SeedRange;

TEST(RingSim, EverySeedKeepsTotalOrderSafetyAndBounds) {
  const SeedRange seeds = SeedRange::from_env(2000);
  const std::uint64_t first = seeds.first;
  const std::uint64_t count = seeds.count;

  std::map<std::size_t, std::uint64_t> by_members;
  RunResult total;
  test::RelayTally relay;
  ::ringcast::sim_test::DigestLog digests;
  const double seconds = for_each_seed(seeds, [&](std::uint64_t seed) {
    const Scenario s = make_scenario(seed);
    const RunResult r = run_scenario(s, seeds.trace);
    ++by_members[s.members];
    total.events += r.events;
    total.delivered += r.delivered;
    total.token_passes += r.token_passes;
    total.wakes += r.wakes;
    total.holds += r.holds;
    total.space_waits += r.space_waits;
    total.submit_retries += r.submit_retries;
    relay.add(s.ring, s.members, r.records_relayed);
    digests.add(seed, {r.ok ? 1u : 0u, r.virtual_ns, r.events, r.delivered, r.token_passes, r.wakes,
                       r.holds, r.space_waits, r.submit_retries, r.post_retries});
    if (r.ok) return std::optional<std::string>();
    return std::optional<std::string>(r.failure + "\n  scenario: " + s.describe());
  });
  std::printf("ring sim: %llu seeds from %llu in %.2f s (%.2f s per 1000 seeds)\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(first),
              seconds, seconds * 1000.0 / static_cast<double>(count));
  std::printf("  members:");
  for (auto [n, c] : by_members)
    std::printf(" %zu:%llu", n, static_cast<unsigned long long>(c));
  std::printf(
      "\n  deliveries %llu, fabric events %llu, token passes %llu, holds %llu, wakes %llu,"
      " space waits %llu, submit retries %llu\n",
      static_cast<unsigned long long>(total.delivered),
      static_cast<unsigned long long>(total.events),
      static_cast<unsigned long long>(total.token_passes),
      static_cast<unsigned long long>(total.holds), static_cast<unsigned long long>(total.wakes),
      static_cast<unsigned long long>(total.space_waits),
      static_cast<unsigned long long>(total.submit_retries));
  std::printf("  %s\n", relay.summary().c_str());
  if (!seeds.replay && count >= 2000) {
    for (std::size_t n : {1, 2, 3, 5, 8, 16})
      EXPECT_GT(by_members[n], 0u) << n << " members";
    if (!test::relay_forced()) {
      EXPECT_EQ(relay.check(), "") << relay.summary();
    }
  }
}

// Every message zero copy where a slot is free, its first bytes a copied
// prefix (the shape of a fragment: header copied, slice from the buffer).
TEST(RingSim, ZeroCopyWithACopiedPrefixKeepsEveryProperty) {
  const SeedRange seeds = SeedRange::from_env(300);
  for_each_seed(seeds, [&](std::uint64_t seed) {
    Scenario s = make_scenario(seed);
    s.zero_copy_prefix_bytes = static_cast<std::uint32_t>(1 + seed % kMaxZeroCopyPrefixBytes);
    for (auto& plan : s.plan) {
      for (PlannedMessage& p : plan)
        p.zero_copy = true;
    }
    const RunResult r = run_scenario(s, seeds.trace);
    if (r.ok) return std::optional<std::string>();
    return std::optional<std::string>(r.failure + "\n  scenario: " + s.describe() +
                                      " prefix=" + std::to_string(s.zero_copy_prefix_bytes));
  });
}

}  // namespace
}  // namespace ringcast::ring::sim_test
