// What one client may hold of the daemon at once, and the ledger that keeps
// it to that. A client over a quota gets the IpcError of that quota; whether
// the daemon then refuses the one request or evicts the client is its
// choice (a hostile flood is evicted, a burst answered CS_ERR_TRY_AGAIN).
#pragma once

#include <cstdint>

#include "ipc/frame_codec.hpp"
#include "ipc/ipc_error.hpp"
#include "ipc/messages.hpp"

namespace ringcast::ipc {

struct ClientQuota {
  // Requests taken from the ring and not yet answered: bounds the daemon's
  // memory for one client (a client that never reads its replies stalls).
  std::uint32_t max_requests_in_flight = 256;
  // Bytes of zcb buffers allocated and not freed: memory registered with
  // the NIC on the client's behalf (pinned, so bounded per client).
  std::uint64_t max_zcb_bytes = std::uint64_t{64} << 20;
  // Doorbell rings per second, both ways: an honest client sleeps at most
  // once per spin (50 us), so 40,000 leaves room; beyond is a flood.
  std::uint32_t max_wakeups_per_second = 40'000;
  // Log bytes delivered by reference and not released: beyond, the daemon
  // copies the client's deliveries instead, and the node's bound on the log
  // a handle may hold evicts it if it still does not release.
  std::uint64_t max_unreleased_bytes = std::uint64_t{16} << 20;
  // The credit: credited mcasts (and their bytes) the client may have sent
  // and not seen acknowledged (McastAck's window). A client may send one
  // while fewer than these are unacknowledged before it, so the daemon
  // holds at most max_credit_bytes plus one message for it. 0 messages: no
  // credit, every mcast waits for its reply.
  std::uint32_t max_credit_messages = 256;
  std::uint64_t max_credit_bytes = 512 << 10;
};

// The decoder's limits for a client with this quota: its zcb segment, the
// largest message, and no single buffer above the zcb quota or the segment.
RequestLimits request_limits(const ClientQuota& quota, std::uint64_t zcb_segment_bytes,
                             std::uint32_t max_message_bytes) noexcept;

// Not thread-safe: the daemon thread serving the client owns it. Time comes in.
class QuotaLedger {
 public:
  explicit QuotaLedger(ClientQuota quota = {}) : quota_(quota) {}

  // A decoded request is taken: counts it in flight when it expects a reply.
  IpcStatus admit(MessageType type);
  // Its reply went out.
  void answered() noexcept;

  IpcStatus charge_zcb(std::uint64_t bytes);
  void refund_zcb(std::uint64_t bytes) noexcept;

  // `rings` doorbell rings found at one wake-up (an eventfd adds them up
  // while nobody reads it): the quota counts rings, so a flood is seen
  // however rarely the consumer gets to run.
  IpcStatus charge_wakeup(std::uint64_t now_ns, std::uint64_t rings = 1);

  // A credited mcast of `bytes` was taken: refused beyond the credit (a
  // client that ignored its window). Pairs with acknowledged().
  IpcStatus take_credited(std::uint64_t bytes);
  // An mcast_ack for that many went into the event ring (or aside).
  void acknowledged(std::uint32_t messages, std::uint64_t bytes) noexcept;

  IpcStatus charge_delivery(std::uint64_t bytes);
  void release_delivery(std::uint64_t bytes) noexcept;

  std::uint32_t requests_in_flight() const noexcept { return in_flight_; }
  std::uint64_t zcb_bytes() const noexcept { return zcb_bytes_; }
  std::uint64_t unreleased_bytes() const noexcept { return unreleased_; }
  std::uint32_t credited_messages() const noexcept { return credited_messages_; }
  std::uint64_t credited_bytes() const noexcept { return credited_bytes_; }
  const ClientQuota& quota() const noexcept { return quota_; }

 private:
  ClientQuota quota_;
  std::uint32_t in_flight_ = 0;
  std::uint64_t zcb_bytes_ = 0;
  std::uint64_t unreleased_ = 0;
  std::uint32_t credited_messages_ = 0;
  std::uint64_t credited_bytes_ = 0;
  std::uint64_t window_start_ns_ = 0;
  std::uint32_t wakeups_in_window_ = 0;
};

}  // namespace ringcast::ipc
