#include "ring_sim_harness.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <sstream>

#include "fabric/sim/sim_world.hpp"
#include "ring/driver.hpp"
#include "support/ring_oracle.hpp"
#include "support/sim_scenario.hpp"

namespace ringcast::ring::sim_test {

using fabric::sim::SimRandom;

namespace {

// ------------------------------------------------------------ the scenario

std::size_t pick_members(SimRandom& r) {
  const std::uint64_t x = r.below(100);
  if (x < 8) return 1;
  if (x < 28) return 2;
  if (x < 53) return 3;
  if (x < 78) return 5;
  if (x < 95) return 8;
  return 16;
}

// Mostly small, now and then large, rarely up to the maximum.
constexpr test::SizeBand kSizes[] = {
    {60, 1, 64}, {85, 65, 1024}, {97, 1025, 16384}, {100, 16385, 0}};

RingConfig pick_ring(SimRandom& r, std::size_t members) {
  RingConfig c;
  const std::uint64_t m = r.below(100);
  c.max_message_bytes = m < 70 ? 4096 : m < 95 ? 65536 : (1u << 20);
  // Small logs: a few of the largest records, so the log wraps and fills.
  c.log_bytes = record_span_bytes(c.max_message_bytes) * r.between(1, 4) + 64 * r.between(0, 64);
  c.send_queue_messages = static_cast<std::uint32_t>(r.between(1, 32));
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

std::vector<PlannedMessage> pick_plan(SimRandom& r, const Scenario& s, std::uint32_t messages,
                                      std::uint64_t window_ns, std::uint32_t zero_copy_percent) {
  std::vector<PlannedMessage> plan;
  while (plan.size() < messages) {
    const std::uint64_t at = r.below(window_ns + 1);
    const std::uint64_t burst = r.one_in(3) ? r.between(2, 12) : 1;
    for (std::uint64_t i = 0; i < burst && plan.size() < messages; ++i) {
      PlannedMessage p;
      p.at_ns = at;
      p.bytes = test::pick_size(r, s.ring.max_message_bytes, kSizes);
      p.guarantee = static_cast<Guarantee>(r.below(4));
      p.zero_copy = r.below(100) < zero_copy_percent;
      plan.push_back(p);
    }
  }
  std::stable_sort(plan.begin(), plan.end(),
                   [](const auto& a, const auto& b) { return a.at_ns < b.at_ns; });
  return plan;
}

}  // namespace

Scenario make_scenario(std::uint64_t seed) {
  SimRandom r(seed ^ 0x52494e4753494dull);  // "RINGSIM": the scenario's own stream
  Scenario s;
  s.seed = seed;
  s.members = pick_members(r);
  s.sim = test::pick_fabric(r, {});
  s.ring = pick_ring(r, s.members);
  test::pick_relay(seed, s.ring);
  const std::uint32_t total =
      static_cast<std::uint32_t>(s.members >= 8 ? r.between(5, 30) : r.between(1, 60));
  const std::uint64_t window_ns = r.between(0, 2'000'000);
  const std::uint32_t zero_copy_percent =
      r.one_in(2) ? 0 : static_cast<std::uint32_t>(r.between(10, 60));
  s.zero_copy_slot_bytes = 4096;
  s.zero_copy_slots = static_cast<std::uint32_t>(r.between(1, 8));
  s.max_release_delay_ns = r.one_in(3) ? 0 : r.between(1'000, 300'000);
  s.plan.resize(s.members);
  // Random senders: some members send most, some nothing.
  std::vector<std::uint64_t> weight(s.members);
  for (auto& w : weight)
    w = r.one_in(3) ? 0 : r.between(1, 10);
  weight[r.below(s.members)] += 1;
  std::uint64_t weight_sum = 0;
  for (auto w : weight)
    weight_sum += w;
  std::vector<std::uint32_t> count(s.members, 0);
  for (std::uint32_t i = 0; i < total; ++i) {
    std::uint64_t x = r.below(weight_sum);
    std::size_t m = 0;
    while (x >= weight[m])
      x -= weight[m++];
    ++count[m];
  }
  for (std::size_t m = 0; m < s.members; ++m) {
    s.plan[m] = pick_plan(r, s, count[m], window_ns, zero_copy_percent);
  }
  if (s.members > 1 && r.one_in(3)) {
    const auto slow = static_cast<std::uint32_t>(r.below(s.members));
    for (std::uint32_t to = 0; to < s.members; ++to) {
      if (to != slow) s.slow_links.push_back({slow, to, r.between(1'000, 50'000)});
    }
  }
  return s;
}

std::size_t Scenario::message_count() const {
  std::size_t n = 0;
  for (const auto& p : plan)
    n += p.size();
  return n;
}

std::string Scenario::describe() const {
  std::ostringstream o;
  o << "members=" << members << " messages=" << message_count() << " log=" << ring.log_bytes
    << " max_msg=" << ring.max_message_bytes << " queue=" << ring.send_queue_messages
    << " sendbuf=" << ring.send_buffer_bytes << " per_visit=" << ring.max_messages_per_visit
    << " window=" << ring.window_messages << " hold_ns=" << ring.token_hold_ns
    << " wake_after_ns=" << ring.wake_after_ns << " relay_min=" << ring.relay_min_batch_bytes
    << " relay_min_members=" << ring.relay_min_members << " latency_ns=" << sim.base_latency_ns
    << "+" << sim.jitter_ns << " sq_depth=" << sim.send_queue_depth
    << " release_delay_ns<=" << max_release_delay_ns << " slow_links=" << slow_links.size();
  return o.str();
}

}  // namespace ringcast::ring::sim_test
