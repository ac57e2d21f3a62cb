// parse(): the format, its defaults, and every error it reports (with the
// exact place and words an operator will see).
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

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

ClusterConfig parsed(std::string_view text) {
  Parsed<ClusterConfig> config = parse(text, "ringcast.conf");
  EXPECT_TRUE(config.ok()) << config.error().message();
  return config.ok() ? *config : ClusterConfig{};
}

// The full message of the error parse() reports for text.
std::string error_of(std::string_view text) {
  Parsed<ClusterConfig> config = parse(text, "ringcast.conf");
  if (config.ok()) return "(no error)";
  return config.error().message();
}

std::string with_totem(std::string_view totem_body) {
  return "totem {\n" + std::string(totem_body) + "}\n" + std::string(kOneNode);
}

std::string with_node(std::string_view node_body) {
  return "nodelist {\n  node {\n" + std::string(node_body) + "  }\n}\n";
}

TEST(ConfigDefaults, MinimalFileGetsEveryDefault) {
  const ClusterConfig c = parsed(kOneNode);
  EXPECT_EQ(c.file, "ringcast.conf");
  EXPECT_EQ(c.totem.token_timeout_ms, 1000u);
  EXPECT_EQ(c.totem.token_retransmits_before_loss, 4u);
  EXPECT_EQ(c.totem.consensus_timeout_ms, 1200u);
  EXPECT_EQ(c.totem.join_timeout_ms, 50u);
  EXPECT_EQ(c.totem.max_messages, 64u);
  EXPECT_EQ(c.totem.window_size, 256u);
  EXPECT_EQ(c.totem.token_hold_us, 100000u);
  EXPECT_EQ(c.totem.spin_time_us, 50u);
  EXPECT_EQ(c.totem.startup_window_ms, 3000u);
  EXPECT_EQ(c.totem.reconnect_interval_ms, 200u);
  EXPECT_EQ(c.totem.log_size_bytes, 8u << 20);
  EXPECT_EQ(c.totem.max_message_size_bytes, 1u << 20);
  ASSERT_EQ(c.nodes.size(), 1u);
  EXPECT_EQ(c.nodes[0].nodeid, 1u);
  EXPECT_EQ(c.nodes[0].address, IpAddress::v4(10, 0, 0, 1));
  EXPECT_EQ(c.nodes[0].port, kDefaultPort);
  EXPECT_EQ(c.nodes[0].device, "");
  EXPECT_FALSE(c.nodes[0].gid_index.has_value());
  EXPECT_EQ(c.nodes[0].line, 2u);
  EXPECT_EQ(c.rdma.device, "");
  EXPECT_FALSE(c.rdma.gid_index.has_value());
  EXPECT_EQ(c.rdma.port, 1);
  EXPECT_FALSE(c.rdma.zero_copy_max_bytes.has_value());
  EXPECT_TRUE(c.auth.key.empty());
  EXPECT_EQ(c.auth.key_file, "");
}

// What a process may pin, and never more than a quarter of the memory.
TEST(ConfigDefaults, ZeroCopyLimitComesFromTheMachine) {
  const std::uint64_t limit = default_zero_copy_max_bytes();
  const auto memory = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                      static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_GT(limit, 0u);
  EXPECT_LE(limit, memory / 4);
  rlimit memlock{};
  ASSERT_EQ(::getrlimit(RLIMIT_MEMLOCK, &memlock), 0);
  if (memlock.rlim_cur == RLIM_INFINITY) {
    EXPECT_EQ(limit, memory / 4);
  }
}

TEST(ConfigErrors, ZeroCopyLimitOutOfRange) {
  const std::string text = std::string(kOneNode) + "rdma {\n  zero_copy_max_bytes: 1M\n}\n";
  EXPECT_NE(error_of(text).find("zero_copy_max_bytes"), std::string::npos) << error_of(text);
}

TEST(ConfigDefaults, ClientZcbSegmentIs64MiBUnlessSet) {
  EXPECT_EQ(parsed(kOneNode).system.client_zcb_segment_bytes, std::uint64_t{4} << 30);
  const std::string off = std::string(kOneNode) + "system {\n  client_zcb_segment_bytes: 0\n}\n";
  EXPECT_EQ(parsed(off).system.client_zcb_segment_bytes, 0u);
  const std::string big = std::string(kOneNode) + "system {\n  client_zcb_segment_bytes: 1G\n}\n";
  EXPECT_EQ(parsed(big).system.client_zcb_segment_bytes, std::uint64_t{1} << 30);
}

TEST(ConfigErrors, ClientZcbSegmentInWholeSlabs) {
  const std::string text = std::string(kOneNode) + "system {\n  client_zcb_segment_bytes: 3M\n}\n";
  EXPECT_NE(error_of(text).find("client_zcb_segment_bytes"), std::string::npos) << error_of(text);
}

TEST(ConfigDefaults, ConsensusFollowsTheTokenUnlessSet) {
  EXPECT_EQ(parsed(with_totem("token_timeout_ms: 2000\n")).totem.consensus_timeout_ms, 2400u);
  EXPECT_EQ(parsed(with_totem("token_timeout_ms: 2000\nconsensus_timeout_ms: 2000\n"))
                .totem.consensus_timeout_ms,
            2000u);
}

TEST(ConfigDefaults, AnUnsetHoldFollowsAShortTokenTimeout) {
  EXPECT_EQ(parsed(with_totem("token_timeout_ms: 100\n")).totem.token_hold_us, 50000u);
  EXPECT_EQ(parsed(with_totem("token_timeout_ms: 5000\n")).totem.token_hold_us, 100000u);
  EXPECT_EQ(parsed(with_totem("token_timeout_ms: 100\ntoken_hold_us: 80000\n")).totem.token_hold_us,
            80000u);
}

TEST(ConfigFormat, ReadsEveryKey) {
  const ClusterConfig c = parsed(
      "# a comment\n"
      "totem {\n"
      "\ttoken_timeout_ms: 500\n"
      "  token_retransmits_before_loss: 6\n"
      "  consensus_timeout_ms: 700\n"
      "  join_timeout_ms: 30\n"
      "  max_messages: 32\n"
      "  window_size: 128\n"
      "  token_hold_us: 100\n"
      "  spin_time_us: 0\n"
      "  log_size_bytes: 16M\n"
      "  max_message_size_bytes: 64k\n"
      "  startup_window_ms: 0\n"
      "  reconnect_interval_ms: 50\n"
      "  zcb_copy_below_bytes: 8k\n"
      "  relay_min_batch_bytes: 64k\n"
      "  relay_min_members: 3\n"
      "}\n"
      "rdma {\n  device: rxe0\n  gid_index: 1\n  port: 2\n  zero_copy_max_bytes: 3G\n}\n"
      "auth {\n  key: 00112233445566778899aabbccddeeff\n}\n"
      "nodelist {\n"
      "  node {\n    nodeid: 7\n    address: fd00::7\n    port: 9000\n"
      "    device: mlx5_1\n    gid_index: 3\n  }\n"
      "  node {\n    nodeid: 8\n    address: \"::ffff:192.168.1.8\"\n  }\n"
      "}\n");
  EXPECT_EQ(c.totem.token_timeout_ms, 500u);
  EXPECT_EQ(c.totem.token_retransmits_before_loss, 6u);
  EXPECT_EQ(c.totem.consensus_timeout_ms, 700u);
  EXPECT_EQ(c.totem.join_timeout_ms, 30u);
  EXPECT_EQ(c.totem.max_messages, 32u);
  EXPECT_EQ(c.totem.window_size, 128u);
  EXPECT_EQ(c.totem.token_hold_us, 100u);
  EXPECT_EQ(c.totem.spin_time_us, 0u);
  EXPECT_EQ(c.totem.log_size_bytes, 16u << 20);
  EXPECT_EQ(c.totem.max_message_size_bytes, 64u << 10);
  EXPECT_EQ(c.totem.startup_window_ms, 0u);
  EXPECT_EQ(c.totem.reconnect_interval_ms, 50u);
  EXPECT_EQ(c.totem.zcb_copy_below_bytes, 8u << 10);
  EXPECT_EQ(c.totem.relay_min_batch_bytes, 64u << 10);
  EXPECT_EQ(c.totem.relay_min_members, 3u);
  EXPECT_EQ(c.rdma.device, "rxe0");
  EXPECT_EQ(c.rdma.gid_index, 1);
  EXPECT_EQ(c.rdma.port, 2);
  EXPECT_EQ(c.rdma.zero_copy_max_bytes, std::uint64_t{3} << 30);
  EXPECT_EQ(c.auth.key.size_bytes(), 16u);
  EXPECT_EQ(std::to_integer<int>(c.auth.key.secret_bytes()[1]), 0x11);
  ASSERT_EQ(c.nodes.size(), 2u);
  EXPECT_EQ(c.nodes[0].address.family, IpAddress::Family::v6);
  EXPECT_EQ(c.nodes[0].address.to_string(), "fd00::7");
  EXPECT_EQ(c.nodes[0].port, 9000);
  EXPECT_EQ(c.nodes[0].device, "mlx5_1");
  EXPECT_EQ(c.nodes[0].gid_index, 3);
  EXPECT_EQ(c.nodes[1].address, IpAddress::v4(192, 168, 1, 8)) << "v4-mapped becomes IPv4";
  ASSERT_NE(c.node(8), nullptr);
  EXPECT_EQ(c.node(8)->line, 36u);
  EXPECT_EQ(c.node(9), nullptr);
}

TEST(ConfigFormat, AcceptsCrlfTabsNoSpaceAfterColonAndSectionsInAnyOrder) {
  const ClusterConfig c = parsed(
      "nodelist{\r\n node {\r\n\tnodeid:3\r\n\taddress:10.1.1.1 \r\n }\r\n}\r\n"
      "totem {\r\n token_timeout_ms:\t100\r\n}");  // no final newline
  EXPECT_EQ(c.nodes[0].nodeid, 3u);
  EXPECT_EQ(c.totem.token_timeout_ms, 100u);
}

TEST(ConfigFormat, SameAddressWithDifferentPortsIsFine) {
  const ClusterConfig c = parsed(
      "nodelist {\n"
      "  node {\n nodeid: 1\n address: 127.0.0.1\n port: 7401\n }\n"
      "  node {\n nodeid: 2\n address: 127.0.0.1\n port: 7402\n }\n"
      "}\n");
  EXPECT_EQ(c.nodes.size(), 2u);
}

TEST(ConfigFormat, RelativeKeyFileIsRelativeToTheConfigFile) {
  const std::string nodes(kOneNode);
  Parsed<ClusterConfig> c =
      parse("auth {\n key_file: authkey\n}\n" + nodes, "/etc/ringcast/r.conf");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->auth.key_file, "/etc/ringcast/authkey");
  EXPECT_EQ(c->auth.key_file_line, 2u);
  EXPECT_TRUE(c->auth.key.empty()) << "parse() does not read files";
  c = parse("auth {\n key_file: /k\n}\n" + nodes, "r.conf");
  EXPECT_EQ(c->auth.key_file, "/k");
  c = parse("auth {\n key_file: k\n}\n" + nodes, "r.conf");
  EXPECT_EQ(c->auth.key_file, "k");
}

TEST(ConfigFormat, AcceptsTheLargestLineAndNodeCount) {
  std::string nodes = "nodelist {\n";
  for (int i = 1; i <= static_cast<int>(kMaxNodes); ++i) {
    nodes += "node {\nnodeid: " + std::to_string(i) +
             "\naddress: 10.0.0.1\nport: " + std::to_string(1000 + i) + "\n}\n";
  }
  nodes += "}\n";
  EXPECT_EQ(parsed(nodes).nodes.size(), kMaxNodes);
  std::string comment = "#" + std::string(kMaxLineBytes - 1, 'x') + "\n";
  EXPECT_EQ(parsed(comment + std::string(kOneNode)).nodes.size(), 1u);
}

// ---- syntax errors ----

TEST(ConfigSyntaxErrors, NulByte) {
  std::string text = "nodelist {\n  no";
  text += '\0';
  text += "de {\n";
  EXPECT_EQ(error_of(text), "ringcast.conf:2:5: NUL byte");
}

TEST(ConfigSyntaxErrors, ControlCharacter) {
  EXPECT_EQ(error_of("totem {\n  token_timeout_ms: 1\x1b[0m\n}\n"),
            "ringcast.conf:2:22: control character 27 (only tab is allowed)");
}

TEST(ConfigSyntaxErrors, OverLongLine) {
  const std::string text = "totem {\n#" + std::string(kMaxLineBytes, 'x') + "\n}\n";
  EXPECT_EQ(error_of(text), "ringcast.conf:2:4097: line is longer than 4096 bytes");
}

TEST(ConfigSyntaxErrors, FileTooLarge) {
  const std::string text(kMaxFileBytes + 1, '\n');
  EXPECT_EQ(error_of(text), "ringcast.conf: file is larger than 1048576 bytes");
}

TEST(ConfigSyntaxErrors, UnterminatedBracePointsAtItsSection) {
  EXPECT_EQ(error_of("nodelist {\n  node {\n    nodeid: 1\n  }\n"),
            "ringcast.conf:1:1: section 'nodelist' has no closing '}'");
  EXPECT_EQ(error_of("totem {\n"), "ringcast.conf:1:1: section 'totem' has no closing '}'");
  EXPECT_EQ(error_of("totem {\n  token_timeout_ms: 100\n\nnodelist {\n  node {\n}\n"),
            "ringcast.conf:5:3: section 'node' is nested too deep (totem > nodelist > node; at "
            "most 2 levels): is the '}' of 'totem' (line 1) missing?");
}

TEST(ConfigSyntaxErrors, CloseWithoutOpen) {
  EXPECT_EQ(error_of(std::string(kOneNode) + "  }\n"),
            "ringcast.conf:7:3: '}' without an open section");
}

TEST(ConfigSyntaxErrors, OneStatementPerLine) {
  EXPECT_EQ(error_of("totem { token_timeout_ms: 5 }\n"),
            "ringcast.conf:1:8: unexpected text after '{' (one statement per line)");
  EXPECT_EQ(error_of("totem {\n} x\n"), "ringcast.conf:2:2: unexpected text after '}'");
}

TEST(ConfigSyntaxErrors, MalformedLines) {
  EXPECT_EQ(error_of("totem {\n  token_timeout_ms 5\n}\n"),
            "ringcast.conf:2:20: expected ':' or '{' after 'token_timeout_ms', found '5'");
  EXPECT_EQ(error_of("totem\n{\n}\n"), "ringcast.conf:1:6: expected ':' or '{' after 'totem'");
  EXPECT_EQ(error_of("totem {\n  = 5\n}\n"),
            "ringcast.conf:2:3: expected 'key: value', 'section {' or '}', found '= 5'");
  EXPECT_EQ(error_of("totem {\n  token_timeout_ms:   \n}\n"),
            "ringcast.conf:2:23: key 'token_timeout_ms' has no value");
}

TEST(ConfigSyntaxErrors, Quotes) {
  EXPECT_EQ(error_of("rdma {\n  device: \"rxe0\n}\n"),
            "ringcast.conf:2:11: key 'device': quoted value has no closing '\"'");
  EXPECT_EQ(error_of("rdma {\n  device: \"rx\"e0\"\n}\n"),
            "ringcast.conf:2:11: key 'device': '\"' inside a quoted value");
}

TEST(ConfigSyntaxErrors, NestingTooDeep) {
  EXPECT_EQ(error_of("nodelist {\n node {\n  extra {\n  }\n }\n}\n"),
            "ringcast.conf:3:3: section 'extra' is nested too deep (nodelist > node > extra; at "
            "most 2 levels): is the '}' of 'nodelist' (line 1) missing?");
}

// ---- sections and keys ----

TEST(ConfigStructureErrors, UnknownSectionWithSuggestion) {
  EXPECT_EQ(error_of("totm {\n}\n"),
            "ringcast.conf:1:1: unknown section 'totm' (did you mean "
            "'totem'?)");
  EXPECT_EQ(error_of("resources {\n}\n"),
            "ringcast.conf:1:1: unknown section 'resources' (expected one of: totem nodelist rdma "
            "auth quorum system logging uidgid)");
}

TEST(ConfigStructureErrors, SectionTwice) {
  EXPECT_EQ(error_of("rdma {\n}\nrdma {\n}\n"),
            "ringcast.conf:3:1: section 'rdma' appears twice (first at line 1)");
}

TEST(ConfigStructureErrors, SectionInsideTheWrongSection) {
  EXPECT_EQ(error_of("totem {\n  interface {\n  }\n}\n"),
            "ringcast.conf:2:3: section 'interface' is not allowed inside section 'totem'");
  EXPECT_EQ(error_of("nodelist {\n  nod {\n  }\n}\n"),
            "ringcast.conf:2:3: unknown section 'nod' in the nodelist (did you mean 'node'?)");
}

TEST(ConfigStructureErrors, KeyOutsideAnySection) {
  EXPECT_EQ(error_of("token_timeout_ms: 5\n"),
            "ringcast.conf:1:1: key 'token_timeout_ms' is outside of any section");
}

TEST(ConfigStructureErrors, UnknownKeyWithSuggestions) {
  EXPECT_EQ(error_of(with_totem("  tokn_timeout_ms: 5\n")),
            "ringcast.conf:2:3: unknown key 'tokn_timeout_ms' in section 'totem' (did you mean "
            "'token_timeout_ms'?)");
  EXPECT_EQ(error_of(with_totem("  token: 3000\n")),
            "ringcast.conf:2:3: unknown key 'token' in section 'totem' (did you mean "
            "'token_timeout_ms'?)");
  EXPECT_EQ(error_of(with_node("    ring0_addr: 10.0.0.1\n")),
            "ringcast.conf:3:5: unknown key 'ring0_addr' in section 'node' (did you mean "
            "'address'?)");
  EXPECT_EQ(error_of("auth {\n  secret: 1\n}\n"),
            "ringcast.conf:2:3: unknown key 'secret' in section 'auth' (expected one of: key "
            "key_file allow_unauthenticated)");
}

TEST(ConfigStructureErrors, KeyTwice) {
  EXPECT_EQ(error_of(with_totem("  window_size: 5\n  window_size: 6\n")),
            "ringcast.conf:3:3: key 'window_size' appears twice in section 'totem' (first at "
            "line 2)");
}

// ---- values ----

TEST(ConfigValueErrors, BadNumbers) {
  EXPECT_EQ(error_of(with_totem("  token_timeout_ms: abc\n")),
            "ringcast.conf:2:21: token_timeout_ms: 'abc' is not a number (decimal digits only)");
  EXPECT_EQ(error_of(with_totem("  token_timeout_ms: -5\n")),
            "ringcast.conf:2:21: token_timeout_ms: '-5' is not a number (decimal digits only)");
  EXPECT_EQ(error_of(with_totem("  token_timeout_ms: 0x10\n")),
            "ringcast.conf:2:21: token_timeout_ms: '0x10' is not a number (decimal digits only)");
  EXPECT_EQ(error_of(with_totem("  token_timeout_ms: 1k\n")),
            "ringcast.conf:2:21: token_timeout_ms: '1k' is not a number (decimal digits only)");
  EXPECT_EQ(error_of(with_totem("  log_size_bytes: 8X\n")),
            "ringcast.conf:2:19: log_size_bytes: '8X' is not a size (digits, optionally then k, "
            "m or g)");
  EXPECT_EQ(error_of(with_totem("  log_size_bytes: M\n")),
            "ringcast.conf:2:19: log_size_bytes: 'M' is not a size (digits, optionally then k, "
            "m or g)");
}

TEST(ConfigValueErrors, OutOfRange) {
  EXPECT_EQ(error_of(with_totem("  token_timeout_ms: 5\n")),
            "ringcast.conf:2:21: token_timeout_ms: '5' is out of range (10 to 300000)");
  EXPECT_EQ(error_of(with_totem("  window_size: 65536\n")),
            "ringcast.conf:2:16: window_size: '65536' is out of range (1 to 65535)");
  EXPECT_EQ(error_of(with_totem("  join_timeout_ms: 99999999999999999999999\n")),
            "ringcast.conf:2:20: join_timeout_ms: '99999999999999999999999' is out of range (1 "
            "to 60000)");
  EXPECT_EQ(error_of(with_totem("  log_size_bytes: 16777216G\n")),
            "ringcast.conf:2:19: log_size_bytes: '16777216G' is out of range (65536 to "
            "1073741824)");
  EXPECT_EQ(error_of(with_node("    nodeid: 0\n    address: 10.0.0.1\n")),
            "ringcast.conf:3:13: nodeid: '0' is out of range (1 to 4294967295)");
  EXPECT_EQ(error_of(with_node("    nodeid: 4294967296\n")),
            "ringcast.conf:3:13: nodeid: '4294967296' is out of range (1 to 4294967295)");
  EXPECT_EQ(error_of(with_node("    nodeid: 1\n    port: 70000\n")),
            "ringcast.conf:4:11: port: '70000' is out of range (1 to 65535)");
  EXPECT_EQ(error_of("rdma {\n  port: 0\n}\n"),
            "ringcast.conf:2:9: port: '0' is out of range (1 to 255)");
  EXPECT_EQ(error_of("rdma {\n  gid_index: 1024\n}\n"),
            "ringcast.conf:2:14: gid_index: '1024' is out of range (0 to 1023)");
}

TEST(ConfigValueErrors, LongValuesAreCutInMessages) {
  const std::string digits(200, '7');
  EXPECT_EQ(error_of(with_totem("  window_size: " + digits + "\n")),
            "ringcast.conf:2:16: window_size: '" + std::string(40, '7') +
                "...' is out of range (1 to 65535)");
}

TEST(ConfigValueErrors, Addresses) {
  EXPECT_EQ(error_of(with_node("    nodeid: 1\n    address: 10.0.0.256\n")),
            "ringcast.conf:4:14: address: '10.0.0.256' is not an IPv4 or IPv6 address (host "
            "names are not resolved)");
  EXPECT_EQ(error_of(with_node("    nodeid: 1\n    address: node1.example.com\n")),
            "ringcast.conf:4:14: address: 'node1.example.com' is not an IPv4 or IPv6 address "
            "(host names are not resolved)");
  EXPECT_EQ(error_of(with_node("    nodeid: 1\n    address: fe80::1%eth0\n")),
            "ringcast.conf:4:14: address: 'fe80::1%eth0': zone indexes are not supported; use "
            "an address that is unique on the host");
}

TEST(ConfigValueErrors, DeviceNames) {
  EXPECT_EQ(error_of("rdma {\n  device: rxe 0\n}\n"),
            "ringcast.conf:2:11: device: 'rxe 0' is not a device name (1 to 63 letters, digits, "
            "'_', '-', '.')");
  EXPECT_EQ(error_of("rdma {\n  device: \"\"\n}\n"),
            "ringcast.conf:2:12: device: '' is not a device name (1 to 63 letters, digits, '_', "
            "'-', '.')");
  EXPECT_EQ(error_of("rdma {\n  device: " + std::string(64, 'm') + "\n}\n").substr(0, 35),
            "ringcast.conf:2:11: device: 'mmmmmm");
}

// ---- the nodelist ----

TEST(ConfigNodeErrors, MissingNodeIdOrAddress) {
  EXPECT_EQ(error_of(with_node("    address: 10.0.0.1\n")),
            "ringcast.conf:2:3: node has no nodeid");
  EXPECT_EQ(error_of(with_node("    nodeid: 4\n")), "ringcast.conf:2:3: node 4 has no address");
}

TEST(ConfigNodeErrors, DuplicateNodeId) {
  EXPECT_EQ(error_of("nodelist {\n"
                     "  node {\n    nodeid: 1\n    address: 10.0.0.1\n  }\n"
                     "  node {\n    nodeid: 3\n    address: 10.0.0.3\n  }\n"
                     "  # the same id again\n"
                     "\n"
                     "  node {\n    nodeid: 3\n    address: 10.0.0.4\n  }\n"
                     "}\n"),
            "ringcast.conf:12: nodeid 3 appears twice (first at line 6)");
}

TEST(ConfigNodeErrors, DuplicateAddressAndPort) {
  EXPECT_EQ(error_of("nodelist {\n"
                     "  node {\n    nodeid: 1\n    address: 10.0.0.1\n  }\n"
                     "  node {\n    nodeid: 2\n    address: 10.0.0.1\n  }\n"
                     "}\n"),
            "ringcast.conf:6: node 2 has the address 10.0.0.1 port 7405 of node 1 (line 2); give "
            "one of them another port");
}

TEST(ConfigNodeErrors, NodelistShape) {
  EXPECT_EQ(error_of("totem {\n}\n"),
            "ringcast.conf: no nodelist section: at least one node is required");
  EXPECT_EQ(error_of("nodelist {\n}\n"), "ringcast.conf:1:1: the nodelist has no node");
  EXPECT_EQ(error_of("nodelist {\n  nodeid: 1\n}\n"),
            "ringcast.conf:2:3: key 'nodeid' directly in the nodelist: keys belong inside a "
            "'node { }' section");
}

TEST(ConfigNodeErrors, TooManyNodes) {
  std::string nodes = "nodelist {\n";
  for (int i = 1; i <= static_cast<int>(kMaxNodes) + 1; ++i) {
    nodes += "node {\nnodeid: " + std::to_string(i) +
             "\naddress: 10.0.0.1\nport: " + std::to_string(1000 + i) + "\n}\n";
  }
  nodes += "}\n";
  EXPECT_EQ(error_of(nodes), "ringcast.conf:642:1: more than 128 nodes");
}

// ---- auth ----

TEST(ConfigAuthErrors, KeyOrKeyFileButNotBoth) {
  const std::string nodes(kOneNode);
  EXPECT_EQ(
      error_of("auth {\n  key_file: /k\n  key: 00112233445566778899aabbccddeeff\n}\n" + nodes),
      "ringcast.conf:3:3: give the cluster key either as key or as key_file, not both");
  EXPECT_EQ(error_of("auth {\n}\n" + nodes),
            "ringcast.conf:1:1: section 'auth' has neither key nor key_file "
            "(allow_unauthenticated: yes runs without a key)");
  EXPECT_EQ(error_of("auth {\n  key_file: \"\"\n}\n" + nodes),
            "ringcast.conf:2:14: key_file: empty path");
}

TEST(ConfigAuthErrors, BadKeysAreNeverShown) {
  const std::string nodes(kOneNode);
  const std::string secret = "00112233445566778899aabbccddeeffSECRET";
  const std::string message = error_of("auth {\n  key: " + secret + "\n}\n" + nodes);
  EXPECT_EQ(message,
            "ringcast.conf:2:8: key: not hexadecimal (character 33 is not a hex digit); the key "
            "is not shown");
  EXPECT_EQ(message.find("0011"), std::string::npos);
  EXPECT_EQ(error_of("auth {\n  key: 0011223\n}\n" + nodes),
            "ringcast.conf:2:8: key: an odd number of hex digits (7)");
  EXPECT_EQ(error_of("auth {\n  key: 00112233\n}\n" + nodes),
            "ringcast.conf:2:8: key: 4 bytes; a key has 16 to 4096 bytes (32 or more hex "
            "digits)");
}

// ---- rules across keys ----

TEST(ConfigRuleErrors, ConsensusAtLeastToken) {
  EXPECT_EQ(error_of(with_totem("  consensus_timeout_ms: 500\n  token_timeout_ms: 600\n")),
            "ringcast.conf:3:3: consensus_timeout_ms (500) must be at least token_timeout_ms "
            "(600)");
}

TEST(ConfigRuleErrors, MaxMessagesWithinWindow) {
  EXPECT_EQ(error_of(with_totem("  window_size: 32\n")),
            "ringcast.conf:2:3: max_messages (64) must not exceed window_size (32)");
}

TEST(ConfigEviction, DefaultsAndBounds) {
  const ClusterConfig d = parsed(kOneNode);
  EXPECT_EQ(d.totem.handle_unreleased_max_bytes, 4u << 20) << "half the default log";
  EXPECT_EQ(d.totem.handle_unreleased_max_ms, 5000u);
  EXPECT_EQ(d.totem.handle_spill_max_bytes, 64u << 20);
  const ClusterConfig small =
      parsed(with_totem("  log_size_bytes: 256k\n"
                        "  max_message_size_bytes: 64k\n"));
  EXPECT_EQ(small.totem.handle_unreleased_max_bytes, 128u << 10);
  const ClusterConfig set =
      parsed(with_totem("  handle_unreleased_max_bytes: 2M\n"
                        "  handle_unreleased_max_ms: 0\n"));
  EXPECT_EQ(set.totem.handle_unreleased_max_bytes, 2u << 20);
  EXPECT_EQ(set.totem.handle_unreleased_max_ms, 0u);
  EXPECT_EQ(parsed(with_totem("  handle_spill_max_bytes: 0\n")).totem.handle_spill_max_bytes, 0u);
  EXPECT_EQ(parsed(with_totem("  handle_spill_max_bytes: 1G\n")).totem.handle_spill_max_bytes,
            1u << 30);
  EXPECT_EQ(error_of(with_totem("  handle_unreleased_max_bytes: 512k\n")),
            "ringcast.conf:2:3: handle_unreleased_max_bytes (524288) must be at least "
            "max_message_size_bytes (1048576)");
  EXPECT_EQ(error_of(with_totem("  handle_unreleased_max_bytes: 8M\n")),
            "ringcast.conf:2:3: handle_unreleased_max_bytes (8388608) must be below "
            "log_size_bytes (8388608)");
}

// The relay's two conditions: the ring's defaults, values of their own, and
// no member count the relay cannot use (2: the successor is the only
// destination) or no ring can have.
TEST(ConfigRelay, DefaultsAndBounds) {
  EXPECT_EQ(parsed(kOneNode).totem.relay_min_batch_bytes, 32u << 10);
  EXPECT_EQ(parsed(kOneNode).totem.relay_min_members, 5u);
  EXPECT_EQ(parsed(with_totem("  relay_min_members: 3\n")).totem.relay_min_members, 3u);
  EXPECT_EQ(parsed(with_totem("  relay_min_members: 64\n")).totem.relay_min_members, 64u);
  EXPECT_EQ(error_of(with_totem("  relay_min_members: 2\n")),
            "ringcast.conf:2:22: relay_min_members: '2' is out of range (3 to 64)");
  EXPECT_EQ(error_of(with_totem("  relay_min_members: 65\n")),
            "ringcast.conf:2:22: relay_min_members: '65' is out of range (3 to 64)");
  EXPECT_EQ(error_of(with_totem("  relay_min_members: 4k\n")),
            "ringcast.conf:2:22: relay_min_members: '4k' is not a number (decimal digits "
            "only)");
}

// The zero-copy crossover: a default that follows a smaller atomic size, a
// value of its own, 0 for "never copy", and nothing above the atomic size.
TEST(ConfigZeroCopyCrossover, DefaultsAndBounds) {
  EXPECT_EQ(parsed(kOneNode).totem.zcb_copy_below_bytes, kDefaultZcbCopyBelowBytes);
  EXPECT_EQ(parsed(kOneNode).totem.relay_min_batch_bytes, 32u << 10);  // the ring's default
  EXPECT_EQ(parsed(with_totem("  relay_min_batch_bytes: 0\n")).totem.relay_min_batch_bytes, 0u);
  EXPECT_EQ(parsed(with_totem("  max_message_size_bytes: 4k\n")).totem.zcb_copy_below_bytes, 4096u)
      << "the default stays within the atomic size";
  EXPECT_EQ(parsed(with_totem("  zcb_copy_below_bytes: 2k\n")).totem.zcb_copy_below_bytes, 2048u);
  EXPECT_EQ(parsed(with_totem("  zcb_copy_below_bytes: 0\n")).totem.zcb_copy_below_bytes, 0u);
  EXPECT_EQ(parsed(with_totem("  zcb_copy_below_bytes: 1M\n")).totem.zcb_copy_below_bytes,
            1u << 20);
  EXPECT_EQ(error_of(with_totem("  max_message_size_bytes: 64k\n  zcb_copy_below_bytes: 128k\n")),
            "ringcast.conf:3:3: zcb_copy_below_bytes (131072) must not exceed "
            "max_message_size_bytes (65536) (a larger send is copied in fragments anyway)");
  EXPECT_NE(error_of(with_totem("  zcb_copy_below_bytes: 512M\n")).find("zcb_copy_below_bytes"),
            std::string::npos);
  EXPECT_NE(error_of(with_totem("  zcb_copy_below_bytes: -1\n")).find("zcb_copy_below_bytes"),
            std::string::npos);
}

TEST(ConfigSystem, StateDirIsResolvedAgainstTheFile) {
  EXPECT_EQ(parsed(kOneNode).system.state_dir, "") << "empty: default_state_dir()";
  const std::string abs = "system {\n  state_dir: /var/lib/rc\n}\n" + std::string(kOneNode);
  EXPECT_EQ(parsed(abs).system.state_dir, "/var/lib/rc");
  Parsed<ClusterConfig> rel =
      parse("system {\n  state_dir: state\n}\n" + std::string(kOneNode), "/etc/rc/ringcast.conf");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->system.state_dir, "/etc/rc/state");
  EXPECT_EQ(error_of("system {\n  state_dir: \"\"\n}\n" + std::string(kOneNode)),
            "ringcast.conf:2:15: state_dir: empty path");
  EXPECT_FALSE(default_state_dir().empty());
}

TEST(ConfigSystem, RunDirIsResolvedAgainstTheFile) {
  EXPECT_EQ(parsed(kOneNode).system.run_dir, "") << "empty: default_run_dir()";
  Parsed<ClusterConfig> rel =
      parse("system {\n  run_dir: run\n  state_dir: /s\n}\n" + std::string(kOneNode),
            "/etc/rc/ringcast.conf");
  ASSERT_TRUE(rel.ok()) << rel.error().message();
  EXPECT_EQ(rel->system.run_dir, "/etc/rc/run");
  EXPECT_EQ(rel->system.state_dir, "/s");
  EXPECT_EQ(error_of("system {\n  run_dir: \"\"\n}\n" + std::string(kOneNode)),
            "ringcast.conf:2:13: run_dir: empty path");
  EXPECT_TRUE(default_run_dir().ends_with("ringcast") ||
              default_run_dir().starts_with("/tmp/ringcast-"))
      << default_run_dir();
}

TEST(ConfigSystem, ModeIsDaemonUnlessTheFileSaysEmbedded) {
  EXPECT_EQ(parsed(kOneNode).system.mode, System::Mode::daemon);
  EXPECT_EQ(parsed(kOneNode).system.mode_line, 0u);
  const ClusterConfig embedded = parsed("system {\n  mode: embedded\n}\n" + std::string(kOneNode));
  EXPECT_EQ(embedded.system.mode, System::Mode::embedded);
  EXPECT_EQ(embedded.system.mode_line, 2u);
  EXPECT_EQ(parsed("system {\n  mode: daemon\n}\n" + std::string(kOneNode)).system.mode,
            System::Mode::daemon);
  EXPECT_EQ(error_of("system {\n  mode: client\n}\n" + std::string(kOneNode)),
            "ringcast.conf:2:9: mode: 'client' is neither daemon nor embedded");
}

TEST(ConfigLogging, StderrByDefaultSyslogOnRequest) {
  const ClusterConfig plain = parsed(kOneNode);
  EXPECT_TRUE(plain.logging.to_stderr);
  EXPECT_FALSE(plain.logging.to_syslog);
  const ClusterConfig c =
      parsed("logging {\n  to_syslog: yes\n  to_stderr: no\n}\n" + std::string(kOneNode));
  EXPECT_TRUE(c.logging.to_syslog);
  EXPECT_FALSE(c.logging.to_stderr);
  EXPECT_EQ(error_of("logging {\n  to_syslog: on\n}\n" + std::string(kOneNode)),
            "ringcast.conf:2:14: to_syslog: 'yes' or 'no', not 'on'");
  EXPECT_EQ(error_of("logging {\n  to_logfile: yes\n}\n" + std::string(kOneNode)),
            "ringcast.conf:2:3: unknown key 'to_logfile' in section 'logging' (expected one of: "
            "to_stderr to_syslog)");
}

TEST(ConfigRuleErrors, LogSizeAndMessageSize) {
  EXPECT_EQ(error_of(with_totem("  log_size_bytes: 100000\n")),
            "ringcast.conf:2:3: log_size_bytes (100000) must be a power of two");
  EXPECT_EQ(error_of(with_totem("  log_size_bytes: 1M\n  max_message_size_bytes: 512k\n")),
            "ringcast.conf:3:3: max_message_size_bytes (524288) must be at most a quarter of "
            "log_size_bytes (1048576)");
}

TEST(ConfigRuleErrors, TokenHoldShorterThanToken) {
  EXPECT_EQ(error_of(with_totem("  token_timeout_ms: 10\n  token_hold_us: 10000\n")),
            "ringcast.conf:3:3: token_hold_us (10000) must be shorter than token_timeout_ms (10)");
}

TEST(ConfigErrorConversion, ToErrorKeepsThePlace) {
  Parsed<ClusterConfig> c = parse(with_totem("  token_timeout_ms: 5\n"), "r.conf");
  ASSERT_FALSE(c.ok());
  const Error e = c.error().to_error();
  EXPECT_EQ(e.code, Errc::invalid_argument);
  EXPECT_EQ(e.call, "r.conf:2:21");
  EXPECT_EQ(e.detail, "token_timeout_ms: '5' is out of range (10 to 300000)");
}

TEST(IpAddressParse, Forms) {
  EXPECT_EQ(IpAddress::parse("192.168.0.1"), IpAddress::v4(192, 168, 0, 1));
  EXPECT_EQ(IpAddress::parse("::ffff:1.2.3.4"), IpAddress::v4(1, 2, 3, 4));
  ASSERT_TRUE(IpAddress::parse("::1"));
  EXPECT_EQ(IpAddress::parse("::1")->to_string(), "::1");
  EXPECT_FALSE(IpAddress::parse(""));
  EXPECT_FALSE(IpAddress::parse("1.2.3"));
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')));
}

}  // namespace
}  // namespace ringcast::config
