// Membership's control messages: round trips, and every kind of hostile
// input refused (flipped bits, truncation, impossible fields, random bytes).
#include <gtest/gtest.h>

#include <vector>

#include "base/crc32c.hpp"
#include "base/wire.hpp"
#include "fabric/sim/random.hpp"
#include "membership/membership_message.hpp"

namespace ringcast::membership {
namespace {

const std::vector<NodeId> kNodes = {7, 11, 13, 42};

MembershipMessageLimits limits() {
  return MembershipMessageLimits{kNodes};
}

OldRingInfo info(std::uint64_t r) {
  return OldRingInfo{{7, 3}, r, r / 2, r * 64 + 128, 64, 5};
}

MembershipMessage join() {
  MembershipMessage m;
  m.type = MembershipMessageType::join;
  m.sender_index = 1;
  m.sender = 11;
  m.message_seq = 99;
  m.candidates = 0b1111;
  m.failed = 0b1000;
  m.reach = 0b0111;
  m.info_count = 1;
  m.infos[0] = info(10);
  return m;
}

MembershipMessage commit() {
  MembershipMessage m;
  m.type = MembershipMessageType::commit;
  m.sender_index = 0;
  m.sender = 7;
  m.message_seq = 5;
  m.ring = {7, 6};
  m.members = 0b0111;
  m.info_count = 3;
  for (std::size_t i = 0; i < 3; ++i)
    m.infos[i] = info(i + 1);
  return m;
}

MembershipMessage recovered() {
  MembershipMessage m;
  m.type = MembershipMessageType::recovered;
  m.sender_index = 2;
  m.sender = 13;
  m.message_seq = 1;
  m.ring = {7, 6};
  m.old_ring = {7, 3};
  m.through_seq = 40;
  m.end_position = 4096;
  return m;
}

std::vector<std::byte> encode(const MembershipMessage& m) {
  std::vector<std::byte> out(ring::kControlSlotBytes);
  out.resize(encode_membership_message(m, out));
  return out;
}

// Re-seals bytes whose fields a test changed, so the check behind the
// checksum is what refuses them.
void reseal(std::vector<std::byte>& b) {
  wire::put<std::uint32_t>(b.data() + b.size() - 4,
                           crc32c(std::span<const std::byte>(b).first(b.size() - 4)));
}

TEST(Control, RoundTripsEveryType) {
  for (const MembershipMessage& m : {join(), commit(), recovered()}) {
    auto bytes = encode(m);
    EXPECT_EQ(bytes.size(), membership_message_bytes(m.info_count));
    MembershipMessage out;
    ASSERT_EQ(decode_membership_message(bytes, limits(), &out), MembershipMessageFault::none);
    EXPECT_EQ(out.type, m.type);
    EXPECT_EQ(out.sender, m.sender);
    EXPECT_EQ(out.message_seq, m.message_seq);
    EXPECT_EQ(out.ring, m.ring);
    EXPECT_EQ(out.candidates, m.candidates);
    EXPECT_EQ(out.members, m.members);
    EXPECT_EQ(out.failed, m.failed);
    EXPECT_EQ(out.reach, m.reach);
    EXPECT_EQ(out.old_ring, m.old_ring);
    EXPECT_EQ(out.through_seq, m.through_seq);
    EXPECT_EQ(out.end_position, m.end_position);
    ASSERT_EQ(out.info_count, m.info_count);
    for (std::size_t i = 0; i < m.info_count; ++i)
      EXPECT_EQ(out.infos[i], m.infos[i]);
  }
  MembershipMessage ready;
  ready.type = MembershipMessageType::ready;
  ready.sender_index = 3;
  ready.sender = 42;
  ready.ring = {7, 6};
  MembershipMessage out;
  EXPECT_EQ(decode_membership_message(encode(ready), limits(), &out), MembershipMessageFault::none);
}

TEST(Control, EveryFlippedBitIsRefused) {
  for (const MembershipMessage& m : {join(), commit(), recovered()}) {
    const auto good = encode(m);
    for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
      auto bad = good;
      bad[bit / 8] ^= std::byte(1u << (bit % 8));
      MembershipMessage out;
      out.message_seq = 12345;
      EXPECT_NE(decode_membership_message(bad, limits(), &out), MembershipMessageFault::none)
          << "bit " << bit;
      EXPECT_EQ(out.message_seq, 12345u) << "filled on failure";
    }
  }
}

TEST(Control, EveryTruncationIsRefused) {
  const auto good = encode(commit());
  for (std::size_t n = 0; n < good.size(); ++n) {
    MembershipMessage out;
    EXPECT_NE(decode_membership_message(std::span(good).first(n), limits(), &out),
              MembershipMessageFault::none)
        << n;
  }
}

TEST(Control, ImpossibleFieldsAreRefused) {
  struct Case {
    const char* what;
    MembershipMessage m;
    MembershipMessageFault fault;
  };
  std::vector<Case> cases;
  auto add = [&](const char* what, MembershipMessage m, MembershipMessageFault f) {
    cases.push_back({what, m, f});
  };
  MembershipMessage m = join();
  m.sender = 12;
  add("sender not the node at its index", m, MembershipMessageFault::bad_sender);
  m = join();
  m.sender_index = 9;
  add("sender index outside the cluster", m, MembershipMessageFault::bad_sender);
  m = join();
  m.candidates = 0b10101;
  add("candidate outside the cluster", m, MembershipMessageFault::bad_field);
  m = join();
  m.failed = 0b0010;
  add("sender in its own failed set", m, MembershipMessageFault::bad_field);
  m = join();
  m.candidates = 0b0101;
  add("sender not among its candidates", m, MembershipMessageFault::bad_field);
  m = join();
  m.reach = 0b0101;
  add("sender not among the nodes it reaches", m, MembershipMessageFault::bad_field);
  m = join();
  m.reach = 0b10011;
  add("reaches a node outside the cluster", m, MembershipMessageFault::bad_field);
  m = join();
  m.infos[0].delivered = m.infos[0].received_up_to + 1;
  add("delivered beyond received", m, MembershipMessageFault::bad_field);
  m = join();
  m.infos[0].end_position += 1;
  add("unaligned end", m, MembershipMessageFault::bad_field);
  m = join();
  m.infos[0].end_position = UINT64_MAX - 63;  // a new ring's base there would wrap
  add("end beyond the log's range", m, MembershipMessageFault::bad_field);
  m = join();
  m.infos[0].released_position = m.infos[0].end_position + 64;
  add("released beyond the end", m, MembershipMessageFault::bad_field);
  m = join();
  m.infos[0].max_epoch = 2;
  add("ring newer than the epochs seen", m, MembershipMessageFault::bad_field);
  m = commit();
  m.sender_index = 1;
  m.sender = 11;
  add("commit not from the lowest member", m, MembershipMessageFault::bad_field);
  m = commit();
  m.ring.representative = 11;
  add("commit's ring not the sender's", m, MembershipMessageFault::bad_field);
  m = commit();
  m.ring.epoch = 5;
  add("commit epoch not above every epoch seen", m, MembershipMessageFault::bad_field);
  m = recovered();
  m.through_seq = 0;
  add("recovered through 0", m, MembershipMessageFault::bad_field);
  m = recovered();
  m.end_position = UINT64_MAX - 63;
  add("recovered end beyond the log's range", m, MembershipMessageFault::bad_field);
  m = recovered();
  m.members = 1;
  add("recovered with a mask", m, MembershipMessageFault::bad_field);
  for (const Case& c : cases) {
    MembershipMessage out;
    EXPECT_EQ(decode_membership_message(encode(c.m), limits(), &out), c.fault) << c.what;
  }
}

TEST(Control, CountsThatDoNotMatchAreRefused) {
  auto bytes = encode(commit());
  wire::put<std::uint64_t>(bytes.data() + 40, 0b1111);  // 4 members, 3 infos
  reseal(bytes);
  MembershipMessage out;
  EXPECT_EQ(decode_membership_message(bytes, limits(), &out), MembershipMessageFault::bad_field);
  bytes = encode(join());
  wire::put<std::uint16_t>(bytes.data() + 6, static_cast<std::uint16_t>(bytes.size() + 56));
  reseal(bytes);
  EXPECT_EQ(decode_membership_message(bytes, limits(), &out), MembershipMessageFault::bad_length);
  bytes = encode(join());
  wire::put<std::uint8_t>(bytes.data() + 8, 9);
  reseal(bytes);
  EXPECT_EQ(decode_membership_message(bytes, limits(), &out), MembershipMessageFault::bad_type);
  bytes = encode(join());
  wire::put<std::uint16_t>(bytes.data() + 4, 2);
  reseal(bytes);
  EXPECT_EQ(decode_membership_message(bytes, limits(), &out), MembershipMessageFault::bad_version);
  bytes = encode(join());
  wire::put<std::uint32_t>(bytes.data() + 28, 1);
  reseal(bytes);
  EXPECT_EQ(decode_membership_message(bytes, limits(), &out), MembershipMessageFault::bad_field);
}

TEST(Control, RandomBytesNeverDecode) {
  fabric::sim::SimRandom r(7);
  std::vector<std::byte> bytes(ring::kControlSlotBytes);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    for (auto& b : bytes)
      b = std::byte(r.below(256));
    if (r.one_in(2)) wire::put<std::uint32_t>(bytes.data(), kMembershipMessageMagic);
    MembershipMessage out;
    decoded += decode_membership_message(bytes, limits(), &out) == MembershipMessageFault::none;
  }
  EXPECT_EQ(decoded, 0);
}

TEST(Control, ImmediateCarriesSenderAndSeq) {
  const std::uint32_t imm = membership_message_imm(37, 0x1234567);
  EXPECT_EQ(control_imm_sender(imm), 37u);
  EXPECT_EQ(control_imm_seq(imm), 0x234567u);
  EXPECT_EQ(imm >> 30, 3u);
}

}  // namespace
}  // namespace ringcast::membership
