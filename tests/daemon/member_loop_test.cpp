// ringcastd's main loop (api/daemon/member_loop.cpp) over simulated members:
// READY=1 on systemd's socket once the node is in the ring of every node,
// events released as they come (a sender is never held up by the daemon),
// STOPPING=1 and exit status 0 on a stop.
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "daemon/member_loop.hpp"
#include "notify_socket.hpp"
#include "support/sim_cluster.hpp"

namespace ringcast::daemon {
namespace {

using namespace std::chrono_literals;

struct Cluster {
  std::unique_ptr<runtime::SimCluster> sim;
  std::vector<std::unique_ptr<MemberLoop>> loops;  // by member; [0] is the daemon's
  std::vector<std::unique_ptr<runtime::RingTransport>> transports;

  explicit Cluster(std::size_t members) {
    runtime::SimClusterOptions o;
    o.members = members;
    o.ring.log_bytes = 64 << 10;
    o.ring.max_message_bytes = 4096;
    o.membership.token_timeout_ns = 80'000'000;
    o.membership.join_interval_ns = 5'000'000;
    o.membership.consensus_timeout_ns = 100'000'000;
    auto c = runtime::SimCluster::start(o);
    if (!c.ok()) ADD_FAILURE() << c.error().message();
    sim = std::move(*c);
    for (std::size_t i = 0; i < members; ++i) {
      loops.push_back(std::make_unique<MemberLoop>(10s));
      transports.push_back(sim->attach(i, loops[i]->round_callback()));
    }
  }
  ~Cluster() {
    for (auto& t : transports)
      if (t) t->stop();
    sim->stop();
  }
};

std::string scratch_socket() {
  char name[] = "/tmp/ringcastd-loop-XXXXXX";
  const char* dir = ::mkdtemp(name);
  EXPECT_NE(dir, nullptr);
  return std::string(dir != nullptr ? dir : "/tmp") + "/notify";
}

// Bounded: every try_again is retried until the deadline.
bool send_all(runtime::RingTransport& t, std::size_t messages, std::size_t bytes) {
  const std::vector<std::byte> payload(bytes, std::byte{7});
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (std::size_t sent = 0; sent < messages;) {
    runtime::OutgoingTransportMessage m;
    m.payload = payload;
    const Status s = t.submit(m);
    if (s.ok()) {
      ++sent;
    } else if (s.error().code != Errc::try_again || std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "message " << sent << ": " << s.error().message();
      return false;
    } else {
      std::this_thread::sleep_for(1ms);
    }
  }
  return true;
}

// Bounded: 30 s.
bool delivered(const MemberLoop& loop, std::uint64_t messages) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (loop.messages() < messages && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  return loop.messages() == messages;
}

TEST(MemberLoop, ReadyInTheRingOfAllReleasesEverythingStopsOnRequest) {
  test::NotifySocket socket(scratch_socket());
  ::setenv("NOTIFY_SOCKET", socket.name().c_str(), 1);
  Cluster cluster(3);
  int stop[2];
  ASSERT_EQ(::pipe(stop), 0);
  bool told_ready = false;
  int code = -1;
  std::thread daemon([&] {
    code = cluster.loops[0]->run(*cluster.transports[0], stop[0], [&] { told_ready = true; });
  });
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=in an operational ring");
  EXPECT_EQ(cluster.sim->ring_members(0).size(), 3u) << cluster.sim->describe(0);
  // Sixteen times the receive log through node 2: only a daemon that
  // releases what it is given lets them all through.
  EXPECT_TRUE(send_all(*cluster.transports[1], 1024, 1024));
  for (const auto& loop : cluster.loops)
    EXPECT_TRUE(delivered(*loop, 1024)) << loop->messages();
  ASSERT_EQ(::write(stop[1], "x", 1), 1);
  EXPECT_EQ(socket.receive(), "STOPPING=1");
  daemon.join();
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(told_ready);
  EXPECT_TRUE(cluster.loops[0]->ready());
  ::unsetenv("NOTIFY_SOCKET");
  ::close(stop[0]);
  ::close(stop[1]);
}

}  // namespace
}  // namespace ringcast::daemon
