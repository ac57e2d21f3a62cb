// What the client-daemon protocol refuses, as a value: a code a program can
// act on (evict the client, answer with an error) and a message naming the
// rule and the numbers that broke it. Every malformed input has its code;
// nothing a peer sends is asserted on.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.hpp"

namespace ringcast::ipc {

enum class IpcErrc : std::uint8_t {
  truncated,          // shorter than the header or the type's fixed layout
  trailing_bytes,     // longer than the type's layout says
  unknown_type,       // no message of that type exists
  wrong_direction,    // an event in the request ring, or a request in the event ring
  reserved_not_zero,  // a reserved field holds something
  bad_group_name,     // a group name longer than kMaxGroupNameBytes
  bad_field,          // an enumerated field out of range (guarantee, model, kind)
  too_big,            // a payload or allocation above the configured maximum
  out_of_segment,     // offset + length beyond the shared segment it names
  bad_count,          // a count above its maximum or disagreeing with the size
  version_mismatch,   // the two sides speak different protocol versions
  quota_requests,     // more requests in flight than the client's quota
  quota_zcb_bytes,    // more zero-copy bytes than the client's quota
  quota_wakeups,      // more wake-ups per second than the client's quota
  quota_unreleased,   // more unreleased delivery bytes than the client's quota
  quota_credit,       // a credited mcast beyond the credit the daemon granted
};

const char* ipc_errc_name(IpcErrc code) noexcept;

struct IpcError {
  IpcErrc code = IpcErrc::truncated;
  std::string message;  // "<code name>: <what and the numbers>"
};

IpcError ipc_error(IpcErrc code, std::string detail);

template <class T>
using IpcResult = Result<T, IpcError>;
using IpcStatus = Result<void, IpcError>;

}  // namespace ringcast::ipc
