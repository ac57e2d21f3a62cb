// The fabric: the one seam between ringcast's protocol layers and RDMA.
//
// ring/ and membership/ see only these types. Two backends implement them:
// verbs/ (libibverbs + librdmacm: real NICs and rxe) and sim/ (a deterministic
// simulator with virtual time). Both keep the semantics of reliable-connected
// queue pairs that the protocol relies on:
//   * per-link FIFO: writes posted on one link land at the peer in post order;
//   * a one-sided write lands in the peer's registered memory without the
//     peer's CPU; the peer may trust the bytes of a write only once the write
//     WITH IMMEDIATE that carries them (or a later one on the same link) has
//     produced a `received_imm` completion on its side;
//   * a failed link fails every write still queued on it, and reports it.
//
// Connection set-up differs per backend (rdma_cm vs. a direct call in the
// simulator) and lives with each backend; what the peer learns at set-up is a
// ConnectInfo (below), whose wire format is the backends' business
// (connect_info.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/result.hpp"

namespace ringcast::fabric {

using NodeId = std::uint32_t;

enum class Access : std::uint8_t {
  local_only,    // a source of writes (send buffers, zero-copy buffers)
  remote_write,  // peers may write into it (receive logs, token mailboxes)
};

// What a peer needs to write into one of our regions.
struct RemoteRegion {
  std::uint64_t addr = 0;
  std::uint32_t length = 0;
  std::uint32_t rkey = 0;

  bool contains(std::uint64_t offset, std::uint64_t bytes) const noexcept {
    return offset <= length && bytes <= length - offset;
  }
  friend bool operator==(const RemoteRegion&, const RemoteRegion&) = default;
};

inline constexpr std::size_t kMaxConnectRegions = 2;

// What one side of a link tells the other at connection set-up: who it is
// and the regions the peer may write into. The protocol drivers fill it; the
// backends carry it (connect_info.hpp encodes it for rdma_cm).
struct ConnectInfo {
  // The set-up messages' format version (kSetupVersion in connect_info.hpp).
  static constexpr std::uint8_t kVersion = 2;

  std::uint8_t version = kVersion;
  NodeId node = 0;
  std::uint32_t incarnation = 0;  // a restart changes it
  std::uint16_t flags = 0;
  std::uint8_t region_count = 0;
  std::array<RemoteRegion, kMaxConnectRegions> regions{};

  std::span<const RemoteRegion> region_span() const noexcept {
    return {regions.data(), region_count};
  }
  friend bool operator==(const ConnectInfo&, const ConnectInfo&) = default;
};

// Registered memory. The backend fills the fields; accessors are not virtual
// because the hot path reads them for every write.
class MemoryRegion {
 public:
  virtual ~MemoryRegion() = default;
  MemoryRegion(const MemoryRegion&) = delete;
  MemoryRegion& operator=(const MemoryRegion&) = delete;

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<std::byte> bytes() const noexcept { return {data_, size_}; }
  std::uint32_t lkey() const noexcept { return lkey_; }
  Access access() const noexcept { return access_; }
  bool contains(const void* p, std::size_t len) const noexcept {
    auto* b = static_cast<const std::byte*>(p);
    return b >= data_ && len <= size_ && b - data_ <= static_cast<std::ptrdiff_t>(size_ - len);
  }
  // Only for regions registered with Access::remote_write.
  RemoteRegion remote() const noexcept {
    RC_ASSERT(access_ == Access::remote_write);
    return {reinterpret_cast<std::uint64_t>(data_), static_cast<std::uint32_t>(size_), rkey_};
  }

 protected:
  MemoryRegion() = default;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::uint32_t lkey_ = 0;
  std::uint32_t rkey_ = 0;
  Access access_ = Access::local_only;
};

// A piece of local registered memory that a write reads from.
struct Segment {
  const MemoryRegion* region = nullptr;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
};

inline constexpr std::size_t kMaxSegments = 2;  // record header + payload

// One RDMA WRITE (or WRITE WITH IMMEDIATE). The backend inlines it when it
// fits the link's max_inline_bytes(), so the caller must not assume the
// source is read at any particular time: it may reuse the source only after a
// completion for this write, or for a later write on the same link, arrived.
struct WriteOp {
  std::uint64_t wr_id = 0;  // returned in this write's completion
  std::array<Segment, kMaxSegments> segments{};
  std::uint8_t segment_count = 0;
  std::uint64_t remote_offset = 0;  // offset into the peer's region
  std::uint8_t remote_region = 0;   // index into the peer's ConnectInfo regions
  bool with_imm = false;
  std::uint32_t imm = 0;
  // Ask for a write_done completion. Writes not signaled complete silently;
  // the backend signals some on its own to keep the send queue draining and
  // never reports those.
  bool signaled = false;

  std::uint32_t length() const noexcept {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < segment_count; ++i)
      n += segments[i].length;
    return n;
  }
};

enum class CompletionType : std::uint8_t {
  write_done,    // a signaled write finished; its source may be reused
  received_imm,  // a peer's write with immediate landed here
  write_failed,  // a write failed; the link is broken from now on
  link_down,     // the peer disconnected or became unreachable
};

struct Completion {
  CompletionType type = CompletionType::write_done;
  NodeId peer = 0;
  std::uint64_t wr_id = 0;       // write_done, write_failed
  std::uint32_t imm = 0;         // received_imm
  std::uint32_t byte_len = 0;    // received_imm: bytes the write carried
  int status = 0;                // write_failed: backend status (ibv_wc_status)
  const char* status_text = "";  // static string describing `status`
};

// A reliable connection to one peer.
class Link {
 public:
  virtual ~Link() = default;
  virtual NodeId peer() const noexcept = 0;
  // The regions the peer exposed at connection set-up.
  virtual std::span<const RemoteRegion> peer_regions() const noexcept = 0;
  // Posts the chain with one doorbell, in order. Fails with Errc::try_again
  // when the send queue cannot take the whole chain (nothing posted then),
  // Errc::link_failed once the link is broken, Errc::invalid_argument for a
  // write outside the peer's region (checked before posting).
  virtual Status post(std::span<const WriteOp> chain) = 0;
  // Writes the send queue can take now.
  virtual std::uint32_t send_capacity() const noexcept = 0;
  virtual std::uint32_t max_inline_bytes() const noexcept = 0;
  virtual bool failed() const noexcept = 0;
};

// One process's (or one simulated member's) attachment to the fabric: a
// device context, protection domain, completion queue and shared receive
// queue. All links of an endpoint report into its one completion queue.
class Endpoint {
 public:
  virtual ~Endpoint() = default;
  virtual NodeId node() const noexcept = 0;

  virtual Result<std::unique_ptr<MemoryRegion>> allocate(std::size_t bytes, Access access) = 0;
  virtual Result<std::unique_ptr<MemoryRegion>> register_memory(std::span<std::byte> memory,
                                                                Access access) = 0;

  // Non-blocking: moves up to out.size() completions into out, returns how
  // many. Receives for immediates are re-posted by the backend.
  virtual std::size_t poll(std::span<Completion> out) = 0;

  // Monotonic time in nanoseconds: the wall clock for verbs, virtual time in
  // the simulator. The protocol core gets time only from here.
  virtual std::uint64_t now_ns() const noexcept = 0;
};

}  // namespace ringcast::fabric
