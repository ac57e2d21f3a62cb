// cpg_zcb_* of a client-mode handle whose daemon mapped it a zcb segment:
// the daemon hands out buffers inside the segment (by offset) and sends them
// from there, so the NIC reads the program's own pages. A send is answered
// as in embedded mode: once the buffer may be written again.
#include "client/daemon_connection.hpp"

namespace ringcast::client {

bool DaemonConnection::in_zcb_segment(const void* p, std::size_t bytes) const noexcept {
  const std::span<std::byte> seg = channel_.zcb_segment.bytes();
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const auto base = reinterpret_cast<std::uintptr_t>(seg.data());
  return !seg.empty() && a >= base && a - base < seg.size() && bytes <= seg.size() - (a - base);
}

cs_error_t DaemonConnection::segment_alloc(std::size_t bytes, void** buffer) {
  const std::span<std::byte> seg = channel_.zcb_segment.bytes();
  // The daemon refuses (as malformed) a buffer larger than the segment.
  if (bytes > seg.size()) return CS_ERR_NO_MEMORY;
  std::uint64_t offset = 0;
  if (cs_error_t e = simple_call(ipc::ZcbAlloc{remote_handle_, bytes}, &offset); e != CS_OK)
    return e;
  if (offset >= seg.size()) {
    die("zcb_alloc answered an offset outside the zcb segment");
    return CS_ERR_LIBRARY;
  }
  {
    std::lock_guard lock(zcb_mutex_);
    segment_live_.insert(offset);
  }
  *buffer = seg.data() + offset;
  return CS_OK;
}

// Not a round trip: the library knows its live buffers, and the daemon takes
// this one back before the request that follows (an alloc that needs its
// room). A free the daemon still refuses is logged and counted there.
cs_error_t DaemonConnection::segment_free(void* buffer) {
  if (cs_error_t e = usable(); e != CS_OK) return e;
  const auto offset = static_cast<std::uint64_t>(static_cast<std::byte*>(buffer) -
                                                 channel_.zcb_segment.bytes().data());
  {
    std::lock_guard lock(zcb_mutex_);
    if (segment_live_.erase(offset) == 0) return CS_ERR_INVALID_PARAM;
  }
  ipc::EncodedFrame frame;
  ipc::encode(ipc::Request{0, ipc::ZcbFree{remote_handle_, offset}}, frame);
  std::lock_guard lock(push_mutex_);
  return push_frame(frame);
}

cs_error_t DaemonConnection::segment_mcast(cpg_guarantee_t guarantee, void* buffer,
                                           std::size_t bytes) {
  if (bytes > largest_message_bytes()) return CS_ERR_TOO_BIG;
  if (!in_zcb_segment(buffer, bytes)) return CS_ERR_INVALID_PARAM;
  const auto offset = static_cast<std::uint64_t>(static_cast<std::byte*>(buffer) -
                                                 channel_.zcb_segment.bytes().data());
  std::uint64_t in_place = 0;
  const cs_error_t e = simple_call(
      ipc::ZcbMcast{remote_handle_, static_cast<std::uint32_t>(guarantee), offset, bytes},
      &in_place);
  if (e == CS_ERR_TRY_AGAIN) spill_refs();  // as mcast: the log may hold our own deliveries
  if (e != CS_OK) return e;
  send_taken();
  in_place = std::min<std::uint64_t>(in_place, bytes);
  zcb_sends_.fetch_add(1, std::memory_order_relaxed);
  zcb_in_place_.fetch_add(in_place, std::memory_order_relaxed);
  zcb_bytes_.fetch_add(bytes - in_place, std::memory_order_relaxed);
  return CS_OK;
}

}  // namespace ringcast::client
