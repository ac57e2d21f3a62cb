// Client mode's side of the C API (docs/api.md, "Embedded and client
// mode"). The arguments were checked by cpg.cpp as for an embedded handle.
#include "client/daemon_cpg.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

#include "client/cpg_checks.hpp"
#include "client/daemon_handles.hpp"
#include "client/handle_table.hpp"

namespace ringcast::client::daemon_cpg {

namespace {

std::shared_ptr<DaemonConnection> find(cpg_handle_t handle) {
  return DaemonHandles::instance().find(handle);
}

}  // namespace

cs_error_t open(const DaemonAddress& address, const DaemonCallbacks& callbacks, void* context,
                cpg_handle_t* handle) {
  auto c = DaemonConnection::open(address, callbacks);
  if (!c) return c.status().code();
  (*c)->context = context;
  *handle = DaemonHandles::instance().add(*c);
  return CS_OK;
}

cs_error_t finalize(cpg_handle_t handle) {
  auto c = DaemonHandles::instance().remove(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  HandleTable::instance().remove_iterations_of(handle);
  return c->finalize();
}

cs_error_t fd_get(cpg_handle_t handle, int* fd) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (fd == nullptr) return CS_ERR_INVALID_PARAM;
  *fd = c->fd();
  return CS_OK;
}

cs_error_t max_atomic_msgsize_get(cpg_handle_t handle, uint32_t* size) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (cs_error_t e = c->usable(); e != CS_OK) return e;
  if (size == nullptr) return CS_ERR_INVALID_PARAM;
  *size = static_cast<uint32_t>(std::min<std::uint64_t>(c->atomic_message_bytes(), UINT32_MAX));
  return CS_OK;
}

cs_error_t context_get(cpg_handle_t handle, void** context) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (context == nullptr) return CS_ERR_INVALID_PARAM;
  *context = c->context;
  return CS_OK;
}

cs_error_t context_set(cpg_handle_t handle, void* context) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  c->context = context;
  return CS_OK;
}

cs_error_t dispatch(cpg_handle_t handle, std::optional<cs_dispatch_flags_t> mode) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (!mode) return CS_ERR_INVALID_PARAM;
  return c->dispatch(*mode);
}

cs_error_t join(cpg_handle_t handle, const struct cpg_name* group) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (cs_error_t e = check_name(group); e != CS_OK) return e;
  return c->join(name_view(group));
}

cs_error_t leave(cpg_handle_t handle, const struct cpg_name* group) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (cs_error_t e = check_name(group); e != CS_OK) return e;
  return c->leave(name_view(group));
}

cs_error_t mcast_joined(cpg_handle_t handle, std::optional<cpg_guarantee_t> guarantee,
                        const struct iovec* iovec, unsigned int iov_len) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (!guarantee || (iovec == nullptr && iov_len > 0) || iov_len > kMaxPieces)
    return CS_ERR_INVALID_PARAM;
  for (unsigned i = 0; i < iov_len; ++i)
    if (iovec[i].iov_base == nullptr && iovec[i].iov_len > 0) return CS_ERR_INVALID_PARAM;
  return c->mcast(*guarantee, std::span(iovec, iov_len));
}

cs_error_t membership_get(cpg_handle_t handle, struct cpg_name* group,
                          struct cpg_address* member_list, int* member_list_entries) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (cs_error_t e = check_name(group); e != CS_OK) return e;
  if (member_list == nullptr || member_list_entries == nullptr) return CS_ERR_INVALID_PARAM;
  std::vector<ipc::ProcessId> members;
  if (cs_error_t e = c->membership(name_view(group), members); e != CS_OK) return e;
  const std::size_t n = std::min<std::size_t>(members.size(), CPG_MEMBERS_MAX);
  for (std::size_t i = 0; i < n; ++i)
    member_list[i] = {members[i].node, members[i].pid, CPG_REASON_UNDEFINED};
  *member_list_entries = static_cast<int>(n);
  return CS_OK;
}

cs_error_t local_get(cpg_handle_t handle, unsigned int* local_nodeid) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (local_nodeid == nullptr) return CS_ERR_INVALID_PARAM;
  return c->local_node(*local_nodeid);
}

// Enabled while the daemon holds a credited mcast for the ring (sends then
// return CS_ERR_TRY_AGAIN), as the last ack read said.
cs_error_t flow_control_state_get(cpg_handle_t handle, cpg_flow_control_state_t* state) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (cs_error_t e = c->usable(); e != CS_OK) return e;
  if (state == nullptr) return CS_ERR_INVALID_PARAM;
  *state = c->holds_too_much() || c->held_by_daemon() ? CPG_FLOW_CONTROL_ENABLED
                                                      : CPG_FLOW_CONTROL_DISABLED;
  return CS_OK;
}

cs_error_t zcb_alloc(cpg_handle_t handle, size_t size, void** buffer) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (cs_error_t e = c->usable(); e != CS_OK) return e;
  if (buffer == nullptr) return CS_ERR_INVALID_PARAM;
  if (size > c->largest_message_bytes()) return CS_ERR_TOO_BIG;
  if (c->has_zcb_segment()) return c->segment_alloc(size, buffer);
  return c->zcb_alloc(size, buffer);
}

cs_error_t zcb_free(cpg_handle_t handle, void* buffer) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (buffer == nullptr) return CS_ERR_INVALID_PARAM;
  if (c->in_zcb_segment(buffer)) return c->segment_free(buffer);
  return c->zcb_free(buffer);
}

// A buffer of the zcb segment goes by offset, read by the NIC in place; one
// of the library's own memory (a daemon with no segment) as an mcast of its
// bytes, copied into the request ring.
cs_error_t zcb_mcast_joined(cpg_handle_t handle, std::optional<cpg_guarantee_t> guarantee,
                            void* msg, size_t msg_len) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (!guarantee || msg == nullptr) return CS_ERR_INVALID_PARAM;
  if (cs_error_t e = c->usable(); e != CS_OK) return e;
  if (c->in_zcb_segment(msg)) return c->segment_mcast(*guarantee, msg, msg_len);
  if (!c->owns_buffer(msg)) return CS_ERR_INVALID_PARAM;
  const iovec piece{msg, msg_len};
  const cs_error_t e = c->mcast(*guarantee, std::span(&piece, 1));
  if (e == CS_OK) c->count_zcb_send(msg_len);
  return e;
}

cs_error_t iteration_initialize(cpg_handle_t handle, std::optional<cpg_iteration_type_t> type,
                                const struct cpg_name* group, cpg_iteration_handle_t* iteration) {
  auto c = find(handle);
  if (!c) return CS_ERR_BAD_HANDLE;
  if (cs_error_t e = c->usable(); e != CS_OK) return e;
  if (iteration == nullptr) return CS_ERR_INVALID_PARAM;
  if (cs_error_t e = check_iteration(type, group); e != CS_OK) return e;
  std::vector<ipc::IterationEntry> entries;
  if (cs_error_t e = c->iterate(*type, group != nullptr ? name_view(group) : "", entries);
      e != CS_OK)
    return e;
  auto it = std::make_shared<Iteration>();
  it->owner = handle;
  it->items.reserve(entries.size());
  for (const auto& entry : entries) {
    cpg_iteration_description_t d{};
    d.group.length = std::min<std::uint32_t>(entry.group.length, CPG_MAX_NAME_LENGTH);
    std::memcpy(d.group.value, entry.group.value.data(), d.group.length);
    d.nodeid = entry.process.node;
    d.pid = entry.process.pid;
    it->items.push_back(d);
  }
  *iteration = HandleTable::instance().add_iteration(std::move(it));
  return CS_OK;
}

}  // namespace ringcast::client::daemon_cpg
