// RingTransport: one running ring member, as the CPG layer above sees it.
//
// Implemented by RingNode (verbs, static ring), MembershipNode (verbs, with
// membership: failures, reformation, joins) and SimCluster's members (the
// simulator, for tests). The CPG runtime is written against this interface
// only, so every cpg_* call is tested over the simulator and runs unchanged
// over RDMA. The interface speaks its own small vocabulary (below): plain
// values, so the client layer above needs nothing of ring/ or membership/.
//
// What comes out is ONE ordered stream of events: messages and configuration
// changes, at the same point of the stream at every member that moves from
// one configuration to the next. The first event is always the first regular
// configuration (a static ring: every member, all joined).
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
#include <span>
#include <vector>

#include "base/result.hpp"
#include "base/status_snapshot.hpp"
#include "fabric/fabric.hpp"

namespace ringcast::runtime {

// How a message is ordered, weakest to strongest. UNORDERED and FIFO are
// delivered as AGREED (in total order); SAFE waits until every member of the
// ring holds the message. The values are the ring's and the CPG's
// (CPG_TYPE_*): static_asserts where each pair is visible tie them.
enum class DeliveryGuarantee : std::uint8_t { unordered = 0, fifo = 1, agreed = 2, safe = 3 };

// A ring's id: the node that formed it and a number that grows with every
// new ring.
struct TransportRingId {
  std::uint32_t representative = 0;
  std::uint64_t epoch = 0;

  friend bool operator==(const TransportRingId&, const TransportRingId&) = default;
};

// A configuration: the members of a ring, and who left and joined since the
// last one. A transitional configuration lists the members of the ring that
// ends that go on with us.
struct TransportConfiguration {
  TransportRingId ring;
  std::vector<std::uint32_t> members;  // in ring order
  std::vector<std::uint32_t> left;
  std::vector<std::uint32_t> joined;
  bool transitional = false;
};

// A message in the total order. The payload stays valid until
// release_through() covers its event's index.
struct TransportMessage {
  std::uint32_t sender = 0;  // node
  std::uint32_t sender_pid = 0;
  std::uint32_t group = 0;
  DeliveryGuarantee guarantee = DeliveryGuarantee::agreed;
  std::span<const std::byte> payload;
};

// One item of the ordered stream: a message (change == nullptr) or a
// configuration change.
struct TransportEvent {
  const TransportConfiguration* change = nullptr;  // valid until the next event
  TransportMessage message;
  // Increasing over the whole stream (across rings); release_through takes
  // it. A configuration change carries the index of the last message.
  std::uint64_t index = 0;
};

// A message to send. The payload is copied at submit, unless it is a
// zero-copy send: then the NIC reads it from registered memory (allocate())
// until the tag comes back from next_zero_copy_done().
struct OutgoingTransportMessage {
  std::span<const std::byte> payload;
  // When not empty: the payload is these pieces, concatenated by the one copy
  // at submit (the iovec of cpg_mcast_joined); `payload` is then ignored.
  std::span<const std::span<const std::byte>> pieces;
  fabric::Segment zero_copy;  // when its region is set: sent from there
  // Only with zero_copy: at most 64 bytes (the ring refuses more), copied at submit
  // in front of it (a fragment's header).
  std::span<const std::byte> prefix;
  std::uint32_t group = 0;
  std::uint32_t sender_pid = 0;
  DeliveryGuarantee guarantee = DeliveryGuarantee::agreed;
  std::uint64_t tag = 0;  // of a zero-copy send
};

// What the round callback drains. Only valid during the callback.
class EventSource {
 public:
  virtual std::optional<TransportEvent> next_event() = 0;
  // Tags of zero-copy sends whose source the NIC will not read again.
  virtual std::optional<std::uint64_t> next_zero_copy_done() noexcept = 0;
  // Every event up to index is no longer used by the application.
  virtual Status release_through(std::uint64_t index) = 0;
  // Once this member has left the ring for good (it cannot go on in any
  // ring: membership met a record its ending ring cannot deliver past), how
  // many accepted messages were still queued then and are never sent;
  // nullopt while it has not. A static ring never leaves.
  virtual std::optional<std::uint64_t> left_unsent() const noexcept { return std::nullopt; }

 protected:
  ~EventSource() = default;
};

using RoundCallback = std::function<void(EventSource&)>;

// Registered local memory (Access::local_only) for zero-copy buffers: the
// region is the caller's; the transport must outlive it.
using RegionAllocator =
    std::function<Result<std::unique_ptr<fabric::MemoryRegion>>(std::size_t bytes)>;

class RingTransport {
 public:
  virtual ~RingTransport() = default;

  virtual std::uint32_t me() const noexcept = 0;  // this member's node id
  // The largest payload submit() takes (the ring's max_message_bytes).
  virtual std::size_t max_message_bytes() const noexcept = 0;

  // Errc::try_again when the send queue or buffer is full, Errc::too_big,
  // Errc::invalid_argument, Errc::link_failed once the member cannot go on.
  virtual Status submit(const OutgoingTransportMessage& message) = 0;
  // Every event up to index is no longer used by the application.
  virtual Status release_through(std::uint64_t index) = 0;
  // Local registered memory (Access::local_only), for zero-copy buffers.
  virtual Result<std::unique_ptr<fabric::MemoryRegion>> allocate(std::size_t bytes) = 0;
  // The caller's memory registered as allocate()'s (Access::local_only), for
  // zero-copy buffers in memory the transport does not own (ringcastd's
  // segment shared with one client). The caller keeps the memory mapped
  // until the region is destroyed; the same ordering as allocate()'s applies.
  virtual Result<std::unique_ptr<fabric::MemoryRegion>> register_memory(
      std::span<std::byte> memory) {
    (void)memory;
    return make_error(Errc::invalid_argument, "RingTransport::register_memory",
                      "this transport registers no caller memory");
  }
  // Stops the member: once it returns, no round callback runs and the ring
  // reads no zero-copy buffer again. The owner of allocate()'s regions stops
  // the transport, destroys the regions, then the transport: over verbs a
  // region still registered when the transport goes keeps its protection
  // domain busy (ibv_dealloc_pd fails and the domain leaks). Idempotent.
  virtual void stop() = 0;
  // allocate() as a function, for a pool that must not know the transport.
  RegionAllocator region_allocator() {
    return [this](std::size_t bytes) { return allocate(bytes); };
  }

  // For ringcast_counters_get, cpg_flow_control_state_get and the bench's
  // status line.
  virtual StatusSnapshot status() = 0;
  virtual SendPathSnapshot send_path() = 0;
  // The nodes this member has a live link to now, itself not included: the
  // nodes a ring can take in. A process starting on a running cluster is in
  // a ring of its own until merged with them (Node::wait_settled).
  virtual std::vector<std::uint32_t> linked_nodes() = 0;
};

}  // namespace ringcast::runtime
