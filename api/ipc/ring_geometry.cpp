#include "ipc/ring_geometry.hpp"

#include <bit>
#include <string>

namespace ringcast::ipc {

Status check_geometry(std::span<std::byte> segment, std::size_t capacity,
                      std::uint64_t max_frame_bytes, const char* call) {
  if (reinterpret_cast<std::uintptr_t>(segment.data()) % kFalseSharingBytes != 0)
    return make_error(Errc::invalid_argument, call, "segment not aligned to 128 bytes");
  if (capacity < kMinRingCapacity || !std::has_single_bit(capacity) ||
      segment.size() != ring_segment_bytes(capacity))
    return make_error(Errc::invalid_argument, call,
                      "segment of " + std::to_string(segment.size()) +
                          " bytes is not a header page plus a power-of-two capacity of at least " +
                          std::to_string(kMinRingCapacity));
  if (max_frame_bytes == 0 || padded_frame_bytes(max_frame_bytes) > capacity)
    return make_error(Errc::invalid_argument, call,
                      "largest frame of " + std::to_string(max_frame_bytes) +
                          " bytes does not fit a ring of " + std::to_string(capacity));
  return {};
}

}  // namespace ringcast::ipc
