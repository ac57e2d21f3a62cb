// What ringcast-bench and the rdma ring tests check a member's deliveries
// against: a running hash of (sequence, sender, payload checksum), equal on
// every member iff they delivered the same records in the same order, and a
// per-sender FIFO check of the index each message carries.
//
// Payload layout of the messages they send (at least kStampBytes):
//   0 u64 send time (CLOCK_MONOTONIC ns, the sender's)   8 u64 per-sender index
//  16 filler derived from the index (so the checksum depends on the content)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "base/crc32c.hpp"

namespace ringcast::bench {

inline constexpr std::size_t kStampBytes = 16;

inline void fill_payload(std::span<std::byte> out, std::uint64_t send_ns, std::uint64_t index) {
  std::memcpy(out.data(), &send_ns, 8);
  std::memcpy(out.data() + 8, &index, 8);
  for (std::size_t j = kStampBytes; j < out.size(); ++j)
    out[j] = static_cast<std::byte>((j * 131 + index * 7 + 1) & 0xff);
}

// Only the time stamp and index: the benchmark's sender leaves the rest of
// its buffer as it is (writing every byte of every message is work perftest
// does not do either).
inline void stamp_payload(std::span<std::byte> out, std::uint64_t send_ns, std::uint64_t index) {
  std::memcpy(out.data(), &send_ns, 8);
  std::memcpy(out.data() + 8, &index, 8);
}

inline std::uint64_t payload_send_ns(std::span<const std::byte> p) {
  std::uint64_t v = 0;
  std::memcpy(&v, p.data(), 8);
  return v;
}

inline std::uint64_t payload_index(std::span<const std::byte> p) {
  std::uint64_t v = 0;
  std::memcpy(&v, p.data() + 8, 8);
  return v;
}

class OrderDigest {
 public:
  void add(std::uint64_t seq, std::uint32_t sender, std::span<const std::byte> payload) noexcept {
    add_crc(seq, sender, crc32c(payload));
  }
  // The same with the payload's crc32c taken already.
  void add_crc(std::uint64_t seq, std::uint32_t sender, std::uint32_t payload_crc) noexcept {
    mix(seq);
    mix(sender);
    mix(payload_crc);
    ++count_;
  }
  // The same, for benchmarks: a payload over 2 x kSampledBytes contributes its
  // length and the checksums of its first and last kSampledBytes only. Equal
  // hashes still mean the same records in the same order; a full crc32c of
  // every delivered megabyte would cost the receiver more than the RDMA write
  // itself (the table-driven crc32c runs at ~0.6 GB/s, much less under
  // emulation) and the benchmark would measure its own checking.
  static constexpr std::size_t kSampledBytes = 256;
  void add_sampled(std::uint64_t seq, std::uint32_t sender,
                   std::span<const std::byte> payload) noexcept {
    if (payload.size() <= 2 * kSampledBytes) return add(seq, sender, payload);
    add_samples(seq, sender, payload.size(), samples_of(payload));
  }
  // What add_sampled reads of a payload over 2 x kSampledBytes, in two steps
  // (the bench's trace keeps the checksums it mixed).
  struct Samples {
    std::uint32_t first_crc = 0, last_crc = 0;
  };
  static Samples samples_of(std::span<const std::byte> payload) noexcept {
    return {crc32c(payload.first(kSampledBytes)), crc32c(payload.last(kSampledBytes))};
  }
  void add_samples(std::uint64_t seq, std::uint32_t sender, std::uint64_t size,
                   Samples samples) noexcept {
    mix(seq);
    mix(sender);
    mix(size);
    mix(samples.first_crc);
    mix(samples.last_crc);
    ++count_;
  }
  std::uint64_t hash() const noexcept { return hash_; }
  std::uint64_t count() const noexcept { return count_; }

 private:
  void mix(std::uint64_t v) noexcept {  // FNV-1a over 8 bytes, then a shift to spread
    for (int i = 0; i < 8; ++i) {
      hash_ ^= (v >> (8 * i)) & 0xff;
      hash_ *= 0x100000001b3ull;
    }
    hash_ ^= hash_ >> 29;
  }
  std::uint64_t hash_ = 0xcbf29ce484222325ull;
  std::uint64_t count_ = 0;
};

// Per-sender FIFO: each sender's indices arrive as 0, 1, 2, ...
class FifoCheck {
 public:
  explicit FifoCheck(std::span<const std::uint32_t> senders)
      : senders_(senders.begin(), senders.end()), next_(senders.size(), 0) {}
  // false on a gap, a repeat or an unknown sender (counted in violations()).
  bool add(std::uint32_t sender, std::uint64_t index) noexcept {
    for (std::size_t i = 0; i < senders_.size(); ++i) {
      if (senders_[i] != sender) continue;
      if (index == next_[i]++) return true;
      ++violations_;
      return false;
    }
    ++violations_;
    return false;
  }
  std::uint64_t violations() const noexcept { return violations_; }
  std::uint64_t received_from(std::size_t i) const noexcept { return next_[i]; }

 private:
  std::vector<std::uint32_t> senders_;
  std::vector<std::uint64_t> next_;
  std::uint64_t violations_ = 0;
};

}  // namespace ringcast::bench
