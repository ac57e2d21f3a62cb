// The cluster key at cpg_initialize over verbs (label rdma), each node a
// process of its own (the CPG node is one per process):
//   * a cluster file without a key is refused (CS_ERR_LIBRARY, nothing
//     started) unless it says auth { allow_unauthenticated: yes };
//   * a node whose key no member accepts, and that never had an
//     authenticated peer, stops: cpg_initialize returns CS_ERR_SECURITY
//     within its start-up window (and a log line says why), while the node it
//     was refused by runs on.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ringcast/cpg.h"
#include "support/child_process.hpp"
#include "support/rdma_harness.hpp"

namespace ringcast::test {
namespace {

constexpr std::uint16_t kBasePort = 17580;
constexpr int kStepTimeoutS = 120;
using Clock = std::chrono::steady_clock;

const char* kKeyA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const char* kKeyB = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f";

// `auth` is the section's body ("" for no section at all).
std::string cluster_file(const RdmaEnv& env, const std::filesystem::path& path, int nodes,
                         const std::string& auth) {
  std::ofstream f(path);
  f << "totem {\n    startup_window_ms: 2000\n}\nrdma {\n";
  if (!env.device.empty()) f << "    device: " << env.device << "\n";
  if (env.gid_index >= 0) f << "    gid_index: " << env.gid_index << "\n";
  f << "}\n";
  if (!auth.empty()) f << "auth {\n    " << auth << "\n}\n";
  f << "nodelist {\n";
  for (int i = 0; i < nodes; ++i) {
    f << "    node {\n        nodeid: " << i + 1 << "\n        address: " << env.addrs[i]
      << "\n        port: " << kBasePort + i << "\n    }\n";
  }
  f << "}\n";
  f.close();
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path.string();
}

void report(int fd, const std::string& line) {
  const std::string l = line + "\n";
  [[maybe_unused]] ssize_t n = ::write(fd, l.data(), l.size());
}

// A process that initializes CPG as node `node` of `config`, reports
// "init <cs_error_t>", then on "local" reports "local <cs_error_t> <nodeid>"
// and on "exit" finalizes and exits.
std::unique_ptr<ChildProcess> start_node(const std::string& config, int node) {
  return std::make_unique<ChildProcess>([config, node](int commands, int reports) {
    setenv("RINGCAST_CONFIG", config.c_str(), 1);
    setenv("RINGCAST_NODE_ID", std::to_string(node).c_str(), 1);
    setenv("RINGCAST_MODE", "embedded", 1);  // each process is a node of its own
    cpg_handle_t h = 0;
    cpg_callbacks_t callbacks{};
    const cs_error_t rc = cpg_initialize(&h, &callbacks);
    report(reports, "init " + std::to_string(rc));
    if (rc != CS_OK) return 1;
    std::string line;
    for (char c = 0; ::read(commands, &c, 1) == 1;) {
      if (c != '\n') {
        line += c;
        continue;
      }
      if (line == "exit") break;
      unsigned int id = 0;
      const cs_error_t got = cpg_local_get(h, &id);
      report(reports, "local " + std::to_string(got) + " " + std::to_string(id));
      line.clear();
    }
    cpg_finalize(h);
    return 0;
  });
}

bool has_line(const ChildProcess& p, const std::string& prefix) {
  for (const auto& l : p.lines)
    if (l.rfind(prefix, 0) == 0) return true;
  return false;
}

class CpgAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ringcast-cpg-auth-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(CpgAuth, AFileWithoutAKeyIsRefusedUnlessItOptsOut) {
  RINGCAST_REQUIRE_RDMA(env);
  std::vector<std::unique_ptr<ChildProcess>> p(1);
  p[0] = start_node(cluster_file(env, dir_ / "none.conf", 1, ""), 1);
  ASSERT_TRUE(pump_until(
      p, [&] { return has_line(*p[0], "init "); }, kStepTimeoutS));
  EXPECT_TRUE(has_line(*p[0], "init " + std::to_string(CS_ERR_LIBRARY))) << p[0]->lines.front();
  EXPECT_EQ(p[0]->reap(Clock::now() + std::chrono::seconds(30)), 1);

  p[0] = start_node(cluster_file(env, dir_ / "open.conf", 1, "allow_unauthenticated: yes"), 1);
  ASSERT_TRUE(pump_until(
      p, [&] { return has_line(*p[0], "init "); }, kStepTimeoutS));
  EXPECT_TRUE(has_line(*p[0], "init " + std::to_string(CS_OK))) << p[0]->lines.front();
  p[0]->command("exit");
  EXPECT_EQ(p[0]->reap(Clock::now() + std::chrono::seconds(30)), 0);
}

TEST_F(CpgAuth, ANodeWithTheWrongKeyStopsAndTheOtherRunsOn) {
  RINGCAST_REQUIRE_RDMA(env);
  if (env.addrs.size() < 2) GTEST_SKIP() << "skipped: needs 2 addresses on the RDMA device";
  std::vector<std::unique_ptr<ChildProcess>> p(2);
  p[0] = start_node(cluster_file(env, dir_ / "a.conf", 2, std::string("key: ") + kKeyA), 1);
  ASSERT_TRUE(pump_until(
      p, [&] { return has_line(*p[0], "init "); }, kStepTimeoutS));
  ASSERT_TRUE(has_line(*p[0], "init " + std::to_string(CS_OK))) << p[0]->lines.front();

  const auto started = Clock::now();
  p[1] = start_node(cluster_file(env, dir_ / "b.conf", 2, std::string("key: ") + kKeyB), 2);
  ASSERT_TRUE(pump_until(
      p, [&] { return has_line(*p[1], "init "); }, kStepTimeoutS));
  const double took_s = std::chrono::duration<double>(Clock::now() - started).count();
  EXPECT_TRUE(has_line(*p[1], "init " + std::to_string(CS_ERR_SECURITY))) << p[1]->lines.front();
  EXPECT_EQ(p[1]->reap(Clock::now() + std::chrono::seconds(30)), 1);
  std::printf("the node with the wrong key stopped after %.2f s (start-up window 2 s)\n", took_s);
  EXPECT_LT(took_s, 30.0);

  p[0]->command("local");
  ASSERT_TRUE(pump_until(
      p, [&] { return has_line(*p[0], "local "); }, kStepTimeoutS));
  EXPECT_TRUE(has_line(*p[0], "local " + std::to_string(CS_OK) + " 1"));
  p[0]->command("exit");
  EXPECT_EQ(p[0]->reap(Clock::now() + std::chrono::seconds(30)), 0);
}

}  // namespace
}  // namespace ringcast::test
