// Credited mcasts (docs/protocol.md, "Credit"): the library returned CS_OK
// for each without waiting, so the daemon must send it or say why it never
// will. One the node refuses with CS_ERR_TRY_AGAIN (a sync, a full send
// queue) is held and sent again, and the connection takes nothing else
// until it went, so that a join, leave or finalize after it keeps its
// place; one refused for good (not in a group, evicted) is counted in the
// handle's next ack, which the library turns into the error of its next
// mcast. Acks are cumulative, one for many mcasts: written once half the
// credit is used, or at once for a refusal or a change of holding.
#include <string>

#include "base/log.hpp"
#include "daemon/client_sessions.hpp"

namespace ringcast::daemon {

ipc::IpcStatus ClientSessions::mcast_credited(std::uint64_t request_id,
                                              const ipc::McastCredited& m) {
  Handle* h = find(m.handle);
  // The library sends only its own handle's, before its finalize.
  if (h == nullptr)
    return ipc::ipc_error(ipc::IpcErrc::bad_field, "a credited mcast of handle " +
                                                       std::to_string(m.handle) +
                                                       ", which this client does not hold");
  std::vector<std::byte> parts = std::move(h->parts);
  h->parts.clear();
  const std::uint64_t bytes = parts.size() + m.payload.size();
  RC_TRY(ledger_.take_credited(bytes));
  if (m.payload.size() > node_->max_fragmented_bytes() - parts.size()) {
    settle(*h, request_id, bytes, CS_ERR_TOO_BIG);
    return {};
  }
  const std::span<const std::byte> pieces[] = {parts, m.payload};
  const cpg::Status s = h->session->send(static_cast<cpg::Guarantee>(m.guarantee), pieces);
  if (s.code() != CS_ERR_TRY_AGAIN) {
    settle(*h, request_id, bytes, s.code());
    return {};
  }
  Held held{m.handle, request_id, m.guarantee, std::move(parts)};
  held.bytes.insert(held.bytes.end(), m.payload.begin(), m.payload.end());
  held_ = std::move(held);
  h->unacked.holding = 1;
  h->ack_urgent = true;
  return {};
}

bool ClientSessions::retry_held() {
  if (!held_) return false;
  Handle* h = find(held_->handle);
  if (h == nullptr) {  // closed meanwhile: the client is going
    held_.reset();
    return true;
  }
  const std::span<const std::byte> pieces[] = {held_->bytes};
  const cpg::Status s = h->session->send(static_cast<cpg::Guarantee>(held_->guarantee), pieces);
  if (s.code() == CS_ERR_TRY_AGAIN) return false;
  // The library refuses sends while the hold lasts: say at once it ended.
  h->unacked.holding = 0;
  h->ack_urgent = true;
  settle(*h, held_->request_id, held_->bytes.size(), s.code());
  held_.reset();
  return true;
}

void ClientSessions::settle(Handle& h, std::uint64_t request_id, std::uint64_t bytes,
                            cs_error_t error) {
  ipc::McastAck& a = h.unacked;
  a.through = request_id;
  ++a.messages;
  a.bytes += bytes;
  if (error == CS_OK) return;
  ++a.refused;
  a.error = static_cast<std::uint32_t>(error);
  h.ack_urgent = true;
  counters_.credited_refused.fetch_add(1, std::memory_order_relaxed);
  if (h.refusal_logged) return;
  h.refusal_logged = true;
  log_line(LogLevel::warning,
           "client pid " + std::to_string(pid_) + ": a credited mcast was refused (cs_error_t " +
               std::to_string(error) + "); the client's next mcast returns that error");
}

bool ClientSessions::write_acks() {
  const ipc::ClientQuota& q = ledger_.quota();
  const bool half_used = ledger_.credited_messages() * 2 >= q.max_credit_messages ||
                         ledger_.credited_bytes() * 2 >= q.max_credit_bytes;
  bool any = false;
  for (auto& [id, h] : handles_) {
    ipc::McastAck& a = h.unacked;
    if (!h.ack_urgent && !(half_used && a.messages > 0)) continue;
    if (!writer_.idle()) break;  // no ack waits aside: the client reads first
    a.handle = id;
    a.window_messages = q.max_credit_messages;
    a.window_bytes = q.max_credit_bytes;
    writer_.put(ipc::Event{0, a});
    ledger_.acknowledged(a.messages, a.bytes);
    a = ipc::McastAck{.through = a.through, .holding = a.holding};
    h.ack_urgent = false;
    any = true;
  }
  return any;
}

// The credit of a new handle, in the ack that follows its initialize's reply.
void ClientSessions::grant(std::uint64_t handle) {
  const ipc::ClientQuota& q = ledger_.quota();
  if (q.max_credit_messages == 0) return;
  writer_.put(ipc::Event{0, ipc::McastAck{.handle = handle,
                                          .window_bytes = q.max_credit_bytes,
                                          .window_messages = q.max_credit_messages}});
}

// A finalized handle's unacknowledged mcasts stop counting against the credit.
void ClientSessions::forget_credit(Handle& h) {
  ledger_.acknowledged(h.unacked.messages, h.unacked.bytes);
  h.unacked = {};
}

}  // namespace ringcast::daemon
