// The group control message codec and group keys.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "group_test_names.hpp"
#include "groups/group_message.hpp"

namespace ringcast::groups {
namespace {

std::vector<std::byte> encode(const GroupMessage& m) {
  std::vector<std::byte> out(kMaxGroupMessageBytes);
  out.resize(encode_group_message(m, out));
  return out;
}

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values)
    out.push_back(static_cast<std::byte>(v));
  return out;
}

GroupMessageFault fault_of(const std::vector<std::byte>& payload) {
  auto r = decode_group_message(payload);
  EXPECT_FALSE(r.ok());
  return r.ok() ? GroupMessageFault::truncated : r.error().fault;
}

TEST(GroupControl, EncodesTheDocumentedLayout) {
  EXPECT_EQ(encode({GroupMessageKind::leave, "ab"}), bytes({0xC9, 1, 2, 0, 2, 0, 'a', 'b'}));
  EXPECT_EQ(encode({GroupMessageKind::finalize, std::string(128, 'x')}).size(),
            kGroupMessageHeaderBytes + kMaxNameBytes);
  EXPECT_EQ(encode({GroupMessageKind::announce, std::string(128, 'x'), 1, 2}).size(),
            kMaxGroupMessageBytes);
  EXPECT_EQ(encode({GroupMessageKind::announce, "g", 0x01020304, 0x05}),
            bytes({0xC9, 1, 4, 0, 1, 0, 'g', 4, 3, 2, 1, 5, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(encode({GroupMessageKind::announce_done, "", 7, 9}),
            bytes({0xC9, 1, 5, 0, 0, 0, 7, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(GroupControl, RoundTripsEveryKindAndBinaryNames) {
  std::string binary = "a";
  binary += '\0';
  binary += "\xff\x80z";
  const std::string names[] = {"g", binary, std::string(128, '\xfe'), std::string(127, '\0')};
  for (GroupMessageKind kind :
       {GroupMessageKind::join, GroupMessageKind::leave, GroupMessageKind::finalize}) {
    for (const std::string& name : names) {
      const GroupMessage m{kind, name};
      auto decoded = decode_group_message(encode(m));
      ASSERT_TRUE(decoded.ok()) << decoded.error().message();
      EXPECT_EQ(*decoded, m);
    }
  }
}

TEST(GroupControl, RefusesShortHeaders) {
  const auto full = encode({GroupMessageKind::join, "g"});
  for (std::size_t n = 0; n < kGroupMessageHeaderBytes; ++n) {
    EXPECT_EQ(fault_of({full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n)}),
              GroupMessageFault::truncated)
        << n << " bytes";
  }
}

TEST(GroupControl, RefusesEachBadHeaderField) {
  EXPECT_EQ(fault_of(bytes({0xC8, 1, 1, 0, 1, 0, 'g'})), GroupMessageFault::bad_magic);
  EXPECT_EQ(fault_of(bytes({0xC9, 0, 1, 0, 1, 0, 'g'})), GroupMessageFault::bad_version);
  EXPECT_EQ(fault_of(bytes({0xC9, 2, 1, 0, 1, 0, 'g'})), GroupMessageFault::bad_version);
  for (int kind : {0, 6, 255})
    EXPECT_EQ(fault_of(bytes({0xC9, 1, kind, 0, 1, 0, 'g'})), GroupMessageFault::bad_kind) << kind;
  EXPECT_EQ(fault_of(bytes({0xC9, 1, 1, 0x80, 1, 0, 'g'})), GroupMessageFault::bad_flags);
}

TEST(GroupControl, RefusesBadNameLengths) {
  EXPECT_EQ(fault_of(bytes({0xC9, 1, 1, 0, 0, 0})), GroupMessageFault::empty_name);
  EXPECT_EQ(fault_of(bytes({0xC9, 1, 1, 0, 0, 0, 'g'})), GroupMessageFault::empty_name);
  // 129 bytes announced and present: too long, whatever follows.
  std::vector<std::byte> long_name = bytes({0xC9, 1, 1, 0, 129, 0});
  long_name.resize(kGroupMessageHeaderBytes + 129, std::byte{'n'});
  EXPECT_EQ(fault_of(long_name), GroupMessageFault::name_too_long);
  EXPECT_EQ(fault_of(bytes({0xC9, 1, 1, 0, 0xFF, 0xFF, 'g'})), GroupMessageFault::name_too_long);
  EXPECT_EQ(fault_of(bytes({0xC9, 1, 1, 0, 3, 0, 'a', 'b'})), GroupMessageFault::name_truncated);
  EXPECT_EQ(fault_of(bytes({0xC9, 1, 1, 0, 1, 0})), GroupMessageFault::name_truncated);
  EXPECT_EQ(fault_of(bytes({0xC9, 1, 1, 0, 1, 0, 'a', 'b'})), GroupMessageFault::trailing_bytes);
}

TEST(GroupControl, AnnounceKindsCarryTheirRing) {
  for (const GroupMessage& m : {GroupMessage{GroupMessageKind::announce, "g\0x", 3, 1ull << 40},
                                GroupMessage{GroupMessageKind::announce_done, "", 0xFFFFFFFF, 1}}) {
    auto decoded = decode_group_message(encode(m));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, m);
  }
  // announce needs a name, announce_done has none; both need all 12 ring bytes.
  EXPECT_EQ(fault_of(bytes({0xC9, 1, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0})),
            GroupMessageFault::empty_name);
  EXPECT_EQ(fault_of(bytes({0xC9, 1, 5, 0, 1, 0, 'g', 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0})),
            GroupMessageFault::unexpected_name);
  std::vector<std::byte> full = encode({GroupMessageKind::announce, "g", 1, 1});
  for (std::size_t n = kGroupMessageHeaderBytes + 1; n < full.size(); ++n) {
    EXPECT_EQ(fault_of(std::vector<std::byte>(full.begin(), full.begin() + n)),
              GroupMessageFault::ring_truncated)
        << n;
  }
  full.push_back(std::byte{0});
  EXPECT_EQ(fault_of(full), GroupMessageFault::trailing_bytes);
  EXPECT_EQ(fault_of(bytes({0xC9, 1, 5, 0, 0, 0})), GroupMessageFault::ring_truncated);
}

TEST(GroupControl, ErrorMessagesArePrintableAndNameTheFault) {
  auto r = decode_group_message(bytes({0xC9, 1, 1, 0, 3, 0, '\x1b', '\n'}));
  ASSERT_FALSE(r.ok());
  const std::string text = r.error().message();
  EXPECT_EQ(text, "group control message refused: name_truncated (payload of 8 bytes)");
  for (char c : text)
    EXPECT_TRUE(c >= 0x20 && c < 0x7f);
}

TEST(GroupControl, ValidNamesAreOneTo128Bytes) {
  EXPECT_FALSE(valid_group_name(""));
  EXPECT_TRUE(valid_group_name("x"));
  EXPECT_TRUE(valid_group_name(std::string(128, 'x')));
  EXPECT_FALSE(valid_group_name(std::string(129, 'x')));
}

TEST(GroupKey, IsTheCrc32cOfTheNameBytes) {
  EXPECT_EQ(group_key("123456789"), 0xE3069283u);  // the CRC-32C check value
  EXPECT_NE(group_key(std::string("a\0b", 3)), group_key(std::string("a\0c", 3)));
}

TEST(GroupKey, NeverUsesTheControlGroup) {
  // A name whose crc32c is 0 would be a control record: it takes key 1, and
  // so shares it with names whose crc32c is 1.
  auto zero = testing::name_with_crc("zero-", 0);
  auto one = testing::name_with_crc("one-", 1);
  ASSERT_TRUE(zero && one);
  EXPECT_EQ(testing::crc_of(*zero), 0u);
  EXPECT_EQ(group_key(*zero), 1u);
  EXPECT_EQ(group_key(*one), 1u);
}

}  // namespace
}  // namespace ringcast::groups
