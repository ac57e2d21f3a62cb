// A client-mode quorum handle's calls and callbacks: the requests of the
// quorum service, and a quorum_notify turned into the callbacks of the
// handle's model with the arguments an embedded handle gives them
// (quorum_handle.cpp).
#include "client/daemon_connection.hpp"

namespace ringcast::client {

cs_error_t DaemonConnection::getquorate(int& quorate) {
  std::uint64_t value = 0;
  const cs_error_t e = simple_call(ipc::QuorumGetquorate{remote_handle_}, &value);
  if (e == CS_OK) quorate = value != 0 ? 1 : 0;
  return e;
}

// Bits the quorum service does not know are ignored, as in embedded mode
// (the daemon refuses them as malformed).
cs_error_t DaemonConnection::track(unsigned int flags) {
  constexpr unsigned int kKnown = CS_TRACK_CURRENT | CS_TRACK_CHANGES | CS_TRACK_CHANGES_ONLY;
  return simple_call(ipc::QuorumTrackstart{remote_handle_, flags & kKnown});
}

cs_error_t DaemonConnection::untrack() {
  return simple_call(ipc::QuorumTrackstop{remote_handle_});
}

void DaemonConnection::run_quorum_callback(const ipc::QuorumNotify& n, bool nodelist) {
  const DaemonQuorumCallbacks& cb = quorum_callbacks_;
  const auto count = static_cast<uint32_t>(n.nodes.size());
  const quorum_ring_id id{n.ring_node, n.ring_seq};
  if (cb.model == QUORUM_MODEL_V0) {
    if (cb.v0 == nullptr) return;
    std::vector<uint32_t> nodes = n.nodes;  // the callback's list is not const
    cb.v0(handle, n.quorate, n.ring_seq, count, nodes.data());
    return;
  }
  if (!nodelist) {
    if (cb.v1 != nullptr) cb.v1(handle, n.quorate, id, count, n.nodes.data());
    return;
  }
  if (cb.nodelist == nullptr) return;
  cb.nodelist(handle, id, count, n.nodes.data(), static_cast<uint32_t>(n.joined.size()),
              n.joined.data(), static_cast<uint32_t>(n.left.size()), n.left.data());
}

}  // namespace ringcast::client
