// ringcast-cpgtool's main on a simulated cluster of two nodes: node 1 has a
// member in alpha, beta and a group whose name holds unprintable bytes,
// node 2 in alpha and beta. The tool runs on either node (Node::Override)
// as it would in a process there, and its output must be exactly
// corosync-cpgtool's layout (without the addresses) or the JSON.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/node.hpp"
#include "support/sim_cluster.hpp"
#include "tools/cpgtool.hpp"

namespace ringcast::tools {
namespace {

using namespace std::chrono_literals;

const std::string kOdd("odd\x01\\\xc3\x7f", 7);  // a control byte, a backslash, two high bytes

struct ToolRun {
  int status = -1;
  std::string out, err;
};

ToolRun run_tool(std::vector<std::string_view> args) {
  std::ostringstream out, err;
  ToolRun r;
  r.status = cpgtool_main(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

cpg_name name_of(const std::string& s) {
  cpg_name n{};
  n.length = static_cast<std::uint32_t>(s.size());
  std::memcpy(n.value, s.data(), s.size());
  return n;
}

class CpgtoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runtime::SimClusterOptions o;
    o.members = 2;
    o.ring.log_bytes = 1u << 20;
    o.ring.max_message_bytes = 64u << 10;
    o.ring.send_buffer_bytes = 256u << 10;
    o.ring.send_queue_messages = 256;
    o.ring.token_hold_ns = 2'000'000;
    auto c = runtime::SimCluster::start(o);
    ASSERT_TRUE(c.ok()) << c.error().message();
    cluster_ = std::move(*c);
    for (std::size_t i = 0; i < 2; ++i) {
      auto node = client::Node::create();
      node->attach(cluster_->attach(i, node->round_callback()));
      nodes_.push_back(std::move(node));
    }
  }
  void TearDown() override {
    for (cpg_handle_t h : handles_)
      cpg_finalize(h);
    nodes_.clear();
    if (cluster_) cluster_->stop();
  }

  // A handle of node i that joins `group` and sees `members` members in it.
  void join(std::size_t i, const std::string& group, int members) {
    client::Node::Override on(nodes_[i]);
    cpg_handle_t h = 0;
    ASSERT_EQ(cpg_initialize(&h, nullptr), CS_OK);
    handles_.push_back(h);
    const cpg_name n = name_of(group);
    cs_error_t e = CS_ERR_TRY_AGAIN;
    for (auto end = std::chrono::steady_clock::now() + 20s;
         e == CS_ERR_TRY_AGAIN && std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(1ms))
      e = cpg_join(h, &n);
    ASSERT_EQ(e, CS_OK) << cs_strerror(e);
    cpg_address list[CPG_MEMBERS_MAX];
    int count = 0;
    for (auto end = std::chrono::steady_clock::now() + 20s; count != members;
         std::this_thread::sleep_for(1ms)) {
      ASSERT_LT(std::chrono::steady_clock::now(), end) << "the join to " << group << " not seen";
      count = CPG_MEMBERS_MAX;
      ASSERT_EQ(cpg_membership_get(h, const_cast<cpg_name*>(&n), list, &count), CS_OK);
    }
  }

  // Joins in this order, each seen before the next: member lists are then
  // in this order.
  void populate() {
    join(0, "alpha", 1);
    join(1, "alpha", 2);
    join(0, "beta", 1);
    join(1, "beta", 2);
    join(0, kOdd, 1);
  }

  // The tool on node i; the other node's listing may lag by a round, so it
  // runs until its output is `want` (or 10 s), then compares.
  ToolRun tool_on(std::size_t i, std::vector<std::string_view> args, const std::string& want) {
    client::Node::Override on(nodes_[i]);
    ToolRun r;
    const auto end = std::chrono::steady_clock::now() + 10s;
    do {
      r = run_tool(args);
    } while (r.out != want && std::chrono::steady_clock::now() < end);
    return r;
  }

  std::unique_ptr<runtime::SimCluster> cluster_;
  std::vector<std::shared_ptr<client::Node>> nodes_;
  std::vector<cpg_handle_t> handles_;
};

std::string member_line(unsigned node) {
  char line[64];
  std::snprintf(line, sizeof line, "\t\t%10u\t%10u\n", static_cast<unsigned>(::getpid()), node);
  return line;
}

std::string pid() {
  return std::to_string(::getpid());
}

TEST_F(CpgtoolTest, TableAsCorosyncCpgtoolAtBothNodes) {
  populate();
  const std::string want =
      "Group Name\t       PID\t   Node ID\n"
      "alpha\n" +
      member_line(1) + member_line(2) + "beta\n" + member_line(1) + member_line(2) +
      "odd\\x01\\\\\\xC3\\x7F\n" + member_line(1);
  for (std::size_t i = 0; i < 2; ++i) {
    const ToolRun r = tool_on(i, {}, want);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, want) << "at node " << i + 1;
    EXPECT_EQ(r.err, "");
  }
}

TEST_F(CpgtoolTest, DelimitedNamesOnlyAndUnescaped) {
  populate();
  const std::string p = pid();
  const std::string odd = "odd\\x01\\\\\\xC3\\x7F";
  std::string want = "GRP_NAME:PID:NODEID\nalpha:" + p + ":1\nalpha:" + p + ":2\nbeta:" + p +
                     ":1\nbeta:" + p + ":2\n" + odd + ":" + p + ":1\n";
  EXPECT_EQ(tool_on(1, {"-d", ":"}, want).out, want);
  EXPECT_EQ(tool_on(1, {"-d:"}, want).out, want);
  want = "alpha\nbeta\n" + odd + "\n";
  EXPECT_EQ(tool_on(0, {"-n"}, want).out, want);
  want = "alpha,beta," + odd + ",\n";  // corosync ends each name with the delimiter
  EXPECT_EQ(tool_on(0, {"-n", "-d,"}, want).out, want);
  want = "alpha\nbeta\n" + kOdd + "\n";
  EXPECT_EQ(tool_on(0, {"-en"}, want).out, want);
  // -d takes the first character only.
  const ToolRun r = tool_on(0, {"-n", "-d", " x", "-e"}, "alpha beta " + kOdd + " \n");
  EXPECT_EQ(r.out, "alpha beta " + kOdd + " \n");
  EXPECT_EQ(r.status, 0);
}

TEST_F(CpgtoolTest, Json) {
  populate();
  const std::string m = "{\"nodeid\":1,\"pid\":" + pid() + "},{\"nodeid\":2,\"pid\":" + pid() + "}";
  std::string want = "{\"groups\":[{\"name\":\"alpha\",\"members\":[" + m +
                     "]},{\"name\":\"beta\",\"members\":[" + m +
                     "]},{\"name\":\"odd\\u0001\\\\\\u00c3\\u007f\",\"members\":[{\"nodeid\":1,"
                     "\"pid\":" +
                     pid() + "}]}]}\n";
  ToolRun r = tool_on(1, {"-j"}, want);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, want);
  want =
      "{\"groups\":[{\"name\":\"alpha\"},{\"name\":\"beta\"},{\"name\":\"odd\\u0001\\\\"
      "\\u00c3\\u007f\"}]}\n";
  EXPECT_EQ(tool_on(0, {"-n", "-j"}, want).out, want);
  // -e: high bytes as they are (control bytes stay escaped: JSON needs it).
  want =
      "{\"groups\":[{\"name\":\"alpha\"},{\"name\":\"beta\"},{\"name\":\"odd\\u0001\\\\"
      "\xc3\\u007f\"}]}\n";
  EXPECT_EQ(tool_on(0, {"-nje"}, want).out, want);
}

TEST_F(CpgtoolTest, NoGroupsYet) {
  EXPECT_EQ(tool_on(0, {}, "Group Name\t       PID\t   Node ID\n").status, 0);
  EXPECT_EQ(tool_on(1, {"-j"}, "{\"groups\":[]}\n").out, "{\"groups\":[]}\n");
  EXPECT_EQ(tool_on(1, {"-n"}, "").out, "");
}

// No node to reach: no Override, and a cluster file that does not exist.
TEST(CpgtoolErrors, InitializeFailsWithTheReason) {
  ::setenv("RINGCAST_CONFIG", "/nonexistent/ringcast-cpgtool-test.conf", 1);
  const ToolRun r = run_tool({});
  ::unsetenv("RINGCAST_CONFIG");
  EXPECT_EQ(r.status, kCpgtoolFailed);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("ringcast-cpgtool: cpg_initialize: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no ringcastd of this node answered"), std::string::npos) << r.err;
}

TEST(CpgtoolErrors, CommandLine) {
  ToolRun r = run_tool({"-h"});
  EXPECT_EQ(r.status, kCpgtoolOk);
  EXPECT_EQ(r.out.rfind("usage: ringcast-cpgtool [-d delimiter] [-e] [-n] [-j] [-h]\n", 0), 0u);
  for (auto args : std::vector<std::vector<std::string_view>>{
           {"-x"}, {"-d"}, {"-n", "extra"}, {"--", "extra"}, {"-nq"}}) {
    r = run_tool(args);
    EXPECT_EQ(r.status, kCpgtoolUsage) << args[0];
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("usage: ringcast-cpgtool"), std::string::npos);
  }
  EXPECT_NE(run_tool({"-x"}).err.find("unknown option -x"), std::string::npos);
  EXPECT_NE(run_tool({"-d"}).err.find("option -d needs a delimiter"), std::string::npos);
  EXPECT_NE(run_tool({"-n", "extra"}).err.find("unexpected argument 'extra'"), std::string::npos);
}

}  // namespace
}  // namespace ringcast::tools
