// The `quorum` section and the nodes' `quorum_votes`: defaults as
// votequorum derives them, every key read, and the errors.
#include <gtest/gtest.h>

#include <string>

#include "config/cluster_config.hpp"

namespace ringcast::config {
namespace {

std::string nodes(int count, std::string_view extra_first = "") {
  std::string s = "nodelist {\n";
  for (int i = 1; i <= count; ++i) {
    s += "  node {\n    nodeid: " + std::to_string(i) + "\n    address: 10.0.0." +
         std::to_string(i) + "\n";
    if (i == 1) s += std::string(extra_first);
    s += "  }\n";
  }
  return s + "}\n";
}

std::string with_quorum(std::string_view body, int count = 3) {
  return "quorum {\n" + std::string(body) + "}\n" + nodes(count);
}

ClusterConfig parsed(const std::string& text) {
  Parsed<ClusterConfig> c = parse(text, "ringcast.conf");
  EXPECT_TRUE(c.ok()) << c.error().message();
  return c.ok() ? *c : ClusterConfig{};
}

std::string error_of(const std::string& text) {
  Parsed<ClusterConfig> c = parse(text, "ringcast.conf");
  return c.ok() ? "(no error)" : c.error().message();
}

TEST(ConfigQuorum, WithoutTheSectionEveryNodeHasOneVote) {
  const ClusterConfig c = parsed(nodes(3));
  EXPECT_EQ(c.quorum.expected_votes, 3u);
  EXPECT_FALSE(c.quorum.two_node);
  EXPECT_FALSE(c.quorum.wait_for_all);
  for (const ClusterNode& n : c.nodes)
    EXPECT_EQ(n.quorum_votes, 1u);
}

TEST(ConfigQuorum, ExpectedVotesFollowTheNodesVotesUnlessSet) {
  EXPECT_EQ(parsed(nodes(3, "    quorum_votes: 3\n")).quorum.expected_votes, 5u);
  EXPECT_EQ(parsed(with_quorum("  expected_votes: 8\n")).quorum.expected_votes, 8u);
}

TEST(ConfigQuorum, TwoNodeImpliesWaitForAllUnlessDisabled) {
  const ClusterConfig c = parsed(with_quorum("  two_node: 1\n", 2));
  EXPECT_TRUE(c.quorum.two_node);
  EXPECT_TRUE(c.quorum.wait_for_all);
  const ClusterConfig off = parsed(with_quorum("  two_node: yes\n  wait_for_all: 0\n", 2));
  EXPECT_TRUE(off.quorum.two_node);
  EXPECT_FALSE(off.quorum.wait_for_all);
  EXPECT_TRUE(parsed(with_quorum("  wait_for_all: 1\n")).quorum.wait_for_all);
}

TEST(ConfigQuorum, TwoNodeNeedsTwoExpectedVotes) {
  EXPECT_EQ(error_of(with_quorum("  two_node: 1\n")),
            "ringcast.conf:2:3: two_node needs 2 expected votes (two nodes of one vote each), "
            "not 3");
  EXPECT_EQ(error_of(with_quorum("  two_node: 1\n  expected_votes: 2\n")), "(no error)");
}

TEST(ConfigQuorum, Errors) {
  EXPECT_NE(error_of(with_quorum("  two_node: 2\n")).find("two_node: expected 0 or 1"),
            std::string::npos);
  EXPECT_NE(error_of(with_quorum("  expected_votes: 0\n")).find("expected_votes"),
            std::string::npos);
  EXPECT_NE(error_of(with_quorum("  provider: corosync_votequorum\n")).find("provider"),
            std::string::npos);
  EXPECT_NE(error_of(nodes(2, "    quorum_votes: 1001\n")).find("quorum_votes"), std::string::npos);
  std::string silent =
      "nodelist {\n  node {\n    nodeid: 1\n    address: 10.0.0.1\n"
      "    quorum_votes: 0\n  }\n}\n";
  EXPECT_NE(error_of(silent).find("every node has quorum_votes 0"), std::string::npos);
  EXPECT_EQ(error_of("quorum {\n  expected_votes: 1\n}\n" + silent), "(no error)");
}

}  // namespace
}  // namespace ringcast::config
