// Faults on the simulated fabric: crash, restart, partition and heal,
// one-way breaks, slow links.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "sim_net.hpp"

namespace ringcast::fabric::sim::test {
namespace {

constexpr std::uint64_t kNever = UINT64_MAX;

// Streams records with immediates from every member to every other, a few
// per microsecond, and records when each member first saw each peer fail.
class Stream {
 public:
  explicit Stream(SimNet& net, std::vector<NodeId> nodes) : net_(net), nodes_(std::move(nodes)) {}

  void post_round() {
    for (NodeId from : nodes_) {
      if (net_.world.endpoint(from) == nullptr) continue;
      for (NodeId to : nodes_) {
        if (from == to || net_.link(from, to).failed()) continue;
        std::uint32_t& seq = next_[{from, to}];
        WriteOp op = signaled(
            with_imm(write_op(*net_.host(from).send, seq % 512 * 8, 8, seq % 512 * 8, seq), seq));
        if (net_.link(from, to).post({&op, 1}).ok()) ++seq;
      }
    }
  }

  // Runs to t_ns, posting a round every period_ns, noting failures.
  void run_until(std::uint64_t t_ns, std::uint64_t period_ns = 1'000) {
    while (net_.world.now_ns() < t_ns) {
      post_round();
      const std::uint64_t next = std::min(t_ns, net_.world.now_ns() + period_ns);
      while (auto e = net_.world.next_event_ns()) {
        if (*e > next) break;
        net_.world.step();
        note_failures();
      }
      net_.world.run_until(next);
    }
  }

  // When `node` first got write_failed or link_down about `peer`.
  std::uint64_t failed_at(NodeId node, NodeId peer) const {
    auto it = failed_at_.find({node, peer});
    return it == failed_at_.end() ? kNever : it->second;
  }

  std::uint32_t posted(NodeId from, NodeId to) { return next_[{from, to}]; }

 private:
  void note_failures() {
    Completion batch[64];
    for (NodeId n : nodes_) {
      SimEndpoint* ep = net_.world.endpoint(n);
      if (ep == nullptr) continue;
      std::size_t got;
      while ((got = ep->poll(batch)) > 0) {
        for (std::size_t i = 0; i < got; ++i) {
          const Completion& c = batch[i];
          net_.host(n).completions.push_back(c);
          if (c.type == CompletionType::write_failed || c.type == CompletionType::link_down) {
            failed_at_.try_emplace({n, c.peer}, net_.world.now_ns());
          }
        }
      }
    }
  }

  SimNet& net_;
  std::vector<NodeId> nodes_;
  std::map<std::pair<NodeId, NodeId>, std::uint32_t> next_;
  std::map<std::pair<NodeId, NodeId>, std::uint64_t> failed_at_;
};

// Immediates a member received from `peer`, in order.
std::vector<std::uint32_t> imms_from(SimNet& net, NodeId node, NodeId peer) {
  std::vector<std::uint32_t> out;
  for (const Completion& c : net.host(node).completions) {
    if (c.type == CompletionType::received_imm && c.peer == peer) out.push_back(c.imm);
  }
  return out;
}

Completion last_about(SimNet& net, NodeId node, NodeId peer) {
  Completion last;
  for (const Completion& c : net.host(node).completions) {
    if (c.peer == peer) last = c;
  }
  return last;
}

bool is_prefix(const std::vector<std::uint32_t>& imms) {
  for (std::size_t i = 0; i < imms.size(); ++i) {
    if (imms[i] != i) return false;
  }
  return true;
}

// A crashed member's peers see its links fail link_timeout_ns after the
// crash, never earlier; its writes on the wire land as a prefix (sometimes
// none, sometimes all, sometimes part: checked over 500 seeds).
TEST(SimFaults, CrashFailsPeersAfterTheTimeoutAndLandsAPrefix) {
  SimConfig config;
  config.link_timeout_ns = 200'000;
  config.jitter_ns = 5'000;
  int some_cut_short = 0;
  int some_complete = 0;
  for (std::uint64_t seed = 1; seed <= 500; ++seed) {
    SimNet net(seed, config, 3, 64 << 10, 64 << 10);
    Stream stream(net, {1, 2, 3});
    const std::uint64_t crash_ns = net.world.rng().between(10'000, 50'000);
    stream.run_until(crash_ns, 300);
    net.world.crash(3);
    // Its memory goes with it: the writes on the wire were read before.
    net.host(3).send.reset();
    net.host(3).recv.reset();
    stream.run_until(crash_ns + 2 * config.link_timeout_ns);
    for (NodeId peer : {1u, 2u}) {
      EXPECT_EQ(stream.failed_at(peer, 3), crash_ns + config.link_timeout_ns) << "seed " << seed;
      EXPECT_EQ(stream.failed_at(peer, 1 + (peer % 2)), kNever) << "seed " << seed;
      const auto imms = imms_from(net, peer, 3);
      ASSERT_TRUE(is_prefix(imms)) << "seed " << seed;
      const std::uint32_t sent = stream.posted(3, peer);
      ASSERT_LE(imms.size(), sent);
      (imms.size() < sent ? some_cut_short : some_complete)++;
      EXPECT_TRUE(net.link(peer, 3).failed());
      // The first queued write failed with the retry error, then link_down.
      const auto failed = net.of_type(peer, CompletionType::write_failed);
      if (!failed.empty()) {
        EXPECT_STREQ(failed[0].status_text, "transport retry counter exceeded");
      }
      EXPECT_EQ(last_about(net, peer, 3).type, CompletionType::link_down);
    }
    EXPECT_FALSE(net.link(1, 2).failed());
    EXPECT_EQ(net.world.endpoint(3), nullptr);
    if (testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(some_cut_short, 100);
  EXPECT_GT(some_complete, 10);
}

// Strict RC (no idle detection): a peer that never writes to the crashed
// member never notices; one that writes fails timeout after its first write.
TEST(SimFaults, StrictRcNoticesOnlyWhenWriting) {
  SimConfig config;
  config.idle_link_detection = false;
  config.link_timeout_ns = 100'000;
  SimNet net(11, config, 3);
  net.run_until(5'000);
  net.world.crash(3);
  net.run_until(50'000);
  WriteOp op = signaled(write_op(*net.host(1).send, 0, 8, 0, 5));
  ASSERT_TRUE(net.link(1, 3).post({&op, 1}).ok());
  net.run_until(149'999);
  EXPECT_TRUE(net.host(1).completions.empty());
  net.run_until(150'000);
  const auto& c1 = net.host(1).completions;
  ASSERT_EQ(c1.size(), 2u);
  EXPECT_EQ(c1[0].type, CompletionType::write_failed);
  EXPECT_EQ(c1[0].wr_id, 5u);
  EXPECT_EQ(c1[1].type, CompletionType::link_down);
  net.run_until(10'000'000);
  EXPECT_TRUE(net.host(2).completions.empty());
  EXPECT_FALSE(net.link(2, 3).failed());
}

TEST(SimFaults, RestartGivesAFreshEndpointThatConnectsAnew) {
  SimConfig config;
  config.link_timeout_ns = 100'000;
  SimNet net(12, config, 3);
  Stream stream(net, {1, 2, 3});
  stream.run_until(20'000);
  SimEndpoint* old = net.host(3).ep;
  net.world.crash(3);
  EXPECT_FALSE(old->alive());
  WriteOp op = write_op(*net.host(3).send, 0, 8, 0);
  EXPECT_EQ(net.link(3, 1).post({&op, 1}).error().code, Errc::closed);
  EXPECT_EQ(old->allocate(64, Access::local_only).error().code, Errc::closed);
  stream.run_until(50'000);
  net.start(3);  // restart: same node, next incarnation, before peers noticed
  SimEndpoint* fresh = net.host(3).ep;
  EXPECT_NE(fresh, old);
  EXPECT_EQ(fresh->node(), 3u);
  EXPECT_EQ(fresh->incarnation(), 1u);
  EXPECT_EQ(net.world.endpoint(3), fresh);
  // The old links still fail at the timeout: RC links do not come back.
  stream.run_until(130'000);
  EXPECT_EQ(stream.failed_at(1, 3), 120'000u);
  net.connect(1, 3);
  net.connect(2, 3);
  const std::size_t before = imms_from(net, 3, 1).size();
  EXPECT_EQ(before, 0u);  // only the new links reach the new incarnation
  WriteOp hello = with_imm(write_op(*net.host(1).send, 0, 8, 0), 77);
  ASSERT_TRUE(net.link(1, 3).post({&hello, 1}).ok());
  net.run_all();
  const auto imms = imms_from(net, 3, 1);
  ASSERT_EQ(imms.size(), 1u);
  EXPECT_EQ(imms[0], 77u);
}

TEST(SimFaults, PartitionFailsLinksAcrossAndHealAllowsNewOnes) {
  SimConfig config;
  config.link_timeout_ns = 100'000;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    SimNet net(seed, config, 4);
    Stream stream(net, {1, 2, 3, 4});
    stream.run_until(10'000);
    const NodeId a[] = {1, 2};
    const NodeId b[] = {3, 4};
    net.world.partition(a, b);
    EXPECT_EQ(net.try_connect(1, 3).error().code, Errc::unreachable);
    stream.run_until(300'000);
    for (NodeId x : {1u, 2u}) {
      for (NodeId y : {3u, 4u}) {
        EXPECT_EQ(stream.failed_at(x, y), 110'000u) << "seed " << seed;
        EXPECT_EQ(stream.failed_at(y, x), 110'000u) << "seed " << seed;
      }
    }
    EXPECT_EQ(stream.failed_at(1, 2), kNever);
    EXPECT_EQ(stream.failed_at(3, 4), kNever);
    // Writes across stopped at the cut: what landed is a prefix.
    EXPECT_TRUE(is_prefix(imms_from(net, 3, 1)));
    net.world.heal();
    net.connect(1, 3);
    WriteOp op = with_imm(write_op(*net.host(1).send, 0, 8, 0), 4242);
    ASSERT_TRUE(net.link(1, 3).post({&op, 1}).ok());
    net.run_all();
    EXPECT_EQ(imms_from(net, 3, 1).back(), 4242u);
  }
}

// A heal before the timeout does not save a cut link: it still fails.
TEST(SimFaults, CutLinksStayDoomedAfterAnEarlyHeal) {
  SimConfig config;
  config.link_timeout_ns = 100'000;
  SimNet net(3, config, 2);
  const NodeId a[] = {1};
  const NodeId b[] = {2};
  net.world.partition(a, b);
  EXPECT_TRUE(net.link(1, 2).doomed());
  net.run_until(1'000);
  net.world.heal();
  net.run_until(100'000);
  EXPECT_TRUE(net.link(1, 2).failed());
  EXPECT_TRUE(net.link(2, 1).failed());
}

// from -> to broken: from's writes stop landing; to's still land but their
// ACKs are lost, so to gets no write_done; both ends fail at the timeout.
TEST(SimFaults, OneWayBreak) {
  SimConfig config;
  config.link_timeout_ns = 100'000;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    SimNet net(seed, config, 3);
    Stream stream(net, {1, 2, 3});
    stream.run_until(10'000);
    net.world.break_link_one_way(1, 2);
    const std::size_t from1_before = imms_from(net, 2, 1).size();
    const std::size_t done_at_2 = net.of_type(2, CompletionType::write_done).size();
    stream.run_until(99'999 + 10'000);
    // 2's writes keep landing at 1 during the cut ...
    EXPECT_GT(imms_from(net, 1, 2).size(), 50u) << "seed " << seed;
    EXPECT_TRUE(is_prefix(imms_from(net, 1, 2)));
    // ... 1's stopped (a prefix of what was on the wire landed) ...
    EXPECT_LE(imms_from(net, 2, 1).size(), from1_before + 8) << "seed " << seed;
    // ... and 2 hears no ACK from 1 any more (only those already in flight).
    std::size_t done_from_1 = 0;
    for (const Completion& c : net.of_type(2, CompletionType::write_done))
      done_from_1 += c.peer == 1;
    EXPECT_LE(done_from_1, done_at_2 + 8);
    EXPECT_EQ(stream.failed_at(1, 2), kNever);
    stream.run_until(200'000);
    EXPECT_EQ(stream.failed_at(1, 2), 110'000u);
    EXPECT_EQ(stream.failed_at(2, 1), 110'000u);
    EXPECT_EQ(stream.failed_at(1, 3), kNever);
    EXPECT_EQ(stream.failed_at(2, 3), kNever);
    EXPECT_EQ(net.try_connect(2, 1).error().code, Errc::unreachable);
  }
}

TEST(SimFaults, SlowLinkDelaysOnlyItsDirection) {
  SimConfig config;
  config.jitter_ns = 0;
  config.base_latency_ns = 1'000;
  config.bandwidth_bytes_per_us = 0;
  SimNet net(1, config, 3);
  net.world.set_link_delay(1, 2, 50'000);
  auto arrival = [&](NodeId from, NodeId to) {
    const std::uint64_t start = net.world.now_ns();
    WriteOp op = with_imm(write_op(*net.host(from).send, 0, 8, 0), 1);
    EXPECT_TRUE(net.link(from, to).post({&op, 1}).ok());
    net.run_all();
    return net.world.now_ns() - start;  // the last event: the ACK
  };
  EXPECT_EQ(arrival(1, 3), 1'000u + config.ack_delay_ns);
  EXPECT_EQ(arrival(1, 2), 51'000u + config.ack_delay_ns);
  EXPECT_EQ(arrival(2, 1), 1'000u + config.ack_delay_ns + 50'000u);  // its ACK comes back slowly
  net.world.set_link_delay(1, 2, 0);
  EXPECT_EQ(arrival(1, 2), 1'000u + config.ack_delay_ns);
}

TEST(SimFaults, SlowNicLimitsOnlyItsNode) {
  SimConfig config;
  config.jitter_ns = 0;
  config.base_latency_ns = 1'000;
  config.bandwidth_bytes_per_us = 0;  // unlimited, except for node 2
  SimNet net(1, config, 3, 1 << 20, 1 << 20);
  net.world.set_node_bandwidth(2, 100);  // 0.1 byte per ns
  auto land_ns = [&](NodeId from, NodeId to) {
    const std::uint64_t start = net.world.now_ns();
    WriteOp op = with_imm(write_op(*net.host(from).send, 0, 10'000, 0), 1);
    EXPECT_TRUE(net.link(from, to).post({&op, 1}).ok());
    const std::uint64_t landed = *net.world.next_event_ns() - start;
    net.run_all();
    return landed;
  };
  EXPECT_EQ(land_ns(1, 3), 1'000u);
  EXPECT_EQ(land_ns(2, 3), 101'000u);
  EXPECT_EQ(land_ns(3, 2), 1'000u);
  // A restarted node keeps its slow NIC.
  net.world.crash(2);
  net.start(2);
  net.connect(2, 3);
  EXPECT_EQ(land_ns(2, 3), 101'000u);
}

TEST(SimFaults, ScheduledActionsRunAtTheirTime) {
  SimNet net(1, {}, 3);
  std::vector<std::uint64_t> ran;
  net.world.schedule(5'000, [&](SimWorld& w) {
    ran.push_back(w.now_ns());
    w.crash(2);
    w.schedule(w.now_ns() + 1'000, [&](SimWorld& w2) { ran.push_back(w2.now_ns()); });
  });
  net.run_until(4'999);
  EXPECT_TRUE(ran.empty());
  net.run_until(10'000);
  EXPECT_EQ(ran, (std::vector<std::uint64_t>{5'000, 6'000}));
  EXPECT_EQ(net.world.endpoint(2), nullptr);
}

}  // namespace
}  // namespace ringcast::fabric::sim::test
