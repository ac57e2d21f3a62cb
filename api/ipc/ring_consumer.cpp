#include <cstring>
#include <new>
#include <string>

#include "base/wire.hpp"
#include "ipc/byte_ring.hpp"
#include "ipc/ring_geometry.hpp"

namespace ringcast::ipc {

Result<RingConsumer> RingConsumer::attach(std::span<std::byte> segment,
                                          std::uint32_t max_frame_bytes) {
  RC_TRY(check_geometry(segment, ring_capacity(segment), max_frame_bytes, "RingConsumer::attach"));
  RingConsumer c;
  c.header_ = std::launder(reinterpret_cast<RingHeader*>(segment.data()));
  c.data_ = segment.data() + kRingHeaderBytes;
  c.mask_ = segment.size() - kRingHeaderBytes - 1;
  if (c.header_->magic != kRingMagic)
    return make_error(Errc::protocol, "RingConsumer::attach", "no ring header in the segment");
  c.tail_ = c.header_->tail.load(std::memory_order_acquire);
  c.head_seen_ = c.tail_;
  c.max_frame_bytes_ = max_frame_bytes;
  if (c.tail_ % kFrameAlign != 0)
    return make_error(Errc::protocol, "RingConsumer::attach", "tail not a multiple of 8");
  return c;
}

Error RingConsumer::corrupt(std::string detail) {
  failed_ = true;
  return make_error(Errc::protocol, "RingConsumer::pop", std::move(detail));
}

Status RingConsumer::refresh_head() {
  const std::uint64_t head = header_->head.load(std::memory_order_acquire);
  // Legal: a multiple of 8, not behind what was seen, at most capacity ahead.
  if (head % kFrameAlign != 0 || head - head_seen_ > mask_ + 1 - (head_seen_ - tail_))
    return corrupt("producer's head " + std::to_string(head) + " outside [" +
                   std::to_string(head_seen_) + ", " + std::to_string(tail_ + mask_ + 1) + "]");
  head_seen_ = head;
  return {};
}

void RingConsumer::copy_out(std::uint64_t at, std::span<std::byte> out) const noexcept {
  if (out.empty()) return;  // memcpy wants real pointers, even for 0 bytes
  const std::uint64_t offset = at & mask_;
  const std::uint64_t first = std::min<std::uint64_t>(out.size(), mask_ + 1 - offset);
  std::memcpy(out.data(), data_ + offset, first);
  if (first < out.size()) std::memcpy(out.data() + first, data_, out.size() - first);
}

Result<bool> RingConsumer::pop(std::vector<std::byte>& out) {
  if (failed_) return make_error(Errc::protocol, "RingConsumer::pop", "the ring is corrupt");
  if (tail_ == head_seen_) {
    RC_TRY(refresh_head());
    if (tail_ == head_seen_) return false;
  }
  // One read of the frame header into private memory; only that copy is used.
  std::byte frame_header[kRingFrameHeaderBytes];
  copy_out(tail_, frame_header);
  const std::uint32_t length = wire::get<std::uint32_t>(frame_header);
  const std::uint32_t reserved = wire::get<std::uint32_t>(frame_header + 4);
  const std::uint64_t available = head_seen_ - tail_;
  if (reserved != 0) return corrupt("frame header's reserved word is " + std::to_string(reserved));
  if (length > max_frame_bytes_)
    return corrupt("frame of " + std::to_string(length) + " bytes, at most " +
                   std::to_string(max_frame_bytes_));
  if (padded_frame_bytes(length) > available)
    return corrupt("frame of " + std::to_string(length) + " bytes, only " +
                   std::to_string(available) + " published");
  out.resize(length);
  copy_out(tail_ + kRingFrameHeaderBytes, out);
  tail_ += padded_frame_bytes(length);
  header_->tail.store(tail_, std::memory_order_release);
  ++frames_;
  return true;
}

bool RingConsumer::has_frames() noexcept {
  if (tail_ != head_seen_) return true;
  return header_->head.load(std::memory_order_acquire) != tail_;
}

bool RingConsumer::prepare_sleep() noexcept {
  header_->consumer_sleeping.store(1, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!has_frames()) return true;
  end_sleep();
  return false;
}

bool RingConsumer::end_sleep() noexcept {
  return header_->consumer_sleeping.exchange(0, std::memory_order_seq_cst) != 0;
}

}  // namespace ringcast::ipc
