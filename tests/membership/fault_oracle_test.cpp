// The oracle's SAFE rule on hand-built events: it fails a SAFE delivery while
// a member of the ring lacks the record, and accepts one after a member that
// had the record (it delivered it) reused those log bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include "fault_oracle.hpp"
#include "ring/record.hpp"
#include "support/ring_oracle.hpp"

namespace ringcast::membership::fault_test {
namespace {

constexpr std::size_t kMembers = 3;
constexpr std::uint64_t kLogBytes = 1024;
constexpr std::uint64_t kPosition = 5 * kLogBytes + 128;  // seq 1's place, on the sixth lap
constexpr std::uint32_t kPayloadBytes = 40;
const RingId kRing{100, 1};

// Three members in ring kRing; member 0 submitted one SAFE message, ordered
// as seq 1, whose record sits in every member's log.
class SafeRule : public ::testing::Test {
 protected:
  SafeRule() : oracle_({100, 103, 106}) {
    change_.ring = kRing;
    change_.members = {100, 103, 106};
    for (std::size_t m = 0; m < kMembers; ++m) {
      oracle_.on_event(m, MemberEvent{&change_, {}, kRing, 0}, {}, logs(), ring_of_, kLogBytes, 0);
    }
    oracle_.on_submitted(0, 0, kPayloadBytes, ring::Guarantee::safe);
    record_.resize(ring::kRecordHeaderBytes + kPayloadBytes);
    std::fill_n(record_.begin(), ring::kRecordHeaderBytes, std::byte{0x5a});
    ring::sim_test::fill_payload(std::span(record_).subspan(ring::kRecordHeaderBytes), 0, 0);
    for (auto& log : logs_) {
      log.assign(kLogBytes, std::byte{0});
      std::copy(record_.begin(), record_.end(), log.begin() + kPosition % kLogBytes);
    }
  }

  void deliver(std::size_t m) {
    MemberEvent e;
    e.ring = kRing;
    e.index = 1;
    e.message.seq = 1;
    e.message.position = kPosition;
    e.message.sender = 100;
    e.message.sender_pid = 0;
    e.message.group = 0;  // the harness carries the counter in the group id
    e.message.guarantee = ring::Guarantee::safe;
    e.message.payload = std::span(record_).subspan(ring::kRecordHeaderBytes);
    oracle_.on_event(m, e, record_, logs(), ring_of_, kLogBytes, 1000);
  }
  // The bytes of seq 1 in member m's log are something else now.
  void overwrite(std::size_t m) {
    std::fill_n(logs_[m].begin() + kPosition % kLogBytes, record_.size(), std::byte{0x77});
  }
  std::vector<std::span<const std::byte>> logs() const { return {logs_[0], logs_[1], logs_[2]}; }

  FaultOracle oracle_;
  ConfigurationChange change_;
  std::array<RingId, kMembers> ring_of_{kRing, kRing, kRing};
  std::array<std::vector<std::byte>, kMembers> logs_;
  std::vector<std::byte> record_;
};

TEST_F(SafeRule, IsKeptWhenEveryMemberHoldsTheRecord) {
  deliver(0);
  deliver(1);
  deliver(2);
  EXPECT_FALSE(oracle_.failed()) << oracle_.failure();
}

TEST_F(SafeRule, FailsADeliveryWhileAMemberOfTheRingLacksTheRecord) {
  overwrite(2);
  deliver(0);
  ASSERT_TRUE(oracle_.failed());
  EXPECT_NE(oracle_.failure().find("delivered SAFE seq 1 before member 2 of its ring had it"),
            std::string::npos)
      << oracle_.failure();
}

// Whoever delivered first, a member that has not delivered the record yet
// must hold it: a premature delivery after others still fails.
TEST_F(SafeRule, FailsALaterDeliveryWhileAMemberThatDidNotDeliverLacksTheRecord) {
  deliver(1);
  ASSERT_FALSE(oracle_.failed()) << oracle_.failure();
  overwrite(1);
  overwrite(2);
  deliver(0);
  ASSERT_TRUE(oracle_.failed());
  EXPECT_NE(oracle_.failure().find("before member 2 of its ring had it"), std::string::npos)
      << oracle_.failure();
}

// Member 1 delivered and released seq 1, was cut off from member 0 by a
// partition, and a ring formed on its side wrote over those bytes; its
// installed ring is still kRing (it committed to the new ring and went back
// to gather before installing it). Member 0 delivers seq 1 later, after its
// own recovery: member 1 had it, nothing is premature.
TEST_F(SafeRule, AcceptsADeliveryAfterAMemberThatDeliveredTheRecordReusedItsBytes) {
  deliver(1);
  overwrite(1);
  deliver(0);
  EXPECT_FALSE(oracle_.failed()) << oracle_.failure();
}

// A member no longer in the ring is not asked (it may hold anything).
TEST_F(SafeRule, IgnoresAMemberInAnotherRing) {
  ring_of_[2] = RingId{106, 2};
  overwrite(2);
  deliver(0);
  EXPECT_FALSE(oracle_.failed()) << oracle_.failure();
}

}  // namespace
}  // namespace ringcast::membership::fault_test
