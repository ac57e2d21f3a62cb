#include "ipc/decode_checks.hpp"

#include <algorithm>
#include <span>

#include "ipc/frame_codec.hpp"

namespace ringcast::ipc::detail {
namespace {

std::string named(MessageType type) {
  return message_type_name(type);
}
std::string num(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

IpcStatus check_fixed(const FieldReader& r, MessageType type, std::size_t frame_bytes) {
  if (!r.failed()) return {};
  return ipc_error(IpcErrc::truncated,
                   named(type) + " frame of " + num(frame_bytes) + " bytes ends inside its fields");
}

IpcStatus check_complete(const FieldReader& r, MessageType type, std::size_t frame_bytes) {
  RC_TRY(check_fixed(r, type, frame_bytes));
  if (r.left() == 0) return {};
  return ipc_error(IpcErrc::trailing_bytes, named(type) + " frame of " + num(frame_bytes) +
                                                " bytes has " + num(r.left()) +
                                                " bytes after its fields");
}

IpcStatus check_group(const GroupName& group, MessageType type) {
  if (group.length > kMaxGroupNameBytes)
    return ipc_error(IpcErrc::bad_group_name, named(type) + " names a group of " +
                                                  num(group.length) + " bytes (at most " +
                                                  num(kMaxGroupNameBytes) + ")");
  // Zeros past the name keep one encoding per name (and no stray bytes).
  const auto tail = std::span(group.value).subspan(group.length);
  if (std::all_of(tail.begin(), tail.end(), [](char c) { return c == 0; })) return {};
  return ipc_error(IpcErrc::bad_group_name,
                   named(type) + " group name has bytes past its length of " + num(group.length));
}

IpcStatus check_reserved(std::uint32_t value, MessageType type) {
  if (value == 0) return {};
  return ipc_error(IpcErrc::reserved_not_zero,
                   named(type) + " has " + num(value) + " in a reserved field");
}

IpcStatus check_field(bool ok, MessageType type, const char* field, std::uint64_t value) {
  if (ok) return {};
  return ipc_error(IpcErrc::bad_field,
                   named(type) + " " + field + " " + num(value) + " is out of range");
}

IpcStatus check_range(std::uint64_t offset, std::uint64_t length, std::uint64_t segment_bytes,
                      MessageType type, const char* segment) {
  if (offset <= segment_bytes && length <= segment_bytes - offset) return {};
  return ipc_error(IpcErrc::out_of_segment, named(type) + " names [" + num(offset) + ", +" +
                                                num(length) + ") outside the " + segment + " of " +
                                                num(segment_bytes) + " bytes");
}

IpcStatus check_size(std::uint64_t bytes, std::uint64_t max_bytes, MessageType type,
                     const char* what) {
  if (bytes <= max_bytes) return {};
  return ipc_error(IpcErrc::too_big, named(type) + " " + what + " of " + num(bytes) +
                                         " bytes (at most " + num(max_bytes) + ")");
}

IpcStatus check_count(std::uint64_t count, std::uint64_t max_count, std::size_t entry_bytes,
                      const FieldReader& r, MessageType type, const char* what) {
  if (count > max_count)
    return ipc_error(IpcErrc::bad_count, named(type) + " has " + num(count) + " " + what +
                                             " (at most " + num(max_count) + ")");
  if (count * entry_bytes == r.left()) return {};
  return ipc_error(IpcErrc::bad_count, named(type) + " says " + num(count) + " " + what + " of " +
                                           num(entry_bytes) + " bytes, " + num(r.left()) +
                                           " bytes follow");
}

IpcStatus check_header(FieldReader& r, std::size_t frame_bytes, bool want_request,
                       MessageType& type, std::uint64_t& request_id) {
  if (frame_bytes < kFrameHeaderBytes)
    return ipc_error(IpcErrc::truncated, "frame of " + num(frame_bytes) +
                                             " bytes (the header alone takes " +
                                             num(kFrameHeaderBytes) + ")");
  const std::uint32_t raw = r.u32();
  const std::uint32_t reserved = r.u32();
  request_id = r.u64();
  const bool is_request = raw >= kFirstRequest && raw <= kLastRequest;
  const bool is_event = raw >= kFirstEvent && raw <= kLastEvent;
  if (!is_request && !is_event) return ipc_error(IpcErrc::unknown_type, "type " + num(raw));
  type = static_cast<MessageType>(raw);
  if (is_request != want_request)
    return ipc_error(IpcErrc::wrong_direction,
                     named(type) + (want_request ? " is an event, not a request"
                                                 : " is a request, not an event"));
  return check_reserved(reserved, type);
}

}  // namespace ringcast::ipc::detail
