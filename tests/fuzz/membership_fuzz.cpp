// Fuzzes one member's membership state machine (membership/membership.hpp)
// surrounded by hostile peers: a sequence of operations writes control
// messages into its control slots (well-formed ones built from fields, with
// ring ids near its own so they get past the first checks, or any bytes
// with the checksum recomputed), announces them with immediates (right or
// wrong), forges tokens, fails and restores links, submits, moves time on,
// and drains what it wants written and delivered. Besides never crashing or
// tripping an assertion (ASan + UBSan + RC_ASSERT), the promises checked:
// every configuration it announces contains itself, regular ones come with
// a new epoch, and message indexes only grow.
//
// Input: u8 start (bit 0: this member is node 1, not 0; bit 1: it starts
// alone and joins), then operations, each u8 op and its arguments.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "base/assert.hpp"
#include "fuzz_support.hpp"
#include "membership/membership.hpp"
#include "membership_samples.hpp"
#include "ring/imm.hpp"

namespace ringcast::membership {
namespace {

using fuzz::HeapRegion;

const std::vector<NodeId> kNodes = {100, 103, 106};

enum Op : std::uint8_t {
  kControl,     // u8 sender, u8 template, field edits: a well-formed message and its imm
  kRawControl,  // u8 sender, u32 imm, u8 options, u16 length, bytes
  kImm,         // u8 sender, u32 imm: an immediate alone
  kToken,       // u8 slot, u8 peer, u8 seq, u8 highest
  kLinkFail,    // u8 peer
  kLinkUp,      // u8 peer
  kTick,        // u16 x 10 microseconds
  kDrain,       // u8 release (bit 0)
  kSubmit,      // u16 size, u8 guarantee
  kOps
};

ring::RingConfig ring_config() {
  ring::RingConfig c;
  c.log_bytes = 64 * 128;
  c.max_message_bytes = 1024;
  c.send_queue_messages = 8;
  c.send_buffer_bytes = 4096;
  c.max_messages_per_visit = 4;
  c.window_messages = 8;
  c.token_hold_ns = 0;
  c.mailbox_slots = 2;
  c.token_staging_slots = 2;
  return c;
}

MembershipConfig membership_config() {
  MembershipConfig c;
  c.nodes = kNodes;
  c.token_timeout_ns = 2'000'000;
  c.join_interval_ns = 300'000;
  c.consensus_timeout_ns = 3'000'000;
  return c;
}

class MemberFuzz {
 public:
  explicit MemberFuzz(std::uint8_t start);
  void run(fuzz::Reader& in);

 private:
  std::size_t peer(std::uint8_t v) const { return v % kNodes.size(); }
  std::span<std::byte> slot(std::size_t sender) {
    return mailbox_.span().subspan(
        ring::control_area_offset(ring_.mailbox_slots) + sender * ring::kControlSlotBytes,
        ring::kControlSlotBytes);
  }
  void announce(std::size_t sender, std::uint32_t imm);
  void control(fuzz::Reader& in);
  void raw_control(fuzz::Reader& in);
  void token(fuzz::Reader& in);
  void drain(bool release);
  void submit(fuzz::Reader& in);

  ring::RingConfig ring_ = ring_config();
  MembershipConfig config_ = membership_config();
  HeapRegion log_, mailbox_, send_buffer_, staging_, control_staging_;
  std::unique_ptr<Membership> m_;
  std::uint64_t now_ns_ = 0;
  std::uint64_t last_index_ = 0;
  std::uint64_t last_epoch_ = 0;
  std::vector<std::uint64_t> seq_ = std::vector<std::uint64_t>(kNodes.size(), 0);
};

MemberFuzz::MemberFuzz(std::uint8_t start)
    : log_(ring_.log_bytes, fabric::Access::remote_write),
      mailbox_(ring::mailbox_bytes(ring_.mailbox_slots), fabric::Access::remote_write),
      send_buffer_(ring_.send_buffer_bytes),
      staging_(ring::staging_bytes(ring_)),
      control_staging_(kNodes.size() * ring::kControlSlotBytes) {
  const MemberMemory memory{{&log_, &mailbox_, &send_buffer_, &staging_}, &control_staging_};
  m_ = std::make_unique<Membership>(ring_, config_, kNodes[start & 1], memory);
  if ((start & 2) != 0) {
    const bool started = m_->start_joining(0b111 & ~bit(start & 1), 1000, 0);
    RC_ASSERT(started);  // no epoch keeper: nothing to fail
  } else {
    m_->start(0b111, 0);
  }
}

void MemberFuzz::announce(std::size_t sender, std::uint32_t imm) {
  fabric::Completion c;
  c.type = fabric::CompletionType::received_imm;
  c.peer = kNodes[sender];
  c.imm = imm;
  m_->on_completion(c, now_ns_);
}

// A sample message of one type, sent by `sender`, with fields moved by the
// input: ring ids around this member's own, masks and numbers anywhere.
void MemberFuzz::control(fuzz::Reader& in) {
  const std::size_t sender = peer(in.u8());
  const RingId mine = m_->ring_id();
  const auto samples = fuzz::sample_messages(kNodes, mine.epoch);
  MembershipMessage msg = samples[in.u8() % samples.size()];
  msg.sender_index = static_cast<std::uint8_t>(sender);
  msg.sender = kNodes[sender];
  msg.message_seq = seq_[sender] += in.u8() % 3;
  const std::uint8_t edits = in.u8();
  if (edits & 1) msg.ring = {kNodes[lowest(msg.members | 1)], mine.epoch + in.u8() % 4};
  if (edits & 2) msg.candidates = msg.reach = (in.u8() & 0b111) | bit(sender);
  if (edits & 4) msg.failed = in.u8() & 0b111 & ~bit(sender);
  if (edits & 8) msg.members = in.u8() & 0b111;
  if (edits & 16) msg.through_seq = in.u8() + 1;
  for (std::size_t i = 0; i < msg.info_count; ++i) {
    OldRingInfo& info = msg.infos[i];
    info.ring = (edits & 32) ? RingId{kNodes[in.u8() % 3], mine.epoch + in.u8() % 2} : mine;
    info.received_up_to = in.u8();
    info.delivered = std::min<std::uint64_t>(in.u8(), info.received_up_to);
    info.end_position = 64 * std::uint64_t{in.u16()};
    info.released_position =
        std::min<std::uint64_t>(64 * std::uint64_t{in.u8()}, info.end_position);
    info.max_epoch = mine.epoch + (edits & 64 ? in.u8() % 3 : 0);
  }
  msg.old_ring = mine;
  encode_membership_message(msg, slot(sender));
  announce(sender, membership_message_imm(sender, msg.message_seq));
}

void MemberFuzz::raw_control(fuzz::Reader& in) {
  const std::size_t sender = peer(in.u8());
  const std::uint32_t imm = in.u32();
  const std::uint8_t options = in.u8();
  const auto bytes = in.bytes(in.u16() % ring::kControlSlotBytes);
  std::span<std::byte> s = slot(sender);
  std::copy(bytes.begin(), bytes.end(), s.begin());
  if ((options & 1) == 0 && bytes.size() >= 12) {
    const std::size_t length = wire::get<std::uint16_t>(s.data() + 6);
    if (length >= 4 && length <= bytes.size()) fuzz::reseal_crc_at(s, length - 4);
  }
  announce(sender, (options & 2) ? imm : membership_message_imm(sender, imm & 0xFFFFFF));
}

void MemberFuzz::token(fuzz::Reader& in) {
  const std::uint32_t slot = in.u8() % ring_.mailbox_slots;
  const std::size_t from = peer(in.u8());
  const ring::RingState& r = m_->ring();
  ring::Token t;
  t.ring = r.membership().ring;
  t.token_seq = in.u8();
  t.highest_seq = in.u8();
  t.next_position = 64 * (t.highest_seq + in.u8());
  t.member_count = static_cast<std::uint16_t>(r.membership().size());
  const auto bytes = mailbox_.span().subspan(slot * ring::kTokenSlotBytes, ring::kTokenSlotBytes);
  ring::encode_token(t, bytes);
  announce(from, ring::token_imm(slot, ring::encoded_token_checksum(bytes)));
}

void MemberFuzz::drain(bool release) {
  for (std::size_t p = 0; p < kNodes.size(); ++p) {
    for (auto chain = m_->pending_chain(p); !chain.empty(); chain = m_->pending_chain(p)) {
      std::vector<std::uint64_t> done;
      for (const fabric::WriteOp& op : chain) {
        if (op.signaled) done.push_back(op.wr_id);
      }
      m_->chain_posted(p);
      for (std::uint64_t wr_id : done) {
        fabric::Completion c;
        c.type = fabric::CompletionType::write_done;
        c.wr_id = wr_id;
        m_->on_completion(c, now_ns_);
      }
    }
  }
  while (m_->next_disconnect()) {
  }
  while (m_->next_zero_copy_done()) {
  }
  while (auto e = m_->next_event()) {
    RC_ASSERT(e->index >= last_index_);
    last_index_ = e->index;
    if (e->change != nullptr) {
      const auto& members = e->change->members;
      RC_ASSERT(std::find(members.begin(), members.end(), kNodes[m_->my_index()]) != members.end());
      if (!e->change->transitional) {
        RC_ASSERT(e->change->ring.epoch > last_epoch_ || last_epoch_ == 0);
        last_epoch_ = e->change->ring.epoch;
      }
    } else if (release) {
      RC_ASSERT(m_->release_through(e->index).ok());
    }
  }
}

void MemberFuzz::submit(fuzz::Reader& in) {
  std::vector<std::byte> payload(in.u16() % (ring_.max_message_bytes + 1), std::byte{7});
  ring::OutgoingMessage out;
  out.payload = payload;
  out.guarantee = static_cast<ring::Guarantee>(in.u8() % 4);
  (void)m_->submit(out);
}

void MemberFuzz::run(fuzz::Reader& in) {
  for (int steps = 0; steps < 256 && !in.empty(); ++steps) {
    switch (in.u8() % kOps) {
      case kControl:
        control(in);
        break;
      case kRawControl:
        raw_control(in);
        break;
      case kImm: {
        const std::size_t sender = peer(in.u8());
        announce(sender, in.u32());
        break;
      }
      case kToken:
        token(in);
        break;
      case kLinkFail: {
        const std::size_t p = peer(in.u8());
        if (p != m_->my_index()) m_->on_link_failed(p, now_ns_);
        break;
      }
      case kLinkUp: {
        const std::size_t p = peer(in.u8());
        if (p != m_->my_index() && !has(m_->live_links(), p)) m_->on_link_up(p, now_ns_);
        break;
      }
      case kTick:
        now_ns_ += std::uint64_t{in.u16()} * 10'000;
        m_->tick(now_ns_);
        break;
      case kDrain:
        drain((in.u8() & 1) == 0);
        break;
      default:
        submit(in);
        break;
    }
  }
}

}  // namespace
}  // namespace ringcast::membership

ringcast::fuzz::Seeds make_seeds() {
  using namespace ringcast::membership;
  ringcast::fuzz::Writer a;  // a peer's link fails: gather, joins from both others, commit
  a.u8(0).u8(kSubmit).u16(100).u8(2).u8(kDrain).u8(0).u8(kLinkFail).u8(2).u8(kDrain).u8(0);
  a.u8(kControl).u8(1).u8(0).u8(1).u8(2).u8(0b011).u8(5).u8(4).u16(10).u8(1);
  a.u8(kTick).u16(100).u8(kDrain).u8(0);
  a.u8(kControl).u8(0).u8(1).u8(1).u8(1).u8(1).u8(3).u8(5).u8(4).u16(10).u8(1);
  a.u8(kTick).u16(400).u8(kDrain).u8(0).u8(kTick).u16(400).u8(kDrain).u8(0);
  ringcast::fuzz::Writer b;  // node 1 starts alone and joins; raw bytes, a forged token
  b.u8(3).u8(kDrain).u8(0).u8(kControl).u8(0).u8(0).u8(1).u8(2).u8(0b101).u8(3).u8(2);
  b.u16(0).u8(0).u8(kTick).u16(50).u8(kDrain).u8(0).u8(kRawControl).u8(2).u32(0).u8(0);
  b.u16(16).u64(0x314D4352).u64(0).u8(kToken).u8(1).u8(0).u8(2).u8(0).u8(0);
  b.u8(kLinkUp).u8(2).u8(kTick).u16(300).u8(kDrain).u8(1).u8(kImm).u8(2).u32(0xC2000001);
  return {a.take(), b.take()};
}

RINGCAST_FUZZ_SEEDS()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ringcast::fuzz::Reader in(data, size);
  ringcast::membership::MemberFuzz f(in.u8());
  f.run(in);
  return 0;
}
