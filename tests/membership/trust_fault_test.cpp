// Writes a member must refuse, in chosen scenarios over the simulated fabric
// (label fault): a forged token, a control message, batch signal and wake in
// another member's name, a write that lands twice, scribbled control slots.
// Each is refused (counted), the ring goes on without a reformation, and the
// oracle finds nothing wrong delivered and nothing accepted lost.
#include <gtest/gtest.h>

#include "fault_sim.hpp"

namespace ringcast::membership::fault_test {
namespace {

// Members sending a message every 200 us for 30 ms on a fast, steady fabric.
FaultScenario steady(std::size_t members) {
  FaultScenario s;
  s.seed = 7;
  s.members = members;
  s.sim.base_latency_ns = 2'000;
  s.sim.jitter_ns = 500;
  s.sim.link_timeout_ns = 1'000'000;
  s.ring.log_bytes = 1u << 20;
  s.ring.max_message_bytes = 4096;
  s.ring.token_hold_ns = 50'000;
  s.membership.token_timeout_ns = 5'000'000;
  s.membership.join_interval_ns = 200'000;
  s.membership.consensus_timeout_ns = 6'000'000;
  s.plan.resize(members);
  for (std::size_t m = 0; m < members; ++m) {
    for (std::uint64_t t = 0; t < 30'000'000; t += 200'000) {
      s.plan[m].push_back({t + m * 7'000, 100, static_cast<ring::Guarantee>((t / 200'000) % 4)});
    }
  }
  return s;
}

// Member 3 (not member 1's predecessor) writes member 1 a token claiming
// every member holds every seq: refused, so no SAFE message is delivered
// early (the oracle checks every log) and the real token goes on.
TEST(TrustFaults, AForgedTokenIsRefused) {
  FaultScenario s = steady(4);
  for (std::uint64_t at = 5'000'000; at < 25'000'000; at += 1'000'000)
    s.faults.push_back({at, FaultKind::forged_token, 1, 3, 0, {}});
  const FaultRunResult r = run_fault_scenario(s);
  ASSERT_TRUE(r.ok) << r.failure;
  EXPECT_GE(r.writes_wrong_link, 10u);
  EXPECT_EQ(r.reformations, 0u);
  EXPECT_EQ(r.applied.get(fault_counter(FaultKind::forged_token)), 20u);
}

// Member 1 writes member 0 a join in member 3's name (in member 3's control
// slot, with a message seq above any member 3 will use), a batch signal and
// a wake: all refused. Believed, the join would start a gather and make
// member 3's own messages look stale, leaving it out of the next ring.
TEST(TrustFaults, WritesInAnotherMembersNameAreRefused) {
  FaultScenario s = steady(4);
  s.faults.push_back({10'000'000, FaultKind::wrong_link, 0, 1, 0, {}});
  const FaultRunResult r = run_fault_scenario(s);
  ASSERT_TRUE(r.ok) << r.failure;
  EXPECT_EQ(r.writes_wrong_link, 3u);
  EXPECT_EQ(r.reformations, 0u);
}

TEST(TrustFaults, AWriteThatLandsTwiceChangesNothing) {
  FaultScenario s = steady(3);
  for (std::uint64_t at = 1'000'000; at < 29'000'000; at += 700'000)
    s.faults.push_back({at,
                        FaultKind::duplicate_write,
                        static_cast<std::uint32_t>(at % 3),
                        static_cast<std::uint32_t>((at + 1) % 3),
                        0,
                        {}});
  const FaultRunResult r = run_fault_scenario(s);
  ASSERT_TRUE(r.ok) << r.failure;
  EXPECT_EQ(r.reformations, 0u);
}

// Control slots scribbled over while the survivors of a crash form a ring:
// the messages hit are refused by their checksum and sent again.
TEST(TrustFaults, CorruptedControlMessagesAreRefusedAndSentAgain) {
  FaultScenario s = steady(4);
  s.faults.push_back({10'000'000, FaultKind::crash, 2, 2, 0, {}});
  for (std::uint64_t at = 10'000'000; at < 14'000'000; at += 100'000)
    s.faults.push_back(
        {at, FaultKind::corrupt_control, static_cast<std::uint32_t>(at / 100000 % 2), 3, 0, {}});
  const FaultRunResult r = run_fault_scenario(s);
  ASSERT_TRUE(r.ok) << r.failure;
  EXPECT_EQ(r.reformations, 3u) << "one new ring at each survivor";
}

}  // namespace
}  // namespace ringcast::membership::fault_test
