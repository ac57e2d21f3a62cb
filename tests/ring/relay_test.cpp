// The relay by hand (docs/protocol.md "Relay"): a large visit goes to the
// successor only and each member forwards it to its own; a lone message goes
// directly; a relayed batch is trusted from the ring predecessor only; a
// batch a relay refused goes on as its immediate, so that those after it
// fetch it again.
#include <gtest/gtest.h>

#include "ring_by_hand.hpp"

namespace ringcast::ring {
namespace {

using by_hand::carry;
using by_hand::drain;
using by_hand::make_ring;
using by_hand::message;

RingConfig relaying_config() {
  RingConfig c;
  c.log_bytes = 64 * 64;
  c.max_message_bytes = 1024;
  c.send_queue_messages = 8;
  c.send_buffer_bytes = 4096;
  c.max_messages_per_visit = 4;
  c.window_messages = 16;
  c.token_hold_ns = 0;
  c.relay_min_batch_bytes = 256;  // three records of 100 bytes (192 each) relay
  c.relay_min_members = 3;        // the rings here have 3 or 4 members
  return c;
}

const std::string kHundred(100, 'r');

// Runs the ring from t0 to t1 (ns), one tick per 1000 ns, delivering.
std::vector<std::vector<std::string>> run(std::vector<std::unique_ptr<by_hand::Member>>& ring,
                                          std::uint64_t t0, std::uint64_t t1,
                                          const by_hand::Corrupt& corrupt = {}) {
  std::vector<std::vector<std::string>> seen(ring.size());
  for (std::uint64_t t = t0; t < t1; t += 1000) {
    for (auto& m : ring)
      m->state.tick(t);
    carry(ring, t, corrupt);
    for (std::size_t i = 0; i < ring.size(); ++i) {
      for (auto& s : drain(ring[i]->state))
        seen[i].push_back(s);
    }
  }
  return seen;
}

// Member 0 holds the token (it starts the ring) with three messages queued.
auto ring_with_a_visit_of_three() {
  auto ring = make_ring(relaying_config(), 4);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(ring[0]->state.submit(message(kHundred)).ok());
  ring[0]->state.tick(0);
  return ring;
}

TEST(Relay, ALargeVisitGoesToTheSuccessorOnlyAndAlongTheRing) {
  auto ring = ring_with_a_visit_of_three();
  EXPECT_TRUE(ring[0]->state.pending_chain(2).empty());
  EXPECT_TRUE(ring[0]->state.pending_chain(3).empty());
  const auto chain = ring[0]->state.pending_chain(1);
  ASSERT_FALSE(chain.empty());
  EXPECT_TRUE(records_imm_relay(chain[0].imm)) << "the records' one write, then the token";
  const auto seen = run(ring, 1000, 20'000);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(seen[i], std::vector<std::string>(3, kHundred)) << "member " << i;
  }
  EXPECT_EQ(ring[1]->state.counters().records_relayed, 3u);
  EXPECT_EQ(ring[2]->state.counters().records_relayed, 3u);
  EXPECT_EQ(ring[3]->state.counters().records_relayed, 0u) << "its successor sent them";
  EXPECT_EQ(ring[1]->state.forwards_in_flight(), 0u);
}

TEST(Relay, ALoneMessageGoesDirectlyWhateverItsSize) {
  auto ring = make_ring(relaying_config(), 4);
  ASSERT_TRUE(ring[0]->state.submit(message(std::string(600, 'x'))).ok());
  ring[0]->state.tick(0);
  for (std::size_t d = 1; d < 4; ++d) {
    const auto chain = ring[0]->state.pending_chain(d);
    ASSERT_FALSE(chain.empty()) << d;
    EXPECT_FALSE(records_imm_relay(chain[0].imm)) << d;
  }
  const auto seen = run(ring, 1000, 20'000);
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_EQ(seen[i].size(), 1u) << "member " << i;
  EXPECT_EQ(ring[1]->state.counters().records_relayed, 0u);
}

// relay_min_members counts the ring: the same visit of three goes directly
// to every member of a ring one smaller than it, and relays in one its size.
TEST(Relay, ARingSmallerThanRelayMinMembersWritesEveryVisitDirectly) {
  for (const std::uint32_t min_members : {4u, 5u}) {
    RingConfig c = relaying_config();
    c.relay_min_members = min_members;
    auto ring = make_ring(c, 4);
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(ring[0]->state.submit(message(kHundred)).ok());
    ring[0]->state.tick(0);
    const bool relays = min_members <= 4;
    for (std::size_t d = 2; d < 4; ++d)
      EXPECT_EQ(ring[0]->state.pending_chain(d).empty(), relays) << min_members << " " << d;
    const auto seen = run(ring, 1000, 20'000);
    for (std::size_t i = 0; i < 4; ++i)
      EXPECT_EQ(seen[i], std::vector<std::string>(3, kHundred)) << "member " << i;
    EXPECT_EQ(ring[1]->state.counters().records_relayed, relays ? 3u : 0u) << min_members;
  }
}

// Member 0's relayed batch (its sender: node 10) lands at member 3 on member
// 1's link: not member 3's predecessor, and not the sender, so refused; on
// member 2's link (its predecessor) it is accepted.
TEST(Relay, ARelayedBatchIsTrustedFromTheRingPredecessorOnly) {
  auto ring = ring_with_a_visit_of_three();
  const auto chain = ring[0]->state.pending_chain(1);
  const fabric::WriteOp records = chain[0];
  ASSERT_TRUE(records.with_imm);
  std::memcpy(ring[3]->log.data() + records.remote_offset,
              records.segments[0].region->data() + records.segments[0].offset,
              records.segments[0].length);
  fabric::Completion c;
  c.type = fabric::CompletionType::received_imm;
  c.imm = records.imm;
  c.peer = 11;  // member 1
  ring[3]->state.on_completion(c, 1);
  EXPECT_EQ(ring[3]->state.log().received_up_to(), 0u);
  EXPECT_EQ(ring[3]->state.counters().writes_wrong_link, 1u);
  c.peer = 12;  // member 2, member 3's predecessor
  ring[3]->state.on_completion(c, 2);
  EXPECT_EQ(ring[3]->state.log().received_up_to(), 3u);
  EXPECT_EQ(drain(ring[3]->state).size(), 3u) << "each record names the batch's sender";
}

// A byte of the batch's header changes as it lands at member 1: member 1
// refuses it and passes its immediate on alone; members 2 and 3 find it
// missing in their own logs, refuse it alike, and every one of them fetches
// it again from the holder after kRepairAfterNs.
TEST(Relay, ARefusedBatchGoesOnAsItsImmediateAndIsFetchedAgain) {
  auto ring = ring_with_a_visit_of_three();
  bool corrupted = false;
  auto corrupt = [&](std::size_t to, std::span<std::byte> bytes) {
    if (to != 1 || corrupted || bytes.size() < 3 * 192) return;
    bytes[2 * 192 + 20] ^= std::byte{1};  // the last record's header
    corrupted = true;
  };
  const auto seen = run(ring, 1000, 10 * kRepairAfterNs, corrupt);
  ASSERT_TRUE(corrupted);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(seen[i], std::vector<std::string>(3, kHundred)) << "member " << i;
  }
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_GE(ring[i]->state.log().counters().records_dropped, 1u) << "member " << i;
    EXPECT_GE(ring[i]->state.counters().repairs_requested, 1u) << "member " << i;
  }
  EXPECT_EQ(ring[0]->state.counters().records_relayed, 0u) << "the refusal stops at its sender";
}

// A refused batch that wraps the log: member `filler` sends seqs 1 to 20,
// filling the log to 3840 bytes, then member 0 a visit of three puts seq 21
// at 3840 and, as the next does not fit before the end, seqs 22 and 23 at 0
// and 192. The last header (seq 23's) fails at member 1. Every member must
// end with all three.
void refuse_a_batch_that_wraps_the_log(std::size_t filler) {
  auto ring = make_ring(relaying_config(), 4);
  for (std::uint64_t round = 0; round < 5; ++round) {  // the send queue holds 8
    for (int i = 0; i < 4; ++i)
      ASSERT_TRUE(ring[filler]->state.submit(message(kHundred)).ok());
    run(ring, round * 40'000, (round + 1) * 40'000);
  }
  for (std::size_t i = 0; i < 4; ++i)
    ASSERT_EQ(ring[i]->state.log().delivered_seq(), 20u) << "member " << i;
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(ring[0]->state.submit(message(kHundred)).ok());
  bool corrupted = false;
  auto corrupt = [&](std::size_t to, std::span<std::byte> bytes) {
    if (to != 1 || corrupted || bytes.size() != 2 * 192) return;  // seqs 22 and 23 at 0
    bytes[192 + 20] ^= std::byte{1};                              // seq 23's header
    corrupted = true;
  };
  const auto seen = run(ring, 200'000, 20 * kRepairAfterNs, corrupt);
  ASSERT_TRUE(corrupted);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(seen[i].size(), 3u) << "member " << i;
    EXPECT_EQ(ring[i]->state.log().received_up_to(), 23u) << "member " << i;
  }
}

// A repair answer is one write, so it stops at the log's end with seq 21,
// and seqs 22 and 23 must be asked for at once (their write will not land
// again) or members 1 to 3 wait for them for good.
TEST(Relay, ARefusedBatchThatWrapsTheLogIsFetchedAgainWhole) {
  refuse_a_batch_that_wraps_the_log(0);
}

// The refusal reaches members whose own bytes at its offset are a record of
// the log's previous lap, released long ago. With member 3 filling the first
// lap, offset 192 still holds seq 2, sent by member 3: at member 2 that is
// its successor, at member 3 itself. Neither is the batch's sender: the
// refusal must go on to member 0, or members 2 and 3 wait for a write that
// never comes.
TEST(Relay, ARefusalPassesMembersWhoseBytesThereAreAnEarlierLapsRecord) {
  refuse_a_batch_that_wraps_the_log(3);
}

}  // namespace
}  // namespace ringcast::ring
