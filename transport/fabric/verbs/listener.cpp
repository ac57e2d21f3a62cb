// The passive side of link set-up: listen, hand each request to the
// handshake (fabric/auth/handshake.hpp), then challenge it, refuse it with a
// reason (logged) or accept it with ours, and wait for ESTABLISHED.
#include <arpa/inet.h>

#include <array>
#include <deque>
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

// A connection request taken off the channel: its event is acked at once (a
// child id cannot be destroyed while its event is unacked), so what set-up
// needs is copied out.
struct Request {
  CmIdHandle id;
  std::array<std::byte, 256> data{};  // private data: <= 56 on IB/RoCE, 196 max
  std::size_t length = 0;
  std::string from;            // the peer's address, for messages
  std::uint32_t peer_qpn = 0;  // the requester's QP number (the proof names it)

  std::span<const std::byte> private_bytes() const { return {data.data(), length}; }
};

Request take_request(rdma_cm_event& event) {
  Request r;
  r.id.reset(event.id);
  const auto bytes = private_data(event);
  r.length = std::min(bytes.size(), r.data.size());
  std::copy_n(bytes.begin(), r.length, r.data.begin());
  r.from = address_text(rdma_get_peer_addr(event.id));
  r.peer_qpn = event.param.conn.qp_num;
  return r;
}

// Requests that came while another was being set up. Bounded: past this,
// a request is refused as busy (the peer retries).
constexpr std::size_t kBacklog = 16;

}  // namespace

struct Listener::Impl {
  VerbsEndpoint::Impl& endpoint;
  LinkOptions options;
  auth::ListenerHandshake handshake;
  EventChannelHandle channel;  // released after every id on it (member order)
  CmIdHandle id;
  std::uint16_t port = 0;
  std::string address;
  std::deque<Request> backlog;
  // Refusals by peer address: anyone who reaches the port can send requests.
  LogLimiter refusal_log;

  // A link, or null when the request was a hello that got its challenge.
  Result<std::unique_ptr<Link>> set_up(Request request, std::uint64_t deadline_ns);
  Result<std::unique_ptr<Link>> admit(Request& request, const auth::ListenerVerdict& verdict,
                                      std::uint64_t deadline_ns);
  Status await_established(const rdma_cm_id* child, std::uint64_t deadline_ns,
                           const std::string& from);
  std::optional<Request> next_request(std::uint64_t deadline_ns, Error* failure);
  void queue(Request request);
  Error refuse(Request& request, const std::string& reason, NodeId node = 0);
};

// Every refusal is logged, rate-limited per peer address: a peer that fails
// the key proof, or sends what no member would, is something an operator
// wants to see on this side too, but not a line per request of a flood.
Error Listener::Impl::refuse(Request& request, const std::string& reason, NodeId node) {
  const Refusal refusal = encode_refusal(reason);
  if (rdma_reject(request.id.get(), refusal.bytes.data(), refusal.length) != 0) {
    log_line("rdma_reject of " + request.from + " failed: " + std::to_string(errno));
  }
  const std::string who =
      node != 0 ? "node " + std::to_string(node) + " at " + request.from : request.from;
  refusal_log.log(LogLevel::info, request.from, "refused " + who + " on " + address + ": " + reason,
                  monotonic_ns());
  return make_error(Errc::refused, "accept", "refused " + who + ": " + reason);
}

void Listener::Impl::queue(Request request) {
  if (backlog.size() < kBacklog) {
    backlog.push_back(std::move(request));
  } else {
    (void)refuse(request, "busy: too many connection requests at once");
  }
}

Status Listener::Impl::await_established(const rdma_cm_id* child, std::uint64_t deadline_ns,
                                         const std::string& from) {
  for (;;) {
    auto event = next_cm_event(channel.get(), deadline_ns, "accepting " + from);
    if (!event) return event.error();
    rdma_cm_event& e = **event;
    if (e.event == RDMA_CM_EVENT_CONNECT_REQUEST) {
      Request other = take_request(e);
      event->reset();  // acked before the request may be refused and destroyed
      queue(std::move(other));
      continue;
    }
    if (e.id != child) continue;  // a late event of a request given up on
    if (e.event == RDMA_CM_EVENT_ESTABLISHED) return {};
    return make_error(Errc::link_failed, rdma_event_str(e.event),
                      from + " went away while the link was set up");
  }
}

Result<std::unique_ptr<Link>> Listener::Impl::set_up(Request request, std::uint64_t deadline_ns) {
  using Action = auth::ListenerVerdict::Action;
  const auth::ListenerVerdict verdict =
      handshake.on_request(request.private_bytes(), request.peer_qpn, monotonic_ns());
  if (verdict.action == Action::refuse) return refuse(request, verdict.reason, verdict.node);
  if (verdict.action == Action::admit) return admit(request, verdict, deadline_ns);
  // A hello: the challenge travels in the reject; no QP exists for it.
  if (rdma_reject(request.id.get(), verdict.reply.bytes.data(), verdict.reply.size) != 0) {
    log_line("rdma_reject (challenge) of " + request.from + " failed: " + std::to_string(errno));
  }
  return std::unique_ptr<Link>();
}

// The handshake let the request in: the caller's check, our QP, accept.
Result<std::unique_ptr<Link>> Listener::Impl::admit(Request& request,
                                                    const auth::ListenerVerdict& verdict,
                                                    std::uint64_t deadline_ns) {
  if (options.address_check) {
    if (Status from = options.address_check(verdict.peer, request.from); !from) {
      return refuse(request, from.error().detail, verdict.node);
    }
  }
  if (auto checked = run_check(verdict.peer, options.check); !checked) {
    return refuse(request, checked.error().detail, verdict.node);
  }
  auto max_inline = [&] {
    auto lock = lock_endpoint(options);
    return create_link_qp(endpoint, request.id.get(), options, "a request from " + request.from);
  }();
  if (!max_inline) return refuse(request, "cannot set up a link: " + max_inline.error().message());
  auto reply = handshake.accept(verdict.admission, request.id->qp->qp_num);
  if (!reply) return refuse(request, "cannot answer: " + reply.error().message(), verdict.node);
  rdma_conn_param param = connection_parameters(reply->span());
  if (rdma_accept(request.id.get(), &param) != 0) {
    return system_error("rdma_accept", errno, request.from);
  }
  RC_TRY(await_established(request.id.get(), deadline_ns, request.from));
  auto lock = lock_endpoint(options);
  if (rdma_migrate_id(request.id.get(), endpoint.cm_channel.get()) != 0) {
    return system_error("rdma_migrate_id", errno, request.from);
  }
  return std::unique_ptr<Link>(std::make_unique<VerbsLink>(
      endpoint, std::move(request.id), verdict.peer, options.sq_depth, *max_inline));
}

Listener::Listener(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Listener::~Listener() = default;

// The oldest waiting request, else the next one to come before the deadline.
std::optional<Request> Listener::Impl::next_request(std::uint64_t deadline_ns, Error* failure) {
  const std::string what = "waiting for a connection on " + address;
  // Bounded by the deadline; events that are not requests are skipped.
  while (backlog.empty()) {
    auto event = next_cm_event(channel.get(), deadline_ns, what);
    if (!event) {
      *failure = event.error();
      return std::nullopt;
    }
    if ((*event)->event == RDMA_CM_EVENT_CONNECT_REQUEST) {
      Request request = take_request(**event);
      event->reset();
      backlog.push_back(std::move(request));
    }
  }
  Request request = std::move(backlog.front());
  backlog.pop_front();
  return request;
}

Result<std::unique_ptr<Link>> Listener::accept(std::uint64_t timeout_ns) {
  const std::uint64_t deadline_ns = monotonic_ns() + timeout_ns;
  // Hellos are answered here and do not end the wait: their proofs do.
  for (;;) {
    Error failure;
    std::optional<Request> request = impl_->next_request(deadline_ns, &failure);
    if (!request) return failure;
    auto link = impl_->set_up(std::move(*request), deadline_ns);
    if (!link || *link) return link;
  }
}

std::uint16_t Listener::port() const noexcept {
  return impl_->port;
}
const std::string& Listener::address() const noexcept {
  return impl_->address;
}
int Listener::fd() const noexcept {
  return impl_->channel->fd;
}
bool Listener::pending() const noexcept {
  return !impl_->backlog.empty();
}

Result<std::unique_ptr<Listener>> VerbsEndpoint::listen(std::string_view ip, std::uint16_t port,
                                                        LinkOptions options) {
  const std::string ip_text(ip.empty() ? impl_->local_address : ip);
  auto address = parse_socket_address(ip_text.empty() ? "0.0.0.0" : ip_text, port);
  if (!address) return address.error();
  auth::ListenerHandshake handshake(options.key, options.ours);
  auto impl = std::make_unique<Listener::Impl>(
      Listener::Impl{*impl_, std::move(options), std::move(handshake), {}, {}, 0, {}, {}, {}});
  impl->channel.reset(rdma_create_event_channel());
  if (!impl->channel)
    return system_error("rdma_create_event_channel", errno, "is rdma_ucm loaded?");
  rdma_cm_id* raw = nullptr;
  if (rdma_create_id(impl->channel.get(), &raw, nullptr, RDMA_PS_TCP) != 0) {
    return system_error("rdma_create_id", errno);
  }
  impl->id.reset(raw);
  if (rdma_bind_addr(raw, address->get()) != 0) {
    return system_error("rdma_bind_addr", errno, "listening on " + address->text);
  }
  if (raw->verbs != nullptr && raw->verbs != impl_->device.context()) {
    return make_error(Errc::invalid_argument, "listen",
                      address->text + " is served by " + ibv_get_device_name(raw->verbs->device) +
                          ", this endpoint uses " + impl_->device.name());
  }
  if (rdma_listen(raw, static_cast<int>(kBacklog)) != 0) {
    return system_error("rdma_listen", errno, address->text);
  }
  impl->port = ntohs(rdma_get_src_port(raw));
  impl->address = address_text(address->get()) + ":" + std::to_string(impl->port);
  return std::make_unique<Listener>(std::move(impl));
}

}  // namespace ringcast::fabric::verbs
