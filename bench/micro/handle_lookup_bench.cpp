// What a C call pays to find the object behind its handle
// (client::HandleRegistry), over N handles used in turn, as corosync's
// stress_cpgcontext does with 100. A registry whose per-thread cache holds
// fewer handles than are in use misses every time (the table's mutex and
// hash lookup); one that holds them all takes an atomic load and a weak_ptr
// lock.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "client/handle_registry.hpp"

namespace {

struct Object {
  std::uint64_t handle = 0;
  void* context = nullptr;
};

template <std::size_t kCached>
void BM_FindInTurn(benchmark::State& state) {
  ringcast::client::HandleRegistry<Object, kCached> registry(
      ringcast::client::random_first_handle());
  std::vector<std::uint64_t> handles;
  for (std::int64_t i = 0; i < state.range(0); ++i)
    handles.push_back(registry.add(std::make_shared<Object>()));
  std::size_t next = 0;
  for (auto _ : state) {
    auto object = registry.find(handles[next]);
    object->context = &next;
    benchmark::DoNotOptimize(object.get());
    next = next + 1 == handles.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(state.iterations());
}

// The default cache, and one of 4 (smaller than 100 handles: every lookup misses).
BENCHMARK(BM_FindInTurn<128>)->Arg(1)->Arg(4)->Arg(100);
BENCHMARK(BM_FindInTurn<4>)->Arg(1)->Arg(100);

}  // namespace
