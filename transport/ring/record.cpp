#include "ring/record.hpp"

#include "base/assert.hpp"
#include "base/crc32c.hpp"
#include "base/wire.hpp"
#include "ring/log_space.hpp"

namespace ringcast::ring {
namespace {

constexpr std::size_t kCrcOffset = 60;

bool fields_possible(const RecordHeader& h) noexcept {
  if (h.guarantee > Guarantee::safe) return false;
  if (h.flags != 0) return false;
  if (h.seq == 0 || h.batch_index == 0 || h.batch_index > h.seq) return false;
  return h.position % kRecordAlignBytes == 0;
}

}  // namespace

void encode_record_header(const RecordHeader& h,
                          std::span<std::byte, kRecordHeaderBytes> out) noexcept {
  std::byte* p = out.data();
  wire::put<std::uint32_t>(p + 0, kRecordMagic);
  wire::put<std::uint32_t>(p + 4, h.ring.representative);
  wire::put<std::uint64_t>(p + 8, h.ring.epoch);
  wire::put<std::uint64_t>(p + 16, h.seq);
  wire::put<std::uint64_t>(p + 24, h.position);
  wire::put<std::uint32_t>(p + 32, h.sender);
  wire::put<std::uint32_t>(p + 36, h.sender_pid);
  wire::put<std::uint32_t>(p + 40, h.group);
  wire::put<std::uint32_t>(p + 44, h.payload_bytes);
  wire::put<std::uint32_t>(p + 48, h.batch_index);
  wire::put<std::uint8_t>(p + 52, static_cast<std::uint8_t>(h.guarantee));
  wire::put<std::uint8_t>(p + 53, h.flags);
  wire::put<std::uint16_t>(p + 54, kRecordVersion);
  wire::put<std::uint32_t>(p + 56, h.payload_crc);
  wire::put<std::uint32_t>(p + kCrcOffset, crc32c(out.first(kCrcOffset)));
}

RecordFault decode_record_header(std::span<const std::byte> bytes, const RecordLimits& limits,
                                 RecordHeader* out) noexcept {
  if (bytes.size() < kRecordHeaderBytes) return RecordFault::truncated;
  const std::byte* p = bytes.data();
  if (wire::get<std::uint32_t>(p) != kRecordMagic) return RecordFault::bad_magic;
  if (wire::get<std::uint32_t>(p + kCrcOffset) != crc32c(bytes.first(kCrcOffset))) {
    return RecordFault::bad_checksum;
  }
  if (wire::get<std::uint16_t>(p + 54) != kRecordVersion) return RecordFault::bad_version;
  RecordHeader h;
  h.ring = {wire::get<std::uint32_t>(p + 4), wire::get<std::uint64_t>(p + 8)};
  if (h.ring != limits.ring) return RecordFault::wrong_ring;
  h.seq = wire::get<std::uint64_t>(p + 16);
  h.position = wire::get<std::uint64_t>(p + 24);
  h.sender = wire::get<std::uint32_t>(p + 32);
  h.sender_pid = wire::get<std::uint32_t>(p + 36);
  h.group = wire::get<std::uint32_t>(p + 40);
  h.payload_bytes = wire::get<std::uint32_t>(p + 44);
  h.batch_index = wire::get<std::uint32_t>(p + 48);
  h.guarantee = static_cast<Guarantee>(wire::get<std::uint8_t>(p + 52));
  h.flags = wire::get<std::uint8_t>(p + 53);
  h.payload_crc = wire::get<std::uint32_t>(p + 56);
  if (h.payload_bytes > limits.max_message_bytes ||
      record_span_bytes(h.payload_bytes) > limits.log_bytes) {
    return RecordFault::bad_length;
  }
  if (!fields_possible(h)) return RecordFault::bad_field;
  if (h.position > kMaxLogPosition - record_span_bytes(h.payload_bytes)) {
    return RecordFault::bad_field;  // would end where the log's arithmetic could wrap
  }
  // Records never straddle the end of the log (the writer skips to the wrap).
  if (h.position % limits.log_bytes + record_span_bytes(h.payload_bytes) > limits.log_bytes) {
    return RecordFault::wrong_position;
  }
  *out = h;
  return RecordFault::none;
}

bool payload_intact(const RecordHeader& header, std::span<const std::byte> payload) noexcept {
  RC_ASSERT(payload.size() == header.payload_bytes);
  return crc32c(payload) == header.payload_crc;
}

const char* record_fault_name(RecordFault fault) noexcept {
  switch (fault) {
    case RecordFault::none:
      return "none";
    case RecordFault::truncated:
      return "truncated";
    case RecordFault::bad_magic:
      return "bad magic";
    case RecordFault::bad_checksum:
      return "bad checksum";
    case RecordFault::bad_version:
      return "bad version";
    case RecordFault::wrong_ring:
      return "wrong ring";
    case RecordFault::bad_length:
      return "bad length";
    case RecordFault::bad_field:
      return "bad field";
    case RecordFault::wrong_seq:
      return "wrong seq";
    case RecordFault::wrong_position:
      return "wrong position";
    case RecordFault::duplicate:
      return "duplicate";
    case RecordFault::wrong_link:
      return "wrong link";
    case RecordFault::bad_payload:
      return "bad payload checksum";
  }
  return "unknown";
}

}  // namespace ringcast::ring
