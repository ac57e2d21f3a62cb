// The encoders: each writes the common header, then its type's fields in the
// order of docs/protocol.md.
#include <string>

#include "ipc/frame_codec.hpp"
#include "ipc/wire_cursor.hpp"

namespace ringcast::ipc {
namespace {

template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;  // clang before 17 deduces no aggregate

void header(FieldWriter& w, MessageType type, std::uint64_t request_id) {
  w.u32(static_cast<std::uint32_t>(type)).u32(0).u64(request_id);
}

void fields(FieldWriter& w, EncodedFrame& out, const RequestBody& body) {
  std::visit(
      Overload{
          [&](const Hello& m) { w.u32(m.version).u32(m.pid); },
          [&](const Initialize& m) { w.u32(m.model).u32(m.flags); },
          [&](const Finalize& m) { w.u64(m.handle); },
          [&](const Join& m) { w.u64(m.handle).group(m.group); },
          [&](const Leave& m) { w.u64(m.handle).group(m.group); },
          [&](const Mcast& m) {
            w.u64(m.handle).u32(m.guarantee).u32(static_cast<std::uint32_t>(m.payload.size()));
            out.payload = m.payload;
          },
          [&](const ZcbMcast& m) {
            w.u64(m.handle).u32(m.guarantee).u32(0).u64(m.offset).u64(m.length);
          },
          [&](const ZcbAlloc& m) { w.u64(m.handle).u64(m.bytes); },
          [&](const ZcbFree& m) { w.u64(m.handle).u64(m.offset); },
          [&](const MembershipGet& m) { w.u64(m.handle).group(m.group); },
          [&](const LocalGet& m) { w.u64(m.handle); },
          [&](const Iteration& m) { w.u64(m.handle).u32(m.kind).group(m.group); },
          [&](const Release& m) { w.u64(m.handle).u64(m.delivery_id); },
          [&](const McastPart& m) {
            w.u64(m.handle).u32(static_cast<std::uint32_t>(m.payload.size())).u32(0);
            out.payload = m.payload;
          },
          [&](const QuorumInitialize& m) { w.u32(m.model).u32(0); },
          [&](const QuorumFinalize& m) { w.u64(m.handle); },
          [&](const QuorumGetquorate& m) { w.u64(m.handle); },
          [&](const QuorumTrackstart& m) { w.u64(m.handle).u32(m.flags).u32(0); },
          [&](const QuorumTrackstop& m) { w.u64(m.handle); },
          [&](const McastCredited& m) {
            w.u64(m.handle).u32(m.guarantee).u32(static_cast<std::uint32_t>(m.payload.size()));
            out.payload = m.payload;
          },
      },
      body);
}

void entries(FieldWriter& w, const std::vector<ConfchgEntry>& list) {
  for (const auto& e : list)
    w.u32(e.process.node).u32(e.process.pid).u32(e.reason);
}

void confchg_fields(FieldWriter& w, const Confchg& m) {
  w.u64(m.handle).group(m.group);
  w.u32(static_cast<std::uint32_t>(m.members.size()))
      .u32(static_cast<std::uint32_t>(m.left.size()))
      .u32(static_cast<std::uint32_t>(m.joined.size()))
      .u32(0);
  entries(w, m.members);
  entries(w, m.left);
  entries(w, m.joined);
}

void quorum_fields(FieldWriter& w, const QuorumNotify& m) {
  w.u64(m.handle).u32(m.quorate).u32(m.ring_node).u64(m.ring_seq);
  w.u32(static_cast<std::uint32_t>(m.nodes.size()))
      .u32(static_cast<std::uint32_t>(m.joined.size()))
      .u32(static_cast<std::uint32_t>(m.left.size()))
      .u32(0);
  for (const auto* list : {&m.nodes, &m.joined, &m.left})
    for (auto node : *list)
      w.u32(node);
}

void fields(FieldWriter& w, EncodedFrame& out, const EventBody& body) {
  std::visit(Overload{
                 [&](const Welcome& m) {
                   w.u32(m.version).u32(m.error).u32(m.node_id).u32(m.max_frame_bytes);
                   w.u64(m.request_ring_bytes).u64(m.event_ring_bytes);
                   w.u64(m.zcb_segment_bytes).u64(m.log_bytes);
                   w.u64(m.atomic_message_bytes).u64(m.largest_message_bytes);
                 },
                 [&](const Reply& m) { w.u32(m.error).u32(0).u64(m.value); },
                 [&](const ReplyMembers& m) {
                   w.u32(m.error).u32(static_cast<std::uint32_t>(m.members.size()));
                   for (const auto& p : m.members)
                     w.u32(p.node).u32(p.pid);
                 },
                 [&](const ReplyIteration& m) {
                   w.u32(m.error).u32(static_cast<std::uint32_t>(m.entries.size()));
                   for (const auto& e : m.entries)
                     w.group(e.group).u32(e.process.node).u32(e.process.pid);
                 },
                 [&](const DeliverInline& m) {
                   w.u64(m.handle).group(m.group).u32(m.sender.node).u32(m.sender.pid);
                   w.u32(static_cast<std::uint32_t>(m.payload.size())).u32(0);
                   out.payload = m.payload;
                 },
                 [&](const DeliverRef& m) {
                   w.u64(m.handle).group(m.group).u32(m.sender.node).u32(m.sender.pid);
                   w.u64(m.delivery_id).u64(m.log_offset).u64(m.length);
                 },
                 [&](const Confchg& m) { confchg_fields(w, m); },
                 [&](const DeliverPart& m) {
                   w.u64(m.handle).u32(static_cast<std::uint32_t>(m.payload.size())).u32(0);
                   out.payload = m.payload;
                 },
                 [&](const TotemConfchg& m) {
                   w.u64(m.handle).u32(m.ring_node).u32(static_cast<std::uint32_t>(m.nodes.size()));
                   w.u64(m.ring_seq);
                   for (auto node : m.nodes)
                     w.u32(node);
                 },
                 [&](const QuorumNotify& m) { quorum_fields(w, m); },
                 [&](const McastAck& m) {
                   w.u64(m.handle).u64(m.through).u64(m.bytes).u64(m.window_bytes);
                   w.u32(m.messages).u32(m.refused).u32(m.error).u32(m.holding);
                   w.u32(m.window_messages).u32(0);
                 },
             },
             body);
}

}  // namespace

std::vector<std::byte> EncodedFrame::joined() const {
  std::vector<std::byte> all = fixed;
  all.insert(all.end(), payload.begin(), payload.end());
  return all;
}

namespace {

// Requests and events share the frame: a header, then the body's fields.
template <class Frame>
void encode_frame(const Frame& frame, EncodedFrame& out) {
  out.fixed.clear();
  out.payload = {};
  FieldWriter w(out.fixed);
  header(w, type_of(frame.body), frame.request_id);
  fields(w, out, frame.body);
}

}  // namespace

void encode(const Request& request, EncodedFrame& out) {
  encode_frame(request, out);
}

void encode(const Event& event, EncodedFrame& out) {
  encode_frame(event, out);
}

IpcStatus check_version(std::uint32_t library_version, std::uint32_t daemon_version) {
  if (library_version == daemon_version) return {};
  return ipc_error(IpcErrc::version_mismatch,
                   "the library speaks " + std::to_string(library_version) +
                       ", the daemon speaks " + std::to_string(daemon_version) +
                       " (run a library and a daemon of the same ringcast release)");
}

}  // namespace ringcast::ipc
