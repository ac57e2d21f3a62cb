// The checks both decoders share, each returning the IpcError of its rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "ipc/ipc_error.hpp"
#include "ipc/messages.hpp"
#include "ipc/wire_cursor.hpp"

namespace ringcast::ipc::detail {

// The fields read so far were all there, and nothing follows them.
IpcStatus check_complete(const FieldReader& r, MessageType type, std::size_t frame_bytes);
// The fixed fields were all there (before a variable part is read).
IpcStatus check_fixed(const FieldReader& r, MessageType type, std::size_t frame_bytes);
// At most kMaxGroupNameBytes, zeros past the length.
IpcStatus check_group(const GroupName& group, MessageType type);
IpcStatus check_reserved(std::uint32_t value, MessageType type);
IpcStatus check_field(bool ok, MessageType type, const char* field, std::uint64_t value);
// [offset, offset + length) lies in a segment of segment_bytes (no overflow).
IpcStatus check_range(std::uint64_t offset, std::uint64_t length, std::uint64_t segment_bytes,
                      MessageType type, const char* segment);
IpcStatus check_size(std::uint64_t bytes, std::uint64_t max_bytes, MessageType type,
                     const char* what);
// count entries of entry_bytes each: at most max_count, and exactly what is left.
IpcStatus check_count(std::uint64_t count, std::uint64_t max_count, std::size_t entry_bytes,
                      const FieldReader& r, MessageType type, const char* what);
// The common header; type is out when it returns success.
IpcStatus check_header(FieldReader& r, std::size_t frame_bytes, bool want_request,
                       MessageType& type, std::uint64_t& request_id);

}  // namespace ringcast::ipc::detail
