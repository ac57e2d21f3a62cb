// RingTransport: one running ring member, as the CPG layer above sees it.
//
// Implemented by RingNode (verbs, static ring), MemberNode (verbs, with
// membership: failures, reformation, joins) and SimCluster's members (the
// simulator, for tests). The CPG runtime is written against this interface
// only, so every cpg_* call is tested over the simulator and runs unchanged
// over RDMA.
//
// What comes out is ONE ordered stream of events: messages and configuration
// changes (membership/member.hpp's ConfigurationChange), at the same point of
// the stream at every member that moves from one configuration to the next.
// The first event is always the first regular configuration (a static ring:
// every member, all joined).
//
// Threads: submit(), release_through(), allocate() and the queries may be
// called from any thread. The transport calls the round callback it was
// built with on its own thread, after each round, with its lock held: that is
// where events and finished zero-copy sends are drained (EventSource) and
// where records nobody holds are released, without another lock round trip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "base/result.hpp"
#include "fabric/fabric.hpp"
#include "membership/member.hpp"
#include "ring/config.hpp"
#include "ring/receive_log.hpp"
#include "ring/ring_id.hpp"
#include "ring/send_queue.hpp"

namespace ringcast::runtime {

// One item of the ordered stream: a message (change == nullptr) or a
// configuration change.
struct TransportEvent {
  const membership::ConfigurationChange* change = nullptr;  // valid until the next event
  ring::Delivery message;                                   // payload valid until released
  // Increasing over the whole stream (across rings); release_through takes
  // it. A configuration change carries the index of the last message.
  std::uint64_t index = 0;
};

// What the round callback drains. Only valid during the callback.
class EventSource {
 public:
  virtual std::optional<TransportEvent> next_event() = 0;
  // Tags of zero-copy sends whose source the NIC will not read again.
  virtual std::optional<std::uint64_t> next_zero_copy_done() noexcept = 0;
  // Every event up to index is no longer used by the application.
  virtual Status release_through(std::uint64_t index) = 0;

 protected:
  ~EventSource() = default;
};

using RoundCallback = std::function<void(EventSource&)>;

// What the application side may ask of the send path, for
// cpg_flow_control_state_get and the status call.
struct SendPathState {
  std::uint32_t queued_messages = 0;
  std::uint32_t queue_capacity = 0;
  std::uint64_t buffer_bytes_used = 0;
  std::uint64_t buffer_bytes = 0;
  std::uint64_t bytes_copied = 0;  // payload bytes copied at submit, ever
};

// Counters and where the member stands, for ringcast_counters_get and the
// bench's status line. Sums over every ring this member was in.
struct TransportStatus {
  ring::RingId ring;                    // installed last
  std::vector<fabric::NodeId> members;  // of that ring, in ring order
  bool operational = true;              // false while a new ring is being formed
  std::uint64_t tokens_received = 0;
  std::uint64_t tokens_passed = 0;
  std::uint64_t tokens_dropped = 0;  // stale or invalid
  std::uint64_t records_delivered = 0;
  std::uint64_t records_dropped = 0;  // invalid headers refused
  std::uint64_t retransmissions = 0;  // tokens written again, record ranges rewritten
  std::uint64_t reformations = 0;     // rings installed after the first
  std::uint64_t control_dropped = 0;  // invalid membership messages refused
};

class RingTransport {
 public:
  virtual ~RingTransport() = default;

  virtual fabric::NodeId me() const noexcept = 0;
  virtual const ring::RingConfig& ring_config() const noexcept = 0;

  // Errc::try_again when the send queue or buffer is full, Errc::too_big,
  // Errc::invalid_argument, Errc::link_failed once the member cannot go on.
  virtual Status submit(const ring::OutgoingMessage& message) = 0;
  // Every event up to index is no longer used by the application.
  virtual Status release_through(std::uint64_t index) = 0;
  // Local registered memory (Access::local_only), for zero-copy buffers.
  virtual Result<std::unique_ptr<fabric::MemoryRegion>> allocate(std::size_t bytes) = 0;

  virtual TransportStatus status() = 0;
  virtual SendPathState send_path() = 0;
};

// The send path of a ring state (a helper for the implementations).
inline SendPathState send_path_of(const ring::SendQueue& queue, std::uint64_t buffer_bytes) {
  SendPathState s;
  s.queued_messages = queue.size();
  s.queue_capacity = queue.capacity();
  s.buffer_bytes_used = queue.buffer_bytes_used();
  s.buffer_bytes = buffer_bytes;
  s.bytes_copied = queue.bytes_copied();
  return s;
}

}  // namespace ringcast::runtime
