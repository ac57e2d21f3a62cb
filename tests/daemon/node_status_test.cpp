// The daemon's status file (api/daemon/node_status.cpp) and what
// ringcast-cfgtool makes of it (cfgtool.cpp).
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "daemon/cfgtool.hpp"
#include "daemon/node_status.hpp"

namespace ringcast::daemon {
namespace {

NodeStatus three_nodes() {
  NodeStatus s;
  s.node = 2;
  s.pid = ::getpid();
  s.address = "10.0.0.2";
  StatusSnapshot snapshot;
  snapshot.ring_representative = 1;
  snapshot.ring_seq = 8589934595;
  snapshot.members = {1, 2};
  snapshot.operational = true;
  snapshot.tokens_received = 1200;
  fill_ring(s, snapshot, {1, 3}, {1});
  return s;
}

TEST(NodeStatus, WrittenAndReadBack) {
  const NodeStatus s = three_nodes();
  const std::string text = to_text(s);
  EXPECT_NE(text.find("ring 1 8589934595\n"), std::string::npos) << text;
  EXPECT_NE(text.find("link 1 1\nlink 3 0\n"), std::string::npos) << text;
  const std::optional<NodeStatus> back = parse_status(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(to_text(*back), text);
  EXPECT_EQ(back->members, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_TRUE(back->operational);
}

TEST(NodeStatus, WhatIsNotAStatusFileIsRefused) {
  EXPECT_FALSE(parse_status(""));
  EXPECT_FALSE(parse_status("node 1\n")) << "no pid";
  EXPECT_FALSE(parse_status("node 1\npid 5\nring x 2\n"));
  EXPECT_FALSE(parse_status("node 1\npid 5\nlink 2 maybe\n"));
  EXPECT_FALSE(parse_status("node 1\npid 5\nsecret 1\n"));
  EXPECT_FALSE(parse_status("node 1\npid 5\nmembers 1 -2\n"));
  EXPECT_FALSE(parse_status(std::string(kMaxStatusFileBytes + 1, '\n')));
  EXPECT_TRUE(parse_status("node 1\npid 5\n\n"));
}

TEST(Cfgtool, TheLayoutOfCorosyncCfgtool) {
  const std::string text = cfgtool_text(three_nodes());
  EXPECT_EQ(text,
            "Local node ID 2, transport rdma\n"
            "Ring ID 1:8589934595, operational, members 1 2\n"
            "LINK ID 0 rdma\n"
            "\taddr\t= 10.0.0.2\n"
            "\tstatus:\n"
            "\t\tnodeid:  1:\tconnected\n"
            "\t\tnodeid:  2:\tlocalhost\n"
            "\t\tnodeid:  3:\tdisconnected\n"
            "Counters:\n"
            "\ttokens_received = 1200\n"
            "\ttokens_dropped = 0\n"
            "\trecords_delivered = 0\n"
            "\trecords_dropped = 0\n"
            "\tretransmissions = 0\n"
            "\treformations = 0\n"
            "\tcontrol_dropped = 0\n"
            "\twrites_wrong_link = 0\n"
            "\trecord_stalls = 0\n"
            "\trecords_repaired = 0\n");
}

TEST(Cfgtool, AFileLeftByADeadDaemonSaysNothingRuns) {
  NodeStatus s = three_nodes();
  EXPECT_TRUE(writer_runs(s));
  s.pid = 0;
  EXPECT_FALSE(writer_runs(s));
  s.pid = 4'194'304 + 1;  // above pid_max's highest value: no such process
  EXPECT_FALSE(writer_runs(s));
}

TEST(NodeStatus, ReplacedWhole) {
  char name[] = "/tmp/ringcastd-status-XXXXXX";
  ASSERT_NE(::mkdtemp(name), nullptr);
  const std::string path = status_path(name, 2);
  EXPECT_TRUE(path.ends_with("/ringcastd-2.status"));
  ASSERT_TRUE(replace_file(path, "node 2\npid 1\n").ok());
  ASSERT_TRUE(replace_file(path, "node 2\npid 7\n").ok());
  EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0) << "renamed, not left aside";
  EXPECT_FALSE(replace_file(std::string(name) + "/none/x.status", "").ok());
}

}  // namespace
}  // namespace ringcast::daemon
