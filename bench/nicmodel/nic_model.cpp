// nic-model: the ring on the simulated fabric with a per-node cost model
// (cost_model.hpp), reporting what ringcast-bench's matrix reports:
// throughput (every member sends its share, msgs/s and MB/s from the first
// submit to the last delivery) and latency (member 0 sends one message at a
// time: self-delivery and the slowest member, median and p99), per (members,
// size, mode). Copying sends, AGREED. The figures are a model's projections,
// not measurements (docs/performance.md, "Performance model").
//
//   nic-model [--members 2,3,5] [--sizes 64,1024] [--modes latency,throughput]
//             [--count N] [--bandwidth-mbs B] [--wr-ns W] [--latency-ns L]
//             [--visit-ns V] [--record-ns R] [--posts-block-cpu 0|1] [--cores C]
//             [--pace self|all] [--relay-min-bytes B] [--relay-min-members M]
//
// --pace all: a latency case sends the next message once every member
// delivered the last (unloaded latency) instead of once the sender did.
// --relay-min-bytes: the ring's relay_min_batch_bytes (0: every visit written
// directly, 1: every visit relayed; default: the ring's); --relay-min-members
// its relay_min_members (3 to 64: the smallest ring that relays; default:
// the ring's).
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "model_case.hpp"

namespace {

using namespace ringcast::nicmodel;

struct Options {
  std::vector<std::uint64_t> members{2, 3, 5};
  std::vector<std::uint64_t> sizes{64, 1024, 16384, 65536, 1u << 20};
  std::vector<std::string> modes{"latency", "throughput"};
  std::uint64_t count = 0;  // 0: the matrix's count for the size
  bool pace_on_all = false;
  CostModel model;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "nic-model: %s\nusage: nic-model [--members 2,3,5] [--sizes 64,1024] "
               "[--modes latency,throughput] [--count N] [--bandwidth-mbs B] [--wr-ns W] "
               "[--latency-ns L] [--visit-ns V] [--record-ns R] [--posts-block-cpu 0|1] "
               "[--cores C] [--pace self|all] [--relay-min-bytes B] [--relay-min-members M]\n",
               why.c_str());
  std::exit(2);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= s.size()) {
    const std::size_t comma = std::min(s.find(',', at), s.size());
    out.push_back(s.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

std::uint64_t number(const std::string& s) {
  char* end = nullptr;
  const std::uint64_t v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0') usage("not a number: " + s);
  return v;
}

std::vector<std::uint64_t> numbers(const std::string& s) {
  std::vector<std::uint64_t> out;
  for (const std::string& w : split(s))
    out.push_back(number(w));
  return out;
}

// The model's numeric options, by flag.
std::uint64_t* model_field(CostModel& m, const std::string& flag) {
  if (flag == "--bandwidth-mbs") return &m.bandwidth_bytes_per_us;
  if (flag == "--wr-ns") return &m.wr_cost_ns;
  if (flag == "--latency-ns") return &m.latency_ns;
  if (flag == "--visit-ns") return &m.visit_ns;
  if (flag == "--record-ns") return &m.record_ns;
  if (flag == "--cores") return &m.cores;
  if (flag == "--relay-min-bytes") return &m.relay_min_batch_bytes;
  if (flag == "--relay-min-members") return &m.relay_min_members;
  return nullptr;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(a + " needs a value");
    const std::string v = argv[i + 1];
    if (std::uint64_t* field = model_field(o.model, a)) {
      *field = number(v);
    } else if (a == "--members") {
      o.members = numbers(v);
    } else if (a == "--sizes") {
      o.sizes = numbers(v);
    } else if (a == "--modes") {
      o.modes = split(v);
    } else if (a == "--count") {
      o.count = number(v);
    } else if (a == "--pace") {
      if (v != "self" && v != "all") usage("--pace is self or all");
      o.pace_on_all = v == "all";
    } else if (a == "--posts-block-cpu") {
      o.model.posts_block_cpu = number(v) != 0;
    } else {
      usage("unknown option " + a);
    }
  }
  for (std::uint64_t n : o.members)
    if (n < 2 || n > 32) usage("--members: 2 to 32");
  const std::uint64_t relay_members = o.model.relay_min_members;
  if (relay_members != CostModel::kRingDefault && (relay_members < 3 || relay_members > 64))
    usage("--relay-min-members: 3 to 64");
  for (std::uint64_t s : o.sizes)
    if (s < 16 || s > (8u << 20)) usage("--sizes: 16 B to 8 MiB");
  for (const std::string& m : o.modes)
    if (m != "latency" && m != "throughput") usage("a mode is latency or throughput");
  return o;
}

// The counts of ringcast-bench's matrix (bench/matrix.cpp) for AGREED.
std::uint64_t default_count(bool latency, std::uint64_t size) {
  if (size <= 1024) return latency ? 2000 : 20000;
  if (size <= 16384) return latency ? 500 : 2048;
  if (size <= 65536) return latency ? 250 : 512;
  return latency ? 40 : 32;
}

void print_row(const CaseSpec& c, const CaseResult& r) {
  if (c.latency) {
    std::printf("%zu\t%u\tlatency\t%llu\t-\t-\t%.2f\t%.2f\t%.2f\t%.2f\t%s\n", c.members, c.size,
                static_cast<unsigned long long>(c.count), r.self_median_us, r.self_p99_us,
                r.slowest_median_us, r.slowest_p99_us, r.order_ok ? "verified" : "MISMATCH");
  } else {
    std::printf("%zu\t%u\tthroughput\t%llu\t%.0f\t%.3f\t-\t-\t-\t-\t%s\n", c.members, c.size,
                static_cast<unsigned long long>(c.count), r.msgs_per_s, r.mb_per_s,
                r.order_ok ? "verified" : "MISMATCH");
  }
  std::fflush(stdout);
  std::fprintf(stderr, "nic-model: %zu members %u B %s: visits %llu records %llu\n", c.members,
               c.size, c.latency ? "latency" : "throughput",
               static_cast<unsigned long long>(r.visits),
               static_cast<unsigned long long>(r.records));
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  std::printf(
      "# projection (cost model, not a measurement): bandwidth %llu MB/s, wr %llu ns, latency "
      "%llu ns, visit %llu ns, record %llu ns, posts block the CPU %d\n",
      static_cast<unsigned long long>(o.model.bandwidth_bytes_per_us),
      static_cast<unsigned long long>(o.model.wr_cost_ns),
      static_cast<unsigned long long>(o.model.latency_ns),
      static_cast<unsigned long long>(o.model.visit_ns),
      static_cast<unsigned long long>(o.model.record_ns), o.model.posts_block_cpu ? 1 : 0);
  std::printf(
      "members\tsize\tmode\tcount\tmsgs/s\tMB/s\tself_median_us\tself_p99_us\tslowest_median_"
      "us\tslowest_p99_us\torder\n");
  for (std::uint64_t n : o.members) {
    for (std::uint64_t size : o.sizes) {
      for (const std::string& mode : o.modes) {
        CaseSpec c;
        c.members = n;
        c.size = static_cast<std::uint32_t>(size);
        c.latency = mode == "latency";
        c.pace_on_all = o.pace_on_all;
        c.count = o.count != 0 ? o.count : default_count(c.latency, size);
        print_row(c, run_case(c, o.model));
      }
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
