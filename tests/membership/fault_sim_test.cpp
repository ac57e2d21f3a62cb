// Membership over the simulated fabric with faults, many seeds (label fault).
// Each seed picks 2 to 8 members, a fabric, a ring and membership config,
// applications, and up to three faults (crash, partition, one-way link
// failure, slow member, paused process, lost token), often the second during
// the gather or recovery of the first; the oracle (fault_oracle.hpp) checks
// order, content, virtual synchrony, SAFE, no loss among survivors, and that
// the cluster settles within the bound once faults stop.
//
//   RINGCAST_SEEDS=N         run N seeds (default 2000) from RINGCAST_FIRST_SEED (default 1)
//   RINGCAST_SEED=S          replay one seed; add RINGCAST_TRACE=1 for every event
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "fault_sim.hpp"
#include "support/seed_range.hpp"
#include "support/sim_scenario.hpp"

namespace ringcast::membership::fault_test {
namespace {

using ::ringcast::sim_test::for_each_seed;
using ::ringcast::sim_test::SeedRange;

// What every member delivered and which changes it saw, as one number.
std::uint64_t outcome_hash(const FaultRunResult& r) {
  using ::ringcast::sim_test::fnv1a;
  std::uint64_t h = ::ringcast::sim_test::kFnvOffset;
  for (const auto& member : r.delivered_ids) {
    h = fnv1a(h, member.size());
    for (std::uint64_t id : member)
      h = fnv1a(h, id);
  }
  for (const ChangeSeen& c : r.changes_seen) {
    h = fnv1a(h, c.member);
    h = fnv1a(h, c.at_ns);
    h = fnv1a(h, c.transitional ? 1 : 0);
    for (const auto* list : {&c.members, &c.left, &c.joined}) {
      h = fnv1a(h, list->size());
      for (fabric::NodeId n : *list)
        h = fnv1a(h, n);
    }
  }
  return h;
}

TEST(FaultSim, EverySeedKeepsVirtualSynchronyAndSettles) {
  const SeedRange seeds = SeedRange::from_env(2000);
  const std::uint64_t first = seeds.first;
  const std::uint64_t count = seeds.count;

  std::map<std::size_t, std::uint64_t> by_members;
  FaultRunResult total;
  test::RelayTally relay;
  ::ringcast::sim_test::DigestLog digests;
  const double seconds = for_each_seed(seeds, [&](std::uint64_t seed) {
    const FaultScenario s = make_fault_scenario(seed);
    const FaultRunResult r = run_fault_scenario(s, seeds.trace);
    ++by_members[s.members];
    total.applied += r.applied;
    total.events += r.events;
    total.delivered += r.delivered;
    total.changes += r.changes;
    total.reformations += r.reformations;
    total.token_losses += r.token_losses;
    total.records_recovered += r.records_recovered;
    total.control_dropped += r.control_dropped;
    total.faults += r.faults;
    relay.add(s.ring, s.members, r.records_relayed);
    digests.add(
        seed, {r.ok ? 1u : 0u, r.virtual_ns, r.events, r.delivered, r.changes, r.reformations,
               r.token_losses, r.records_recovered, r.control_dropped, r.faults, outcome_hash(r)});
    if (r.ok) return std::optional<std::string>();
    return std::optional<std::string>(r.failure + "\n  scenario: " + s.describe());
  });
  std::printf("fault sim: %llu seeds from %llu in %.2f s\n", static_cast<unsigned long long>(count),
              static_cast<unsigned long long>(first), seconds);
  std::printf("  members:");
  for (auto [n, c] : by_members)
    std::printf(" %zu:%llu", n, static_cast<unsigned long long>(c));
  // One line with every registered fault kind and how often it acted.
  std::printf("\n  fault kinds applied (%llu): %s",
              static_cast<unsigned long long>(total.applied.total()),
              total.applied.summary().c_str());
  std::printf(
      "\n  deliveries %llu, configuration changes %llu, reformations %llu, token losses %llu,"
      " records recovered %llu, control messages dropped %llu, fabric events %llu\n",
      static_cast<unsigned long long>(total.delivered),
      static_cast<unsigned long long>(total.changes),
      static_cast<unsigned long long>(total.reformations),
      static_cast<unsigned long long>(total.token_losses),
      static_cast<unsigned long long>(total.records_recovered),
      static_cast<unsigned long long>(total.control_dropped),
      static_cast<unsigned long long>(total.events));
  std::printf("  %s\n", relay.summary().c_str());
  if (!seeds.replay && count >= 2000 && !test::relay_forced()) {
    EXPECT_EQ(relay.check(), "") << relay.summary();
  }
}

}  // namespace
}  // namespace ringcast::membership::fault_test
