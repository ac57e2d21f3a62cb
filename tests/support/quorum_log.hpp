// What the quorum callbacks of a handle saw, through its context, and the
// calls the quorum suites share: the embedded one (tests/client) and the
// one through the daemon (tests/daemon) assert the same lines.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ringcast/quorum.h"

namespace ringcast::quorum_test {

struct QuorumLog {
  std::mutex mutex;
  std::vector<std::string> lines;  // "quorate=1 nodes=[1 2]" / "nodelist ..." / "v0 ..."
  std::string last() {
    std::lock_guard lock(mutex);
    return lines.empty() ? "" : lines.back();
  }
  bool saw(const std::string& line) {
    std::lock_guard lock(mutex);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }
  bool saw_prefix(const std::string& prefix) {
    std::lock_guard lock(mutex);
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.starts_with(prefix); });
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return lines.size();
  }
};

// "[1 2 3]", sorted.
inline std::string list(const uint32_t* nodes, uint32_t n) {
  std::vector<uint32_t> sorted(nodes, nodes + n);
  std::sort(sorted.begin(), sorted.end());
  std::string s = "[";
  for (uint32_t x : sorted)
    s += (s.size() > 1 ? " " : "") + std::to_string(x);
  return s + "]";
}

inline QuorumLog& log_of(quorum_handle_t h) {
  const void* ctx = nullptr;
  quorum_context_get(h, &ctx);
  return *static_cast<QuorumLog*>(const_cast<void*>(ctx));
}

inline void add_line(quorum_handle_t h, std::string line) {
  QuorumLog& log = log_of(h);
  std::lock_guard lock(log.mutex);
  log.lines.push_back(std::move(line));
}

inline void on_quorum(quorum_handle_t h, uint32_t quorate, quorum_ring_id, uint32_t n,
                      const uint32_t* nodes) {
  add_line(h, "quorate=" + std::to_string(quorate) + " nodes=" + list(nodes, n));
}

inline void on_nodelist(quorum_handle_t h, quorum_ring_id, uint32_t n, const uint32_t* nodes,
                        uint32_t nj, const uint32_t* joined, uint32_t nl, const uint32_t* left) {
  add_line(
      h, "nodelist " + list(nodes, n) + " joined=" + list(joined, nj) + " left=" + list(left, nl));
}

inline void on_quorum_v0(quorum_handle_t h, uint32_t quorate, uint64_t, uint32_t n,
                         uint32_t* nodes) {
  add_line(h, "v0 quorate=" + std::to_string(quorate) + " nodes=" + list(nodes, n));
}

inline int quorate(quorum_handle_t h) {
  int q = -1;
  EXPECT_EQ(quorum_getquorate(h, &q), CS_OK);
  return q;
}

// Dispatches `drain` until pred() holds, for at most `timeout`.
inline bool until(const std::function<bool()>& pred, const std::vector<quorum_handle_t>& drain = {},
                  std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    for (quorum_handle_t h : drain)
      quorum_dispatch(h, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace ringcast::quorum_test
