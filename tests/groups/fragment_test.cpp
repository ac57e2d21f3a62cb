// The fragment codec and the assembler's rules (groups/fragment_assembly.hpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "groups/fragment.hpp"
#include "groups/fragment_assembly.hpp"

namespace ringcast::groups {
namespace {

constexpr std::uint64_t kMax = 1 << 20;
constexpr GroupMember kAlice{1, 100};
constexpr GroupMember kBob{2, 200};

std::vector<std::byte> fragment(std::uint64_t id, std::uint64_t total, std::uint64_t offset,
                                std::size_t slice, std::uint32_t group = 7) {
  std::vector<std::byte> out(kFragmentHeaderBytes + slice);
  encode_fragment_header({group, id, total, offset}, out);
  for (std::size_t i = 0; i < slice; ++i)
    out[kFragmentHeaderBytes + i] = static_cast<std::byte>((offset + i) * 7 + id);
  return out;
}

FragmentFault fault_of(const std::vector<std::byte>& payload, std::uint64_t max = kMax) {
  auto r = decode_fragment(payload, max);
  EXPECT_FALSE(r.ok());
  return r.ok() ? FragmentFault::truncated : r.error().fault;
}

TEST(Fragment, EncodesTheDocumentedLayout) {
  const auto f = fragment(0x0102, 0x30, 0x10, 1, 0x0a0b0c0d);
  ASSERT_EQ(f.size(), 33u);
  EXPECT_EQ(f[0], std::byte{0xCA});
  EXPECT_EQ(f[1], std::byte{1});
  EXPECT_EQ(f[4], std::byte{0x0d});  // group key, little-endian
  EXPECT_EQ(f[8], std::byte{0x02});  // message id
  EXPECT_EQ(f[9], std::byte{0x01});
  EXPECT_EQ(f[16], std::byte{0x30});  // total
  EXPECT_EQ(f[24], std::byte{0x10});  // offset
  auto d = decode_fragment(f, kMax);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->header, (FragmentHeader{0x0a0b0c0d, 0x0102, 0x30, 0x10}));
  EXPECT_EQ(d->slice.size(), 1u);
}

TEST(Fragment, RefusesEveryMalformedField) {
  auto f = fragment(1, 100, 0, 10);
  EXPECT_EQ(fault_of(std::vector<std::byte>(f.begin(), f.begin() + 31)), FragmentFault::truncated);
  EXPECT_EQ(fault_of(std::vector<std::byte>(f.begin(), f.begin() + 32)),
            FragmentFault::empty_slice);
  auto bad = f;
  bad[0] = std::byte{0xC9};
  EXPECT_EQ(fault_of(bad), FragmentFault::bad_magic);
  bad = f;
  bad[1] = std::byte{2};
  EXPECT_EQ(fault_of(bad), FragmentFault::bad_version);
  bad = f;
  bad[3] = std::byte{0x80};
  EXPECT_EQ(fault_of(bad), FragmentFault::bad_flags);
  EXPECT_EQ(fault_of(fragment(1, 100, 0, 10, kControlGroup)), FragmentFault::bad_group);
  EXPECT_EQ(fault_of(fragment(1, 100, 0, 10, kFragmentGroup)), FragmentFault::bad_group);
  EXPECT_EQ(fault_of(fragment(1, 100, 95, 10)), FragmentFault::beyond_total);
  EXPECT_EQ(fault_of(fragment(1, 100, 101, 1)), FragmentFault::beyond_total);
  // offset + slice near 2^64 must not wrap into "fits".
  EXPECT_EQ(fault_of(fragment(1, 100, ~std::uint64_t{0} - 2, 10)), FragmentFault::beyond_total);
  EXPECT_EQ(fault_of(fragment(1, kMax + 1, 0, 10)), FragmentFault::total_too_large);
  EXPECT_TRUE(decode_fragment(fragment(1, kMax, 0, 10), kMax).ok());
}

TEST(Fragment, GroupKeysNeverNameTheFragmentGroup) {
  // Every group name maps away from the two reserved keys.
  for (int i = 0; i < 100000; ++i) {
    const std::uint32_t k = group_key("g" + std::to_string(i));
    EXPECT_NE(k, kControlGroup);
    EXPECT_NE(k, kFragmentGroup);
  }
}

std::vector<std::byte> expected_message(std::uint64_t id, std::uint64_t total) {
  std::vector<std::byte> out(total);
  for (std::uint64_t i = 0; i < total; ++i)
    out[i] = static_cast<std::byte>(i * 7 + id);
  return out;
}

TEST(FragmentAssembler, PutsAMessageBackTogetherAtItsLastFragment) {
  FragmentAssembler a(kMax);
  auto r = a.add(kAlice, fragment(5, 25, 0, 10));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  r = a.add(kBob, fragment(1, 4, 0, 2));  // another sender interleaves
  ASSERT_TRUE(r.ok() && !r->has_value());
  r = a.add(kAlice, fragment(5, 25, 10, 10));
  ASSERT_TRUE(r.ok() && !r->has_value());
  r = a.add(kAlice, fragment(5, 25, 20, 5));
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->sender, kAlice);
  EXPECT_EQ((*r)->group, 7u);
  EXPECT_EQ((*r)->message_id, 5u);
  EXPECT_EQ(*(*r)->bytes, expected_message(5, 25));
  EXPECT_EQ(a.in_progress(), 1u);  // Bob's
  EXPECT_EQ(a.counters().messages_assembled, 1u);
  EXPECT_EQ(a.counters().bytes_copied, 27u);
  EXPECT_TRUE(a.take_abandoned().empty());
}

TEST(FragmentAssembler, AnOrphanIsDroppedAndGivesUpTheMessageInProgress) {
  FragmentAssembler a(kMax);
  ASSERT_TRUE(a.add(kAlice, fragment(5, 30, 0, 10)).ok());
  // A gap (offset 20 where 10 was due): the message can never be whole.
  auto r = a.add(kAlice, fragment(5, 30, 20, 10));
  ASSERT_TRUE(r.ok() && !r->has_value());
  EXPECT_EQ(a.counters().fragments_orphaned, 1u);
  const auto abandoned = a.take_abandoned();
  ASSERT_EQ(abandoned.size(), 1u);
  EXPECT_EQ(abandoned[0].sender, kAlice);
  EXPECT_EQ(abandoned[0].message_id, 5u);
  EXPECT_EQ(a.in_progress(), 0u);
  // A continuation without a start, another id, another group or total.
  EXPECT_TRUE(a.add(kBob, fragment(1, 30, 10, 10)).ok());
  ASSERT_TRUE(a.add(kBob, fragment(2, 30, 0, 10)).ok());
  EXPECT_TRUE(a.add(kBob, fragment(3, 30, 10, 10)).ok());
  ASSERT_TRUE(a.add(kBob, fragment(2, 30, 0, 10)).ok());
  EXPECT_TRUE(a.add(kBob, fragment(2, 30, 10, 10, 8)).ok());
  ASSERT_TRUE(a.add(kBob, fragment(2, 30, 0, 10)).ok());
  EXPECT_TRUE(a.add(kBob, fragment(2, 40, 10, 10)).ok());
  EXPECT_EQ(a.counters().fragments_orphaned, 5u);
  EXPECT_EQ(a.counters().messages_assembled, 0u);
}

TEST(FragmentAssembler, ANewStartGivesUpTheSendersUnfinishedMessage) {
  FragmentAssembler a(kMax);
  ASSERT_TRUE(a.add(kAlice, fragment(5, 30, 0, 10)).ok());
  ASSERT_TRUE(a.add(kAlice, fragment(6, 12, 0, 10)).ok());
  auto r = a.add(kAlice, fragment(6, 12, 10, 2));
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(*(*r)->bytes, expected_message(6, 12));
  const auto abandoned = a.take_abandoned();
  ASSERT_EQ(abandoned.size(), 1u);
  EXPECT_EQ(abandoned[0].message_id, 5u);
}

TEST(FragmentAssembler, DropsFollowTheSenderAndTheConfiguration) {
  FragmentAssembler a(kMax);
  ASSERT_TRUE(a.add(kAlice, fragment(1, 30, 0, 10)).ok());
  ASSERT_TRUE(a.add({1, 101}, fragment(1, 30, 0, 10)).ok());
  ASSERT_TRUE(a.add(kBob, fragment(1, 30, 0, 10)).ok());
  a.drop_member(kAlice);
  EXPECT_EQ(a.in_progress(), 2u);
  a.drop_node(1);
  EXPECT_EQ(a.in_progress(), 1u);
  a.drop_all();
  EXPECT_EQ(a.in_progress(), 0u);
  EXPECT_EQ(a.take_abandoned().size(), 3u);
  EXPECT_EQ(a.counters().messages_abandoned, 3u);
  // What was given up is never completed later.
  auto r = a.add(kBob, fragment(1, 30, 10, 20));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(FragmentAssembler, BoundsTheMessagesInProgressPerNode) {
  FragmentAssembler a(kMax);
  for (std::uint32_t pid = 1; pid <= kMaxMessagesPerNode + 1; ++pid)
    ASSERT_TRUE(a.add({3, pid}, fragment(pid, 100, 0, 10)).ok());
  EXPECT_EQ(a.in_progress(), kMaxMessagesPerNode);
  const auto abandoned = a.take_abandoned();
  ASSERT_EQ(abandoned.size(), 1u);
  EXPECT_EQ(abandoned[0].sender, (GroupMember{3, 1}));  // the oldest
}

TEST(FragmentAssembler, RefusesMalformedFragmentsWithoutTouchingTheRest) {
  FragmentAssembler a(100);
  ASSERT_TRUE(a.add(kAlice, fragment(1, 30, 0, 10)).ok());
  auto r = a.add(kAlice, fragment(2, 101, 0, 10));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().fault, FragmentFault::total_too_large);
  EXPECT_EQ(a.counters().fragments_refused, 1u);
  EXPECT_EQ(a.in_progress(), 1u);
  r = a.add(kAlice, fragment(1, 30, 10, 20));
  ASSERT_TRUE(r.ok() && r->has_value());
}

}  // namespace
}  // namespace ringcast::groups
