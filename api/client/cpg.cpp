// The C API: a thin switch between the two modes (docs/api.md, "Embedded
// and client mode"). An embedded handle is a client::Session (the same code
// as the C++ API), found in HandleTable; a client-mode handle is a
// connection to ringcastd, found in DaemonHandles (daemon_cpg.cpp). Each
// call checks the arguments the C types allow to be wrong (NULL pointers,
// lengths, enum values) the same way for both.
#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "client/client_mode.hpp"
#include "client/cpg_checks.hpp"
#include "client/daemon_cpg.hpp"
#include "client/daemon_handles.hpp"
#include "client/handle_table.hpp"
#include "client/node.hpp"
#include "client/session.hpp"
#include "ringcast/cpg.h"

using ringcast::client::check_iteration;
using ringcast::client::check_name;
using ringcast::client::checked_c_enum;
using ringcast::client::checked_dispatch_flags;
using ringcast::client::checked_guarantee;
using ringcast::client::checked_iteration_type;
using ringcast::client::HandleTable;
using ringcast::client::is_daemon_handle;
using ringcast::client::kMaxPieces;
using ringcast::client::name_view;
using ringcast::client::to_cpg_name;
namespace daemon_cpg = ringcast::client::daemon_cpg;
using ringcast::client::Node;
using ringcast::client::Session;

namespace {

template <std::size_t N>
std::size_t fill(std::array<cpg_address, N>& out, std::span<const ringcast::cpg::MemberChange> in) {
  const std::size_t n = std::min(N, in.size());
  for (std::size_t i = 0; i < n; ++i)
    out[i] = {in[i].member.node, in[i].member.pid, static_cast<uint32_t>(in[i].reason)};
  return n;
}

constexpr unsigned kFewPieces = 8;

// cpg_mcast_joined's iovec as the session's pieces, checked (NULL with a
// length, the total against the largest message).
template <unsigned N>
cs_error_t send_pieces(Session& s, ringcast::cpg::Guarantee guarantee, const struct iovec* iovec,
                       unsigned int iov_len) {
  std::array<std::span<const std::byte>, N> pieces;
  std::size_t total = 0;
  for (unsigned i = 0; i < iov_len; ++i) {
    if (iovec[i].iov_base == nullptr && iovec[i].iov_len > 0) return CS_ERR_INVALID_PARAM;
    pieces[i] = {static_cast<const std::byte*>(iovec[i].iov_base), iovec[i].iov_len};
    total += iovec[i].iov_len;
    if (total > s.node().max_fragmented_bytes()) return CS_ERR_TOO_BIG;
  }
  return s.send(guarantee, std::span(pieces).first(iov_len)).code();
}

// The C callbacks, adapted to the session's. `handle` is filled in once the
// session has its handle, before any callback can run (they run only in
// cpg_dispatch, which needs the handle).
ringcast::cpg::Callbacks adapt(cpg_deliver_fn_t deliver, cpg_confchg_fn_t confchg,
                               cpg_totem_confchg_fn_t totem, bool initial,
                               std::shared_ptr<cpg_handle_t> handle) {
  ringcast::cpg::Callbacks cb;
  if (deliver != nullptr) {
    cb.on_message = [deliver, handle](const ringcast::cpg::Message& m) {
      const cpg_name name = to_cpg_name(m.group);
      deliver(*handle, &name, m.sender.node, m.sender.pid, m.bytes.data(), m.bytes.size());
    };
  }
  if (confchg != nullptr) {
    cb.on_view_change = [confchg, handle](const ringcast::cpg::ViewChange& v) {
      const cpg_name name = to_cpg_name(v.group);
      std::array<cpg_address, CPG_MEMBERS_MAX> members{}, left{}, joined{};
      const std::size_t nm = std::min<std::size_t>(CPG_MEMBERS_MAX, v.members.size());
      for (std::size_t i = 0; i < nm; ++i)
        members[i] = {v.members[i].node, v.members[i].pid, 0};
      const std::size_t nl = fill(left, v.left);
      const std::size_t nj = fill(joined, v.joined);
      confchg(*handle, &name, members.data(), nm, left.data(), nl, joined.data(), nj);
    };
  }
  if (totem != nullptr) {
    cb.on_ring_change = [totem, handle](const ringcast::cpg::RingChange& r) {
      const cpg_ring_id id{r.representative, r.seq};
      totem(*handle, id, static_cast<uint32_t>(r.nodes.size()), r.nodes.data());
    };
  }
  cb.initial_ring_change = initial;
  return cb;
}

cs_error_t open_handle(cpg_handle_t* handle, cpg_deliver_fn_t deliver, cpg_confchg_fn_t confchg,
                       cpg_totem_confchg_fn_t totem, bool initial, void* context) {
  auto mode = ringcast::client::choose_mode();
  if (!mode) return mode.status().code();
  if (*mode) return daemon_cpg::open(**mode, {deliver, confchg, totem, initial}, context, handle);
  auto node = Node::current();
  if (!node) return node.status().code();
  auto cell = std::make_shared<cpg_handle_t>(0);
  auto session =
      ringcast::client::Session::open(*node, adapt(deliver, confchg, totem, initial, cell));
  if (!session) return session.status().code();
  (*session)->context = context;
  *cell = HandleTable::instance().add(*session);
  *handle = *cell;
  return CS_OK;
}

}  // namespace

extern "C" {

cs_error_t cpg_initialize(cpg_handle_t* handle, cpg_callbacks_t* callbacks) {
  if (handle == nullptr) return CS_ERR_INVALID_PARAM;
  cpg_deliver_fn_t deliver = callbacks ? callbacks->cpg_deliver_fn : nullptr;
  cpg_confchg_fn_t confchg = callbacks ? callbacks->cpg_confchg_fn : nullptr;
  return open_handle(handle, deliver, confchg, nullptr, false, nullptr);
}

cs_error_t cpg_model_initialize(cpg_handle_t* handle, cpg_model_t model,
                                cpg_model_data_t* model_data, void* context) {
  if (handle == nullptr || !checked_c_enum(model, {CPG_MODEL_V1})) return CS_ERR_INVALID_PARAM;
  if (model_data == nullptr) return open_handle(handle, nullptr, nullptr, nullptr, false, context);
  // The `model` argument alone picks the layout, as in corosync: programs
  // written for it leave model_data->model unset (zero), so it is not read.
  const auto* v1 = reinterpret_cast<const cpg_model_v1_data_t*>(model_data);
  if ((v1->flags & ~static_cast<unsigned>(CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF)) != 0)
    return CS_ERR_INVALID_PARAM;
  return open_handle(handle, v1->cpg_deliver_fn, v1->cpg_confchg_fn, v1->cpg_totem_confchg_fn,
                     (v1->flags & CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF) != 0, context);
}

cs_error_t cpg_finalize(cpg_handle_t handle) {
  if (is_daemon_handle(handle)) return daemon_cpg::finalize(handle);
  auto s = HandleTable::instance().remove(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  s->close();  // a leave that cannot be sent is logged by the node, not an error of finalize
  return CS_OK;
}

cs_error_t cpg_fd_get(cpg_handle_t handle, int* fd) {
  if (is_daemon_handle(handle)) return daemon_cpg::fd_get(handle, fd);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (fd == nullptr) return CS_ERR_INVALID_PARAM;
  *fd = s->fd();
  return CS_OK;
}

cs_error_t cpg_max_atomic_msgsize_get(cpg_handle_t handle, uint32_t* size) {
  if (is_daemon_handle(handle)) return daemon_cpg::max_atomic_msgsize_get(handle, size);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (size == nullptr) return CS_ERR_INVALID_PARAM;
  *size = static_cast<uint32_t>(s->node().max_message_bytes());
  return CS_OK;
}

cs_error_t cpg_context_get(cpg_handle_t handle, void** context) {
  if (is_daemon_handle(handle)) return daemon_cpg::context_get(handle, context);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (context == nullptr) return CS_ERR_INVALID_PARAM;
  *context = s->context;
  return CS_OK;
}

cs_error_t cpg_context_set(cpg_handle_t handle, void* context) {
  if (is_daemon_handle(handle)) return daemon_cpg::context_set(handle, context);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  s->context = context;
  return CS_OK;
}

cs_error_t cpg_dispatch(cpg_handle_t handle, cs_dispatch_flags_t dispatch_types) {
  const auto mode = checked_dispatch_flags(dispatch_types);
  if (is_daemon_handle(handle)) return daemon_cpg::dispatch(handle, mode);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (!mode) return CS_ERR_INVALID_PARAM;
  return s->dispatch(static_cast<ringcast::cpg::DispatchMode>(*mode)).code();
}

cs_error_t cpg_join(cpg_handle_t handle, const struct cpg_name* group) {
  if (is_daemon_handle(handle)) return daemon_cpg::join(handle, group);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (cs_error_t e = check_name(group); e != CS_OK) return e;
  return s->join(name_view(group)).code();
}

cs_error_t cpg_leave(cpg_handle_t handle, const struct cpg_name* group) {
  if (is_daemon_handle(handle)) return daemon_cpg::leave(handle, group);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (cs_error_t e = check_name(group); e != CS_OK) return e;
  return s->leave(name_view(group)).code();
}

cs_error_t cpg_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee,
                            const struct iovec* iovec, unsigned int iov_len) {
  const auto checked = checked_guarantee(guarantee);
  if (is_daemon_handle(handle)) return daemon_cpg::mcast_joined(handle, checked, iovec, iov_len);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (!checked || (iovec == nullptr && iov_len > 0)) return CS_ERR_INVALID_PARAM;
  // Bounded: more pieces than this is refused rather than allocated for.
  if (iov_len > kMaxPieces) return CS_ERR_INVALID_PARAM;
  const auto g = static_cast<ringcast::cpg::Guarantee>(*checked);
  // Most sends have a piece or a few: the large table would be initialised
  // (16 KiB) on every call, which cost more than the ring's whole send.
  if (iov_len <= kFewPieces) return send_pieces<kFewPieces>(*s, g, iovec, iov_len);
  return send_pieces<kMaxPieces>(*s, g, iovec, iov_len);
}

cs_error_t cpg_membership_get(cpg_handle_t handle, struct cpg_name* groupName,
                              struct cpg_address* member_list, int* member_list_entries) {
  if (is_daemon_handle(handle))
    return daemon_cpg::membership_get(handle, groupName, member_list, member_list_entries);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (s->evicted()) return CS_ERR_LIBRARY;
  if (cs_error_t e = check_name(groupName); e != CS_OK) return e;
  if (member_list == nullptr || member_list_entries == nullptr) return CS_ERR_INVALID_PARAM;
  // *member_list_entries is output only, as in corosync, whose callers pass
  // it uninitialised: member_list must hold CPG_MEMBERS_MAX entries, which
  // is also the most members a group can have.
  const auto members = s->node().members_of(name_view(groupName));
  const std::size_t n = std::min<std::size_t>(members.size(), CPG_MEMBERS_MAX);
  for (std::size_t i = 0; i < n; ++i)
    member_list[i] = {members[i].node, members[i].pid, CPG_REASON_UNDEFINED};
  *member_list_entries = static_cast<int>(n);
  return CS_OK;
}

cs_error_t cpg_local_get(cpg_handle_t handle, unsigned int* local_nodeid) {
  if (is_daemon_handle(handle)) return daemon_cpg::local_get(handle, local_nodeid);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (local_nodeid == nullptr) return CS_ERR_INVALID_PARAM;
  *local_nodeid = s->node().node_id();
  return CS_OK;
}

cs_error_t cpg_flow_control_state_get(cpg_handle_t handle,
                                      cpg_flow_control_state_t* flow_control_enabled) {
  if (is_daemon_handle(handle))
    return daemon_cpg::flow_control_state_get(handle, flow_control_enabled);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (s->evicted()) return CS_ERR_LIBRARY;
  if (flow_control_enabled == nullptr) return CS_ERR_INVALID_PARAM;
  *flow_control_enabled =
      s->node().flow_control_enabled() ? CPG_FLOW_CONTROL_ENABLED : CPG_FLOW_CONTROL_DISABLED;
  return CS_OK;
}

cs_error_t cpg_zcb_alloc(cpg_handle_t handle, size_t size, void** buffer) {
  if (is_daemon_handle(handle)) return daemon_cpg::zcb_alloc(handle, size, buffer);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (s->evicted()) return CS_ERR_LIBRARY;
  if (buffer == nullptr) return CS_ERR_INVALID_PARAM;
  if (size > s->node().max_fragmented_bytes()) return CS_ERR_TOO_BIG;
  auto b = s->zcb_alloc(size);
  if (!b) return b.status().code();
  *buffer = *b;
  return CS_OK;
}

cs_error_t cpg_zcb_free(cpg_handle_t handle, void* buffer) {
  if (is_daemon_handle(handle)) return daemon_cpg::zcb_free(handle, buffer);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  return s->node().zcb_free(buffer).code();
}

// corosync's buffer is the caller's again when the call returns; so is
// ringcast's: a send that was copied (below totem.zcb_copy_below_bytes) is
// not in flight, and one read in place waits until the NIC has read it
// (docs/api.md).
cs_error_t cpg_zcb_mcast_joined(cpg_handle_t handle, cpg_guarantee_t guarantee, void* msg,
                                size_t msg_len) {
  const auto checked = checked_guarantee(guarantee);
  if (is_daemon_handle(handle)) return daemon_cpg::zcb_mcast_joined(handle, checked, msg, msg_len);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (!checked || msg == nullptr) return CS_ERR_INVALID_PARAM;
  if (msg_len > s->node().max_fragmented_bytes()) return CS_ERR_TOO_BIG;
  ringcast::cpg::Status st =
      s->send_zero_copy(static_cast<ringcast::cpg::Guarantee>(*checked), msg, msg_len);
  if (!st.ok()) return st.code();
  return s->node().zcb_wait(msg).code();
}

cs_error_t cpg_iteration_initialize(cpg_handle_t handle, cpg_iteration_type_t iteration_type,
                                    const struct cpg_name* group,
                                    cpg_iteration_handle_t* cpg_iteration_handle) {
  const auto type = checked_iteration_type(iteration_type);
  if (is_daemon_handle(handle))
    return daemon_cpg::iteration_initialize(handle, type, group, cpg_iteration_handle);
  auto s = HandleTable::instance().find(handle);
  if (!s) return CS_ERR_BAD_HANDLE;
  if (s->evicted()) return CS_ERR_LIBRARY;
  if (cpg_iteration_handle == nullptr) return CS_ERR_INVALID_PARAM;
  if (cs_error_t e = check_iteration(type, group); e != CS_OK) return e;
  const bool one = *type == CPG_ITERATION_ONE_GROUP;
  auto it = std::make_shared<ringcast::client::Iteration>();
  it->owner = handle;
  it->items = s->node().describe_groups(*type, one ? name_view(group) : "");
  *cpg_iteration_handle = HandleTable::instance().add_iteration(std::move(it));
  return CS_OK;
}

cs_error_t cpg_iteration_next(cpg_iteration_handle_t handle,
                              struct cpg_iteration_description_t* description) {
  auto it = HandleTable::instance().find_iteration(handle);
  if (!it) return CS_ERR_BAD_HANDLE;
  if (description == nullptr) return CS_ERR_INVALID_PARAM;
  std::lock_guard lock(it->mutex);
  if (it->next >= it->items.size()) return CS_ERR_NO_SECTIONS;
  *description = it->items[it->next++];
  return CS_OK;
}

cs_error_t cpg_iteration_finalize(cpg_iteration_handle_t handle) {
  return HandleTable::instance().remove_iteration(handle) ? CS_OK : CS_ERR_BAD_HANDLE;
}

}  // extern "C"
