#include "matrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "member_process.hpp"
#include "progress_bar.hpp"

namespace ringcast::bench {
namespace {

// Measured on the soft-RoCE VM at load 4 to 7: a 64 B AGREED sample takes
// ~0.1 ms, SAFE ~5 to 20 ms (rotations), 64 KiB ~5 to 30 ms, 1 MiB 0.1 to
// 0.3 s; the whole default matrix then takes about 6 minutes.
std::uint64_t latency_count(std::uint32_t size_bytes) {
  if (size_bytes <= 1024) return 2000;
  if (size_bytes <= 16384) return 500;
  if (size_bytes <= 65536) return 250;
  return 40;
}

// Every member sends its share and every message is written to every other
// member: the count shrinks with the member count so that a case moves about
// the same bytes whatever the ring's size (32 MiB for 2 members).
std::uint64_t throughput_count(std::uint32_t size_bytes, std::size_t members) {
  const std::size_t n = std::max<std::size_t>(members, 2);
  if (size_bytes <= 1024) return 40000 / n;
  const std::uint64_t bytes = (32u << 20) * 2 / n;
  return std::max<std::uint64_t>(bytes / size_bytes, 20);
}

std::string describe(const CaseInfo& c) {
  return std::to_string(c.members) + " members, " + size_name(c.size_bytes) + ", " +
         guarantee_name(c.guarantee) + ", " + mode_name(c.mode) + ", " + send_name(c.zero_copy);
}

std::uint64_t share(const CaseInfo& c, std::size_t index) {
  if (c.mode == Mode::latency) return index == 0 ? c.count : 0;
  return c.count / c.members + (index < c.count % c.members ? 1 : 0);
}

// One member count: its processes, its ring.
class RingOfProcesses {
 public:
  RingOfProcesses(const MatrixRun& run, std::size_t members, std::uint16_t base_port) {
    runtime::RingNodeOptions node = run.node;
    for (std::size_t i = 0; i < members; ++i) {
      node.members.push_back({static_cast<std::uint32_t>(i + 1), run.addrs[i],
                              static_cast<std::uint16_t>(base_port + i)});
    }
    for (std::size_t i = 0; i < members; ++i) {
      node.me = static_cast<std::uint32_t>(i + 1);
      kids_.push_back(spawn_series_member(node));
    }
  }
  ~RingOfProcesses() { finish_members(kids_, 10000); }
  RingOfProcesses(const RingOfProcesses&) = delete;
  RingOfProcesses& operator=(const RingOfProcesses&) = delete;

  // Every member said "ready" (its ring is up) within timeout_s.
  bool up(int timeout_s) {
    for (auto& k : kids_) {
      const std::string line = k.pid < 0 ? "" : k.read_line(timeout_s * 1000);
      if (line != "ready") {
        std::fprintf(stderr, "ringcast-bench: a member did not come up: '%s'\n", line.c_str());
        return false;
      }
    }
    return true;
  }

  std::vector<MemberResult> run(const CaseInfo& c, int timeout_s, bool full_check) {
    for (std::size_t i = 0; i < kids_.size(); ++i) {
      MemberPlan p;
      p.mode = c.mode;
      p.size_bytes = c.size_bytes;
      p.total_messages = c.count;
      p.my_messages = share(c, i);
      p.guarantee = c.guarantee;
      p.zero_copy = c.zero_copy;
      p.full_payload_check = full_check;
      p.deliver_timeout_ns = static_cast<std::uint64_t>(timeout_s) * 1'000'000'000;
      write_line(kids_[i].to_child, encode_case(p));
    }
    std::vector<MemberResult> results(kids_.size());
    for (std::size_t i = 0; i < kids_.size(); ++i) {
      results[i].node = static_cast<std::uint32_t>(i + 1);
      const std::string line = kids_[i].read_line(timeout_s * 1000 + 10000);
      if (!decode(line, &results[i]))
        results[i].error = line.empty() ? "no report (timed out or died)" : line;
    }
    return results;
  }

 private:
  std::vector<MemberProcess> kids_;
};

// A case that cannot run: its ring failed to come up or failed earlier.
std::vector<MemberResult> not_run(const CaseInfo& c) {
  std::vector<MemberResult> rs(c.members);
  for (std::size_t i = 0; i < rs.size(); ++i) {
    rs[i].node = static_cast<std::uint32_t>(i + 1);
    rs[i].error = "not run: the ring failed";
  }
  return rs;
}

}  // namespace

std::uint64_t count_for(const CaseInfo& c) {
  if (c.mode == Mode::throughput) return throughput_count(c.size_bytes, c.members);
  const std::uint64_t n = latency_count(c.size_bytes);
  return c.guarantee == ring::Guarantee::safe ? std::max<std::uint64_t>(n / 4, 20) : n;
}

std::vector<CaseInfo> plan_matrix(const MatrixSpec& spec) {
  std::vector<CaseInfo> cases;
  for (std::size_t members : spec.members)
    for (std::uint32_t size : spec.sizes)
      for (Mode mode : spec.modes)
        for (ring::Guarantee g : spec.guarantees)
          for (bool zc : spec.zero_copy) {
            CaseInfo c{mode, members, size, 0, g, zc};
            c.count = spec.count != 0
                          ? spec.count
                          : std::max<std::uint64_t>(
                                1, static_cast<std::uint64_t>(std::llround(
                                       static_cast<double>(count_for(c)) * spec.scale)));
            cases.push_back(c);
          }
  return cases;
}

int run_matrix(const MatrixSpec& spec, const MatrixRun& run) {
  const std::vector<CaseInfo> cases = plan_matrix(spec);
  ProgressBar bar(cases.size(), run.progress_lines);
  if (!run.json) print_matrix_header();
  int status = 0;
  std::size_t done = 0;
  for (std::size_t m = 0; m < spec.members.size(); ++m) {
    const std::size_t members = spec.members[m];
    if (members > run.addrs.size()) {
      std::fprintf(stderr, "ringcast-bench: %zu members need %zu addresses, found %zu\n", members,
                   members, run.addrs.size());
      return 1;
    }
    // A fresh port range per ring: the previous ring's ids may linger.
    RingOfProcesses ring(run, members, static_cast<std::uint16_t>(run.base_port + 16 * m));
    bool ok = ring.up(120);
    for (const CaseInfo& c : cases) {
      if (c.members != members) continue;
      bar.step(done++, describe(c));
      const std::vector<MemberResult> results =
          ok ? ring.run(c, run.timeout_s, run.full_payload_check) : not_run(c);
      const bool verified = verify(results, c.count);
      bar.clear();
      if (run.json)
        print_json(c, results, verified);
      else
        print_matrix_row(c, results, verified);
      ok = verified;
    }
    if (!ok) status = 1;
  }
  return status;
}

}  // namespace ringcast::bench
