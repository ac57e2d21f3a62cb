// Writes are tied to the link they came on: a token only from the ring
// predecessor, a wake only from the member it names, a batch only from the
// member its header names. Any member can write anywhere in a peer's log and
// mailbox (one registration per region), so the link a completion arrived on
// is the one thing a peer cannot forge.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "heap_region.hpp"
#include "ring/imm.hpp"
#include "ring/ring_state.hpp"

namespace ringcast::ring {
namespace {

using testing::HeapRegion;

constexpr fabric::NodeId kFirstNode = 10;

RingConfig small_config() {
  RingConfig c;
  c.log_bytes = 64 * 64;
  c.max_message_bytes = 1024;
  c.send_queue_messages = 8;
  c.send_buffer_bytes = 4096;
  c.max_messages_per_visit = 4;
  c.window_messages = 8;
  c.token_hold_ns = 0;
  return c;
}

struct Member {
  Member(const RingConfig& c, RingMembership m)
      : log(c.log_bytes, fabric::Access::remote_write),
        mailbox(mailbox_bytes(c.mailbox_slots), fabric::Access::remote_write),
        send_buffer(c.send_buffer_bytes),
        staging(staging_bytes(c)),
        state(c, std::move(m), LocalMemory{&log, &mailbox, &send_buffer, &staging}) {}

  HeapRegion log, mailbox, send_buffer, staging;
  RingState state;
};

using Ring = std::vector<std::unique_ptr<Member>>;

Ring make_ring(const RingConfig& c, std::size_t n) {
  Ring ring;
  RingMembership m{{1, 1}, {}, 0};
  for (std::size_t i = 0; i < n; ++i)
    m.members.push_back(static_cast<fabric::NodeId>(kFirstNode + i));
  for (std::size_t i = 0; i < n; ++i) {
    m.my_index = i;
    ring.push_back(std::make_unique<Member>(c, m));
  }
  for (auto& member : ring)
    member->state.start(0);
  return ring;
}

// Copies one write's bytes into the target's memory.
void land_bytes(Member& to, const fabric::WriteOp& op) {
  HeapRegion& target = op.remote_region == kLogRegion ? to.log : to.mailbox;
  std::byte* at = target.data() + op.remote_offset;
  for (std::size_t s = 0; s < op.segment_count; ++s) {
    const auto& seg = op.segments[s];
    std::memcpy(at, seg.region->data() + seg.offset, seg.length);
    at += seg.length;
  }
}

// Hands an immediate over as arriving on the link from `link_peer`.
void announce(Member& to, std::uint32_t imm, fabric::NodeId link_peer, std::uint64_t now) {
  fabric::Completion c;
  c.type = fabric::CompletionType::received_imm;
  c.peer = link_peer;
  c.imm = imm;
  to.state.on_completion(c, now);
}

// Copies one write's bytes into the target's memory; its immediate (if any)
// is handed over as arriving from `link_peer`.
void land(Member& to, const fabric::WriteOp& op, fabric::NodeId link_peer, std::uint64_t now) {
  land_bytes(to, op);
  if (op.with_imm) announce(to, op.imm, link_peer, now);
}

// Takes the chains queued from one member to another off its outbox, its
// signaled writes completed, and returns their writes (for the test to land).
std::vector<fabric::WriteOp> take_chains(Ring& ring, std::size_t from, std::size_t to,
                                         std::uint64_t now) {
  std::vector<fabric::WriteOp> ops;
  RingState& s = ring[from]->state;
  for (auto chain = s.pending_chain(to); !chain.empty(); chain = s.pending_chain(to)) {
    for (const fabric::WriteOp& op : chain) {
      ops.push_back(op);
      if (!op.signaled) continue;
      fabric::Completion c;
      c.type = fabric::CompletionType::write_done;
      c.wr_id = op.wr_id;
      s.on_completion(c, now);
    }
    s.chain_posted(to);
  }
  return ops;
}

// Carries every queued chain on its own link, except those to `skip`
// (dropped: that member never receives them).
void carry(Ring& ring, std::uint64_t now, std::size_t skip = SIZE_MAX) {
  for (std::size_t from = 0; from < ring.size(); ++from) {
    for (std::size_t to = 0; to < ring.size(); ++to) {
      if (to == from) continue;
      for (auto chain = ring[from]->state.pending_chain(to); !chain.empty();
           chain = ring[from]->state.pending_chain(to)) {
        for (const fabric::WriteOp& op : chain) {
          if (to != skip) land(*ring[to], op, ring[from]->state.membership().me(), now);
          if (op.signaled) {
            fabric::Completion c;
            c.type = fabric::CompletionType::write_done;
            c.wr_id = op.wr_id;
            ring[from]->state.on_completion(c, now);
          }
        }
        ring[from]->state.chain_posted(to);
      }
    }
  }
}

OutgoingMessage message(const std::string& s, Guarantee g = Guarantee::agreed) {
  OutgoingMessage m;
  m.payload = std::as_bytes(std::span(s));
  m.guarantee = g;
  return m;
}

std::vector<std::string> drain(RingState& s) {
  std::vector<std::string> out;
  while (auto d = s.next_delivery()) {
    out.emplace_back(reinterpret_cast<const char*>(d->payload.data()), d->payload.size());
  }
  return out;
}

// Member 1 sent a SAFE message that member 2 never received, and passed
// the token towards member 2 (lost as well). Returns that token.
Token safe_message_member_2_lacks(Ring& ring) {
  ring[0]->state.tick(0);
  carry(ring, 0);  // the first token: member 0 to member 1
  EXPECT_TRUE(ring[1]->state.holds_token());
  EXPECT_TRUE(ring[1]->state.submit(message("safe", Guarantee::safe)).ok());
  ring[1]->state.tick(1);
  auto chain = ring[1]->state.pending_chain(2);
  Token passed;
  for (const fabric::WriteOp& op : chain) {
    if (!op.with_imm || imm_kind(op.imm) != ImmKind::token) continue;
    const auto& seg = op.segments[0];
    EXPECT_EQ(decode_token({seg.region->data() + seg.offset, seg.length},
                           TokenLimits{ring[1]->state.membership().ring, 3}, &passed),
              TokenFault::none);
  }
  carry(ring, 1, /*skip=*/2);
  EXPECT_EQ(ring[1]->state.log().received_up_to(), 1u);
  EXPECT_EQ(ring[2]->state.log().received_up_to(), 0u);
  return passed;
}

// Writes a token into member's mailbox slot and signals it from link_peer.
void write_token(Member& m, const Token& t, fabric::NodeId link_peer) {
  const std::uint32_t slot =
      static_cast<std::uint32_t>(t.token_seq % m.state.config().mailbox_slots);
  const auto bytes = m.mailbox.bytes().subspan(slot * kTokenSlotBytes, kTokenSlotBytes);
  encode_token(t, bytes);
  fabric::Completion c;
  c.type = fabric::CompletionType::received_imm;
  c.peer = link_peer;
  c.imm = token_imm(slot, encoded_token_checksum(bytes));
  m.state.on_completion(c, 10);
}

TEST(LinkTrust, ATokenFromANonPredecessorIsRefused) {
  auto ring = make_ring(small_config(), 3);
  Token forged = safe_message_member_2_lacks(ring);
  EXPECT_TRUE(drain(ring[1]->state).empty()) << "SAFE waits until every member holds it";
  // Node 12 (member 2, not member 1's predecessor) claims every member holds seq 1.
  forged.token_seq += 2;
  for (std::size_t i = 0; i < 3; ++i)
    forged.members[i].received_up_to = 1;
  write_token(*ring[1], forged, kFirstNode + 2);
  EXPECT_FALSE(ring[1]->state.holds_token());
  EXPECT_EQ(ring[1]->state.counters().last_token_fault, TokenFault::wrong_link);
  EXPECT_EQ(ring[1]->state.counters().writes_wrong_link, 1u);
  EXPECT_TRUE(drain(ring[1]->state).empty()) << "member 2 never received the SAFE message";
  // The same token from a node outside the ring is refused the same way.
  write_token(*ring[1], forged, 99);
  EXPECT_FALSE(ring[1]->state.holds_token());
  EXPECT_EQ(ring[1]->state.counters().writes_wrong_link, 2u);
}

// Any peer can write a token slot, also after the predecessor's token landed
// there and before this member reads it (its process paused, say). The slot
// then holds another token when the predecessor's immediate is read: it is
// refused, not taken for the predecessor's.
TEST(LinkTrust, ATokenWrittenOverThePredecessorsBeforeItIsReadIsRefused) {
  RingConfig c = small_config();
  c.token_retransmit_ns = 100;
  auto ring = make_ring(c, 3);
  ring[0]->state.tick(0);
  carry(ring, 0);  // the first token: member 0 to member 1
  ASSERT_TRUE(ring[1]->state.holds_token());
  // Member 1 sends a SAFE message; of its chain to member 2 only the token lands.
  ASSERT_TRUE(ring[1]->state.submit(message("safe", Guarantee::safe)).ok());
  ring[1]->state.tick(1);
  for (const fabric::WriteOp& op : take_chains(ring, 1, 2, 1)) {
    if (op.with_imm && imm_kind(op.imm) == ImmKind::token) land(*ring[2], op, kFirstNode + 1, 1);
  }
  carry(ring, 1);
  ASSERT_EQ(ring[2]->state.log().received_up_to(), 0u);
  ASSERT_TRUE(ring[2]->state.holds_token());
  ring[2]->state.tick(2);  // passes the token on: it lacks seq 1
  carry(ring, 2);
  ASSERT_TRUE(ring[0]->state.holds_token());
  ring[0]->state.tick(3);
  // Member 0's token lands at member 1; member 1 has not read it yet.
  std::vector<std::uint32_t> announced;
  for (const fabric::WriteOp& op : take_chains(ring, 0, 1, 3)) {
    land_bytes(*ring[1], op);
    if (op.with_imm) announced.push_back(op.imm);
  }
  ASSERT_EQ(announced.size(), 1u);
  const std::uint32_t slot = token_imm_slot(announced[0]);
  const auto slot_bytes = ring[1]->mailbox.bytes().subspan(slot * kTokenSlotBytes, kTokenSlotBytes);
  Token real;
  ASSERT_EQ(decode_token(slot_bytes, TokenLimits{ring[1]->state.membership().ring, 3}, &real),
            TokenFault::none);
  ASSERT_EQ(real.members[2].received_up_to, 0u);
  // Node 12 writes over it a token of the same slot claiming every member
  // holds seq 1, announced on its own link after member 0's immediate.
  Token forged = real;
  forged.token_seq += std::uint64_t{c.mailbox_slots} * 1000;
  for (std::size_t i = 0; i < 3; ++i)
    forged.members[i].received_up_to = forged.highest_seq;
  encode_token(forged, slot_bytes);
  announce(*ring[1], announced[0], kFirstNode + 0, 4);
  EXPECT_FALSE(ring[1]->state.holds_token());
  EXPECT_EQ(ring[1]->state.counters().last_token_fault, TokenFault::overwritten);
  announce(*ring[1], token_imm(slot, encoded_token_checksum(slot_bytes)), kFirstNode + 2, 4);
  EXPECT_FALSE(ring[1]->state.holds_token());
  EXPECT_EQ(ring[1]->state.counters().last_token_fault, TokenFault::wrong_link);
  EXPECT_TRUE(drain(ring[1]->state).empty()) << "member 2 never received the SAFE message";
  // Member 0 writes its token again (retransmission): now it is read as sent.
  ring[0]->state.tick(200);
  carry(ring, 200);
  EXPECT_TRUE(ring[1]->state.holds_token());
  EXPECT_TRUE(drain(ring[1]->state).empty());
}

TEST(LinkTrust, TheRingStillRunsWithTokensFromThePredecessor) {
  auto ring = make_ring(small_config(), 3);
  ASSERT_TRUE(ring[2]->state.submit(message("x", Guarantee::safe)).ok());
  std::vector<std::string> seen[3];
  for (std::uint64_t t = 0; t < 30; ++t) {
    for (auto& m : ring)
      m->state.tick(t);
    carry(ring, t);
    for (int i = 0; i < 3; ++i) {
      for (auto& s : drain(ring[i]->state))
        seen[i].push_back(s);
    }
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(seen[i], std::vector<std::string>{"x"}) << "member " << i;
    EXPECT_EQ(ring[i]->state.counters().writes_wrong_link, 0u);
  }
}

TEST(LinkTrust, ABatchWhoseHeaderNamesAnotherSenderIsRefused) {
  auto ring = make_ring(small_config(), 3);
  ring[0]->state.tick(0);
  carry(ring, 0);
  ASSERT_TRUE(ring[1]->state.submit(message("from 11")).ok());
  ring[1]->state.tick(1);
  // Member 1's batch for member 0 arrives on member 2's link.
  for (auto chain = ring[1]->state.pending_chain(0); !chain.empty();
       chain = ring[1]->state.pending_chain(0)) {
    for (const fabric::WriteOp& op : chain)
      land(*ring[0], op, kFirstNode + 2, 1);
    ring[1]->state.chain_posted(0);
  }
  EXPECT_EQ(ring[0]->state.log().received_up_to(), 0u);
  EXPECT_EQ(ring[0]->state.log().counters().last_fault, RecordFault::wrong_link);
  EXPECT_EQ(ring[0]->state.counters().writes_wrong_link, 1u);
  EXPECT_TRUE(drain(ring[0]->state).empty());
}

// Every record of a batch came on the link of its last one: a record before
// it that names another sender (its header re-sealed) is not delivered as
// that sender's.
TEST(LinkTrust, ARecordInsideABatchNamingAnotherSenderIsNotDelivered) {
  auto ring = make_ring(small_config(), 3);
  ring[0]->state.tick(0);
  carry(ring, 0);
  ASSERT_TRUE(ring[1]->state.submit(message("first")).ok());
  ASSERT_TRUE(ring[1]->state.submit(message("second")).ok());
  ring[1]->state.tick(1);
  carry(ring, 1);
  ASSERT_EQ(ring[0]->state.log().received_up_to(), 2u);
  // Member 1's first record, at position 0 in member 0's log, now says node 12.
  RecordHeader h;
  auto bytes = ring[0]->log.bytes().first<kRecordHeaderBytes>();
  ASSERT_EQ(decode_record_header(bytes, RecordLimits{{1, 1}, 64 * 64, 1024}, &h),
            RecordFault::none);
  ASSERT_EQ(h.sender, kFirstNode + 1);
  h.sender = kFirstNode + 2;
  encode_record_header(h, bytes);
  EXPECT_TRUE(drain(ring[0]->state).empty());
  EXPECT_EQ(ring[0]->state.log().counters().last_fault, RecordFault::wrong_link);
}

TEST(LinkTrust, AWakeNamingAnotherMemberIsRefused) {
  auto ring = make_ring(small_config(), 3);
  fabric::Completion c;
  c.type = fabric::CompletionType::received_imm;
  c.peer = kFirstNode + 2;
  c.imm = control_imm(ControlImmType::wake, 1);  // says member 1, comes from member 2
  ring[0]->state.on_completion(c, 1);
  EXPECT_EQ(ring[0]->state.counters().wakes_received, 0u);
  EXPECT_EQ(ring[0]->state.counters().writes_wrong_link, 1u);
  c.imm = control_imm(ControlImmType::wake, 2);
  ring[0]->state.on_completion(c, 2);
  EXPECT_EQ(ring[0]->state.counters().wakes_received, 1u);
}

}  // namespace
}  // namespace ringcast::ring
