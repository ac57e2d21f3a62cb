// The two ends of a byte ring in shared memory (ring_header.hpp): one
// producer, one consumer, each possibly in another process that may be
// hostile. Frames are variable-size, length-prefixed, padded to 8.
//
// Wake-ups: a consumer that found the ring empty for a while announces
// that it goes to sleep (prepare_sleep), checks once more, and sleeps on its
// eventfd; the producer writes that eventfd only when it sees the
// announcement, and takes the announcement back as it does. A busy stream
// therefore costs no system call per frame: the consumer never sleeps, the
// producer never writes. (Both sides fence between their store and their
// load, so a frame published as the consumer announces is never missed.)
//
// A cursor the other side published that cannot be right (not a multiple of
// 8, going backwards, more than the capacity apart) is Errc::protocol: the
// peer is broken or hostile, and the end refuses every later call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "ipc/ring_header.hpp"

namespace ringcast::ipc {

// Writes a fresh header into a segment of ring_segment_bytes(capacity) bytes
// (the creator does, before the other side maps it).
Status init_ring(std::span<std::byte> segment);

class RingProducer {
 public:
  // doorbell_fd: the consumer's eventfd; -1 for a consumer that only polls.
  static Result<RingProducer> attach(std::span<std::byte> segment, std::uint32_t max_frame_bytes,
                                     int doorbell_fd);

  // One frame made of the parts, in order. Errc::try_again when the ring
  // has no room now, Errc::too_big above max_frame_bytes, Errc::protocol
  // when the consumer's tail is impossible.
  Status push(std::span<const std::span<const std::byte>> parts);
  Status push(std::span<const std::byte> frame) { return push(std::span(&frame, 1)); }

  std::uint64_t frames() const noexcept { return frames_; }
  std::uint64_t doorbell_writes() const noexcept { return doorbell_writes_; }
  std::uint64_t capacity() const noexcept { return mask_ + 1; }

 private:
  RingProducer() = default;
  Status refresh_tail();
  void copy_in(std::uint64_t at, std::span<const std::byte> bytes) noexcept;
  void wake_consumer() noexcept;

  RingHeader* header_ = nullptr;
  std::byte* data_ = nullptr;
  std::uint64_t mask_ = 0;
  std::uint64_t head_ = 0;       // private: what this side wrote
  std::uint64_t tail_seen_ = 0;  // the consumer's tail as last checked
  std::uint32_t max_frame_bytes_ = 0;
  int doorbell_fd_ = -1;
  bool failed_ = false;
  std::uint64_t frames_ = 0;
  std::uint64_t doorbell_writes_ = 0;
};

class RingConsumer {
 public:
  static Result<RingConsumer> attach(std::span<std::byte> segment, std::uint32_t max_frame_bytes);

  // Copies the next frame into out (resized to its length) and frees its
  // room: the frame is read from shared memory exactly once, so what the
  // caller validates is what it uses. false: the ring is empty.
  Result<bool> pop(std::vector<std::byte>& out);

  // A frame is published and not yet popped (a hostile head counts too:
  // pop reports it).
  bool has_frames() noexcept;

  // The sleep announcement: true when the caller may now sleep on its
  // eventfd (the ring is still empty); false when a frame came meanwhile
  // (the announcement is withdrawn). After the sleep, end_sleep(): true
  // when the announcement was still there (the producer rang no doorbell
  // for it, so there is nothing to drain).
  bool prepare_sleep() noexcept;
  bool end_sleep() noexcept;

  std::uint64_t frames() const noexcept { return frames_; }

 private:
  RingConsumer() = default;
  Status refresh_head();
  void copy_out(std::uint64_t at, std::span<std::byte> out) const noexcept;
  Error corrupt(std::string detail);

  RingHeader* header_ = nullptr;
  const std::byte* data_ = nullptr;
  std::uint64_t mask_ = 0;
  std::uint64_t tail_ = 0;       // private: what this side consumed
  std::uint64_t head_seen_ = 0;  // the producer's head as last checked
  std::uint32_t max_frame_bytes_ = 0;
  bool failed_ = false;
  std::uint64_t frames_ = 0;
};

}  // namespace ringcast::ipc
