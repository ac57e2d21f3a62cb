// The relay under faults, in chosen scenarios over the simulated fabric
// (label fault): a relay that dies between two of its forwards, and one whose
// links are slow enough that the space rule stops the holder. The oracle
// checks order, content, virtual synchrony and that nothing accepted is lost
// among the survivors, as for every fault seed.
#include <gtest/gtest.h>

#include "fault_sim.hpp"

namespace ringcast::membership::fault_test {
namespace {

constexpr std::uint32_t kMessageBytes = 8192;

// Member 0 streams 8 KiB messages (3 every `every_ns` for 20 ms)
// through a ring of `members` whose every visit is relayed; with `others`,
// the others send now and then, so that batches of several senders travel
// the chain.
FaultScenario relayed_stream(std::size_t members, std::uint64_t every_ns, bool others) {
  FaultScenario s;
  s.seed = 11;
  s.members = members;
  s.sim.base_latency_ns = 2'000;
  s.sim.jitter_ns = 500;
  s.sim.link_timeout_ns = 1'000'000;
  s.ring.log_bytes = 512u << 10;
  s.ring.max_message_bytes = 16384;
  s.ring.max_messages_per_visit = 4;
  s.ring.token_hold_ns = 50'000;
  s.ring.relay_min_batch_bytes = 1;
  s.ring.relay_min_members = 3;
  s.membership.token_timeout_ns = 5'000'000;
  s.membership.join_interval_ns = 200'000;
  s.membership.consensus_timeout_ns = 6'000'000;
  s.plan.resize(members);
  for (std::uint64_t t = 0; t < 20'000'000; t += every_ns) {
    for (std::uint64_t k = 0; k < 3; ++k)  // a burst: a visit of several records relays
      s.plan[0].push_back({t, kMessageBytes, static_cast<ring::Guarantee>((t / every_ns) % 4)});
  }
  for (std::size_t m = 1; others && m < members; ++m) {
    for (std::uint64_t t = m * 13'000; t < 20'000'000; t += 1'000'000)
      s.plan[m].push_back({t, 200, ring::Guarantee::agreed});
  }
  return s;
}

// Member 2 of 5 crashes while member 0's batches pass through it: at each of
// these instants it holds batches it received and has not forwarded yet, or
// forwarded some of a visit's and not the next, so members 3 and 4 lack
// records that members 0 and 1 have. The survivors form a ring whose
// recovery writes those records to them, and deliver the same sequence.
TEST(RelayFaults, ARelayThatDiesMidChainLosesNothing) {
  std::uint64_t recovered = 0;
  for (std::uint64_t at = 5'000'000; at < 5'060'000; at += 3'000) {
    FaultScenario s = relayed_stream(5, 60'000, true);
    s.faults.push_back({at, FaultKind::crash, 2, 0, 0, {}});
    const FaultRunResult r = run_fault_scenario(s);
    ASSERT_TRUE(r.ok) << "crash at " << at << " ns: " << r.failure;
    EXPECT_GE(r.reformations, 1u) << at;
    EXPECT_GT(r.records_relayed, 0u) << at;
    recovered += r.records_recovered;
  }
  // Somewhere in the sweep the crash cut the chain with records in flight.
  EXPECT_GT(recovered, 0u);
}

// Member 0 alone streams, and member 2's links get 400 us slower for good:
// everything it forwards reaches members 3 and 4 that much later, and so do
// their releases on the token, so the holder runs into the space rule of the
// 256 KiB log instead of overrunning what they still hold. Nobody is declared
// failed (the token still goes round well within its timeout).
TEST(RelayFaults, ASlowRelayStopsTheHolderThroughTheSpaceRule) {
  FaultScenario s = relayed_stream(5, 6'000, false);
  s.ring.log_bytes = 256u << 10;
  s.ring.max_messages_per_visit = 8;
  s.max_release_delay_ns = 100'000;  // the applications take a while too
  s.faults.push_back({2'000'000, FaultKind::slow, 2, 0, 400'000, {}});
  const FaultRunResult r = run_fault_scenario(s);
  ASSERT_TRUE(r.ok) << r.failure;
  EXPECT_EQ(r.reformations, 0u);
  EXPECT_GT(r.records_relayed, 0u);
  EXPECT_GT(r.visits_space_limited, 0u)
      << r.delivered << " delivered, relayed " << r.records_relayed << ", waits " << r.relay_waits
      << ", " << r.virtual_ns;
}

}  // namespace
}  // namespace ringcast::membership::fault_test
