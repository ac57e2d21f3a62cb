// Runs whole clusters with membership over the simulated fabric, with faults:
// N members (2 to 8), each a MembershipDriver on a SimEndpoint, all pairs
// connected, applications that submit bursts of messages of random sizes and
// guarantees and release what they are delivered after a random time, and a
// list of faults at random virtual times: crashes, partitions, one-way link
// failures, slow members (links with a long delay), paused processes (not
// polled: the token stops there while its links stay up), and lost tokens
// (a mailbox's token slots scribbled over), corrupted records (a byte of a
// landing header or payload changed), and their ends: a crashed member
// restarts (a new incarnation that must be merged in), a partition heals
// (the harness reconnects, as the runtime would, and the rings must merge).
// A clock step moves a member's wall clock back or forward and restarts its
// process: its incarnation comes from the runtime's rule (last + 1 or the
// clock, whichever is larger) and must grow, and it must be merged in again.
// Two faults close together hit the gather or the recovery of the first.
//
// Everything is chosen from the seed, so a seed replays exactly:
//   RINGCAST_SEED=<seed> build/tests/membership/fault_sim_test
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fabric/sim/sim_config.hpp"
#include "fault_counts.hpp"
#include "membership/membership_config.hpp"
#include "ring/record.hpp"
#include "ring/ring_config.hpp"

namespace ringcast::membership::fault_test {

struct PlannedMessage {
  std::uint64_t at_ns = 0;
  std::uint32_t bytes = 0;
  ring::Guarantee guarantee = ring::Guarantee::agreed;
};

enum class FaultKind : std::uint8_t {
  crash,
  partition,
  one_way,
  slow,
  pause,
  lose_token,
  restart,  // a crashed member comes back: a new process, a new incarnation
  heal,     // partitions and one-way breaks end; the harness reconnects
  // Writes a member must refuse (see add_trust_faults); `a` is the target,
  // `b` the member whose link carries the write.
  forged_token,     // a token from b, not a's ring predecessor, claiming all hold all
  wrong_link,       // a control message and a batch signal in another's name, from b
  duplicate_write,  // b's next write with immediate to a lands twice
  corrupt_control,  // bytes of a's control slots overwritten
  // The member's wall clock steps by Fault::clock_step_units (back or
  // forward), and its process restarts at once: the new incarnation must
  // still be larger than the last (runtime/incarnation.hpp), and the member
  // is merged in again. On a crashed member only the clock steps.
  clock_step,
  // The next batch of records that lands at member a has one byte changed:
  // in the header of the write's first record, or in its payload.
  corrupt_record,
  corrupt_payload,
};
const char* fault_name(FaultKind kind);
const FaultKindCounter& fault_counter(FaultKind kind);

struct Fault {
  std::uint64_t at_ns = 0;
  FaultKind kind = FaultKind::crash;
  std::uint32_t a = 0;  // member indexes
  std::uint32_t b = 0;
  std::uint64_t duration_ns = 0;      // pause: how long; slow: the extra delay
  std::vector<std::uint32_t> side;    // partition: one side (the rest is the other)
  std::int64_t clock_step_units = 0;  // clock_step: 100 ms units, negative: back
};

struct FaultScenario {
  std::uint64_t seed = 0;
  std::size_t members = 0;
  fabric::sim::SimConfig sim;
  ring::RingConfig ring;
  MembershipConfig membership;
  std::vector<std::vector<PlannedMessage>> plan;  // [member], by time
  std::vector<Fault> faults;                      // by time
  std::uint64_t max_release_delay_ns = 0;

  std::size_t message_count() const;
  std::string describe() const;
  // Once faults stop, a ring must form and the cluster settle within this.
  std::uint64_t settle_bound_ns() const;
};

FaultScenario make_fault_scenario(std::uint64_t seed);
// Adds the faults of hostile or broken writes, drawn from a stream of their
// own (the other faults of a seed stay as they were).
void add_trust_faults(FaultScenario& s, std::uint64_t window_ns);
// Adds corrupt_record and corrupt_payload faults, drawn from a stream of
// their own so that the other faults of a seed stay as they were.
void add_corruption_faults(FaultScenario& s, std::uint64_t window_ns);

// A configuration change one member delivered, for tests that look at when.
struct ChangeSeen {
  std::size_t member = 0;
  std::uint64_t at_ns = 0;
  bool transitional = false;
  std::vector<fabric::NodeId> members;
  std::vector<fabric::NodeId> left;
  std::vector<fabric::NodeId> joined;
};

struct FaultRunResult {
  bool ok = false;
  std::string failure;
  std::uint64_t virtual_ns = 0;
  std::uint64_t events = 0;
  std::uint64_t delivered = 0;
  std::uint64_t changes = 0;
  std::uint64_t reformations = 0;
  std::uint64_t token_losses = 0;
  std::uint64_t records_recovered = 0;
  std::uint64_t control_dropped = 0;
  std::uint64_t faults = 0;  // scheduled faults reached (some find nothing to do)
  FaultCounts applied;       // by kind: the faults that acted
  // The writes the members refused for the link they came on
  // (StatusSnapshot::writes_wrong_link).
  std::uint64_t writes_wrong_link = 0;
  std::uint32_t max_incarnation = 0;   // the largest any member restarted with
  std::uint64_t corruptions = 0;       // record bytes changed as they landed
  std::uint64_t records_repaired = 0;  // records that checked once written again
  std::uint64_t record_stalls = 0;     // deliveries stopped at a failed record, every ring
  std::uint64_t records_relayed = 0;   // forwarded by the members (StatusSnapshot::records_relayed)
  std::uint64_t relay_waits = 0;
  std::uint64_t visits_space_limited = 0;                 // in the ring each member installed last
  std::vector<ChangeSeen> changes_seen;                   // in delivery order
  std::vector<std::vector<std::uint64_t>> delivered_ids;  // [member]: sender << 32 | counter
};

FaultRunResult run_fault_scenario(const FaultScenario& scenario, bool trace = false);

}  // namespace ringcast::membership::fault_test
