// ClientSessions::handle: one decoded request of a client, answered through
// the node's Session as the C API answers the same call in embedded mode
// (api/client/cpg.cpp).
#include <algorithm>
#include <cstring>
#include <string>

#include "daemon/client_sessions.hpp"

namespace ringcast::daemon {

namespace {

template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

std::uint64_t handle_of(const ipc::RequestBody& body) {
  return std::visit(
      [](const auto& m) -> std::uint64_t {
        if constexpr (requires { m.handle; }) {
          return m.handle;
        } else {
          return 0;
        }
      },
      body);
}

}  // namespace

// Nothing of a handle comes between its message's parts and the mcast that
// ends them (docs/protocol.md); a finalize drops the parts.
ipc::IpcStatus ClientSessions::check_parts(const ipc::Request& request) {
  const ipc::MessageType type = ipc::type_of(request.body);
  if (type == ipc::MessageType::mcast || type == ipc::MessageType::mcast_part ||
      type == ipc::MessageType::mcast_credited || type == ipc::MessageType::finalize)
    return {};
  Handle* h = find(handle_of(request.body));
  if (h == nullptr || h->parts.empty()) return {};
  return ipc::ipc_error(ipc::IpcErrc::bad_field,
                        std::string(ipc::message_type_name(type)) +
                            " between a message's parts and the mcast that ends them");
}

ipc::IpcStatus ClientSessions::mcast_part(const ipc::McastPart& m) {
  Handle* h = find(m.handle);
  if (h == nullptr) return {};  // its mcast gets CS_ERR_BAD_HANDLE
  const std::uint64_t largest = node_->max_fragmented_bytes();
  if (m.payload.size() > largest - h->parts.size())
    return ipc::ipc_error(ipc::IpcErrc::too_big,
                          "parts of " + std::to_string(h->parts.size() + m.payload.size()) +
                              " bytes, the largest message is " + std::to_string(largest));
  h->parts.insert(h->parts.end(), m.payload.begin(), m.payload.end());
  return {};
}

void ClientSessions::mcast(std::uint64_t request_id, const ipc::Mcast& m) {
  Handle* h = find(m.handle);
  if (h == nullptr) return reply(request_id, CS_ERR_BAD_HANDLE);
  std::vector<std::byte> parts = std::move(h->parts);
  h->parts.clear();
  if (m.payload.size() > node_->max_fragmented_bytes() - parts.size())
    return reply(request_id, CS_ERR_TOO_BIG);
  const auto guarantee = static_cast<cpg::Guarantee>(m.guarantee);
  if (parts.size() + m.payload.size() > node_->max_message_bytes()) {
    parts.insert(parts.end(), m.payload.begin(), m.payload.end());
    return start_large_send(request_id, *h, guarantee, std::move(parts));
  }
  const std::span<const std::byte> pieces[] = {parts, m.payload};
  reply(request_id, h->session->send(guarantee, pieces).code());
}

// Whether a query on `handle` may be answered: the error of its list reply.
std::uint32_t ClientSessions::queryable(std::uint64_t handle) {
  Handle* h = find(handle);
  if (h == nullptr) return CS_ERR_BAD_HANDLE;
  return h->session->evicted() ? CS_ERR_LIBRARY : CS_OK;
}

void ClientSessions::membership_get(std::uint64_t request_id, const ipc::MembershipGet& m) {
  ipc::ReplyMembers r;
  r.error = queryable(m.handle);
  if (r.error == CS_OK) {
    for (const cpg::Member& member : node_->members_of(m.group.view())) {
      if (r.members.size() == ipc::kMaxMembers) break;
      r.members.push_back({member.node, member.pid});
    }
  }
  writer_.put(ipc::Event{request_id, std::move(r)});
}

// The entries of one reply_iteration frame: a group and a process each,
// after the header and the error and count.
std::size_t ClientSessions::iteration_entries_max() const noexcept {
  constexpr std::size_t kEntryBytes = 4 + ipc::kMaxGroupNameBytes + 8;
  const std::size_t fit = (writer_.max_frame_bytes() - ipc::kFrameHeaderBytes - 8) / kEntryBytes;
  return std::min<std::size_t>(fit, ipc::kMaxIterationEntries);
}

void ClientSessions::iteration(std::uint64_t request_id, const ipc::Iteration& m) {
  ipc::ReplyIteration r;
  r.error = queryable(m.handle);
  if (r.error == CS_OK) {
    const auto kind = static_cast<cpg_iteration_type_t>(m.kind);
    const bool one = kind == CPG_ITERATION_ONE_GROUP;
    for (const auto& d : node_->describe_groups(kind, one ? m.group.view() : "")) {
      if (r.entries.size() == iteration_entries_max()) break;
      const std::size_t n = std::min<std::size_t>(d.group.length, ipc::kMaxGroupNameBytes);
      r.entries.push_back({ipc::GroupName::of({d.group.value, n}), {d.nodeid, d.pid}});
    }
  }
  writer_.put(ipc::Event{request_id, std::move(r)});
}

ipc::IpcStatus ClientSessions::handle(const ipc::Request& request) {
  RC_TRY(check_parts(request));
  const std::uint64_t id = request.request_id;
  auto session_call = [&](std::uint64_t handle, auto call) {
    Handle* h = find(handle);
    reply(id, h == nullptr ? CS_ERR_BAD_HANDLE : call(*h->session).code());
  };
  ipc::IpcStatus result;
  std::visit(
      Overload{
          [&](const ipc::Hello&) {
            result = ipc::ipc_error(ipc::IpcErrc::wrong_direction, "hello after the welcome");
          },
          [&](const ipc::Initialize& m) { initialize(id, m); },
          [&](const ipc::Finalize& m) { finalize(id, m); },
          [&](const ipc::Join& m) {
            session_call(m.handle, [&](client::Session& s) { return s.join(m.group.view()); });
          },
          [&](const ipc::Leave& m) {
            session_call(m.handle, [&](client::Session& s) { return s.leave(m.group.view()); });
          },
          [&](const ipc::Mcast& m) { mcast(id, m); },
          [&](const ipc::McastPart& m) { result = mcast_part(m); },
          [&](const ipc::MembershipGet& m) { membership_get(id, m); },
          [&](const ipc::LocalGet& m) {
            if (find(m.handle) == nullptr) return reply(id, CS_ERR_BAD_HANDLE);
            reply(id, CS_OK, node_->node_id());
          },
          [&](const ipc::Iteration& m) { iteration(id, m); },
          [&](const ipc::ZcbAlloc& m) { zcb_alloc(id, m); },
          [&](const ipc::ZcbFree& m) { zcb_free(m); },
          [&](const ipc::ZcbMcast& m) { zcb_mcast(id, m); },
          [&](const ipc::Release& m) { release(m); },
          [&](const ipc::QuorumInitialize& m) { quorum_initialize(id, m); },
          [&](const ipc::QuorumFinalize& m) { quorum_finalize(id, m); },
          [&](const ipc::QuorumGetquorate& m) { quorum_getquorate(id, m); },
          [&](const ipc::QuorumTrackstart& m) { quorum_trackstart(id, m); },
          [&](const ipc::QuorumTrackstop& m) { quorum_trackstop(id, m); },
          [&](const ipc::McastCredited& m) { result = mcast_credited(id, m); },
      },
      request.body);
  return result;
}

}  // namespace ringcast::daemon
