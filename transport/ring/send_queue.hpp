// The local send queue: messages submitted and not yet sent, in submit order.
// Both its length and the bytes it holds are bounded; a push that does not
// fit fails with Errc::try_again (nothing blocks, nothing grows).
//
// A copied message's payload is copied once, at submit, into the registered
// send buffer (a byte ring freed in FIFO order as messages leave the queue);
// a zero-copy message stays in the caller's registered region, which the
// caller keeps unchanged until the ring reports the message sent. A zero-copy
// message may start with a short prefix (a fragment's header) that is copied
// at submit: the record's payload is the prefix, then the caller's segment.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "base/status_snapshot.hpp"
#include "fabric/fabric.hpp"
#include "ring/record.hpp"

namespace ringcast::ring {

// The longest prefix of a zero-copy message: it travels with the record
// header, in the same SGE (fabric::kMaxSegments is 2: header, payload).
inline constexpr std::uint32_t kMaxZeroCopyPrefixBytes = 64;

struct OutgoingMessage {
  // Copied at submit when zero_copy.region is null.
  std::span<const std::byte> payload;
  // When not empty: the payload is these pieces, concatenated by the one copy
  // at submit (the iovec of cpg_mcast_joined); `payload` is then ignored.
  std::span<const std::span<const std::byte>> pieces;
  // When region is set: the payload is written from there, zero copy.
  fabric::Segment zero_copy;
  // Only with zero_copy, at most kMaxZeroCopyPrefixBytes: copied at submit,
  // the payload's first bytes (before the segment).
  std::span<const std::byte> prefix;
  std::uint32_t group = 0;
  std::uint32_t sender_pid = 0;
  Guarantee guarantee = Guarantee::agreed;
  // Returned by next_zero_copy_done() once the region is no longer read.
  std::uint64_t tag = 0;
};

struct QueuedMessage {
  std::uint64_t tag = 0;
  std::uint32_t group = 0;
  std::uint32_t sender_pid = 0;
  std::uint32_t payload_bytes = 0;
  Guarantee guarantee = Guarantee::agreed;
  bool zero_copy = false;
  fabric::Segment source;  // send buffer slice, or the caller's region
  fabric::Segment prefix;  // zero copy: the prefix's send buffer slice (length 0: none)
  // Send-buffer position after the payload (copied) or the prefix.
  std::uint64_t buffer_end = 0;

  bool uses_buffer() const noexcept { return !zero_copy || prefix.length > 0; }
};

class SendQueue {
 public:
  SendQueue(std::uint32_t capacity_messages, const fabric::MemoryRegion& buffer,
            std::uint32_t max_message_bytes);

  // Errc::too_big beyond max_message_bytes, Errc::invalid_argument for a
  // zero-copy segment outside its region or a prefix too long or without
  // zero copy, Errc::try_again when full.
  Status push(const OutgoingMessage& message);

  bool empty() const noexcept { return count_ == 0; }
  std::uint32_t size() const noexcept { return count_; }
  std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(slots_.size()); }
  std::uint64_t buffer_bytes_used() const noexcept { return head_ - tail_; }
  // Payload bytes copied into the send buffer so far (zero-copy sends add
  // their prefix only).
  std::uint64_t bytes_copied() const noexcept { return bytes_copied_; }

  const QueuedMessage& front() const noexcept;
  // The payload's bytes after the prefix, wherever they are (all of a
  // copied message's).
  std::span<const std::byte> payload(const QueuedMessage& message) const noexcept;
  // A zero-copy message's prefix in the send buffer (empty: none).
  std::span<const std::byte> prefix(const QueuedMessage& message) const noexcept;
  // Removes the front; its send-buffer bytes become free.
  void pop() noexcept;

 private:
  std::vector<QueuedMessage> slots_;
  std::uint32_t first_ = 0;
  std::uint32_t count_ = 0;
  const fabric::MemoryRegion* buffer_;
  std::uint32_t max_message_bytes_;
  std::uint64_t head_ = 0;  // next free send-buffer position
  std::uint64_t tail_ = 0;  // oldest position still holding a queued payload
  std::uint64_t bytes_copied_ = 0;

  // Reserves `bytes` of the send buffer (Errc::try_again when full) and
  // returns the slice; head_ moves past it.
  Result<fabric::Segment> reserve(std::uint64_t bytes);
};

// The queue's fill and the buffer's, for the drivers' send_path().
inline SendPathSnapshot send_path_of(const SendQueue& queue, std::uint64_t buffer_bytes) {
  SendPathSnapshot s;
  s.queued_messages = queue.size();
  s.queue_capacity = queue.capacity();
  s.buffer_bytes_used = queue.buffer_bytes_used();
  s.buffer_bytes = buffer_bytes;
  s.bytes_copied_on_send = queue.bytes_copied();
  return s;
}

}  // namespace ringcast::ring
