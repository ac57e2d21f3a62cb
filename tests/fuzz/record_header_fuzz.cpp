// Fuzzes the ring's record-header decoder (ring/record.hpp): whatever a peer
// (or a torn write) leaves in a receive log, decode_record_header refuses it
// or returns a header within the limits that re-encodes to the same bytes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "base/assert.hpp"
#include "ring/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringcast::ring;
  const RecordLimits limits{RingId{7, 3}, 1u << 20, 64u << 10};
  const auto bytes = std::as_bytes(std::span(data, size));
  RecordHeader h;
  if (decode_record_header(bytes, limits, &h) != RecordFault::none) return 0;
  RC_ASSERT(size >= kRecordHeaderBytes);
  RC_ASSERT(h.ring == limits.ring);
  RC_ASSERT(h.payload_bytes <= limits.max_message_bytes);
  RC_ASSERT(record_span_bytes(h.payload_bytes) <= limits.log_bytes);
  std::array<std::byte, kRecordHeaderBytes> again{};
  encode_record_header(h, again);
  RC_ASSERT(std::memcmp(again.data(), data, kRecordHeaderBytes) == 0);
  return 0;
}
