#include "daemon/node_status.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>

#include "base/unique_fd.hpp"

namespace ringcast::daemon {

namespace {

constexpr std::size_t kMaxListed = 4096;  // members, links, counters: far above 128 nodes

std::string numbers(const std::vector<std::uint32_t>& v) {
  std::string s;
  for (std::uint32_t n : v)
    s += " " + std::to_string(n);
  return s;
}

template <class T>
bool number(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc{} && end == text.data() + text.size();
}

// The words of one line, split at spaces.
std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    const std::size_t space = line.find(' ');
    if (space != 0) out.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return out;
}

bool read_members(const std::vector<std::string_view>& w, NodeStatus& s) {
  for (std::size_t i = 1; i < w.size(); ++i) {
    std::uint32_t n = 0;
    if (!number(w[i], n) || s.members.size() >= kMaxListed) return false;
    s.members.push_back(n);
  }
  return true;
}

bool read_line(const std::vector<std::string_view>& w, NodeStatus& s) {
  const std::string_view key = w[0];
  if (key == "members") return read_members(w, s);
  if (key == "address" && w.size() == 2) {
    s.address = std::string(w[1]);
    return true;
  }
  if (key == "node" && w.size() == 2) return number(w[1], s.node);
  if (key == "pid" && w.size() == 2) return number(w[1], s.pid);
  if (key == "operational" && w.size() == 2) {
    s.operational = w[1] == "1";
    return w[1] == "1" || w[1] == "0";
  }
  if (key == "ring" && w.size() == 3)
    return number(w[1], s.ring_representative) && number(w[2], s.ring_seq);
  if (key == "link" && w.size() == 3 && s.links.size() < kMaxListed) {
    std::uint32_t node = 0;
    if (!number(w[1], node) || (w[2] != "0" && w[2] != "1")) return false;
    s.links.emplace_back(node, w[2] == "1");
    return true;
  }
  if (key == "counter" && w.size() == 3 && s.counters.size() < kMaxListed) {
    std::uint64_t value = 0;
    if (!number(w[2], value)) return false;
    s.counters.emplace_back(std::string(w[1]), value);
    return true;
  }
  return false;
}

}  // namespace

std::string status_path(const std::string& run_dir, std::uint32_t node) {
  return run_dir + "/ringcastd-" + std::to_string(node) + ".status";
}

void fill_ring(NodeStatus& s, const StatusSnapshot& snapshot,
               const std::vector<std::uint32_t>& others, const std::vector<std::uint32_t>& linked) {
  s.ring_representative = snapshot.ring_representative;
  s.ring_seq = snapshot.ring_seq;
  s.operational = snapshot.operational;
  s.members = snapshot.members;
  s.links.clear();
  for (std::uint32_t n : others)
    s.links.emplace_back(n, std::find(linked.begin(), linked.end(), n) != linked.end());
  s.counters = {{"tokens_received", snapshot.tokens_received},
                {"tokens_dropped", snapshot.tokens_dropped},
                {"records_delivered", snapshot.records_delivered},
                {"records_dropped", snapshot.records_dropped},
                {"retransmissions", snapshot.retransmissions},
                {"reformations", snapshot.reformations},
                {"control_dropped", snapshot.control_dropped},
                {"writes_wrong_link", snapshot.writes_wrong_link},
                {"record_stalls", snapshot.record_stalls},
                {"records_repaired", snapshot.records_repaired}};
}

std::string to_text(const NodeStatus& s) {
  std::string t = "node " + std::to_string(s.node) + "\npid " + std::to_string(s.pid) + "\n";
  if (!s.address.empty()) t += "address " + s.address + "\n";
  t += "ring " + std::to_string(s.ring_representative) + " " + std::to_string(s.ring_seq) + "\n";
  t += "operational " + std::string(s.operational ? "1" : "0") + "\n";
  t += "members" + numbers(s.members) + "\n";
  for (const auto& [node, up] : s.links)
    t += "link " + std::to_string(node) + (up ? " 1\n" : " 0\n");
  for (const auto& [name, value] : s.counters)
    t += "counter " + name + " " + std::to_string(value) + "\n";
  return t;
}

std::optional<NodeStatus> parse_status(std::string_view text) {
  if (text.size() > kMaxStatusFileBytes) return std::nullopt;
  NodeStatus s;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::vector<std::string_view> w = words(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
    if (w.empty()) continue;
    if (!read_line(w, s)) return std::nullopt;
  }
  if (s.node == 0 || s.pid <= 0) return std::nullopt;
  return s;
}

Status replace_file(const std::string& path, std::string_view text) {
  const std::string aside = path + ".tmp";
  {
    const UniqueFd fd(::open(aside.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) return system_error("open", errno, aside);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      return system_error("write", errno, aside);
  }
  if (::rename(aside.c_str(), path.c_str()) != 0) return system_error("rename", errno, path);
  return {};
}

}  // namespace ringcast::daemon
