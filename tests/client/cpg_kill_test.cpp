// The CPG API over membership on verbs: 5 cpg_kill_member processes (C,
// <corosync/cpg.h>), one group, each multicasting; node 3 is killed with
// SIGKILL. Every survivor must get a confchg with node 3 in the left list as
// NODEDOWN, and survivors that saw the same two successive member lists must
// have delivered the same messages between them (count and running hash).
// Node 3 then restarts (a new process) and every member must see it come
// back (in the joined list, NODEUP or JOIN). The time from the kill to each
// survivor's NODEDOWN confchg is printed.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/rdma_harness.hpp"

namespace ringcast::test {
namespace {

constexpr int kMembers = 5;
constexpr int kVictim = 3;  // node id
constexpr std::uint16_t kBasePort = 17540;
constexpr int kStepTimeoutS = 120;

using Clock = std::chrono::steady_clock;

std::uint64_t steady_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

struct Confchg {
  std::uint64_t t_ns = 0;
  std::string members, left, joined, seg;
};

std::string sorted_ids(const std::string& list) {
  std::vector<int> ids;
  std::istringstream in(list);
  for (std::string id; std::getline(in, id, ',');)
    if (!id.empty() && id != "-") ids.push_back(std::stoi(id));
  std::sort(ids.begin(), ids.end());
  std::string out;
  for (int id : ids)
    out += (out.empty() ? "" : ",") + std::to_string(id);
  return out.empty() ? "-" : out;
}

std::optional<Confchg> parse(const std::string& line) {
  std::istringstream in(line);
  std::string word;
  Confchg c;
  in >> word >> c.t_ns;
  if (word != "confchg" || !in) return std::nullopt;
  while (in >> word) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "members") c.members = sorted_ids(value);  // CPG lists them in join order
    if (key == "left") c.left = value;
    if (key == "joined") c.joined = value;
    if (key == "seg") c.seg = value;
  }
  return c;
}

// One cpg_kill_member process: commands on its stdin, its stdout lines.
std::unique_ptr<ChildProcess> start_member(const std::string& config, int node) {
  return std::make_unique<ChildProcess>([&](int commands, int reports) {
    dup2(commands, STDIN_FILENO);
    dup2(reports, STDOUT_FILENO);
    close(commands);
    close(reports);
    setenv("RINGCAST_CONFIG", config.c_str(), 1);
    setenv("RINGCAST_NODE_ID", std::to_string(node).c_str(), 1);
    setenv("RINGCAST_MODE", "embedded", 1);  // each process is a node of its own
    execl(CPG_KILL_MEMBER_PATH, CPG_KILL_MEMBER_PATH, static_cast<char*>(nullptr));
    return 127;
  });
}

std::string cluster_file(const RdmaEnv& env, const std::filesystem::path& dir) {
  const auto path = dir / "cluster.conf";
  std::ofstream f(path);
  f << "totem {\n    log_size_bytes: 4M\n}\nrdma {\n";
  if (!env.device.empty()) f << "    device: " << env.device << "\n";
  if (env.gid_index >= 0) f << "    gid_index: " << env.gid_index << "\n";
  f << "}\nauth {\n    key: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n}\n";
  f << "nodelist {\n";
  for (int i = 0; i < kMembers; ++i) {
    f << "    node {\n        nodeid: " << i + 1 << "\n        address: " << env.addrs[i]
      << "\n        port: " << kBasePort + i << "\n    }\n";
  }
  f << "}\n";
  // It holds the key: only its owner may read it (config::load refuses it otherwise).
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path.string();
}

struct Group {
  std::vector<std::unique_ptr<ChildProcess>> p;

  template <class Pred>
  bool pump_until(Pred pred, int timeout_s) {
    return test::pump_until(p, pred, timeout_s);
  }
  // The first confchg of node index i at or after line `from` that ok() accepts.
  template <class Ok>
  std::optional<Confchg> first(std::size_t i, std::size_t from, Ok ok) const {
    for (std::size_t k = from; k < p[i]->lines.size(); ++k)
      if (auto c = parse(p[i]->lines[k]); c && ok(*c)) return c;
    return std::nullopt;
  }
  std::optional<Confchg> last(std::size_t i) const {
    std::optional<Confchg> out;
    for (const auto& l : p[i]->lines)
      if (auto c = parse(l)) out = c;
    return out;
  }
  std::string transcripts() const {
    std::string s;
    for (std::size_t i = 0; i < p.size(); ++i)
      for (const auto& l : p[i]->lines)
        s += "  node " + std::to_string(i + 1) + ": " + l + "\n";
    return s;
  }
  // Survivors that saw the same two successive member lists (the n-th time)
  // delivered the same messages in between.
  std::string disagreements() const {
    std::map<std::string, std::pair<std::string, std::size_t>> seen;
    std::string out;
    for (std::size_t i = 0; i < p.size(); ++i) {
      std::string previous;
      std::map<std::string, int> times;
      for (const auto& l : p[i]->lines) {
        auto c = parse(l);
        if (!c) continue;
        if (!previous.empty()) {
          std::string key = previous + "->" + c->members;
          key += "#" + std::to_string(times[key]++);
          auto [it, fresh] = seen.emplace(key, std::make_pair(c->seg, i));
          if (!fresh && it->second.first != c->seg)
            out += key + ": node " + std::to_string(it->second.second + 1) + " " +
                   it->second.first + ", node " + std::to_string(i + 1) + " " + c->seg + "\n";
        }
        previous = c->members;
      }
    }
    return out;
  }
};

bool has_entry(const std::string& list, const std::string& entry) {
  return ("," + list + ",").find("," + entry + ",") != std::string::npos;
}

TEST(CpgKill, SurvivorsGetNodedownAndTheRestartedNodeComesBack) {
  RINGCAST_REQUIRE_RDMA(env);
  if (env.addrs.size() < static_cast<std::size_t>(kMembers)) {
    GTEST_SKIP() << "skipped: needs " << kMembers << " addresses on the RDMA device";
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("cpg_kill_test." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string config = cluster_file(env, dir);
  Group r;
  for (int i = 0; i < kMembers; ++i)
    r.p.push_back(start_member(config, i + 1));
  const auto all_five = [&] {
    for (std::size_t i = 0; i < r.p.size(); ++i) {
      auto c = r.last(i);
      if (!c || c->members != "1,2,3,4,5") return false;
    }
    return true;
  };
  ASSERT_TRUE(r.pump_until(all_five, kStepTimeoutS)) << "no group of 5\n" << r.transcripts();
  r.pump_until([] { return false; }, 4);  // streaming, and past the start-up window
  ASSERT_TRUE(all_five()) << "the group of 5 did not hold\n" << r.transcripts();

  std::vector<std::size_t> mark(r.p.size());
  for (std::size_t i = 0; i < r.p.size(); ++i)
    mark[i] = r.p[i]->lines.size();
  const std::uint64_t kill_ns = steady_ns();
  r.p[kVictim - 1]->kill9();
  const auto nodedown = [&](std::size_t i) {
    return r.first(i, mark[i], [](const Confchg& c) { return has_entry(c.left, "3:3"); });
  };
  ASSERT_TRUE(r.pump_until(
      [&] {
        for (std::size_t i = 0; i < r.p.size(); ++i)
          if (i != kVictim - 1 && !nodedown(i)) return false;
        return true;
      },
      kStepTimeoutS))
      << "not every survivor got NODEDOWN for node 3\n"
      << r.transcripts();
  for (std::size_t i = 0; i < r.p.size(); ++i) {
    if (i == kVictim - 1) continue;
    const Confchg c = *nodedown(i);
    EXPECT_EQ(c.members, "1,2,4,5") << r.transcripts();
    std::printf("cpg: kill -9 node 3 -> node %zu confchg (NODEDOWN) after %.1f ms\n", i + 1,
                (c.t_ns - kill_ns) / 1e6);
  }
  std::fflush(stdout);

  r.pump_until([] { return false; }, 2);
  for (std::size_t i = 0; i < r.p.size(); ++i)
    mark[i] = r.p[i]->lines.size();
  const std::uint64_t restart_ns = steady_ns();
  r.p[kVictim - 1] = start_member(config, kVictim);
  mark[kVictim - 1] = 0;
  const auto back = [&](std::size_t i) {
    return r.first(i, mark[i], [i](const Confchg& c) {
      return c.members == "1,2,3,4,5" &&
             (i == kVictim - 1 || has_entry(c.joined, "3:4") || has_entry(c.joined, "3:1"));
    });
  };
  ASSERT_TRUE(r.pump_until(
      [&] {
        for (std::size_t i = 0; i < r.p.size(); ++i)
          if (!back(i)) return false;
        return true;
      },
      kStepTimeoutS))
      << "node 3 restarted but not every member saw it back\n"
      << r.transcripts();
  for (std::size_t i = 0; i < r.p.size(); ++i) {
    std::printf("cpg: node 3 restarted -> node %zu confchg with it (%s) after %.1f ms\n", i + 1,
                back(i)->joined.c_str(), (back(i)->t_ns - restart_ns) / 1e6);
  }
  r.pump_until([] { return false; }, 2);
  const std::string d = r.disagreements();
  EXPECT_TRUE(d.empty()) << d << r.transcripts();
  for (std::size_t i = 0; i < r.p.size(); ++i) {
    for (const auto& l : r.p[i]->lines)
      EXPECT_NE(l.rfind("error", 0), 0u) << "node " << i + 1 << ": " << l;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  for (auto& p : r.p)
    p->command("exit");
  for (std::size_t i = 0; i < r.p.size(); ++i)
    EXPECT_EQ(r.p[i]->reap(deadline), 0) << "node " << i + 1;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringcast::test
