// The C API calls of the test programs that run through simulated daemons
// (SimDaemons::use_for_programs): a handle at one node's daemon, and joins
// retried while the ring says CS_ERR_TRY_AGAIN.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include "ringcast/cpg.h"

namespace ringcast::daemon_test {

// A CPG_MODEL_V1 handle at node's daemon, `context` its cpg_context; 0 when
// cpg_model_initialize failed.
inline cpg_handle_t open_program_on(std::uint32_t node, cpg_deliver_fn_t deliver,
                                    cpg_confchg_fn_t confchg, void* context) {
  ::setenv("RINGCAST_NODE_ID", std::to_string(node).c_str(), 1);
  cpg_model_v1_data_t m{};
  m.model = CPG_MODEL_V1;
  m.cpg_deliver_fn = deliver;
  m.cpg_confchg_fn = confchg;
  cpg_handle_t h = 0;
  if (cpg_model_initialize(&h, CPG_MODEL_V1, reinterpret_cast<cpg_model_data_t*>(&m), context) !=
      CS_OK)
    return 0;
  return h;
}

inline cpg_name group_name(std::string_view group) {
  cpg_name n{};
  n.length = static_cast<uint32_t>(group.size());
  std::memcpy(n.value, group.data(), group.size());
  return n;
}

// cpg_join, again while the ring is reforming or syncing.
inline cs_error_t join_retrying(cpg_handle_t h, std::string_view group) {
  const cpg_name g = group_name(group);
  cs_error_t e;
  while ((e = cpg_join(h, &g)) == CS_ERR_TRY_AGAIN)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return e;
}

}  // namespace ringcast::daemon_test
