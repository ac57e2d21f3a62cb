// What a test's handles delivered, one line "<nodeid> <bytes> <crc32c>" per
// message, and a handle that records into one on a node of a simulated
// cluster: the large-message tests compare these lines across members.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/crc32c.hpp"
#include "cpg_sim_cluster.hpp"

namespace ringcast::cpg_test {

struct Deliveries {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::size_t size() {
    std::lock_guard lock(mutex);
    return lines.size();
  }
  std::vector<std::string> copy() {
    std::lock_guard lock(mutex);
    return lines;
  }
};

inline std::string describe(std::uint32_t node, std::span<const std::byte> bytes) {
  return std::to_string(node) + " " + std::to_string(bytes.size()) + " " +
         std::to_string(crc32c(bytes));
}

inline void record_delivery(cpg_handle_t h, const cpg_name*, uint32_t nodeid, uint32_t, void* msg,
                            size_t len) {
  void* ctx = nullptr;
  cpg_context_get(h, &ctx);
  auto& d = *static_cast<Deliveries*>(ctx);
  const std::string line = describe(nodeid, {static_cast<const std::byte*>(msg), len});
  std::lock_guard lock(d.mutex);
  d.lines.push_back(line);
}

// A handle on node i, joined to `group`, recording into d.
inline cpg_handle_t open_recording(SimNodes& nodes, std::size_t i, Deliveries& d,
                                   std::string_view group) {
  auto use = nodes.use(i);
  cpg_model_v1_data_t m{};
  m.model = CPG_MODEL_V1;
  m.cpg_deliver_fn = record_delivery;
  cpg_handle_t h = 0;
  EXPECT_EQ(cpg_model_initialize(&h, CPG_MODEL_V1, reinterpret_cast<cpg_model_data_t*>(&m), &d),
            CS_OK);
  EXPECT_EQ(join_retry(h, std::string(group), {h}), CS_OK);
  return h;
}

}  // namespace ringcast::cpg_test
