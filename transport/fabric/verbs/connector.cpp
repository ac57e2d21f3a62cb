// The active side of link set-up: resolve, create the QP, connect with the
// handshake's request (fabric/auth/handshake.hpp), follow the answer (with a
// key: a challenge, then a second request with the proof), vet the
// acceptor's ConnectInfo. Synchronous and bounded by LinkOptions::timeout_ns.
#include <algorithm>
#include <optional>

#include "base/log.hpp"
#include "fabric/auth/handshake.hpp"
#include "fabric/verbs/cm_events.hpp"
#include "fabric/verbs/endpoint_impl.hpp"
#include "fabric/verbs/link.hpp"
#include "fabric/verbs/link_setup.hpp"
#include "fabric/verbs/socket_address.hpp"

namespace ringcast::fabric::verbs {
namespace {

// A stale challenge (pushed out of a busy listener's table) starts the
// handshake over; more than this many in a row is an error.
constexpr int kMaxRounds = 3;
// How long a complaint waits for the listener's answer (it is best effort).
constexpr std::uint64_t kComplaintWaitNs = 2'000'000'000;

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

// What every request of one connect() shares.
struct Setup {
  VerbsEndpoint::Impl& ep;
  const LinkOptions& options;
  std::optional<SocketAddress> local;
  SocketAddress remote;
  std::uint64_t deadline_ns = 0;
};

Status resolve(SetupId& s, Setup& setup, std::uint64_t deadline_ns) {
  sockaddr* src = setup.local ? setup.local->get() : nullptr;
  const std::string& to = setup.remote.text;
  if (rdma_resolve_addr(s.id.get(), src, setup.remote.get(), remaining_ms(deadline_ns)) != 0) {
    return Error{Errc::unreachable, errno, "rdma_resolve_addr", "no route to " + to};
  }
  RC_TRY(expect_event(s, RDMA_CM_EVENT_ADDR_RESOLVED, deadline_ns, "resolving " + to));
  if (rdma_resolve_route(s.id.get(), remaining_ms(deadline_ns)) != 0) {
    return Error{Errc::unreachable, errno, "rdma_resolve_route", "no route to " + to};
  }
  return expect_event(s, RDMA_CM_EVENT_ROUTE_RESOLVED, deadline_ns, "resolving a route to " + to);
}

// The event that answered one connect request, copied out (and acked).
struct Answer {
  SetupId s;
  bool established = false;  // else rejected
  int status = 0;
  std::array<std::byte, 256> data{};  // private data: <= 196 on IB/RoCE
  std::size_t length = 0;
  std::uint32_t peer_qpn = 0;  // established: the acceptor's QP number
  std::uint32_t max_inline = 0;

  std::span<const std::byte> private_bytes() const { return {data.data(), length}; }
};

// One connect request on a fresh id and QP (a rejected one is done for):
// `make(qpn)` gives its private data. Answered by ESTABLISHED or REJECTED;
// any other event is the failure it names.
template <class MakeRequest>
Result<Answer> request(Setup& setup, std::uint64_t deadline_ns, MakeRequest make) {
  const std::string& to = setup.remote.text;
  auto s = make_setup_id();
  if (!s) return s.error();
  RC_TRY(resolve(*s, setup, deadline_ns));
  auto max_inline = [&] {
    auto lock = lock_endpoint(setup.options);
    return create_link_qp(setup.ep, s->id.get(), setup.options, "the route to " + to);
  }();
  if (!max_inline) return max_inline.error();
  const Result<auth::SetupMessage> message = make(s->id->qp->qp_num);
  if (!message) return message.error();
  rdma_conn_param param = connection_parameters(message->span());
  if (rdma_connect(s->id.get(), &param) != 0) return system_error("rdma_connect", errno, to);
  auto event = next_cm_event(s->channel.get(), deadline_ns, "connecting to " + to);
  if (!event) return event.error();
  const rdma_cm_event& e = **event;
  if (e.event != RDMA_CM_EVENT_ESTABLISHED && e.event != RDMA_CM_EVENT_REJECTED) {
    return Error{Errc::unreachable, e.status < 0 ? -e.status : 0, rdma_event_str(e.event),
                 "connecting to " + to};
  }
  Answer a;
  a.established = e.event == RDMA_CM_EVENT_ESTABLISHED;
  a.status = e.status;
  const auto bytes = private_data(e);
  a.length = std::min(bytes.size(), a.data.size());
  std::copy_n(bytes.begin(), a.length, a.data.begin());
  a.peer_qpn = e.param.conn.qp_num;
  a.max_inline = *max_inline;
  event->reset();  // acked before the id may go
  a.s = std::move(*s);
  return a;
}

Error refused_by(const Answer& a, const std::string& remote) {
  if (auto reason = decode_refusal(a.private_bytes())) {
    return make_error(Errc::refused, "connect", remote + " refused us: " + *reason);
  }
  return make_error(Errc::unreachable, "connect", remote + ": " + reject_status_text(a.status));
}

Error we_refuse(Setup& setup, const Error& why) {
  const std::string& remote = setup.remote.text;
  const std::string reason = why.detail.empty() ? why.message() : why.detail;
  {
    std::lock_guard lock(setup.ep.refusal_log_mutex);
    setup.ep.refusal_log.log(LogLevel::info, remote, "refused " + remote + ": " + reason,
                             monotonic_ns());
  }
  return make_error(Errc::refused, "connect", "we refused " + remote + ": " + reason);
}

bool is_challenge(std::span<const std::byte> data) {
  auto kind = peek_setup_kind(data);
  return kind && *kind == SetupKind::challenge;
}

// The acceptor's answer checked (handshake, then the caller's check), the
// link handed to the endpoint's channel.
Result<std::unique_ptr<Link>> finish(Setup& setup, Answer& a, auth::ConnectorHandshake& hs) {
  auto peer = hs.on_accept(a.private_bytes(), a.peer_qpn);
  const Status checked = peer ? run_check(*peer, setup.options.check) : Status(peer.error());
  if (!checked) {
    rdma_disconnect(a.s.id.get());  // too late to reject: hang up instead
    return we_refuse(setup, checked.error());
  }
  auto lock = lock_endpoint(setup.options);
  if (rdma_migrate_id(a.s.id.get(), setup.ep.cm_channel.get()) != 0) {
    return system_error("rdma_migrate_id", errno, setup.remote.text);
  }
  return std::unique_ptr<Link>(std::make_unique<VerbsLink>(setup.ep, std::move(a.s.id), *peer,
                                                           setup.options.sq_depth, a.max_inline));
}

// Tells the listener its challenge did not verify, so that its log says why.
// Best effort and briefly bounded: the answer is a refusal either way.
void complain(Setup& setup, const auth::ConnectorHandshake& hs) {
  const std::uint64_t bound = std::min(setup.deadline_ns, monotonic_ns() + kComplaintWaitNs);
  (void)request(setup, bound,
                [&](std::uint32_t) -> Result<auth::SetupMessage> { return hs.complaint(); });
}

// One round: the first request and, when it is challenged, the proof. Ends
// with the answer that settles it (accepted, or refused); a refusal that
// calls the challenge stale may be retried by the caller.
Result<Answer> run_round(Setup& setup, auth::ConnectorHandshake& hs) {
  auto first = hs.start();
  if (!first) return first.error();
  auto answer = request(setup, setup.deadline_ns, [&](std::uint32_t) { return first; });
  if (!answer || answer->established || !is_challenge(answer->private_bytes())) return answer;
  if (auto verified = hs.on_challenge(answer->private_bytes()); !verified) {
    if (hs.keyed()) complain(setup, hs);
    return we_refuse(setup, verified.error());
  }
  return request(setup, setup.deadline_ns, [&](std::uint32_t qpn) { return hs.proof(qpn); });
}

}  // namespace

Result<std::unique_ptr<Link>> VerbsEndpoint::connect(std::string_view local_ip,
                                                     std::string_view remote_ip, std::uint16_t port,
                                                     LinkOptions options) {
  Impl& ep = *impl_;
  auto remote = parse_socket_address(remote_ip, port);
  if (!remote) return remote.error();
  Setup setup{ep, options, std::nullopt, std::move(*remote), monotonic_ns() + options.timeout_ns};
  const std::string local_text(local_ip.empty() ? ep.local_address : local_ip);
  if (!local_text.empty()) {
    auto parsed = parse_socket_address(local_text, 0);
    if (!parsed) return parsed.error();
    setup.local = std::move(*parsed);
  }
  auth::ConnectorHandshake hs(options.key, options.ours);
  for (int round = 1;; ++round) {
    auto answer = run_round(setup, hs);
    if (!answer) return answer.error();
    if (answer->established) return finish(setup, *answer, hs);
    const auto reason = decode_refusal(answer->private_bytes());
    const bool stale = reason && auth::is_stale_challenge(*reason);
    if (!stale || round == kMaxRounds) return refused_by(*answer, setup.remote.text);
  }
}

}  // namespace ringcast::fabric::verbs
