#include <gtest/gtest.h>

#include "base/crc32c.hpp"
#include "base/wire.hpp"
#include "fabric/connect_info.hpp"

namespace ringcast::fabric {
namespace {

ConnectInfo sample() {
  ConnectInfo info;
  info.node = 7;
  info.incarnation = 3;
  info.flags = 0x0102;
  info.region_count = 2;
  info.regions[0] = {0x7f0000001000ull, 1u << 20, 0xabcd};
  info.regions[1] = {0x7f0000200000ull, 4096, 0x1234};
  return info;
}

TEST(ConnectInfo, RoundTrips) {
  auto bytes = encode(sample());
  auto decoded = decode_connect_info(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message();
  EXPECT_EQ(*decoded, sample());
}

TEST(ConnectInfo, AcceptsTrailingPaddingFromRdmaCm) {
  std::array<std::byte, kPrivateDataBudget> padded{};
  auto bytes = encode(sample());
  std::copy(bytes.begin(), bytes.end(), padded.begin());
  EXPECT_TRUE(decode_connect_info(padded).ok());
}

TEST(ConnectInfo, RefusesOtherVersionsClearly) {
  ConnectInfo info = sample();
  info.version = ConnectInfo::kVersion + 1;
  auto decoded = decode_connect_info(encode(info));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, Errc::refused);
  EXPECT_NE(decoded.error().message().find("protocol version 3, this side speaks 2"),
            std::string::npos);
}

// Version 1 had a u16 version at offset 2: it reads as version 1 here.
TEST(ConnectInfo, NamesAVersionOnePeer) {
  auto bytes = encode(sample());
  bytes[2] = std::byte{1};
  bytes[3] = std::byte{0};
  auto decoded = decode_connect_info(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message().find("protocol version 1"), std::string::npos);
}

TEST(ConnectInfo, RefusesAnotherKindOfMessage) {
  auto bytes = encode(sample());
  bytes[3] = std::byte{static_cast<unsigned char>(SetupKind::proof)};
  auto decoded = decode_connect_info(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, Errc::protocol);
  EXPECT_NE(decoded.error().detail.find("a proof message"), std::string::npos);
  bytes[3] = std::byte{9};
  EXPECT_NE(decode_connect_info(bytes).error().detail.find("unknown message kind 9"),
            std::string::npos);
}

TEST(ConnectInfo, RefusesBytesInUnusedRegionSlots) {
  ConnectInfo info = sample();
  info.region_count = 1;
  auto bytes = encode(info);
  bytes[40] = std::byte{1};  // inside the second (unused) slot
  auto crc = crc32c({bytes.data(), 48});
  wire::put<std::uint32_t>(bytes.data() + 48, crc);
  auto decoded = decode_connect_info(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().detail.find("bytes after the regions"), std::string::npos);
}

TEST(ConnectInfo, RejectsTruncatedInput) {
  auto bytes = encode(sample());
  auto decoded = decode_connect_info(std::span(bytes).first(20));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, Errc::protocol);
}

TEST(ConnectInfo, RejectsEveryFlippedBit) {
  const auto good = encode(sample());
  for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
    auto bad = good;
    bad[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
    auto decoded = decode_connect_info(bad);
    EXPECT_FALSE(decoded.ok()) << "bit " << bit;
  }
}

TEST(ConnectInfo, RejectsRegionCountBeyondTheLayout) {
  ConnectInfo info = sample();
  auto bytes = encode(info);
  bytes[14] = std::byte{3};
  // Re-seal the checksum so only the count is wrong.
  auto crc = crc32c({bytes.data(), 48});
  wire::put<std::uint32_t>(bytes.data() + 48, crc);
  auto decoded = decode_connect_info(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().detail.find("region count"), std::string::npos);
}

}  // namespace
}  // namespace ringcast::fabric
