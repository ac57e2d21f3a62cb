// The seeds a randomized simulation test runs, from the environment, and the
// line that replays a failing one. Shared by every many-seed test.
//
//   RINGCAST_SEEDS=N         run N seeds (default: the test's) from RINGCAST_FIRST_SEED (default 1)
//   RINGCAST_SEED=S          replay one seed; add RINGCAST_TRACE=1 for every event
//   RINGCAST_DIGESTS=FILE    append one line per seed: the seed and its outcome's digest
//                            (compare two builds' files to show that a change kept behaviour)
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>

namespace ringcast::sim_test {

inline std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

struct SeedRange {
  std::uint64_t first = 1;
  std::uint64_t count = 0;
  bool replay = false;  // RINGCAST_SEED: one seed
  bool trace = false;   // only when replaying one seed: a trace of thousands would drown the log

  static SeedRange from_env(std::uint64_t default_count) {
    const bool replay = std::getenv("RINGCAST_SEED") != nullptr;
    SeedRange r;
    r.replay = replay;
    r.first = replay ? env_or("RINGCAST_SEED", 1) : env_or("RINGCAST_FIRST_SEED", 1);
    r.count = replay ? 1 : env_or("RINGCAST_SEEDS", default_count);
    r.trace = replay && std::getenv("RINGCAST_TRACE") != nullptr;
    return r;
  }
  std::uint64_t end() const noexcept { return first + count; }
};

// "RINGCAST_SEED=<seed> /path/to/this/test" (run it to replay exactly).
inline std::string replay_command(std::uint64_t seed) {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  const std::string self = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "<this test>";
  return "RINGCAST_SEED=" + std::to_string(seed) + " " + self;
}

// Runs run_one(seed) for every seed of the range; run_one returns a
// failure's description (what failed, the scenario), or nothing. Each
// failure is reported with its replay line; the run stops at the fifth.
// Returns the seconds it took.
template <class RunOne>
double for_each_seed(const SeedRange& seeds, RunOne run_one) {
  int failures = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t seed = seeds.first; seed < seeds.end(); ++seed) {
    const std::optional<std::string> failure = run_one(seed);
    if (!failure) continue;
    ADD_FAILURE() << "seed " << seed << ": " << *failure << "\n  replay: " << replay_command(seed)
                  << "   (RINGCAST_TRACE=1 for every event)";
    if (++failures >= 5) break;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One line per seed of "seed value value ..." in RINGCAST_DIGESTS, when set:
// everything a run's outcome is made of (virtual time, event counts, hashes of
// what each member delivered), so that two builds' files are equal exactly
// when every seed behaved the same.
class DigestLog {
 public:
  DigestLog() {
    const char* path = std::getenv("RINGCAST_DIGESTS");
    if (path != nullptr && *path != '\0') file_ = std::fopen(path, "a");
  }
  ~DigestLog() {
    if (file_ != nullptr) std::fclose(file_);
  }
  DigestLog(const DigestLog&) = delete;
  DigestLog& operator=(const DigestLog&) = delete;

  void add(std::uint64_t seed, std::initializer_list<std::uint64_t> values) {
    if (file_ == nullptr) return;
    std::fprintf(file_, "%llu", static_cast<unsigned long long>(seed));
    for (std::uint64_t v : values)
      std::fprintf(file_, " %llu", static_cast<unsigned long long>(v));
    std::fputc('\n', file_);
  }

 private:
  std::FILE* file_ = nullptr;
};

// FNV-1a over 64-bit values, for digests of delivery sequences.
inline std::uint64_t fnv1a(std::uint64_t h, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xffu;
    h *= 0x100000001b3ull;
  }
  return h;
}
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;

}  // namespace ringcast::sim_test
