// Messages above the atomic size over verbs: 3 cpg_large_member processes
// (C, <corosync/cpg.h>). Node 1 sends messages of 1 MiB to 64 MiB; every
// member delivers each whole, byte-exact and in one order. Then node 3 is
// killed with SIGKILL in the middle of a 64 MiB message: no survivor
// delivers any of it, both count it as abandoned, and the stream goes on.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/rdma_harness.hpp"

namespace ringcast::test {
namespace {

constexpr int kMembers = 3;
constexpr std::uint16_t kBasePort = 17570;
constexpr int kStepTimeoutS = 240;
constexpr std::uint64_t kMiB = 1 << 20;

std::unique_ptr<ChildProcess> start_member(const std::string& config, int node) {
  return std::make_unique<ChildProcess>([&](int commands, int reports) {
    dup2(commands, STDIN_FILENO);
    dup2(reports, STDOUT_FILENO);
    close(commands);
    close(reports);
    setenv("RINGCAST_CONFIG", config.c_str(), 1);
    setenv("RINGCAST_NODE_ID", std::to_string(node).c_str(), 1);
    setenv("RINGCAST_MODE", "embedded", 1);  // each process is a node of its own
    execl(CPG_LARGE_MEMBER_PATH, CPG_LARGE_MEMBER_PATH, static_cast<char*>(nullptr));
    return 127;
  });
}

std::string cluster_file(const RdmaEnv& env, const std::filesystem::path& dir) {
  const auto path = dir / "cluster.conf";
  std::ofstream f(path);
  f << "rdma {\n";
  if (!env.device.empty()) f << "    device: " << env.device << "\n";
  if (env.gid_index >= 0) f << "    gid_index: " << env.gid_index << "\n";
  f << "}\nauth {\n    key: 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n}\n";
  // A visit writes up to a log's worth of 1 MiB records (8 MiB) before the
  // token on each link; under emulation on a loaded host that is several
  // seconds at 2 to 4 MB/s, and a 1-s token timeout would form new rings in
  // the middle of a message (abandoning it), which this test does not test.
  f << "totem {\n    token_timeout_ms: 10000\n}\n";
  f << "nodelist {\n";
  for (int i = 0; i < kMembers; ++i) {
    f << "    node {\n        nodeid: " << i + 1 << "\n        address: " << env.addrs[i]
      << "\n        port: " << kBasePort + i << "\n    }\n";
  }
  f << "}\n";
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path.string();
}

struct Members {
  std::vector<std::unique_ptr<ChildProcess>> p;

  bool pump_until(const std::function<bool()>& pred, int timeout_s = kStepTimeoutS) {
    return test::pump_until(p, pred, timeout_s);
  }
  bool has(std::size_t i, const std::string& line) const {
    for (const auto& l : p[i]->lines)
      if (l == line) return true;
    return false;
  }
  std::vector<std::string> starting(std::size_t i, const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& l : p[i]->lines)
      if (l.rfind(prefix, 0) == 0) out.push_back(l);
    return out;
  }
  // The value of key=<n> in member i's last counters line.
  std::optional<std::uint64_t> counter(std::size_t i, const std::string& key) const {
    const auto lines = starting(i, "counters ");
    if (lines.empty()) return std::nullopt;
    const auto at = lines.back().find(" " + key + "=");
    if (at == std::string::npos) return std::nullopt;
    return std::stoull(lines.back().substr(at + key.size() + 2));
  }
  std::optional<std::uint64_t> fresh_counter(std::size_t i, const std::string& key) {
    const std::size_t before = starting(i, "counters ").size();
    p[i]->command("counters");
    if (!pump_until([&] { return starting(i, "counters ").size() > before; }, 30)) return {};
    return counter(i, key);
  }
  std::string transcripts() const {
    std::string s;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (!p[i]) continue;  // killed and reaped
      for (const auto& l : p[i]->lines)
        s += "  node " + std::to_string(i + 1) + ": " + l + "\n";
    }
    return s;
  }
};

TEST(CpgLargeRdma, MessagesUpTo64MiBArriveWholeAndADyingSenderIsDeliveredNowhere) {
  RINGCAST_REQUIRE_RDMA(env);
  if (env.addrs.size() < static_cast<std::size_t>(kMembers)) {
    GTEST_SKIP() << "skipped: needs " << kMembers << " addresses on the RDMA device";
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("cpg_large_rdma_test." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string config = cluster_file(env, dir);
  Members m;
  for (int i = 0; i < kMembers; ++i)
    m.p.push_back(start_member(config, i + 1));
  ASSERT_TRUE(m.pump_until([&] {
    for (std::size_t i = 0; i < m.p.size(); ++i)
      if (!m.has(i, "confchg members=1,2,3 left=")) return false;
    return true;
  })) << "no group of 3\n"
      << m.transcripts();

  const std::vector<std::uint64_t> sizes = {kMiB, kMiB + 1, 4 * kMiB + 3, 16 * kMiB, 64 * kMiB};
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    const auto started = std::chrono::steady_clock::now();
    m.p[0]->command("send " + std::to_string(sizes[k]));
    const std::string line = "deliver 1 " + std::to_string(k + 1) + " " + std::to_string(sizes[k]);
    ASSERT_TRUE(m.pump_until([&] {
      for (std::size_t i = 0; i < m.p.size(); ++i)
        if (m.starting(i, line).empty()) return false;
      return m.has(0, "sent " + std::to_string(sizes[k]) + " 1");
    })) << "message "
        << k + 1 << " of " << sizes[k] << " bytes\n"
        << m.transcripts();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("cpg large: %llu bytes to 3 members in %.2f s (%.1f MB/s)\n",
                static_cast<unsigned long long>(sizes[k]), s, sizes[k] / s / 1e6);
  }
  for (std::size_t i = 0; i < m.p.size(); ++i)
    for (const auto& l : m.starting(i, "deliver "))
      EXPECT_EQ(l.substr(l.size() - 3), " ok") << "node " << i + 1 << ": " << l;
  EXPECT_EQ(m.starting(1, "deliver "), m.starting(0, "deliver "));
  EXPECT_EQ(m.starting(2, "deliver "), m.starting(0, "deliver "));
  std::fflush(stdout);

  // Node 3 dies in the middle of 64 MiB: killed once node 1 has taken some
  // of its fragments (the record count moves) and before the message is whole.
  const auto before = m.fresh_counter(0, "records");
  ASSERT_TRUE(before.has_value()) << m.transcripts();
  m.p[2]->command("send " + std::to_string(64 * kMiB));
  ASSERT_TRUE(m.pump_until(
      [&] {
        const auto now = m.fresh_counter(0, "records");
        return now && *now >= *before + 8;
      },
      kStepTimeoutS))
      << m.transcripts();
  m.p[2]->kill9();
  m.p[2].reset();
  ASSERT_TRUE(m.pump_until([&] {
    return m.has(0, "confchg members=1,2 left=3:3") && m.has(1, "confchg members=1,2 left=3:3");
  })) << "no NODEDOWN for node 3\n"
      << m.transcripts();
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(m.starting(i, "deliver 3 ").empty()) << "node " << i + 1 << "\n" << m.transcripts();
    EXPECT_EQ(m.fresh_counter(i, "abandoned"), 1u) << "node " << i + 1 << "\n" << m.transcripts();
  }
  // The stream goes on among the survivors.
  m.p[1]->command("send " + std::to_string(2 * kMiB + 5));
  const std::string after = "deliver 2 1 " + std::to_string(2 * kMiB + 5) + " ok";
  ASSERT_TRUE(m.pump_until([&] { return m.has(0, after) && m.has(1, after); })) << m.transcripts();
  EXPECT_EQ(m.starting(1, "deliver "), m.starting(0, "deliver "));
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_TRUE(m.starting(i, "error").empty()) << m.transcripts();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (std::size_t i = 0; i < 2; ++i)
    m.p[i]->command("exit");
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(m.p[i]->reap(deadline), 0) << "node " << i + 1;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringcast::test
