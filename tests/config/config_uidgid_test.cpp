// The uidgid sections: who besides root and ringcastd's own user may use the
// daemon (corosync's uidgid directives).
#include <gtest/gtest.h>

#include <string>

#include "config/cluster_config.hpp"

namespace ringcast::config {
namespace {

constexpr std::string_view kOneNode =
    "nodelist {\n"
    "  node {\n"
    "    nodeid: 1\n"
    "    address: 10.0.0.1\n"
    "  }\n"
    "}\n";

std::string error_of(const std::string& text) {
  Parsed<ClusterConfig> config = parse(text, "ringcast.conf");
  return config.ok() ? "(no error)" : config.error().message();
}

TEST(ConfigUidGid, NoneByDefault) {
  Parsed<ClusterConfig> c = parse(kOneNode, "ringcast.conf");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->uidgid.empty());
}

TEST(ConfigUidGid, NamesAndNumbersAnyNumberOfTimes) {
  const std::string text = std::string(kOneNode) +
                           "uidgid {\n  uid: root\n}\n"
                           "uidgid {\n  gid: 1234\n}\n"
                           "uidgid {\n  uid: 1001\n  gid: root\n}\n";
  Parsed<ClusterConfig> c = parse(text, "ringcast.conf");
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_EQ(c->uidgid.size(), 3u);
  EXPECT_EQ(c->uidgid[0].uid, 0u);
  EXPECT_FALSE(c->uidgid[0].gid);
  EXPECT_FALSE(c->uidgid[1].uid);
  EXPECT_EQ(c->uidgid[1].gid, 1234u);
  EXPECT_EQ(c->uidgid[2].uid, 1001u);
  EXPECT_EQ(c->uidgid[2].gid, 0u);
}

TEST(ConfigUidGid, Errors) {
  const std::string nodes(kOneNode);
  EXPECT_EQ(error_of(nodes + "uidgid {\n}\n"),
            "ringcast.conf:7:1: section 'uidgid' names neither uid nor gid");
  EXPECT_EQ(error_of(nodes + "uidgid {\n  uid: no-such-user-here\n}\n"),
            "ringcast.conf:8:8: uid: no user 'no-such-user-here' on this host");
  EXPECT_EQ(error_of(nodes + "uidgid {\n  gid: no-such-group-here\n}\n"),
            "ringcast.conf:8:8: gid: no group 'no-such-group-here' on this host");
  EXPECT_EQ(error_of(nodes + "uidgid {\n  uid: 4294967295\n}\n"),
            "ringcast.conf:8:8: uid: no user '4294967295' on this host");
  EXPECT_NE(error_of(nodes + "uidgid {\n  user: root\n}\n").find("unknown key 'user'"),
            std::string::npos);
  EXPECT_NE(error_of(nodes + "uidgid {\n  uid: 1\n  uid: 2\n}\n").find("appears twice"),
            std::string::npos);
}

}  // namespace
}  // namespace ringcast::config
