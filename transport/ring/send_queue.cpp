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

Status check_zero_copy(const OutgoingMessage& m) {
  const fabric::Segment& z = m.zero_copy;
  if (z.region == nullptr) {
    if (m.prefix.empty()) return {};
    return make_error(Errc::invalid_argument, "submit", "a prefix without zero copy");
  }
  if (!z.region->contains(z.region->data() + z.offset, z.length)) {
    return make_error(Errc::invalid_argument, "submit", "zero-copy segment outside its region");
  }
  if (m.prefix.size() > kMaxZeroCopyPrefixBytes) {
    return make_error(Errc::invalid_argument, "submit",
                      "a zero-copy prefix of " + std::to_string(m.prefix.size()) +
                          " bytes, the maximum is " + std::to_string(kMaxZeroCopyPrefixBytes));
  }
  return {};
}

}  // namespace

Status SendQueue::push(const OutgoingMessage& m) {
  const bool zero_copy = m.zero_copy.region != nullptr;
  const std::uint64_t bytes = zero_copy ? m.prefix.size() + m.zero_copy.length : copied_bytes(m);
  if (bytes > max_message_bytes_) {
    return make_error(
        Errc::too_big, "submit",
        std::to_string(bytes) + " bytes, the maximum is " + std::to_string(max_message_bytes_));
  }
  if (Status s = check_zero_copy(m); !s.ok()) return s;
  if (count_ == slots_.size()) return make_error(Errc::try_again, "submit", "queue full");
  QueuedMessage q{m.tag,
                  m.group,
                  m.sender_pid,
                  static_cast<std::uint32_t>(bytes),
                  m.guarantee,
                  zero_copy,
                  m.zero_copy,
                  {},
                  0};
  const std::uint64_t copied = zero_copy ? m.prefix.size() : bytes;
  if (!zero_copy || copied > 0) {
    auto slice = reserve(copied);
    if (!slice) return slice.error();
    std::byte* out = buffer_->data() + slice->offset;
    if (zero_copy) {
      std::memcpy(out, m.prefix.data(), m.prefix.size());
      q.prefix = *slice;
    } else {
      copy_payload(m, out);
      q.source = *slice;
    }
    bytes_copied_ += copied;
    q.buffer_end = head_;
  }
  slots_[(first_ + count_) % slots_.size()] = q;
  ++count_;
  RC_ASSERT(head_ - tail_ <= buffer_->size());  // queued payloads fit the buffer
  return {};
}

Result<fabric::Segment> SendQueue::reserve(std::uint64_t bytes) {
  const std::uint64_t at = place_position(head_, bytes, buffer_->size());
  // An empty buffer is all free, including a tail skipped to the next lap.
  if (head_ == tail_) tail_ = at;
  if (at + bytes > tail_ + buffer_->size()) {
    return make_error(Errc::try_again, "submit", "buffer full");
  }
  head_ = at + bytes;
  return fabric::Segment{buffer_, at % buffer_->size(), static_cast<std::uint32_t>(bytes)};
}

const QueuedMessage& SendQueue::front() const noexcept {
  RC_ASSERT(count_ > 0);
  return slots_[first_];
}

std::span<const std::byte> SendQueue::payload(const QueuedMessage& m) const noexcept {
  RC_ASSERT(m.source.region != nullptr);  // the send buffer or the caller's region
  RC_ASSERT(m.prefix.length + m.source.length == m.payload_bytes);
  return {m.source.region->data() + m.source.offset, m.source.length};
}

std::span<const std::byte> SendQueue::prefix(const QueuedMessage& m) const noexcept {
  if (m.prefix.length == 0) return {};
  return {buffer_->data() + m.prefix.offset, m.prefix.length};
}

void SendQueue::pop() noexcept {
  const QueuedMessage& m = front();
  if (m.uses_buffer()) tail_ = m.buffer_end;
  RC_ASSERT(tail_ <= head_);
  first_ = static_cast<std::uint32_t>((first_ + 1) % slots_.size());
  --count_;
  // The last copied payload to leave ends where the buffer's head is.
  RC_ASSERT(count_ > 0 || tail_ == head_);
}

}  // namespace ringcast::ring
