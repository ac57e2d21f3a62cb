// The simulator's one source of randomness.
//
// Every random choice of a simulated run (latency jitter, which in-flight
// writes survive a crash, fault times chosen by a test) is drawn from one
// SimRandom seeded from the run's seed, in event order, so a seed replays the
// run exactly. Never std::random_device, time, or addresses: they differ
// between runs.
//
// xoshiro256** (Blackman and Vigna) for the stream, its 256-bit state filled
// by splitmix64 from the 64-bit seed, as its authors recommend: fast (a few
// cycles per draw), well distributed, and identical on every platform.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

#include "base/assert.hpp"

namespace ringcast::fabric::sim {

class SimRandom {
 public:
  explicit SimRandom(std::uint64_t seed) noexcept {
    std::uint64_t x = seed;
    for (auto& word : state_)
      word = splitmix64(x);
  }

  std::uint64_t next() noexcept {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound). Lemire's multiply-shift with rejection, so there
  // is no modulo bias even for large bounds.
  std::uint64_t below(std::uint64_t bound) noexcept {
    RC_ASSERT(bound > 0);
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi], both included.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept {
    RC_ASSERT(lo <= hi);
    if (hi - lo == UINT64_MAX) return next();
    return lo + below(hi - lo + 1);
  }

  // True with probability 1/n (n >= 1).
  bool one_in(std::uint64_t n) noexcept { return below(n) == 0; }

  // True with probability numerator/denominator.
  bool chance(std::uint64_t numerator, std::uint64_t denominator) noexcept {
    return below(denominator) < numerator;
  }

  static std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  std::array<std::uint64_t, 4> state_{};
};

}  // namespace ringcast::fabric::sim
