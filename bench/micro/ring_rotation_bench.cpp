// Micro-benchmark of the whole protocol code path: N ring members
// (RingDriver + RingState) over the simulated fabric, every member sending
// one message per rotation, each delivering and releasing all of them. It
// measures the CPU cost of the ring itself (token visits, record placement,
// chains, delivery, release) plus the simulator's own, in host time; virtual
// time is free.
//
//   build/bench/micro/ring_rotation_bench [--benchmark_filter=Rotation/3]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fabric/sim/sim_world.hpp"
#include "ring/driver.hpp"

namespace ringcast::ring {
namespace {

using fabric::sim::SimEndpoint;
using fabric::sim::SimWorld;

RingConfig bench_config() {
  RingConfig c;
  c.log_bytes = 1u << 20;  // small: 8 members stay within a few MiB
  c.max_message_bytes = 64u << 10;
  c.send_buffer_bytes = 256u << 10;
  return c;
}

struct Member {
  SimEndpoint* ep = nullptr;
  std::unique_ptr<RingDriver> driver;
  std::uint64_t delivered = 0;
};

class SimRing {
 public:
  explicit SimRing(std::size_t n) : world_(42), members_(n) {}

  Status start() {
    RC_TRY(validate(bench_config()));
    std::vector<fabric::NodeId> ids;
    for (std::size_t i = 0; i < members_.size(); ++i) {
      members_[i].ep = &world_.add_endpoint(static_cast<fabric::NodeId>(i + 1));
      auto d = RingDriver::create(*members_[i].ep, bench_config());
      RC_TRY(d);
      members_[i].driver = std::move(*d);
      ids.push_back(static_cast<fabric::NodeId>(i + 1));
    }
    const std::size_t n = members_.size();
    std::vector<std::vector<fabric::Link*>> links(n, std::vector<fabric::Link*>(n, nullptr));
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        auto pair = world_.connect(*members_[i].ep, members_[i].driver->connect_info(0),
                                   *members_[j].ep, members_[j].driver->connect_info(0));
        RC_TRY(pair);
        links[i][j] = pair->a_to_b;
        links[j][i] = pair->b_to_a;
      }
    }
    RingMembership ring{{1, 1}, ids, 0};
    for (std::size_t i = 0; i < n; ++i) {
      ring.my_index = i;
      RC_TRY(members_[i].driver->start(ring, links[i]));
    }
    return {};
  }

  // Every member submits one copied message of `payload` bytes.
  Status submit_each(std::span<const std::byte> payload) {
    for (Member& m : members_) {
      OutgoingMessage out;
      out.payload = payload;
      RC_TRY(m.driver->submit(out));
    }
    return {};
  }

  // Runs the ring until every member delivered `target` messages in all;
  // false if it stalled (no event and no timer left).
  bool run_until_delivered(std::uint64_t target) {
    for (;;) {
      bool all = true;
      for (Member& m : members_) {
        step(m);
        all = all && m.delivered >= target;
      }
      if (all) return true;
      const std::uint64_t t = next_instant();
      if (t == kNever) return false;
      world_.run_until(t);
    }
  }

  std::uint64_t tokens_passed() const {
    std::uint64_t sum = 0;
    for (const Member& m : members_)
      sum += m.driver->state().counters().tokens_passed;
    return sum;
  }
  std::uint64_t fabric_events() const { return world_.stats().events; }

 private:
  void step(Member& m) {
    for (int round = 0; round < 1000; ++round) {
      bool worked = m.driver->progress();
      std::uint64_t last = 0;
      while (auto d = m.driver->next_delivery()) {
        last = d->seq;
        ++m.delivered;
      }
      if (last != 0) {
        (void)m.driver->release_through_seq(last);
        worked = true;
      }
      if (!worked) return;
    }
  }

  // The next fabric event or member deadline strictly after now.
  std::uint64_t next_instant() const {
    std::uint64_t t = world_.next_event_ns().value_or(kNever);
    for (const Member& m : members_) {
      const std::uint64_t d = m.driver->next_deadline_ns();
      if (d > world_.now_ns()) t = std::min(t, d);
    }
    return t;
  }

  SimWorld world_;
  std::vector<Member> members_;
};

// Arguments: members, payload bytes. Items: messages delivered at one member
// (every member delivers the same); bytes: their payload.
void BM_Rotation(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto size = static_cast<std::size_t>(state.range(1));
  SimRing ring(n);
  if (Status s = ring.start(); !s.ok()) {
    state.SkipWithError(s.error().message().c_str());
    return;
  }
  std::vector<std::byte> payload(size, std::byte{0x5a});
  std::uint64_t target = 0;
  const std::uint64_t passes_before = ring.tokens_passed();
  const std::uint64_t events_before = ring.fabric_events();
  for (auto _ : state) {
    target += n;
    if (!ring.submit_each(payload).ok() || !ring.run_until_delivered(target)) {
      state.SkipWithError("the simulated ring stalled");
      break;
    }
  }
  const auto iterations = static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(target));
  state.SetBytesProcessed(static_cast<std::int64_t>(target * size));
  state.counters["token_passes/iter"] =
      static_cast<double>(ring.tokens_passed() - passes_before) / iterations;
  state.counters["fabric_events/iter"] =
      static_cast<double>(ring.fabric_events() - events_before) / iterations;
}
BENCHMARK(BM_Rotation)
    ->ArgNames({"members", "bytes"})
    ->ArgsProduct({{2, 3, 5, 8}, {64, 1024}})
    ->Args({3, 16384});

}  // namespace
}  // namespace ringcast::ring
