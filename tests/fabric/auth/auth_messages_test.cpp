// The handshake's messages (fabric/auth/messages.hpp): layouts, round trips,
// and that every malformed or hostile input is refused with a reason.
#include <gtest/gtest.h>

#include <random>

#include "base/crc32c.hpp"
#include "base/wire.hpp"
#include "fabric/auth/messages.hpp"

namespace ringcast::fabric::auth {
namespace {

Nonce nonce_of(unsigned char seed) {
  Nonce n;
  for (std::size_t i = 0; i < n.size(); ++i)
    n[i] = std::byte{static_cast<unsigned char>(seed + i)};
  return n;
}

Tag tag_of(unsigned char seed) {
  Tag t;
  for (std::size_t i = 0; i < t.size(); ++i)
    t[i] = std::byte{static_cast<unsigned char>(seed * 3 + i)};
  return t;
}

ConnectInfo two_regions() {
  ConnectInfo info;
  info.node = 9;
  info.incarnation = 4;
  info.flags = 0x0201;
  info.region_count = 2;
  info.regions[0] = {0x7f0000001000ull, 1u << 23, 0xabcd};
  info.regions[1] = {0x7f0000900000ull, 8192, 0x1234};
  return info;
}

template <std::size_t N>
std::array<std::byte, N> flipped(std::array<std::byte, N> bytes, std::size_t bit) {
  bytes[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
  return bytes;
}

TEST(AuthMessages, SizesFitRdmaCmBudgets) {
  EXPECT_EQ(kProofBytes, kPrivateDataBudget);  // the proof uses all 56 bytes
  EXPECT_LE(kHelloBytes, kPrivateDataBudget);
  EXPECT_LE(kChallengeBytes, kRejectDataBudget);
  EXPECT_LE(kAcceptBytes, kAcceptDataBudget);
}

TEST(AuthMessages, HelloRoundTripsAndChecksItsCrc) {
  const Hello hello{7, 3, 0x55, nonce_of(1)};
  const auto bytes = encode(hello);
  auto back = decode_hello(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, hello);
  for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    EXPECT_FALSE(decode_hello(flipped(bytes, bit)).ok()) << "bit " << bit;
  }
}

TEST(AuthMessages, ChallengeRoundTrips) {
  const Challenge c{1, 2, 0xfffe, nonce_of(5), tag_of(6)};
  auto back = decode_challenge(encode(c));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, c);
}

TEST(AuthMessages, ProofRoundTripsRegionsAndFillsTheWholeBudget) {
  Proof p;
  p.ticket = 77;
  p.regions = two_regions();
  p.tag = tag_of(2);
  const ProofBytes bytes = encode(p);
  EXPECT_EQ(std::span(bytes).last(kTagBytes)[0], p.tag[0]);
  auto back = decode_proof(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->ticket, 77);
  EXPECT_EQ(back->regions.region_span()[1], two_regions().regions[1]);
  EXPECT_EQ(back->tag, p.tag);
}

TEST(AuthMessages, AcceptRoundTrips) {
  Accept a{two_regions(), tag_of(9)};
  auto back = decode_accept(encode(a));
  ASSERT_TRUE(back.ok()) << back.error().message();
  ConnectInfo expected = two_regions();
  EXPECT_EQ(back->info, expected);
  EXPECT_EQ(back->tag, a.tag);
}

TEST(AuthMessages, ComplaintRoundTripsAndChecksItsCrc) {
  Complaint c;
  c.ticket = 513;
  for (std::size_t i = 0; i < c.nonce.size(); ++i)
    c.nonce[i] = std::byte{static_cast<unsigned char>(0xa0 + i)};
  const auto bytes = encode(c);
  auto back = decode_complaint(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, c);
  for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    EXPECT_FALSE(decode_complaint(flipped(bytes, bit)).ok()) << "bit " << bit;
  }
}

TEST(AuthMessages, PaddingFromRdmaCmIsIgnored) {
  std::array<std::byte, kPrivateDataBudget> padded{};
  const auto hello = encode(Hello{7, 3, 0, nonce_of(1)});
  std::copy(hello.begin(), hello.end(), padded.begin());
  EXPECT_TRUE(decode_hello(padded).ok());
}

TEST(AuthMessages, WrongKindShortInputAndOtherVersionsSayWhat) {
  const auto hello = encode(Hello{7, 3, 0, nonce_of(1)});
  auto as_proof = decode_proof(hello);
  ASSERT_FALSE(as_proof.ok());
  EXPECT_NE(as_proof.error().detail.find("a hello message instead"), std::string::npos);
  auto short_one = decode_hello(std::span(hello).first(20));
  ASSERT_FALSE(short_one.ok());
  EXPECT_NE(short_one.error().detail.find("too short"), std::string::npos);
  auto other = hello;
  other[2] = std::byte{7};
  auto version = decode_hello(other);
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().code, Errc::refused);
  EXPECT_NE(version.error().detail.find("protocol version 7"), std::string::npos);
  EXPECT_FALSE(decode_hello(std::span<const std::byte>()).ok());
}

TEST(AuthMessages, ReservedBytesAndRegionBlocksAreChecked) {
  auto challenge = encode(Challenge{1, 2, 3, nonce_of(5), tag_of(6)});
  challenge[14] = std::byte{1};
  EXPECT_NE(decode_challenge(challenge).error().detail.find("reserved"), std::string::npos);
  Proof p;
  p.regions = two_regions();
  auto proof = encode(p);
  proof[6] = std::byte{3};  // region count 3
  EXPECT_NE(decode_proof(proof).error().detail.find("region count 3"), std::string::npos);
  p.regions.regions[0].addr = UINT64_MAX - 10;
  EXPECT_NE(decode_proof(encode(p)).error().detail.find("wraps"), std::string::npos);
  auto accept = encode(Accept{two_regions(), {}});
  accept[15] = std::byte{1};  // the region block's reserved byte
  EXPECT_FALSE(decode_accept(accept).ok());
}

// Random bytes, and random bytes behind a valid header of every kind: every
// decoder refuses or decodes, never crashes, and what it decodes re-encodes
// to the same bytes (one encoding per message).
TEST(AuthMessages, HostileInputNeverCrashesAndDecodesCanonically) {
  std::mt19937_64 rng(20240605);
  std::array<std::byte, 80> buffer;
  for (int round = 0; round < 200'000; ++round) {
    const std::size_t length = rng() % buffer.size();
    for (auto& b : buffer)
      b = std::byte{static_cast<unsigned char>(rng())};
    if (round % 2 == 0) put_setup_header(buffer.data(), static_cast<SetupKind>(1 + rng() % 6));
    if (round % 4 == 0) buffer[round % 16 + 20] = std::byte{0};  // make reserved bytes likelier 0
    const std::span<const std::byte> in(buffer.data(), length);
    if (auto h = decode_hello(in)) {
      EXPECT_TRUE(std::equal(in.begin(), in.begin() + kHelloBytes, encode(*h).begin()));
    }
    if (auto c = decode_challenge(in)) {
      EXPECT_TRUE(std::equal(in.begin(), in.begin() + kChallengeBytes, encode(*c).begin()));
    }
    if (auto p = decode_proof(in)) {
      EXPECT_TRUE(std::equal(in.begin(), in.begin() + kProofBytes, encode(*p).begin()));
    }
    if (auto a = decode_accept(in)) {
      EXPECT_TRUE(std::equal(in.begin(), in.begin() + kAcceptBytes, encode(*a).begin()));
    }
    (void)decode_complaint(in);
    (void)decode_connect_info(in);
  }
}

}  // namespace
}  // namespace ringcast::fabric::auth
