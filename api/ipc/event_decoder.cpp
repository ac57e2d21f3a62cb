// The library's decoder of the daemon's events. The daemon is trusted more
// than a client, but a bug or a version skew there must give the client an
// error, never a read outside the mapped log.
#include "ipc/decode_checks.hpp"
#include "ipc/frame_codec.hpp"

namespace ringcast::ipc {
namespace {

using namespace detail;

inline constexpr std::size_t kProcessBytes = 8;
inline constexpr std::size_t kConfchgEntryBytes = 12;
inline constexpr std::size_t kIterationEntryBytes = kGroupNameWireBytes + kProcessBytes;

struct In {
  FieldReader r;
  MessageType type;
  std::size_t frame_bytes;
  const EventLimits& limits;
  IpcStatus done() const { return check_complete(r, type, frame_bytes); }
  IpcStatus fixed() const { return check_fixed(r, type, frame_bytes); }
};

ProcessId process(FieldReader& r) {
  ProcessId p;
  p.node = r.u32();
  p.pid = r.u32();
  return p;
}

// Ring capacities are checked where the rings are attached (channel.cpp):
// the decoder knows no geometry.
IpcResult<EventBody> welcome(In& in) {
  Welcome m;
  m.version = in.r.u32();
  m.error = in.r.u32();
  m.node_id = in.r.u32();
  m.max_frame_bytes = in.r.u32();
  m.request_ring_bytes = in.r.u64();
  m.event_ring_bytes = in.r.u64();
  m.zcb_segment_bytes = in.r.u64();
  m.log_bytes = in.r.u64();
  m.atomic_message_bytes = in.r.u64();
  m.largest_message_bytes = in.r.u64();
  RC_TRY(in.done());
  return EventBody{m};
}

IpcResult<EventBody> reply(In& in) {
  Reply m;
  m.error = in.r.u32();
  const std::uint32_t reserved = in.r.u32();
  m.value = in.r.u64();
  RC_TRY(in.done());
  RC_TRY(check_reserved(reserved, in.type));
  return EventBody{m};
}

IpcResult<EventBody> reply_members(In& in) {
  ReplyMembers m;
  m.error = in.r.u32();
  const std::uint32_t count = in.r.u32();
  RC_TRY(in.fixed());
  RC_TRY(check_count(count, kMaxMembers, kProcessBytes, in.r, in.type, "members"));
  m.members.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i)
    m.members.push_back(process(in.r));
  RC_TRY(in.done());
  return EventBody{std::move(m)};
}

IpcResult<EventBody> reply_iteration(In& in) {
  ReplyIteration m;
  m.error = in.r.u32();
  const std::uint32_t count = in.r.u32();
  RC_TRY(in.fixed());
  RC_TRY(check_count(count, kMaxIterationEntries, kIterationEntryBytes, in.r, in.type, "entries"));
  m.entries.resize(count);
  for (auto& e : m.entries) {
    e.group = in.r.group();
    e.process = process(in.r);
    RC_TRY(check_group(e.group, in.type));
  }
  RC_TRY(in.done());
  return EventBody{std::move(m)};
}

IpcResult<EventBody> deliver_part(In& in) {
  DeliverPart m;
  m.handle = in.r.u64();
  const std::uint32_t payload_bytes = in.r.u32();
  const std::uint32_t reserved = in.r.u32();
  RC_TRY(in.fixed());
  RC_TRY(check_reserved(reserved, in.type));
  RC_TRY(check_size(payload_bytes, in.limits.max_message_bytes, in.type, "payload"));
  RC_TRY(check_count(payload_bytes, payload_bytes, 1, in.r, in.type, "payload bytes"));
  m.payload = in.r.bytes(payload_bytes);
  RC_TRY(in.done());
  return EventBody{m};
}

IpcResult<EventBody> deliver_inline(In& in) {
  DeliverInline m;
  m.handle = in.r.u64();
  m.group = in.r.group();
  m.sender = process(in.r);
  const std::uint32_t payload_bytes = in.r.u32();
  const std::uint32_t reserved = in.r.u32();
  RC_TRY(in.fixed());
  RC_TRY(check_reserved(reserved, in.type));
  RC_TRY(check_group(m.group, in.type));
  RC_TRY(check_size(payload_bytes, in.limits.max_message_bytes, in.type, "payload"));
  RC_TRY(check_count(payload_bytes, payload_bytes, 1, in.r, in.type, "payload bytes"));
  m.payload = in.r.bytes(payload_bytes);
  RC_TRY(in.done());
  return EventBody{m};
}

IpcResult<EventBody> deliver_ref(In& in) {
  DeliverRef m;
  m.handle = in.r.u64();
  m.group = in.r.group();
  m.sender = process(in.r);
  m.delivery_id = in.r.u64();
  m.log_offset = in.r.u64();
  m.length = in.r.u64();
  RC_TRY(in.done());
  RC_TRY(check_group(m.group, in.type));
  const std::uint64_t largest =
      in.limits.max_reference_bytes != 0 ? in.limits.max_reference_bytes : in.limits.log_bytes;
  RC_TRY(check_size(m.length, largest, in.type, "delivery"));
  RC_TRY(check_range(m.log_offset, m.length, in.limits.log_bytes, in.type, "receive log"));
  return EventBody{m};
}

void confchg_entries(FieldReader& r, std::vector<ConfchgEntry>& list, std::uint32_t count) {
  list.resize(count);
  for (auto& e : list) {
    e.process = process(r);
    e.reason = r.u32();
  }
}

IpcResult<EventBody> confchg(In& in) {
  Confchg m;
  m.handle = in.r.u64();
  m.group = in.r.group();
  const std::uint32_t counts[3] = {in.r.u32(), in.r.u32(), in.r.u32()};
  const std::uint32_t reserved = in.r.u32();
  RC_TRY(in.fixed());
  RC_TRY(check_reserved(reserved, in.type));
  RC_TRY(check_group(m.group, in.type));
  for (std::uint32_t c : counts)
    if (c > kMaxMembers) return check_count(c, kMaxMembers, 0, in.r, in.type, "entries").error();
  const std::uint64_t total = std::uint64_t{counts[0]} + counts[1] + counts[2];
  RC_TRY(check_count(total, 3 * kMaxMembers, kConfchgEntryBytes, in.r, in.type, "entries"));
  confchg_entries(in.r, m.members, counts[0]);
  confchg_entries(in.r, m.left, counts[1]);
  confchg_entries(in.r, m.joined, counts[2]);
  RC_TRY(in.done());
  return EventBody{std::move(m)};
}

IpcResult<EventBody> totem_confchg(In& in) {
  TotemConfchg m;
  m.handle = in.r.u64();
  m.ring_node = in.r.u32();
  const std::uint32_t count = in.r.u32();
  m.ring_seq = in.r.u64();
  RC_TRY(in.fixed());
  RC_TRY(check_count(count, kMaxMembers, 4, in.r, in.type, "nodes"));
  m.nodes.resize(count);
  for (auto& node : m.nodes)
    node = in.r.u32();
  RC_TRY(in.done());
  return EventBody{std::move(m)};
}

IpcResult<EventBody> quorum_notify(In& in) {
  QuorumNotify m;
  m.handle = in.r.u64();
  m.quorate = in.r.u32();
  m.ring_node = in.r.u32();
  m.ring_seq = in.r.u64();
  const std::uint32_t counts[3] = {in.r.u32(), in.r.u32(), in.r.u32()};
  const std::uint32_t reserved = in.r.u32();
  RC_TRY(in.fixed());
  RC_TRY(check_reserved(reserved, in.type));
  RC_TRY(check_field(m.quorate <= 1, in.type, "quorate", m.quorate));
  for (std::uint32_t c : counts)
    if (c > kMaxMembers) return check_count(c, kMaxMembers, 0, in.r, in.type, "nodes").error();
  const std::uint64_t total = std::uint64_t{counts[0]} + counts[1] + counts[2];
  RC_TRY(check_count(total, 3 * kMaxMembers, 4, in.r, in.type, "nodes"));
  std::vector<std::uint32_t>* lists[3] = {&m.nodes, &m.joined, &m.left};
  for (int i = 0; i < 3; ++i) {
    lists[i]->resize(counts[i]);
    for (auto& node : *lists[i])
      node = in.r.u32();
  }
  RC_TRY(in.done());
  return EventBody{std::move(m)};
}

// Counts and the window are checked by the library against what it sent.
IpcResult<EventBody> mcast_ack(In& in) {
  McastAck m;
  m.handle = in.r.u64();
  m.through = in.r.u64();
  m.bytes = in.r.u64();
  m.window_bytes = in.r.u64();
  m.messages = in.r.u32();
  m.refused = in.r.u32();
  m.error = in.r.u32();
  m.holding = in.r.u32();
  m.window_messages = in.r.u32();
  const std::uint32_t reserved = in.r.u32();
  RC_TRY(in.done());
  RC_TRY(check_reserved(reserved, in.type));
  RC_TRY(check_field(m.holding <= 1, in.type, "holding", m.holding));
  RC_TRY(check_field(m.refused <= m.messages, in.type, "refused", m.refused));
  return EventBody{m};
}

IpcResult<EventBody> body(In& in) {
  switch (in.type) {
    case MessageType::welcome:
      return welcome(in);
    case MessageType::reply:
      return reply(in);
    case MessageType::reply_members:
      return reply_members(in);
    case MessageType::reply_iteration:
      return reply_iteration(in);
    case MessageType::deliver_inline:
      return deliver_inline(in);
    case MessageType::deliver_ref:
      return deliver_ref(in);
    case MessageType::confchg:
      return confchg(in);
    case MessageType::totem_confchg:
      return totem_confchg(in);
    case MessageType::deliver_part:
      return deliver_part(in);
    case MessageType::quorum_notify:
      return quorum_notify(in);
    case MessageType::mcast_ack:
      return mcast_ack(in);
    default:
      break;
  }
  return ipc_error(IpcErrc::wrong_direction, message_type_name(in.type));
}

}  // namespace

IpcResult<Event> decode_event(std::span<const std::byte> frame, const EventLimits& limits) {
  In in{FieldReader(frame), MessageType::welcome, frame.size(), limits};
  std::uint64_t request_id = 0;
  RC_TRY(check_header(in.r, frame.size(), false, in.type, request_id));
  auto decoded = body(in);
  if (!decoded) return decoded.error();
  return Event{request_id, std::move(*decoded)};
}

}  // namespace ringcast::ipc
