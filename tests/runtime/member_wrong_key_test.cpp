// Authentication against a running membership ring over verbs: two
// keyed MembershipNode processes (support/stream_member.*) form a ring and stream; then
// the cluster's third node starts with a different cluster key. Every link
// it tries is refused by the handshake (never by a crash), each refusal is in
// the keyed members' log, the ring stays as it was (no configuration change,
// nothing from node 3), and it goes on delivering: both members deliver the
// same messages, up to each one's end marker sent after the refusals. Node 3
// never runs a ring: no member accepted its key, so it stops at the end of
// its start-up window with the reason.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/log.hpp"
#include "fabric/auth/handshake.hpp"
#include "runtime/membership_node.hpp"
#include "support/child_process.hpp"
#include "support/line_pipe.hpp"
#include "support/rdma_harness.hpp"
#include "support/stream_member.hpp"

namespace ringcast::test {
namespace {

constexpr std::size_t kNodes = 3;
constexpr std::size_t kIntruder = 2;  // index of node 3, the one with the wrong key
constexpr std::uint16_t kBasePort = 17560;
constexpr int kStepTimeoutS = 120;  // the emulated VM is slow

using Clock = std::chrono::steady_clock;

// In a child: the verbs layer's log lines go to the parent as "log <line>".
int g_report_fd = -1;
void log_to_report(std::string_view line) {
  const std::string l = "log " + std::string(line) + "\n";
  [[maybe_unused]] ssize_t n = ::write(g_report_fd, l.data(), l.size());
}

// Node 3's process: a MembershipNode like the others' but with another key. It
// reports each configuration change ("conf m=<ids>") and, at "exit", its
// status; it submits nothing.
int intruder_main(const std::vector<runtime::MemberAddress>& members, const RdmaEnv& env,
                  int commands, int reports) {
  g_report_fd = reports;
  set_log_sink(&log_to_report);
  StreamMemberPlan plan = plan_for(members, kIntruder, env.device, env.gid_index);
  plan.key_seed = 0x5A;  // the others' is 0xA5
  runtime::MemberNodeOptions o = member_node_options(plan);
  o.on_events = [reports](runtime::EventSource& events) {
    while (auto e = events.next_event()) {
      if (e->change != nullptr) write_line(reports, "conf m=" + node_list(e->change->members));
      (void)events.release_through(e->index);
    }
  };
  auto node = runtime::MembershipNode::start(o);
  if (!node.ok()) {
    write_line(reports, "error start: " + node.error().message());
    return 1;
  }
  for (char c = 0; ::read(commands, &c, 1) == 1 && c != 'x';) {
  }
  const auto s = (*node)->status();
  write_line(reports, "status members=" + node_list(s.members) +
                          " control_dropped=" + std::to_string(s.control_dropped));
  (*node)->stop();
  return 0;
}

class Nodes {
 public:
  explicit Nodes(const RdmaEnv& env) : env_(env), children_(kNodes) {
    for (std::size_t i = 0; i < kNodes; ++i)
      members_.push_back({static_cast<fabric::NodeId>(i + 1), env.addrs[i],
                          static_cast<std::uint16_t>(kBasePort + i)});
  }
  void spawn_keyed(std::size_t i) {
    const StreamMemberPlan plan = plan_for(members_, i, env_.device, env_.gid_index);
    children_[i] = std::make_unique<ChildProcess>([&plan](int commands, int reports) {
      g_report_fd = reports;
      set_log_sink(&log_to_report);
      return stream_member_main(plan, commands, reports);
    });
  }
  void spawn_intruder() {
    children_[kIntruder] = std::make_unique<ChildProcess>([this](int commands, int reports) {
      return intruder_main(members_, env_, commands, reports);
    });
  }
  ChildProcess& at(std::size_t i) { return *children_[i]; }
  template <class Pred>
  bool pump_until(Pred pred, int timeout_s) {
    return test::pump_until(children_, pred, timeout_s);
  }
  // Lines of child i from line `from` on that contain every one of `parts`.
  std::vector<std::string> lines_with(std::size_t i, std::size_t from,
                                      std::initializer_list<std::string_view> parts) const {
    std::vector<std::string> out;
    const auto& lines = children_[i]->lines;
    for (std::size_t k = from; k < lines.size(); ++k) {
      bool all = true;
      for (std::string_view p : parts)
        all = all && lines[k].find(p) != std::string::npos;
      if (all) out.push_back(lines[k]);
    }
    return out;
  }
  std::string transcripts() const {
    std::string s;
    for (std::size_t i = 0; i < kNodes; ++i) {
      if (!children_[i]) continue;
      for (const auto& l : children_[i]->lines)
        s += "  node " + std::to_string(i + 1) + ": " + l + "\n";
    }
    return s;
  }

 private:
  RdmaEnv env_;
  std::vector<runtime::MemberAddress> members_;
  std::vector<std::unique_ptr<ChildProcess>> children_;
};

// The last "conf" line of child i is a regular configuration of nodes 1 and 2.
bool in_ring_of_two(Nodes& n, std::size_t i) {
  const auto confs = n.lines_with(i, 0, {"conf "});
  return !confs.empty() && confs.back().find(" R ") != std::string::npos &&
         confs.back().find(" m=1,2 ") != std::string::npos;
}

TEST(MemberWrongKey, ANodeWithAnotherKeyStopsAndTheRingGoesOn) {
  RINGCAST_REQUIRE_RDMA(env);
  if (env.addrs.size() < kNodes) {
    GTEST_SKIP() << "skipped: needs " << kNodes << " addresses on the RDMA device, found "
                 << env.addrs.size() << " (RINGCAST_RDMA_ADDRS)";
  }
  Nodes n(env);
  n.spawn_keyed(0);
  n.spawn_keyed(1);
  // Node 3 is not there: each starts alone after its start-up window, and
  // membership merges the two.
  ASSERT_TRUE(
      n.pump_until([&] { return in_ring_of_two(n, 0) && in_ring_of_two(n, 1); }, kStepTimeoutS))
      << "nodes 1 and 2 did not form a ring\n"
      << n.transcripts();
  const std::size_t mark[2] = {n.at(0).lines.size(), n.at(1).lines.size()};

  n.spawn_intruder();
  // Its start-up window (3 s) and a few re-dials (every 200 ms) after it.
  const auto refused_at_both = [&] {
    for (std::size_t i : {0u, 1u}) {
      if (n.lines_with(i, mark[i], {"log ", "refused node 3", fabric::auth::kKeysDiffer}).size() <
          2) {
        return false;
      }
    }
    return !n.lines_with(kIntruder, 0, {"error start:"}).empty();
  };
  ASSERT_TRUE(n.pump_until(refused_at_both, kStepTimeoutS))
      << "node 3's links were not refused (twice, logged) at nodes 1 and 2\n"
      << n.transcripts();
  n.pump_until([] { return false; }, 2);  // more re-dials; the stream goes on

  for (std::size_t i : {0u, 1u}) {
    EXPECT_TRUE(n.lines_with(i, mark[i], {"conf "}).empty())
        << "node " << i + 1 << " saw a configuration change\n"
        << n.transcripts();
    EXPECT_TRUE(n.lines_with(i, 0, {"error"}).empty()) << n.transcripts();
    std::printf("node %zu refused node 3 %zu times, e.g. %s\n", i + 1,
                n.lines_with(i, mark[i], {"log ", "refused node 3"}).size(),
                n.lines_with(i, mark[i], {"log ", "refused node 3"}).front().c_str());
  }
  // Node 3 never had an authenticated peer and every member refused its key:
  // it stops at the end of its start-up window and says why, without ever
  // running a ring of its own.
  EXPECT_TRUE(n.lines_with(kIntruder, 0, {"conf "}).empty()) << n.transcripts();
  const auto stopped = n.lines_with(kIntruder, 0, {"error start:"});
  ASSERT_FALSE(stopped.empty()) << n.transcripts();
  EXPECT_NE(stopped.front().find("no member accepted this node's cluster key"), std::string::npos)
      << stopped.front();
  std::printf("node 3 stopped: %s\n", stopped.front().c_str());
  EXPECT_FALSE(n.lines_with(kIntruder, 0, {"log ", "refused", "different cluster keys"}).empty())
      << "node 3 logged no refusal\n"
      << n.transcripts();

  // The ring goes on: both members deliver the same, up to both end markers.
  n.at(0).command("stop");
  n.at(1).command("stop");
  const auto final_of = [&](std::size_t i) { return n.lines_with(i, 0, {"final "}); };
  ASSERT_TRUE(
      n.pump_until([&] { return !final_of(0).empty() && !final_of(1).empty(); }, kStepTimeoutS))
      << "not both end markers delivered\n"
      << n.transcripts();
  EXPECT_EQ(final_of(0).front(), final_of(1).front());
  EXPECT_NE(final_of(0).front().rfind("final 0:", 0), 0u) << "nothing delivered";
  std::printf("nodes 1 and 2 delivered the same since their ring formed: %s\n",
              final_of(0).front().c_str());

  n.at(0).command("exit");
  n.at(1).command("exit");
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  for (std::size_t i : {0u, 1u})
    EXPECT_EQ(n.at(i).reap(deadline), 0) << "node " << i + 1 << " did not exit cleanly";
  EXPECT_EQ(n.at(kIntruder).reap(deadline), 1) << "node 3 did not stop with an error";
}

}  // namespace
}  // namespace ringcast::test
