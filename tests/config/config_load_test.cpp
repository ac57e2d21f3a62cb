// load(), the key file, the environment and finding the local node.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "config/cluster_config.hpp"

namespace ringcast::config {
namespace {

constexpr std::string_view kThreeNodes =
    "nodelist {\n"
    "  node {\n    nodeid: 1\n    address: 10.0.0.1\n  }\n"
    "  node {\n    nodeid: 2\n    address: 127.0.0.1\n  }\n"
    "  node {\n    nodeid: 3\n    address: fd00::3\n  }\n"
    "}\n";

// A scratch directory, removed with its files.
class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ringcast-config-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr) << std::strerror(errno);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const std::string& f : files_)
      ::unlink(f.c_str());
    ::rmdir(dir_.c_str());
  }

  std::string write(const std::string& name, std::string_view content, mode_t mode = 0600) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), mode);
    files_.push_back(path);
    return path;
  }

  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(ConfigFiles, LoadsAFile) {
  const std::string path = write(
      "ringcast.conf", "auth {\n  allow_unauthenticated: yes\n}\n" + std::string(kThreeNodes));
  Parsed<ClusterConfig> c = load(path);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->file, path);
  EXPECT_EQ(c->nodes.size(), 3u);
  EXPECT_TRUE(c->auth.allow_unauthenticated);
}

// Without a key anyone who reaches a member's port could join: a file must
// name one, or opt out in so many words.
TEST_F(ConfigFiles, AFileWithoutAKeyIsRefusedUnlessItOptsOut) {
  const std::string path = write("ringcast.conf", kThreeNodes);
  Parsed<ClusterConfig> c = load(path);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("no cluster key"), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("allow_unauthenticated: yes"), std::string::npos);
  write("no.conf", "auth {\n  allow_unauthenticated: no\n}\n" + std::string(kThreeNodes));
  EXPECT_FALSE(load(dir_ + "/no.conf").ok());
  write("maybe.conf", "auth {\n  allow_unauthenticated: maybe\n}\n" + std::string(kThreeNodes));
  c = load(dir_ + "/maybe.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().line, 2u);
  write("authkey", std::string(32, 'k'));
  write("both.conf", "auth {\n  key_file: authkey\n  allow_unauthenticated: yes\n}\n" +
                         std::string(kThreeNodes));
  c = load(dir_ + "/both.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("remove one"), std::string::npos) << c.error().message();
}

TEST_F(ConfigFiles, MissingFileNamesPathAndErrno) {
  Parsed<ClusterConfig> c = load(dir_ + "/nope.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().sys_errno, ENOENT);
  EXPECT_EQ(c.error().message(), dir_ + "/nope.conf: cannot open: " + std::strerror(ENOENT));
  EXPECT_EQ(c.error().to_error().code, Errc::system);
}

TEST_F(ConfigFiles, RefusesADirectoryAndAnOversizedFile) {
  Parsed<ClusterConfig> c = load(dir_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(), dir_ + ": not a regular file");
  const std::string big = write("big.conf", std::string(kMaxFileBytes + 1, '#'));
  c = load(big);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(), big + ": larger than 1048576 bytes");
}

TEST_F(ConfigFiles, ErrorsInsideTheFileNameIt) {
  const std::string path = write("bad.conf", "totem {\n  token_timeout_ms: 1\n}\n");
  Parsed<ClusterConfig> c = load(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(),
            path + ":2:21: token_timeout_ms: '1' is out of range (10 to 300000)");
}

TEST_F(ConfigFiles, ReadsTheKeyFileRelativeToTheConfig) {
  const std::string key(32, 'k');
  write("authkey", key);
  const std::string path =
      write("ringcast.conf", "auth {\n  key_file: authkey\n}\n" + std::string(kThreeNodes));
  Parsed<ClusterConfig> c = load(path);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->auth.key_file, dir_ + "/authkey");
  ASSERT_EQ(c->auth.key.size_bytes(), 32u);
  EXPECT_EQ(std::to_integer<char>(c->auth.key.secret_bytes()[31]), 'k');
  EXPECT_EQ(c->auth.key.describe(), "32-byte key");
}

TEST_F(ConfigFiles, KeyFileProblemsPointAtTheKeyFileLine) {
  const std::string nodes(kThreeNodes);
  const std::string conf =
      write("ringcast.conf", "# cluster\nauth {\n  key_file: authkey\n}\n" + nodes);
  const std::string prefix = conf + ":3: key_file '" + dir_ + "/authkey': ";

  Parsed<ClusterConfig> c = load(conf);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(), prefix + "cannot open: " + std::strerror(ENOENT));

  write("authkey", std::string(32, 'k'), 0644);
  c = load(conf);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(),
            prefix + "group or others may access it (mode 0644); chmod 600 it");

  write("authkey", std::string(8, 'k'), 0600);
  c = load(conf);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(), prefix + "8 bytes; a key has at least 16");

  write("authkey", std::string(ClusterKey::kMaxBytes + 1, 'k'), 0600);
  c = load(conf);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(), prefix + "larger than 4096 bytes");
}

constexpr std::string_view kInlineKey =
    "# cluster\nauth {\n  key: "
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n}\n";

// An inline key is as secret as the cluster file that holds it.
TEST_F(ConfigFiles, AnInlineKeyInAFileOthersMayAccessIsRefused) {
  const std::string conf =
      write("ringcast.conf", std::string(kInlineKey) + std::string(kThreeNodes), 0644);
  Parsed<ClusterConfig> c = load(conf);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(),
            conf +
                ":3: auth.key: the cluster file holds the key and group or others may access it "
                "(mode 0644); chmod 600 it, or give the key in a key_file");
  ::chmod(conf.c_str(), 0640);
  EXPECT_FALSE(load(conf).ok());
  ::chmod(conf.c_str(), 0600);
  c = load(conf);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->auth.key.size_bytes(), 32u);
  // Without a key the cluster file may be readable by all.
  const std::string open = write(
      "open.conf", "auth {\n  allow_unauthenticated: yes\n}\n" + std::string(kThreeNodes), 0644);
  EXPECT_TRUE(load(open).ok());
}

// A key someone else owns could be replaced by them: refused unless this
// process's user or root owns it (needs root to give a file away).
TEST_F(ConfigFiles, AKeyOwnedBySomeoneElseIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root";
  write("authkey", std::string(32, 'k'));
  const std::string conf = write(
      "ringcast.conf", "# cluster\nauth {\n  key_file: authkey\n}\n" + std::string(kThreeNodes));
  ASSERT_EQ(::chown((dir_ + "/authkey").c_str(), 4242, 4242), 0) << std::strerror(errno);
  Parsed<ClusterConfig> c = load(conf);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(), conf + ":3: key_file '" + dir_ +
                                     "/authkey': owned by uid 4242, neither this process's user "
                                     "(uid 0) nor root; chown it");
  const std::string inline_conf =
      write("inline.conf", std::string(kInlineKey) + std::string(kThreeNodes));
  ASSERT_EQ(::chown(inline_conf.c_str(), 4242, 4242), 0) << std::strerror(errno);
  c = load(inline_conf);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(), inline_conf +
                                     ":3: auth.key: the cluster file holds the key and is owned by "
                                     "uid 4242, neither this process's user (uid 0) nor root; "
                                     "chown it, or give the key in a key_file");
}

TEST(ClusterKeyTest, ComparesAndDescribesWithoutShowingBytes) {
  const std::vector<std::byte> bytes(16, std::byte{7});
  ClusterKey a(bytes);
  ClusterKey b = a;
  EXPECT_TRUE(a == b);
  ClusterKey c(std::vector<std::byte>(16, std::byte{8}));
  EXPECT_FALSE(a == c);
  ClusterKey moved(std::move(b));
  EXPECT_TRUE(b.empty());  // NOLINT: checking the moved-from state on purpose
  EXPECT_TRUE(moved == a);
  EXPECT_EQ(ClusterKey().describe(), "no key");
  EXPECT_EQ(a.describe(), "16-byte key");
}

// ---- the local node ----

ClusterConfig three_nodes() {
  Parsed<ClusterConfig> c = parse(kThreeNodes, "ringcast.conf");
  EXPECT_TRUE(c.ok());
  return *c;
}

TEST(LocalNode, ByEnvironmentNodeId) {
  const ClusterConfig c = three_nodes();
  Parsed<std::size_t> index = find_local_node(c, "3", {});
  ASSERT_TRUE(index.ok()) << index.error().message();
  EXPECT_EQ(*index, 2u);
}

TEST(LocalNode, BadEnvironmentNodeIds) {
  const ClusterConfig c = three_nodes();
  Parsed<std::size_t> index = find_local_node(c, "x1", {});
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.error().message(),
            "ringcast.conf: RINGCAST_NODE_ID='x1' is not a node id (1 to 4294967295)");
  index = find_local_node(c, "9", {});
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.error().message(),
            "ringcast.conf: RINGCAST_NODE_ID=9 is not in the nodelist (nodes: 1, 2, 3)");
  EXPECT_FALSE(find_local_node(c, "0", {}).ok());
  EXPECT_FALSE(find_local_node(c, "4294967296", {}).ok());
}

// ringcastd's -n chooses the node as the variable does, and says so.
TEST(LocalNode, MessagesNameWhereTheNodeIdCameFrom) {
  const ClusterConfig c = three_nodes();
  Parsed<std::size_t> index = find_local_node(c, "9", {}, "-n ");
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.error().message(), "ringcast.conf: -n 9 is not in the nodelist (nodes: 1, 2, 3)");
  index = find_local_node(c, "2", {}, "-n ");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(*index, 1u);
}

TEST(LocalNode, ByHostAddress) {
  const ClusterConfig c = three_nodes();
  const IpAddress host[] = {*IpAddress::parse("::1"), *IpAddress::parse("fd00::3"),
                            IpAddress::v4(192, 168, 0, 9)};
  Parsed<std::size_t> index = find_local_node(c, "", host);
  ASSERT_TRUE(index.ok()) << index.error().message();
  EXPECT_EQ(*index, 2u);
}

TEST(LocalNode, NoMatchListsTheHostsAddresses) {
  const ClusterConfig c = three_nodes();
  const IpAddress host[] = {IpAddress::v4(192, 168, 0, 9), *IpAddress::parse("fe80::1")};
  Parsed<std::size_t> index = find_local_node(c, "", host);
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.error().message(),
            "ringcast.conf: no node of the nodelist has an address of this host (192.168.0.9, "
            "fe80::1); set RINGCAST_NODE_ID or add this host");
}

TEST(LocalNode, TwoMatchesNeedTheEnvironment) {
  const ClusterConfig c = three_nodes();
  const IpAddress host[] = {IpAddress::v4(10, 0, 0, 1), IpAddress::v4(127, 0, 0, 1)};
  Parsed<std::size_t> index = find_local_node(c, "", host);
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.error().message(),
            "ringcast.conf: nodes 1 (line 2) and 2 (line 6) both have an address of this host; "
            "set RINGCAST_NODE_ID to choose");
}

TEST(LocalNode, HostAddressesIncludeLoopback) {
  Parsed<std::vector<IpAddress>> addresses = host_addresses();
  ASSERT_TRUE(addresses.ok()) << addresses.error().message();
  EXPECT_NE(std::find(addresses->begin(), addresses->end(), IpAddress::v4(127, 0, 0, 1)),
            addresses->end());
}

// Sets an environment variable for one test, restoring it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) ::setenv(name, value, 1);
    if (value == nullptr) ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    if (!old_) ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_F(ConfigFiles, LoadFromEnvironment) {
  const std::string path = write(
      "ringcast.conf", "auth {\n  allow_unauthenticated: yes\n}\n" + std::string(kThreeNodes));
  {
    ScopedEnv config("RINGCAST_CONFIG", path.c_str());
    ScopedEnv node("RINGCAST_NODE_ID", "3");
    EXPECT_EQ(path_from_environment(), path);
    Parsed<LocalConfig> local = load_from_environment();
    ASSERT_TRUE(local.ok()) << local.error().message();
    EXPECT_EQ(local->local().nodeid, 3u);
  }
  {
    // No node id: node 2 has 127.0.0.1, an address of every host.
    ScopedEnv config("RINGCAST_CONFIG", path.c_str());
    ScopedEnv node("RINGCAST_NODE_ID", nullptr);
    Parsed<LocalConfig> local = load_from_environment();
    ASSERT_TRUE(local.ok()) << local.error().message();
    EXPECT_EQ(local->local().nodeid, 2u);
  }
  {
    ScopedEnv config("RINGCAST_CONFIG", "");
    EXPECT_EQ(path_from_environment(), "/etc/ringcast/ringcast.conf");
  }
  {
    ScopedEnv config("RINGCAST_CONFIG", nullptr);
    EXPECT_EQ(path_from_environment(), "/etc/ringcast/ringcast.conf");
  }
}

}  // namespace
}  // namespace ringcast::config
