// The byte ring's single-threaded rules: empty, full, wrap, frame sizes,
// the sleep announcement, and a hostile peer's cursors and frame headers
// (each refused, and the end stays refused).
#include <gtest/gtest.h>

#include "base/wire.hpp"
#include "ring_support.hpp"

namespace ringcast::ipc::test {
namespace {

TEST(ByteRing, EmptyRingPopsNothing) {
  auto ring = make_ring(4096, 1024);
  std::vector<std::byte> out;
  auto got = ring.consumer->pop(out);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(*got);
  EXPECT_FALSE(ring.consumer->has_frames());
}

TEST(ByteRing, FramesOfEverySizeComeBackAsSent) {
  auto ring = make_ring(4096, 1024);
  std::vector<std::byte> out;
  for (std::size_t size : {0u, 1u, 7u, 8u, 9u, 100u, 1023u, 1024u}) {
    const auto sent = pattern(size, size);
    ASSERT_TRUE(ring.producer->push(sent).ok()) << size;
    auto got = ring.consumer->pop(out);
    ASSERT_TRUE(got.ok() && *got) << size;
    EXPECT_EQ(out, sent) << size;
  }
  EXPECT_EQ(ring.header().head.load(), ring.header().tail.load());
}

TEST(ByteRing, PartsMakeOneFrame) {
  auto ring = make_ring(4096, 1024);
  const auto a = pattern(5, 1), b = pattern(11, 2);
  const std::span<const std::byte> parts[] = {a, b};
  ASSERT_TRUE(ring.producer->push(parts).ok());
  std::vector<std::byte> out;
  ASSERT_TRUE(*ring.consumer->pop(out));
  auto joined = a;
  joined.insert(joined.end(), b.begin(), b.end());
  EXPECT_EQ(out, joined);
}

TEST(ByteRing, FullRingRefusesWithTryAgainUntilAFrameIsPopped) {
  auto ring = make_ring(4096, 1024);
  const auto frame = pattern(1000, 3);  // 1008 bytes with its header: 4 fit in 4096
  int pushed = 0;
  while (ring.producer->push(frame).ok())
    ++pushed;
  EXPECT_EQ(pushed, 4);
  auto refused = ring.producer->push(frame);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::try_again);
  // A smaller frame still fits the 64 bytes left.
  EXPECT_TRUE(ring.producer->push(pattern(56, 4)).ok());
  std::vector<std::byte> out;
  ASSERT_TRUE(*ring.consumer->pop(out));
  EXPECT_TRUE(ring.producer->push(frame).ok());
}

TEST(ByteRing, FramesWrapAroundTheEndIntact) {
  auto ring = make_ring(4096, 2048);
  std::vector<std::byte> out;
  // 1000-byte frames over a 4096-byte ring cross the end at every phase.
  for (std::uint64_t i = 0; i < 200; ++i) {
    const auto sent = pattern(1000 + i % 13, i);
    ASSERT_TRUE(ring.producer->push(sent).ok()) << i;
    if (i % 3 == 0) {
      ASSERT_TRUE(ring.producer->push(pattern(i % 50, i + 1000)).ok());
    }
    ASSERT_TRUE(*ring.consumer->pop(out));
    EXPECT_EQ(out, sent) << i;
    if (i % 3 == 0) {
      ASSERT_TRUE(*ring.consumer->pop(out));
      EXPECT_EQ(out, pattern(i % 50, i + 1000));
    }
  }
  EXPECT_GT(ring.header().head.load(), 10 * 4096u);
}

TEST(ByteRing, AProducerAttachingToARingInUseKeepsItsUnconsumedFrames) {
  auto ring = make_ring(4096, 1024);
  const auto first = pattern(1000, 1);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(ring.producer->push(first).ok());
  auto again = RingProducer::attach(ring.segment.mapping.bytes(), 1024, -1);
  ASSERT_TRUE(again.ok());
  int pushed = 0;
  while (again->push(pattern(1000, 2)).ok())
    ++pushed;
  EXPECT_EQ(pushed, 1);  // the room the three frames left, no more
  std::vector<std::byte> out;
  ASSERT_TRUE(*ring.consumer->pop(out));
  EXPECT_EQ(out, first);
}

TEST(ByteRing, FrameAboveTheMaximumIsTooBig) {
  auto ring = make_ring(4096, 1024);
  auto refused = ring.producer->push(pattern(1025, 0));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::too_big);
}

TEST(ByteRing, AttachRefusesBadGeometry) {
  auto ring = make_ring(4096, 1024);
  auto whole = ring.segment.mapping.bytes();
  EXPECT_FALSE(RingConsumer::attach(whole.first(whole.size() - 8), 1024).ok());
  EXPECT_FALSE(RingConsumer::attach(whole.subspan(64), 1024).ok());
  EXPECT_FALSE(RingConsumer::attach(whole, 4096).ok());  // a largest frame that cannot fit
  EXPECT_FALSE(RingProducer::attach(whole, 0, -1).ok());
  ring.header().magic = 0;
  EXPECT_FALSE(RingConsumer::attach(whole, 1024).ok());
}

// ---- a hostile producer (the client, for the daemon's request ring) ----

void expect_corrupt(TestRing& ring) {
  std::vector<std::byte> out;
  auto got = ring.consumer->pop(out);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, Errc::protocol);
  // Sticky: a repaired header does not bring the end back.
  ring.header().head.store(ring.header().tail.load());
  EXPECT_FALSE(ring.consumer->pop(out).ok());
}

TEST(ByteRingHostile, HeadMoreThanTheCapacityAheadIsRefused) {
  auto ring = make_ring(4096, 1024);
  ring.header().head.store(4096 + 8);
  expect_corrupt(ring);
}

TEST(ByteRingHostile, HeadNotAMultipleOfEightIsRefused) {
  auto ring = make_ring(4096, 1024);
  ring.header().head.store(12);
  expect_corrupt(ring);
}

TEST(ByteRingHostile, HeadGoingBackwardsIsRefused) {
  auto ring = make_ring(4096, 1024);
  ASSERT_TRUE(ring.producer->push(pattern(8, 0)).ok());
  ASSERT_TRUE(ring.producer->push(pattern(8, 1)).ok());
  std::vector<std::byte> out;
  ASSERT_TRUE(*ring.consumer->pop(out));
  ASSERT_TRUE(*ring.consumer->pop(out));
  ring.header().head.store(16);
  expect_corrupt(ring);
}

TEST(ByteRingHostile, FrameLongerThanWhatWasPublishedIsRefused) {
  auto ring = make_ring(4096, 1024);
  ASSERT_TRUE(ring.producer->push(pattern(16, 0)).ok());
  wire::put<std::uint32_t>(ring.data(), 512);  // the length word, rewritten
  expect_corrupt(ring);
}

TEST(ByteRingHostile, FrameAboveTheMaximumIsRefused) {
  auto ring = make_ring(8192, 1024);
  ASSERT_TRUE(ring.producer->push(pattern(1024, 0)).ok());
  ASSERT_TRUE(ring.producer->push(pattern(1024, 0)).ok());
  wire::put<std::uint32_t>(ring.data(), 2000);
  expect_corrupt(ring);
}

TEST(ByteRingHostile, ReservedWordOfAFrameHeaderIsChecked) {
  auto ring = make_ring(4096, 1024);
  ASSERT_TRUE(ring.producer->push(pattern(16, 0)).ok());
  wire::put<std::uint32_t>(ring.data() + 4, 1);
  expect_corrupt(ring);
}

// ---- a hostile consumer (the client, for the daemon's event ring) ----

TEST(ByteRingHostile, TailAheadOfTheHeadIsRefusedByTheProducer) {
  auto ring = make_ring(4096, 1024);
  const auto frame = pattern(1000, 0);
  while (ring.producer->push(frame).ok()) {
  }
  ring.header().tail.store(ring.header().head.load() + 4096);
  auto refused = ring.producer->push(frame);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::protocol);
  ring.header().tail.store(ring.header().head.load());
  EXPECT_FALSE(ring.producer->push(pattern(8, 0)).ok());  // sticky
}

TEST(ByteRingHostile, TailGoingBackwardsIsRefusedByTheProducer) {
  auto ring = make_ring(4096, 1024);
  const auto frame = pattern(1000, 0);
  std::vector<std::byte> out;
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(ring.producer->push(frame).ok());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(*ring.consumer->pop(out));
  while (ring.producer->push(frame).ok()) {
  }
  ring.header().tail.store(0);
  // The producer read tail 3024 when it filled up; 0 is behind it.
  EXPECT_EQ(ring.producer->push(frame).error().code, Errc::protocol);
}

// ---- the sleep announcement ----

TEST(ByteRingSleep, ProducerRingsTheDoorbellOnlyForASleepingConsumer) {
  auto ring = make_ring(4096, 1024);
  ASSERT_TRUE(ring.producer->push(pattern(8, 0)).ok());
  EXPECT_EQ(ring.producer->doorbell_writes(), 0u);
  EXPECT_FALSE(ring.consumer->prepare_sleep());  // a frame is there: no sleep
  EXPECT_EQ(ring.header().consumer_sleeping.load(), 0u);
  std::vector<std::byte> out;
  ASSERT_TRUE(*ring.consumer->pop(out));
  ASSERT_TRUE(ring.consumer->prepare_sleep());
  ASSERT_TRUE(ring.producer->push(pattern(8, 1)).ok());
  ASSERT_TRUE(ring.producer->push(pattern(8, 2)).ok());
  EXPECT_EQ(ring.producer->doorbell_writes(), 1u);  // once per sleep, not per frame
  EXPECT_EQ(ring.doorbell.drain(), 1u);
  ring.consumer->end_sleep();
}

TEST(ByteRingSleep, WaitReturnsOnceAFrameIsThere) {
  auto ring = make_ring(4096, 1024);
  WaitStats stats;
  auto empty = wait_for_frames(*ring.consumer, ring.doorbell, {1000, 1'000'000}, &stats);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(*empty);
  EXPECT_EQ(stats.sleeps, 1u);
  ASSERT_TRUE(ring.producer->push(pattern(8, 1)).ok());
  auto full = wait_for_frames(*ring.consumer, ring.doorbell, {1000, 1'000'000}, &stats);
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(*full);
}

}  // namespace
}  // namespace ringcast::ipc::test
