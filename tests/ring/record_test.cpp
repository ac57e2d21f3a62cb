#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

#include "base/crc32c.hpp"
#include "base/wire.hpp"
#include "ring/log_space.hpp"
#include "ring/record.hpp"

namespace ringcast::ring {
namespace {

constexpr RecordLimits kLimits{{7, 3}, 1u << 16, 4096};

RecordHeader sample() {
  RecordHeader h;
  h.ring = {7, 3};
  h.seq = 1234;
  h.position = 64 * 100;
  h.sender = 9;
  h.sender_pid = 4242;
  h.group = 17;
  h.payload_bytes = 1000;
  h.batch_index = 5;
  h.guarantee = Guarantee::safe;
  return h;
}

std::array<std::byte, kRecordHeaderBytes> encoded(const RecordHeader& h) {
  std::array<std::byte, kRecordHeaderBytes> out{};
  encode_record_header(h, out);
  return out;
}

// Rewrites one field and fixes the checksum, so only the field is wrong.
template <class T>
std::array<std::byte, kRecordHeaderBytes> with_field(std::size_t at, T value) {
  auto bytes = encoded(sample());
  wire::put<T>(bytes.data() + at, value);
  wire::put<std::uint32_t>(bytes.data() + 60, crc32c(std::span(bytes).first(60)));
  return bytes;
}

RecordFault decode(std::span<const std::byte> bytes, RecordLimits limits = kLimits) {
  RecordHeader out;
  return decode_record_header(bytes, limits, &out);
}

TEST(Record, RoundTrips) {
  auto bytes = encoded(sample());
  RecordHeader out;
  ASSERT_EQ(decode_record_header(bytes, kLimits, &out), RecordFault::none);
  EXPECT_EQ(out, sample());
}

TEST(Record, SpanIsHeaderPlusPayloadRoundedTo64) {
  EXPECT_EQ(record_span_bytes(0), 64u);
  EXPECT_EQ(record_span_bytes(1), 128u);
  EXPECT_EQ(record_span_bytes(64), 128u);
  EXPECT_EQ(record_span_bytes(65), 192u);
}

TEST(Record, RefusesEveryWrongField) {
  EXPECT_EQ(decode(with_field<std::uint32_t>(0, 0xdeadbeef)), RecordFault::bad_magic);
  EXPECT_EQ(decode(with_field<std::uint32_t>(4, 8)), RecordFault::wrong_ring);
  EXPECT_EQ(decode(with_field<std::uint64_t>(8, 4)), RecordFault::wrong_ring);
  EXPECT_EQ(decode(with_field<std::uint64_t>(16, 0)), RecordFault::bad_field);      // seq 0
  EXPECT_EQ(decode(with_field<std::uint64_t>(16, 4)), RecordFault::bad_field);      // index > seq
  EXPECT_EQ(decode(with_field<std::uint64_t>(24, 65)), RecordFault::bad_field);     // unaligned
  EXPECT_EQ(decode(with_field<std::uint32_t>(44, 4097)), RecordFault::bad_length);  // > max
  EXPECT_EQ(decode(with_field<std::uint32_t>(44, 0xFFFFFFFF)), RecordFault::bad_length);
  EXPECT_EQ(decode(with_field<std::uint32_t>(48, 0)), RecordFault::bad_field);  // index 0
  EXPECT_EQ(decode(with_field<std::uint8_t>(52, 4)), RecordFault::bad_field);   // guarantee
  EXPECT_EQ(decode(with_field<std::uint8_t>(53, 1)), RecordFault::bad_field);   // flags
  EXPECT_EQ(decode(with_field<std::uint16_t>(54, 1)), RecordFault::bad_version);
}

TEST(Record, RefusesALengthBeyondTheLog) {
  RecordLimits small = kLimits;
  small.log_bytes = 1024;  // max_message 4096 would be allowed, the log is smaller
  EXPECT_EQ(decode(with_field<std::uint32_t>(44, 1000), small), RecordFault::bad_length);
}

// A position whose record would end beyond the bound (where adding a log
// length could wrap a u64) is refused, wherever its offset falls.
TEST(Record, RefusesAPositionNearTheEndOfTheU64Range) {
  EXPECT_EQ(decode(with_field<std::uint64_t>(24, UINT64_MAX - (1u << 16) + 1)),
            RecordFault::bad_field);
  EXPECT_EQ(decode(with_field<std::uint64_t>(24, kMaxLogPosition)), RecordFault::bad_field);
  EXPECT_EQ(decode(with_field<std::uint64_t>(24, kMaxLogPosition - (1u << 16))), RecordFault::none);
}

TEST(Record, RefusesARecordStraddlingTheEndOfTheLog) {
  // 1000 payload bytes take 1088; at offset 65536 - 64 they would straddle.
  EXPECT_EQ(decode(with_field<std::uint64_t>(24, (1u << 16) * 3 - 64)),
            RecordFault::wrong_position);
}

TEST(Record, RefusesTruncatedInput) {
  auto bytes = encoded(sample());
  for (std::size_t n = 0; n < kRecordHeaderBytes; ++n) {
    EXPECT_EQ(decode(std::span(bytes).first(n)), RecordFault::truncated) << n;
  }
}

TEST(Record, EveryFlippedBitIsCaught) {
  const auto good = encoded(sample());
  for (std::size_t bit = 0; bit < kRecordHeaderBytes * 8; ++bit) {
    auto bytes = good;
    bytes[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
    EXPECT_NE(decode(bytes), RecordFault::none) << "bit " << bit;
  }
}

TEST(Record, RandomBytesAreRefusedWithoutCrashing) {
  std::mt19937_64 rng(42);
  std::array<std::byte, kRecordHeaderBytes> bytes{};
  int accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    for (auto& b : bytes)
      b = std::byte{static_cast<unsigned char>(rng())};
    if (i % 2 == 0) wire::put<std::uint32_t>(bytes.data(), kRecordMagic);  // get past the magic
    accepted += decode(bytes) == RecordFault::none;
  }
  EXPECT_EQ(accepted, 0);
}

TEST(Record, PayloadChecksumTravelsInTheHeaderAndCatchesEveryFlippedBit) {
  std::vector<std::byte> payload(1000);
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = std::byte(i * 7);
  RecordHeader h = sample();
  h.payload_crc = crc32c(payload);
  RecordHeader out;
  ASSERT_EQ(decode_record_header(encoded(h), kLimits, &out), RecordFault::none);
  EXPECT_EQ(out.payload_crc, h.payload_crc);
  EXPECT_TRUE(payload_intact(out, payload));
  for (std::size_t bit = 0; bit < payload.size() * 8; bit += 13) {
    auto bad = payload;
    bad[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
    EXPECT_FALSE(payload_intact(out, bad)) << "bit " << bit;
  }
}

TEST(Record, EmptyPayloadChecksumIsZero) {
  RecordHeader h = sample();
  h.payload_bytes = 0;
  EXPECT_TRUE(payload_intact(h, {}));
  h.payload_crc = 1;
  EXPECT_FALSE(payload_intact(h, {}));
}

TEST(Record, FaultsHaveNames) {
  EXPECT_STREQ(record_fault_name(RecordFault::bad_payload), "bad payload checksum");
  EXPECT_STREQ(record_fault_name(RecordFault::bad_checksum), "bad checksum");
  EXPECT_STREQ(record_fault_name(RecordFault::duplicate), "duplicate");
}

}  // namespace
}  // namespace ringcast::ring
