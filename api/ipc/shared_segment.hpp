// Shared memory between the daemon and one client: a memfd the daemon
// creates, sizes, maps and seals before any client sees it, so that a
// client can neither shrink it under the daemon (a daemon touching a page
// past a shrunk end would die of SIGBUS) nor grow it, nor lift or add seals.
// A segment the clients may only read (the receive log) is also sealed
// against future writes: the daemon keeps its writable mapping, a client's
// mmap with PROT_WRITE fails.
//
// The client side receives the descriptor (fd_passing.hpp) and maps it with
// map_received(), which refuses an unsealed or wrongly sized segment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace ringcast::ipc {

enum class PeerAccess : std::uint8_t {
  read_write,  // rings, zcb segments: both sides write
  read_only,   // the receive log: only the daemon writes
};

// The seals every segment carries; read_only ones add F_SEAL_FUTURE_WRITE.
unsigned required_seals(PeerAccess access) noexcept;

// A mapping, unmapped when dropped.
class Mapping {
 public:
  Mapping() = default;
  Mapping(void* base, std::size_t bytes) noexcept : base_(base), bytes_(bytes) {}
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { reset(); }

  std::span<std::byte> bytes() const noexcept { return {static_cast<std::byte*>(base_), bytes_}; }
  void reset() noexcept;

 private:
  void* base_ = nullptr;
  std::size_t bytes_ = 0;
};

// The daemon's side: the descriptor (to pass) and its own writable mapping.
struct SharedSegment {
  UniqueFd fd;
  Mapping mapping;
};

// bytes rounded up to a whole number of pages (a ring is a 4 KiB header
// plus its capacity: on a host of 64 KiB pages its segment is rounded up).
std::size_t page_rounded(std::size_t bytes) noexcept;

// memfd_create(name) of `bytes` (a multiple of the page size), mapped
// read-write here, sealed for `access`.
Result<SharedSegment> create_sealed_segment(const std::string& name, std::size_t bytes,
                                            PeerAccess access);

// A descriptor of the segment opened read-only (through /proc/self/fd), to
// pass to a client: it cannot write through it, and the segment's seals
// keep it from writing through any other it might open.
Result<UniqueFd> read_only_descriptor(const SharedSegment& segment);

// The client's side: checks that fd carries the seals of `access` and is
// exactly `bytes` long, then maps it (read-only for PeerAccess::read_only).
Result<Mapping> map_received(int fd, std::size_t bytes, PeerAccess access);

}  // namespace ringcast::ipc
