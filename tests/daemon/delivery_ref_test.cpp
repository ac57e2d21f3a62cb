// Deliveries by reference through the client server (simulated nodes, raw
// clients): each daemon's receive log is a sealed memfd its clients map
// read-only; a message whole in the log arrives as deliver_ref and stays
// held until the client releases it. Byte-exact and in one order at several
// clients, whichever way each went (the ring's room or the queue); a client
// that never releases gets copies past its quota and is evicted while the
// ring goes on; a client that goes releases what it held; bad releases are
// refused and counted; no client can write the log.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <string>

#include "client_test_support.hpp"
#include "ipc/fd_passing.hpp"
#include "ipc/shared_segment.hpp"

namespace ringcast::daemon_test {
namespace {

using namespace std::chrono_literals;

// From 300 bytes up (above the copy threshold of 256), none above the
// ring's atomic size: every one lies whole in the log.
std::string text_of(int sender, int i) {
  std::string s = std::to_string(sender) + ":" + std::to_string(i) + ":";
  s.resize(300 + static_cast<std::size_t>(i % 13) * 97, static_cast<char>('a' + i % 26));
  return s;
}

std::size_t count_of(const RawClient& c, ipc::MessageType type) {
  std::size_t n = 0;
  for (const Got& g : c.events)
    n += g.type == type;
  return n;
}

// Releases every delivery by reference the client read so far (one
// cumulative release); returns the id released through, or 0.
std::uint64_t release_read(RawClient& c, std::uint64_t handle) {
  std::uint64_t last = 0;
  for (const Got& g : c.events)
    if (g.type == ipc::MessageType::deliver_ref) last = g.value;
  if (last != 0) {
    EXPECT_TRUE(c.send(ipc::Release{handle, last}, 0));
  }
  return last;
}

// A request answered after every one before it: the daemon took them all.
void settle(RawClient& c, std::uint64_t handle) {
  auto r = c.call(ipc::LocalGet{handle});
  ASSERT_TRUE(r);
}

SimDaemonOptions shared_log_options() {
  SimDaemonOptions o;
  o.share_log = true;
  return o;
}

TEST(DeliveryRef, ByteExactAndInOneOrderAtSeveralClientsWhicheverWayEachWent) {
  SimDaemonOptions o = shared_log_options();
  // A small event ring: a client that does not read fills it with
  // deliver_ref frames, and the rest queue at its Session.
  o.server.sizes = ipc::ChannelSizes{8 << 10, 64 << 10, 16 << 10, 0};
  o.members = 3;
  SimDaemons d(o);
  // One process is one group member per node: a client on each node.
  auto a = connect(d, 0), b = connect(d, 1), c = connect(d, 2);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->welcome().log_bytes, 1u << 20);
  ASSERT_EQ(a->channel().log.bytes().size(), 1u << 20);
  const std::uint64_t ha = a->initialize(), hb = b->initialize(), hc = c->initialize();
  ASSERT_EQ(join(*a, ha, "refs"), CS_OK);
  ASSERT_EQ(join(*c, hc, "refs"), CS_OK);
  ASSERT_EQ(join(*b, hb, "refs"), CS_OK);
  ASSERT_TRUE(a->read_until([&] { return has_members(*a, 3); }));
  ASSERT_TRUE(c->read_until([&] { return has_members(*c, 3); }));
  const std::uint64_t records = d.node(0).counters().records_delivered;
  constexpr int kMessages = 300;
  std::vector<std::string> sent;
  for (int i = 0; i < kMessages; ++i) {
    sent.push_back(text_of(2, i));
    ASSERT_EQ(send(*b, hb, sent.back()), CS_OK) << i;
    if (i % 16 == 0) release_read(*b, hb);
  }
  ASSERT_TRUE(
      b->read_until([&] { return d.node(0).counters().records_delivered >= records + kMessages; }));
  // a read nothing yet: its ring took the first ones, the queue the others.
  EXPECT_LT(d.server(0).counters().deliveries_by_reference.load(), std::uint64_t{kMessages});
  ASSERT_TRUE(a->read_until([&] { return a->messages().size() == kMessages; }));
  ASSERT_TRUE(c->read_until([&] { return c->messages().size() == kMessages; }));
  ASSERT_TRUE(b->read_until([&] { return b->messages().size() == kMessages; }));
  EXPECT_EQ(a->messages(), sent);
  EXPECT_EQ(c->messages(), sent);
  EXPECT_EQ(b->messages(), sent);
  for (RawClient* x : {a.get(), b.get(), c.get()}) {
    EXPECT_EQ(count_of(*x, ipc::MessageType::deliver_ref), std::size_t{kMessages});
    EXPECT_EQ(count_of(*x, ipc::MessageType::deliver_inline), 0u);
    EXPECT_FALSE(x->decode_failed);
  }
  EXPECT_EQ(d.server(0).counters().deliveries_by_reference.load(), std::uint64_t{kMessages});
  EXPECT_EQ(release_read(*a, ha), std::uint64_t{kMessages});
  settle(*a, ha);
  EXPECT_EQ(d.server(0).counters().releases_refused.load(), 0u);
}

TEST(DeliveryRef, SmallDeliveriesAreCopied) {
  SimDaemons d(shared_log_options());
  auto a = connect(d, 0);
  ASSERT_TRUE(a);
  const std::uint64_t ha = a->initialize();
  ASSERT_EQ(join(*a, ha, "small"), CS_OK);
  ASSERT_EQ(send(*a, ha, std::string(255, 's')), CS_OK);
  ASSERT_EQ(send(*a, ha, std::string(256, 'r')), CS_OK);
  ASSERT_TRUE(a->read_until([&] { return a->messages().size() == 2; }));
  EXPECT_EQ(count_of(*a, ipc::MessageType::deliver_inline), 1u);
  EXPECT_EQ(count_of(*a, ipc::MessageType::deliver_ref), 1u);
  EXPECT_EQ(a->messages()[1], std::string(256, 'r'));
}

TEST(DeliveryRef, BadReleasesAreRefusedAndCounted) {
  SimDaemons d(shared_log_options());
  auto a = connect(d, 0);
  ASSERT_TRUE(a);
  const std::uint64_t ha = a->initialize();
  ASSERT_EQ(join(*a, ha, "bad"), CS_OK);
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(send(*a, ha, text_of(1, i)), CS_OK);
  ASSERT_TRUE(a->read_until([&] { return a->messages().size() == 3; }));
  const auto& refused = d.server(0).counters().releases_refused;
  auto release = [&](std::uint64_t handle, std::uint64_t id) {
    ASSERT_TRUE(a->send(ipc::Release{handle, id}, 0));
    settle(*a, ha);
  };
  release(ha, 99);  // never delivered
  EXPECT_EQ(refused.load(), 1u);
  release(ha, 2);  // the first two
  EXPECT_EQ(refused.load(), 1u);
  release(ha, 2);      // again
  release(ha, 1);      // already
  release(ha + 7, 3);  // no such handle
  EXPECT_EQ(refused.load(), 4u);
  release(ha, 3);
  EXPECT_EQ(refused.load(), 4u);
  EXPECT_TRUE(still_served(*a, ha, text_of(1, 9)));
  EXPECT_FALSE(a->hung_up());
}

// A client that reads but never releases: past its quota of unreleased
// bytes its deliveries are copies, and once it held the node's bound of the
// log for long enough its handle is evicted (PROCDOWN at the others); the
// ring goes on.
TEST(DeliveryRef, AClientThatNeverReleasesIsBoundedThenEvicted) {
  SimDaemonOptions o = shared_log_options();
  o.server.quota.max_unreleased_bytes = 64u << 10;
  o.eviction.max_bytes = 128u << 10;
  o.eviction.max_age = 200ms;
  SimDaemons d(o);
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*a, ha, "hold"), CS_OK);
  ASSERT_EQ(join(*b, hb, "hold"), CS_OK);
  ASSERT_TRUE(a->read_until([&] { return has_members(*a, 2); }));
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 2); }));
  // 8 KiB messages, up to 3 MiB: three times the log.
  const std::string payload(8u << 10, 'h');
  for (int i = 0; i < 384 && !saw_procdown(*b, d.node(0).node_id()); ++i) {
    ASSERT_EQ(send(*b, hb, payload), CS_OK) << i;
    release_read(*b, hb);
    a->read();
  }
  ASSERT_TRUE(b->read_until([&] { return saw_procdown(*b, d.node(0).node_id()); }));
  EXPECT_TRUE(b->read_until([&] { return d.server(0).counters().evicted.load() == 1; }, 5s));
  a->read();
  std::uint64_t by_reference = 0;
  for (const Got& g : a->events)
    if (g.type == ipc::MessageType::deliver_ref) by_reference += g.payload.size();
  EXPECT_GT(by_reference, 0u);
  EXPECT_LE(by_reference, 64u << 10);
  EXPECT_GT(count_of(*a, ipc::MessageType::deliver_inline), 0u);
  EXPECT_TRUE(still_served(*b, hb, text_of(2, 1)));
  auto r = a->call(ipc::Mcast{ha, 2, std::as_bytes(std::span("late", 4))});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, CS_ERR_LIBRARY);
}

// No eviction here: only the client's going frees what it held, and the
// others then send three times the log through.
TEST(DeliveryRef, AClientThatGoesReleasesWhatItHeld) {
  SimDaemons d(shared_log_options());
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*a, ha, "gone"), CS_OK);
  ASSERT_EQ(join(*b, hb, "gone"), CS_OK);
  ASSERT_TRUE(a->read_until([&] { return has_members(*a, 2); }));
  const std::string payload(8u << 10, 'g');
  for (int i = 0; i < 8; ++i)
    ASSERT_EQ(send(*b, hb, payload), CS_OK);
  ASSERT_TRUE(a->read_until([&] { return a->messages().size() == 8; }));
  EXPECT_EQ(count_of(*a, ipc::MessageType::deliver_ref), 8u);
  a->close_socket();
  ASSERT_TRUE(b->read_until([&] { return saw_procdown(*b, d.node(0).node_id()); }));
  for (int i = 0; i < 384; ++i) {
    ASSERT_EQ(send(*b, hb, payload), CS_OK) << i;
    release_read(*b, hb);
  }
  EXPECT_TRUE(still_served(*b, hb, text_of(2, 2)));
}

// The descriptor a client gets, taken as it comes: neither it, nor one
// opened again through /proc, nor the client's own mapping can write.
TEST(DeliveryRef, TheLogCannotBeWrittenByAClient) {
  SimDaemons d(shared_log_options());
  auto socket = connect_to(d.path(0));
  ASSERT_TRUE(socket.ok());
  std::vector<std::byte> buffer(4096);
  auto got = ipc::receive_fds(socket->get(), buffer, 6);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->fds.size(), 6u);  // rings, doorbells, the zcb segment, the log
  const int fd = got->fds.back().get();
  const std::size_t bytes = 1u << 20;
  EXPECT_EQ(::fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
  const int seals = ::fcntl(fd, F_GET_SEALS);
  EXPECT_EQ(static_cast<unsigned>(seals) & ipc::required_seals(ipc::PeerAccess::read_only),
            ipc::required_seals(ipc::PeerAccess::read_only));
  EXPECT_EQ(::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
  void* base = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  ASSERT_NE(base, MAP_FAILED);
  EXPECT_NE(::mprotect(base, bytes, PROT_READ | PROT_WRITE), 0);
  ::munmap(base, bytes);
  const std::string again = "/proc/self/fd/" + std::to_string(fd);
  const int rw = ::open(again.c_str(), O_RDWR | O_CLOEXEC);
  if (rw >= 0) {
    EXPECT_EQ(::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0), MAP_FAILED);
    const char byte = 'x';
    EXPECT_LT(::pwrite(rw, &byte, 1, 0), 0);
    EXPECT_NE(::ftruncate(rw, 4096), 0);
    ::close(rw);
  }
}

}  // namespace
}  // namespace ringcast::daemon_test
