// Micro-benchmarks of the simulated fabric: how many simulated events per
// second the protocol simulations can count on.
//
//   build/bench/micro/sim_fabric_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "fabric/sim/sim_world.hpp"

namespace ringcast::fabric::sim {
namespace {

struct Member {
  SimEndpoint* ep = nullptr;
  std::unique_ptr<MemoryRegion> recv;
  std::unique_ptr<MemoryRegion> send;
};

// N members, all pairs connected, each with a 64 KiB receive region.
class Cluster {
 public:
  Cluster(std::uint64_t seed, NodeId members) : world_(seed), members_(members + 1) {
    for (NodeId n = 1; n <= members; ++n) {
      Member& m = members_[n];
      m.ep = &world_.add_endpoint(n);
      m.recv = std::move(m.ep->allocate(64 << 10, Access::remote_write).value());
      m.send = std::move(m.ep->allocate(4096, Access::local_only).value());
    }
    for (NodeId a = 1; a <= members; ++a) {
      for (NodeId b = a + 1; b <= members; ++b) {
        LinkPair p = world_.connect(*members_[a].ep, info(a), *members_[b].ep, info(b)).value();
        links_.push_back(p.a_to_b);
        links_.push_back(p.b_to_a);
      }
    }
  }

  // One microsecond of traffic: a chain of 4 writes of 64 bytes with
  // immediates on every link (every 16th signaled), then every member polls.
  void tick() {
    for (SimLink* l : links_) {
      WriteOp chain[4];
      for (std::uint32_t i = 0; i < 4; ++i) {
        const std::uint64_t k = posted_ + i;
        WriteOp& op = chain[i];
        op.segments[0] = {members_[l->node()].send.get(), 0, 64};
        op.segment_count = 1;
        op.remote_offset = k % 1000 * 64;
        op.with_imm = true;
        op.imm = static_cast<std::uint32_t>(k);
        op.signaled = k % 16 == 0;
      }
      if (l->post(chain).ok()) posted_ += 4;
    }
    world_.run_until(world_.now_ns() + 1'000);
    Completion batch[256];
    for (std::size_t n = 1; n < members_.size(); ++n) {
      while (members_[n].ep->poll(batch) > 0) {
      }
    }
  }

  SimWorld& world() { return world_; }
  SimLink& first_link() { return *links_.front(); }
  const MemoryRegion& send_region(NodeId n) const { return *members_[n].send; }

 private:
  ConnectInfo info(NodeId n) const {
    ConnectInfo i;
    i.node = n;
    i.region_count = 1;
    i.regions[0] = members_[n].recv->remote();
    return i;
  }

  SimWorld world_;
  std::vector<Member> members_;
  std::vector<SimLink*> links_;
  std::uint64_t posted_ = 0;
};

void BM_SimStreaming(benchmark::State& state) {
  Cluster cluster(1, static_cast<NodeId>(state.range(0)));
  for (int i = 0; i < 100; ++i)
    cluster.tick();  // warm-up: pools reach their size
  const std::uint64_t events_before = cluster.world().stats().events;
  for (auto _ : state)
    cluster.tick();
  const auto events = static_cast<double>(cluster.world().stats().events - events_before);
  state.counters["events/s"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.counters["events/tick"] = events / static_cast<double>(state.iterations());
}
BENCHMARK(BM_SimStreaming)->Arg(2)->Arg(3)->Arg(5)->Arg(8)->Arg(16);

// One write with immediate, posted, landed, acknowledged and polled.
void BM_SimRoundTrip(benchmark::State& state) {
  Cluster cluster(2, 2);
  SimWorld& world = cluster.world();
  SimLink& l = cluster.first_link();  // node 1 -> node 2
  Completion batch[16];
  std::uint32_t rounds = 0;
  for (auto _ : state) {
    WriteOp op;
    op.segments[0] = {&cluster.send_region(1), 0, 64};
    op.segment_count = 1;
    op.with_imm = true;
    op.imm = rounds++;
    op.signaled = true;
    benchmark::DoNotOptimize(l.post({&op, 1}).ok());
    while (world.step()) {
    }
    benchmark::DoNotOptimize(world.endpoint(1)->poll(batch));
    benchmark::DoNotOptimize(world.endpoint(2)->poll(batch));
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(world.stats().events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimRoundTrip);

void BM_EventQueuePushPop(benchmark::State& state) {
  EventQueue q;
  SimRandom rng(3);
  const auto depth = static_cast<std::size_t>(state.range(0));
  std::uint64_t now = 0;
  for (std::size_t i = 0; i < depth; ++i)
    q.push({rng.below(10'000), 0, 0, 0, EventKind::land, 0});
  for (auto _ : state) {
    const SimEvent e = q.pop();
    now = e.time_ns;
    q.push({now + rng.below(10'000), 0, 0, 0, EventKind::land, 0});
  }
  benchmark::DoNotOptimize(now);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_EventQueuePushPop)->Arg(64)->Arg(1024)->Arg(16384);

}  // namespace
}  // namespace ringcast::fabric::sim
