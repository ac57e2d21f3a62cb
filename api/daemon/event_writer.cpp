#include "daemon/event_writer.hpp"

#include <algorithm>

namespace ringcast::daemon {

namespace {

// The fixed bytes of the frames that carry a payload (docs/protocol.md):
// the header, then handle, group, sender, length and reserved; or handle,
// length and reserved.
constexpr std::size_t kGroupWireBytes = 4 + ipc::kMaxGroupNameBytes;
constexpr std::size_t kInlineFixedBytes = ipc::kFrameHeaderBytes + 8 + kGroupWireBytes + 8 + 8;
constexpr std::size_t kPartFixedBytes = ipc::kFrameHeaderBytes + 8 + 8;

bool is_reply(const ipc::EventBody& body) {
  return std::holds_alternative<ipc::Reply>(body) ||
         std::holds_alternative<ipc::ReplyMembers>(body) ||
         std::holds_alternative<ipc::ReplyIteration>(body);
}

}  // namespace

std::size_t EventWriter::inline_payload_bytes() const noexcept {
  return max_frame_bytes_ - kInlineFixedBytes;
}

std::size_t EventWriter::part_payload_bytes() const noexcept {
  return max_frame_bytes_ - kPartFixedBytes;
}

void EventWriter::write(const ipc::EncodedFrame& frame, bool reply) {
  if (pending_.empty() && !failed_) {
    const std::span<const std::byte> parts[] = {frame.fixed, frame.payload};
    const Status pushed = ring_.push(parts);
    if (pushed.ok()) {
      if (reply) ledger_.answered();
      return;
    }
    // too_big cannot happen (the sizes above keep frames within the
    // ring's); protocol marks the client broken, and flush() says so.
    if (pushed.error().code != Errc::try_again) failed_ = true;
  }
  pending_bytes_ += frame.size();
  pending_.push_back({frame.joined(), reply});
}

void EventWriter::put(const ipc::Event& event) {
  std::lock_guard lock(mutex_);
  ipc::encode(event, scratch_);
  write(scratch_, is_reply(event.body));
}

void EventWriter::deliver(std::uint64_t handle, const ipc::GroupName& group, ipc::ProcessId sender,
                          std::span<const std::byte> payload) {
  std::lock_guard lock(mutex_);
  // Leading parts while what is left does not fit the deliver_inline.
  while (payload.size() > inline_payload_bytes()) {
    const std::size_t n = std::min(part_payload_bytes(), payload.size() - inline_payload_bytes());
    ipc::encode(ipc::Event{0, ipc::DeliverPart{handle, payload.first(n)}}, scratch_);
    write(scratch_, false);
    payload = payload.subspan(n);
  }
  ipc::encode(ipc::Event{0, ipc::DeliverInline{handle, group, sender, payload}}, scratch_);
  write(scratch_, false);
}

bool EventWriter::try_deliver(std::uint64_t handle, const ipc::GroupName& group,
                              ipc::ProcessId sender, std::span<const std::byte> payload) {
  std::lock_guard lock(mutex_);
  if (!pending_.empty() || failed_ || payload.size() > inline_payload_bytes()) return false;
  ipc::encode(ipc::Event{0, ipc::DeliverInline{handle, group, sender, payload}}, scratch_);
  const std::span<const std::byte> parts[] = {scratch_.fixed, scratch_.payload};
  const Status pushed = ring_.push(parts);
  if (pushed.ok()) return true;
  // A broken ring: the connection's next flush() says so.
  if (pushed.error().code != Errc::try_again) failed_ = true;
  return false;
}

bool EventWriter::try_deliver_ref(const ipc::DeliverRef& ref) {
  std::lock_guard lock(mutex_);
  if (!pending_.empty() || failed_ || !ledger_.charge_delivery(ref.length).ok()) return false;
  ipc::encode(ipc::Event{0, ref}, scratch_);
  const std::span<const std::byte> parts[] = {scratch_.fixed, scratch_.payload};
  const Status pushed = ring_.push(parts);
  if (pushed.ok()) return true;
  ledger_.release_delivery(ref.length);
  if (pushed.error().code != Errc::try_again) failed_ = true;
  return false;
}

bool EventWriter::charge_ref(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  return ledger_.charge_delivery(bytes).ok();
}

void EventWriter::deliver_ref(const ipc::DeliverRef& ref) {
  std::lock_guard lock(mutex_);
  ipc::encode(ipc::Event{0, ref}, scratch_);
  write(scratch_, false);
}

void EventWriter::refund_ref(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  ledger_.release_delivery(bytes);
}

Status EventWriter::flush() {
  std::lock_guard lock(mutex_);
  if (failed_) return make_error(Errc::protocol, "EventWriter::flush", "the event ring is broken");
  while (!pending_.empty()) {
    const Status pushed = ring_.push(std::span<const std::byte>(pending_.front().frame));
    if (!pushed.ok()) {
      if (pushed.error().code == Errc::try_again) return {};
      failed_ = true;
      return pushed.error();
    }
    if (pending_.front().reply) ledger_.answered();
    pending_bytes_ -= pending_.front().frame.size();
    pending_.pop_front();
  }
  return {};
}

}  // namespace ringcast::daemon
