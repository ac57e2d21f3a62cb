// ringcast-bench --matrix: every combination of member count, message size,
// guarantee, mode and send kind, one ring per member count (the mesh is set
// up once and every case of that count runs over it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_member.hpp"
#include "bench_report.hpp"

namespace ringcast::bench {

struct MatrixSpec {
  std::vector<std::size_t> members{2, 3, 5};
  std::vector<std::uint32_t> sizes{64, 1024, 16384, 65536, 1u << 20};
  std::vector<ring::Guarantee> guarantees{ring::Guarantee::agreed, ring::Guarantee::safe};
  std::vector<Mode> modes{Mode::latency, Mode::throughput};
  std::vector<bool> zero_copy{false, true};
  std::uint64_t count = 0;  // messages per case; 0: count_for() of each case
  double scale = 1.0;       // multiplies count_for()
};

// Messages per case, chosen so that the whole default matrix stays within
// minutes on the soft-RoCE VM (TCG emulation, 2 cores): latency cases keep
// one message in flight, SAFE latency waits for rotations, throughput cases
// move about the same bytes per member count whatever the size.
std::uint64_t count_for(const CaseInfo& c);

std::vector<CaseInfo> plan_matrix(const MatrixSpec& spec);

struct MatrixRun {
  runtime::RingNodeOptions node;   // device, GID, ring and progress settings
  std::vector<std::string> addrs;  // one local address per member (at least the most)
  std::uint16_t base_port = 7405;
  int timeout_s = 600;  // per case
  bool json = false;
  bool progress_lines = false;      // one stderr line per case when not on a terminal
  bool full_payload_check = false;  // MemberPlan::full_payload_check
};

// Runs the matrix; every case's line goes to stdout as it completes. 0 when
// every case ran and verified its order, 1 otherwise (a failed ring skips the
// rest of its member count).
int run_matrix(const MatrixSpec& spec, const MatrixRun& run);

}  // namespace ringcast::bench
