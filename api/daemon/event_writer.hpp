// Writes one client's events into its event ring (ipc/byte_ring.hpp) in the
// order they are put: replies, deliveries, configuration changes.
//
// A frame that finds the ring full is copied aside and goes out, with every
// frame after it, as the client makes room (flush). The connection
// dispatches its sessions only while nothing waits aside (idle()), so what
// waits is at most one delivery (its parts and its deliver_inline) and the
// replies of the requests in flight: a client that stops reading leaves its
// deliveries queued at its Session, where the node's spill and eviction
// bound them (client::EvictionLimits).
//
// A delivery larger than one frame goes as deliver_part frames, then the
// deliver_inline with its last bytes (docs/protocol.md, "Messages larger
// than a frame").
//
// Two threads write: the connection's (replies, and the sessions' queued
// callbacks) and the node's delivery thread, which writes a delivery
// straight into the ring (try_deliver, a Session's sink) while the ring has
// room, so that a delivery costs neither the Session's queue and eventfd
// nor a wake-up of the connection's thread. A mutex serializes them and
// guards what they touch of the ledger (requests answered, bytes delivered
// by reference); the rest of the ledger is the connection's thread's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "ipc/byte_ring.hpp"
#include "ipc/frame_codec.hpp"
#include "ipc/messages.hpp"
#include "ipc/quota.hpp"

namespace ringcast::daemon {

class EventWriter {
 public:
  // ledger: told of each reply once it is in the ring (requests in flight).
  EventWriter(ipc::RingProducer& ring, std::uint32_t max_frame_bytes, ipc::QuotaLedger& ledger)
      : ring_(ring), max_frame_bytes_(max_frame_bytes), ledger_(ledger) {}

  // A reply, reply_members or reply_iteration (request_id set), or a
  // confchg or totem_confchg (request_id 0).
  void put(const ipc::Event& event);
  void deliver(std::uint64_t handle, const ipc::GroupName& group, ipc::ProcessId sender,
               std::span<const std::byte> payload);

  // A delivery of one frame pushed now, or false (and nothing written):
  // something waits aside, the ring has no room, the payload needs parts,
  // or the ring is broken. For the node's delivery thread.
  bool try_deliver(std::uint64_t handle, const ipc::GroupName& group, ipc::ProcessId sender,
                   std::span<const std::byte> payload);

  // Deliveries by reference (a deliver_ref frame: the client reads the
  // bytes in the mapped receive log). Each charges the ledger's unreleased
  // bytes; over its quota nothing is written (the caller copies instead).
  // try_deliver_ref: as try_deliver. charge_ref then deliver_ref: from the
  // connection's thread (a queued message; it may wait aside).
  bool try_deliver_ref(const ipc::DeliverRef& ref);
  bool charge_ref(std::uint64_t bytes);
  void deliver_ref(const ipc::DeliverRef& ref);
  // Released by the client, or dropped with its handle.
  void refund_ref(std::uint64_t bytes);

  // Pushes what waits aside while the ring has room. An error only when the
  // client broke the ring (Errc::protocol: its tail is impossible).
  Status flush();
  bool idle() const {
    std::lock_guard lock(mutex_);
    return pending_.empty();
  }
  std::size_t pending_frames() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }
  std::uint64_t pending_bytes() const {
    std::lock_guard lock(mutex_);
    return pending_bytes_;
  }
  std::uint32_t max_frame_bytes() const noexcept { return max_frame_bytes_; }
  // Payload bytes a deliver_inline or deliver_part frame carries at most.
  std::size_t inline_payload_bytes() const noexcept;
  std::size_t part_payload_bytes() const noexcept;

 private:
  struct Aside {
    std::vector<std::byte> frame;
    bool reply = false;
  };
  void write(const ipc::EncodedFrame& frame, bool reply);

  mutable std::mutex mutex_;  // everything below
  ipc::RingProducer& ring_;
  std::uint32_t max_frame_bytes_;
  ipc::QuotaLedger& ledger_;
  std::deque<Aside> pending_;
  std::uint64_t pending_bytes_ = 0;
  bool failed_ = false;
  ipc::EncodedFrame scratch_;
};

}  // namespace ringcast::daemon
