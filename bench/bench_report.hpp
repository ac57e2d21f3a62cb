// How ringcast-bench reports a case: one JSON object per line (--json), the
// detailed table of a single run, or one row of the matrix table. The JSON
// keys are what ci/demo and bench/compare read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench_member.hpp"

namespace ringcast::bench {

// What was measured, as the parent planned it.
struct CaseInfo {
  Mode mode = Mode::latency;
  std::size_t members = 0;
  std::uint32_t size_bytes = 0;
  std::uint64_t count = 0;
  ring::Guarantee guarantee = ring::Guarantee::agreed;
  bool zero_copy = false;
};

const char* guarantee_name(ring::Guarantee g);
const char* mode_name(Mode m);
const char* send_name(bool zero_copy);
// "64 B", "16 KiB", "1 MiB".
std::string size_name(std::uint64_t bytes);

// true when every member completed, delivered `count` in the same order and
// kept FIFO; says what is wrong on stderr otherwise.
bool verify(const std::vector<MemberResult>& results, std::uint64_t count);

// The sender's latency summary in latency mode, else null.
const LatencySummary* sender_latency(const CaseInfo& c, const std::vector<MemberResult>& rs);

void print_json(const CaseInfo& c, const std::vector<MemberResult>& rs, bool verified);
void print_table(const CaseInfo& c, const std::vector<MemberResult>& rs);

void print_matrix_header();
void print_matrix_row(const CaseInfo& c, const std::vector<MemberResult>& rs, bool verified);

}  // namespace ringcast::bench
