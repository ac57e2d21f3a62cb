// A zero-copy message with a copied prefix (a fragment's header in front of a
// slice of the caller's buffer): the send queue copies the prefix, the ring
// writes [record header + prefix][segment] in two SGEs.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "heap_region.hpp"
#include "ring/send_queue.hpp"
#include "ring_by_hand.hpp"

namespace ringcast::ring {
namespace {

using testing::HeapRegion;
using namespace by_hand;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s));
}

std::string text(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

TEST(ZeroCopyPrefix, TheQueueCopiesThePrefixAndNotTheSegment) {
  HeapRegion buffer(1024);
  HeapRegion zcb(256);
  std::memcpy(zcb.data(), "segment", 7);
  SendQueue q(4, buffer, 512);
  const std::string head = "head:";
  OutgoingMessage m;
  m.zero_copy = {&zcb, 0, 7};
  m.prefix = bytes_of(head);
  ASSERT_TRUE(q.push(m).ok());
  const QueuedMessage& f = q.front();
  EXPECT_EQ(f.payload_bytes, 12u);
  EXPECT_EQ(text(q.prefix(f)), "head:");
  EXPECT_EQ(q.payload(f).data(), zcb.data()) << "the segment is not copied";
  EXPECT_EQ(q.bytes_copied(), 5u);
  EXPECT_EQ(q.buffer_bytes_used(), 5u);
  q.pop();
  EXPECT_EQ(q.buffer_bytes_used(), 0u) << "the prefix's bytes are free once sent";
}

TEST(ZeroCopyPrefix, TheQueueRefusesALongPrefixAPrefixAloneAndTooBig) {
  HeapRegion buffer(1024);
  HeapRegion zcb(512);
  SendQueue q(4, buffer, 512);
  const std::string long_head(kMaxZeroCopyPrefixBytes + 1, 'h');
  OutgoingMessage m;
  m.zero_copy = {&zcb, 0, 8};
  m.prefix = bytes_of(long_head);
  EXPECT_EQ(q.push(m).error().code, Errc::invalid_argument);
  const std::string head(kMaxZeroCopyPrefixBytes, 'h');
  m.prefix = bytes_of(head);
  m.zero_copy = {&zcb, 0, 512 - kMaxZeroCopyPrefixBytes + 1};
  EXPECT_EQ(q.push(m).error().code, Errc::too_big) << "the prefix counts";
  OutgoingMessage copied;
  copied.payload = bytes_of(head);
  copied.prefix = bytes_of(head);
  EXPECT_EQ(q.push(copied).error().code, Errc::invalid_argument);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.buffer_bytes_used(), 0u);
}

TEST(ZeroCopyPrefix, PrefixedAndCopiedMessagesShareTheBufferInOrder) {
  HeapRegion buffer(64);
  HeapRegion zcb(64);
  SendQueue q(8, buffer, 64);
  const std::string head(24, 'p');
  OutgoingMessage z;
  z.zero_copy = {&zcb, 0, 32};
  z.prefix = bytes_of(head);
  OutgoingMessage c;
  const std::string body(24, 'c');
  c.payload = bytes_of(body);
  ASSERT_TRUE(q.push(z).ok());
  ASSERT_TRUE(q.push(c).ok());
  EXPECT_EQ(q.push(z).error().code, Errc::try_again) << "48 of 64 bytes held";
  q.pop();
  ASSERT_TRUE(q.push(z).ok()) << "the first prefix's bytes are free";
  EXPECT_EQ(text(q.payload(q.front())), body);
}

RingConfig two_members() {
  RingConfig c;
  c.log_bytes = 64 * 64;
  c.max_message_bytes = 1024;
  c.send_queue_messages = 8;
  c.send_buffer_bytes = 4096;
  c.max_messages_per_visit = 4;
  c.window_messages = 8;
  return c;
}

TEST(ZeroCopyPrefix, TheWriteIsHeaderAndPrefixFromTheLogThenTheSegment) {
  auto ring = make_ring(two_members(), 2);
  HeapRegion zcb(256);
  std::memcpy(zcb.data() + 16, "from the buffer", 15);
  const std::string head = "fragment header:";
  OutgoingMessage m;
  m.zero_copy = {&zcb, 16, 15};
  m.prefix = bytes_of(head);
  m.tag = 5;
  ASSERT_TRUE(ring[0]->state.submit(m).ok());
  ring[0]->state.tick(0);
  const auto chain = ring[0]->state.pending_chain(1);
  ASSERT_FALSE(chain.empty());
  const fabric::WriteOp& op = chain[0];
  ASSERT_EQ(op.segment_count, 2u);
  EXPECT_EQ(op.segments[0].region, &ring[0]->log);
  EXPECT_EQ(op.segments[0].length, kRecordHeaderBytes + head.size());
  EXPECT_EQ(op.segments[1].region, &zcb);
  EXPECT_EQ(op.segments[1].offset, 16u);
  EXPECT_EQ(op.segments[1].length, 15u);
  EXPECT_FALSE(ring[0]->state.next_zero_copy_done()) << "not written yet";
  carry(ring, 1);
  EXPECT_EQ(ring[0]->state.next_zero_copy_done(), std::optional<std::uint64_t>(5));
  const std::vector<std::string> whole{"fragment header:from the buffer"};
  EXPECT_EQ(drain(ring[1]->state), whole);
  EXPECT_EQ(drain(ring[0]->state), whole) << "self-delivery from the own log's copy";
}

TEST(ZeroCopyPrefix, APrefixWithAnEmptySegmentIsOneSge) {
  auto ring = make_ring(two_members(), 2);
  HeapRegion zcb(64);
  const std::string head = "only the prefix";
  OutgoingMessage m;
  m.zero_copy = {&zcb, 0, 0};
  m.prefix = bytes_of(head);
  m.tag = 6;
  ASSERT_TRUE(ring[0]->state.submit(m).ok());
  ring[0]->state.tick(0);
  const auto chain = ring[0]->state.pending_chain(1);
  ASSERT_FALSE(chain.empty());
  EXPECT_EQ(chain[0].segment_count, 1u);
  carry(ring, 1);
  EXPECT_EQ(ring[0]->state.next_zero_copy_done(), std::optional<std::uint64_t>(6));
  EXPECT_EQ(drain(ring[1]->state), std::vector<std::string>{head});
}

}  // namespace
}  // namespace ringcast::ring
