#include "ring/send_queue.hpp"

#include <cstring>

#include "ring/log_space.hpp"

namespace ringcast::ring {

SendQueue::SendQueue(std::uint32_t capacity_messages, const fabric::MemoryRegion& buffer,
                     std::uint32_t max_message_bytes)
    : slots_(capacity_messages), buffer_(&buffer), max_message_bytes_(max_message_bytes) {
  RC_ASSERT(capacity_messages > 0);
  RC_ASSERT(buffer.size() >= max_message_bytes);
}

namespace {

std::uint64_t copied_bytes(const OutgoingMessage& m) noexcept {
  if (m.pieces.empty()) return m.payload.size();
  std::uint64_t n = 0;
  for (const auto& piece : m.pieces)
    n += piece.size();
  return n;
}

void copy_payload(const OutgoingMessage& m, std::byte* out) noexcept {
  if (m.pieces.empty()) {
    if (!m.payload.empty()) std::memcpy(out, m.payload.data(), m.payload.size());
    return;
  }
  for (const auto& piece : m.pieces) {
    if (piece.empty()) continue;
    std::memcpy(out, piece.data(), piece.size());
    out += piece.size();
  }
}

}  // namespace

Status SendQueue::push(const OutgoingMessage& m) {
  const bool zero_copy = m.zero_copy.region != nullptr;
  const std::uint64_t bytes = zero_copy ? m.zero_copy.length : copied_bytes(m);
  if (bytes > max_message_bytes_) {
    return make_error(
        Errc::too_big, "submit",
        std::to_string(bytes) + " bytes, the maximum is " + std::to_string(max_message_bytes_));
  }
  if (zero_copy && !m.zero_copy.region->contains(m.zero_copy.region->data() + m.zero_copy.offset,
                                                 m.zero_copy.length)) {
    return make_error(Errc::invalid_argument, "submit", "zero-copy segment outside its region");
  }
  if (count_ == slots_.size()) return make_error(Errc::try_again, "submit", "queue full");
  QueuedMessage q{m.tag,       m.group,   m.sender_pid, static_cast<std::uint32_t>(bytes),
                  m.guarantee, zero_copy, m.zero_copy,  0};
  if (!zero_copy) {
    const std::uint64_t at = place_position(head_, bytes, buffer_->size());
    // An empty buffer is all free, including a tail skipped to the next lap.
    if (head_ == tail_) tail_ = at;
    if (at + bytes > tail_ + buffer_->size()) {
      return make_error(Errc::try_again, "submit", "buffer full");
    }
    const std::uint64_t offset = at % buffer_->size();
    copy_payload(m, buffer_->data() + offset);
    bytes_copied_ += bytes;
    q.source = {buffer_, offset, static_cast<std::uint32_t>(bytes)};
    head_ = at + bytes;
    q.buffer_end = head_;
  }
  slots_[(first_ + count_) % slots_.size()] = q;
  ++count_;
  RC_ASSERT(head_ - tail_ <= buffer_->size());  // queued payloads fit the buffer
  return {};
}

const QueuedMessage& SendQueue::front() const noexcept {
  RC_ASSERT(count_ > 0);
  return slots_[first_];
}

std::span<const std::byte> SendQueue::payload(const QueuedMessage& m) const noexcept {
  RC_ASSERT(m.source.region != nullptr);  // the send buffer or the caller's region
  return {m.source.region->data() + m.source.offset, m.payload_bytes};
}

void SendQueue::pop() noexcept {
  const QueuedMessage& m = front();
  if (!m.zero_copy) tail_ = m.buffer_end;
  RC_ASSERT(tail_ <= head_);
  first_ = static_cast<std::uint32_t>((first_ + 1) % slots_.size());
  --count_;
  // The last copied payload to leave ends where the buffer's head is.
  RC_ASSERT(count_ > 0 || tail_ == head_);
}

}  // namespace ringcast::ring
