// Fuzzes the ring's record-header decoder (ring/record.hpp) past its
// checksum: the input is a header's fields, which encode_record_header
// lays out, then byte patches over the encoded header, then (unless the
// input says not to) the header crc recomputed, so mutated headers reach
// every check behind the crc. Whatever arrives, decode_record_header refuses
// it or returns a header within the limits that re-encodes to the same bytes.
//
// Input: u8 ring choice (0: another ring), u64 seq, u64 position, u32 sender,
// u32 pid, u32 group, u32 payload bytes, u32 batch index, u8 guarantee,
// u8 flags, u8 options (bit 0: keep the crc as patched), u8 patch count,
// then count x {u8 offset, u8 value}.
//
// The crc's place is found by encoding a header and looking for the word
// that is the crc32c of the bytes before it, so the harness follows the
// layout wherever record.hpp puts it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "base/assert.hpp"
#include "fuzz_support.hpp"
#include "ring/record.hpp"

namespace ringcast::ring {
namespace {

const RecordLimits kLimits{RingId{7, 3}, 1u << 20, 64u << 10};

std::size_t find_crc_offset() {
  RecordHeader h;
  h.ring = kLimits.ring;
  h.seq = 5;
  h.position = 640;
  h.sender = 12;
  h.payload_bytes = 100;
  std::array<std::byte, kRecordHeaderBytes> bytes{};
  encode_record_header(h, bytes);
  for (std::size_t at = 4; at + 4 <= kRecordHeaderBytes; at += 4) {
    if (wire::get<std::uint32_t>(bytes.data() + at) == crc32c(std::span(bytes).first(at))) {
      return at;
    }
  }
  RC_ASSERT(false && "no header crc found");
  return 0;
}

const std::size_t kCrcAt = find_crc_offset();

RecordHeader read_header(fuzz::Reader& in) {
  RecordHeader h;
  h.ring = in.u8() == 0 ? RingId{7, 4} : kLimits.ring;
  h.seq = in.u64();
  h.position = in.u64();
  h.sender = in.u32();
  h.sender_pid = in.u32();
  h.group = in.u32();
  h.payload_bytes = in.u32();
  h.batch_index = in.u32();
  h.guarantee = static_cast<Guarantee>(in.u8());
  h.flags = in.u8();
  return h;
}

void write_header(fuzz::Writer& out, const RecordHeader& h) {
  out.u8(1).u64(h.seq).u64(h.position).u32(h.sender).u32(h.sender_pid).u32(h.group);
  out.u32(h.payload_bytes).u32(h.batch_index).u8(static_cast<std::uint8_t>(h.guarantee));
  out.u8(h.flags);
}

}  // namespace
}  // namespace ringcast::ring

ringcast::fuzz::Seeds make_seeds() {
  using namespace ringcast::ring;
  ringcast::fuzz::Seeds seeds;
  const struct {
    std::uint64_t seq, position;
    std::uint32_t payload, batch_index;
    Guarantee g;
  } kinds[] = {{1, 0, 0, 1, Guarantee::agreed},
               {9, 4096, 100, 3, Guarantee::safe},
               {70, (1u << 20) - 128, 64, 70, Guarantee::fifo},
               {2, 65536, 64u << 10, 1, Guarantee::unordered}};
  for (const auto& k : kinds) {
    RecordHeader h;
    h.ring = {7, 3};
    h.seq = k.seq;
    h.position = k.position;
    h.sender = 11;
    h.sender_pid = 4242;
    h.group = 3;
    h.payload_bytes = k.payload;
    h.batch_index = k.batch_index;
    h.guarantee = k.g;
    ringcast::fuzz::Writer w;
    write_header(w, h);
    w.u8(0).u8(0);  // crc recomputed, no patch
    seeds.push_back(w.take());
  }
  // One that flips a byte of the seq: refused unless the crc follows it.
  std::vector<std::byte> flipped = seeds[1];
  flipped[flipped.size() - 1] = std::byte{1};
  for (std::uint8_t b : {std::uint8_t{16}, std::uint8_t{0x55}})
    flipped.push_back(std::byte{b});
  seeds.push_back(flipped);
  return seeds;
}

RINGCAST_FUZZ_SEEDS()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringcast::ring;
  ringcast::fuzz::Reader in(data, size);
  std::array<std::byte, kRecordHeaderBytes> bytes{};
  encode_record_header(read_header(in), bytes);
  const std::uint8_t options = in.u8();
  for (std::uint8_t n = in.u8(); n > 0 && !in.empty(); --n) {
    const std::uint8_t at = in.u8();
    bytes[at % kRecordHeaderBytes] = std::byte{in.u8()};
  }
  if ((options & 1) == 0) ringcast::fuzz::reseal_crc_at(bytes, kCrcAt);
  RecordHeader h;
  if (decode_record_header(bytes, kLimits, &h) != RecordFault::none) return 0;
  RC_ASSERT(h.ring == kLimits.ring);
  RC_ASSERT(h.payload_bytes <= kLimits.max_message_bytes);
  RC_ASSERT(record_span_bytes(h.payload_bytes) <= kLimits.log_bytes);
  RC_ASSERT(h.seq >= 1 && h.batch_index >= 1 && h.batch_index <= h.seq);
  RC_ASSERT(h.position % kRecordAlignBytes == 0);
  std::array<std::byte, kRecordHeaderBytes> again{};
  encode_record_header(h, again);
  RC_ASSERT(std::memcmp(again.data(), bytes.data(), kRecordHeaderBytes) == 0);
  return 0;
}
