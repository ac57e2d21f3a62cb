#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/crc32c.hpp"
#include "base/result.hpp"
#include "base/wire.hpp"

namespace ringcast {
namespace {

TEST(Crc32c, MatchesTheStandardCheckValue) {
  // The CRC-32C check value of "123456789" (RFC 3720, appendix B.4).
  // Long buffers take the three-stream path, joined by the zero-shift tables.
  std::vector<std::byte> big(3 * 3 * 8192 + 3 * 256 * 2 + 13);
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<std::byte>((i * 2654435761u) >> 13);
  for (std::size_t length : {767u, 768u, 769u, 1536u, 24575u, 24576u, 24577u, 40000u}) {
    const auto piece = std::span<const std::byte>(big).subspan(5, length);
    ASSERT_EQ(crc32c(piece, 0x12345678), crc32c_portable(piece, 0x12345678)) << length;
  }
  ASSERT_EQ(crc32c(big), crc32c_portable(big));
  const char* text = "123456789";
  auto bytes = std::as_bytes(std::span(text, std::strlen(text)));
  EXPECT_EQ(crc32c(bytes), 0xE3069283u);
}

TEST(Crc32c, ChainsWithASeed) {
  // Long buffers take the three-stream path, joined by the zero-shift tables.
  std::vector<std::byte> big(3 * 3 * 8192 + 3 * 256 * 2 + 13);
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<std::byte>((i * 2654435761u) >> 13);
  for (std::size_t length : {767u, 768u, 769u, 1536u, 24575u, 24576u, 24577u, 40000u}) {
    const auto piece = std::span<const std::byte>(big).subspan(5, length);
    ASSERT_EQ(crc32c(piece, 0x12345678), crc32c_portable(piece, 0x12345678)) << length;
  }
  ASSERT_EQ(crc32c(big), crc32c_portable(big));
  const char* text = "123456789";
  auto all = std::as_bytes(std::span(text, 9));
  EXPECT_EQ(crc32c(all.subspan(4), crc32c(all.first(4))), crc32c(all));
}

// Whichever path crc32c() takes (the crc32 instruction or the table), it
// gives the table's value for every length, alignment and seed: the 8-byte
// steps and the byte tail must join up.
TEST(Crc32c, EveryPathAgreesWithTheTable) {
  std::vector<std::byte> data(300);
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<std::byte>((i * 167 + 13) & 0xFF);
  const auto all = std::span<const std::byte>(data);
  for (std::size_t offset = 0; offset < 9; ++offset) {
    for (std::size_t length = 0; length + offset <= all.size(); length += 7) {
      const auto piece = all.subspan(offset, length);
      ASSERT_EQ(crc32c(piece), crc32c_portable(piece)) << offset << " " << length;
      ASSERT_EQ(crc32c(piece, 0xDEADBEEF), crc32c_portable(piece, 0xDEADBEEF));
    }
  }
  // Long buffers take the three-stream path, joined by the zero-shift tables.
  std::vector<std::byte> big(3 * 3 * 8192 + 3 * 256 * 2 + 13);
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<std::byte>((i * 2654435761u) >> 13);
  for (std::size_t length : {767u, 768u, 769u, 1536u, 24575u, 24576u, 24577u, 40000u}) {
    const auto piece = std::span<const std::byte>(big).subspan(5, length);
    ASSERT_EQ(crc32c(piece, 0x12345678), crc32c_portable(piece, 0x12345678)) << length;
  }
  ASSERT_EQ(crc32c(big), crc32c_portable(big));
  const char* text = "123456789";
  EXPECT_EQ(crc32c_portable(std::as_bytes(std::span(text, 9))), 0xE3069283u);
  std::printf("crc32c path: %s\n", crc32c_hardware() ? "crc32 instruction" : "byte table");
}

TEST(Result, CarriesValueOrError) {
  Result<int> good = 42;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);

  Result<int> bad = system_error("ibv_reg_mr", ENOMEM, "region of 4096 bytes");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::system);
  EXPECT_EQ(bad.error().message(), "ibv_reg_mr: " + std::string(std::strerror(ENOMEM)) +
                                       " (errno 12): region of 4096 bytes");
}

TEST(Result, MessageWithoutErrnoNamesTheKind) {
  Error e = make_error(Errc::port_down, "rxe0 port 1", "state DOWN");
  EXPECT_EQ(e.message(), "rxe0 port 1: port down: state DOWN");
}

Status fails_then_propagates(bool fail) {
  auto inner = [&]() -> Status {
    if (fail) return make_error(Errc::timeout, "inner");
    return {};
  };
  RC_TRY(inner());
  return {};
}

TEST(Result, TryPropagatesTheFirstError) {
  EXPECT_TRUE(fails_then_propagates(false).ok());
  Status s = fails_then_propagates(true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::timeout);
  EXPECT_EQ(s.error().call, "inner");
}

TEST(Wire, RoundTripsLittleEndian) {
  std::byte buf[8];
  wire::put<std::uint32_t>(buf, 0x11223344u);
  EXPECT_EQ(static_cast<unsigned>(buf[0]), 0x44u);
  EXPECT_EQ(wire::get<std::uint32_t>(buf), 0x11223344u);
  wire::put<std::uint64_t>(buf, 0x0102030405060708ull);
  EXPECT_EQ(wire::get<std::uint64_t>(buf), 0x0102030405060708ull);
}

}  // namespace
}  // namespace ringcast
