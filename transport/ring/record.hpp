// A record: one message in a receive log, a 64-byte header then the payload,
// padded to the 64-byte alignment. The header says what the record is and
// where it belongs; it arrives from a peer, so it is validated before any of
// it is used (decode_record_header), and a record that fails is dropped and
// counted, never trusted. The payload has a checksum of its own, checked
// before delivery (payload_intact): the header CRC does not cover it, and
// deliveries are read in place from remotely writable memory.
//
// Header layout (little-endian, 64 bytes):
//    0 u32 magic "RCR1"           4 u32 ring representative
//    8 u64 ring epoch            16 u64 seq (per ring, from 1)
//   24 u64 position (global byte position; log offset = position % log size)
//   32 u32 sender node           36 u32 sender process id
//   40 u32 group id              44 u32 payload bytes
//   48 u32 batch index: 1-based index of the record in the batch (the
//          records one token visit sent); the batch's last record names the
//          batch size, so its first seq is seq - batch_index + 1
//   52 u8  guarantee             53 u8 flags (none defined: 0)
//   54 u16 version (2)           56 u32 crc32c of the payload bytes
//   60 u32 crc32c of bytes 0..59
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "fabric/fabric.hpp"
#include "ring/ring_id.hpp"

namespace ringcast::ring {

inline constexpr std::size_t kRecordHeaderBytes = 64;
inline constexpr std::size_t kRecordAlignBytes = 64;
inline constexpr std::uint32_t kRecordMagic = 0x31524352;  // "RCR1"
inline constexpr std::uint16_t kRecordVersion = 2;

// Ordered from weakest to strongest. UNORDERED and FIFO are delivered as
// AGREED (in total order); SAFE waits until every member holds the record.
enum class Guarantee : std::uint8_t { unordered = 0, fifo = 1, agreed = 2, safe = 3 };

struct RecordHeader {
  RingId ring;
  std::uint64_t seq = 0;
  std::uint64_t position = 0;
  fabric::NodeId sender = 0;
  std::uint32_t sender_pid = 0;
  std::uint32_t group = 0;
  std::uint32_t payload_bytes = 0;
  std::uint32_t batch_index = 1;
  Guarantee guarantee = Guarantee::agreed;
  std::uint8_t flags = 0;
  std::uint32_t payload_crc = 0;  // crc32c of the payload (of nothing: 0)

  friend bool operator==(const RecordHeader&, const RecordHeader&) = default;
};

// Bytes a record with this payload occupies in the log (header, payload,
// padding to the alignment).
constexpr std::uint64_t record_span_bytes(std::uint64_t payload_bytes) noexcept {
  return (kRecordHeaderBytes + payload_bytes + kRecordAlignBytes - 1) / kRecordAlignBytes *
         kRecordAlignBytes;
}

void encode_record_header(const RecordHeader& header,
                          std::span<std::byte, kRecordHeaderBytes> out) noexcept;

// Why a header was refused. The receiver counts these; tests read them.
enum class RecordFault : std::uint8_t {
  none,
  truncated,  // fewer than 64 bytes to read
  bad_magic,
  bad_checksum,
  bad_version,
  wrong_ring,      // a record of another ring (an older or foreign one)
  bad_length,      // payload beyond the configured maximum or the log
  bad_field,       // guarantee, flags or batch index impossible
  wrong_seq,       // not the seq the receiver expected here
  wrong_position,  // position does not match where it was found
  duplicate,       // a batch the receiver already has
  wrong_link,      // its sender is not the peer whose link it came on
  bad_payload,     // the payload's bytes do not match its checksum
};

const char* record_fault_name(RecordFault fault) noexcept;

struct RecordLimits {
  RingId ring;
  std::uint64_t log_bytes = 0;
  std::uint32_t max_message_bytes = 0;
};

// Checks everything the header alone can tell: length of the input, magic,
// checksum, version, ring id, field ranges, payload within the limits. The
// caller checks what depends on where it found the header (seq, position).
// Fills *out only when it returns RecordFault::none.
RecordFault decode_record_header(std::span<const std::byte> bytes, const RecordLimits& limits,
                                 RecordHeader* out) noexcept;

// The payload that follows a decoded header matches its checksum.
bool payload_intact(const RecordHeader& header, std::span<const std::byte> payload) noexcept;

}  // namespace ringcast::ring
