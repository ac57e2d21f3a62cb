// ringcast's C++ API: closed process groups with totally ordered delivery
// over RDMA, the same implementation as the C API of <ringcast/cpg.h>.
//
//   ringcast::cpg::Callbacks cb;
//   cb.on_message = [](const ringcast::cpg::Message& m) { use(m.bytes); };
//   cb.on_view_change = [](const ringcast::cpg::ViewChange& v) { show(v.members); };
//   auto conn = ringcast::cpg::Connection::open(std::move(cb));
//   if (!conn) die(conn.status().message());
//   conn->join("cluster-state");
//   conn->send(ringcast::cpg::Guarantee::agreed, std::as_bytes(std::span(text)));
//   conn->dispatch(ringcast::cpg::DispatchMode::blocking);   // in some thread
//
// A Connection is one CPG handle (conn->handle() is usable with the C calls
// too). Callbacks run only inside dispatch(), in the thread that calls it.
// Errors are the cs_error_t codes corosync programs know, with a sentence
// that says what went wrong (Status::message()). docs/api.md has the rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ringcast/cpg.h"

namespace ringcast::client {
class Session;
class Node;
class DaemonBinding;
}  // namespace ringcast::client

// The CPG API in C++ (ringcast's internals use other parts of `ringcast`).
namespace ringcast::cpg {

class Status {
 public:
  Status() = default;  // CS_OK
  explicit Status(cs_error_t code, std::string detail = {})
      : code_(code), detail_(std::move(detail)) {}
  bool ok() const noexcept { return code_ == CS_OK; }
  explicit operator bool() const noexcept { return ok(); }
  cs_error_t code() const noexcept { return code_; }
  const std::string& detail() const noexcept { return detail_; }
  // "CS_ERR_TRY_AGAIN: try again (send queue full)".
  std::string message() const;

 private:
  cs_error_t code_ = CS_OK;
  std::string detail_;
};

// A value or the Status that explains its absence.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  Status status() const { return ok() ? Status{} : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

enum class Guarantee : std::uint8_t {
  unordered = CPG_TYPE_UNORDERED,
  fifo = CPG_TYPE_FIFO,
  agreed = CPG_TYPE_AGREED,
  safe = CPG_TYPE_SAFE,  // delivered once every member of the ring holds it
};

enum class Reason : std::uint8_t {
  join = CPG_REASON_JOIN,
  leave = CPG_REASON_LEAVE,
  node_down = CPG_REASON_NODEDOWN,
  node_up = CPG_REASON_NODEUP,
  process_down = CPG_REASON_PROCDOWN,
};

enum class DispatchMode : int {
  one = CS_DISPATCH_ONE,                          // waits for one callback and runs it
  all = CS_DISPATCH_ALL,                          // runs what is pending, never waits
  blocking = CS_DISPATCH_BLOCKING,                // runs callbacks until close()
  one_nonblocking = CS_DISPATCH_ONE_NONBLOCKING,  // at most one; none: CS_ERR_TRY_AGAIN
};

// A group member: one process (a ring member has one node id per process).
struct Member {
  std::uint32_t node = 0;
  std::uint32_t pid = 0;
  friend bool operator==(const Member&, const Member&) = default;
};

struct MemberChange {
  Member member;
  Reason reason = Reason::join;
};

// A delivered message. `bytes` points into the receive log (no copy): valid
// until the callback returns.
struct Message {
  std::string_view group;
  Member sender;
  std::span<std::byte> bytes;
};

// A group's membership changed; every member sees the same changes at the
// same points of the message stream.
struct ViewChange {
  std::string_view group;
  std::span<const Member> members;  // after the change, in join order
  std::span<const MemberChange> left;
  std::span<const MemberChange> joined;
};

// The ring (Totem's configuration) changed: corosync's totem confchg.
struct RingChange {
  std::uint32_t representative = 0;  // cpg_ring_id.nodeid
  std::uint64_t seq = 0;             // cpg_ring_id.seq: grows with every new ring
  std::span<const std::uint32_t> nodes;
};

struct Callbacks {
  std::function<void(const Message&)> on_message;
  std::function<void(const ViewChange&)> on_view_change;
  std::function<void(const RingChange&)> on_ring_change;
  // Deliver the current ring as a first on_ring_change (corosync's
  // CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF).
  bool initial_ring_change = false;
};

// What the library counted; ringcast_counters_get() of <ringcast/counters.h> in C.
struct Counters {
  std::uint32_t ring_representative = 0;
  std::uint64_t ring_seq = 0;
  std::uint32_t members = 0;
  std::uint64_t tokens_received = 0;
  std::uint64_t tokens_passed = 0;
  std::uint64_t tokens_dropped = 0;
  std::uint64_t records_delivered = 0;
  std::uint64_t records_dropped = 0;       // invalid headers from peers
  std::uint64_t bytes_copied_on_send = 0;  // copying sends (and zero-copy ones below the crossover)
  std::uint64_t messages_dropped_not_member = 0;  // data from a sender not in its group
  std::uint64_t zero_copy_sends = 0;
  std::uint64_t writes_wrong_link = 0;          // refused for the link they came on
  std::uint64_t link_replacements_refused = 0;  // new links refused in place of a live one
  // Messages above the atomic size (max_message_bytes()), sent in fragments.
  std::uint64_t large_messages_sent = 0;       // by this process, delivered
  std::uint64_t large_messages_delivered = 0;  // assembled here, from every sender
  std::uint64_t large_messages_abandoned = 0;  // given up before their last fragment
  std::uint64_t fragments_refused = 0;         // malformed, or continuing nothing
  std::uint64_t bytes_copied_on_assembly = 0;  // from the log into assembled messages
  std::uint64_t handles_evicted = 0;  // this process's handles evicted (docs/api.md "Eviction")
  std::uint64_t joins_refused = 0;    // this process's joins refused at delivery (a bound)
  std::uint64_t messages_unsent_on_leave = 0;  // queued when the node left the ring for good
  std::uint64_t record_stalls = 0;     // a record failed its checks; delivery waited for a repair
  std::uint64_t records_repaired = 0;  // records that checked once another member wrote them again
  std::uint64_t messages_spilled =
      0;  // undispatched, copied out of the log (docs/api.md "Eviction")
  std::uint64_t bytes_copied_on_spill = 0;
  // The bytes of zero-copy sends: copied (below totem.zcb_copy_below_bytes,
  // or in fragments), or read by the NIC from the buffer.
  std::uint64_t zero_copy_bytes_copied = 0;
  std::uint64_t zero_copy_bytes_from_buffer = 0;
  // Client mode: deliveries read in the daemon's mapped log, and copied.
  std::uint64_t deliveries_by_reference = 0;
  std::uint64_t bytes_delivered_by_reference = 0;
  std::uint64_t deliveries_copied = 0;
  std::uint64_t bytes_delivered_copied = 0;
};

// A buffer in registered memory that the NIC reads directly when sent with
// Connection::send(guarantee, buffer, bytes). Freed by its destructor; if
// the NIC still reads it then, the memory is reused only once it is done.
class ZeroCopyBuffer {
 public:
  ZeroCopyBuffer() = default;
  ~ZeroCopyBuffer();
  ZeroCopyBuffer(ZeroCopyBuffer&& other) noexcept { swap(other); }
  ZeroCopyBuffer& operator=(ZeroCopyBuffer&& other) noexcept {
    ZeroCopyBuffer(std::move(other)).swap(*this);
    return *this;
  }
  ZeroCopyBuffer(const ZeroCopyBuffer&) = delete;
  ZeroCopyBuffer& operator=(const ZeroCopyBuffer&) = delete;

  std::span<std::byte> bytes() const noexcept { return {static_cast<std::byte*>(data_), size_}; }
  void* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  // True while a send of it has not been read by the NIC yet: do not write.
  bool in_flight() const;
  // Blocks until in_flight() is false.
  Status wait_sent() const;
  // Gives up ownership: the caller frees it with cpg_zcb_free().
  void* release() noexcept { return std::exchange(data_, nullptr); }

 private:
  friend class Connection;
  void swap(ZeroCopyBuffer& o) noexcept {
    std::swap(node_, o.node_);
    std::swap(daemon_, o.daemon_);
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
  }
  std::shared_ptr<client::Node> node_;             // embedded mode
  std::shared_ptr<client::DaemonBinding> daemon_;  // client mode
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

class Connection {
 public:
  // As cpg_initialize: in client mode (the default) a handle at the node's
  // ringcastd; in embedded mode the process's first connection starts its
  // ring member from the cluster file (RINGCAST_CONFIG;
  // docs/configuration.md) and waits for the ring.
  static Result<Connection> open(Callbacks callbacks);

  Connection() = default;
  ~Connection() { close(); }
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&& other) noexcept {
    close();
    session_ = std::move(other.session_);
    daemon_ = std::move(other.daemon_);
    return *this;
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // cpg_finalize: the group sees this process leave (PROCDOWN) unless it
  // left first; a thread blocked in dispatch() returns. Idempotent.
  Status close();

  Status join(std::string_view group);
  Status leave(std::string_view group);
  // Copies the bytes once into registered memory before returning.
  Status send(Guarantee guarantee, std::span<const std::byte> bytes);
  Status send(Guarantee guarantee, std::span<const std::span<const std::byte>> pieces);
  // A buffer that the NIC reads without a copy.
  Result<ZeroCopyBuffer> allocate(std::size_t bytes);
  // Sends the first `bytes` of the buffer and returns at once: the buffer is
  // in flight (do not write to it) until buffer.in_flight() turns false.
  // Below totem.zcb_copy_below_bytes it was copied and is not in flight.
  Status send(Guarantee guarantee, ZeroCopyBuffer& buffer, std::size_t bytes);

  Status dispatch(DispatchMode mode);
  // Readable while callbacks are pending (an eventfd), for poll()/epoll.
  int fd() const;
  Result<std::vector<Member>> members(std::string_view group) const;
  std::uint32_t local_node() const;
  // True while sends would fail with CS_ERR_TRY_AGAIN.
  bool flow_control_enabled() const;
  std::size_t max_message_bytes() const;
  Counters counters() const;
  cpg_handle_t handle() const;
  bool is_open() const noexcept { return session_ != nullptr || daemon_ != nullptr; }

 private:
  explicit Connection(std::shared_ptr<client::Session> session) : session_(std::move(session)) {}
  explicit Connection(std::shared_ptr<client::DaemonBinding> daemon) : daemon_(std::move(daemon)) {}

  std::shared_ptr<client::Session> session_;       // embedded mode
  std::shared_ptr<client::DaemonBinding> daemon_;  // client mode (ringcastd)
};

}  // namespace ringcast::cpg
