#include <gtest/gtest.h>

#include <string>

#include "heap_region.hpp"
#include "ring/send_queue.hpp"

namespace ringcast::ring {
namespace {

using testing::HeapRegion;

OutgoingMessage copied(const std::string& s, std::uint64_t tag = 0) {
  OutgoingMessage m;
  m.payload = std::as_bytes(std::span(s));
  m.tag = tag;
  return m;
}

std::string text(const SendQueue& q, const QueuedMessage& m) {
  auto p = q.payload(m);
  return {reinterpret_cast<const char*>(p.data()), p.size()};
}

TEST(SendQueue, CopiesAtSubmitAndKeepsOrder) {
  HeapRegion buffer(1024);
  SendQueue q(4, buffer, 512);
  std::string a = "first", b = "second";
  ASSERT_TRUE(q.push(copied(a)).ok());
  ASSERT_TRUE(q.push(copied(b)).ok());
  a = "XXXXX";  // the caller may reuse its buffer at once
  EXPECT_EQ(text(q, q.front()), "first");
  q.pop();
  EXPECT_EQ(text(q, q.front()), "second");
  q.pop();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.buffer_bytes_used(), 0u);
}

TEST(SendQueue, AFullQueueSaysTryAgain) {
  HeapRegion buffer(1024);
  SendQueue q(2, buffer, 512);
  ASSERT_TRUE(q.push(copied("a")).ok());
  ASSERT_TRUE(q.push(copied("b")).ok());
  auto s = q.push(copied("c"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::try_again);
  q.pop();
  EXPECT_TRUE(q.push(copied("c")).ok());
}

TEST(SendQueue, AFullSendBufferSaysTryAgainAndWrapsWhenFreed) {
  HeapRegion buffer(1000);
  SendQueue q(16, buffer, 600);
  const std::string big(400, 'b');
  ASSERT_TRUE(q.push(copied(big)).ok());  // [0, 400)
  ASSERT_TRUE(q.push(copied(big)).ok());  // [400, 800)
  auto s = q.push(copied(big));           // would straddle: [1000, 1400) needs [0,400) free
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::try_again);
  q.pop();
  ASSERT_TRUE(q.push(copied(std::string(400, 'c'))).ok());
  q.pop();
  EXPECT_EQ(text(q, q.front()), std::string(400, 'c'));
  EXPECT_LE(q.buffer_bytes_used(), 1000u);
}

TEST(SendQueue, RefusesTooBigAndBadZeroCopySegments) {
  HeapRegion buffer(1024);
  HeapRegion zcb(256);
  SendQueue q(4, buffer, 512);
  auto s = q.push(copied(std::string(513, 'x')));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::too_big);
  OutgoingMessage m;
  m.zero_copy = {&zcb, 200, 100};  // beyond the region
  s = q.push(m);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::invalid_argument);
  m.zero_copy = {&zcb, 100, 100};
  m.tag = 9;
  ASSERT_TRUE(q.push(m).ok());
  EXPECT_TRUE(q.front().zero_copy);
  EXPECT_EQ(q.front().tag, 9u);
  EXPECT_EQ(q.payload(q.front()).data(), zcb.data() + 100) << "not copied";
  EXPECT_EQ(q.buffer_bytes_used(), 0u);
}

}  // namespace
}  // namespace ringcast::ring
