#include <gtest/gtest.h>

#include <array>
#include <random>
#include <vector>

#include "base/crc32c.hpp"
#include "base/wire.hpp"
#include "ring/imm.hpp"
#include "ring/log_space.hpp"
#include "ring/token.hpp"

namespace ringcast::ring {
namespace {

constexpr RingId kRing{5, 11};

Token sample(std::uint16_t members = 3, std::uint16_t retransmits = 2) {
  Token t;
  t.ring = kRing;
  t.token_seq = 77;
  t.highest_seq = 500;
  t.next_position = 64 * 9000;
  t.fcc = 40;
  t.backlog = 12;
  t.member_count = members;
  t.retransmit_count = retransmits;
  for (std::size_t i = 0; i < members; ++i) {
    t.members[i] = {400 + i, 64 * (8000 + i)};
  }
  for (std::size_t i = 0; i < retransmits; ++i)
    t.retransmit[i] = 450 + i;
  return t;
}

std::vector<std::byte> encoded(const Token& t) {
  std::vector<std::byte> out(kMaxTokenBytes);
  out.resize(encode_token(t, out));
  return out;
}

TokenFault decode(std::span<const std::byte> bytes, std::size_t members = 3) {
  Token out;
  return decode_token(bytes, TokenLimits{kRing, members}, &out);
}

// Rewrites one field and fixes the checksum, so only the field is wrong.
template <class T>
std::vector<std::byte> with_field(std::size_t at, T value) {
  auto bytes = encoded(sample());
  wire::put<T>(bytes.data() + at, value);
  wire::put<std::uint32_t>(bytes.data() + bytes.size() - 4,
                           crc32c(std::span(bytes).first(bytes.size() - 4)));
  return bytes;
}

TEST(Token, RoundTripsForEveryMemberCount) {
  for (std::uint16_t members = 1; members <= kMaxMembers; ++members) {
    const Token t = sample(members, members % (kMaxRetransmitRequests + 1));
    auto bytes = encoded(t);
    EXPECT_EQ(bytes.size(), token_encoded_bytes(members, t.retransmit_count));
    Token out;
    ASSERT_EQ(decode_token(bytes, TokenLimits{kRing, members}, &out), TokenFault::none);
    EXPECT_EQ(out, t);
  }
}

// The token immediate names the checksum: the sender reads it from what it
// encoded, the reader gets it from the same read that checked the bytes.
TEST(Token, TheImmediateNamesTheChecksumTheReaderChecked) {
  const Token t = sample();
  auto bytes = encoded(t);
  const std::uint32_t imm = token_imm(3, encoded_token_checksum(bytes));
  EXPECT_EQ(imm_kind(imm), ImmKind::token);
  EXPECT_EQ(token_imm_slot(imm), 3u);
  Token out;
  std::uint32_t checksum = 0;
  ASSERT_EQ(decode_token(bytes, TokenLimits{kRing, 3}, &out, &checksum), TokenFault::none);
  EXPECT_TRUE(token_imm_matches(imm, checksum));
  Token other = t;
  other.members[0].received_up_to += 1;
  ASSERT_EQ(decode_token(encoded(other), TokenLimits{kRing, 3}, &out, &checksum), TokenFault::none);
  EXPECT_FALSE(token_imm_matches(imm, checksum));
}

TEST(Token, TheLargestFitsAMailboxSlot) {
  EXPECT_LE(kMaxTokenBytes, kTokenSlotBytes);
  EXPECT_EQ(kTokenSlotBytes % 64, 0u);
  EXPECT_EQ(encoded(sample(kMaxMembers, kMaxRetransmitRequests)).size(), kMaxTokenBytes);
}

TEST(Token, RefusesEveryWrongField) {
  EXPECT_EQ(decode(with_field<std::uint32_t>(0, 1)), TokenFault::bad_magic);
  EXPECT_EQ(decode(with_field<std::uint16_t>(4, 9)), TokenFault::bad_version);
  EXPECT_EQ(decode(with_field<std::uint32_t>(8, 6)), TokenFault::wrong_ring);
  EXPECT_EQ(decode(with_field<std::uint64_t>(16, 12)), TokenFault::wrong_ring);
  EXPECT_EQ(decode(with_field<std::uint64_t>(24, 0)), TokenFault::bad_field);  // token seq 0
  // A member claims to have received beyond the highest seq.
  EXPECT_EQ(decode(with_field<std::uint64_t>(32, 300)), TokenFault::bad_field);
  // A member claims to have released beyond the next position.
  EXPECT_EQ(decode(with_field<std::uint64_t>(40, 64)), TokenFault::bad_field);
  EXPECT_EQ(decode(with_field<std::uint64_t>(56, 1)), TokenFault::bad_field);  // reserved
  // A retransmit request for a seq never assigned, and for seq 0.
  EXPECT_EQ(decode(with_field<std::uint64_t>(64 + 3 * 16, 501)), TokenFault::bad_field);
  EXPECT_EQ(decode(with_field<std::uint64_t>(64 + 3 * 16, 0)), TokenFault::bad_field);
}

// Positions are record boundaries: aligned, and far enough below 2^64 that
// the log's arithmetic cannot wrap. A checksummed token that breaks this
// would make the holder place records no member accepts.
TEST(Token, RefusesAPositionNoRecordCanHave) {
  EXPECT_EQ(decode(with_field<std::uint64_t>(40, 64 * 9000 + 8)), TokenFault::bad_field);
  EXPECT_EQ(decode(with_field<std::uint64_t>(64 + 8, 64 * 8000 + 1)), TokenFault::bad_field);
  EXPECT_EQ(decode(with_field<std::uint64_t>(40, UINT64_MAX - 63)), TokenFault::bad_field);
  EXPECT_EQ(decode(with_field<std::uint64_t>(40, kMaxLogPosition + 64)), TokenFault::bad_field);
  EXPECT_EQ(decode(with_field<std::uint64_t>(40, kMaxLogPosition)), TokenFault::none);
}

TEST(Token, RefusesInconsistentCountsAndLengths) {
  // Counts that do not match the length (the checksum is fixed up each time).
  EXPECT_EQ(decode(with_field<std::uint16_t>(6, 100)), TokenFault::bad_length);
  EXPECT_EQ(decode(with_field<std::uint16_t>(12, 0)), TokenFault::bad_length);
  EXPECT_EQ(decode(with_field<std::uint16_t>(12, 65)), TokenFault::bad_length);
  EXPECT_EQ(decode(with_field<std::uint16_t>(14, 33)), TokenFault::bad_length);
  EXPECT_EQ(decode(with_field<std::uint16_t>(14, 3)), TokenFault::bad_length);
  // A well-formed token of a ring with a different member count.
  EXPECT_EQ(decode(encoded(sample()), 4), TokenFault::wrong_members);
}

TEST(Token, RefusesTruncatedInput) {
  auto bytes = encoded(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(decode(std::span(bytes).first(n)), TokenFault::truncated) << n;
  }
}

TEST(Token, EveryFlippedBitIsCaught) {
  const auto good = encoded(sample());
  for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
    auto bytes = good;
    bytes[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
    EXPECT_NE(decode(bytes), TokenFault::none) << "bit " << bit;
  }
}

TEST(Token, RandomBytesAreRefusedWithoutCrashing) {
  std::mt19937_64 rng(7);
  std::vector<std::byte> bytes(kTokenSlotBytes);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    for (auto& b : bytes)
      b = std::byte{static_cast<unsigned char>(rng())};
    if (i % 2 == 0) {  // get past the magic and the length checks
      wire::put<std::uint32_t>(bytes.data(), kTokenMagic);
      wire::put<std::uint16_t>(bytes.data() + 6,
                               static_cast<std::uint16_t>(token_encoded_bytes(3, 0)));
      wire::put<std::uint16_t>(bytes.data() + 12, 3);
      wire::put<std::uint16_t>(bytes.data() + 14, 0);
    }
    accepted += decode(bytes) == TokenFault::none;
  }
  EXPECT_EQ(accepted, 0);
}

}  // namespace
}  // namespace ringcast::ring
