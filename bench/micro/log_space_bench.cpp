// Micro-benchmark of the log's space accounting (ring/log_space.hpp): the
// placement and space-rule check the token holder runs for every record it
// sends, over a log that wraps many times while the slowest member releases
// behind the head.
//
//   build/bench/micro/log_space_bench
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

#include "ring/log_space.hpp"
#include "ring/record.hpp"

namespace ringcast::ring {
namespace {

// Payload sizes of a mixed workload, cycled through (prime length, so the
// wrap points move around the log).
constexpr std::array<std::uint64_t, 7> kPayloadBytes{64, 1000, 16384, 100, 65536, 7, 4000};

// State of one holder's view of the global log.
struct LogView {
  std::uint64_t log_bytes;
  std::uint64_t written_end = 0;   // end of everything placed
  std::uint64_t min_released = 0;  // slowest member's released position
  std::uint64_t refused = 0;       // placements the space rule refused

  // One record: place it, check the space rule; when refused, the slowest
  // member catches up (a release arrives on the next token) and it retries.
  std::uint64_t place(std::uint64_t payload_bytes) {
    const std::uint64_t span = record_span_bytes(payload_bytes);
    std::uint64_t position = place_position(written_end, span, log_bytes);
    while (!fits_space(position, span, min_released, written_end, log_bytes)) {
      ++refused;
      min_released += (written_end - min_released) / 2 + 64;  // half the backlog released
      if (min_released > written_end) min_released = written_end;
      position = place_position(written_end, span, log_bytes);
    }
    written_end = position + span;
    return span;
  }
};

void BM_LogPlaceRecord(benchmark::State& state) {
  LogView log{static_cast<std::uint64_t>(state.range(0))};
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(log.place(kPayloadBytes[i]));
    i = i + 1 == kPayloadBytes.size() ? 0 : i + 1;
  }
  benchmark::DoNotOptimize(log.written_end);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["refused/record"] =
      static_cast<double>(log.refused) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_LogPlaceRecord)->Arg(1 << 20)->Arg(16 << 20);

// The check alone, as the receiver runs it on a landed batch (its view of the
// space rule), over positions spread across several laps.
void BM_LogFitsSpace(benchmark::State& state) {
  constexpr std::uint64_t kLog = 16u << 20;
  std::uint64_t position = 3 * kLog + 4096;
  std::uint64_t fits = 0;
  for (auto _ : state) {
    const std::uint64_t min_released = position - kLog / 2;
    fits += fits_space(position, 1088, min_released, position, kLog) ? 1 : 0;
    position += 1088;
  }
  benchmark::DoNotOptimize(fits);
  if (fits != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("refused");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_LogFitsSpace);

}  // namespace
}  // namespace ringcast::ring
