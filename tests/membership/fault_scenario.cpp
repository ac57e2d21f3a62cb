// The scenarios of the fault simulations, all drawn from the seed.
#include <algorithm>
#include <iterator>
#include <sstream>

#include "fabric/sim/random.hpp"
#include "fault_sim.hpp"
#include "support/sim_scenario.hpp"

namespace ringcast::membership::fault_test {

using fabric::sim::SimRandom;

namespace {

constexpr test::SizeBand kSizes[] = {{60, 1, 64}, {90, 65, 1024}, {100, 1025, 0}};

ring::RingConfig pick_ring(SimRandom& r, std::size_t members) {
  ring::RingConfig c;
  c.max_message_bytes = r.one_in(4) ? 65536 : 4096;
  c.log_bytes =
      ring::record_span_bytes(c.max_message_bytes) * r.between(2, 6) + 64 * r.between(0, 64);
  c.send_queue_messages = static_cast<std::uint32_t>(r.between(4, 64));
  c.send_buffer_bytes = c.max_message_bytes * r.between(1, 3) + r.between(0, 4096);
  c.max_messages_per_visit = static_cast<std::uint32_t>(r.between(1, 16));
  c.window_messages = static_cast<std::uint32_t>(
      r.between(c.max_messages_per_visit, c.max_messages_per_visit * (members + 1)));
  c.token_hold_ns = r.one_in(3) ? 0 : r.between(1'000, 500'000);
  c.wake_after_ns = r.between(0, 200'000);
  c.mailbox_slots = static_cast<std::uint32_t>(r.between(2, 4));
  c.token_staging_slots = static_cast<std::uint32_t>(r.between(1, 4));
  c.zero_copy_visits = static_cast<std::uint32_t>(r.between(1, 4));
  return c;
}

MembershipConfig pick_membership(SimRandom& r) {
  MembershipConfig m;
  m.token_timeout_ns = r.between(2'000'000, 10'000'000);
  m.join_interval_ns = r.between(100'000, 1'000'000);
  m.consensus_timeout_ns = m.token_timeout_ns + r.between(m.token_timeout_ns / 5, 8'000'000);
  return m;
}

Fault pick_fault(SimRandom& r, std::size_t members, std::uint64_t at_ns,
                 const MembershipConfig& mc) {
  Fault f;
  f.at_ns = at_ns;
  f.kind = static_cast<FaultKind>(r.below(6));
  f.a = static_cast<std::uint32_t>(r.below(members));
  f.b = static_cast<std::uint32_t>((f.a + 1 + r.below(members - 1)) % members);
  switch (f.kind) {
    case FaultKind::partition:
      for (std::uint32_t i = 0; i < members; ++i) {
        if (r.one_in(2)) f.side.push_back(i);
      }
      if (f.side.empty() || f.side.size() == members) f.side = {f.a};
      break;
    case FaultKind::slow:
      f.duration_ns = r.between(10'000, mc.token_timeout_ns / 4);
      break;
    case FaultKind::pause:
      f.duration_ns = r.between(100'000, 3 * mc.token_timeout_ns);
      break;
    default:
      break;
  }
  return f;
}

// Clock steps come from their own stream of the seed, so that the scenarios
// of seeds without one stay what they were. One seed in eight gets one or
// two: an NTP-sized correction, a step of a day, or none at all (a restart
// within the same 100 ms).
void add_clock_steps(FaultScenario& s, std::uint64_t window_ns) {
  SimRandom r(s.seed ^ 0x434c4f434b535450ull);  // "CLOCKSTP"
  if (!r.one_in(8)) return;
  const std::uint64_t steps = r.between(1, 2);
  for (std::uint64_t i = 0; i < steps; ++i) {
    Fault f;
    f.at_ns = r.below(window_ns + 2 * s.membership.consensus_timeout_ns);
    f.kind = FaultKind::clock_step;
    f.a = f.b = static_cast<std::uint32_t>(r.below(s.members));
    const std::int64_t size = r.one_in(3) ? 0 : r.one_in(2) ? 50 : 864'000;
    f.clock_step_units = static_cast<std::int64_t>(r.between(0, 2 * size)) - size;
    s.faults.push_back(f);
  }
}

}  // namespace

namespace {

// In FaultKind's order.
const FaultKindCounter kKindCounters[] = {
    FaultKindCounter("crash"),           FaultKindCounter("partition"),
    FaultKindCounter("one_way"),         FaultKindCounter("slow"),
    FaultKindCounter("pause"),           FaultKindCounter("lose_token"),
    FaultKindCounter("restart"),         FaultKindCounter("heal"),
    FaultKindCounter("forged_token"),    FaultKindCounter("wrong_link"),
    FaultKindCounter("duplicate_write"), FaultKindCounter("corrupt_control"),
    FaultKindCounter("clock_step"),      FaultKindCounter("corrupt_record"),
    FaultKindCounter("corrupt_payload"),
};
static_assert(std::size(kKindCounters) == static_cast<std::size_t>(FaultKind::corrupt_payload) + 1);

}  // namespace

const FaultKindCounter& fault_counter(FaultKind kind) {
  return kKindCounters[static_cast<std::size_t>(kind)];
}

const char* fault_name(FaultKind kind) {
  return fault_counter(kind).name();
}

FaultScenario make_fault_scenario(std::uint64_t seed) {
  SimRandom r(seed ^ 0x4641554c5453494dull);  // "FAULTSIM"
  FaultScenario s;
  s.seed = seed;
  s.members = static_cast<std::size_t>(r.between(2, 8));
  s.sim = test::pick_fabric(r, {.min_send_queue_depth = 24, .links_break = true});
  s.ring = pick_ring(r, s.members);
  test::pick_relay(seed, s.ring);
  s.membership = pick_membership(r);
  s.max_release_delay_ns = r.one_in(3) ? 0 : r.between(1'000, 300'000);
  const std::uint64_t window_ns = r.between(1'000'000, 30'000'000);
  const std::uint64_t total = r.between(1, 80);
  s.plan.resize(s.members);
  for (std::uint64_t i = 0; i < total; ++i) {
    const std::size_t m = r.below(s.members);
    const std::uint64_t at = r.below(window_ns);
    const std::uint64_t burst = r.one_in(3) ? r.between(2, 8) : 1;
    for (std::uint64_t k = 0; k < burst; ++k) {
      s.plan[m].push_back({at, test::pick_size(r, s.ring.max_message_bytes, kSizes),
                           static_cast<ring::Guarantee>(r.below(4))});
    }
  }
  for (auto& p : s.plan) {
    std::stable_sort(p.begin(), p.end(), [](auto& a, auto& b) { return a.at_ns < b.at_ns; });
  }
  const std::uint64_t faults = r.below(100) < 10 ? 0 : r.between(1, 3);
  std::uint64_t at = r.below(window_ns);
  std::size_t crashes = 0;
  for (std::uint64_t i = 0; i < faults; ++i) {
    Fault f = pick_fault(r, s.members, at, s.membership);
    if (f.kind == FaultKind::crash && ++crashes >= s.members) f.kind = FaultKind::lose_token;
    s.faults.push_back(f);
    // Often the fault ends: the crashed member restarts, the network heals.
    const std::uint64_t later =
        at + r.between(s.sim.link_timeout_ns, 2 * s.membership.consensus_timeout_ns);
    if (f.kind == FaultKind::crash && r.one_in(2)) {
      s.faults.push_back({later, FaultKind::restart, f.a, f.a, 0, {}});
    } else if ((f.kind == FaultKind::partition || f.kind == FaultKind::one_way) && r.one_in(2)) {
      s.faults.push_back({later, FaultKind::heal, 0, 0, 0, {}});
    }
    // The next fault: often during the gather or recovery this one starts.
    at += r.one_in(2) ? r.below(s.membership.consensus_timeout_ns + s.sim.link_timeout_ns)
                      : r.below(window_ns);
  }
  add_trust_faults(s, window_ns);
  add_clock_steps(s, window_ns);
  add_corruption_faults(s, window_ns);
  return s;
}

// ------------------------------------------------------------ trust faults

// One seed in three gets one to four writes that a member must refuse
// (docs/operations.md "Threat model"), at random times during the traffic.
void add_trust_faults(FaultScenario& s, std::uint64_t window_ns) {
  SimRandom r(s.seed ^ 0x5452555354464c54ull);  // "TRUSTFLT"
  if (s.members < 2 || !r.one_in(3)) return;
  const std::uint64_t count = r.between(1, 4);
  for (std::uint64_t i = 0; i < count; ++i) {
    Fault f;
    f.at_ns = r.below(window_ns + 1);
    f.kind =
        static_cast<FaultKind>(static_cast<std::uint8_t>(FaultKind::forged_token) + r.below(4));
    f.a = static_cast<std::uint32_t>(r.below(s.members));
    f.b = static_cast<std::uint32_t>((f.a + 1 + r.below(s.members - 1)) % s.members);
    s.faults.push_back(f);  // scheduled by time, like the others
  }
}

// One seed in four gets one or two, at any member, while messages flow.
void add_corruption_faults(FaultScenario& s, std::uint64_t window_ns) {
  SimRandom r(s.seed ^ 0x434f525255505421ull);  // "CORRUPT!"
  if (!r.one_in(4)) return;
  const std::uint64_t count = r.between(1, 2);
  for (std::uint64_t i = 0; i < count; ++i) {
    Fault f;
    f.at_ns = r.below(window_ns);
    f.kind = r.one_in(2) ? FaultKind::corrupt_record : FaultKind::corrupt_payload;
    f.a = f.b = static_cast<std::uint32_t>(r.below(s.members));
    s.faults.push_back(f);
  }
}

std::size_t FaultScenario::message_count() const {
  std::size_t n = 0;
  for (const auto& p : plan)
    n += p.size();
  return n;
}

// A ring forms within a few timeouts; a slow member then still needs a slow
// round trip per visit for each message left (with one message per visit).
std::uint64_t FaultScenario::settle_bound_ns() const {
  std::uint64_t slow_ns = 0;
  for (const Fault& f : faults) {
    if (f.kind == FaultKind::slow) slow_ns = std::max(slow_ns, f.duration_ns);
  }
  return 4 * (membership.token_timeout_ns + membership.consensus_timeout_ns + sim.link_timeout_ns) +
         50'000'000 + 4 * slow_ns * message_count();
}

std::string FaultScenario::describe() const {
  std::ostringstream o;
  o << "members=" << members << " messages=" << message_count() << " log=" << ring.log_bytes
    << " per_visit=" << ring.max_messages_per_visit << " hold_ns=" << ring.token_hold_ns
    << " relay_min=" << ring.relay_min_batch_bytes
    << " relay_min_members=" << ring.relay_min_members
    << " token_timeout_ns=" << membership.token_timeout_ns
    << " join_ns=" << membership.join_interval_ns
    << " consensus_ns=" << membership.consensus_timeout_ns
    << " link_timeout_ns=" << sim.link_timeout_ns << " idle_detect=" << sim.idle_link_detection
    << " faults:";
  for (const Fault& f : faults) {
    o << " " << fault_name(f.kind) << "@" << f.at_ns << "(" << f.a;
    if (f.kind == FaultKind::one_way) o << "->" << f.b;
    if (f.kind >= FaultKind::forged_token) o << "<-" << f.b;
    if (f.kind == FaultKind::partition) {
      o << " side";
      for (auto i : f.side)
        o << " " << i;
    }
    if (f.duration_ns) o << " " << f.duration_ns << "ns";
    if (f.kind == FaultKind::clock_step) o << " " << f.clock_step_units << "units";
    o << ")";
  }
  return o.str();
}

}  // namespace ringcast::membership::fault_test
