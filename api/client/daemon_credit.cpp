// A client-mode handle's credit (docs/protocol.md, "Credit"): the daemon
// grants each connection a number of mcasts and bytes it may have sent and
// not seen acknowledged, so that cpg_mcast_joined returns once its request
// is in the ring instead of waiting for a reply. What the call must still
// say itself is checked here: too big (by the caller), not in a group (the
// join and leave replies tell), CS_ERR_TRY_AGAIN while the daemon holds an
// earlier mcast for the ring (as corosync says it while its ring reforms
// or its queue is full); out of credit, the call waits for acks. A message
// above the atomic size is never credited. An mcast
// the daemon refused for good after this library returned CS_OK for it is
// never silently lost: its ack says so, a log line names it, and the
// handle's next mcast returns the error.
#include <string>

#include "base/log.hpp"
#include "client/daemon_connection.hpp"

namespace ringcast::client {

namespace {

cs_error_t refusal_code(std::uint32_t error) {
  if (error > CS_OK && (error <= CS_ERR_TOO_MANY_GROUPS || error == CS_ERR_SECURITY))
    return static_cast<cs_error_t>(error);
  return CS_ERR_LIBRARY;
}

}  // namespace

bool DaemonConnection::credit_available_locked() const noexcept {
  return credit_.messages < credit_.window_messages && credit_.bytes < credit_.window_bytes;
}

cs_error_t DaemonConnection::take_credit(std::uint64_t bytes, bool& credited, bool& out_of_credit) {
  credited = false;
  out_of_credit = false;
  for (;;) {
    bool holding = false;
    {
      std::lock_guard lock(state_mutex_);
      if (credit_.refused != CS_OK) {
        const cs_error_t e = credit_.refused;
        // An evicted handle stays refused, as the daemon answers its calls.
        if (e != CS_ERR_LIBRARY) credit_.refused = CS_OK;
        return e;
      }
      if (credit_.window_messages == 0) return CS_OK;
      if (!joined_.load(std::memory_order_acquire)) return CS_ERR_NOT_EXIST;
      // Above the atomic size the ring sends fragments, and CS_OK says the
      // message was delivered, as in embedded mode: it waits for its reply.
      if (!credit_.holding && bytes > channel_.welcome.atomic_message_bytes) return CS_OK;
      if (!credit_.holding && credit_available_locked()) {
        ++credit_.messages;
        credit_.bytes += bytes;
        credited = true;
        return CS_OK;
      }
      holding = credit_.holding;
    }
    if (holding) {
      // One look at the ring for the ack that ends the hold, no wait.
      const cs_error_t e = pump([] { return false; }, false);
      if (e == CS_ERR_LIBRARY) return e;
      std::lock_guard lock(state_mutex_);
      if (credit_.holding) return CS_ERR_TRY_AGAIN;
      continue;
    }
    out_of_credit = true;
    return CS_OK;
  }
}

// Out of credit: the acks come once the daemon sent what it took, which may
// need log space this handle's queued references hold; after as long as
// refusals may last they are spilled.
cs_error_t DaemonConnection::wait_for_credit() {
  const std::int64_t deadline = spill_deadline_ns();
  bool waited_long = false;
  const cs_error_t e = pump(
      [&] {
        if (credit_.holding || credit_.refused != CS_OK || credit_available_locked()) return true;
        waited_long = past(deadline);
        return waited_long;
      },
      true);
  if (e != CS_OK) return e;
  if (waited_long) spill_queued_refs("waiting for the daemon's credit", true);
  return CS_OK;
}

bool DaemonConnection::held_by_daemon() {
  std::lock_guard lock(state_mutex_);
  return credit_.holding;
}

// An ack of the reader's: checked against what this handle sent.
bool DaemonConnection::route_ack(const ipc::McastAck& a) {
  std::unique_lock lock(state_mutex_);
  const bool consistent = a.messages <= credit_.messages && a.bytes <= credit_.bytes &&
                          a.through >= credit_.through &&
                          a.through < next_request_id_.load(std::memory_order_acquire) &&
                          (a.messages == 0 || a.through > credit_.through);
  if (!consistent) {
    lock.unlock();
    die("an mcast_ack of " + std::to_string(a.messages) + " mcasts through request " +
        std::to_string(a.through) + ", which this handle did not send");
    return false;
  }
  credit_.messages -= a.messages;
  credit_.bytes -= a.bytes;
  credit_.through = a.through;
  credit_.holding = a.holding != 0;
  credit_.window_messages = a.window_messages;
  credit_.window_bytes = a.window_bytes;
  if (a.refused == 0) return true;
  const cs_error_t e = refusal_code(a.error);
  if (credit_.refused != CS_ERR_LIBRARY) credit_.refused = e;
  if (e == CS_ERR_NOT_EXIST) joined_.store(false, std::memory_order_release);
  lock.unlock();
  log_line(LogLevel::warning, "ringcastd refused " + std::to_string(a.refused) +
                                  " mcast(s) that cpg_mcast_joined had returned CS_OK for, "
                                  "through request " +
                                  std::to_string(a.through) + " (cs_error_t " + std::to_string(e) +
                                  "): they were not sent; the handle's "
                                  "next mcast returns that error");
  return true;
}

}  // namespace ringcast::client
