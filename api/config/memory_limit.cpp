// The default bound on zero-copy memory: see default_zero_copy_max_bytes().
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

#include "config/cluster_config.hpp"

namespace ringcast::config {
namespace {

constexpr int kCapIpcLock = 14;  // linux/capability.h

// Whether the effective capabilities (/proc/self/status, CapEff) hold
// CAP_IPC_LOCK; false when they cannot be read.
bool may_pin_without_limit() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    const unsigned long long caps = std::strtoull(line.c_str() + 7, nullptr, 16);
    return ((caps >> kCapIpcLock) & 1) != 0;
  }
  return false;
}

std::uint64_t quarter_of_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_bytes = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_bytes <= 0) return std::uint64_t{1} << 30;  // unknown: 1 GiB
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_bytes) / 4;
}

}  // namespace

std::uint64_t default_zero_copy_max_bytes() {
  const std::uint64_t quarter = quarter_of_memory();
  rlimit memlock{};
  if (::getrlimit(RLIMIT_MEMLOCK, &memlock) != 0 || memlock.rlim_cur == RLIM_INFINITY ||
      may_pin_without_limit())
    return quarter;
  return std::min<std::uint64_t>(memlock.rlim_cur, quarter);
}

}  // namespace ringcast::config
