// Hostile and broken clients of ringcastd's client server, each next to an
// honest client of the same daemon: a garbage frame, an event where a
// request belongs, a message's parts beyond the largest message, bytes on
// the socket after hello, an impossible ring cursor, a flood of requests
// and one of doorbell rings, quorum requests with fields out of range. Each
// is disconnected with its counter; the daemon and the honest client go on.
// A handle of one service named in a request of the other is only a bad
// handle.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "client_test_support.hpp"
#include "ipc/ring_header.hpp"

namespace ringcast::daemon_test {
namespace {

using namespace std::chrono_literals;

SimDaemonOptions options() {
  SimDaemonOptions o;
  o.members = 1;
  o.prepare = [](client::Node& n) { n.set_max_fragmented_bytes(1u << 20); };
  o.server.quota.max_wakeups_per_second = 2000;
  return o;
}

// The honest client joins; the hostile one does what `attack` does and must
// be hung up, counted in `counter`; the honest one still sends and receives.
void expect_dropped(const std::function<void(RawClient&, std::uint64_t)>& attack,
                    std::atomic<std::uint64_t> daemon::ServerCounters::*counter) {
  SimDaemons d(options());
  auto honest = connect(d, 0), hostile = connect(d, 0);
  ASSERT_TRUE(honest && hostile);
  const std::uint64_t h = honest->initialize(), bad = hostile->initialize();
  ASSERT_NE(h, 0u);
  ASSERT_NE(bad, 0u);
  ASSERT_EQ(join(*honest, h, "honest"), CS_OK);
  ASSERT_EQ(join(*hostile, bad, "hostile"), CS_OK);
  ASSERT_TRUE(still_served(*honest, h, "before"));
  attack(*hostile, bad);
  EXPECT_TRUE(hostile->hung_up(10s));
  EXPECT_EQ((d.server(0).counters().*counter).load(), 1u);
  EXPECT_TRUE(still_served(*honest, h, "after"));
  auto again = connect(d, 0);  // and takes new clients
  ASSERT_TRUE(again);
  EXPECT_NE(again->initialize(), 0u);
}

TEST(ClientHostile, AGarbageFrameIsDropped) {
  expect_dropped(
      [](RawClient& c, std::uint64_t) {
        std::vector<std::byte> junk(40, std::byte{0xa5});
        ASSERT_TRUE(c.push(junk));
      },
      &daemon::ServerCounters::malformed);
}

TEST(ClientHostile, AnEventInTheRequestRingIsDropped) {
  expect_dropped(
      [](RawClient& c, std::uint64_t) {
        ipc::EncodedFrame f;
        ipc::encode(ipc::Event{1, ipc::Reply{1, 0}}, f);
        ASSERT_TRUE(c.push(f.joined()));
      },
      &daemon::ServerCounters::malformed);
}

TEST(ClientHostile, PartsBeyondTheLargestMessageAreDropped) {
  expect_dropped(
      [](RawClient& c, std::uint64_t handle) {
        const std::vector<std::byte> part(200'000, std::byte{1});
        for (int i = 0; i < 6; ++i)  // 1.2 MB, the largest message is 1 MiB
          ASSERT_TRUE(c.send(ipc::McastPart{handle, part}, 0));
      },
      &daemon::ServerCounters::malformed);
}

TEST(ClientHostile, ARequestBetweenPartsIsDropped) {
  expect_dropped(
      [](RawClient& c, std::uint64_t handle) {
        const std::vector<std::byte> part(1000, std::byte{1});
        ASSERT_TRUE(c.send(ipc::McastPart{handle, part}, 0));
        ASSERT_TRUE(c.send(ipc::LocalGet{handle}, c.next_id()));
      },
      &daemon::ServerCounters::malformed);
}

TEST(ClientHostile, QuorumRequestsOutOfRangeAreDropped) {
  for (std::uint32_t flags : {8u, 0xffffffffu})
    expect_dropped(
        [flags](RawClient& c, std::uint64_t handle) {
          ASSERT_TRUE(c.send(ipc::QuorumTrackstart{handle, flags}, c.next_id()));
        },
        &daemon::ServerCounters::malformed);
  expect_dropped([](RawClient& c,
                    std::uint64_t) { ASSERT_TRUE(c.send(ipc::QuorumInitialize{2}, c.next_id())); },
                 &daemon::ServerCounters::malformed);
}

// Both services number their handles alike on one connection, and each
// takes only its own.
TEST(ClientHostile, AHandleOfTheOtherServiceIsABadHandle) {
  SimDaemons d(options());
  auto c = connect(d, 0);
  ASSERT_TRUE(c);
  const std::uint64_t cpg = c->initialize();
  ASSERT_NE(cpg, 0u);
  auto q = c->call(ipc::QuorumInitialize{1});
  ASSERT_TRUE(q && q->error == CS_OK);
  const std::uint64_t quorum = q->value;
  auto expect = [&](ipc::RequestBody body, std::uint32_t error) {
    auto r = c->call(std::move(body));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, error);
  };
  expect(ipc::QuorumGetquorate{cpg}, CS_ERR_BAD_HANDLE);
  expect(ipc::QuorumTrackstart{cpg, 2}, CS_ERR_BAD_HANDLE);
  expect(ipc::QuorumTrackstop{cpg}, CS_ERR_BAD_HANDLE);
  expect(ipc::QuorumFinalize{cpg}, CS_ERR_BAD_HANDLE);
  expect(ipc::LocalGet{quorum}, CS_ERR_BAD_HANDLE);
  expect(ipc::Join{quorum, ipc::GroupName::of("g")}, CS_ERR_BAD_HANDLE);
  expect(ipc::Finalize{quorum}, CS_ERR_BAD_HANDLE);
  expect(ipc::QuorumGetquorate{quorum}, CS_OK);
  expect(ipc::Finalize{cpg}, CS_OK);
  EXPECT_FALSE(c->hung_up());  // the quorum handle is still open
  expect(ipc::QuorumFinalize{quorum}, CS_OK);
  EXPECT_TRUE(c->hung_up(10s));
  EXPECT_EQ(d.server(0).counters().malformed.load(), 0u);
}

// The state a trackstart queues is in the ring before its reply.
TEST(ClientHostile, TrackstartWritesTheStateBeforeItsReply) {
  SimDaemons d(options());
  auto c = connect(d, 0);
  ASSERT_TRUE(c);
  auto q = c->call(ipc::QuorumInitialize{0});
  ASSERT_TRUE(q && q->error == CS_OK);
  const std::uint64_t id = c->next_id();
  ASSERT_TRUE(c->send(ipc::QuorumTrackstart{q->value, CS_TRACK_CURRENT}, id));
  ASSERT_TRUE(c->read_until([&] { return c->reply_to(id).has_value(); }));
  ASSERT_GE(c->events.size(), 3u);  // initialize's reply, the notification, this reply
  const Got& n = c->events[c->events.size() - 2];
  EXPECT_EQ(n.type, ipc::MessageType::quorum_notify);
  EXPECT_EQ(n.handle, q->value);
  EXPECT_EQ(n.value, 1u);  // one node, one vote expected
  ASSERT_EQ(n.members.size(), 1u);
  EXPECT_EQ(n.members[0].node, d.cluster().node(0));
  EXPECT_EQ(c->reply_to(id)->error, CS_OK);
}

TEST(ClientHostile, BytesOnTheSocketAfterHelloAreDropped) {
  expect_dropped(
      [](RawClient& c, std::uint64_t) {
        const char byte = 'x';
        ASSERT_EQ(::send(c.socket(), &byte, 1, MSG_NOSIGNAL), 1);
      },
      &daemon::ServerCounters::malformed);
}

TEST(ClientHostile, AnImpossibleRingCursorIsDropped) {
  expect_dropped(
      [](RawClient& c, std::uint64_t) {
        auto* header =
            reinterpret_cast<ipc::RingHeader*>(c.channel().request_segment.bytes().data());
        header->head.store(3);  // not a multiple of 8
        ASSERT_TRUE(c.channel().request_bell->ring().ok());
      },
      &daemon::ServerCounters::malformed);
}

// Requests without reading a reply: once the event ring is full, replies
// wait aside, and beyond the quota of requests in flight it is a flood.
TEST(ClientHostile, AFloodOfRequestsIsDropped) {
  expect_dropped(
      [](RawClient& c, std::uint64_t handle) {
        ipc::EncodedFrame f;
        for (int i = 0; i < 200'000 && !c.hung_up(); ++i) {
          ipc::encode(ipc::Request{c.next_id(), ipc::LocalGet{handle}}, f);
          while (!c.channel().requests->push(f.joined()).ok() && !c.hung_up(1ms)) {
          }
        }
      },
      &daemon::ServerCounters::over_quota);
}

TEST(ClientHostile, AFloodOfDoorbellRingsIsDropped) {
  expect_dropped(
      [](RawClient& c, std::uint64_t) {
        const auto end = std::chrono::steady_clock::now() + 10s;
        while (!c.hung_up() && std::chrono::steady_clock::now() < end) {
          for (int i = 0; i < 100; ++i)
            (void)c.channel().request_bell->ring();
          std::this_thread::sleep_for(20us);
        }
      },
      &daemon::ServerCounters::over_quota);
}

}  // namespace
}  // namespace ringcast::daemon_test
