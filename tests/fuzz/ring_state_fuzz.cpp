// Fuzzes the ring's state machine (ring/ring_state.hpp): a ring of 2 or 3
// members whose writes the harness carries by hand, driven by a sequence of
// operations: submits, carrying chains (in any order between pairs, or a
// chain twice), ticks, deliveries and releases, and hostile events: forged
// tokens (valid checksums, any fields) in any mailbox slot, immediates of any
// kind from any member, scribbled log and mailbox bytes, failed links.
// Besides never crashing or tripping an assertion (ASan + UBSan +
// RC_ASSERT), while nothing hostile happened every member delivers the same
// records at the same seqs (total order), each seq once and in order.
//
// Input: u8 members (2 or 3), then operations, each u8 op and its arguments.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <tuple>
#include <vector>

#include "base/assert.hpp"
#include "fuzz_support.hpp"
#include "ring/imm.hpp"
#include "ring/ring_state.hpp"

namespace ringcast::ring {
namespace {

using fuzz::HeapRegion;

enum Op : std::uint8_t {
  kSubmit,      // u8 member, u16 size, u8 guarantee
  kCarry,       // u8 from, u8 to: one chain
  kCarryAll,    // every chain
  kDuplicate,   // u8 from, u8 to: one chain written twice
  kTick,        // u8 member, u16 microseconds
  kDeliver,     // u8 member, u8 release (bit 0)
  kForgeToken,  // u8 member, u8 slot, u8 peer, token fields
  kForgeImm,    // u8 member, u8 peer, u32 imm
  kScribble,    // u8 member, u8 region, u16 offset, u8 length, bytes
  kLinkFail,    // u8 member, u8 peer
  kOps
};

RingConfig config() {
  RingConfig c;
  c.log_bytes = 64 * 64;
  c.max_message_bytes = 1024;
  c.send_queue_messages = 8;
  c.send_buffer_bytes = 4096;
  c.max_messages_per_visit = 4;
  c.window_messages = 8;
  c.token_hold_ns = 20'000;
  c.wake_after_ns = 5'000;
  c.token_retransmit_ns = 100'000;
  c.mailbox_slots = 3;
  c.token_staging_slots = 2;
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
  std::uint64_t delivered = 0;
};

class RingFuzz {
 public:
  explicit RingFuzz(std::size_t n);
  void run(fuzz::Reader& in);

 private:
  std::size_t pick(std::uint8_t v) const { return v % ring_.size(); }
  fabric::NodeId node(std::size_t i) const { return static_cast<fabric::NodeId>(10 + i); }
  bool carry_one(std::size_t from, std::size_t to, bool twice);
  void write(std::size_t from, std::size_t to, const fabric::WriteOp& op);
  void submit(fuzz::Reader& in);
  void deliver(std::size_t m, bool release);
  void forge_token(fuzz::Reader& in);
  void scribble(fuzz::Reader& in);

  RingConfig config_ = config();
  std::vector<std::unique_ptr<Member>> ring_;
  std::uint64_t now_ns_ = 0;
  bool hostile_ = false;
  std::uint32_t counter_ = 0;
  // seq -> (sender, size, first payload byte), as the first member delivered it
  std::map<std::uint64_t, std::tuple<fabric::NodeId, std::size_t, std::uint8_t>> order_;
};

RingFuzz::RingFuzz(std::size_t n) {
  RingMembership m{{10, 1}, {}, 0};
  for (std::size_t i = 0; i < n; ++i)
    m.members.push_back(node(i));
  for (std::size_t i = 0; i < n; ++i) {
    m.my_index = i;
    ring_.push_back(std::make_unique<Member>(config_, m));
  }
  for (auto& member : ring_)
    member->state.start(0);
}

void RingFuzz::write(std::size_t from, std::size_t to, const fabric::WriteOp& op) {
  HeapRegion& target = op.remote_region == kLogRegion ? ring_[to]->log : ring_[to]->mailbox;
  std::byte* at = target.data() + op.remote_offset;
  for (std::size_t s = 0; s < op.segment_count; ++s) {
    const auto& seg = op.segments[s];
    RC_ASSERT(target.contains(at, seg.length));
    std::memcpy(at, seg.region->data() + seg.offset, seg.length);
    at += seg.length;
  }
  if (op.with_imm) {
    fabric::Completion c;
    c.type = fabric::CompletionType::received_imm;
    c.peer = node(from);
    c.imm = op.imm;
    c.byte_len = op.length();
    ring_[to]->state.on_completion(c, now_ns_);
  }
}

bool RingFuzz::carry_one(std::size_t from, std::size_t to, bool twice) {
  if (from == to) return false;
  const auto chain = ring_[from]->state.pending_chain(to);
  if (chain.empty()) return false;
  for (int round = 0; round < (twice ? 2 : 1); ++round) {
    for (const fabric::WriteOp& op : chain)
      write(from, to, op);
  }
  std::vector<std::uint64_t> done;
  for (const fabric::WriteOp& op : chain) {
    if (op.signaled) done.push_back(op.wr_id);
  }
  ring_[from]->state.chain_posted(to);
  for (std::uint64_t wr_id : done) {
    fabric::Completion c;
    c.type = fabric::CompletionType::write_done;
    c.wr_id = wr_id;
    ring_[from]->state.on_completion(c, now_ns_);
  }
  return true;
}

void RingFuzz::submit(fuzz::Reader& in) {
  Member& m = *ring_[pick(in.u8())];
  const std::size_t size = in.u16() % (config_.max_message_bytes + 1);
  std::vector<std::byte> payload(size, std::byte{static_cast<std::uint8_t>(counter_)});
  OutgoingMessage out;
  out.payload = payload;
  out.guarantee = static_cast<Guarantee>(in.u8() % 4);
  out.group = counter_;
  if (m.state.submit(out).ok()) ++counter_;
}

void RingFuzz::deliver(std::size_t m, bool release) {
  Member& member = *ring_[m];
  while (auto d = member.state.next_delivery()) {
    RC_ASSERT(d->seq == member.delivered + 1);
    member.delivered = d->seq;
    const std::uint8_t first = d->payload.empty() ? 0 : static_cast<std::uint8_t>(d->payload[0]);
    const auto seen = std::make_tuple(d->sender, d->payload.size(), first);
    auto [it, fresh] = order_.try_emplace(d->seq, seen);
    if (!hostile_) RC_ASSERT(fresh || it->second == seen);
    if (release) RC_ASSERT(member.state.release_through_seq(d->seq).ok());
  }
}

void RingFuzz::forge_token(fuzz::Reader& in) {
  Member& m = *ring_[pick(in.u8())];
  const std::uint32_t slot = in.u8() % config_.mailbox_slots;
  const fabric::NodeId peer = node(pick(in.u8()));
  Token t;
  t.ring = m.state.membership().ring;
  t.token_seq = in.u8();
  t.highest_seq = in.u8();
  t.next_position = 64 * std::uint64_t{in.u16()};
  t.fcc = in.u8();
  t.backlog = in.u8();
  t.member_count = static_cast<std::uint16_t>(ring_.size());
  for (std::size_t i = 0; i < ring_.size(); ++i)
    t.members[i] = {in.u8() % (t.highest_seq + 1),
                    std::min<std::uint64_t>(64 * std::uint64_t{in.u16()}, t.next_position)};
  t.retransmit_count = in.u8() % 3;
  for (std::size_t i = 0; i < t.retransmit_count; ++i)
    t.retransmit[i] = t.highest_seq == 0 ? 1 : in.u8() % t.highest_seq + 1;
  hostile_ = true;
  const auto bytes = m.mailbox.span().subspan(slot * kTokenSlotBytes, kTokenSlotBytes);
  encode_token(t, bytes);
  fabric::Completion c;
  c.type = fabric::CompletionType::received_imm;
  c.peer = peer;
  c.imm = token_imm(slot, encoded_token_checksum(bytes));
  m.state.on_completion(c, now_ns_);
}

void RingFuzz::scribble(fuzz::Reader& in) {
  Member& m = *ring_[pick(in.u8())];
  HeapRegion& r = (in.u8() & 1) != 0 ? m.mailbox : m.log;
  const std::size_t offset = in.u16() % r.size();
  const auto bytes = in.bytes(in.u8());
  const std::size_t n = std::min(bytes.size(), r.size() - offset);
  hostile_ = true;
  std::copy_n(bytes.begin(), n, r.data() + offset);
}

void RingFuzz::run(fuzz::Reader& in) {
  for (int steps = 0; steps < 256 && !in.empty(); ++steps) {
    switch (in.u8() % kOps) {
      case kSubmit:
        submit(in);
        break;
      case kCarry:
        carry_one(pick(in.u8()), pick(in.u8()), false);
        break;
      case kCarryAll:
        for (std::size_t from = 0; from < ring_.size(); ++from) {
          for (std::size_t to = 0; to < ring_.size(); ++to) {
            while (carry_one(from, to, false)) {
            }
          }
        }
        break;
      case kDuplicate:
        hostile_ = carry_one(pick(in.u8()), pick(in.u8()), true) || hostile_;
        break;
      case kTick: {
        Member& m = *ring_[pick(in.u8())];
        now_ns_ += in.u16() * std::uint64_t{1000};
        m.state.tick(now_ns_);
        break;
      }
      case kDeliver: {
        const std::size_t m = pick(in.u8());
        deliver(m, (in.u8() & 1) == 0);
        break;
      }
      case kForgeToken:
        forge_token(in);
        break;
      case kForgeImm: {
        Member& m = *ring_[pick(in.u8())];
        fabric::Completion c;
        c.type = fabric::CompletionType::received_imm;
        c.peer = node(pick(in.u8()));
        c.imm = in.u32();
        hostile_ = true;
        m.state.on_completion(c, now_ns_);
        break;
      }
      case kScribble:
        scribble(in);
        break;
      default: {
        Member& m = *ring_[pick(in.u8())];
        const std::size_t peer = pick(in.u8());
        if (peer != m.state.membership().my_index) {
          m.state.on_link_failed(peer, make_error(Errc::link_failed, "fuzz", "link cut"));
        }
        break;
      }
    }
  }
}

}  // namespace
}  // namespace ringcast::ring

ringcast::fuzz::Seeds make_seeds() {
  using namespace ringcast::ring;
  ringcast::fuzz::Seeds seeds;
  for (std::uint8_t members : {2, 3}) {
    ringcast::fuzz::Writer w;  // traffic from every member, carried, delivered and released
    w.u8(members);
    for (std::uint8_t round = 0; round < 24; ++round) {
      w.u8(kSubmit).u8(round).u16(static_cast<std::uint16_t>(round * 97)).u8(round);
      w.u8(kCarryAll).u8(kTick).u8(round).u16(30).u8(kCarryAll);
      w.u8(kDeliver).u8(round).u8(round % 3 == 0 ? 1 : 0);
    }
    seeds.push_back(w.take());
  }
  ringcast::fuzz::Writer h;  // traffic, then a forged token, a duplicate chain, a cut link
  h.u8(3).u8(kSubmit).u8(0).u16(100).u8(2).u8(kTick).u8(0).u16(1).u8(kDuplicate).u8(0).u8(1);
  h.u8(kForgeToken).u8(1).u8(1).u8(0).u8(9).u8(3).u16(8).u8(1).u8(0);
  h.u8(1).u16(2).u8(2).u16(4).u8(3).u16(1).u8(1).u8(1);
  h.u8(kCarryAll).u8(kForgeImm).u8(2).u8(1).u32(0x40000001).u8(kLinkFail).u8(1).u8(2);
  h.u8(kTick).u8(1).u16(500).u8(kCarryAll).u8(kDeliver).u8(2).u8(0);
  seeds.push_back(h.take());
  return seeds;
}

RINGCAST_FUZZ_SEEDS()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ringcast::fuzz::Reader in(data, size);
  ringcast::ring::RingFuzz f(in.u8() % 2 + 2);
  f.run(in);
  return 0;
}
