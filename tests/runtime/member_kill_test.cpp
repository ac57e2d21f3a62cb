// Membership over verbs: 5 member processes (support/stream_member.*, a
// runtime::MembershipNode each, one address of the RDMA device each) stream
// messages; one is killed with SIGKILL mid-stream. The 4 survivors must
// report the configuration change (the dead node left) and go on delivering
// identical sequences; the time from the kill to each
// survivor's transitional and regular configuration is printed. The killed
// node then restarts (a new process, a new incarnation) and must be merged
// back: every member ends in one regular configuration of all 5, and the
// messages after it (up to every member's end marker) are identical. Twice:
// an ordinary member (node 3), then the representative (node 1, which made
// the ring's first token and represents it in membership).
//
// Identical sequences: at every configuration change each member reports
// the count and running hash of what it delivered since the change before;
// members that report the same pair (previous, this) of configurations must
// report the same count and hash (extended virtual synchrony).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/rdma_harness.hpp"
#include "support/stream_member.hpp"

namespace ringcast::test {
namespace {

constexpr std::size_t kMembers = 5;
constexpr std::uint16_t kBasePort = 17520;
constexpr int kStepTimeoutS = 120;  // the emulated VM is slow

using Clock = std::chrono::steady_clock;

std::uint64_t steady_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

// A parsed "conf" report.
struct Conf {
  std::uint64_t t_ns = 0;
  bool transitional = false;
  std::string ring, members, left, joined, seg;
};

std::optional<Conf> parse_conf(const std::string& line) {
  std::istringstream in(line);
  std::string word, kind;
  Conf c;
  in >> word >> c.t_ns >> kind >> c.ring;
  if (word != "conf" || !in) return std::nullopt;
  c.transitional = kind == "T";
  while (in >> word) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "m") c.members = value;
    if (key == "l") c.left = value;
    if (key == "j") c.joined = value;
    if (key == "seg") c.seg = value;
  }
  return c;
}

class Cluster {
 public:
  explicit Cluster(const RdmaEnv& env) {
    for (std::size_t i = 0; i < kMembers; ++i)
      members_.push_back({static_cast<fabric::NodeId>(i + 1), env.addrs[i],
                          static_cast<std::uint16_t>(kBasePort + i)});
    env_ = env;
    children_.resize(kMembers);
  }
  void spawn(std::size_t i) {
    const StreamMemberPlan plan = plan_for(members_, i, env_.device, env_.gid_index);
    children_[i] = std::make_unique<ChildProcess>(
        [&plan](int commands, int reports) { return stream_member_main(plan, commands, reports); });
  }
  ChildProcess& at(std::size_t i) { return *children_[i]; }
  // Reads reports until pred() holds or the timeout; false on timeout.
  template <class Pred>
  bool pump_until(Pred pred, int timeout_s) {
    return test::pump_until(children_, pred, timeout_s);
  }
  // The index of the first line of child i at or after `from` that starts
  // with `prefix` and satisfies ok(), else -1.
  template <class Ok>
  long find(std::size_t i, std::size_t from, const std::string& prefix, Ok ok) {
    const auto& lines = children_[i]->lines;
    for (std::size_t k = from; k < lines.size(); ++k)
      if (lines[k].rfind(prefix, 0) == 0 && ok(lines[k])) return static_cast<long>(k);
    return -1;
  }
  std::string transcript(std::size_t i) const {
    std::string s;
    for (const auto& l : children_[i]->lines)
      s += "  node " + std::to_string(i + 1) + ": " + l + "\n";
    return s;
  }
  std::string transcripts() const {
    std::string s;
    for (std::size_t i = 0; i < kMembers; ++i)
      if (children_[i]) s += transcript(i);
    return s;
  }
  // (previous ring, this ring) -> seg, per member; disagreements described.
  std::string evs_disagreements() const;

 private:
  RdmaEnv env_;
  std::vector<runtime::MemberAddress> members_;
  std::vector<std::unique_ptr<ChildProcess>> children_;
};

std::string Cluster::evs_disagreements() const {
  std::map<std::string, std::pair<std::string, std::size_t>> seen;  // pair -> (seg, who)
  std::string out;
  for (std::size_t i = 0; i < kMembers; ++i) {
    if (!children_[i]) continue;
    std::string previous;
    for (const auto& line : children_[i]->lines) {
      auto c = parse_conf(line);
      if (!c) continue;
      const std::string here = (c->transitional ? "T" : "R") + c->ring;
      if (!previous.empty()) {
        const std::string key = previous + "->" + here;
        auto [it, fresh] = seen.emplace(key, std::make_pair(c->seg, i));
        if (!fresh && it->second.first != c->seg) {
          out += key + ": node " + std::to_string(it->second.second + 1) + " delivered " +
                 it->second.first + ", node " + std::to_string(i + 1) + " " + c->seg + "\n";
        }
      }
      previous = here;
    }
  }
  return out;
}

// The regular configuration of all kMembers, reported by child i at or
// after line `from`.
long full_regular(Cluster& cl, std::size_t i, std::size_t from) {
  return cl.find(i, from, "conf", [](const std::string& l) {
    auto c = parse_conf(l);
    return c && !c->transitional && c->members == "1,2,3,4,5";
  });
}

// The ring id when every member's latest configuration is the same regular
// one of all kMembers, else "".
std::string last_full_ring(Cluster& cl) {
  std::string ring;
  for (std::size_t i = 0; i < kMembers; ++i) {
    std::optional<Conf> last;
    for (const auto& l : cl.at(i).lines)
      if (auto c = parse_conf(l)) last = c;
    if (!last || last->transitional || last->members != "1,2,3,4,5") return "";
    if (!ring.empty() && last->ring != ring) return "";
    ring = last->ring;
  }
  return ring;
}

// "1,2,4,5" for all but member index `victim`.
std::string all_but(std::size_t victim) {
  std::string s;
  for (std::size_t i = 0; i < kMembers; ++i)
    if (i != victim) s += (s.empty() ? "" : ",") + std::to_string(i + 1);
  return s;
}

void kill_and_restart(const RdmaEnv& env, std::size_t victim) {
  const std::string survivors_text = all_but(victim);
  const std::string victim_text = std::to_string(victim + 1);
  Cluster cl(env);
  for (std::size_t i = 0; i < kMembers; ++i)
    cl.spawn(i);
  ASSERT_TRUE(cl.pump_until([&] { return !last_full_ring(cl).empty(); }, kStepTimeoutS))
      << "no regular configuration of all 5 at every member\n"
      << cl.transcripts();
  const std::string first_ring = last_full_ring(cl);
  // Stream for a while (and past the start-up window: the restarted process
  // must see the others as running). The ring must hold meanwhile.
  cl.pump_until([] { return false; }, 4);
  ASSERT_EQ(last_full_ring(cl), first_ring) << "the ring of all 5 did not hold while streaming\n"
                                            << cl.transcripts();
  std::vector<std::size_t> mark(kMembers);
  for (std::size_t i = 0; i < kMembers; ++i)
    mark[i] = cl.at(i).lines.size();

  const std::uint64_t kill_ns = steady_ns();
  cl.at(victim).kill9();
  // Each survivor: a transitional configuration without the victim, then a
  // regular one of the 4 survivors with the victim in `left`.
  std::vector<std::size_t> survivors;
  for (std::size_t i = 0; i < kMembers; ++i)
    if (i != victim) survivors.push_back(i);
  const auto regular_of_four = [&](std::size_t i) {
    return cl.find(i, mark[i], "conf", [&](const std::string& l) {
      auto c = parse_conf(l);
      return c && !c->transitional && c->members == survivors_text && c->left == victim_text;
    });
  };
  const bool reformed = cl.pump_until(
      [&] {
        for (auto i : survivors)
          if (regular_of_four(i) < 0) return false;
        return true;
      },
      kStepTimeoutS);
  ASSERT_TRUE(reformed) << "the survivors did not all install a ring of " << survivors_text
                        << " with " << victim_text << " left\n"
                        << cl.transcripts();
  for (auto i : survivors) {
    const long t = cl.find(i, mark[i], "conf", [](const std::string& l) {
      auto c = parse_conf(l);
      return c && c->transitional;
    });
    ASSERT_GE(t, 0) << cl.transcript(i);
    const auto trans = parse_conf(cl.at(i).lines[t]);
    const auto reg = parse_conf(cl.at(i).lines[regular_of_four(i)]);
    EXPECT_EQ(trans->members, survivors_text) << cl.transcript(i);
    std::printf(
        "kill -9 node %zu -> node %zu: transitional configuration after %.1f ms, "
        "regular (%zu left) after %.1f ms\n",
        victim + 1, i + 1, (trans->t_ns - kill_ns) / 1e6, victim + 1, (reg->t_ns - kill_ns) / 1e6);
    // Why: a link failure seen (fast) or the token timeout (slow).
    const long counters =
        cl.find(i, static_cast<std::size_t>(t), "counters", [](auto&) { return true; });
    if (counters >= 0) std::printf("  node %zu %s\n", i + 1, cl.at(i).lines[counters].c_str());
  }
  std::fflush(stdout);

  // The survivors keep streaming; then the victim comes back as a new process.
  cl.pump_until([] { return false; }, 2);
  for (auto i : survivors)
    mark[i] = cl.at(i).lines.size();
  const std::uint64_t restart_ns = steady_ns();
  cl.spawn(victim);
  mark[victim] = 0;
  const bool merged = cl.pump_until(
      [&] {
        for (std::size_t i = 0; i < kMembers; ++i)
          if (full_regular(cl, i, mark[i]) < 0) return false;
        return true;
      },
      kStepTimeoutS);
  ASSERT_TRUE(merged) << "node " << victim_text
                      << " restarted but not every member reached a ring of all 5\n"
                      << cl.transcripts();
  for (std::size_t i = 0; i < kMembers; ++i) {
    const auto c = parse_conf(cl.at(i).lines[full_regular(cl, i, mark[i])]);
    if (i != victim) {
      EXPECT_EQ(c->joined, victim_text) << cl.transcript(i);
    }
    std::printf("node %zu restarted -> node %zu in a ring of all 5 after %.1f ms\n", victim + 1,
                i + 1, (c->t_ns - restart_ns) / 1e6);
  }
  std::fflush(stdout);

  // A little more streaming, then every member's end marker: the messages of
  // the last configuration must be the same everywhere.
  cl.pump_until([] { return false; }, 2);
  for (std::size_t i = 0; i < kMembers; ++i)
    cl.at(i).command("stop");
  const auto final_of = [&](std::size_t i) {
    return cl.find(i, 0, "final", [](auto&) { return true; });
  };
  ASSERT_TRUE(cl.pump_until(
      [&] {
        for (std::size_t i = 0; i < kMembers; ++i)
          if (final_of(i) < 0) return false;
        return true;
      },
      kStepTimeoutS))
      << "not every member saw every end marker\n"
      << cl.transcripts();
  const std::string first = cl.at(0).lines[final_of(0)];
  for (std::size_t i = 1; i < kMembers; ++i)
    EXPECT_EQ(cl.at(i).lines[final_of(i)], first) << cl.transcripts();
  EXPECT_NE(first.substr(0, 8), "final 0:") << "nothing was delivered in the last ring";
  const std::string disagreements = cl.evs_disagreements();
  EXPECT_TRUE(disagreements.empty()) << disagreements << cl.transcripts();
  for (std::size_t i = 0; i < kMembers; ++i)
    EXPECT_LT(cl.find(i, 0, "error", [](auto&) { return true; }), 0) << cl.transcript(i);

  for (std::size_t i = 0; i < kMembers; ++i)
    cl.at(i).command("exit");
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  for (std::size_t i = 0; i < kMembers; ++i)
    EXPECT_EQ(cl.at(i).reap(deadline), 0) << "node " << i + 1 << " did not exit cleanly";
  cl.pump_until([] { return false; }, 1);  // the status lines sent before exiting
  for (std::size_t i = 0; i < kMembers; ++i) {
    const long s = cl.find(i, 0, "status", [](auto&) { return true; });
    EXPECT_GE(s, 0) << cl.transcript(i);
    if (s >= 0) std::printf("node %zu %s\n", i + 1, cl.at(i).lines[s].c_str());
  }
}

#define REQUIRE_FIVE_ADDRESSES(env)                                                          \
  RINGCAST_REQUIRE_RDMA(env);                                                                \
  if (env.addrs.size() < kMembers) {                                                         \
    GTEST_SKIP() << "skipped: needs " << kMembers << " addresses on the RDMA device, found " \
                 << env.addrs.size() << " (RINGCAST_RDMA_ADDRS)";                            \
  }

// Node 3: neither the representative nor the last of the ring.
TEST(MemberKill, AMemberIsKilledTheOthersReformAndItRejoins) {
  REQUIRE_FIVE_ADDRESSES(env);
  kill_and_restart(env, 2);
}

// Node 1: the representative (it made the ring's first token).
TEST(MemberKill, TheRepresentativeIsKilledTheOthersReformAndItRejoins) {
  REQUIRE_FIVE_ADDRESSES(env);
  kill_and_restart(env, 0);
}

}  // namespace
}  // namespace ringcast::test
