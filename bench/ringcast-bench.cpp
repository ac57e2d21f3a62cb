// ringcast-bench: ordered multicast latency and throughput over the verbs
// fabric, with the identical-order check.
//
//   ringcast-bench --members 3 -s 64 -n 20000               # one host, 3 processes
//   ringcast-bench --config ring.conf --node 2 -n 20000     # one member of a multi-host run
//
// Latency mode: the member with the lowest node id is the only sender; it
// keeps one message in flight and measures submit -> its own delivery.
// Throughput mode: every member sends its share (n / members) as fast as
// back-pressure allows; each reports messages/s and MB/s (10^6 B) delivered.
// Every member hashes (seq, sender, payload crc) of all it delivered; with
// --members the parent compares the hashes and says "order verified".
#include <getopt.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "bench_member.hpp"
#include "config/config.hpp"
#include "fabric/verbs/endpoint.hpp"
#include "member_process.hpp"
#include "order_digest.hpp"

namespace rb = ringcast::bench;
using ringcast::runtime::MemberAddress;

namespace {

struct Cli {
  int members = 0;
  std::string config_file;
  std::uint32_t node = 0;
  std::string device;
  int gid_index = -2;  // -2: from RINGCAST_GID_INDEX
  std::uint32_t size_bytes = 64;
  std::uint64_t count = 10000;
  ringcast::ring::Guarantee guarantee = ringcast::ring::Guarantee::agreed;
  rb::Mode mode = rb::Mode::latency;
  bool json = false;
  std::uint16_t base_port = 7405;
  int timeout_s = 600;
  long spin_us = -1;        // -1: the progress thread's default
  long token_hold_us = -1;  // -1: the ring's default
};

[[noreturn]] void usage(const char* why) {
  if (why != nullptr) std::fprintf(stderr, "ringcast-bench: %s\n", why);
  std::fprintf(
      stderr,
      "usage: ringcast-bench (--members N | --config FILE --node ID) [-d DEVICE] [-x GID]\n"
      "         [-s SIZE] [-n COUNT] [--guarantee agreed|safe] [--mode latency|throughput]\n"
      "         [--json] [-p BASE_PORT] [--timeout SECONDS] [--spin-us US]\n"
      "         [--token-hold-us US]\n");
  std::exit(2);
}

std::uint64_t number(const char* text, const char* what) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0') {
    std::fprintf(stderr, "ringcast-bench: %s: not a number: '%s'\n", what, text);
    std::exit(2);
  }
  return v;
}

Cli parse(int argc, char** argv) {
  static const option longs[] = {{"members", 1, nullptr, 'm'},
                                 {"config", 1, nullptr, 'c'},
                                 {"node", 1, nullptr, 'N'},
                                 {"guarantee", 1, nullptr, 'g'},
                                 {"mode", 1, nullptr, 'M'},
                                 {"json", 0, nullptr, 'j'},
                                 {"timeout", 1, nullptr, 't'},
                                 {"spin-us", 1, nullptr, 'S'},
                                 {"token-hold-us", 1, nullptr, 'H'},
                                 {"help", 0, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  Cli c;
  for (int opt; (opt = getopt_long(argc, argv, "d:x:s:n:p:h", longs, nullptr)) != -1;) {
    switch (opt) {
      case 'm':
        c.members = static_cast<int>(number(optarg, "--members"));
        break;
      case 'c':
        c.config_file = optarg;
        break;
      case 'N':
        c.node = static_cast<std::uint32_t>(number(optarg, "--node"));
        break;
      case 'd':
        c.device = optarg;
        break;
      case 'x':
        c.gid_index = static_cast<int>(number(optarg, "-x"));
        break;
      case 's':
        c.size_bytes = static_cast<std::uint32_t>(number(optarg, "-s"));
        break;
      case 'n':
        c.count = number(optarg, "-n");
        break;
      case 'p':
        c.base_port = static_cast<std::uint16_t>(number(optarg, "-p"));
        break;
      case 't':
        c.timeout_s = static_cast<int>(number(optarg, "--timeout"));
        break;
      case 'j':
        c.json = true;
        break;
      case 'H':
        c.token_hold_us = static_cast<long>(number(optarg, "--token-hold-us"));
        break;
      case 'S':
        c.spin_us = static_cast<long>(number(optarg, "--spin-us"));
        break;
      case 'g':
        if (std::string(optarg) == "agreed")
          c.guarantee = ringcast::ring::Guarantee::agreed;
        else if (std::string(optarg) == "safe")
          c.guarantee = ringcast::ring::Guarantee::safe;
        else
          usage("--guarantee is agreed or safe");
        break;
      case 'M':
        if (std::string(optarg) == "latency")
          c.mode = rb::Mode::latency;
        else if (std::string(optarg) == "throughput")
          c.mode = rb::Mode::throughput;
        else
          usage("--mode is latency or throughput");
        break;
      case 'h':
        usage(nullptr);
      default:
        usage("unknown option");
    }
  }
  if (optind != argc) usage("unexpected argument");
  if ((c.members > 0) == !c.config_file.empty())
    usage("give --members N or --config FILE --node ID");
  if (!c.config_file.empty() && c.node == 0) usage("--config needs --node ID");
  if (c.members < 0 || c.members > 64) usage("--members: 1 to 64");
  if (c.size_bytes < rb::kStampBytes) usage("-s: at least 16 bytes (time stamp and index)");
  if (c.count == 0) usage("-n: at least 1");
  return c;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

bool progress_shown() {
  return isatty(STDERR_FILENO) == 1;
}

void progress(const std::string& text) {
  if (progress_shown()) std::fprintf(stderr, "ringcast-bench: %s\n", text.c_str());
}

// The plan every member shares; share() fills in what one member sends.
rb::MemberPlan base_plan(const Cli& c) {
  rb::MemberPlan p;
  p.mode = c.mode;
  p.size_bytes = c.size_bytes;
  p.total_messages = c.count;
  p.guarantee = c.guarantee;
  p.node.device = c.device;
  p.node.gid_index = c.gid_index;
  if (c.token_hold_us >= 0)
    p.node.ring.token_hold_ns = static_cast<std::uint64_t>(c.token_hold_us) * 1000;
  if (c.spin_us >= 0) p.node.progress.spin_ns = static_cast<std::uint64_t>(c.spin_us) * 1000;
  p.node.ring.max_message_bytes =
      std::max<std::uint32_t>(p.node.ring.max_message_bytes, c.size_bytes);
  return p;
}

std::uint64_t share(const rb::MemberPlan& p, std::size_t index) {
  const std::size_t n = p.node.members.size();
  if (p.mode == rb::Mode::latency) return index == 0 ? p.total_messages : 0;
  return p.total_messages / n + (index < p.total_messages % n ? 1 : 0);
}

const char* guarantee_name(ringcast::ring::Guarantee g) {
  return g == ringcast::ring::Guarantee::safe ? "safe" : "agreed";
}

}  // namespace

namespace {

using rb::MemberProcess;
using rb::read_line;
using rb::write_line;

// In a child: finding addresses binds rdma_cm ids, which would open device
// contexts in the parent that every later member would inherit.
std::vector<std::string> discover_addresses(const std::string& device) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string words;
    for (const auto& a : ringcast::fabric::verbs::rdma_ipv4_addresses(device))
      words += a + " ";
    write_line(fds[1], words);
    _exit(0);
  }
  close(fds[1]);
  std::string buffer;
  const std::string line = read_line(fds[0], buffer, 30000);
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

// ------------------------------------------------------------------- report
void print_json(const Cli& c, const std::vector<rb::MemberResult>& rs, bool verified) {
  const rb::LatencySummary* lat = nullptr;
  for (const auto& r : rs)
    if (r.latency.count > 0 && c.mode == rb::Mode::latency) lat = &r.latency;
  std::printf("{\"mode\":\"%s\",\"members\":%zu,\"size\":%u,\"count\":%llu,\"guarantee\":\"%s\"",
              c.mode == rb::Mode::latency ? "latency" : "throughput", rs.size(), c.size_bytes,
              static_cast<unsigned long long>(c.count), guarantee_name(c.guarantee));
  if (lat != nullptr) {
    std::printf(
        ",\"latency\":{\"samples\":%zu,\"min_usec\":%.3f,\"median_usec\":%.3f,"
        "\"avg_usec\":%.3f,\"p99_usec\":%.3f,\"p99_9_usec\":%.3f,\"max_usec\":%.3f}",
        lat->count, lat->min_us, lat->typical_us, lat->avg_us, lat->p99_us, lat->p999_us,
        lat->max_us);
  }
  double min_msgs = 0, min_mb = 0;
  std::printf(",\"per_member\":[");
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const auto& r = rs[i];
    if (i == 0 || r.msgs_per_s() < min_msgs) min_msgs = r.msgs_per_s();
    if (i == 0 || r.mb_per_s() < min_mb) min_mb = r.mb_per_s();
    std::printf(
        "%s{\"node\":%u,\"delivered\":%llu,\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,"
        "\"hash\":\"0x%016llx\",\"fifo_violations\":%llu}",
        i ? "," : "", r.node, static_cast<unsigned long long>(r.delivered), r.msgs_per_s(),
        r.mb_per_s(), static_cast<unsigned long long>(r.hash),
        static_cast<unsigned long long>(r.fifo_violations));
  }
  std::printf("],\"min_msgs_per_s\":%.1f,\"min_mb_per_s\":%.3f,\"order_verified\":%s}\n", min_msgs,
              min_mb, verified ? "true" : "false");
}

void print_table(const Cli& c, const std::vector<rb::MemberResult>& rs) {
  std::printf("ringcast-bench: %zu members, %u B, %llu messages, %s, %s\n", rs.size(), c.size_bytes,
              static_cast<unsigned long long>(c.count), guarantee_name(c.guarantee),
              c.mode == rb::Mode::latency ? "latency (sender: lowest node id)" : "throughput");
  for (const auto& r : rs) {
    if (r.latency.count == 0 || c.mode != rb::Mode::latency) continue;
    std::printf("latency send -> self-delivery, node %u, %zu samples (usec):\n", r.node,
                r.latency.count);
    std::printf("  %10s %10s %10s %10s %10s %10s\n", "min", "median", "avg", "p99", "p99.9", "max");
    std::printf("  %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f\n", r.latency.min_us,
                r.latency.typical_us, r.latency.avg_us, r.latency.p99_us, r.latency.p999_us,
                r.latency.max_us);
  }
  std::printf("  %6s %12s %12s %12s %8s\n", "node", "delivered", "msgs/s", "MB/s", "fifo");
  for (const auto& r : rs) {
    std::printf("  %6u %12llu %12.0f %12.2f %8s\n", r.node,
                static_cast<unsigned long long>(r.delivered), r.msgs_per_s(), r.mb_per_s(),
                r.fifo_violations == 0 ? "ok" : "BROKEN");
  }
}

// true when every member completed, delivered the same and kept FIFO.
bool verify(const std::vector<rb::MemberResult>& rs, std::uint64_t count) {
  bool ok = true;
  for (const auto& r : rs) {
    if (!r.error.empty()) {
      std::fprintf(stderr, "ringcast-bench: node %u failed: %s\n", r.node, r.error.c_str());
      ok = false;
    } else if (r.fifo_violations != 0) {
      std::fprintf(stderr, "ringcast-bench: node %u saw %llu per-sender FIFO violations\n", r.node,
                   static_cast<unsigned long long>(r.fifo_violations));
      ok = false;
    } else if (r.hash != rs.front().hash || r.delivered != count) {
      std::fprintf(stderr,
                   "ringcast-bench: ORDER MISMATCH: node %u delivered %llu, hash 0x%016llx; "
                   "node %u: %llu, hash 0x%016llx\n",
                   r.node, static_cast<unsigned long long>(r.delivered),
                   static_cast<unsigned long long>(r.hash), rs.front().node,
                   static_cast<unsigned long long>(rs.front().delivered),
                   static_cast<unsigned long long>(rs.front().hash));
      ok = false;
    }
  }
  return ok;
}

// ------------------------------------------------------------------ runs
// Collects one line from each child (a "result" may come early: a failure).
bool gather(std::vector<MemberProcess>& kids, std::vector<std::string>& lines, int timeout_s) {
  bool all = true;
  for (std::size_t i = 0; i < kids.size(); ++i) {
    if (!lines[i].empty()) continue;
    lines[i] = kids[i].read_line(timeout_s * 1000);
    if (lines[i].empty()) all = false;
  }
  return all;
}

int run_local(const Cli& c) {
  rb::MemberPlan plan = base_plan(c);
  const auto devices = ringcast::fabric::verbs::rdma_device_names();
  if (plan.node.device.empty()) plan.node.device = env_or("RINGCAST_RDMA_DEVICE", "");
  if (plan.node.device.empty() && !devices.empty()) plan.node.device = devices.front();
  if (plan.node.device.empty()) {
    std::fprintf(stderr, "ringcast-bench: no RDMA device found\n");
    return 1;
  }
  std::vector<std::string> addrs;
  std::istringstream env_addrs(env_or("RINGCAST_RDMA_ADDRS", ""));
  for (std::string w; env_addrs >> w;)
    addrs.push_back(w);
  if (addrs.empty()) addrs = discover_addresses(plan.node.device);
  if (addrs.size() < static_cast<std::size_t>(c.members)) {
    std::fprintf(stderr,
                 "ringcast-bench: %d members need %d addresses on %s, found %zu "
                 "(set RINGCAST_RDMA_ADDRS)\n",
                 c.members, c.members, plan.node.device.c_str(), addrs.size());
    return 1;
  }
  for (int i = 0; i < c.members; ++i) {
    plan.node.members.push_back(MemberAddress{static_cast<std::uint32_t>(i + 1),
                                              addrs[static_cast<std::size_t>(i)],
                                              static_cast<std::uint16_t>(c.base_port + i)});
  }
  std::vector<MemberProcess> kids;
  for (int i = 0; i < c.members; ++i) {
    rb::MemberPlan mine = plan;
    mine.node.me = static_cast<std::uint32_t>(i + 1);
    mine.my_messages = share(plan, static_cast<std::size_t>(i));
    kids.push_back(rb::spawn_member(mine, /*wait_for_go=*/true));
  }
  progress("started " + std::to_string(c.members) + " members on " + plan.node.device);
  std::vector<std::string> ready(kids.size());
  bool up = gather(kids, ready, 120);
  for (const auto& line : ready)
    up = up && line == "ready";
  if (up)
    for (auto& k : kids)
      write_line(k.to_child, "go");
  progress(up ? "ring up, running" : "set-up failed");
  std::vector<std::string> lines(kids.size());
  for (std::size_t i = 0; i < kids.size(); ++i)
    if (ready[i].rfind("result", 0) == 0) lines[i] = ready[i];
  if (up) gather(kids, lines, c.timeout_s);
  rb::finish_members(kids, 10000);
  std::vector<rb::MemberResult> results(kids.size());
  for (std::size_t i = 0; i < kids.size(); ++i) {
    results[i].node = static_cast<std::uint32_t>(i + 1);
    if (!rb::decode(lines[i], &results[i]))
      results[i].error = lines[i].empty() ? "no report (set-up failed or timed out)" : lines[i];
  }
  const bool verified = verify(results, c.count);
  if (c.json)
    print_json(c, results, verified);
  else
    print_table(c, results);
  if (!verified) {
    std::printf("order NOT verified\n");
    return 1;
  }
  std::printf("order verified: %llu messages, hash 0x%016llx\n",
              static_cast<unsigned long long>(results.front().delivered),
              static_cast<unsigned long long>(results.front().hash));
  return 0;
}

// A member of a multi-host run: the config file names every node.
int run_config_member(const Cli& c) {
  auto loaded = ringcast::config::load(c.config_file);
  if (!loaded.ok()) {
    std::fprintf(stderr, "ringcast-bench: %s\n", loaded.error().message().c_str());
    return 1;
  }
  const auto& cfg = *loaded;
  rb::MemberPlan plan = base_plan(c);
  std::vector<const ringcast::config::Node*> nodes;
  for (const auto& n : cfg.nodes)
    nodes.push_back(&n);
  std::sort(nodes.begin(), nodes.end(), [](auto* a, auto* b) { return a->nodeid < b->nodeid; });
  std::size_t my_index = nodes.size();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    plan.node.members.push_back({nodes[i]->nodeid, nodes[i]->address.to_string(), nodes[i]->port});
    if (nodes[i]->nodeid == c.node) my_index = i;
  }
  if (my_index == nodes.size()) {
    std::fprintf(stderr, "ringcast-bench: node %u is not in %s\n", c.node, c.config_file.c_str());
    return 1;
  }
  const auto& me = *nodes[my_index];
  if (plan.node.device.empty()) plan.node.device = !me.device.empty() ? me.device : cfg.rdma.device;
  if (c.gid_index < 0 && (me.gid_index || cfg.rdma.gid_index))
    plan.node.gid_index = me.gid_index ? *me.gid_index : *cfg.rdma.gid_index;
  plan.node.me = c.node;
  plan.my_messages = share(plan, my_index);
  rb::MemberHooks hooks;
  // No parent to say "exit": stay in the ring a little, for the slower members.
  hooks.report_then_wait_exit = [](const rb::MemberResult&) { sleep(3); };
  std::vector<rb::MemberResult> results{rb::run_member(plan, hooks)};
  const bool ok = verify(results, c.count);
  if (c.json)
    print_json(c, results, ok);
  else
    print_table(c, results);
  std::printf("%s: %llu messages, hash 0x%016llx (compare with the other nodes)\n",
              ok ? "delivered" : "FAILED",
              static_cast<unsigned long long>(results.front().delivered),
              static_cast<unsigned long long>(results.front().hash));
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli = parse(argc, argv);
  if (cli.gid_index == -2) cli.gid_index = std::atoi(env_or("RINGCAST_GID_INDEX", "-1").c_str());
  return cli.members > 0 ? run_local(cli) : run_config_member(cli);
}
