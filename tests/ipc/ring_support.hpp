// A ring in a sealed segment with both ends attached, for the ring tests.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <vector>

#include "ipc/byte_ring.hpp"
#include "ipc/doorbell.hpp"
#include "ipc/shared_segment.hpp"

namespace ringcast::ipc::test {

struct TestRing {
  SharedSegment segment;
  Doorbell doorbell;
  std::optional<RingProducer> producer;
  std::optional<RingConsumer> consumer;

  RingHeader& header() { return *reinterpret_cast<RingHeader*>(segment.mapping.bytes().data()); }
  std::byte* data() { return segment.mapping.bytes().data() + kRingHeaderBytes; }
};

// A fresh ring (a new header) in the segment, both ends attached.
inline TestRing make_ring_in(SharedSegment segment, Doorbell doorbell,
                             std::uint32_t max_frame_bytes) {
  TestRing ring{std::move(segment), std::move(doorbell), {}, {}};
  EXPECT_TRUE(init_ring(ring.segment.mapping.bytes()).ok());
  auto producer =
      RingProducer::attach(ring.segment.mapping.bytes(), max_frame_bytes, ring.doorbell.fd());
  auto consumer = RingConsumer::attach(ring.segment.mapping.bytes(), max_frame_bytes);
  EXPECT_TRUE(producer.ok() && consumer.ok());
  ring.producer.emplace(std::move(*producer));
  ring.consumer.emplace(std::move(*consumer));
  return ring;
}

inline TestRing make_ring(std::size_t capacity, std::uint32_t max_frame_bytes) {
  auto segment =
      create_sealed_segment("ipc-test-ring", ring_segment_bytes(capacity), PeerAccess::read_write);
  EXPECT_TRUE(segment.ok());
  auto doorbell = Doorbell::create();
  EXPECT_TRUE(doorbell.ok());
  return make_ring_in(std::move(*segment), std::move(*doorbell), max_frame_bytes);
}

inline std::vector<std::byte> pattern(std::size_t bytes, std::uint64_t seed) {
  std::vector<std::byte> out(bytes);
  for (std::size_t i = 0; i < bytes; ++i)
    out[i] = static_cast<std::byte>((seed * 131 + i * 7) & 0xff);
  return out;
}

}  // namespace ringcast::ipc::test
