#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/wire.hpp"
#include "heap_region.hpp"
#include "ring/imm.hpp"
#include "ring/ring_state.hpp"
#include "ring_by_hand.hpp"

namespace ringcast::ring {
namespace {

using testing::HeapRegion;
using namespace by_hand;

RingConfig small_config() {
  RingConfig c;
  c.log_bytes = 64 * 64;
  c.max_message_bytes = 1024;
  c.send_queue_messages = 8;
  c.send_buffer_bytes = 4096;
  c.max_messages_per_visit = 4;
  c.window_messages = 8;
  return c;
}

TEST(RingState, ASingleMemberDeliversToItself) {
  auto ring = make_ring(small_config(), 1);
  RingState& s = ring[0]->state;
  EXPECT_TRUE(s.holds_token());
  EXPECT_EQ(s.next_deadline_ns(), kNever) << "alone with nothing queued: no visit is due";
  s.tick(0);
  EXPECT_EQ(s.next_deadline_ns(), kNever) << "idle: nothing to do until work arrives";
  ASSERT_TRUE(s.submit(message("hello")).ok());
  ASSERT_TRUE(s.submit(message("safe", Guarantee::safe)).ok());
  EXPECT_EQ(s.next_deadline_ns(), 0u);
  s.tick(1);
  EXPECT_EQ(drain(s), (std::vector<std::string>{"hello", "safe"}));
}

TEST(RingState, ASingleMemberWaitsForItsApplicationToRelease) {
  auto ring = make_ring(small_config(), 1);  // 4096-byte log: 8 records of 576 bytes won't fit
  RingState& s = ring[0]->state;
  const std::string big(500, 'b');
  for (int i = 0; i < 8; ++i)
    ASSERT_TRUE(s.submit(message(big)).ok());
  for (int round = 0; round < 10; ++round)
    s.tick(round);
  auto first = drain(s, /*release=*/false);
  EXPECT_EQ(first.size(), 7u) << "7 x 576 bytes fit a 4096-byte log, the 8th waits";
  EXPECT_EQ(s.send_queue().size(), 1u);
  ASSERT_TRUE(s.release_through_seq(1).ok());
  s.tick(20);
  EXPECT_EQ(drain(s).size(), 1u);
  EXPECT_TRUE(s.send_queue().empty());
}

TEST(RingState, ZeroCopySourcesAreReturnedOnceWritten) {
  auto ring = make_ring(small_config(), 2);
  HeapRegion zcb(256);
  std::memcpy(zcb.data(), "zero-copy!", 10);
  OutgoingMessage m;
  m.zero_copy = {&zcb, 0, 10};
  m.tag = 77;
  ASSERT_TRUE(ring[0]->state.submit(m).ok());
  ring[0]->state.tick(0);
  EXPECT_FALSE(ring[0]->state.next_zero_copy_done()) << "not written yet";
  carry(ring, 1);
  EXPECT_EQ(ring[0]->state.next_zero_copy_done(), std::optional<std::uint64_t>(77));
  EXPECT_EQ(drain(ring[1]->state), (std::vector<std::string>{"zero-copy!"}));
  EXPECT_EQ(drain(ring[0]->state), (std::vector<std::string>{"zero-copy!"}));
}

TEST(RingState, TwoMembersAgreeOnOneOrderAndSafeWaitsForBoth) {
  RingConfig c = small_config();
  c.wake_after_ns = 2;  // member 0 keeps the token for its own work until member 1 wakes it
  auto ring = make_ring(c, 2);
  ASSERT_TRUE(ring[0]->state.submit(message("a0")).ok());
  ASSERT_TRUE(ring[1]->state.submit(message("b0", Guarantee::safe)).ok());
  ASSERT_TRUE(ring[0]->state.submit(message("a1")).ok());
  std::vector<std::string> seen[2];
  for (std::uint64_t t = 0; t < 20; ++t) {
    for (auto& m : ring)
      m->state.tick(t);
    carry(ring, t);
    for (int i = 0; i < 2; ++i) {
      for (auto& s : drain(ring[i]->state))
        seen[i].push_back(s);
    }
  }
  EXPECT_EQ(seen[0], (std::vector<std::string>{"a0", "a1", "b0"}));
  EXPECT_EQ(seen[1], seen[0]);
  EXPECT_EQ(ring[0]->state.counters().tokens_dropped, 0u);
}

TEST(RingState, AStaleTokenIsDropped) {
  auto ring = make_ring(small_config(), 2);
  ring[0]->state.tick(0);
  // Copy the token write before it is carried, to replay it afterwards.
  auto chain = ring[0]->state.pending_chain(1);
  ASSERT_EQ(chain.size(), 1u);
  const fabric::WriteOp token_write = chain[0];
  EXPECT_EQ(imm_kind(token_write.imm), ImmKind::token);
  carry(ring, 1);
  ring[1]->state.tick(2);
  carry(ring, 3);  // back to member 0
  EXPECT_TRUE(ring[0]->state.holds_token());
  fabric::Completion replay;
  replay.type = fabric::CompletionType::received_imm;
  replay.imm = token_write.imm;
  replay.peer = ring[0]->state.membership().me();  // on the right link: refused as stale
  ring[1]->state.on_completion(replay, 4);
  EXPECT_EQ(ring[1]->state.counters().tokens_dropped, 1u);
  EXPECT_EQ(ring[1]->state.counters().last_token_fault, TokenFault::stale);
  EXPECT_FALSE(ring[1]->state.holds_token());
}

TEST(RingState, AnIdleRingHoldsTheTokenAndAWakeEndsTheHold) {
  RingConfig c = small_config();
  c.token_hold_ns = 1'000'000;
  c.wake_after_ns = 1'000;
  auto ring = make_ring(c, 3);
  std::uint64_t t = 0;
  // Let the token go round until somebody holds it.
  for (; t < 100 && !(ring[0]->state.holding_idle() || ring[1]->state.holding_idle() ||
                      ring[2]->state.holding_idle());
       ++t) {
    for (auto& m : ring)
      m->state.tick(t);
    carry(ring, t);
  }
  std::size_t holder = 0;
  while (!ring[holder]->state.holding_idle())
    ++holder;
  EXPECT_EQ(ring[holder]->state.next_deadline_ns(), t - 1 + c.token_hold_ns);
  const std::size_t other = (holder + 1) % 3;
  ASSERT_TRUE(ring[other]->state.submit(message("wake up")).ok());
  const std::uint64_t wake_at = ring[other]->state.next_deadline_ns();
  EXPECT_LT(wake_at, t + c.token_hold_ns) << "the member with work wants to wake the ring";
  t = std::max(t, wake_at);
  ring[other]->state.tick(t);
  EXPECT_EQ(ring[other]->state.counters().wakes_sent, 1u);
  carry(ring, t);
  EXPECT_EQ(ring[holder]->state.next_deadline_ns(), 0u) << "the holder passes at once";
  std::vector<std::string> got;
  for (std::uint64_t end = t + 50; t < end && got.empty(); ++t) {
    for (auto& m : ring)
      m->state.tick(t);
    carry(ring, t);
    got = drain(ring[holder]->state);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"wake up"}));
}

// --- Busy hold: after a visit that sent, the holder keeps the token while
// nobody else needs it, and sends new local work at once.

RingConfig busy_config() {
  RingConfig c = small_config();
  c.token_hold_ns = 1'000;
  c.wake_after_ns = 1'000'000;  // no wakes unless a test wants one
  return c;
}

// The first token goes round once, at time 0, and comes back to member 0,
// which holds it (idle): no member holds the token during the ring's first
// rotation, so a busy hold is possible from the second on.
std::vector<std::unique_ptr<Member>> rotated_ring(const RingConfig& c, std::size_t n) {
  auto ring = make_ring(c, n);
  for (int round = 0; round < 10 && ring[0]->state.counters().tokens_received == 0; ++round) {
    for (auto& m : ring)
      m->state.tick(0);
    carry(ring, 0);
  }
  EXPECT_TRUE(ring[0]->state.holding_idle()) << "the token came back and is held";
  for (auto& m : ring)
    EXPECT_EQ(m->state.counters().tokens_passed, 1u) << "each member passed it once";
  return ring;
}

// Member 0 holds the token; submits one message and visits at `t`.
void send_from_0(std::vector<std::unique_ptr<Member>>& ring, const std::string& text,
                 std::uint64_t t, Guarantee g = Guarantee::agreed) {
  ASSERT_TRUE(ring[0]->state.submit(message(text, g)).ok());
  EXPECT_EQ(ring[0]->state.next_deadline_ns(), 0u) << "new work is sent at once";
  ring[0]->state.tick(t);
  carry(ring, t);
}

TEST(RingState, BusyHoldKeepsTheTokenAndSendsNewWorkAtOnce) {
  auto ring = rotated_ring(busy_config(), 3);
  send_from_0(ring, "m0", 0);
  EXPECT_TRUE(ring[0]->state.holding_busy());
  EXPECT_EQ(ring[0]->state.next_deadline_ns(), 1'000u) << "until the hold expires";
  send_from_0(ring, "m1", 1);
  send_from_0(ring, "m2", 2);
  EXPECT_TRUE(ring[0]->state.holding_busy());
  EXPECT_EQ(ring[0]->state.counters().tokens_passed, 1u) << "only the first rotation's pass";
  EXPECT_EQ(ring[0]->state.counters().busy_holds, 3u);
  const std::vector<std::string> all{"m0", "m1", "m2"};
  EXPECT_EQ(drain(ring[0]->state), all) << "AGREED needs no rotation";
  EXPECT_EQ(drain(ring[1]->state), all);
  EXPECT_EQ(drain(ring[2]->state), all);
}

TEST(RingState, BusyHoldPassesOnExpiry) {
  auto ring = rotated_ring(busy_config(), 3);
  send_from_0(ring, "m0", 0);
  ring[0]->state.tick(999);
  EXPECT_TRUE(ring[0]->state.holds_token());
  ring[0]->state.tick(1'000);
  EXPECT_FALSE(ring[0]->state.holds_token());
  EXPECT_EQ(ring[0]->state.counters().tokens_passed, 2u);
  // A message submitted after the hold time is sent, and the token passed.
  auto late = rotated_ring(busy_config(), 3);
  send_from_0(late, "m0", 0);
  send_from_0(late, "m1", 1'000);
  EXPECT_FALSE(late[0]->state.holds_token());
  EXPECT_EQ(drain(late[1]->state), (std::vector<std::string>{"m0", "m1"}));
}

TEST(RingState, BusyHoldPassesOnAWake) {
  RingConfig c = busy_config();
  c.wake_after_ns = 0;
  auto ring = rotated_ring(c, 3);
  send_from_0(ring, "m0", 0);
  ASSERT_TRUE(ring[0]->state.holding_busy());
  ASSERT_TRUE(ring[2]->state.submit(message("c0")).ok());
  ring[2]->state.tick(1);
  EXPECT_EQ(ring[2]->state.counters().wakes_sent, 1u);
  carry(ring, 1);
  EXPECT_EQ(ring[0]->state.next_deadline_ns(), 0u) << "the holder passes at once";
  ring[0]->state.tick(2);
  EXPECT_FALSE(ring[0]->state.holds_token());
  // Work queued at the holder while a wake is pending is sent, then passed.
  auto busy = rotated_ring(c, 3);
  send_from_0(busy, "m0", 0);
  ASSERT_TRUE(busy[1]->state.submit(message("b0")).ok());
  busy[1]->state.tick(1);
  carry(busy, 1);
  send_from_0(busy, "m1", 2);
  EXPECT_FALSE(busy[0]->state.holds_token());
  EXPECT_EQ(busy[0]->state.counters().records_sent, 2u);
}

TEST(RingState, BusyHoldPassesAfterSendingSafe) {
  auto ring = rotated_ring(busy_config(), 3);
  send_from_0(ring, "s0", 0, Guarantee::safe);
  EXPECT_FALSE(ring[0]->state.holds_token()) << "SAFE needs the token to go round";
  std::vector<std::string> got;
  for (std::uint64_t t = 1; t < 20 && got.empty(); ++t) {
    for (auto& m : ring)
      m->state.tick(t);
    carry(ring, t);
    got = drain(ring[2]->state);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"s0"}));
}

// A busy holder whose outbox to a member other than its successor is full
// (that link has not taken the earlier chains yet) waits for the link instead
// of passing the token: the message would otherwise wait a whole rotation.
TEST(RingState, BusyHoldWaitsForAFullOutboxInsteadOfPassing) {
  auto ring = rotated_ring(busy_config(), 3);
  send_from_0(ring, "m0", 0);
  RingState& s = ring[0]->state;
  ASSERT_TRUE(s.holding_busy());
  std::vector<std::string> sent{"m0"};
  // Member 2's link takes nothing; member 1's takes everything.
  while (s.outbox().has_room(2)) {
    sent.push_back("q" + std::to_string(sent.size()));
    ASSERT_TRUE(s.submit(message(sent.back())).ok());
    s.tick(1);
    carry_chains(ring, 0, 1, 1);
  }
  sent.push_back("waits");
  ASSERT_TRUE(s.submit(message(sent.back())).ok());
  s.tick(2);
  EXPECT_TRUE(s.holding_busy()) << "kept: nobody else needs the token";
  EXPECT_EQ(s.counters().tokens_passed, 1u) << "only the first rotation's pass";
  EXPECT_EQ(s.counters().busy_hold_waits, 1u);
  EXPECT_EQ(s.send_queue().size(), 1u) << "nothing placed while member 2's outbox is full";
  EXPECT_EQ(s.next_deadline_ns(), 0u) << "the driver posts the queued chains at once";
  carry(ring, 3);  // the link drains
  s.tick(3);
  carry(ring, 3);
  EXPECT_TRUE(s.holding_busy());
  EXPECT_TRUE(s.send_queue().empty());
  for (auto& m : ring)
    EXPECT_EQ(drain(m->state), sent);
  // The hold stays bounded: with the outbox full at its end, the token goes.
  while (s.outbox().has_room(2)) {
    ASSERT_TRUE(s.submit(message("late")).ok());
    s.tick(4);
    carry_chains(ring, 0, 1, 4);
  }
  ASSERT_TRUE(s.submit(message("late")).ok());
  s.tick(4);
  EXPECT_TRUE(s.holds_token());
  s.tick(1'000);
  EXPECT_FALSE(s.holds_token()) << "passed at the end of the hold";
}

TEST(RingState, BusyHoldPassesWhenLogSpaceRunsLow) {
  RingConfig c = busy_config();
  c.max_message_bytes = 512;
  auto ring = rotated_ring(c, 3);  // a 4096-byte log: 64-byte header + 512 payload = 576 a record
  const std::string big(512, 'x');
  send_from_0(ring, big, 0);
  EXPECT_TRUE(ring[0]->state.holding_busy()) << "576 of 4096 bytes used";
  send_from_0(ring, big, 1);
  EXPECT_TRUE(ring[0]->state.holding_busy()) << "1152 of 4096 bytes used";
  send_from_0(ring, big, 2);
  send_from_0(ring, big, 3);
  EXPECT_FALSE(ring[0]->state.holds_token()) << "2304 of 4096: pass to refresh the releases";
}

// A ring formed by membership is installed by each member when its first
// token arrives, so nobody holds that token, busy or idle, before every
// member has seen it: member k holds token_seq k + 1 in the first rotation,
// and only the last member (everyone has seen it then) may keep it.
TEST(RingState, TheFirstRotationIsNeverHeld) {
  RingConfig c = busy_config();
  c.token_hold_ns = 1'000'000;
  // One member has a message queued; the first token visits each member once.
  const auto first_rotation = [&c](std::size_t with_work) {
    auto ring = make_ring(c, 3);
    EXPECT_TRUE(ring[with_work]->state.submit(message("w")).ok());
    for (auto& m : ring) {
      EXPECT_TRUE(m->state.holds_token());
      m->state.tick(0);
      carry(ring, 0);
    }
    for (auto& m : ring) {
      EXPECT_TRUE(m->state.token_seen());
      EXPECT_EQ(m->state.counters().token_holds, 0u) << "no idle hold in the first rotation";
      EXPECT_EQ(drain(m->state), (std::vector<std::string>{"w"}));
    }
    return ring;
  };
  // The representative sends at its first visit and passes all the same.
  auto first = first_rotation(0);
  EXPECT_EQ(first[0]->state.counters().busy_holds, 0u);
  EXPECT_EQ(first[0]->state.counters().tokens_passed, 1u);
  // So does the second member (only members 0 and 1 have seen the token).
  auto second = first_rotation(1);
  EXPECT_EQ(second[1]->state.counters().busy_holds, 0u);
  EXPECT_EQ(second[1]->state.counters().tokens_passed, 1u);
  // The last member may keep it: every member has seen it.
  auto last = first_rotation(2);
  EXPECT_EQ(last[2]->state.counters().busy_holds, 1u);
  EXPECT_TRUE(last[2]->state.holding_busy());
}

TEST(RingState, BusyHoldPassesWhenAnotherMemberHasWork) {
  auto ring = make_ring(busy_config(), 2);
  // Member 0 passes the first (empty) token; member 1 visits when its hold
  // time is over, sends one visit's worth and passes with 2 still queued.
  ring[0]->state.tick(0);
  carry(ring, 0);
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(ring[1]->state.submit(message("b" + std::to_string(i))).ok());
  ring[1]->state.tick(1'000);
  carry(ring, 1'000);
  EXPECT_FALSE(ring[1]->state.holds_token()) << "4 sent, 2 queued, hold expired";
  ASSERT_TRUE(ring[0]->state.holds_token());
  send_from_0(ring, "a0", 1'001);
  EXPECT_FALSE(ring[0]->state.holds_token()) << "member 1 has a backlog (and unsettled records)";
  EXPECT_EQ(ring[0]->state.counters().busy_holds, 0u);
}

// Repair (docs/protocol.md "Repair"): a member whose copy of a record fails
// its checks fetches it from a member that holds it, and delivers it.
TEST(RingState, ACorruptedPayloadIsFetchedAgainFromAHolder) {
  auto ring = make_ring(small_config(), 3);
  ASSERT_TRUE(ring[0]->state.submit(message("the payload")).ok());
  ring[0]->state.tick(0);
  bool once = true;
  carry(ring, 1, [&](std::size_t to, std::span<std::byte> bytes) {
    if (to == 1 && once) bytes[kRecordHeaderBytes + 4] ^= std::byte{0x20};
    once = once && to != 1;
  });
  RingState& stalled = ring[1]->state;
  EXPECT_TRUE(drain(stalled).empty()) << "a corrupted payload is never delivered";
  EXPECT_EQ(stalled.log().counters().stalls, 1u);
  EXPECT_EQ(stalled.log().counters().last_fault, RecordFault::bad_payload);
  stalled.tick(2);
  EXPECT_EQ(stalled.counters().repairs_requested, 0u) << "not before kRepairAfterNs";
  EXPECT_LE(stalled.next_deadline_ns(), 2 + kRepairAfterNs);
  stalled.tick(2 + kRepairAfterNs);
  EXPECT_EQ(stalled.counters().repairs_requested, 1u);
  carry(ring, 3 + kRepairAfterNs);  // the request
  carry(ring, 4 + kRepairAfterNs);  // the answer
  EXPECT_EQ(ring[0]->state.counters().repairs_served, 1u) << "the sender held it";
  EXPECT_EQ(stalled.counters().repairs_received, 1u);
  EXPECT_EQ(stalled.log().counters().records_repaired, 1u);
  EXPECT_EQ(drain(stalled), (std::vector<std::string>{"the payload"}));
  EXPECT_EQ(drain(ring[2]->state), (std::vector<std::string>{"the payload"}));
}

TEST(RingState, ABatchWhoseHeaderFailedAtLandingIsFetchedAgain) {
  auto ring = make_ring(small_config(), 2);
  ASSERT_TRUE(ring[0]->state.submit(message("first")).ok());
  ASSERT_TRUE(ring[0]->state.submit(message("second")).ok());
  ring[0]->state.tick(0);
  carry(ring, 1, [](std::size_t to, std::span<std::byte> bytes) {
    if (to == 1) bytes[bytes.size() - 128 + 30] ^= std::byte{1};  // the last record's header
  });
  RingState& stalled = ring[1]->state;
  EXPECT_EQ(stalled.log().counters().records_dropped, 1u);
  EXPECT_EQ(stalled.log().received_up_to(), 0u);
  stalled.tick(2);
  stalled.tick(2 + kRepairAfterNs);
  carry(ring, 3 + kRepairAfterNs);
  carry(ring, 4 + kRepairAfterNs);
  EXPECT_EQ(drain(stalled), (std::vector<std::string>{"first", "second"}));
}

// No holder's copy checks: each is asked kRepairRoundsPerMember times, then
// the ring gives up (membership forms a new ring; a ring alone fails).
TEST(RingState, WhenNoHolderHasACopyThatChecksTheRepairGivesUp) {
  auto ring = make_ring(small_config(), 2);
  ASSERT_TRUE(ring[0]->state.submit(message("doomed")).ok());
  ring[0]->state.tick(0);
  carry(ring, 1, [](std::size_t to, std::span<std::byte> bytes) {
    if (to == 1) bytes[kRecordHeaderBytes] ^= std::byte{1};
  });
  ring[0]->log.data()[kRecordHeaderBytes] ^= std::byte{1};  // the sender's own copy too
  RingState& stalled = ring[1]->state;
  std::uint64_t now = 2;
  stalled.tick(now);
  for (int i = 0; i < 10 && !stalled.repair_exhausted(); ++i) {
    now += kRepairAfterNs;
    stalled.tick(now);
    carry(ring, now);
  }
  EXPECT_TRUE(stalled.repair_exhausted());
  EXPECT_EQ(stalled.counters().repairs_requested, kRepairRoundsPerMember);
  EXPECT_EQ(ring[0]->state.counters().repairs_refused, kRepairRoundsPerMember);
  EXPECT_TRUE(drain(stalled).empty());
  stalled.fail_unrepaired();
  EXPECT_TRUE(stalled.failed());
  EXPECT_EQ(stalled.failure().code, Errc::protocol);
}

// A write on its way: its chain taken off the outbox with the bytes read at
// once (a NIC reads its source as it sends), landed later by land().
struct InFlight {
  std::size_t from = 0;
  std::size_t to = 0;
  std::vector<fabric::WriteOp> ops;
  std::vector<std::vector<std::byte>> bytes;
};

InFlight take_chain(std::vector<std::unique_ptr<Member>>& ring, std::size_t from, std::size_t to) {
  InFlight w{from, to, {}, {}};
  for (const fabric::WriteOp& op : ring[from]->state.pending_chain(to)) {
    w.ops.push_back(op);
    auto& b = w.bytes.emplace_back();
    for (std::size_t s = 0; s < op.segment_count; ++s) {
      const std::byte* src = op.segments[s].region->data() + op.segments[s].offset;
      b.insert(b.end(), src, src + op.segments[s].length);
    }
  }
  ring[from]->state.chain_posted(to);
  return w;
}

void land(std::vector<std::unique_ptr<Member>>& ring, const InFlight& w, std::uint64_t now) {
  for (std::size_t i = 0; i < w.ops.size(); ++i) {
    const fabric::WriteOp& op = w.ops[i];
    HeapRegion& target = op.remote_region == kLogRegion ? ring[w.to]->log : ring[w.to]->mailbox;
    std::memcpy(target.data() + op.remote_offset, w.bytes[i].data(), w.bytes[i].size());
    if (op.with_imm) {
      fabric::Completion c;
      c.type = fabric::CompletionType::received_imm;
      c.peer = ring[w.from]->state.membership().me();
      c.imm = op.imm;
      ring[w.to]->state.on_completion(c, now);
    }
  }
}

// A repair answer still on its way must not land on bytes the asker released
// meanwhile: member 1's copy of a record fails, it asks member 2, whose
// answer is slow; it must not go on (ask member 0, deliver, release) while
// that answer can still land, or the answer later lands on a record of the
// next lap. Both members must deliver the same, with only the one stall.
TEST(RingState, ASlowRepairAnswerNeverLandsOnReleasedBytes) {
  RingConfig c = small_config();
  c.token_hold_ns = 0;
  auto ring = make_ring(c, 3);
  ASSERT_TRUE(ring[0]->state.submit(message("the payload")).ok());
  ring[0]->state.tick(0);
  carry(ring, 0, [](std::size_t to, std::span<std::byte> bytes) {
    if (to == 1) bytes[kRecordHeaderBytes + 4] ^= std::byte{0x20};
  });
  RingState& stalled = ring[1]->state;
  ASSERT_EQ(stalled.log().counters().stalls, 1u);
  // The token goes round, so that member 2 shows it holds the record too.
  for (std::uint64_t t = 1; t < 4; ++t) {
    for (auto& m : ring)
      m->state.tick(t);
    carry(ring, t);
  }
  std::uint64_t now = 4 + kRepairAfterNs;
  stalled.tick(now);
  ASSERT_EQ(stalled.counters().repairs_requested, 1u);
  while (!ring[1]->state.pending_chain(2).empty())  // the request to member 2, which answers
    land(ring, take_chain(ring, 1, 2), now);
  ASSERT_EQ(ring[2]->state.counters().repairs_served, 1u) << "member 2 was asked first";
  ASSERT_FALSE(ring[2]->state.pending_chain(1).empty());
  const InFlight answer = take_chain(ring, 2, 1);
  ASSERT_EQ(answer.ops.size(), 1u);
  std::vector<std::vector<std::string>> got(3);
  const std::string big(1000, 'x');
  bool landed = false;
  for (int round = 0; round < 60; ++round) {
    now += kRepairAfterNs;
    if (round < 24) (void)ring[0]->state.submit(message(big));  // try_again when full
    for (auto& m : ring)
      m->state.tick(now);
    carry(ring, now);
    // Once member 1 holds an undelivered record of a later lap at the
    // answer's offset, the answer lands there.
    const std::byte* h = ring[1]->log.data() + answer.ops[0].remote_offset;
    if (!landed && wire::get<std::uint64_t>(h + 24) >= c.log_bytes &&
        wire::get<std::uint64_t>(h + 16) > stalled.log().delivered_seq()) {
      land(ring, answer, now);
      landed = true;
    }
    if (round == 40 && !landed) {
      land(ring, answer, now);  // never went on without it: lands now
      landed = true;
    }
    for (std::size_t m = 0; m < ring.size(); ++m) {
      for (auto& text : drain(ring[m]->state))
        got[m].push_back(text);
    }
  }
  EXPECT_EQ(got[1].size(), got[2].size());
  EXPECT_EQ(got[1], got[2]);
  EXPECT_EQ(stalled.log().counters().stalls, 1u) << "a later record was hit";
  EXPECT_EQ(got[0].front(), "the payload");
}

// A seq only missing is on its way (its write has not landed): it is never
// fetched from another member, whose copy would let this member deliver and
// release the bytes that write then lands on.
TEST(RingState, ASeqOnItsWayIsNotFetchedFromAnotherMember) {
  RingConfig c = small_config();
  c.token_hold_ns = 0;
  auto ring = make_ring(c, 3);
  ASSERT_TRUE(ring[0]->state.submit(message("slow")).ok());
  ring[0]->state.tick(0);
  std::vector<InFlight> slow;  // member 0's writes to member 2, in order
  std::uint64_t now = 0;
  for (int round = 0; round < 100; ++round) {  // 100 ms
    while (!ring[0]->state.pending_chain(2).empty())
      slow.push_back(take_chain(ring, 0, 2));
    carry(ring, now);
    now += kRepairAfterNs;
    for (auto& m : ring)
      m->state.tick(now);
  }
  RingState& behind = ring[2]->state;
  ASSERT_FALSE(slow.empty());
  EXPECT_EQ(behind.log().received_up_to(), 0u);
  EXPECT_EQ(drain(ring[1]->state), (std::vector<std::string>{"slow"})) << "the token went round";
  EXPECT_EQ(behind.counters().repairs_requested, 0u);
  for (const InFlight& w : slow)
    land(ring, w, now);
  EXPECT_EQ(drain(behind), (std::vector<std::string>{"slow"}));
}

// A batch refused as it landed while the log still waits for an earlier seq
// on its way: once that seq lands, the refused batch is what the log waits
// for, and it is fetched again (its write never lands again). Member 2 gets
// member 1's batch (seq 2) corrupted before member 0's (seq 1) lands.
TEST(RingState, ABatchRefusedWhileAnEarlierSeqWasOnItsWayIsFetchedAgain) {
  RingConfig c = small_config();
  c.token_hold_ns = 0;
  auto ring = make_ring(c, 3);
  ASSERT_TRUE(ring[0]->state.submit(message("first")).ok());
  ring[0]->state.tick(0);
  const InFlight seq1 = take_chain(ring, 0, 2);  // member 0's batch to member 2, slow
  ASSERT_FALSE(seq1.ops.empty());
  carry_chains(ring, 0, 1, 1);  // seq 1 and the token to member 1
  ASSERT_TRUE(ring[1]->state.submit(message("second")).ok());
  ring[1]->state.tick(2);
  carry_chains(ring, 1, 2, 3, [](std::size_t, std::span<std::byte> bytes) {
    bytes[bytes.size() - 128 + 30] ^= std::byte{1};  // seq 2's header
  });
  RingState& stalled = ring[2]->state;
  ASSERT_EQ(stalled.log().counters().records_dropped, 1u);
  ASSERT_EQ(stalled.log().received_up_to(), 0u);
  stalled.tick(4);
  land(ring, seq1, 5);
  stalled.tick(5);
  ASSERT_EQ(stalled.log().received_up_to(), 1u);
  std::vector<std::string> got = drain(stalled);
  std::uint64_t now = 5;
  for (int round = 0; round < 10 && got.size() < 2; ++round) {
    now += kRepairAfterNs;
    for (auto& m : ring)
      m->state.tick(now);
    carry(ring, now);
    for (auto& text : drain(stalled))
      got.push_back(text);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(stalled.counters().repairs_requested, 1u);
  EXPECT_EQ(stalled.log().counters().records_repaired, 1u);
}

TEST(RingState, ARepairRequestFromTheWrongLinkIsDropped) {
  auto ring = make_ring(small_config(), 3);
  fabric::Completion c;
  c.type = fabric::CompletionType::received_imm;
  c.peer = ring[2]->state.membership().me();  // claims to be member 1
  c.imm = control_imm(ControlImmType::repair_request, 1);
  ring[0]->state.on_completion(c, 0);
  EXPECT_EQ(ring[0]->state.counters().imm_dropped, 1u);
  EXPECT_EQ(ring[0]->state.counters().repairs_served, 0u);
}

// A token whose next position lies ahead of where this member's log says
// the ring is (found by tests/fuzz/membership_fuzz: highest seq 0, next
// position 2048 in a fresh ring) must not make the holder place a record
// its own log refuses: no placement, a counter, and no abort.
TEST(RingState, ATokenWhosePositionTheLogRefusesPlacesNothing) {
  const RingConfig c = small_config();
  auto ring = make_ring(c, 2);
  Member& m = *ring[1];
  ASSERT_TRUE(m.state.submit(message("x")).ok());
  Token t;
  t.ring = m.state.membership().ring;
  t.token_seq = c.mailbox_slots;  // newer than any seen, in slot 0
  t.highest_seq = 0;
  t.next_position = 2048;
  t.member_count = 2;
  encode_token(t, m.mailbox.bytes().first(kTokenSlotBytes));
  fabric::Completion token;
  token.type = fabric::CompletionType::received_imm;
  token.peer = ring[0]->state.membership().me();
  token.imm = token_imm(0, encoded_token_checksum(m.mailbox.bytes().first(kTokenSlotBytes)));
  m.state.on_completion(token, 1);
  ASSERT_EQ(m.state.counters().tokens_received, 1u);
  m.state.tick(2);
  EXPECT_EQ(m.state.counters().records_sent, 0u);
  EXPECT_EQ(m.state.counters().placements_refused, 1u);
  EXPECT_EQ(m.state.log().received_up_to(), 0u);
}

// A forged token (found by tests/fuzz/ring_state_fuzz) is held while the
// real holder's batch lands: the seqs the held token would assign have
// landed already, and placing one again would overwrite it. Nothing is
// placed, a counter says why, and nothing aborts.
TEST(RingState, AHeldTokenOvertakenByLandedSeqsPlacesNothing) {
  const RingConfig c = small_config();
  auto ring = make_ring(c, 2);
  Member& m = *ring[1];
  Token t;
  t.ring = m.state.membership().ring;
  t.token_seq = c.mailbox_slots;  // newer than any seen, in slot 0
  t.member_count = 2;
  encode_token(t, m.mailbox.bytes().first(kTokenSlotBytes));
  fabric::Completion token;
  token.type = fabric::CompletionType::received_imm;
  token.peer = ring[0]->state.membership().me();
  token.imm = token_imm(0, encoded_token_checksum(m.mailbox.bytes().first(kTokenSlotBytes)));
  m.state.on_completion(token, 1);
  ASSERT_TRUE(m.state.holds_token());
  send_from_0(ring, "a", 2);  // the real holder's seq 1 lands at member 1
  ASSERT_EQ(m.state.log().received_up_to(), 1u);
  ASSERT_TRUE(m.state.submit(message("b")).ok());
  m.state.tick(3);
  EXPECT_EQ(m.state.counters().records_sent, 0u);
  EXPECT_EQ(m.state.counters().placements_refused, 1u);
  EXPECT_EQ(drain(m.state), (std::vector<std::string>{"a"}));
}

}  // namespace
}  // namespace ringcast::ring
