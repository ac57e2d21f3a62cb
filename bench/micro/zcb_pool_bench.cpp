// Micro-benchmarks of the zero-copy buffer pool: the bookkeeping that
// cpg_zcb_alloc / cpg_zcb_free / cpg_zcb_mcast_joined add per buffer (the
// memory is registered up front, so none of this registers anything).
//
//   build/bench/micro/zcb_pool_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "fabric/sim/sim_world.hpp"
#include "zcb/zero_copy_pool.hpp"

namespace ringcast::zcb {
namespace {

// One pool for the whole binary, shared by the threads of a threaded run.
// 16 slabs registered up front (so lookups search a realistic slab table),
// 256 buffers of each measured size held live (so a pair is not the only
// buffer of its slab).
class Pool {
 public:
  static ZeroCopyPool& get() {
    static Pool pool;
    return *pool.pool_;
  }

 private:
  Pool() {
    PoolConfig config;
    config.initial_slabs = 16;
    config.max_reserved_bytes = std::size_t{256} << 20;
    pool_ = std::move(ZeroCopyPool::create(world_.add_endpoint(1), config).value());
    for (std::size_t bytes : {64, 4096, 65536})
      for (int i = 0; i < 256; ++i)
        held_.push_back(pool_->alloc(bytes).value());
  }

  fabric::sim::SimWorld world_{1};
  std::unique_ptr<ZeroCopyPool> pool_;
  std::vector<void*> held_;
};

// alloc + free of one buffer: items/s is pairs per second.
void BM_AllocFree(benchmark::State& state) {
  ZeroCopyPool& pool = Pool::get();
  const auto bytes = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    auto buffer = pool.alloc(bytes);
    if (!buffer) {
      state.SkipWithError(buffer.error().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(*buffer);
    if (!pool.free(*buffer).ok()) {
      state.SkipWithError("free refused a live buffer");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_AllocFree)->Arg(64)->Arg(4096)->Arg(1 << 20);
BENCHMARK(BM_AllocFree)->Arg(4096)->Threads(2)->UseRealTime();

// What one zero-copy send adds: alloc, segment, begin_send, then (as the
// ring reports the writes done) end_send and free.
void BM_SendCycle(benchmark::State& state) {
  ZeroCopyPool& pool = Pool::get();
  for (auto _ : state) {
    void* buffer = pool.alloc(4096).value();
    auto segment = pool.segment(buffer, 4096);
    auto token = pool.begin_send(buffer);
    if (!segment || !token) {
      state.SkipWithError("segment or begin_send refused a live buffer");
      break;
    }
    benchmark::DoNotOptimize(segment->offset);
    if (!pool.end_send(*token).ok() || !pool.free(buffer).ok()) {
      state.SkipWithError("end_send or free refused");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SendCycle);

// Validation by address alone: in_flight() of a live buffer (the lookup
// that free, segment and begin_send share).
void BM_Lookup(benchmark::State& state) {
  ZeroCopyPool& pool = Pool::get();
  void* buffer = pool.alloc(64).value();
  for (auto _ : state)
    benchmark::DoNotOptimize(pool.in_flight(buffer));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (!pool.free(buffer).ok()) state.SkipWithError("free refused a live buffer");
}
BENCHMARK(BM_Lookup);

}  // namespace
}  // namespace ringcast::zcb
