#include "ipc/ipc_error.hpp"

#include <utility>

namespace ringcast::ipc {

const char* ipc_errc_name(IpcErrc code) noexcept {
  switch (code) {
    case IpcErrc::truncated:
      return "truncated";
    case IpcErrc::trailing_bytes:
      return "trailing bytes";
    case IpcErrc::unknown_type:
      return "unknown type";
    case IpcErrc::wrong_direction:
      return "wrong direction";
    case IpcErrc::reserved_not_zero:
      return "reserved field not zero";
    case IpcErrc::bad_group_name:
      return "bad group name";
    case IpcErrc::bad_field:
      return "bad field";
    case IpcErrc::too_big:
      return "too big";
    case IpcErrc::out_of_segment:
      return "out of segment";
    case IpcErrc::bad_count:
      return "bad count";
    case IpcErrc::version_mismatch:
      return "protocol version mismatch";
    case IpcErrc::quota_requests:
      return "quota: requests in flight";
    case IpcErrc::quota_zcb_bytes:
      return "quota: zero-copy bytes";
    case IpcErrc::quota_wakeups:
      return "quota: wake-ups";
    case IpcErrc::quota_unreleased:
      return "quota: unreleased deliveries";
    case IpcErrc::quota_credit:
      return "quota: credited mcasts";
  }
  return "unknown error";
}

IpcError ipc_error(IpcErrc code, std::string detail) {
  std::string message = ipc_errc_name(code);
  message += ": ";
  message += detail;
  return IpcError{code, std::move(message)};
}

}  // namespace ringcast::ipc
