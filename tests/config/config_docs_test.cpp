// The complete example of docs/configuration.md and the example of
// ringcast.conf(5) are valid cluster files and mean what the pages say.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "config/cluster_config.hpp"

namespace ringcast::config {
namespace {

std::string example_from_docs() {
  std::ifstream in(std::string(RINGCAST_SOURCE_DIR) + "/docs/configuration.md");
  std::stringstream page;
  page << in.rdbuf();
  const std::string text = page.str();
  const std::size_t marker = text.find("<!-- example");
  if (marker == std::string::npos) return {};
  const std::size_t open = text.find("```\n", marker);
  const std::size_t close = text.find("\n```", open + 4);
  if (open == std::string::npos || close == std::string::npos) return {};
  return text.substr(open + 4, close - open - 3);
}

// The first literal display of the manual page's EXAMPLES section.
std::string example_from_man_page() {
  std::ifstream in(std::string(RINGCAST_SOURCE_DIR) + "/man/man5/ringcast.conf.5");
  std::stringstream page;
  page << in.rdbuf();
  const std::string text = page.str();
  const std::size_t section = text.find("\n.Sh EXAMPLES\n");
  const std::size_t open = text.find("\n.Bd -literal", section);
  const std::size_t body = text.find('\n', open + 1);
  const std::size_t close = text.find("\n.Ed\n", body);
  if (section == std::string::npos || open == std::string::npos || close == std::string::npos)
    return {};
  return text.substr(body + 1, close - body);
}

TEST(ConfigDocs, TheManPageExampleParses) {
  const std::string example = example_from_man_page();
  ASSERT_FALSE(example.empty()) << "no example in man/man5/ringcast.conf.5";
  Parsed<ClusterConfig> c = parse(example, "/etc/ringcast/ringcast.conf");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->totem.max_message_size_bytes, 1u << 20);
  EXPECT_EQ(c->auth.key_file, "/etc/ringcast/authkey");
  ASSERT_EQ(c->nodes.size(), 3u);
  EXPECT_EQ(c->nodes[2].device, "mlx5_1");
}

TEST(ConfigDocs, TheCompleteExampleParses) {
  const std::string example = example_from_docs();
  ASSERT_FALSE(example.empty()) << "no example block in docs/configuration.md";
  Parsed<ClusterConfig> c = parse(example, "/etc/ringcast/ringcast.conf");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->totem.token_timeout_ms, 1000u);
  EXPECT_EQ(c->totem.log_size_bytes, 8u << 20);
  EXPECT_EQ(c->rdma.device, "mlx5_0");
  EXPECT_EQ(c->auth.key_file, "/etc/ringcast/authkey");
  ASSERT_EQ(c->nodes.size(), 3u);
  EXPECT_EQ(c->nodes[2].device, "mlx5_1");
  EXPECT_EQ(c->nodes[1].address, IpAddress::v4(192, 168, 10, 2));
}

}  // namespace
}  // namespace ringcast::config
