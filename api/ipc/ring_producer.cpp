#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>

#include "base/wire.hpp"
#include "ipc/byte_ring.hpp"
#include "ipc/ring_geometry.hpp"

namespace ringcast::ipc {

Status init_ring(std::span<std::byte> segment) {
  const std::size_t capacity = ring_capacity(segment);
  RC_TRY(check_geometry(segment, capacity, kFrameAlign, "init_ring"));
  auto* header = new (segment.data()) RingHeader{};
  header->capacity_bytes = capacity;
  return {};
}

Result<RingProducer> RingProducer::attach(std::span<std::byte> segment,
                                          std::uint32_t max_frame_bytes, int doorbell_fd) {
  RC_TRY(check_geometry(segment, ring_capacity(segment), max_frame_bytes, "RingProducer::attach"));
  RingProducer p;
  p.header_ = std::launder(reinterpret_cast<RingHeader*>(segment.data()));
  p.data_ = segment.data() + kRingHeaderBytes;
  p.mask_ = segment.size() - kRingHeaderBytes - 1;
  // Start where the ring stands (the creator's fresh header: 0), with the
  // frames still unconsumed counted as taken.
  p.head_ = p.header_->head.load(std::memory_order_acquire);
  p.tail_seen_ = p.header_->tail.load(std::memory_order_acquire);
  p.max_frame_bytes_ = max_frame_bytes;
  p.doorbell_fd_ = doorbell_fd;
  if (p.head_ % kFrameAlign != 0 || p.tail_seen_ % kFrameAlign != 0 ||
      p.head_ - p.tail_seen_ > p.mask_ + 1)
    return make_error(Errc::protocol, "RingProducer::attach",
                      "head " + std::to_string(p.head_) + " and tail " +
                          std::to_string(p.tail_seen_) + " do not fit the ring");
  return p;
}

Status RingProducer::refresh_tail() {
  const std::uint64_t tail = header_->tail.load(std::memory_order_acquire);
  // Legal: a multiple of 8 in [tail_seen_, head_] (unsigned distances).
  if (tail % kFrameAlign != 0 || tail - tail_seen_ > head_ - tail_seen_) {
    failed_ = true;
    return make_error(Errc::protocol, "RingProducer::push",
                      "consumer's tail " + std::to_string(tail) + " outside [" +
                          std::to_string(tail_seen_) + ", " + std::to_string(head_) + "]");
  }
  tail_seen_ = tail;
  return {};
}

void RingProducer::copy_in(std::uint64_t at, std::span<const std::byte> bytes) noexcept {
  if (bytes.empty()) return;  // memcpy wants real pointers, even for 0 bytes
  const std::uint64_t offset = at & mask_;
  const std::uint64_t first = std::min<std::uint64_t>(bytes.size(), mask_ + 1 - offset);
  std::memcpy(data_ + offset, bytes.data(), first);
  if (first < bytes.size()) std::memcpy(data_, bytes.data() + first, bytes.size() - first);
}

void RingProducer::wake_consumer() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (header_->consumer_sleeping.load(std::memory_order_relaxed) == 0) return;
  if (header_->consumer_sleeping.exchange(0, std::memory_order_seq_cst) == 0) return;
  if (doorbell_fd_ < 0) return;
  // EAGAIN: the counter is full, so the consumer is woken anyway.
  const eventfd_t one = 1;
  (void)::write(doorbell_fd_, &one, sizeof one);
  ++doorbell_writes_;
}

Status RingProducer::push(std::span<const std::span<const std::byte>> parts) {
  if (failed_) return make_error(Errc::protocol, "RingProducer::push", "the ring is corrupt");
  std::uint64_t length = 0;
  for (const auto& part : parts)
    length += part.size();
  if (length > max_frame_bytes_)
    return make_error(Errc::too_big, "RingProducer::push",
                      "frame of " + std::to_string(length) + " bytes, at most " +
                          std::to_string(max_frame_bytes_));
  const std::uint64_t need = padded_frame_bytes(length);
  if (mask_ + 1 - (head_ - tail_seen_) < need) {
    RC_TRY(refresh_tail());
    if (mask_ + 1 - (head_ - tail_seen_) < need)
      return make_error(Errc::try_again, "RingProducer::push", "the ring is full");
  }
  std::byte frame_header[kRingFrameHeaderBytes];
  wire::put<std::uint32_t>(frame_header, static_cast<std::uint32_t>(length));
  wire::put<std::uint32_t>(frame_header + 4, 0);
  copy_in(head_, frame_header);
  std::uint64_t at = head_ + kRingFrameHeaderBytes;
  for (const auto& part : parts) {
    copy_in(at, part);
    at += part.size();
  }
  head_ += need;
  header_->head.store(head_, std::memory_order_release);
  ++frames_;
  wake_consumer();
  return {};
}

}  // namespace ringcast::ipc
