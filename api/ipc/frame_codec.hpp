// Encoding and decoding of the protocol's frames: explicit little-endian
// fixed layouts (docs/protocol.md, "Client and daemon frames"), never a
// struct copied as it lies in memory.
//
// Every frame starts with the same 16 bytes:
//   [0, 4)  type         MessageType
//   [4, 8)  reserved     0
//   [8, 16) request_id   echoed by a reply; 0 in events that answer nothing
// then the type's fixed fields, then (mcast, deliver_inline) the payload or
// (reply_members, reply_iteration, confchg, totem_confchg) the entries, as
// many as the counts say: a frame is exactly as long as its fields.
//
// The decoders take a frame the caller already copied out of shared memory
// (RingConsumer::pop does): the producer may rewrite shared bytes at any
// time, so a length checked there could differ from the length used after.
// They validate every field against the limits and return an IpcError for
// anything malformed; they never assert on their input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ipc/ipc_error.hpp"
#include "ipc/messages.hpp"

namespace ringcast::ipc {

inline constexpr std::size_t kFrameHeaderBytes = 16;

// A frame in two parts, so an inline payload goes into the ring without
// being copied first: `fixed` (header, fields, entries) then `payload`.
struct EncodedFrame {
  std::vector<std::byte> fixed;
  std::span<const std::byte> payload;  // the message's own bytes; empty for most types
  std::size_t size() const noexcept { return fixed.size() + payload.size(); }
  std::vector<std::byte> joined() const;
};

// Reuses out.fixed's capacity; out.payload points into the message.
void encode(const Request& request, EncodedFrame& out);
void encode(const Event& event, EncodedFrame& out);

// What a request may name, from the daemon's view of this client.
struct RequestLimits {
  std::uint64_t zcb_segment_bytes = 0;  // the client's zero-copy segment
  std::uint32_t max_message_bytes = 0;  // an inline payload or a zcb send, at most
  std::uint64_t max_zcb_alloc_bytes = 0;
};

// What an event may name, from the client's view of the daemon.
struct EventLimits {
  std::uint64_t log_bytes = 0;          // the receive log mapped into the client
  std::uint32_t max_message_bytes = 0;  // an event's payload (a frame's)
  // A deliver_ref's length: a message whole in the log (welcome's atomic
  // size), larger than a frame's payload; 0: up to the log's size.
  std::uint64_t max_reference_bytes = 0;
};

IpcResult<Request> decode_request(std::span<const std::byte> frame, const RequestLimits& limits);
IpcResult<Event> decode_event(std::span<const std::byte> frame, const EventLimits& limits);

// The rule of hello: the versions must be equal. The error names both:
// "protocol version mismatch: the library speaks 1, the daemon speaks 2".
IpcStatus check_version(std::uint32_t library_version, std::uint32_t daemon_version);

}  // namespace ringcast::ipc
