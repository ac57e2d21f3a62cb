// Messages above the atomic size over verbs: 3 cpg_large_member processes
// (C, <corosync/cpg.h>). Node 1 sends messages of 1 MiB to 64 MiB, copied,
// then 1 MiB to 16 MiB from zcb buffers (its counters show every byte read
// from the buffer); every member delivers each whole, byte-exact and in one
// order. Then node 3 is
// killed with SIGKILL in the middle of a 64 MiB message: no survivor
// delivers any of it, both count it as abandoned, and the stream goes on.
#include <gtest/gtest.h>
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

using Counters = std::map<std::string, std::uint64_t>;

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
  // Every key=<n> of member i's counters line, fresh.
  std::optional<Counters> counters(std::size_t i) {
    if (!fresh_counter(i, "records")) return std::nullopt;
    Counters c;
    std::istringstream words(starting(i, "counters ").back().substr(9));
    for (std::string w; words >> w;) {
      const auto eq = w.find('=');
      if (eq != std::string::npos) c[w.substr(0, eq)] = std::stoull(w.substr(eq + 1));
    }
    return c;
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

constexpr std::uint64_t kFragmentHeaderBytes = 32;  // counters.h: copied a fragment

// Node 1 sends message `number` of `size` bytes ("send": copied, "zsend":
// from a zcb buffer); true once every member delivered it and the call
// returned CS_OK.
::testing::AssertionResult send_and_await(Members& m, const std::string& how, std::uint64_t number,
                                          std::uint64_t size) {
  const auto started = std::chrono::steady_clock::now();
  const std::string bytes = std::to_string(size);
  m.p[0]->command(how + " " + bytes);
  const std::string line = "deliver 1 " + std::to_string(number) + " " + bytes;
  const std::string sent = (how == "zsend" ? "zsent " : "sent ") + bytes + " ";
  // Ends early when node 1 reports an error or its call failed.
  const auto failed = [&] {
    return !m.starting(0, "error").empty() ||
           std::any_of(m.p[0]->lines.begin(), m.p[0]->lines.end(), [&](const std::string& l) {
             return l.rfind(sent, 0) == 0 && l != sent + "1";
           });
  };
  if (!m.pump_until([&] {
        if (failed()) return true;
        for (std::size_t i = 0; i < m.p.size(); ++i)
          if (m.starting(i, line).empty()) return false;
        return m.has(0, sent + "1");
      }) ||
      failed()) {
    return ::testing::AssertionFailure() << how << " " << number << " of " << size << " bytes\n"
                                         << m.transcripts();
  }
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("cpg large (%s): %llu bytes to 3 members in %.2f s (%.1f MB/s)\n",
              how == "zsend" ? "zcb" : "copy", static_cast<unsigned long long>(size), s,
              size / s / 1e6);
  return ::testing::AssertionSuccess();
}

// The counters of node 1 around zcb sends of `sizes`: every byte read from
// the buffers, none copied but a header a fragment.
void expect_sent_from_buffer(const Counters& before, const Counters& after,
                             const std::vector<std::uint64_t>& sizes) {
  for (const char* key : {"atomic", "zcb_sends", "zcb_from_buffer", "zcb_copied", "copied_on_send"})
    ASSERT_TRUE(before.contains(key) && after.contains(key)) << "no " << key << " in the counters";
  const std::uint64_t atomic = after.at("atomic");
  ASSERT_GT(atomic, kFragmentHeaderBytes);
  std::uint64_t bytes = 0, fragments = 0;
  for (const std::uint64_t size : sizes) {
    bytes += size;
    const std::uint64_t slice = atomic - kFragmentHeaderBytes;
    if (size > atomic) fragments += (size + slice - 1) / slice;
  }
  const auto delta = [&](const std::string& key) { return after.at(key) - before.at(key); };
  EXPECT_EQ(delta("zcb_sends"), sizes.size());
  EXPECT_EQ(delta("zcb_from_buffer"), bytes);
  EXPECT_EQ(delta("zcb_copied"), 0u);
  EXPECT_EQ(delta("copied_on_send"), fragments * kFragmentHeaderBytes);
  EXPECT_GT(fragments, sizes.size());  // the test sends messages in fragments
}

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

  std::uint64_t number = 0;  // node 1's messages, counted as cpg_large_member does
  for (const std::uint64_t size : {kMiB, kMiB + 1, 4 * kMiB + 3, 16 * kMiB, 64 * kMiB})
    ASSERT_TRUE(send_and_await(m, "send", ++number, size));

  // The same from zcb buffers: every fragment's slice is read by the NIC
  // from the buffer; only the fragment headers are copied on send.
  const auto before_zcb = m.counters(0);
  ASSERT_TRUE(before_zcb.has_value()) << m.transcripts();
  const std::vector<std::uint64_t> zcb_sizes = {kMiB, kMiB + 1, 4 * kMiB + 3, 16 * kMiB};
  for (const std::uint64_t size : zcb_sizes)
    ASSERT_TRUE(send_and_await(m, "zsend", ++number, size));
  const auto after_zcb = m.counters(0);
  ASSERT_TRUE(after_zcb.has_value()) << m.transcripts();
  expect_sent_from_buffer(*before_zcb, *after_zcb, zcb_sizes);
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
