// Which node of the nodelist is this process: RINGCAST_NODE_ID when it is
// set, otherwise the one node whose address belongs to this host.
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "config/cluster_config.hpp"

namespace ringcast::config {
namespace {

ConfigError about(const ClusterConfig& config, std::string what) {
  return ConfigError{config.file, 0, 0, std::move(what), 0};
}

std::optional<std::uint32_t> parse_node_id(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value == 0 || value > 0xffff'ffffu) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

std::string node_ids(const ClusterConfig& config) {
  std::string out;
  for (const ClusterNode& node : config.nodes) {
    out += (out.empty() ? "" : ", ") + std::to_string(node.nodeid);
  }
  return out;
}

Parsed<std::size_t> by_node_id(const ClusterConfig& config, std::string_view text,
                               std::string_view source) {
  const std::string name(source);
  const std::optional<std::uint32_t> id = parse_node_id(text);
  if (!id) {
    return about(config, name + quoted(text) + " is not a node id (1 to 4294967295)");
  }
  for (std::size_t i = 0; i < config.nodes.size(); ++i) {
    if (config.nodes[i].nodeid == *id) return i;
  }
  return about(config, name + std::to_string(*id) +
                           " is not in the nodelist (nodes: " + node_ids(config) + ")");
}

std::string listed(std::span<const IpAddress> addresses) {
  constexpr std::size_t kShown = 8;
  std::string out;
  for (std::size_t i = 0; i < addresses.size() && i < kShown; ++i) {
    out += (i == 0 ? "" : ", ") + addresses[i].to_string();
  }
  if (addresses.size() > kShown) out += ", ...";
  return out.empty() ? "none" : out;
}

Parsed<std::size_t> by_address(const ClusterConfig& config, std::span<const IpAddress> host) {
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < config.nodes.size(); ++i) {
    const ClusterNode& node = config.nodes[i];
    if (std::find(host.begin(), host.end(), node.address) == host.end()) continue;
    if (found) {
      const ClusterNode& first = config.nodes[*found];
      return about(config, "nodes " + std::to_string(first.nodeid) + " (line " +
                               std::to_string(first.line) + ") and " + std::to_string(node.nodeid) +
                               " (line " + std::to_string(node.line) +
                               ") both have an address of this host; set " +
                               std::string(kNodeIdEnv) + " to choose");
    }
    found = i;
  }
  if (found) return *found;
  return about(config, "no node of the nodelist has an address of this host (" + listed(host) +
                           "); set " + std::string(kNodeIdEnv) + " or add this host");
}

std::optional<IpAddress> from_sockaddr(const sockaddr* sa) {
  IpAddress address;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(address.bytes.data(), &in->sin_addr, 4);
    return address;
  }
  if (sa->sa_family != AF_INET6) return std::nullopt;
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  const std::uint8_t* b = in6->sin6_addr.s6_addr;
  constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMappedPrefix, sizeof kMappedPrefix) == 0) {  // ::ffff:a.b.c.d
    std::memcpy(address.bytes.data(), b + 12, 4);
    return address;
  }
  address.family = IpAddress::Family::v6;
  std::memcpy(address.bytes.data(), b, 16);
  return address;
}

}  // namespace

Parsed<std::size_t> find_local_node(const ClusterConfig& config, std::string_view node_id_env,
                                    std::span<const IpAddress> host_addresses,
                                    std::string_view node_id_source) {
  if (!node_id_env.empty()) return by_node_id(config, node_id_env, node_id_source);
  return by_address(config, host_addresses);
}

Parsed<std::vector<IpAddress>> host_addresses() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return ConfigError{"", 0, 0, "cannot list this host's addresses (getifaddrs)", errno};
  }
  const std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> owner(list, ::freeifaddrs);
  std::vector<IpAddress> addresses;
  for (const ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr) continue;
    if (std::optional<IpAddress> address = from_sockaddr(it->ifa_addr)) {
      addresses.push_back(*address);
    }
  }
  return addresses;
}

namespace {

Parsed<LocalConfig> locate(Parsed<ClusterConfig> config, std::string_view node_id,
                           std::string_view node_id_source) {
  if (!config) return config.error();
  std::vector<IpAddress> host;
  if (node_id.empty()) {
    Parsed<std::vector<IpAddress>> listed_addresses = host_addresses();
    if (!listed_addresses) return listed_addresses.error();
    host = std::move(*listed_addresses);
  }
  Parsed<std::size_t> index = find_local_node(*config, node_id, host, node_id_source);
  if (!index) return index.error();
  return LocalConfig{std::move(*config), *index};
}

std::string node_id_from_environment() {
  const char* env = std::getenv(std::string(kNodeIdEnv).c_str());
  return env != nullptr ? env : "";
}

}  // namespace

Parsed<LocalConfig> load_local(const std::string& path, std::string_view node_id,
                               std::string_view node_id_source) {
  return locate(load(path), node_id, node_id_source);
}

Parsed<LocalConfig> load_from_environment() {
  return load_local(path_from_environment(), node_id_from_environment(),
                    std::string(kNodeIdEnv) + "=");
}

Parsed<LocalConfig> locate_from_environment() {
  return locate(load_unkeyed(path_from_environment()), node_id_from_environment(),
                std::string(kNodeIdEnv) + "=");
}

}  // namespace ringcast::config
