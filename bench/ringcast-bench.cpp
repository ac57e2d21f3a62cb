// ringcast-bench: ordered multicast latency and throughput over the verbs
// fabric, with the identical-order check.
//
//   ringcast-bench --members 3 -s 64 -n 20000               # one host, 3 processes
//   ringcast-bench --config ring.conf --node 2 -n 20000     # one member of a multi-host run
//   ringcast-bench --matrix [--json]                         # members x sizes x guarantees x
//                                                            # modes x copy/zero-copy
//
// Latency mode: the member with the lowest node id is the only sender; it
// keeps one message in flight and measures submit -> its own delivery.
// Throughput mode: every member sends its share (n / members) as fast as
// back-pressure allows; each reports messages/s and MB/s (10^6 B) delivered.
// Every member hashes (seq, sender, payload crc) of all it delivered; with
// --members the parent compares the hashes and says "order verified". Of a
// payload over 512 bytes only the length and both 256-byte ends are hashed
// (OrderDigest::add_sampled): checking every byte would cost more than the
// write it measures; --full-check hashes every byte (and the sender fills
// every byte of every message), as the rdma tests do.
// --zero-copy sends from a registered buffer (the ring's zero-copy path)
// instead of having each payload copied into the ring's send buffer.
// --max-messages and --window set the ring's flow control (messages per
// token visit and per rotation, Totem's max_messages / window_size) for
// tuning runs; --spin-us and --token-hold-us its idle behaviour;
// --relay-min-bytes the smallest visit relayed along the ring (0: never),
// --relay-min-members the smallest ring that relays (3 relays in every ring
// that can).
// --matrix runs every combination (matrix.hpp), one ring per member count;
// --members-list, --sizes, --guarantees, --modes, --sends narrow it, -n or
// --scale change its per-case counts.
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
#include "bench_report.hpp"
#include "config/cluster_config.hpp"
#include "fabric/auth/auth_key.hpp"
#include "fabric/verbs/endpoint.hpp"
#include "matrix.hpp"
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
  long spin_us = -1;            // -1: the progress thread's default
  long token_hold_us = -1;      // -1: the ring's default
  long max_messages = -1;       // -1: the ring's default (max_messages_per_visit)
  long window = -1;             // -1: the ring's default (window_messages)
  long relay_min_bytes = -1;    // -1: the ring's default (relay_min_batch_bytes)
  long relay_min_members = -1;  // -1: the ring's default
  bool zero_copy = false;
  bool full_check = false;  // hash every payload byte (and write every byte per send)
  bool matrix = false;
  bool count_given = false;
  bool progress_lines = false;
  rb::MatrixSpec spec;
};

[[noreturn]] void usage(const char* why) {
  if (why != nullptr) std::fprintf(stderr, "ringcast-bench: %s\n", why);
  std::fprintf(
      stderr,
      "usage: ringcast-bench (--members N | --config FILE --node ID) [-d DEVICE] [-x GID]\n"
      "         [-s SIZE] [-n COUNT] [--guarantee agreed|safe] [--mode latency|throughput]\n"
      "         [--json] [-p BASE_PORT] [--timeout SECONDS] [--spin-us US]\n"
      "         [--token-hold-us US] [--max-messages N] [--window N] [--zero-copy]\n"
      "         [--full-check] [--relay-min-bytes B] [--relay-min-members N]\n"
      "       ringcast-bench --matrix [--members-list 2,3,5] [--sizes 64,1024,...]\n"
      "         [--guarantees agreed,safe] [--modes latency,throughput] [--sends copy,zero-copy]\n"
      "         [-n COUNT | --scale FACTOR] [--json] [--progress] [-d DEVICE] [-x GID] ...\n");
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

rb::Mode mode_of(const std::string& w) {
  if (w == "latency") return rb::Mode::latency;
  if (w != "throughput") usage("a mode is latency or throughput");
  return rb::Mode::throughput;
}

ringcast::ring::Guarantee guarantee_of(const std::string& w) {
  if (w == "agreed") return ringcast::ring::Guarantee::agreed;
  if (w != "safe") usage("a guarantee is agreed or safe");
  return ringcast::ring::Guarantee::safe;
}

bool zero_copy_of(const std::string& w) {
  if (w == "zero-copy") return true;
  if (w != "copy") usage("a send kind is copy or zero-copy");
  return false;
}

// "a,b,c" -> {of(a), of(b), of(c)}
template <class T, class Of>
std::vector<T> list_of(const char* text, Of&& of) {
  std::vector<T> out;
  std::istringstream in(text);
  for (std::string w; std::getline(in, w, ',');)
    if (!w.empty()) out.push_back(of(w));
  if (out.empty()) usage("an empty list");
  return out;
}

enum LongOnly : int {
  kMatrix = 1000,
  kMembersList,
  kSizes,
  kGuarantees,
  kModes,
  kSends,
  kScale,
  kZeroCopy,
  kProgress,
  kFullCheck,
  kMaxMessages,
  kWindow,
  kRelayMinBytes,
  kRelayMinMembers
};

// The --matrix options; false when `opt` is not one of them.
bool parse_matrix_option(int opt, Cli& c) {
  switch (opt) {
    case kMatrix:
      c.matrix = true;
      return true;
    case kMembersList:
      c.spec.members = list_of<std::size_t>(
          optarg, [](const std::string& w) { return number(w.c_str(), "--members-list"); });
      return true;
    case kSizes:
      c.spec.sizes = list_of<std::uint32_t>(optarg, [](const std::string& w) {
        return static_cast<std::uint32_t>(number(w.c_str(), "--sizes"));
      });
      return true;
    case kGuarantees:
      c.spec.guarantees = list_of<ringcast::ring::Guarantee>(optarg, guarantee_of);
      return true;
    case kModes:
      c.spec.modes = list_of<rb::Mode>(optarg, mode_of);
      return true;
    case kSends:
      c.spec.zero_copy = list_of<bool>(optarg, zero_copy_of);
      return true;
    case kScale:
      c.spec.scale = std::atof(optarg);
      if (!(c.spec.scale > 0)) usage("--scale: a positive factor");
      return true;
    case kProgress:
      c.progress_lines = true;
      return true;
    default:
      return false;
  }
}

void parse_option(int opt, Cli& c) {
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
      c.count_given = true;
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
      c.guarantee = guarantee_of(optarg);
      break;
    case 'M':
      c.mode = mode_of(optarg);
      break;
    case kZeroCopy:
      c.zero_copy = true;
      break;
    case kFullCheck:
      c.full_check = true;
      break;
    case kMaxMessages:
      c.max_messages = static_cast<long>(number(optarg, "--max-messages"));
      break;
    case kWindow:
      c.window = static_cast<long>(number(optarg, "--window"));
      break;
    case kRelayMinBytes:
      c.relay_min_bytes = static_cast<long>(number(optarg, "--relay-min-bytes"));
      break;
    case kRelayMinMembers: {
      const std::uint64_t n = number(optarg, "--relay-min-members");
      if (n < 3 || n > 64) usage("--relay-min-members: 3 to 64");
      c.relay_min_members = static_cast<long>(n);
      break;
    }
    case 'h':
      usage(nullptr);
    default:
      if (!parse_matrix_option(opt, c)) usage("unknown option");
  }
}

void check(const Cli& c) {
  if (c.matrix) {
    if (c.members != 0 || !c.config_file.empty())
      usage("--matrix starts its own members: no --members, no --config");
    for (std::size_t m : c.spec.members)
      if (m < 1 || m > 64) usage("--members-list: 1 to 64");
    for (std::uint32_t s : c.spec.sizes)
      if (s < rb::kStampBytes) usage("--sizes: at least 16 bytes (time stamp and index)");
    return;
  }
  if ((c.members > 0) == !c.config_file.empty())
    usage("give --members N, --config FILE --node ID, or --matrix");
  if (!c.config_file.empty() && c.node == 0) usage("--config needs --node ID");
  if (c.members < 0 || c.members > 64) usage("--members: 1 to 64");
  if (c.size_bytes < rb::kStampBytes) usage("-s: at least 16 bytes (time stamp and index)");
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
                                 {"zero-copy", 0, nullptr, kZeroCopy},
                                 {"matrix", 0, nullptr, kMatrix},
                                 {"members-list", 1, nullptr, kMembersList},
                                 {"sizes", 1, nullptr, kSizes},
                                 {"guarantees", 1, nullptr, kGuarantees},
                                 {"modes", 1, nullptr, kModes},
                                 {"sends", 1, nullptr, kSends},
                                 {"scale", 1, nullptr, kScale},
                                 {"progress", 0, nullptr, kProgress},
                                 {"full-check", 0, nullptr, kFullCheck},
                                 {"max-messages", 1, nullptr, kMaxMessages},
                                 {"window", 1, nullptr, kWindow},
                                 {"relay-min-bytes", 1, nullptr, kRelayMinBytes},
                                 {"relay-min-members", 1, nullptr, kRelayMinMembers},
                                 {"help", 0, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  Cli c;
  for (int opt; (opt = getopt_long(argc, argv, "d:x:s:n:p:h", longs, nullptr)) != -1;)
    parse_option(opt, c);
  if (optind != argc) usage("unexpected argument");
  if (c.count == 0) usage("-n: at least 1");
  check(c);
  if (c.count_given) c.spec.count = c.count;
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
  p.zero_copy = c.zero_copy;
  p.full_payload_check = c.full_check;
  p.size_bytes = c.size_bytes;
  p.total_messages = c.count;
  p.guarantee = c.guarantee;
  p.node.device = c.device;
  p.node.gid_index = c.gid_index;
  if (c.token_hold_us >= 0)
    p.node.ring.token_hold_ns = static_cast<std::uint64_t>(c.token_hold_us) * 1000;
  if (c.spin_us >= 0) p.node.progress.spin_ns = static_cast<std::uint64_t>(c.spin_us) * 1000;
  if (c.max_messages >= 0)
    p.node.ring.max_messages_per_visit = static_cast<std::uint32_t>(c.max_messages);
  if (c.window >= 0) p.node.ring.window_messages = static_cast<std::uint32_t>(c.window);
  if (c.relay_min_bytes >= 0)
    p.node.ring.relay_min_batch_bytes = static_cast<std::uint64_t>(c.relay_min_bytes);
  if (c.relay_min_members >= 0)
    p.node.ring.relay_min_members = static_cast<std::uint32_t>(c.relay_min_members);
  p.node.ring.max_message_bytes =
      std::max<std::uint32_t>(p.node.ring.max_message_bytes, c.size_bytes);
  return p;
}

std::uint64_t share(const rb::MemberPlan& p, std::size_t index) {
  const std::size_t n = p.node.members.size();
  if (p.mode == rb::Mode::latency) return index == 0 ? p.total_messages : 0;
  return p.total_messages / n + (index < p.total_messages % n ? 1 : 0);
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

rb::CaseInfo case_of(const Cli& c, std::size_t members) {
  return {c.mode, members, c.size_bytes, c.count, c.guarantee, c.zero_copy};
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

// The RDMA device and one local address per member (RINGCAST_RDMA_ADDRS, or
// every IPv4 address of the device); false, said on stderr, when short.
bool local_ring(std::size_t members, std::string* device, std::vector<std::string>* addrs) {
  const auto devices = ringcast::fabric::verbs::rdma_device_names();
  if (device->empty()) *device = env_or("RINGCAST_RDMA_DEVICE", "");
  if (device->empty() && !devices.empty()) *device = devices.front();
  if (device->empty()) {
    std::fprintf(stderr, "ringcast-bench: no RDMA device found\n");
    return false;
  }
  std::istringstream env_addrs(env_or("RINGCAST_RDMA_ADDRS", ""));
  for (std::string w; env_addrs >> w;)
    addrs->push_back(w);
  if (addrs->empty()) *addrs = discover_addresses(*device);
  if (addrs->size() < members) {
    std::fprintf(stderr,
                 "ringcast-bench: %zu members need %zu addresses on %s, found %zu "
                 "(set RINGCAST_RDMA_ADDRS)\n",
                 members, members, device->c_str(), addrs->size());
    return false;
  }
  return true;
}

int run_matrix_local(const Cli& c) {
  rb::MatrixRun run;
  run.node = base_plan(c).node;
  for (std::uint32_t size : c.spec.sizes)
    run.node.ring.max_message_bytes = std::max(run.node.ring.max_message_bytes, size);
  const std::size_t most = *std::max_element(c.spec.members.begin(), c.spec.members.end());
  if (!local_ring(most, &run.node.device, &run.addrs)) return 1;
  run.base_port = c.base_port;
  run.timeout_s = c.timeout_s;
  run.json = c.json;
  run.progress_lines = c.progress_lines;
  run.full_payload_check = c.full_check;
  return rb::run_matrix(c.spec, run);
}

int run_local(const Cli& c) {
  rb::MemberPlan plan = base_plan(c);
  std::vector<std::string> addrs;
  if (!local_ring(static_cast<std::size_t>(c.members), &plan.node.device, &addrs)) return 1;
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
    mine.sample_remote = true;  // every member on this host: one clock
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
  const bool verified = rb::verify(results, c.count);
  if (c.json)
    rb::print_json(case_of(c, results.size()), results, verified);
  else
    rb::print_table(case_of(c, results.size()), results);
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
  std::vector<const ringcast::config::ClusterNode*> nodes;
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
  // The file's cluster key authenticates this member's links (a member with
  // another key is refused by the others, and this one fails with the reason).
  if (!cfg.auth.key.empty()) {
    auto key = ringcast::fabric::auth::AuthKey::derive(cfg.auth.key.secret_bytes());
    if (!key.ok()) {
      std::fprintf(stderr, "ringcast-bench: %s\n", key.error().message().c_str());
      return 1;
    }
    plan.node.key = std::move(*key);
  }
  plan.my_messages = share(plan, my_index);
  rb::MemberHooks hooks;
  // No parent to say "exit": stay in the ring a little, for the slower members.
  hooks.report_then_wait_exit = [](const rb::MemberResult&) { sleep(3); };
  std::vector<rb::MemberResult> results{rb::run_member(plan, hooks)};
  const bool ok = rb::verify(results, c.count);
  if (c.json)
    rb::print_json(case_of(c, nodes.size()), results, ok);
  else
    rb::print_table(case_of(c, nodes.size()), results);
  std::printf("%s: %llu messages, hash 0x%016llx (compare with the other nodes)\n",
              ok ? "delivered" : "FAILED",
              static_cast<unsigned long long>(results.front().delivered),
              static_cast<unsigned long long>(results.front().hash));
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli = parse(argc, argv);
  if (auto s = ringcast::ring::validate(base_plan(cli).node.ring); !s.ok())
    usage(s.error().message().c_str());
  if (cli.gid_index == -2) cli.gid_index = std::atoi(env_or("RINGCAST_GID_INDEX", "-1").c_str());
  if (cli.matrix) return run_matrix_local(cli);
  return cli.members > 0 ? run_local(cli) : run_config_member(cli);
}
