// ringcastd's main loop (api/daemon/member_loop.cpp) over simulated members:
// READY=1 on systemd's socket once the node is in the ring of every node,
// events released as they come (a sender is never held up by the daemon),
// STOPPING=1 and exit status 0 on a stop; the status file while it runs.
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "client/node.hpp"
#include "config/cluster_config.hpp"
#include "daemon/member_loop.hpp"
#include "daemon/node_status.hpp"
#include "daemon/server_counters.hpp"
#include "daemon/status_writer.hpp"
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

// The simulated members' nodes (1, 2, 3) as a cluster file names them.
config::LocalConfig three_node_file() {
  auto c = config::parse(
      "nodelist {\n node {\n  nodeid: 1\n  address: 10.0.0.1\n }\n node {\n  nodeid: 2\n"
      "  address: 10.0.0.2\n }\n node {\n  nodeid: 3\n  address: 10.0.0.3\n }\n}\n",
      "ringcast.conf");
  EXPECT_TRUE(c.ok()) << c.error().message();
  return config::LocalConfig{*c, 0};
}

std::optional<NodeStatus> read_status(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return in ? parse_status(text.str()) : std::nullopt;
}

TEST(MemberLoop, ReadyInTheRingOfAllReleasesEverythingStopsOnRequest) {
  test::NotifySocket socket(scratch_socket());
  const std::string status_file = socket.name() + ".status";
  std::optional<NodeStatus> status_seen;
  ::setenv("NOTIFY_SOCKET", socket.name().c_str(), 1);
  Cluster cluster(3);
  int stop[2];
  ASSERT_EQ(::pipe(stop), 0);
  bool told_ready = false;
  int code = -1;
  std::thread daemon([&] {
    StatusWriter writer(three_node_file(), status_file);
    MemberLoop::Hooks hooks;
    hooks.on_ready = [&] { told_ready = true; };
    hooks.on_tick = [&] {
      writer.update(*cluster.transports[0]);
      if (!status_seen) status_seen = read_status(status_file);
    };
    code = cluster.loops[0]->run(*cluster.transports[0], stop[0], hooks);
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
  // What ringcast-cfgtool reads, while the loop ran; gone once it stopped.
  ASSERT_TRUE(status_seen.has_value());
  EXPECT_EQ(status_seen->node, 1u);
  EXPECT_EQ(status_seen->pid, ::getpid());
  EXPECT_EQ(status_seen->members, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(status_seen->links,
            (std::vector<std::pair<std::uint32_t, bool>>{{2, true}, {3, true}}));
  EXPECT_FALSE(read_status(status_file).has_value());
  ::unsetenv("NOTIFY_SOCKET");
  ::close(stop[0]);
  ::close(stop[1]);
}

// As ringcastd runs it: a client::Node takes the member's rounds (the loop
// drains nothing), Hooks::left asks the node, and the status file carries
// the client server's counters after the ring's.
TEST(MemberLoop, ANodeTakesTheRoundsAndTheStatusFileHasTheClientCounters) {
  test::NotifySocket socket(scratch_socket());
  const std::string status_file = socket.name() + ".status";
  ::setenv("NOTIFY_SOCKET", socket.name().c_str(), 1);
  runtime::SimClusterOptions o;
  o.members = 2;
  o.ring.log_bytes = 64 << 10;
  o.ring.max_message_bytes = 4096;
  auto sim = runtime::SimCluster::start(o);
  ASSERT_TRUE(sim.ok());
  MemberLoop loop(10s), other(10s);
  auto node = client::Node::create();
  node->attach((*sim)->attach(0, node->round_callback()));
  auto other_transport = (*sim)->attach(1, other.round_callback());
  int stop[2];
  ASSERT_EQ(::pipe(stop), 0);
  std::optional<NodeStatus> status_seen;
  ServerCounters counters;
  counters.connected = 2;
  bool stopped_live = false;
  int code = -1;
  std::thread daemon([&] {
    StatusWriter writer(three_node_file(), status_file);
    MemberLoop::Hooks hooks;
    hooks.on_tick = [&] {
      writer.update(node->transport(), counters.list());
      if (!status_seen) status_seen = read_status(status_file);
    };
    hooks.left = [&] { return node->has_left(); };
    // Before the member stops: a submit still goes out.
    hooks.on_stop = [&] { stopped_live = node->transport().status().operational; };
    code = loop.run(node->transport(), stop[0], hooks);
  });
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=in an operational ring");
  EXPECT_TRUE(send_all(*other_transport, 256, 1024));  // released by the node, not the loop
  ASSERT_EQ(::write(stop[1], "x", 1), 1);
  EXPECT_EQ(socket.receive(), "STOPPING=1");
  daemon.join();
  EXPECT_EQ(code, 0);
  EXPECT_EQ(loop.messages(), 0u);
  EXPECT_TRUE(stopped_live);
  ASSERT_TRUE(status_seen.has_value());
  const auto& c = status_seen->counters;
  EXPECT_NE(
      std::find(c.begin(), c.end(), std::pair<std::string, std::uint64_t>{"clients_connected", 2}),
      c.end());
  other_transport->stop();
  node.reset();
  (*sim)->stop();
  ::unsetenv("NOTIFY_SOCKET");
  ::close(stop[0]);
  ::close(stop[1]);
}

}  // namespace
}  // namespace ringcast::daemon
