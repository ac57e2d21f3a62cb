// One member of a ringcast-bench run: starts a RingNode, sends its part of
// the workload, drains deliveries on the progress thread (hash, FIFO check,
// latency samples), and reports what it saw. A member may also stay in its
// ring for a series of cases (ringcast-bench --matrix): one mesh set-up for
// many measurements.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "latency_stats.hpp"
#include "ring/record.hpp"
#include "runtime/ring_node.hpp"

namespace ringcast::bench {

enum class Mode { latency, throughput };

struct MemberPlan {
  runtime::RingNodeOptions node;
  Mode mode = Mode::latency;
  std::uint32_t size_bytes = 64;
  std::uint64_t total_messages = 0;  // delivered by every member
  std::uint64_t my_messages = 0;     // sent by this member
  ring::Guarantee guarantee = ring::Guarantee::agreed;
  // Send from a registered buffer of the member's (OutgoingMessage.zero_copy)
  // instead of having the ring copy each payload into its send buffer.
  bool zero_copy = false;
  // Hash every payload byte into the order digest (the tests), or only both
  // ends of large payloads (OrderDigest::add_sampled: the benchmark).
  bool full_payload_check = true;
  // Latency mode: also time the other members' messages from their send to
  // their delivery here. Only where every member reads the same clock
  // (ringcast-bench --members: one host); the send time travels in the payload.
  bool sample_remote = false;
  std::uint64_t deliver_timeout_ns = 600'000'000'000;
  // run_member: wait this long after the ring is up before taking the case,
  // as a member that reads its case late does (the tests: the others' first
  // messages then arrive before this member knows the case).
  std::uint64_t start_delay_ns = 0;
  // Optional: the size and guarantee of my index-th message (mixed workloads,
  // the rdma tests); sizes below kStampBytes are raised to it.
  std::function<void(std::uint64_t index, std::uint32_t* size_bytes, ring::Guarantee* guarantee)>
      shape;
};

struct MemberResult {
  std::uint32_t node = 0;
  std::string error;  // empty: the run completed
  std::uint64_t delivered = 0;
  std::uint64_t hash = 0;
  std::uint64_t fifo_violations = 0;
  std::uint64_t bytes_delivered = 0;
  std::uint64_t elapsed_ns = 0;  // go -> last delivery
  LatencySummary latency;        // of my own messages (empty if I sent none)
  // Of other members' messages, send -> delivery here (plan.sample_remote).
  // Self-delivery alone can hide a sender that delivers before its writes
  // leave: this one cannot end before the message crossed the fabric.
  LatencySummary remote_latency;
  double msgs_per_s() const;
  double mb_per_s() const;  // 10^6 bytes
};

// Hooks between the phases: after the ring is up (the parent's barrier),
// and before the node stops (peers may still need this member's token).
struct MemberHooks {
  std::function<bool()> ready_then_wait_go;
  std::function<void(const MemberResult&)> report_then_wait_exit;
};

MemberResult run_member(const MemberPlan& plan, const MemberHooks& hooks);

// A member that runs a series of cases in one ring. `ready` is called once
// the ring is up (false: leave); `next_case` blocks until the next case is
// known (nullopt: leave; the case's node options are ignored: the ring is
// `node`'s); `report` gets each case's result. Per-case counters are taken
// and reset in one critical section once the member delivered the whole case:
// nobody sends the next case before every member reported, so no message of
// the next case reaches the previous one's counters, and none of them is lost
// to a reset that comes after it.
struct SeriesHooks {
  std::function<bool()> ready;
  std::function<std::optional<MemberPlan>()> next_case;
  std::function<void(const MemberResult&)> report;
};
void run_member_series(const runtime::RingNodeOptions& node, const SeriesHooks& hooks);

// One case as a line of text and back ("case mode size total mine guarantee
// zero_copy"), what the parent of a series sends each member.
std::string encode_case(const MemberPlan& plan);
bool decode_case(const std::string& line, MemberPlan* out);

// One line of text and back (parent <-> child pipe).
std::string encode(const MemberResult& r);
bool decode(const std::string& line, MemberResult* out);

}  // namespace ringcast::bench
