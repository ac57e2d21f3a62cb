// The active side of link set-up: resolve, create the QP, connect, vet the
// acceptor's ConnectInfo. Synchronous and bounded by LinkOptions::timeout_ns.
#include <optional>

#include "fabric/verbs/cm_events.hpp"
#include "fabric/verbs/endpoint_impl.hpp"
#include "fabric/verbs/link.hpp"
#include "fabric/verbs/link_setup.hpp"
#include "fabric/verbs/socket_address.hpp"

namespace ringcast::fabric::verbs {
namespace {

// A cm_id on its own event channel for the duration of the set-up. The id
// is released before the channel (member order).
struct SetupId {
  EventChannelHandle channel;
  CmIdHandle id;
};

Result<SetupId> make_setup_id() {
  SetupId s;
  s.channel.reset(rdma_create_event_channel());
  if (!s.channel) return system_error("rdma_create_event_channel", errno, "is rdma_ucm loaded?");
  rdma_cm_id* raw = nullptr;
  if (rdma_create_id(s.channel.get(), &raw, nullptr, RDMA_PS_TCP) != 0) {
    return system_error("rdma_create_id", errno);
  }
  s.id.reset(raw);
  return s;
}

// Waits for `expected`; any other event is the failure it names.
Status expect_event(SetupId& s, rdma_cm_event_type expected, std::uint64_t deadline_ns,
                    const std::string& what) {
  auto event = next_cm_event(s.channel.get(), deadline_ns, what);
  if (!event) return event.error();
  if ((*event)->event == expected) return {};
  const int status = (*event)->status;
  return Error{Errc::unreachable, status < 0 ? -status : 0, rdma_event_str((*event)->event),
               what + " failed (status " + std::to_string(status) + ")"};
}

Status resolve(SetupId& s, std::optional<SocketAddress>& local, SocketAddress& remote,
               std::uint64_t deadline_ns) {
  sockaddr* src = local ? local->get() : nullptr;
  if (rdma_resolve_addr(s.id.get(), src, remote.get(), remaining_ms(deadline_ns)) != 0) {
    return Error{Errc::unreachable, errno, "rdma_resolve_addr", "no route to " + remote.text};
  }
  RC_TRY(expect_event(s, RDMA_CM_EVENT_ADDR_RESOLVED, deadline_ns, "resolving " + remote.text));
  if (rdma_resolve_route(s.id.get(), remaining_ms(deadline_ns)) != 0) {
    return Error{Errc::unreachable, errno, "rdma_resolve_route", "no route to " + remote.text};
  }
  return expect_event(s, RDMA_CM_EVENT_ROUTE_RESOLVED, deadline_ns,
                      "resolving a route to " + remote.text);
}

// The answer to rdma_connect: ESTABLISHED with the acceptor's ConnectInfo,
// or a refusal, or nobody there.
Result<ConnectInfo> await_established(SetupId& s, const LinkOptions& options,
                                      std::uint64_t deadline_ns, const std::string& remote) {
  auto event = next_cm_event(s.channel.get(), deadline_ns, "connecting to " + remote);
  if (!event) return event.error();
  const rdma_cm_event& e = **event;
  if (e.event == RDMA_CM_EVENT_ESTABLISHED) {
    auto peer = vet_peer(private_data(e), options.check);
    if (!peer) {
      rdma_disconnect(s.id.get());  // too late to reject: hang up instead
      return make_error(Errc::refused, "connect",
                        "we refused " + remote + ": " + peer.error().detail);
    }
    return peer;
  }
  if (e.event == RDMA_CM_EVENT_REJECTED) {
    if (auto reason = decode_refusal(private_data(e))) {
      return make_error(Errc::refused, "connect", remote + " refused us: " + *reason);
    }
    return make_error(Errc::unreachable, "connect", remote + ": " + reject_status_text(e.status));
  }
  return Error{Errc::unreachable, e.status < 0 ? -e.status : 0, rdma_event_str(e.event),
               "connecting to " + remote};
}

}  // namespace

Result<std::unique_ptr<Link>> VerbsEndpoint::connect(std::string_view local_ip,
                                                     std::string_view remote_ip, std::uint16_t port,
                                                     LinkOptions options) {
  Impl& ep = *impl_;
  const std::uint64_t deadline_ns = monotonic_ns() + options.timeout_ns;
  auto remote = parse_socket_address(remote_ip, port);
  if (!remote) return remote.error();
  const std::string local_text(local_ip.empty() ? ep.local_address : local_ip);
  std::optional<SocketAddress> local;
  if (!local_text.empty()) {
    auto parsed = parse_socket_address(local_text, 0);
    if (!parsed) return parsed.error();
    local = std::move(*parsed);
  }
  auto s = make_setup_id();
  if (!s) return s.error();
  RC_TRY(resolve(*s, local, *remote, deadline_ns));
  auto max_inline = create_link_qp(ep, s->id.get(), options, "the route to " + remote->text);
  if (!max_inline) return max_inline.error();
  const ConnectInfoBytes ours = encode(options.ours);
  rdma_conn_param param = connection_parameters(ours);
  if (rdma_connect(s->id.get(), &param) != 0) {
    return system_error("rdma_connect", errno, remote->text);
  }
  auto peer = await_established(*s, options, deadline_ns, remote->text);
  if (!peer) return peer.error();
  if (rdma_migrate_id(s->id.get(), ep.cm_channel.get()) != 0) {
    return system_error("rdma_migrate_id", errno, remote->text);
  }
  return std::unique_ptr<Link>(
      std::make_unique<VerbsLink>(ep, std::move(s->id), *peer, options.sq_depth, *max_inline));
}

}  // namespace ringcast::fabric::verbs
