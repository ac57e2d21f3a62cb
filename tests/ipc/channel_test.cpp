// A client's channel set up over a SOCK_SEQPACKET socketpair: in a forked
// client that sends requests through its ring (inline and from its zcb
// segment) and reads replies and the read-only log, with the daemon side
// decoding, charging the quota ledger and answering; the version rule both
// ways; a welcome whose descriptors do not match its sizes; a client that
// corrupts its request ring or tries to shrink its segments.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "ipc/channel.hpp"
#include "ipc/fd_passing.hpp"
#include "ipc/frame_codec.hpp"
#include "ipc/quota.hpp"
#include "socket_pair.hpp"

namespace ringcast::ipc {
namespace {

constexpr ChannelSizes kSizes{4096, 1 << 14, 1 << 14, 1 << 16};
constexpr std::uint64_t kRequests = 2000;
constexpr std::size_t kLogBytes = 1 << 16;

template <class Message>
bool push(RingProducer& ring, const Message& message) {
  EncodedFrame frame;
  encode(message, frame);
  const std::span<const std::byte> parts[] = {frame.fixed, frame.payload};
  while (true) {
    auto pushed = ring.push(parts);
    if (pushed.ok()) return true;
    if (pushed.error().code != Errc::try_again) return false;
    std::this_thread::yield();
  }
}

// The client: every request answered with the value the daemon computes.
int run_client(int socket_fd) {
  if (!send_hello(socket_fd, ::getpid()).ok()) return 10;
  auto c = receive_welcome(socket_fd);
  if (!c.ok()) return 11;
  if (c->welcome.node_id != 9 || c->zcb_segment.bytes().size() != kSizes.zcb_segment_bytes)
    return 12;
  if (std::memcmp(c->log.bytes().data(), "log", 4) != 0) return 13;
  if (::mprotect(c->log.bytes().data(), kLogBytes, PROT_READ | PROT_WRITE) == 0) return 14;
  std::memset(c->zcb_segment.bytes().data() + 4096, 0x3c, 1000);
  const std::byte payload[100] = {};
  std::uint64_t answered = 0;
  std::vector<std::byte> frame;
  for (std::uint64_t id = 1; id <= kRequests; ++id) {
    const Request r = id % 2 == 0 ? Request{id, Mcast{1, 2, std::span(payload).first(id % 100)}}
                                  : Request{id, ZcbMcast{1, 2, 4096, 1000}};
    if (!push(*c->requests, r)) return 15;
    // Replies are read as they come; the rest after the last request.
    while (c->events->pop(frame).ok() && !frame.empty()) {
      auto event = decode_event(frame, EventLimits{0, kSizes.max_frame_bytes});
      if (!event.ok() || event->request_id != ++answered) return 16;
      frame.clear();
    }
  }
  if (!push(*c->requests, Request{kRequests + 1, Finalize{1}})) return 17;
  while (answered < kRequests + 1) {
    auto got = c->events->pop(frame);
    if (!got.ok()) return 18;
    if (!*got) {
      if (!wait_for_frames(*c->events, *c->event_bell, {}).ok()) return 19;
      continue;
    }
    auto event = decode_event(frame, EventLimits{0, kSizes.max_frame_bytes});
    if (!event.ok() || event->request_id != ++answered) return 20;
    const auto& reply = std::get<Reply>(event->body);
    const std::uint64_t id = event->request_id;
    const std::uint64_t want = id > kRequests ? 0 : id % 2 == 0 ? id % 100 : 1000;
    if (reply.value != want) return 21;
  }
  return 0;
}

// The daemon: decodes, admits, answers with the payload's length.
void serve(DaemonChannel& d, QuotaLedger& ledger) {
  const auto limits = request_limits(ledger.quota(), kSizes.zcb_segment_bytes, 4096);
  std::vector<std::byte> frame;
  for (bool done = false; !done;) {
    auto got = d.requests->pop(frame);
    ASSERT_TRUE(got.ok()) << got.error().message();
    if (!*got) {
      ASSERT_TRUE(wait_for_frames(*d.requests, *d.request_bell, {}).ok());
      continue;
    }
    auto request = decode_request(frame, limits);
    ASSERT_TRUE(request.ok()) << request.error().message;
    ASSERT_TRUE(ledger.admit(type_of(request->body)).ok());
    std::uint64_t value = 0;
    if (const auto* m = std::get_if<Mcast>(&request->body)) value = m->payload.size();
    if (const auto* z = std::get_if<ZcbMcast>(&request->body)) {
      const auto bytes = d.zcb_segment.mapping.bytes().subspan(z->offset, z->length);
      ASSERT_TRUE(std::all_of(bytes.begin(), bytes.end(),
                              [](std::byte b) { return b == std::byte{0x3c}; }));
      value = z->length;
    }
    done = std::holds_alternative<Finalize>(request->body);
    ASSERT_TRUE(push(*d.events, Event{request->request_id, Reply{0, value}}));
    ledger.answered();
  }
}

TEST(Channel, AForkedClientSendsThroughItsRingsAndReadsReplies) {
  SocketPair pair;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pair.daemon.reset();
    ::_exit(run_client(pair.client.get()));
  }
  pair.client.reset();
  auto hello = receive_hello(pair.daemon.get());
  ASSERT_TRUE(hello.ok()) << hello.error().message();
  EXPECT_EQ(hello->pid, static_cast<std::uint32_t>(child));
  auto log = create_sealed_segment("ipc-test-log", kLogBytes, PeerAccess::read_only);
  auto channel = create_channel(kSizes);
  ASSERT_TRUE(log.ok() && channel.ok());
  std::memcpy(log->mapping.bytes().data(), "log", 4);
  ASSERT_TRUE(
      send_welcome(pair.daemon.get(), *channel, Welcome{.node_id = 9}, log->fd.get(), kLogBytes)
          .ok());
  QuotaLedger ledger;
  serve(*channel, ledger);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the client's step that failed (channel_test.cpp)";
  EXPECT_EQ(ledger.requests_in_flight(), 0u);
  EXPECT_EQ(channel->requests->frames(), kRequests + 1);
}

TEST(Channel, ADaemonRefusesALibraryOfAnotherVersionNamingBoth) {
  SocketPair pair;
  EncodedFrame hello;
  encode(Request{0, Hello{kProtocolVersion + 1, 1}}, hello);
  ASSERT_TRUE(send_fds(pair.client.get(), hello.joined(), {}).ok());
  auto refused = receive_hello(pair.daemon.get());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::refused);
  EXPECT_NE(
      refused.error().message().find("the library speaks " + std::to_string(kProtocolVersion + 1) +
                                     ", the daemon speaks " + std::to_string(kProtocolVersion)),
      std::string::npos)
      << refused.error().message();
  // The client reads the refusal: same version, CS_ERR_VERSION.
  auto answer = receive_welcome(pair.client.get());
  ASSERT_FALSE(answer.ok());
  EXPECT_NE(answer.error().message().find("cs_error_t 3)"), std::string::npos);
}

TEST(Channel, ALibraryRefusesADaemonOfAnotherVersionNamingBoth) {
  SocketPair pair;
  EncodedFrame welcome;
  encode(Event{0, Welcome{.version = kProtocolVersion + 1}}, welcome);
  // A daemon of a later version may have added fields: still named.
  auto bytes = welcome.joined();
  bytes.resize(bytes.size() + 24);
  ASSERT_TRUE(send_fds(pair.daemon.get(), bytes, {}).ok());
  auto refused = receive_welcome(pair.client.get());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(
      refused.error().message().find("the library speaks " + std::to_string(kProtocolVersion) +
                                     ", the daemon speaks " + std::to_string(kProtocolVersion + 1)),
      std::string::npos)
      << refused.error().message();
}

TEST(Channel, AWelcomeWhoseDescriptorsDoNotMatchItsSizesIsRefused) {
  SocketPair pair;
  ChannelSizes no_zcb = kSizes;
  no_zcb.zcb_segment_bytes = 0;
  auto channel = create_channel(no_zcb);
  ASSERT_TRUE(channel.ok());
  EncodedFrame welcome;
  encode(Event{0, Welcome{.max_frame_bytes = 4096,
                          .request_ring_bytes = 1 << 14,
                          .event_ring_bytes = 1 << 14,
                          .zcb_segment_bytes = 1 << 16}},
         welcome);
  const int fds[] = {channel->request_segment.fd.get(), channel->event_segment.fd.get(),
                     channel->request_bell->fd(), channel->event_bell->fd()};
  ASSERT_TRUE(send_fds(pair.daemon.get(), welcome.joined(), fds).ok());
  auto refused = receive_welcome(pair.client.get());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::protocol);
}

TEST(Channel, AClientCorruptingItsRingOrShrinkingItsSegmentsHurtsOnlyItself) {
  SocketPair pair;
  auto d = create_channel(kSizes);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(send_welcome(pair.daemon.get(), *d, Welcome{}, -1, 0).ok());
  std::vector<std::byte> buffer(256);
  auto got = receive_fds(pair.client.get(), buffer, 6);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->fds.size(), 5u);
  for (const auto& fd : {&got->fds[0], &got->fds[1], &got->fds[4]})
    EXPECT_NE(::ftruncate(fd->get(), 4096), 0);
  auto mapped =
      map_received(got->fds[0].get(), ring_segment_bytes(1 << 14), PeerAccess::read_write);
  ASSERT_TRUE(mapped.ok());
  auto* header = reinterpret_cast<RingHeader*>(mapped->bytes().data());
  header->head.store(std::uint64_t{1} << 40);
  std::vector<std::byte> frame;
  auto refused = d->requests->pop(frame);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::protocol);
  // The daemon's mapping of the whole segment is still there to the end.
  EXPECT_EQ(d->zcb_segment.mapping.bytes().back(), std::byte{0});
}

}  // namespace
}  // namespace ringcast::ipc
