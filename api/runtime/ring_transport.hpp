// RingTransport: one running ring member, as the CPG layer above sees it.
//
// RingNode (verbs, one member per process) implements it, and so does the
// simulated cluster the tests use; the CPG runtime is written against this
// interface only, so every cpg_* call is tested over the simulator and runs
// unchanged over RDMA.
//
// Threads: submit(), release_through(), allocate() and the queries may be
// called from any thread. The transport calls the round callback it was
// built with on its own progress thread, after each round, with the driver's
// lock held: that is where deliveries and finished zero-copy sends are
// drained (RingDriver::next_delivery / next_zero_copy_done) and where records
// nobody holds are released (RingDriver::release_through), without another
// lock round trip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "base/result.hpp"
#include "fabric/fabric.hpp"
#include "ring/config.hpp"
#include "ring/driver.hpp"
#include "ring/send_queue.hpp"
#include "ring/token.hpp"

namespace ringcast::runtime {

using RoundCallback = std::function<void(ring::RingDriver&)>;

// What the application side may ask of the send path, for
// cpg_flow_control_state_get and the status call.
struct SendPathState {
  std::uint32_t queued_messages = 0;
  std::uint32_t queue_capacity = 0;
  std::uint64_t buffer_bytes_used = 0;
  std::uint64_t buffer_bytes = 0;
  std::uint64_t bytes_copied = 0;  // payload bytes copied at submit, ever
};

class RingTransport {
 public:
  virtual ~RingTransport() = default;

  virtual fabric::NodeId me() const noexcept = 0;
  virtual const ring::RingMembership& membership() const noexcept = 0;
  virtual const ring::RingConfig& ring_config() const noexcept = 0;

  // Errc::try_again when the send queue or buffer is full, Errc::too_big,
  // Errc::invalid_argument, Errc::link_failed once the ring failed.
  virtual Status submit(const ring::OutgoingMessage& message) = 0;
  // Every delivered record up to seq is no longer used by the application.
  virtual Status release_through(std::uint64_t seq) = 0;
  // Local registered memory (Access::local_only), for zero-copy buffers.
  virtual Result<std::unique_ptr<fabric::MemoryRegion>> allocate(std::size_t bytes) = 0;
  // fn(RingDriver&) under the driver's lock; for counters and state reads.
  virtual void inspect(const std::function<void(const ring::RingDriver&)>& fn) = 0;

  SendPathState send_path() {
    SendPathState s;
    inspect([&s](const ring::RingDriver& d) {
      if (!d.started()) return;
      const ring::SendQueue& q = d.state().send_queue();
      s.queued_messages = q.size();
      s.queue_capacity = q.capacity();
      s.buffer_bytes_used = q.buffer_bytes_used();
      s.buffer_bytes = d.config().send_buffer_bytes;
      s.bytes_copied = q.bytes_copied();
    });
    return s;
  }
};

}  // namespace ringcast::runtime
