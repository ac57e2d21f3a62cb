// ringcastd's client server (api/daemon/client_server.hpp) over simulated
// nodes: raw clients in this process speak the ipc protocol to the daemons'
// real sockets and rings. Two clients on two nodes see one order; a client
// that goes (its socket closed) leaves its group with PROCDOWN and the ring
// stays; finalize sends its leave.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "client_test_support.hpp"
#include "ipc/fd_passing.hpp"

namespace ringcast::daemon_test {
namespace {

using namespace std::chrono_literals;

std::string text_of(int sender, int i) {
  std::string s = std::to_string(sender) + ":" + std::to_string(i) + ":";
  // Every 40th is larger than a frame (parts both ways) and than the ring's
  // atomic size (fragments in the ring).
  const std::size_t bytes = i % 40 == 7 ? 300'000 : 100 + i % 900;
  s.resize(bytes, static_cast<char>('a' + i % 26));
  return s;
}

TEST(ClientServer, TwoClientsOnTwoNodesSeeOneOrder) {
  SimDaemons d({});
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->welcome().node_id, d.node(0).node_id());
  EXPECT_EQ(a->welcome().atomic_message_bytes, d.node(0).max_message_bytes());
  EXPECT_EQ(a->welcome().largest_message_bytes, d.node(0).max_fragmented_bytes());
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_NE(ha, 0u);
  ASSERT_NE(hb, 0u);
  ASSERT_EQ(join(*a, ha, "order"), CS_OK);
  ASSERT_EQ(join(*b, hb, "order"), CS_OK);
  ASSERT_TRUE(a->read_until([&] { return has_members(*a, 2); }));
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 2); }));
  constexpr int kEach = 120;
  std::thread tb([&] {
    for (int i = 0; i < kEach; ++i)
      ASSERT_EQ(send(*b, hb, text_of(2, i)), CS_OK);
  });
  for (int i = 0; i < kEach; ++i)
    ASSERT_EQ(send(*a, ha, text_of(1, i)), CS_OK);
  tb.join();
  ASSERT_TRUE(a->read_until([&] { return a->messages().size() == 2 * kEach; }));
  ASSERT_TRUE(b->read_until([&] { return b->messages().size() == 2 * kEach; }));
  EXPECT_EQ(a->messages(), b->messages());
  EXPECT_FALSE(a->decode_failed || b->decode_failed);
  // finalize: answered, and the other sees the handle go.
  auto fin = a->call(ipc::Finalize{ha});
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->error, CS_OK);
  EXPECT_TRUE(a->hung_up(5s));  // its last handle: the connection is done
  EXPECT_TRUE(b->read_until([&] { return has_members(*b, 1); }));
}

TEST(ClientServer, AClientThatGoesMidSendIsProcdownAndTheRingStays) {
  SimDaemons d({});
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*a, ha, "kill"), CS_OK);
  ASSERT_EQ(join(*b, hb, "kill"), CS_OK);
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 2); }));
  const std::uint64_t ring = d.node(1).transport().status().ring_seq;
  // Sends without waiting for their replies, then the socket closes (its
  // process died): the parts of an unfinished message are dropped.
  for (int i = 0; i < 50; ++i)
    a->mcast(ha, text_of(1, i));
  a->send(ipc::McastPart{ha, std::as_bytes(std::span("part", 4))}, 0);
  a->close_socket();
  a.reset();
  ASSERT_TRUE(b->read_until([&] { return saw_procdown(*b, d.node(0).node_id()); }));
  EXPECT_EQ(d.node(1).transport().status().ring_seq, ring);
  EXPECT_EQ(d.server(0).counters().malformed.load(), 0u);
  EXPECT_TRUE(b->read_until([&] { return d.server(0).counters().connected.load() == 0; }));
}

// The local queries answer as the C API does in embedded mode; zero-copy
// requests are refused (no segment yet), unknown handles are bad handles.
TEST(ClientServer, QueriesAnswerAndZeroCopyIsNotSupported) {
  SimDaemons d({});
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*a, ha, "q1"), CS_OK);
  ASSERT_EQ(join(*b, hb, "q2"), CS_OK);
  ASSERT_TRUE(a->read_until([&] { return has_members(*a, 1); }));
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 1); }));
  auto local = a->call(ipc::LocalGet{ha});
  ASSERT_TRUE(local);
  EXPECT_EQ(local->error, CS_OK);
  EXPECT_EQ(local->value, d.node(0).node_id());
  auto members = a->call(ipc::MembershipGet{ha, ipc::GroupName::of("q2")});
  ASSERT_TRUE(members);
  EXPECT_EQ(members->error, CS_OK);
  ASSERT_EQ(members->members.size(), 1u);
  EXPECT_EQ(members->members[0].node, d.node(1).node_id());
  bool both = false;
  for (int i = 0; i < 200 && !both; ++i) {  // until node 0 delivered b's join
    auto all = a->call(ipc::Iteration{ha, CPG_ITERATION_ALL, {}});
    ASSERT_TRUE(all);
    EXPECT_EQ(all->error, CS_OK);
    both = all->value == 2;
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(both);
  // Zero copy is client_zero_copy_test's; here only: no buffer, no send.
  auto zcb = a->call(ipc::ZcbMcast{ha, 2, 0, 100});
  ASSERT_TRUE(zcb);
  EXPECT_EQ(zcb->error, CS_ERR_INVALID_PARAM);
  auto bad = a->call(ipc::Join{ha + 100, ipc::GroupName::of("x")});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->error, CS_ERR_BAD_HANDLE);
  auto twice = a->call(ipc::Join{ha, ipc::GroupName::of("q3")});
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->error, CS_ERR_EXIST);
  EXPECT_EQ(d.server(0).counters().malformed.load(), 0u);
}

// A client of another protocol version is told so; one that says nothing
// is dropped after the hello timeout. Neither holds the daemon up.
TEST(ClientServer, AWrongVersionOrNoHelloIsDropped) {
  SimDaemonOptions o;
  o.members = 1;
  o.server.hello_timeout = 200ms;
  SimDaemons d(o);
  {
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, d.path(0).c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ipc::EncodedFrame hello;
    ipc::encode(ipc::Request{0, ipc::Hello{ipc::kProtocolVersion + 1, 1}}, hello);
    ASSERT_TRUE(ipc::send_fds(fd.get(), hello.joined(), {}).ok());
    auto w = ipc::receive_welcome(fd.get());
    ASSERT_FALSE(w.ok());
    // This test's library speaks the daemon's version: it reads CS_ERR_VERSION.
    const std::string version_error = "cs_error_t " + std::to_string(ipc::kWelcomeVersionError);
    EXPECT_NE(w.error().message().find(version_error), std::string::npos) << w.error().message();
  }
  {
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, d.path(0).c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    pollfd p{fd.get(), POLLIN | POLLRDHUP, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);  // hung up, unanswered
  }
  EXPECT_EQ(d.server(0).counters().failed_handshakes.load(), 2u);
  auto a = connect(d, 0);
  ASSERT_TRUE(a);
  EXPECT_NE(a->initialize(), 0u);
}

// A stop hangs up every client; a daemon started again replaces the socket
// file the first one left (as a killed daemon leaves it) and serves again.
TEST(ClientServer, AStopHangsUpAndTheSocketFileIsReplaced) {
  SimDaemonOptions o;
  o.members = 1;
  SimDaemons d(o);
  auto a = connect(d, 0);
  ASSERT_TRUE(a);
  ASSERT_NE(a->initialize(), 0u);
  EXPECT_EQ(d.server(0).counters().connected.load(), 1u);
  const std::string path = d.path(0);
  d.server(0).stop();
  EXPECT_TRUE(a->hung_up(5s));
  auto left = daemon::listen_on(path);  // a file left behind, nobody listening
  ASSERT_TRUE(left.ok()) << left.error().message();
  left->reset();
  daemon::ServerOptions so;
  so.socket_path = path;
  auto again = daemon::ClientServer::start(d.node_ptr(0), so);
  ASSERT_TRUE(again.ok()) << again.error().message();
  auto b = connect(d, 0);
  ASSERT_TRUE(b);
  EXPECT_NE(b->initialize(), 0u);
}

// A user the cluster file does not name gets a welcome that says
// CS_ERR_ACCESS, and is counted. Root (these tests' usual user) is always
// let in, so the refused client is a child that became nobody.
TEST(ClientServer, AUserNotAllowedIsRefused) {
  SimDaemonOptions o;
  o.members = 1;
  o.server.allow_own_user = false;
  SimDaemons d(o);
  const std::string dir = d.path(0).substr(0, d.path(0).rfind('/'));
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  auto refused = [&] {
    auto fd = connect_to(d.path(0));
    if (!fd) return false;
    auto w = ipc::receive_welcome(fd->get());
    return !w && w.error().message().find("cs_error_t 11") != std::string::npos;
  };
  if (::getuid() != 0) {
    EXPECT_TRUE(refused());
  } else {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
      ::_exit(refused() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    // Allowed by its group: the same user gets in.
  }
  EXPECT_EQ(d.server(0).counters().refused.load(), 1u);
  EXPECT_EQ(d.server(0).counters().accepted.load(), 0u);
}

// A client that stops reading its events: its event ring fills, its
// Session's queue grows at the node, and the node evicts it (PROCDOWN for
// the other member); the other client's stream goes on, and the evicted
// client's next call says CS_ERR_LIBRARY.
TEST(ClientServer, AClientThatStopsReadingIsEvicted) {
  SimDaemonOptions o;
  o.server.sizes = ipc::ChannelSizes{16 << 10, 64 << 10, 64 << 10, 0};
  o.eviction.max_bytes = 128u << 10;
  o.eviction.max_age = 200ms;
  SimDaemons d(o);
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*a, ha, "ev"), CS_OK);
  ASSERT_EQ(join(*b, hb, "ev"), CS_OK);
  ASSERT_TRUE(a->read_until([&] { return has_members(*a, 2); }));
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 2); }));
  // 16 KiB messages (parts both ways), 3 MiB: three times the ring's log.
  const std::string payload(16u << 10, 'e');
  for (int i = 0; i < 192 && !saw_procdown(*b, d.node(0).node_id()); ++i)
    ASSERT_EQ(send(*b, hb, payload), CS_OK) << i;
  ASSERT_TRUE(b->read_until([&] { return saw_procdown(*b, d.node(0).node_id()); }));
  // The connection notices it at its next check (within its idle sleep).
  EXPECT_TRUE(b->read_until([&] { return d.server(0).counters().evicted.load() == 1; }, 5s));
  EXPECT_TRUE(still_served(*b, hb, "after the eviction"));
  auto r = a->call(ipc::Mcast{ha, 2, std::as_bytes(std::span("late", 4))});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, CS_ERR_LIBRARY);
  EXPECT_FALSE(a->decode_failed);
}

// The node's delivery thread writes a delivery straight into the client's
// event ring while nothing waits in the handle's queue; once the ring is
// full, deliveries queue at the Session, and the ones after them too until
// the connection wrote them all: the client sees one order, the sender's,
// whichever way each message went.
TEST(ClientServer, DeliveriesSkipTheQueueUntilTheRingIsFullAndKeepTheirOrder) {
  SimDaemonOptions o;
  o.server.sizes = ipc::ChannelSizes{16 << 10, 64 << 10, 64 << 10, 0};
  SimDaemons d(o);
  // a does not read at first; b sends.
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*a, ha, "direct"), CS_OK);
  ASSERT_EQ(join(*b, hb, "direct"), CS_OK);
  ASSERT_TRUE(a->read_until([&] { return has_members(*a, 2); }));
  const auto& direct = d.server(0).counters().direct_deliveries;
  const std::uint64_t records = d.node(0).counters().records_delivered;
  // Up to 1 KiB each, 200 in all: about three times a's event ring.
  constexpr int kFirst = 200;
  std::vector<std::string> sent;
  for (int i = 0; i < kFirst; ++i) {
    sent.push_back(text_of(2, i).substr(0, 1024));
    ASSERT_EQ(send(*b, hb, sent.back()), CS_OK) << i;
  }
  ASSERT_TRUE(
      b->read_until([&] { return d.node(0).counters().records_delivered >= records + kFirst; }));
  // a's ring filled with the first ones; the others queued.
  const std::uint64_t before_reading = direct.load();
  EXPECT_GT(before_reading, 0u);
  EXPECT_LT(before_reading, std::uint64_t{kFirst});
  ASSERT_TRUE(a->read_until([&] { return a->messages().size() == kFirst; }));
  // Drained: the next ones go straight in again.
  constexpr int kSecond = 20;
  for (int i = 0; i < kSecond; ++i) {
    sent.push_back(text_of(2, kFirst + i).substr(0, 1024));
    ASSERT_EQ(send(*b, hb, sent.back()), CS_OK) << i;
  }
  ASSERT_TRUE(a->read_until([&] { return a->messages().size() == kFirst + kSecond; }));
  EXPECT_EQ(a->messages(), sent);
  EXPECT_GT(direct.load(), before_reading);
  EXPECT_FALSE(a->decode_failed);
}

}  // namespace
}  // namespace ringcast::daemon_test
