// Completion statuses of the simulated fabric: the numbers and texts of
// libibverbs' enum ibv_wc_status and ibv_wc_status_str(), so code and logs
// read the same on both backends (without including verbs headers here).
#pragma once

#include <cstdint>

namespace ringcast::fabric::sim {

enum class WcStatus : std::uint8_t {
  success = 0,                 // IBV_WC_SUCCESS
  local_protection_error = 4,  // IBV_WC_LOC_PROT_ERR: a source region was deregistered
  flushed = 5,                 // IBV_WC_WR_FLUSH_ERR: queued behind a failure
  remote_access_error = 10,    // IBV_WC_REM_ACCESS_ERR: bad rkey or out of bounds
  retry_exceeded = 12,         // IBV_WC_RETRY_EXC_ERR: the peer never answered
};

inline const char* wc_status_text(WcStatus status) noexcept {
  switch (status) {
    case WcStatus::success:
      return "success";
    case WcStatus::local_protection_error:
      return "local protection error";
    case WcStatus::flushed:
      return "Work Request Flushed Error";
    case WcStatus::remote_access_error:
      return "remote access error";
    case WcStatus::retry_exceeded:
      return "transport retry counter exceeded";
  }
  return "unknown";
}

}  // namespace ringcast::fabric::sim
