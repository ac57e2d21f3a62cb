#include "ipc/quota.hpp"

#include <algorithm>
#include <string>

namespace ringcast::ipc {
namespace {

std::string over(std::uint64_t held, std::uint64_t adding, std::uint64_t max) {
  return std::to_string(held) + " held, " + std::to_string(adding) + " more asked, at most " +
         std::to_string(max);
}

}  // namespace

RequestLimits request_limits(const ClientQuota& quota, std::uint64_t zcb_segment_bytes,
                             std::uint32_t max_message_bytes) noexcept {
  return RequestLimits{zcb_segment_bytes, max_message_bytes,
                       std::min(quota.max_zcb_bytes, zcb_segment_bytes)};
}

IpcStatus QuotaLedger::admit(MessageType type) {
  if (!expects_reply(type)) return {};
  if (in_flight_ >= quota_.max_requests_in_flight)
    return ipc_error(IpcErrc::quota_requests, over(in_flight_, 1, quota_.max_requests_in_flight));
  ++in_flight_;
  return {};
}

void QuotaLedger::answered() noexcept {
  if (in_flight_ > 0) --in_flight_;
}

IpcStatus QuotaLedger::charge_zcb(std::uint64_t bytes) {
  if (bytes > quota_.max_zcb_bytes - zcb_bytes_)
    return ipc_error(IpcErrc::quota_zcb_bytes, over(zcb_bytes_, bytes, quota_.max_zcb_bytes));
  zcb_bytes_ += bytes;
  return {};
}

void QuotaLedger::refund_zcb(std::uint64_t bytes) noexcept {
  zcb_bytes_ -= std::min(bytes, zcb_bytes_);
}

IpcStatus QuotaLedger::charge_wakeup(std::uint64_t now_ns, std::uint64_t rings) {
  constexpr std::uint64_t kWindowNs = 1'000'000'000;
  if (now_ns - window_start_ns_ >= kWindowNs) {
    window_start_ns_ = now_ns;
    wakeups_in_window_ = 0;
  }
  if (wakeups_in_window_ >= quota_.max_wakeups_per_second)
    return ipc_error(IpcErrc::quota_wakeups, std::to_string(wakeups_in_window_) +
                                                 " wake-ups this second, at most " +
                                                 std::to_string(quota_.max_wakeups_per_second));
  wakeups_in_window_ = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(wakeups_in_window_ + rings, quota_.max_wakeups_per_second));
  return {};
}

IpcStatus QuotaLedger::take_credited(std::uint64_t bytes) {
  if (credited_messages_ >= quota_.max_credit_messages)
    return ipc_error(IpcErrc::quota_credit,
                     over(credited_messages_, 1, quota_.max_credit_messages) + " messages");
  if (credited_bytes_ >= quota_.max_credit_bytes)
    return ipc_error(IpcErrc::quota_credit,
                     over(credited_bytes_, bytes, quota_.max_credit_bytes) + " bytes");
  ++credited_messages_;
  credited_bytes_ += bytes;
  return {};
}

void QuotaLedger::acknowledged(std::uint32_t messages, std::uint64_t bytes) noexcept {
  credited_messages_ -= std::min(messages, credited_messages_);
  credited_bytes_ -= std::min(bytes, credited_bytes_);
}

IpcStatus QuotaLedger::charge_delivery(std::uint64_t bytes) {
  if (bytes > quota_.max_unreleased_bytes - unreleased_)
    return ipc_error(IpcErrc::quota_unreleased,
                     over(unreleased_, bytes, quota_.max_unreleased_bytes));
  unreleased_ += bytes;
  return {};
}

void QuotaLedger::release_delivery(std::uint64_t bytes) noexcept {
  unreleased_ -= std::min(bytes, unreleased_);
}

}  // namespace ringcast::ipc
