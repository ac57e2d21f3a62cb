// The C++ API in client mode over the C calls of a client-mode handle, so a
// Connection and a cpg_handle_t of the same daemon behave alike.
#include "client/connection_daemon.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "client/cpg_checks.hpp"
#include "client/daemon_cpg.hpp"
#include "client/daemon_handles.hpp"
#include "ringcast/counters.h"

namespace ringcast::client {

namespace {

cpg::Status status_of(cs_error_t e, const char* what) {
  if (e == CS_OK) return {};
  return cpg::Status(e, what);
}

std::vector<cpg::MemberChange> changes_of(const cpg_address* list, size_t count) {
  std::vector<cpg::MemberChange> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i)
    out.push_back({{list[i].nodeid, list[i].pid}, static_cast<cpg::Reason>(list[i].reason)});
  return out;
}

}  // namespace

cpg::Result<std::shared_ptr<DaemonBinding>> DaemonBinding::open(const DaemonAddress& address,
                                                                cpg::Callbacks callbacks) {
  std::shared_ptr<DaemonBinding> b(new DaemonBinding(std::move(callbacks)));
  DaemonCallbacks c;
  c.deliver = on_deliver;
  c.confchg = on_confchg;
  c.totem = on_totem;
  c.initial_totem = b->callbacks_.initial_ring_change;
  // The binding is the handle's context: the C callbacks find it there.
  if (cs_error_t e = daemon_cpg::open(address, c, b.get(), &b->handle_); e != CS_OK)
    return cpg::Status(e, "could not open a handle at the node's ringcastd");
  return b;
}

DaemonBinding::~DaemonBinding() {
  (void)close();
}

cpg::Status DaemonBinding::close() {
  const cpg_handle_t h = std::exchange(handle_, 0);
  if (h == 0) return {};
  return status_of(cpg_finalize(h), "finalize");
}

DaemonBinding* DaemonBinding::of(cpg_handle_t handle) {
  void* context = nullptr;
  if (cpg_context_get(handle, &context) != CS_OK) return nullptr;
  return static_cast<DaemonBinding*>(context);
}

void DaemonBinding::on_deliver(cpg_handle_t handle, const cpg_name* group, uint32_t node,
                               uint32_t pid, void* message, size_t bytes) {
  DaemonBinding* b = of(handle);
  if (b == nullptr || !b->callbacks_.on_message) return;
  cpg::Message m;
  m.group = std::string_view(group->value, group->length);
  m.sender = {node, pid};
  m.bytes = {static_cast<std::byte*>(message), bytes};
  b->callbacks_.on_message(m);
}

void DaemonBinding::on_confchg(cpg_handle_t handle, const cpg_name* group,
                               const cpg_address* members, size_t member_count,
                               const cpg_address* left, size_t left_count,
                               const cpg_address* joined, size_t joined_count) {
  DaemonBinding* b = of(handle);
  if (b == nullptr || !b->callbacks_.on_view_change) return;
  std::vector<cpg::Member> now;
  now.reserve(member_count);
  for (size_t i = 0; i < member_count; ++i)
    now.push_back({members[i].nodeid, members[i].pid});
  const auto gone = changes_of(left, left_count);
  const auto came = changes_of(joined, joined_count);
  cpg::ViewChange v;
  v.group = std::string_view(group->value, group->length);
  v.members = now;
  v.left = gone;
  v.joined = came;
  b->callbacks_.on_view_change(v);
}

void DaemonBinding::on_totem(cpg_handle_t handle, cpg_ring_id ring, uint32_t count,
                             const uint32_t* nodes) {
  DaemonBinding* b = of(handle);
  if (b == nullptr || !b->callbacks_.on_ring_change) return;
  cpg::RingChange r;
  r.representative = ring.nodeid;
  r.seq = ring.seq;
  r.nodes = {nodes, count};
  b->callbacks_.on_ring_change(r);
}

cpg::Status DaemonBinding::join(std::string_view group) {
  const cpg_name name = to_cpg_name(group);
  return status_of(cpg_join(handle_, &name), "join");
}

cpg::Status DaemonBinding::leave(std::string_view group) {
  const cpg_name name = to_cpg_name(group);
  return status_of(cpg_leave(handle_, &name), "leave");
}

cpg::Status DaemonBinding::send(cpg::Guarantee guarantee,
                                std::span<const std::span<const std::byte>> pieces) {
  std::vector<iovec> v;
  v.reserve(pieces.size());
  for (const auto& p : pieces)
    v.push_back({const_cast<std::byte*>(p.data()), p.size()});
  return status_of(cpg_mcast_joined(handle_, static_cast<cpg_guarantee_t>(guarantee), v.data(),
                                    static_cast<unsigned>(v.size())),
                   "send");
}

cpg::Result<void*> DaemonBinding::zcb_alloc(std::size_t bytes) {
  void* buffer = nullptr;
  if (cs_error_t e = cpg_zcb_alloc(handle_, bytes, &buffer); e != CS_OK)
    return cpg::Status(e, "zero-copy buffer");
  return buffer;
}

cpg::Status DaemonBinding::zcb_free(void* buffer) {
  return status_of(cpg_zcb_free(handle_, buffer), "zero-copy free");
}

cpg::Status DaemonBinding::zcb_send(cpg::Guarantee guarantee, void* buffer, std::size_t bytes) {
  return status_of(
      cpg_zcb_mcast_joined(handle_, static_cast<cpg_guarantee_t>(guarantee), buffer, bytes),
      "zero-copy send");
}

cpg::Status DaemonBinding::dispatch(cpg::DispatchMode mode) {
  return status_of(cpg_dispatch(handle_, static_cast<cs_dispatch_flags_t>(mode)), "dispatch");
}

int DaemonBinding::fd() const {
  int fd = -1;
  return cpg_fd_get(handle_, &fd) == CS_OK ? fd : -1;
}

cpg::Result<std::vector<cpg::Member>> DaemonBinding::members(std::string_view group) const {
  cpg_name name = to_cpg_name(group);
  std::array<cpg_address, CPG_MEMBERS_MAX> list{};
  int count = CPG_MEMBERS_MAX;
  if (cs_error_t e = cpg_membership_get(handle_, &name, list.data(), &count); e != CS_OK)
    return cpg::Status(e, "membership");
  std::vector<cpg::Member> out;
  for (int i = 0; i < count; ++i)
    out.push_back({list[i].nodeid, list[i].pid});
  return out;
}

std::uint32_t DaemonBinding::local_node() const {
  unsigned int node = 0;
  return cpg_local_get(handle_, &node) == CS_OK ? node : 0;
}

bool DaemonBinding::flow_control_enabled() const {
  cpg_flow_control_state_t state = CPG_FLOW_CONTROL_DISABLED;
  return cpg_flow_control_state_get(handle_, &state) == CS_OK && state == CPG_FLOW_CONTROL_ENABLED;
}

std::size_t DaemonBinding::max_message_bytes() const {
  uint32_t size = 0;
  return cpg_max_atomic_msgsize_get(handle_, &size) == CS_OK ? size : 0;
}

cpg::Counters DaemonBinding::counters() const {
  auto c = DaemonHandles::instance().find(handle_);
  return c ? counters_of(*c) : cpg::Counters{};
}

}  // namespace ringcast::client
