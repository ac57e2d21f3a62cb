// Deliveries by reference: a message that lies whole in the node's receive
// log, which the client maps read-only, goes as a deliver_ref (its id, its
// offset and length in the log) instead of a copy into the event ring. It
// stays pinned in the log, held by the client's handle, until the client
// releases it (cumulative: a release of id N releases every earlier one of
// that handle too), or the handle goes. Messages put together from
// fragments or spilled out of the log are copied, and so is a message while
// the client holds its quota of unreleased bytes
// (ipc::ClientQuota::max_unreleased_bytes): a client that stops releasing
// gets copies, then its handle is evicted by the node's bound on the log a
// handle may hold (client::EvictionLimits), as one that stops dispatching.
#include <chrono>
#include <cstdint>
#include <string>

#include "daemon/client_sessions.hpp"

namespace ringcast::daemon {

std::optional<ipc::DeliverRef> ClientSessions::reference(std::uint64_t handle,
                                                         const std::byte* payload,
                                                         std::size_t bytes) const noexcept {
  if (log_.empty() || bytes == 0 || bytes < copy_below_) return std::nullopt;
  const auto base = reinterpret_cast<std::uintptr_t>(log_.data());
  const auto at = reinterpret_cast<std::uintptr_t>(payload);
  if (at < base || at - base > log_.size() || bytes > log_.size() - (at - base))
    return std::nullopt;
  ipc::DeliverRef ref;
  ref.handle = handle;
  ref.log_offset = at - base;
  ref.length = bytes;
  return ref;
}

void ClientSessions::deliver_queued(std::uint64_t handle, const cpg::Message& m) {
  const ipc::GroupName group = ipc::GroupName::of(m.group);
  const ipc::ProcessId sender{m.sender.node, m.sender.pid};
  Handle* h = find(handle);
  auto ref = reference(handle, m.bytes.data(), m.bytes.size());
  if (h != nullptr && ref && writer_.charge_ref(ref->length)) {
    ref->group = group;
    ref->sender = sender;
    ref->delivery_id = h->session->hold_running(ref->length);
    writer_.deliver_ref(*ref);
    counters_.deliveries_by_reference.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  writer_.deliver(handle, group, sender, m.bytes);
}

void ClientSessions::release(const ipc::Release& m) {
  Handle* h = find(m.handle);
  const client::HeldRelease r = h == nullptr ? client::HeldRelease{false, 0, "no such handle"}
                                             : node_->release_held(*h->session, m.delivery_id);
  if (r.ok) {
    writer_.refund_ref(r.bytes);
    return;
  }
  counters_.releases_refused.fetch_add(1, std::memory_order_relaxed);
  log_unanswered_refusal(
      "release", m.handle,
      "release of delivery " + std::to_string(m.delivery_id) + " refused (" + r.why + ")");
}

void ClientSessions::log_unanswered_refusal(const char* source, std::uint64_t handle,
                                            const std::string& what) {
  const auto now_ns =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  refusal_log_.log(
      LogLevel::warning, source,
      "client pid " + std::to_string(pid_) + " handle " + std::to_string(handle) + ": " + what,
      now_ns);
}

void ClientSessions::drop_held(client::Session& session) {
  writer_.refund_ref(session.take_held_bytes());
}

}  // namespace ringcast::daemon
