// Deliveries by reference of a client-mode handle: the daemon's receive log
// is mapped read-only at the welcome (ipc/channel.cpp checks its seals and
// size); a deliver_ref names a message's bytes there, which the deliver
// callback reads in place, and a release hands them back once the callback
// returned. Releases are cumulative and batched: one request for every
// kReleaseBatch deliveries, or when the queue ran dry, so a busy stream
// costs no system call per message (a push rings the daemon only when it
// sleeps).
#include <algorithm>
#include <chrono>
#include <string>

#include "client/cpg_checks.hpp"
#include "client/daemon_connection.hpp"

namespace ringcast::client {

namespace {

constexpr std::uint32_t kReleaseBatch = 32;

// How long the handle's sends may meet CS_ERR_TRY_AGAIN, none taken, before
// its queued references are spilled however little of the log they hold
// (the node spills an embedded handle after as long): they may be what the
// ring waits for, with the rest of the log held past them.
constexpr std::int64_t kSpillAfterRefusedNs = 100'000'000;

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool DaemonConnection::route_ref(ipc::Event& event) {
  const auto& d = std::get<ipc::DeliverRef>(event.body);
  const std::uint64_t log = channel_.log.bytes().size();
  if (log == 0) {
    die("ringcastd sent deliver_ref, but mapped no receive log at the welcome");
    return false;
  }
  if (d.length == 0 || d.log_offset >= log || d.length > log - d.log_offset) {
    die("a deliver_ref outside the receive log: " + std::to_string(d.length) + " bytes at " +
        std::to_string(d.log_offset) + " of " + std::to_string(log));
    return false;
  }
  std::lock_guard lock(state_mutex_);
  queue_.push_back({{}, std::move(event.body), false});
  return true;
}

void DaemonConnection::run_ref_callback(const ipc::DeliverRef& d) {
  refs_delivered_.fetch_add(1, std::memory_order_relaxed);
  ref_bytes_.fetch_add(d.length, std::memory_order_relaxed);
  if (callbacks_.deliver == nullptr) return;
  const cpg_name name = to_cpg_name(d.group.view());
  // The mapping is read-only: a program that writes into a delivery (it
  // may under corosync, whose buffer is its own) faults here.
  std::byte* at = channel_.log.bytes().data() + d.log_offset;
  callbacks_.deliver(handle, &name, d.sender.node, d.sender.pid, at, d.length);
}

void DaemonConnection::callback_done(std::uint64_t ref_id, bool queue_drained) {
  --callbacks_running_;
  if (ref_id != 0) {
    done_through_ = std::max(done_through_, ref_id);
    ++unreleased_;
  }
  // An outer callback still reads its delivery: nothing is released under it.
  if (callbacks_running_ > 0 || done_through_ == released_through_) return;
  if (queue_drained || unreleased_ >= kReleaseBatch) flush_release();
}

// Whether the queued references reach the handle's share of the log, where
// the node begins to spill an embedded handle.
bool DaemonConnection::refs_hold_the_log_locked() const {
  const std::uint64_t half_log = channel_.log.bytes().size() / 2;
  const std::uint64_t share =
      spill_from_bytes_ == 0 ? half_log : std::min(spill_from_bytes_, half_log);
  std::uint64_t held = 0;
  for (const QueuedEvent& q : queue_)
    if (const auto* d = std::get_if<ipc::DeliverRef>(&q.body)) held += d->length;
  return held > 0 && held >= share;
}

void DaemonConnection::send_taken() noexcept {
  refused_since_ns_.store(0, std::memory_order_relaxed);
}

// The library's spill, as the node spills an embedded handle's queue: a
// program that retries CS_ERR_TRY_AGAIN of its own send before it
// dispatches (corosync's cpgbound) would otherwise wait for log space that
// only its own undispatched deliveries hold, until the daemon evicted it.
// Once the queued references reach the handle's share of the log, or the
// refusals have lasted kSpillAfterRefusedNs (retries, each within that
// long of the last), they become copies in the library's memory and are
// released at once; before that a refusal is the ring's, and a copy would
// only cost.
void DaemonConnection::spill_refs() {
  const std::int64_t now = steady_now_ns();
  const std::int64_t last = last_refused_ns_.exchange(now, std::memory_order_relaxed);
  std::int64_t since = refused_since_ns_.load(std::memory_order_relaxed);
  // A refusal long after the last one (the program stopped sending) starts
  // a new run of them.
  if (since == 0 || now - last > kSpillAfterRefusedNs)
    refused_since_ns_.store(since = now, std::memory_order_relaxed);
  const bool lasted = now - since >= kSpillAfterRefusedNs;
  spill_queued_refs(
      lasted ? "whose sends met CS_ERR_TRY_AGAIN for 100 ms" : "whose send met CS_ERR_TRY_AGAIN",
      lasted);
}

std::int64_t DaemonConnection::spill_deadline_ns() {
  return steady_now_ns() + kSpillAfterRefusedNs;
}

bool DaemonConnection::past(std::int64_t deadline_ns) {
  return steady_now_ns() >= deadline_ns;
}

// Not under a running callback (its delivery's id comes before theirs, and
// releases are cumulative), nor while another thread dispatches (it
// releases them itself).
void DaemonConnection::spill_queued_refs(const char* why, bool whatever_they_hold) {
  std::unique_lock serial(dispatch_mutex_, std::try_to_lock);
  if (!serial.owns_lock() || callbacks_running_ > 0) return;
  std::uint64_t through = 0, messages = 0, bytes = 0;
  {
    std::lock_guard lock(state_mutex_);
    if (!whatever_they_hold && !refs_hold_the_log_locked()) return;
    const std::span<std::byte> log = channel_.log.bytes();
    for (QueuedEvent& q : queue_) {
      const auto* d = std::get_if<ipc::DeliverRef>(&q.body);
      if (d == nullptr) continue;
      const std::byte* at = log.data() + d->log_offset;
      q.frame.assign(at, at + d->length);
      through = std::max(through, d->delivery_id);
      queued_bytes_ += q.frame.size();
      ++messages;
      bytes += d->length;
      q.body = ipc::DeliverInline{d->handle, d->group, d->sender, q.frame};
    }
  }
  if (through == 0) return;
  refs_spilled_.fetch_add(messages, std::memory_order_relaxed);
  ref_bytes_spilled_.fetch_add(bytes, std::memory_order_relaxed);
  log_bounded(LogLevel::info, "spill",
              std::string("a handle ") + why + " held " + std::to_string(bytes) +
                  " bytes of the daemon's receive log in " + std::to_string(messages) +
                  " undispatched deliveries: copied out of the log and released "
                  "(totem.handle_unreleased_max_bytes)");
  done_through_ = std::max(done_through_, through);
  flush_release();
}

void DaemonConnection::flush_release() {
  // Finalized (a callback may finalize its own handle) or dead: the daemon
  // dropped what the handle held.
  if (finalizing_.load(std::memory_order_acquire) || dead_.load(std::memory_order_acquire)) return;
  ipc::EncodedFrame frame;
  ipc::encode(ipc::Request{0, ipc::Release{remote_handle_, done_through_}}, frame);
  std::lock_guard lock(push_mutex_);
  // A dead handle's release goes nowhere: the daemon released everything.
  if (push_frame(frame) != CS_OK) return;
  released_through_ = done_through_;
  unreleased_ = 0;
}

}  // namespace ringcast::client
