#include "fabric/verbs/probe.hpp"

#include "fabric/verbs/cm_events.hpp"
#include "fabric/verbs/handles.hpp"
#include "fabric/verbs/socket_address.hpp"

namespace ringcast::fabric::verbs {
namespace {

struct ProbeId {
  EventChannelHandle channel;  // released after the id (member order)
  CmIdHandle id;
};

// Waits for `expected` on the probe's channel.
Status expect(ProbeId& p, rdma_cm_event_type expected, std::uint64_t deadline_ns,
              const std::string& what) {
  auto event = next_cm_event(p.channel.get(), deadline_ns, what);
  if (!event) return event.error();
  if ((*event)->event == expected) return {};
  return make_error(Errc::unreachable, rdma_event_str((*event)->event), what);
}

Status resolve(ProbeId& p, SocketAddress& local, SocketAddress& remote, std::uint64_t deadline_ns) {
  sockaddr* src = local.text.empty() ? nullptr : local.get();
  if (rdma_resolve_addr(p.id.get(), src, remote.get(), remaining_ms(deadline_ns)) != 0) {
    return system_error("rdma_resolve_addr", errno, remote.text);
  }
  RC_TRY(expect(p, RDMA_CM_EVENT_ADDR_RESOLVED, deadline_ns, "resolving " + remote.text));
  if (rdma_resolve_route(p.id.get(), remaining_ms(deadline_ns)) != 0) {
    return system_error("rdma_resolve_route", errno, remote.text);
  }
  return expect(p, RDMA_CM_EVENT_ROUTE_RESOLVED, deadline_ns, "a route to " + remote.text);
}

}  // namespace

Result<ProbeAnswer> probe_listener(std::string_view local_ip, std::string_view remote_ip,
                                   std::uint16_t port, std::span<const std::byte> request,
                                   std::uint32_t claimed_qpn, std::uint64_t timeout_ns) {
  const std::uint64_t deadline_ns = monotonic_ns() + timeout_ns;
  auto remote = parse_socket_address(remote_ip, port);
  if (!remote) return remote.error();
  SocketAddress local;
  if (!local_ip.empty()) {
    auto parsed = parse_socket_address(local_ip, 0);
    if (!parsed) return parsed.error();
    local = std::move(*parsed);
  }
  ProbeId p;
  p.channel.reset(rdma_create_event_channel());
  if (!p.channel) return system_error("rdma_create_event_channel", errno);
  rdma_cm_id* raw = nullptr;
  if (rdma_create_id(p.channel.get(), &raw, nullptr, RDMA_PS_TCP) != 0) {
    return system_error("rdma_create_id", errno);
  }
  p.id.reset(raw);
  RC_TRY(resolve(p, local, *remote, deadline_ns));
  rdma_conn_param param{};
  param.private_data = request.data();
  param.private_data_len = static_cast<std::uint8_t>(request.size());
  param.qp_num = claimed_qpn;
  param.srq = 1;
  param.retry_count = 7;
  param.rnr_retry_count = 7;
  if (rdma_connect(p.id.get(), &param) != 0) return system_error("rdma_connect", errno);
  auto event = next_cm_event(p.channel.get(), deadline_ns, "probing " + remote->text);
  if (!event) return event.error();
  const rdma_cm_event& e = **event;
  // Without a QP an accept surfaces as CONNECT_RESPONSE; the id then goes
  // without establishing anything (the CM rejects the accept).
  if (e.event != RDMA_CM_EVENT_CONNECT_RESPONSE && e.event != RDMA_CM_EVENT_REJECTED) {
    return make_error(Errc::unreachable, rdma_event_str(e.event), "probing " + remote->text);
  }
  ProbeAnswer answer;
  answer.accepted = e.event == RDMA_CM_EVENT_CONNECT_RESPONSE;
  answer.status = e.status;
  answer.peer_qpn = e.param.conn.qp_num;
  const auto bytes = private_data(e);
  answer.private_data.assign(bytes.begin(), bytes.end());
  return answer;
}

}  // namespace ringcast::fabric::verbs
