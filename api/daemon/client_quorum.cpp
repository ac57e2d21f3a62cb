// A client's quorum handles: each a QuorumHandle of the daemon's node, so
// the answers and notifications are those the node's QuorumTracker gives an
// embedded handle (api/client/quorum.cpp). The daemon's handle only queues:
// the client's library runs the callbacks of its own model.
#include <algorithm>

#include "daemon/client_sessions.hpp"

namespace ringcast::daemon {

namespace {

std::vector<std::uint32_t> bounded(const std::vector<std::uint32_t>& nodes) {
  const std::size_t n = std::min<std::size_t>(nodes.size(), ipc::kMaxMembers);
  return {nodes.begin(), nodes.begin() + static_cast<std::ptrdiff_t>(n)};
}

ipc::QuorumNotify notify_of(std::uint64_t handle, const client::QuorumView& v) {
  ipc::QuorumNotify n;
  n.handle = handle;
  n.quorate = v.quorate ? 1 : 0;
  n.ring_node = v.ring.representative;
  n.ring_seq = v.ring.seq;
  n.nodes = bounded(v.ring.nodes);
  n.joined = bounded(v.joined);
  n.left = bounded(v.left);
  return n;
}

}  // namespace

client::QuorumHandle* ClientSessions::find_quorum(std::uint64_t handle) {
  const auto it = quorum_.find(handle);
  return it == quorum_.end() ? nullptr : it->second.get();
}

// The model was checked by the decoder; the library applies it.
void ClientSessions::quorum_initialize(std::uint64_t request_id, const ipc::QuorumInitialize&) {
  if (size() >= kMaxHandlesPerClient) return reply(request_id, CS_ERR_NO_RESOURCES);
  auto [error, q] = client::QuorumHandle::open(node_, QUORUM_MODEL_V0, nullptr);
  if (error != CS_OK) return reply(request_id, error);
  const std::uint64_t handle = next_handle_++;
  quorum_.emplace(handle, std::move(q));
  finalized_last_ = false;
  reply(request_id, CS_OK, handle);
}

void ClientSessions::quorum_finalize(std::uint64_t request_id, const ipc::QuorumFinalize& m) {
  client::QuorumHandle* q = find_quorum(m.handle);
  if (q == nullptr) return reply(request_id, CS_ERR_BAD_HANDLE);
  q->close();
  quorum_.erase(m.handle);
  finalized_last_ = size() == 0;
  reply(request_id, CS_OK);
}

void ClientSessions::quorum_getquorate(std::uint64_t request_id, const ipc::QuorumGetquorate& m) {
  client::QuorumHandle* q = find_quorum(m.handle);
  if (q == nullptr) return reply(request_id, CS_ERR_BAD_HANDLE);
  reply(request_id, CS_OK, q->quorate() ? 1 : 0);
}

// The state it queues goes out before the reply: when the call returns, the
// client holds it, as an embedded handle does.
void ClientSessions::quorum_trackstart(std::uint64_t request_id, const ipc::QuorumTrackstart& m) {
  client::QuorumHandle* q = find_quorum(m.handle);
  if (q == nullptr) return reply(request_id, CS_ERR_BAD_HANDLE);
  const cs_error_t error = q->track(m.flags);
  forward_quorum(m.handle, *q, false);
  reply(request_id, error);
}

// CS_OK also when the handle was not tracking, as the embedded call answers.
// What was queued before goes out before the reply: once the call returns,
// the client holds every notification it will get, as an embedded handle does.
void ClientSessions::quorum_trackstop(std::uint64_t request_id, const ipc::QuorumTrackstop& m) {
  client::QuorumHandle* q = find_quorum(m.handle);
  if (q == nullptr) return reply(request_id, CS_ERR_BAD_HANDLE);
  q->untrack();
  forward_quorum(m.handle, *q, false);
  reply(request_id, CS_OK);
}

// Bounded by what the tracker queued: one view per ring change.
bool ClientSessions::forward_quorum(std::uint64_t id, client::QuorumHandle& q, bool idle_only) {
  bool any = false;
  while (!idle_only || writer_.idle()) {
    std::shared_ptr<const client::QuorumView> view = q.take_view();
    if (view == nullptr) break;
    writer_.put(ipc::Event{0, notify_of(id, *view)});
    any = true;
  }
  return any;
}

bool ClientSessions::dispatch_quorum() {
  bool any = false;
  for (auto& [id, q] : quorum_)
    any |= forward_quorum(id, *q, true);
  return any;
}

void ClientSessions::close_quorum() {
  for (auto& [id, q] : quorum_)
    q->close();
  quorum_.clear();
}

}  // namespace ringcast::daemon
