#include "daemon/cfgtool.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "config/cluster_config.hpp"
#include "daemon/options.hpp"

namespace ringcast::daemon {

namespace {

constexpr const char* kUsage =
    "usage: ringcast-cfgtool [-s] [-c FILE] [-h]\n"
    "  -s       the ring's status: the local node, the ring, each node's link,\n"
    "           the counters (the default)\n"
    "  -c FILE  the cluster file (default: $RINGCAST_CONFIG, then\n"
    "           /etc/ringcast/ringcast.conf); the node: $RINGCAST_NODE_ID, then\n"
    "           the node whose address is this host's\n"
    "  -h       this help\n"
    "exit status: 0 the node's ringcastd is in a ring, 1 none runs (or not in a\n"
    "ring yet), 2 bad command line, 3 bad cluster file\n";

std::string link_state(const NodeStatus& s, std::uint32_t node) {
  if (node == s.node) return "localhost";
  for (const auto& [n, up] : s.links)
    if (n == node) return up ? "connected" : "disconnected";
  return "unknown";
}

std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(kMaxStatusFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

// The cluster file and the node as ringcastd finds them (without -n), then
// the status file of that node's daemon.
int status_of(const std::string& config_path) {
  const char* env = std::getenv(std::string(config::kNodeIdEnv).c_str());
  auto local =
      config::load_local(config_path.empty() ? config::path_from_environment() : config_path,
                         env != nullptr ? env : "", std::string(config::kNodeIdEnv) + "=");
  if (!local.ok()) {
    std::fprintf(stderr, "ringcast-cfgtool: %s\n", local.error().message().c_str());
    return kExitConfig;
  }
  const std::uint32_t node = local->local().nodeid;
  const std::string& dir = local->config.system.run_dir;
  const std::string path = status_path(dir.empty() ? config::default_run_dir() : dir, node);
  const std::optional<std::string> text = read_small_file(path);
  const std::optional<NodeStatus> s = text ? parse_status(*text) : std::nullopt;
  if (!s || !writer_runs(*s)) {
    std::fprintf(
        stderr,
        "ringcast-cfgtool: no ringcastd of node %u is in a ring (%s %s); start it "
        "with systemctl start ringcastd or ringcastd -n %u\n",
        node, path.c_str(),
        !text ? "does not exist" : (!s ? "is unreadable" : "was left by a daemon that is gone"),
        node);
    return kExitFailed;
  }
  std::fputs(cfgtool_text(*s).c_str(), stdout);
  return kExitOk;
}

}  // namespace

std::string cfgtool_text(const NodeStatus& s) {
  std::ostringstream out;
  out << "Local node ID " << s.node << ", transport rdma\n";
  out << "Ring ID " << s.ring_representative << ":" << s.ring_seq << ", "
      << (s.operational ? "operational" : "forming a new ring") << ", members";
  for (std::uint32_t m : s.members)
    out << " " << m;
  out << "\nLINK ID 0 rdma\n\taddr\t= " << s.address << "\n\tstatus:\n";
  std::vector<std::uint32_t> nodes{s.node};
  for (const auto& [n, up] : s.links)
    nodes.push_back(n);
  std::sort(nodes.begin(), nodes.end());
  for (std::uint32_t n : nodes) {
    char line[64];
    std::snprintf(line, sizeof line, "\t\tnodeid: %2u:\t", n);
    out << line << link_state(s, n) << "\n";
  }
  out << "Counters:\n";
  for (const auto& [name, value] : s.counters)
    out << "\t" << name << " = " << value << "\n";
  return out.str();
}

bool writer_runs(const NodeStatus& s) {
  if (s.pid <= 0) return false;
  return ::kill(static_cast<pid_t>(s.pid), 0) == 0 || errno == EPERM;
}

int cfgtool_main(std::span<const std::string_view> args) {
  std::string config_path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-h") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
    if (args[i] == "-s") continue;
    if (args[i] == "-c" && i + 1 < args.size() && !args[i + 1].empty()) {
      config_path = std::string(args[++i]);
      continue;
    }
    std::fprintf(stderr, "ringcast-cfgtool: unexpected argument '%.*s'\n%s",
                 static_cast<int>(args[i].size()), args[i].data(), kUsage);
    return kExitUsage;
  }
  return status_of(config_path);
}

}  // namespace ringcast::daemon
