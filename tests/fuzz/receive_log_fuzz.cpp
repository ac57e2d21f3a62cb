// Fuzzes one member's receive log (ring/receive_log.hpp) with a hostile
// sequence of events: an honest sender's batches, interleaved with forged
// headers (valid checksums, any fields), scribbled bytes, immediates naming
// any offset, recovery marks for any seq, deliveries and releases. Besides
// never crashing or tripping an assertion (ASan + UBSan + RC_ASSERT), the
// promises checked:
//   - delivery walks seqs 1, 2, 3, ... with payloads inside the log and
//     within the size limit, never beyond what has landed;
//   - releases never pass deliveries;
//   - while nothing hostile happened, every record the honest sender wrote
//     is delivered in order with its payload intact.
//
// Input: u8 log size (64-byte units, 12 to 75), u8 base (64-byte units),
// then a sequence of operations, each u8 op and its arguments (below).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <span>
#include <vector>

#include "base/assert.hpp"
#include "fuzz_support.hpp"
#include "ring/log_space.hpp"
#include "ring/receive_log.hpp"

namespace ringcast::ring {
namespace {

constexpr RingId kRing{7, 3};
constexpr std::uint32_t kMaxMessage = 512;

enum Op : std::uint8_t {
  kHonest,     // u8 records (1-4), u16 payload sizes seed: the honest sender's next batch
  kForge,      // header fields, u16 offset: a forged header written at offset, then its imm
  kScribble,   // u16 offset, u8 length, bytes
  kLand,       // u32 offset: an immediate naming it
  kDeliver,    // u8 how many, u8 SAFE allowed
  kRelease,    // u8 back from the delivered seq, u8 (bit 0: a far seq)
  kRecovered,  // u8 beyond received_up_to
  kEndOf,      // u8 beyond delivered_seq
  kOps
};

struct Sent {
  std::uint64_t seq;
  std::uint32_t bytes;
  std::uint8_t fill;
};

class LogFuzz {
 public:
  LogFuzz(std::uint64_t log_bytes, std::uint64_t base)
      : memory_(log_bytes),
        log_(memory_, RecordLimits{kRing, log_bytes, kMaxMessage}, base, base),
        next_position_(base) {}
  void run(fuzz::Reader& in);

 private:
  void honest(fuzz::Reader& in);
  void forge(fuzz::Reader& in);
  void scribble(fuzz::Reader& in);
  void deliver(fuzz::Reader& in);
  void release(fuzz::Reader& in);
  void check() const;

  std::vector<std::byte> memory_;
  ReceiveLog log_;
  bool hostile_ = false;
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_position_;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> ends_;  // (seq, end position) unreleased
  std::deque<Sent> sent_;                                     // not yet delivered
};

void LogFuzz::honest(fuzz::Reader& in) {
  const std::size_t records = in.u8() % 4 + 1;
  std::uint16_t sizes = in.u16();
  const std::uint64_t log_bytes = log_.log_bytes();
  std::uint64_t last_offset = 0;
  std::size_t placed = 0;
  for (std::size_t i = 0; i < records; ++i, sizes = static_cast<std::uint16_t>(sizes * 31 + 7)) {
    const std::uint32_t bytes = sizes % (kMaxMessage + 1);
    const std::uint64_t span = record_span_bytes(bytes);
    const std::uint64_t at = place_position(next_position_, span, log_bytes);
    const std::uint64_t released = log_.released_position();
    if (span > log_bytes || !fits_space(at, span, released, next_position_, log_bytes)) break;
    RecordHeader h;
    h.ring = kRing;
    h.seq = next_seq_;
    h.position = at;
    h.sender = 11;
    h.payload_bytes = bytes;
    h.batch_index = static_cast<std::uint32_t>(i + 1);
    h.guarantee = static_cast<Guarantee>(sizes % 4);
    last_offset = at % log_bytes;
    encode_record_header(h, std::span(memory_).subspan(last_offset).first<kRecordHeaderBytes>());
    const auto fill = static_cast<std::uint8_t>(next_seq_);
    std::memset(memory_.data() + last_offset + kRecordHeaderBytes, fill, bytes);
    sent_.push_back({next_seq_, bytes, fill});
    ++next_seq_;
    next_position_ = at + span;
    ++placed;
  }
  if (placed == 0) return;
  const RecordFault fault = log_.on_batch_landed(last_offset);
  RC_ASSERT(hostile_ || fault == RecordFault::none);
}

void LogFuzz::forge(fuzz::Reader& in) {
  RecordHeader h;
  h.ring = in.u8() == 0 ? RingId{7, 2} : kRing;
  h.seq = log_.received_up_to() + in.u8();
  h.position = next_position_ + 64 * std::uint64_t{in.u16()} - 64 * 128;
  h.payload_bytes = in.u16();
  h.batch_index = in.u8();
  h.guarantee = static_cast<Guarantee>(in.u8() % 4);
  const std::uint64_t offset = in.u16() % log_.log_bytes() / 64 * 64;
  if (offset + kRecordHeaderBytes > log_.log_bytes()) return;
  hostile_ = true;
  encode_record_header(h, std::span(memory_).subspan(offset).first<kRecordHeaderBytes>());
  (void)log_.on_batch_landed(offset);
}

void LogFuzz::scribble(fuzz::Reader& in) {
  const std::uint64_t offset = in.u16() % log_.log_bytes();
  const auto bytes = in.bytes(in.u8());
  const std::size_t n = std::min<std::size_t>(bytes.size(), log_.log_bytes() - offset);
  if (n == 0) return;
  hostile_ = true;
  std::memcpy(memory_.data() + offset, bytes.data(), n);
}

void LogFuzz::deliver(fuzz::Reader& in) {
  const std::size_t most = in.u8() % 16 + 1;
  const std::uint64_t safe_up_to = (in.u8() & 1) != 0 ? UINT64_MAX : log_.received_up_to() / 2;
  for (std::size_t i = 0; i < most; ++i) {
    const std::uint64_t before = log_.delivered_seq();
    const auto d = log_.next_delivery(safe_up_to);
    if (!d) return;
    RC_ASSERT(d->seq == before + 1 && d->seq <= log_.received_up_to());
    RC_ASSERT(d->payload.size() <= kMaxMessage);
    RC_ASSERT(d->payload.data() >= memory_.data() &&
              d->payload.data() + d->payload.size() <= memory_.data() + memory_.size());
    ends_.emplace_back(d->seq, d->position + record_span_bytes(d->payload.size()));
    if (hostile_ || sent_.empty()) continue;
    const Sent s = sent_.front();
    sent_.pop_front();
    RC_ASSERT(d->seq == s.seq && d->payload.size() == s.bytes && d->sender == 11);
    for (std::byte b : d->payload)
      RC_ASSERT(b == std::byte{s.fill});
  }
}

void LogFuzz::release(fuzz::Reader& in) {
  const std::uint8_t back = in.u8();
  const bool far = (in.u8() & 1) != 0;
  const std::uint64_t delivered = log_.delivered_seq();
  const std::uint64_t seq = far ? delivered + 1 + back : (back > delivered ? 0 : delivered - back);
  const Status st = log_.release_through_seq(seq);
  RC_ASSERT(st.ok() == (seq <= delivered));
}

void LogFuzz::check() const {
  RC_ASSERT(log_.delivered_seq() <= log_.received_up_to());
  RC_ASSERT(log_.released_seq() <= log_.delivered_seq());
  if (!hostile_) RC_ASSERT(!log_.stuck());
}

void LogFuzz::run(fuzz::Reader& in) {
  for (int steps = 0; steps < 256 && !in.empty(); ++steps) {
    switch (in.u8() % kOps) {
      case kHonest:
        honest(in);
        break;
      case kForge:
        forge(in);
        break;
      case kScribble:
        scribble(in);
        break;
      case kLand:
        hostile_ = true;
        (void)log_.on_batch_landed(in.u32());
        break;
      case kDeliver:
        deliver(in);
        break;
      case kRelease:
        release(in);
        break;
      case kRecovered:
        hostile_ = true;
        (void)log_.mark_recovered(log_.received_up_to() + in.u8());
        break;
      default:
        (void)log_.end_of(log_.delivered_seq() + in.u8());
        break;
    }
    check();
  }
}

}  // namespace
}  // namespace ringcast::ring

ringcast::fuzz::Seeds make_seeds() {
  using namespace ringcast::ring;
  ringcast::fuzz::Writer a;  // honest batches, deliveries and releases around the wrap
  a.u8(12).u8(0);
  for (int i = 0; i < 12; ++i) {
    a.u8(kHonest).u8(static_cast<std::uint8_t>(i)).u16(static_cast<std::uint16_t>(100 * i + 1));
    a.u8(kDeliver).u8(15).u8(1).u8(kRelease).u8(static_cast<std::uint8_t>(i % 2)).u8(0);
  }
  ringcast::fuzz::Writer b;  // a forged header at the next record's place, recovery, end_of
  b.u8(20).u8(3).u8(kHonest).u8(2).u16(64).u8(kForge).u8(1).u8(4).u16(128).u16(10).u8(1).u8(2);
  b.u16(0).u8(kRecovered).u8(3).u8(kEndOf).u8(2).u8(kDeliver).u8(4).u8(0);
  b.u8(kScribble).u16(64).u8(8).u64(0x1122334455667788).u8(kDeliver).u8(4).u8(1);
  b.u8(kLand).u32(64);
  return {a.take(), b.take()};
}

RINGCAST_FUZZ_SEEDS()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ringcast::fuzz::Reader in(data, size);
  const std::uint64_t log_bytes = 64 * (std::uint64_t{in.u8()} % 64 + 12);
  const std::uint64_t base = 64 * std::uint64_t{in.u8()};
  ringcast::ring::LogFuzz f(log_bytes, base);
  f.run(in);
  return 0;
}
