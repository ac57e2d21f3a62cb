#include "ipc/channel.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "base/wire.hpp"
#include "ipc/fd_passing.hpp"
#include "ipc/frame_codec.hpp"
#include "ipc/ring_header.hpp"

namespace ringcast::ipc {
namespace {

constexpr std::size_t kSetupMessageBytes = 256;
// type at 0, version at 16 (and welcome's error at 20): fixed in every version.
constexpr std::size_t kVersionAt = kFrameHeaderBytes;

Error refused(const char* call, const IpcError& e) {
  return make_error(Errc::refused, call, e.message);
}

Result<std::vector<std::byte>> receive_message(int socket_fd, const char* what) {
  std::vector<std::byte> buffer(kSetupMessageBytes);
  ssize_t got;
  do {
    got = ::recv(socket_fd, buffer.data(), buffer.size(), MSG_TRUNC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return system_error("recv", errno, what);
  if (got == 0) return make_error(Errc::closed, "recv", what);
  if (static_cast<std::size_t>(got) > buffer.size())
    return make_error(Errc::protocol, "recv", std::string(what) + " longer than a set-up message");
  buffer.resize(static_cast<std::size_t>(got));
  return buffer;
}

Status send_frame(int socket_fd, const EncodedFrame& frame, std::span<const int> fds) {
  const auto bytes = frame.joined();
  return send_fds(socket_fd, bytes, fds);
}

// Rings above this are refused before any size arithmetic.
constexpr std::uint64_t kMaxRingBytes = std::uint64_t{1} << 30;

// The ring's part of its segment (all of it unless pages are over 4 KiB).
std::span<std::byte> ring_span(const Mapping& mapping, std::uint64_t capacity) {
  return mapping.bytes().first(
      std::min<std::size_t>(mapping.bytes().size(), ring_segment_bytes(capacity)));
}

Result<SharedSegment> create_ring_segment(const char* name, std::uint64_t capacity) {
  if (capacity > kMaxRingBytes)
    return make_error(Errc::invalid_argument, "create_channel", "ring above 1 GiB");
  auto segment = create_sealed_segment(name, page_rounded(ring_segment_bytes(capacity)),
                                       PeerAccess::read_write);
  if (!segment) return segment.error();
  RC_TRY(init_ring(ring_span(segment->mapping, capacity)));
  return segment;
}

Result<Mapping> map_ring(UniqueFd& fd, std::uint64_t capacity) {
  if (capacity > kMaxRingBytes)
    return make_error(Errc::protocol, "receive_welcome", "ring above 1 GiB");
  return map_received(fd.get(), page_rounded(ring_segment_bytes(capacity)), PeerAccess::read_write);
}

// Version and error, read where every version keeps them.
Status check_welcome_head(std::span<const std::byte> m) {
  if (m.size() < kVersionAt + 8 ||
      wire::get<std::uint32_t>(m.data()) != static_cast<std::uint32_t>(MessageType::welcome))
    return make_error(Errc::protocol, "receive_welcome", "the daemon's answer is no welcome");
  const auto version = wire::get<std::uint32_t>(m.data() + kVersionAt);
  if (auto same = check_version(kProtocolVersion, version); !same)
    return refused("receive_welcome", same.error());
  const auto error = wire::get<std::uint32_t>(m.data() + kVersionAt + 4);
  if (error != 0)
    return make_error(Errc::refused, "receive_welcome",
                      "the daemon refused the client (cs_error_t " + std::to_string(error) + ")");
  return {};
}

Status map_channel(ClientChannel& c, std::vector<UniqueFd>& fds) {
  const Welcome& w = c.welcome;
  const std::size_t want = 4 + (w.zcb_segment_bytes > 0) + (w.log_bytes > 0);
  if (fds.size() != want)
    return make_error(
        Errc::protocol, "receive_welcome",
        std::to_string(fds.size()) + " descriptors, expected " + std::to_string(want));
  auto request = map_ring(fds[0], w.request_ring_bytes);
  if (!request) return request.error();
  auto event = map_ring(fds[1], w.event_ring_bytes);
  if (!event) return event.error();
  c.request_segment = std::move(*request);
  c.event_segment = std::move(*event);
  c.request_bell.emplace(std::move(fds[2]));
  c.event_bell.emplace(std::move(fds[3]));
  std::size_t next = 4;
  if (w.zcb_segment_bytes > 0) {
    auto zcb = map_received(fds[next++].get(), w.zcb_segment_bytes, PeerAccess::read_write);
    if (!zcb) return zcb.error();
    c.zcb_segment = std::move(*zcb);
  }
  if (w.log_bytes > 0) {
    auto log = map_received(fds[next].get(), w.log_bytes, PeerAccess::read_only);
    if (!log) return log.error();
    c.log = std::move(*log);
  }
  return {};
}

}  // namespace

Result<Hello> receive_hello(int socket_fd) {
  auto message = receive_message(socket_fd, "hello");
  if (!message) return message.error();
  const auto& m = *message;
  if (m.size() >= kVersionAt + 4 &&
      wire::get<std::uint32_t>(m.data()) == static_cast<std::uint32_t>(MessageType::hello)) {
    const auto version = wire::get<std::uint32_t>(m.data() + kVersionAt);
    if (auto same = check_version(version, kProtocolVersion); !same) {
      EncodedFrame refusal;
      encode(Event{0, Welcome{kProtocolVersion, kWelcomeVersionError}}, refusal);
      (void)send_frame(socket_fd, refusal, {});
      return refused("hello", same.error());
    }
  }
  auto decoded = decode_request(m, RequestLimits{});
  if (!decoded) return refused("hello", decoded.error());
  const auto* hello = std::get_if<Hello>(&decoded->body);
  if (hello == nullptr)
    return make_error(
        Errc::protocol, "hello",
        std::string("expected hello, got ") + message_type_name(type_of(decoded->body)));
  return *hello;
}

Result<DaemonChannel> create_channel(const ChannelSizes& sizes) {
  DaemonChannel c;
  c.sizes = sizes;
  auto request = create_ring_segment("ringcast-requests", sizes.request_ring_bytes);
  if (!request) return request.error();
  auto event = create_ring_segment("ringcast-events", sizes.event_ring_bytes);
  if (!event) return event.error();
  c.request_segment = std::move(*request);
  c.event_segment = std::move(*event);
  if (sizes.zcb_segment_bytes > 0) {
    auto zcb =
        create_sealed_segment("ringcast-zcb", sizes.zcb_segment_bytes, PeerAccess::read_write);
    if (!zcb) return zcb.error();
    c.zcb_segment = std::move(*zcb);
  }
  for (auto* bell : {&c.request_bell, &c.event_bell}) {
    auto created = Doorbell::create();
    if (!created) return created.error();
    bell->emplace(std::move(*created));
  }
  auto requests = RingConsumer::attach(
      ring_span(c.request_segment.mapping, sizes.request_ring_bytes), sizes.max_frame_bytes);
  if (!requests) return requests.error();
  auto events = RingProducer::attach(ring_span(c.event_segment.mapping, sizes.event_ring_bytes),
                                     sizes.max_frame_bytes, c.event_bell->fd());
  if (!events) return events.error();
  c.requests.emplace(std::move(*requests));
  c.events.emplace(std::move(*events));
  return c;
}

Status send_welcome(int socket_fd, const DaemonChannel& channel, Welcome welcome, int log_fd,
                    std::uint64_t log_bytes) {
  welcome.max_frame_bytes = channel.sizes.max_frame_bytes;
  welcome.request_ring_bytes = channel.sizes.request_ring_bytes;
  welcome.event_ring_bytes = channel.sizes.event_ring_bytes;
  welcome.zcb_segment_bytes = channel.sizes.zcb_segment_bytes;
  welcome.log_bytes = log_fd >= 0 ? log_bytes : 0;
  std::vector<int> fds = {channel.request_segment.fd.get(), channel.event_segment.fd.get(),
                          channel.request_bell->fd(), channel.event_bell->fd()};
  if (welcome.zcb_segment_bytes > 0) fds.push_back(channel.zcb_segment.fd.get());
  if (welcome.log_bytes > 0) fds.push_back(log_fd);
  EncodedFrame frame;
  encode(Event{0, welcome}, frame);
  return send_frame(socket_fd, frame, fds);
}

Result<ClientChannel> receive_welcome(int socket_fd) {
  std::vector<std::byte> buffer(kSetupMessageBytes);
  auto got = receive_fds(socket_fd, buffer, 6);
  if (!got) return got.error();
  buffer.resize(got->bytes);
  RC_TRY(check_welcome_head(buffer));
  auto decoded = decode_event(buffer, EventLimits{});
  if (!decoded) return refused("receive_welcome", decoded.error());
  ClientChannel c;
  c.welcome = std::get<Welcome>(decoded->body);
  RC_TRY(map_channel(c, got->fds));
  auto requests = RingProducer::attach(ring_span(c.request_segment, c.welcome.request_ring_bytes),
                                       c.welcome.max_frame_bytes, c.request_bell->fd());
  if (!requests) return requests.error();
  auto events = RingConsumer::attach(ring_span(c.event_segment, c.welcome.event_ring_bytes),
                                     c.welcome.max_frame_bytes);
  if (!events) return events.error();
  c.requests.emplace(std::move(*requests));
  c.events.emplace(std::move(*events));
  return c;
}

Status send_hello(int socket_fd, pid_t pid) {
  EncodedFrame frame;
  encode(Request{0, Hello{kProtocolVersion, static_cast<std::uint32_t>(pid)}}, frame);
  return send_frame(socket_fd, frame, {});
}

}  // namespace ringcast::ipc
