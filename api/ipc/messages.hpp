// The messages of the client-daemon protocol, decoded: one struct per type.
// Requests travel from a client to the daemon in the client's request ring,
// events from the daemon to the client in its event ring (hello and welcome
// go over the unix socket, before the rings exist). The byte layouts are in
// frame_codec.hpp and docs/protocol.md ("Client and daemon frames").
//
// Spans in a decoded message (an inline payload) point into the frame the
// decoder was given: private memory the caller keeps alive while it uses them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

namespace ringcast::ipc {

// Raised on any change of a layout or of a type's meaning; both sides refuse
// a peer of another version at hello (check_version, frame_codec.hpp).
inline constexpr std::uint32_t kProtocolVersion = 4;

// CPG's own bounds (CPG_MAX_NAME_LENGTH, CPG_MEMBERS_MAX); tests/ipc checks
// they match <ringcast/cpg.h>.
inline constexpr std::size_t kMaxGroupNameBytes = 128;
inline constexpr std::uint32_t kMaxMembers = 128;
// Entries of one iteration reply: every member of every group of a cluster
// of kMaxMembers processes in up to 8 groups each.
inline constexpr std::uint32_t kMaxIterationEntries = 1024;

enum class MessageType : std::uint32_t {
  // requests, client to daemon
  hello = 1,
  initialize = 2,
  finalize = 3,
  join = 4,
  leave = 5,
  mcast = 6,
  zcb_mcast = 7,
  zcb_alloc = 8,
  zcb_free = 9,
  membership_get = 10,
  local_get = 11,
  iteration = 12,
  release = 13,
  // A leading part of the message the next mcast of that handle ends: a
  // message larger than a frame travels as parts, then its last bytes in
  // the mcast.
  mcast_part = 14,
  // The quorum service (quorum_*): a handle of its own, on its own
  // connection, answered from the node's quorum tracker.
  quorum_initialize = 15,
  quorum_finalize = 16,
  quorum_getquorate = 17,
  quorum_trackstart = 18,
  quorum_trackstop = 19,
  // An mcast sent on the daemon's credit: no reply of its own, answered by
  // the handle's next mcast_ack.
  mcast_credited = 20,
  // events, daemon to client
  welcome = 64,
  reply = 65,
  reply_members = 66,
  reply_iteration = 67,
  deliver_inline = 68,
  deliver_ref = 69,
  confchg = 70,
  totem_confchg = 71,
  // A leading part of the message the next deliver_inline of that handle
  // ends (as mcast_part, the other way).
  deliver_part = 72,
  // The quorum state after a ring change (or now, at trackstart).
  quorum_notify = 73,
  // The credited mcasts taken since the last ack, and the credit granted.
  mcast_ack = 74,
};

inline constexpr std::uint32_t kFirstRequest = 1, kLastRequest = 20;
inline constexpr std::uint32_t kFirstEvent = 64, kLastEvent = 74;

const char* message_type_name(MessageType type) noexcept;

struct GroupName {
  std::uint32_t length = 0;  // at most kMaxGroupNameBytes
  std::array<char, kMaxGroupNameBytes> value{};
  std::string_view view() const noexcept { return {value.data(), length}; }
  static GroupName of(std::string_view name) noexcept;  // cut at kMaxGroupNameBytes
  friend bool operator==(const GroupName&, const GroupName&) = default;
};

struct ProcessId {
  std::uint32_t node = 0;
  std::uint32_t pid = 0;
  friend bool operator==(const ProcessId&, const ProcessId&) = default;
};

// ---- requests ----
struct Hello {
  std::uint32_t version = kProtocolVersion;
  std::uint32_t pid = 0;
};
struct Initialize {
  std::uint32_t model = 1;  // CPG_MODEL_V1 (cpg_initialize too)
  std::uint32_t flags = 0;  // 0 or CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF
};
struct Finalize {
  std::uint64_t handle = 0;
};
struct Join {
  std::uint64_t handle = 0;
  GroupName group;
};
struct Leave {
  std::uint64_t handle = 0;
  GroupName group;
};
struct Mcast {
  std::uint64_t handle = 0;
  std::uint32_t guarantee = 0;  // cpg_guarantee_t
  std::span<const std::byte> payload;
};
// A send from the client's zero-copy segment: the NIC reads those bytes.
struct ZcbMcast {
  std::uint64_t handle = 0;
  std::uint32_t guarantee = 0;
  std::uint64_t offset = 0;  // into the client's zcb segment
  std::uint64_t length = 0;
};
struct ZcbAlloc {
  std::uint64_t handle = 0;
  std::uint64_t bytes = 0;
};
// Not answered: the library checked the offset against its live buffers.
struct ZcbFree {
  std::uint64_t handle = 0;
  std::uint64_t offset = 0;
};
struct MembershipGet {
  std::uint64_t handle = 0;
  GroupName group;
};
struct LocalGet {
  std::uint64_t handle = 0;
};
struct Iteration {
  std::uint64_t handle = 0;
  std::uint32_t kind = 3;  // CPG_ITERATION_NAME_ONLY 1, ONE_GROUP 2, ALL 3
  GroupName group;         // for ONE_GROUP
};
// The client is done with a delivery by reference: its log bytes may be reused.
struct Release {
  std::uint64_t handle = 0;
  std::uint64_t delivery_id = 0;
};

// Bytes of a message larger than one frame; the mcast that follows (same
// handle, nothing of that handle in between) carries its last bytes and its
// guarantee. The daemon refuses parts beyond the largest message.
struct McastPart {
  std::uint64_t handle = 0;
  std::span<const std::byte> payload;
};

// quorum_model_initialize: model 0 (QUORUM_MODEL_V0) or 1 (V1). The reply's
// value is the daemon's handle.
struct QuorumInitialize {
  std::uint32_t model = 0;
};
struct QuorumFinalize {
  std::uint64_t handle = 0;
};
// The reply's value is 1 when the node is quorate, else 0.
struct QuorumGetquorate {
  std::uint64_t handle = 0;
};
// flags: CS_TRACK_CURRENT, CS_TRACK_CHANGES, CS_TRACK_CHANGES_ONLY (1, 2, 4),
// no other bit. The notification it queues comes before its reply.
struct QuorumTrackstart {
  std::uint64_t handle = 0;
  std::uint32_t flags = 0;
};
struct QuorumTrackstop {
  std::uint64_t handle = 0;
};

// An mcast the library returned CS_OK for without waiting (its layout is
// mcast's): the daemon sends it, or holds it while the node says
// CS_ERR_TRY_AGAIN, and acknowledges it in an McastAck instead of a reply.
struct McastCredited {
  std::uint64_t handle = 0;
  std::uint32_t guarantee = 0;  // cpg_guarantee_t
  std::span<const std::byte> payload;
};

using RequestBody = std::variant<Hello, Initialize, Finalize, Join, Leave, Mcast, ZcbMcast,
                                 ZcbAlloc, ZcbFree, MembershipGet, LocalGet, Iteration, Release,
                                 McastPart, QuorumInitialize, QuorumFinalize, QuorumGetquorate,
                                 QuorumTrackstart, QuorumTrackstop, McastCredited>;

struct Request {
  std::uint64_t request_id = 0;  // echoed by the reply
  RequestBody body;
};

// ---- events ----
// The daemon's answer to hello, sent over the unix socket with the
// descriptors of the client's channel (channel.hpp) when error is 0. version
// and error keep their place in every version of the protocol, so a client
// of another version can still read why it was refused.
struct Welcome {
  std::uint32_t version = kProtocolVersion;
  std::uint32_t error = 0;  // cs_error_t: 0 (CS_OK) when the daemon accepts
  std::uint32_t node_id = 0;
  std::uint32_t max_frame_bytes = 0;     // in either ring
  std::uint64_t request_ring_bytes = 0;  // capacities (ring_header.hpp)
  std::uint64_t event_ring_bytes = 0;
  std::uint64_t zcb_segment_bytes = 0;  // 0: no zero-copy segment
  std::uint64_t log_bytes = 0;          // 0: no receive log mapped
  // The ring's atomic size (cpg_max_atomic_msgsize_get) and the largest
  // message a send accepts (totem.max_fragmented_message_bytes).
  std::uint64_t atomic_message_bytes = 0;
  std::uint64_t largest_message_bytes = 0;
};
// The answer to a request without a list: its cs_error_t and one value (a
// handle, a zcb offset, the local node id).
struct Reply {
  std::uint32_t error = 0;
  std::uint64_t value = 0;
};
struct ReplyMembers {
  std::uint32_t error = 0;
  std::vector<ProcessId> members;  // at most kMaxMembers
};
struct IterationEntry {
  GroupName group;
  ProcessId process;
};
struct ReplyIteration {
  std::uint32_t error = 0;
  std::vector<IterationEntry> entries;  // at most kMaxIterationEntries
};
struct DeliverInline {
  std::uint64_t handle = 0;
  GroupName group;
  ProcessId sender;
  std::span<const std::byte> payload;
};
// A delivery the client reads in the daemon's receive log (mapped read-only)
// and hands back with Release{delivery_id}.
struct DeliverRef {
  std::uint64_t handle = 0;
  GroupName group;
  ProcessId sender;
  std::uint64_t delivery_id = 0;
  std::uint64_t log_offset = 0;
  std::uint64_t length = 0;
};
struct ConfchgEntry {
  ProcessId process;
  std::uint32_t reason = 0;  // cpg_reason_t
  friend bool operator==(const ConfchgEntry&, const ConfchgEntry&) = default;
};
struct Confchg {
  std::uint64_t handle = 0;
  GroupName group;
  std::vector<ConfchgEntry> members, left, joined;  // each at most kMaxMembers
};
struct TotemConfchg {
  std::uint64_t handle = 0;
  std::uint32_t ring_node = 0;
  std::uint64_t ring_seq = 0;
  std::vector<std::uint32_t> nodes;  // at most kMaxMembers
};

// Bytes of a delivery larger than one frame; the deliver_inline that
// follows for that handle carries its last bytes, its group and sender.
struct DeliverPart {
  std::uint64_t handle = 0;
  std::span<const std::byte> payload;
};

// One quorum notification: V0 handles get its quorum callback, V1 handles
// its node-list callback then its quorum callback. joined and left are
// empty in the one trackstart sends.
struct QuorumNotify {
  std::uint64_t handle = 0;
  std::uint32_t quorate = 0;  // 0 or 1
  std::uint32_t ring_node = 0;
  std::uint64_t ring_seq = 0;
  std::vector<std::uint32_t> nodes, joined, left;  // each at most kMaxMembers
};

// The credit of a connection: it may send a credited mcast while its
// unacknowledged ones number fewer than window_messages and their bytes
// fewer than window_bytes. An ack counts what the daemon took since the
// previous ack of the handle (sent, or refused for good), up to the
// credited mcast `through`; holding says one waits for the ring (the node
// said CS_ERR_TRY_AGAIN) and the daemon takes no more requests of the
// connection until it went. window_messages 0: no credit (plain mcast).
struct McastAck {
  std::uint64_t handle = 0;
  std::uint64_t through = 0;  // request id of the last credited mcast counted
  std::uint64_t bytes = 0;    // their payload bytes (parts included)
  std::uint64_t window_bytes = 0;
  std::uint32_t messages = 0;
  std::uint32_t refused = 0;  // of those, refused for good: never sent
  std::uint32_t error = 0;    // cs_error_t of the last refusal, 0 when none
  std::uint32_t holding = 0;  // 0 or 1
  std::uint32_t window_messages = 0;
};

using EventBody =
    std::variant<Welcome, Reply, ReplyMembers, ReplyIteration, DeliverInline, DeliverRef, Confchg,
                 TotemConfchg, DeliverPart, QuorumNotify, McastAck>;

struct Event {
  std::uint64_t request_id = 0;  // of the request a reply answers; 0 otherwise
  EventBody body;
};

MessageType type_of(const RequestBody& body) noexcept;
MessageType type_of(const EventBody& body) noexcept;

// Every request is answered (a reply or the welcome) except a release, a
// zcb_free, a message's leading parts (its mcast is answered) and a credited
// mcast (acknowledged by an mcast_ack).
inline bool expects_reply(MessageType type) noexcept {
  return type != MessageType::release && type != MessageType::zcb_free &&
         type != MessageType::mcast_part && type != MessageType::mcast_credited;
}

}  // namespace ringcast::ipc
