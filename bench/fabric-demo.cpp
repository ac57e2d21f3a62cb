// ringcast-fabric-demo: RDMA WRITE WITH IMMEDIATE ping-pong over the verbs
// fabric, reporting one-way latency the way perftest's ib_write_lat does.
//
//   server:  ringcast-fabric-demo -d rxe0 -x 1 [-b 10.99.0.1] [-p 18515]
//   client:  ringcast-fabric-demo -d rxe0 -x 1 [-b 10.99.0.3] 10.99.0.1
//   both:    ringcast-fabric-demo -d rxe0 --both   (two processes, two local addresses)
//
// Each iteration the client writes -s bytes with an immediate into the
// server's region and waits for the server's write back; one-way latency is
// half of that round trip. Writes are unsignaled (the fabric signals one per
// half send queue on its own), small ones inline: ib_write_lat's recipe, plus
// the immediate and the shared receive queue that ringcast relies on.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "fabric/verbs/endpoint.hpp"
#include "latency_stats.hpp"

namespace {

using namespace ringcast;
using fabric::Completion;
using fabric::CompletionType;
using fabric::verbs::LinkOptions;
using fabric::verbs::VerbsEndpoint;

constexpr std::uint64_t kSetupTimeoutNs = 60'000'000'000;
constexpr std::uint64_t kIterationTimeoutNs = 10'000'000'000;

struct Args {
  std::string device;
  int gid_index = -1;
  std::uint32_t size = 2;
  std::uint32_t iterations = 1000;
  std::uint16_t port = 18515;
  std::string bind;    // -b: our address
  std::string server;  // positional: client mode
  bool both = false;
  bool json = false;
};

void usage() {
  std::fprintf(stderr,
               "usage: ringcast-fabric-demo [-d device] [-x gid_index] [-s bytes] [-n iterations]\n"
               "                            [-p port] [-b local_ip] [--json] [--both | server_ip]\n"
               "  no server_ip: serve; server_ip: connect to it; --both: fork both ends locally\n");
}

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  a.device = env_or("RINGCAST_RDMA_DEVICE", "");
  a.gid_index = std::atoi(env_or("RINGCAST_GID_INDEX", "-1"));
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--both")
      a.both = true;
    else if (arg == "--json")
      a.json = true;
    else if (arg == "-d" && has_value)
      a.device = argv[++i];
    else if (arg == "-x" && has_value)
      a.gid_index = std::atoi(argv[++i]);
    else if (arg == "-s" && has_value)
      a.size = static_cast<std::uint32_t>(std::stoul(argv[++i]));
    else if (arg == "-n" && has_value)
      a.iterations = static_cast<std::uint32_t>(std::stoul(argv[++i]));
    else if (arg == "-p" && has_value)
      a.port = static_cast<std::uint16_t>(std::stoul(argv[++i]));
    else if (arg == "-b" && has_value)
      a.bind = argv[++i];
    else if (!arg.empty() && arg[0] != '-' && a.server.empty())
      a.server = arg;
    else
      return std::nullopt;
  }
  if (a.iterations < 2 || (a.both && !a.server.empty())) return std::nullopt;
  if (a.device.empty()) {
    const auto names = fabric::verbs::rdma_device_names();
    if (!names.empty()) a.device = names.front();
  }
  return a;
}

// One side of the ping-pong: its endpoint, its regions and its link.
struct Side {
  std::unique_ptr<VerbsEndpoint> ep;
  std::unique_ptr<fabric::MemoryRegion> inbox;   // the peer writes here
  std::unique_ptr<fabric::MemoryRegion> outbox;  // we write from here
  std::unique_ptr<fabric::Link> link;
};

Status open_side(const Args& args, fabric::NodeId node, const std::string& ip, Side& side) {
  fabric::verbs::EndpointOptions options;
  options.node = node;
  options.device = args.device;
  options.local_ip = ip;
  options.gid_index = args.gid_index;
  auto ep = VerbsEndpoint::open(options);
  if (!ep) return ep.error();
  side.ep = std::move(*ep);
  const std::size_t bytes = std::max<std::size_t>(args.size, 64);
  auto inbox = side.ep->allocate(bytes, fabric::Access::remote_write);
  if (!inbox) return inbox.error();
  side.inbox = std::move(*inbox);
  auto outbox = side.ep->allocate(bytes, fabric::Access::local_only);
  if (!outbox) return outbox.error();
  side.outbox = std::move(*outbox);
  return {};
}

LinkOptions link_options(const Side& side) {
  LinkOptions o;
  o.ours.node = side.ep->node();
  o.ours.region_count = 1;
  o.ours.regions[0] = side.inbox->remote();
  o.timeout_ns = kSetupTimeoutNs;
  return o;
}

// Busy-polls until the peer's next immediate arrives.
Status await_immediate(Side& side) {
  std::array<Completion, 8> out;
  const std::uint64_t deadline = side.ep->now_ns() + kIterationTimeoutNs;
  for (std::uint32_t spins = 0;; ++spins) {
    const std::size_t n = side.ep->poll(out);
    for (std::size_t i = 0; i < n; ++i) {
      if (out[i].type == CompletionType::received_imm) return {};
      return make_error(Errc::link_failed, "ping-pong",
                        std::string("the link failed: ") + out[i].status_text);
    }
    if ((spins & 0xfff) == 0 && side.ep->now_ns() > deadline) {
      return make_error(Errc::timeout, "ping-pong", "no answer from the peer");
    }
  }
}

Status send_write(Side& side, std::uint32_t size, std::uint32_t sequence) {
  fabric::WriteOp op;
  op.wr_id = sequence;
  op.segments[0] = {side.outbox.get(), 0, size};
  op.segment_count = size > 0 ? 1 : 0;
  op.with_imm = true;
  op.imm = sequence;
  // Unsignaled: a full send queue only means the NIC is behind; wait for it.
  for (;;) {
    auto posted = side.link->post({&op, 1});
    if (posted.ok() || posted.error().code != Errc::try_again) return posted;
    std::array<Completion, 8> out;
    if (side.ep->poll(out) > 0) {
      return make_error(Errc::link_failed, "ping-pong", "unexpected completion");
    }
  }
}

Status serve(Side& side, const Args& args) {
  for (std::uint32_t i = 0; i < args.iterations; ++i) {
    if (auto s = await_immediate(side); !s) return s;
    if (auto s = send_write(side, args.size, i); !s) return s;
  }
  return {};
}

Result<std::vector<std::uint64_t>> ping(Side& side, const Args& args) {
  std::vector<std::uint64_t> one_way_ns;
  one_way_ns.reserve(args.iterations);
  for (std::uint32_t i = 0; i < args.iterations; ++i) {
    const std::uint64_t t0 = side.ep->now_ns();
    if (auto s = send_write(side, args.size, i); !s) return s.error();
    if (auto s = await_immediate(side); !s) return s.error();
    one_way_ns.push_back((side.ep->now_ns() - t0) / 2);
  }
  return one_way_ns;
}

void print_report(const Args& args, const Side& side, const std::string& route,
                  bench::LatencySummary s) {
  if (args.json) {
    std::printf(
        "{\"tool\":\"ringcast-fabric-demo\",\"device\":\"%s\",\"route\":\"%s\","
        "\"max_inline\":%u,\"bytes\":%u,\"iterations\":%zu,\"t_min_usec\":%.2f,"
        "\"t_max_usec\":%.2f,\"t_typical_usec\":%.2f,\"t_avg_usec\":%.2f,"
        "\"p99_usec\":%.2f,\"p99_9_usec\":%.2f}\n",
        side.ep->device_name().c_str(), route.c_str(), side.link->max_inline_bytes(), args.size,
        s.count, s.min_us, s.max_us, s.typical_us, s.avg_us, s.p99_us, s.p999_us);
    return;
  }
  const char* rule =
      "-------------------------------------------------------------------------------------";
  std::printf("%s\n   ringcast fabric demo: RDMA WRITE WITH IMM ping-pong (one-way latency)\n",
              rule);
  std::printf(" Device     : %s (%s)\n Link       : %s, max inline %u B\n%s\n",
              side.ep->device_name().c_str(), side.ep->locality().c_str(), route.c_str(),
              side.link->max_inline_bytes(), rule);
  std::printf(
      " #bytes #iterations t_min[usec] t_max[usec] t_typical[usec] t_avg[usec]"
      " 99%% percentile[usec] 99.9%% percentile[usec]\n");
  std::printf(" %-6u %-11zu %-11.2f %-11.2f %-15.2f %-11.2f %-20.2f %.2f\n%s\n", args.size, s.count,
              s.min_us, s.max_us, s.typical_us, s.avg_us, s.p99_us, s.p999_us, rule);
}

int fail(const char* role, const Error& e) {
  std::fprintf(stderr, "ringcast-fabric-demo (%s): %s\n", role, e.message().c_str());
  return 1;
}

// The server: listens (on port 0 when `ready_fd` wants the port reported),
// tells `ready_fd` where, answers every ping.
int run_server(const Args& args, const std::string& ip, int ready_fd, const std::string& peer_ip) {
  Side side;
  if (auto s = open_side(args, 1, ip, side); !s) return fail("server", s.error());
  auto listener = side.ep->listen(ip, ready_fd >= 0 ? 0 : args.port, link_options(side));
  if (!listener) return fail("server", listener.error());
  if (ready_fd >= 0) {
    const std::string line = (*listener)->address() + " " + peer_ip + "\n";
    if (write(ready_fd, line.data(), line.size()) < 0) return 1;
    close(ready_fd);
  } else if (!args.json) {
    std::printf("waiting for a client on %s\n", (*listener)->address().c_str());
    std::fflush(stdout);
  }
  auto link = (*listener)->accept(kSetupTimeoutNs);
  if (!link) return fail("server", link.error());
  side.link = std::move(*link);
  if (auto s = serve(side, args); !s) return fail("server", s.error());
  return 0;
}

int run_client(const Args& args, const std::string& local_ip, const std::string& server_ip,
               std::uint16_t port) {
  Side side;
  if (auto s = open_side(args, 2, local_ip, side); !s) return fail("client", s.error());
  auto link = side.ep->connect(local_ip, server_ip, port, link_options(side));
  if (!link) return fail("client", link.error());
  side.link = std::move(*link);
  auto samples = ping(side, args);
  if (!samples) return fail("client", samples.error());
  const std::string route = (local_ip.empty() ? side.ep->local_address() : local_ip) + " -> " +
                            server_ip + ":" + std::to_string(port);
  print_report(args, side, route, bench::summarize(*samples));
  return 0;
}

std::vector<std::string> addresses_for(const Args& args) {
  std::istringstream in(env_or("RINGCAST_RDMA_ADDRS", ""));
  std::vector<std::string> out;
  for (std::string a; in >> a;)
    out.push_back(a);
  if (out.empty()) out = fabric::verbs::rdma_ipv4_addresses(args.device);
  return out;
}

// --both: the server in a child process (which picks the addresses: finding
// them opens RDMA state, which must not be inherited), the client here.
int run_both(const Args& args) {
  int ready[2];
  if (pipe(ready) != 0) return 1;
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    close(ready[0]);
    const auto addrs = addresses_for(args);
    if (addrs.empty()) {
      std::fprintf(stderr, "ringcast-fabric-demo: no IPv4 address on an RDMA device\n");
      _exit(1);
    }
    _exit(run_server(args, addrs[0], ready[1], addrs.size() > 1 ? addrs[1] : addrs[0]));
  }
  close(ready[1]);
  char line[256] = {};
  const ssize_t n = read(ready[0], line, sizeof line - 1);
  close(ready[0]);
  int rc = 1;
  std::string server, client;
  if (n > 0) {
    std::istringstream in(line);
    in >> server >> client;
    const auto colon = server.rfind(':');
    rc = run_client(args, client, server.substr(0, colon),
                    static_cast<std::uint16_t>(std::stoul(server.substr(colon + 1))));
  }
  int status = 0;
  waitpid(child, &status, 0);
  return rc != 0 ? rc : (WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  if (!args) {
    usage();
    return 2;
  }
  if (args->device.empty()) {
    std::fprintf(stderr, "ringcast-fabric-demo: no RDMA device on this host\n");
    return 1;
  }
  if (args->both) return run_both(*args);
  if (args->server.empty()) return run_server(*args, args->bind, -1, "");
  return run_client(*args, args->bind, args->server, args->port);
}
