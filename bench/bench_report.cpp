#include "bench_report.hpp"

#include <cstdio>

namespace ringcast::bench {
namespace {

double min_of(const std::vector<MemberResult>& rs, double (MemberResult::*rate)() const) {
  double lowest = 0;
  for (std::size_t i = 0; i < rs.size(); ++i)
    if (i == 0 || (rs[i].*rate)() < lowest) lowest = (rs[i].*rate)();
  return lowest;
}

}  // namespace

const char* guarantee_name(ring::Guarantee g) {
  switch (g) {
    case ring::Guarantee::unordered:
      return "unordered";
    case ring::Guarantee::fifo:
      return "fifo";
    case ring::Guarantee::agreed:
      return "agreed";
    case ring::Guarantee::safe:
      return "safe";
  }
  return "?";
}

const char* mode_name(Mode m) {
  return m == Mode::latency ? "latency" : "throughput";
}
const char* send_name(bool zero_copy) {
  return zero_copy ? "zero-copy" : "copy";
}

std::string size_name(std::uint64_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " B";
}

bool verify(const std::vector<MemberResult>& rs, std::uint64_t count) {
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

const LatencySummary* sender_latency(const CaseInfo& c, const std::vector<MemberResult>& rs) {
  if (c.mode != Mode::latency) return nullptr;
  for (const auto& r : rs)
    if (r.latency.count > 0) return &r.latency;
  return nullptr;
}

void print_json(const CaseInfo& c, const std::vector<MemberResult>& rs, bool verified) {
  std::printf(
      "{\"mode\":\"%s\",\"members\":%zu,\"size\":%u,\"count\":%llu,\"guarantee\":\"%s\","
      "\"send\":\"%s\"",
      mode_name(c.mode), rs.size(), c.size_bytes, static_cast<unsigned long long>(c.count),
      guarantee_name(c.guarantee), send_name(c.zero_copy));
  if (const LatencySummary* lat = sender_latency(c, rs)) {
    std::printf(
        ",\"latency\":{\"samples\":%zu,\"min_usec\":%.3f,\"median_usec\":%.3f,"
        "\"avg_usec\":%.3f,\"p99_usec\":%.3f,\"p99_9_usec\":%.3f,\"max_usec\":%.3f}",
        lat->count, lat->min_us, lat->typical_us, lat->avg_us, lat->p99_us, lat->p999_us,
        lat->max_us);
  }
  std::printf(",\"per_member\":[");
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const auto& r = rs[i];
    std::printf(
        "%s{\"node\":%u,\"delivered\":%llu,\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,"
        "\"hash\":\"0x%016llx\",\"fifo_violations\":%llu",
        i ? "," : "", r.node, static_cast<unsigned long long>(r.delivered), r.msgs_per_s(),
        r.mb_per_s(), static_cast<unsigned long long>(r.hash),
        static_cast<unsigned long long>(r.fifo_violations));
    // Own key names: ci/demo reads the case's "median_usec" with a greedy
    // sed pattern, which would take the last one on the line.
    if (r.remote_latency.count > 0 && c.mode == Mode::latency) {
      std::printf(
          ",\"remote_samples\":%zu,\"remote_min_usec\":%.3f,\"remote_median_usec\":%.3f,"
          "\"remote_p99_usec\":%.3f",
          r.remote_latency.count, r.remote_latency.min_us, r.remote_latency.typical_us,
          r.remote_latency.p99_us);
    }
    std::printf("}");
  }
  std::printf("],\"min_msgs_per_s\":%.1f,\"min_mb_per_s\":%.3f,\"order_verified\":%s}\n",
              min_of(rs, &MemberResult::msgs_per_s), min_of(rs, &MemberResult::mb_per_s),
              verified ? "true" : "false");
  std::fflush(stdout);
}

namespace {

// One row of latency figures; node 0: no node column.
void print_latency_row(const LatencySummary& l, bool header, std::uint32_t node = 0) {
  if (header) {
    if (node != 0) std::printf("  %6s", "node");
    std::printf("  %10s %10s %10s %10s %10s %10s\n", "min", "median", "avg", "p99", "p99.9", "max");
  }
  if (node != 0) std::printf("  %6u", node);
  std::printf("  %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f\n", l.min_us, l.typical_us, l.avg_us,
              l.p99_us, l.p999_us, l.max_us);
}

}  // namespace

void print_table(const CaseInfo& c, const std::vector<MemberResult>& rs) {
  std::printf("ringcast-bench: %zu members, %u B, %llu messages, %s, %s send, %s\n", rs.size(),
              c.size_bytes, static_cast<unsigned long long>(c.count), guarantee_name(c.guarantee),
              send_name(c.zero_copy),
              c.mode == Mode::latency ? "latency (sender: lowest node id)" : "throughput");
  for (const auto& r : rs) {
    if (r.latency.count == 0 || c.mode != Mode::latency) continue;
    std::printf("latency send -> self-delivery, node %u, %zu samples (usec):\n", r.node,
                r.latency.count);
    print_latency_row(r.latency, true);
  }
  bool remote_header = false;
  for (const auto& r : rs) {
    if (r.remote_latency.count == 0 || c.mode != Mode::latency) continue;
    if (!remote_header)
      std::printf("latency send -> delivery at another member (usec; information, no target):\n");
    print_latency_row(r.remote_latency, !remote_header, r.node);
    remote_header = true;
  }
  std::printf("  %6s %12s %12s %12s %8s\n", "node", "delivered", "msgs/s", "MB/s", "fifo");
  for (const auto& r : rs) {
    std::printf("  %6u %12llu %12.0f %12.2f %8s\n", r.node,
                static_cast<unsigned long long>(r.delivered), r.msgs_per_s(), r.mb_per_s(),
                r.fifo_violations == 0 ? "ok" : "BROKEN");
  }
}

void print_matrix_header() {
  std::printf("%7s %8s %-6s %-10s %-9s %7s %10s %10s %10s %10s %9s %5s\n", "members", "size",
              "guar.", "mode", "send", "count", "median_us", "p99_us", "p99.9_us", "msgs/s", "MB/s",
              "order");
}

// Latency rows show the sender's percentiles, throughput rows the slowest
// member's rates (MB = 10^6 bytes).
void print_matrix_row(const CaseInfo& c, const std::vector<MemberResult>& rs, bool verified) {
  std::printf("%7zu %8s %-6s %-10s %-9s %7llu", c.members, size_name(c.size_bytes).c_str(),
              guarantee_name(c.guarantee), mode_name(c.mode), send_name(c.zero_copy),
              static_cast<unsigned long long>(c.count));
  if (const LatencySummary* lat = sender_latency(c, rs))
    std::printf(" %10.1f %10.1f %10.1f", lat->typical_us, lat->p99_us, lat->p999_us);
  else
    std::printf(" %10s %10s %10s", "-", "-", "-");
  if (c.mode == Mode::throughput)
    std::printf(" %10.0f %9.2f", min_of(rs, &MemberResult::msgs_per_s),
                min_of(rs, &MemberResult::mb_per_s));
  else
    std::printf(" %10s %9s", "-", "-");
  std::printf(" %5s\n", verified ? "ok" : "FAIL");
  std::fflush(stdout);
}

}  // namespace ringcast::bench
