// The daemon's decoder of a client's requests. The client is not trusted:
// every field is checked against this client's limits before the request
// exists as a value (docs/architecture.md, "Client and daemon").
#include "ipc/decode_checks.hpp"
#include "ipc/frame_codec.hpp"

namespace ringcast::ipc {
namespace {

using namespace detail;

inline constexpr std::uint32_t kMaxGuarantee = 3;  // CPG_TYPE_SAFE
inline constexpr std::uint32_t kModelV1 = 1;
inline constexpr std::uint32_t kModelFlags = 1;     // CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF
inline constexpr std::uint32_t kQuorumModelV1 = 1;  // QUORUM_MODEL_V0 0, V1 1
// CS_TRACK_CURRENT | CS_TRACK_CHANGES | CS_TRACK_CHANGES_ONLY
inline constexpr std::uint32_t kTrackFlags = 7;

struct In {
  FieldReader r;
  MessageType type;
  std::size_t frame_bytes;
  const RequestLimits& limits;
  IpcStatus done() const { return check_complete(r, type, frame_bytes); }
};

template <class M>
IpcResult<RequestBody> handle_and_group(In& in) {
  M m;
  m.handle = in.r.u64();
  m.group = in.r.group();
  RC_TRY(in.done());
  RC_TRY(check_group(m.group, in.type));
  return RequestBody{m};
}

IpcResult<RequestBody> initialize(In& in) {
  Initialize m;
  m.model = in.r.u32();
  m.flags = in.r.u32();
  RC_TRY(in.done());
  RC_TRY(check_field(m.model == kModelV1, in.type, "model", m.model));
  RC_TRY(check_field((m.flags & ~kModelFlags) == 0, in.type, "flags", m.flags));
  return RequestBody{m};
}

// mcast and mcast_credited: one layout.
template <class M>
IpcResult<RequestBody> mcast(In& in) {
  M m;
  m.handle = in.r.u64();
  m.guarantee = in.r.u32();
  const std::uint32_t payload_bytes = in.r.u32();
  RC_TRY(check_fixed(in.r, in.type, in.frame_bytes));
  RC_TRY(check_field(m.guarantee <= kMaxGuarantee, in.type, "guarantee", m.guarantee));
  RC_TRY(check_size(payload_bytes, in.limits.max_message_bytes, in.type, "payload"));
  RC_TRY(check_count(payload_bytes, payload_bytes, 1, in.r, in.type, "payload bytes"));
  m.payload = in.r.bytes(payload_bytes);
  RC_TRY(in.done());
  return RequestBody{m};
}

IpcResult<RequestBody> mcast_part(In& in) {
  McastPart m;
  m.handle = in.r.u64();
  const std::uint32_t payload_bytes = in.r.u32();
  const std::uint32_t reserved = in.r.u32();
  RC_TRY(check_fixed(in.r, in.type, in.frame_bytes));
  RC_TRY(check_reserved(reserved, in.type));
  RC_TRY(check_size(payload_bytes, in.limits.max_message_bytes, in.type, "payload"));
  RC_TRY(check_count(payload_bytes, payload_bytes, 1, in.r, in.type, "payload bytes"));
  m.payload = in.r.bytes(payload_bytes);
  RC_TRY(in.done());
  return RequestBody{m};
}

IpcResult<RequestBody> zcb_mcast(In& in) {
  ZcbMcast m;
  m.handle = in.r.u64();
  m.guarantee = in.r.u32();
  const std::uint32_t reserved = in.r.u32();
  m.offset = in.r.u64();
  m.length = in.r.u64();
  RC_TRY(in.done());
  RC_TRY(check_reserved(reserved, in.type));
  RC_TRY(check_field(m.guarantee <= kMaxGuarantee, in.type, "guarantee", m.guarantee));
  RC_TRY(check_size(m.length, in.limits.max_message_bytes, in.type, "send"));
  RC_TRY(check_range(m.offset, m.length, in.limits.zcb_segment_bytes, in.type, "zcb segment"));
  return RequestBody{m};
}

IpcResult<RequestBody> zcb_alloc(In& in) {
  ZcbAlloc m;
  m.handle = in.r.u64();
  m.bytes = in.r.u64();
  RC_TRY(in.done());
  RC_TRY(check_field(m.bytes > 0, in.type, "bytes", m.bytes));
  RC_TRY(check_size(m.bytes, in.limits.max_zcb_alloc_bytes, in.type, "buffer"));
  return RequestBody{m};
}

IpcResult<RequestBody> zcb_free(In& in) {
  ZcbFree m;
  m.handle = in.r.u64();
  m.offset = in.r.u64();
  RC_TRY(in.done());
  RC_TRY(check_range(m.offset, 1, in.limits.zcb_segment_bytes, in.type, "zcb segment"));
  return RequestBody{m};
}

IpcResult<RequestBody> iteration(In& in) {
  Iteration m;
  m.handle = in.r.u64();
  m.kind = in.r.u32();
  m.group = in.r.group();
  RC_TRY(in.done());
  RC_TRY(check_field(m.kind >= 1 && m.kind <= 3, in.type, "kind", m.kind));
  RC_TRY(check_group(m.group, in.type));
  return RequestBody{m};
}

IpcResult<RequestBody> quorum_initialize(In& in) {
  QuorumInitialize m;
  m.model = in.r.u32();
  const std::uint32_t reserved = in.r.u32();
  RC_TRY(in.done());
  RC_TRY(check_reserved(reserved, in.type));
  RC_TRY(check_field(m.model <= kQuorumModelV1, in.type, "model", m.model));
  return RequestBody{m};
}

IpcResult<RequestBody> quorum_trackstart(In& in) {
  QuorumTrackstart m;
  m.handle = in.r.u64();
  m.flags = in.r.u32();
  const std::uint32_t reserved = in.r.u32();
  RC_TRY(in.done());
  RC_TRY(check_reserved(reserved, in.type));
  RC_TRY(check_field((m.flags & ~kTrackFlags) == 0, in.type, "flags", m.flags));
  return RequestBody{m};
}

template <class M, class... F>
IpcResult<RequestBody> plain(In& in, F M::*... fields) {
  M m;
  ((m.*fields = in.r.template get<F>()), ...);
  RC_TRY(in.done());
  return RequestBody{m};
}

IpcResult<RequestBody> body(In& in) {
  switch (in.type) {
    case MessageType::hello:
      return plain(in, &Hello::version, &Hello::pid);
    case MessageType::initialize:
      return initialize(in);
    case MessageType::finalize:
      return plain(in, &Finalize::handle);
    case MessageType::join:
      return handle_and_group<Join>(in);
    case MessageType::leave:
      return handle_and_group<Leave>(in);
    case MessageType::mcast:
      return mcast<Mcast>(in);
    case MessageType::mcast_credited:
      return mcast<McastCredited>(in);
    case MessageType::zcb_mcast:
      return zcb_mcast(in);
    case MessageType::mcast_part:
      return mcast_part(in);
    case MessageType::zcb_alloc:
      return zcb_alloc(in);
    case MessageType::zcb_free:
      return zcb_free(in);
    case MessageType::membership_get:
      return handle_and_group<MembershipGet>(in);
    case MessageType::local_get:
      return plain(in, &LocalGet::handle);
    case MessageType::iteration:
      return iteration(in);
    case MessageType::release:
      return plain(in, &Release::handle, &Release::delivery_id);
    case MessageType::quorum_initialize:
      return quorum_initialize(in);
    case MessageType::quorum_finalize:
      return plain(in, &QuorumFinalize::handle);
    case MessageType::quorum_getquorate:
      return plain(in, &QuorumGetquorate::handle);
    case MessageType::quorum_trackstart:
      return quorum_trackstart(in);
    case MessageType::quorum_trackstop:
      return plain(in, &QuorumTrackstop::handle);
    default:
      break;
  }
  return ipc_error(IpcErrc::wrong_direction, message_type_name(in.type));
}

}  // namespace

IpcResult<Request> decode_request(std::span<const std::byte> frame, const RequestLimits& limits) {
  In in{FieldReader(frame), MessageType::hello, frame.size(), limits};
  std::uint64_t request_id = 0;
  RC_TRY(check_header(in.r, frame.size(), true, in.type, request_id));
  auto decoded = body(in);
  if (!decoded) return decoded.error();
  return Request{request_id, std::move(*decoded)};
}

}  // namespace ringcast::ipc
