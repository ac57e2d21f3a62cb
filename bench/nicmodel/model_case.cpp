#include "model_case.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "model_sim.hpp"

namespace ringcast::nicmodel {
namespace {

constexpr std::uint64_t kNotYet = ~std::uint64_t{0};

// Each member's running hash of (sender, index) per delivery: equal when
// the members delivered the same sequence.
struct OrderHash {
  std::vector<std::uint64_t> hash;
  std::vector<std::uint64_t> delivered;
  explicit OrderHash(std::size_t n) : hash(n, 0xcbf29ce484222325ull), delivered(n, 0) {}
  void add(std::size_t member, std::uint64_t value) {
    hash[member] = (hash[member] ^ value) * 0x100000001b3ull;
    ++delivered[member];
  }
  bool same() const { return std::equal(hash.begin() + 1, hash.end(), hash.begin()); }
};

double quantile_us(std::vector<std::uint64_t> ns, double q) {
  if (ns.empty()) return 0;
  std::sort(ns.begin(), ns.end());
  const std::size_t at = std::min(ns.size() - 1, static_cast<std::size_t>(q * ns.size()));
  return static_cast<double>(ns[at]) / 1000.0;
}

std::uint64_t stamp_of(std::span<const std::byte> payload) {
  std::uint64_t index = 0;
  std::memcpy(&index, payload.data(), sizeof index);
  return index;
}

struct Sender {
  std::vector<std::byte> payload;
  ring::OutgoingMessage message() {
    ring::OutgoingMessage m;
    m.payload = payload;
    m.group = 1;
    m.sender_pid = 1;
    return m;
  }
};

// A sender refused with try_again retries at its next round; when nothing
// is left to run, every member gets a round (as ringcast-bench's senders
// retry), and a case that still does not move is a failure.
void run_until(ModelSim& sim, const std::function<bool()>& done, std::uint64_t bound) {
  int idle = 0;
  for (std::uint64_t i = 0; i < bound && !done() && idle < 3; ++i) {
    if (sim.step()) {
      idle = 0;
      continue;
    }
    ++idle;
    for (std::size_t m = 0; m < sim.size(); ++m)
      sim.poke(m);
  }
  if (!done())
    throw std::runtime_error("nic-model: the case did not finish (virtual time " +
                             std::to_string(sim.now_ns()) + " ns, idle " + std::to_string(idle) +
                             ")");
}

CaseResult run_throughput(const CaseSpec& c, const CostModel& model) {
  ModelSim sim(c.members, c.size, model);
  OrderHash order(c.members);
  std::vector<std::uint64_t> sent(c.members, 0);
  Sender s{std::vector<std::byte>(c.size)};
  auto share = [&](std::size_t i) { return c.count / c.members + (i < c.count % c.members); };
  std::uint64_t first_ns = kNotYet, last_ns = 0;
  sim.on_round_start = [&](std::size_t i) {
    while (sent[i] < share(i)) {
      std::memcpy(s.payload.data(), &sent[i], sizeof sent[i]);
      if (!sim.submit(i, s.message()).ok()) break;
      first_ns = std::min(first_ns, sim.now_ns());
      ++sent[i];
    }
  };
  sim.on_deliver = [&](const Delivered& d) {
    order.add(d.member, (std::uint64_t{d.sender} << 40) ^ stamp_of(d.payload));
    last_ns = std::max(last_ns, d.at_ns);
  };
  auto done = [&] {
    return std::all_of(order.delivered.begin(), order.delivered.end(),
                       [&](std::uint64_t n) { return n >= c.count; });
  };
  run_until(sim, done, c.count * 100'000 + 1'000'000);
  CaseResult r;
  const double seconds = static_cast<double>(last_ns - first_ns) / 1e9;
  r.msgs_per_s = static_cast<double>(c.count) / seconds;
  r.mb_per_s = r.msgs_per_s * c.size / 1e6;
  r.order_ok = order.same();
  r.visits = sim.visits();
  r.records = sim.records();
  return r;
}

CaseResult run_latency(const CaseSpec& c, const CostModel& model) {
  ModelSim sim(c.members, c.size, model);
  OrderHash order(c.members);
  Sender s{std::vector<std::byte>(c.size)};
  std::uint64_t next = 0, sent_at = 0, seen_self = 0, seen_all = 0;
  std::vector<std::uint64_t> self_ns, slowest_ns(c.count, 0);
  std::vector<std::uint64_t> sent_ns(c.count, 0);
  sim.on_round_start = [&](std::size_t i) {
    if (i != 0 || next >= c.count || (c.pace_on_all ? seen_all : seen_self) < next) return;
    std::memcpy(s.payload.data(), &next, sizeof next);
    if (!sim.submit(0, s.message()).ok()) return;
    sent_at = sim.now_ns();
    sent_ns[next++] = sent_at;
  };
  sim.on_deliver = [&](const Delivered& d) {
    const std::uint64_t k = stamp_of(d.payload);
    order.add(d.member, k);
    slowest_ns[k] = std::max(slowest_ns[k], d.at_ns - sent_ns[k]);
    if (std::all_of(order.delivered.begin(), order.delivered.end(),
                    [&](std::uint64_t n) { return n > k; }))
      seen_all = k + 1;
    if (d.member != 0) return;
    self_ns.push_back(d.at_ns - sent_ns[k]);
    ++seen_self;
  };
  auto done = [&] {
    return std::all_of(order.delivered.begin(), order.delivered.end(),
                       [&](std::uint64_t n) { return n >= c.count; });
  };
  run_until(sim, done, c.count * 100'000 + 1'000'000);
  const std::size_t warm = std::min<std::size_t>(c.count / 10, 100);
  self_ns.erase(self_ns.begin(), self_ns.begin() + warm);
  slowest_ns.erase(slowest_ns.begin(), slowest_ns.begin() + warm);
  CaseResult r;
  r.self_median_us = quantile_us(self_ns, 0.5);
  r.self_p99_us = quantile_us(self_ns, 0.99);
  r.slowest_median_us = quantile_us(slowest_ns, 0.5);
  r.slowest_p99_us = quantile_us(slowest_ns, 0.99);
  r.order_ok = order.same();
  r.visits = sim.visits();
  r.records = sim.records();
  return r;
}

}  // namespace

CaseResult run_case(const CaseSpec& spec, const CostModel& model) {
  return spec.latency ? run_latency(spec, model) : run_throughput(spec, model);
}

}  // namespace ringcast::nicmodel
