// Membership's control messages: what members say to each other while they
// agree on a new ring (docs/protocol.md "Membership"). Each travels as one
// RDMA WRITE WITH IMMEDIATE (kind 11, membership) into the receiver's control
// slot for its sender (ring/token.hpp: one slot per node of the cluster,
// after the token slots and the wake words), and is validated before use: a
// hostile or corrupted message is dropped and counted, never trusted.
//
// Layout (little-endian):
//    0 u32 magic "RCM1"          4 u16 version (1)     6 u16 byte length
//    8 u8  type                  9 u8 sender's node index (its control slot)
//   10 u16 info count           12 u32 sender node
//   16 u64 message seq (per sender, +1 per message)
//   24 u32 ring representative  28 u32 reserved (0)   32 u64 ring epoch
//   40 u64 node mask A (join: candidates; commit: the new ring's members)
//   48 u64 node mask B (join: failed)
//   56 u64 join: the nodes the sender reaches (itself and its live links);
//          recovered: through seq
//   64 u64 recovered: end position
//   72 u32 recovered: old ring rep      76 u32 reserved (0)
//   80 u64 recovered: old ring epoch
//   88 info count x 56 bytes: u32 ring rep, u32 reserved (0), u64 ring epoch,
//      u64 received_up_to, u64 delivered, u64 end position, u64 released
//      position, u64 highest epoch seen
//    . u32 crc32c of everything before it
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "fabric/fabric.hpp"
#include "ring/ring_id.hpp"
#include "ring/token.hpp"

namespace ringcast::membership {

using fabric::NodeId;
using ring::RingId;
// A set of the cluster's nodes: bit u is node u of MembershipConfig::nodes.
using NodeMask = std::uint64_t;

inline constexpr std::size_t kMaxNodes = ring::kMaxMembers;
inline constexpr std::uint32_t kMembershipMessageMagic = 0x314D4352;  // "RCM1"
inline constexpr std::uint16_t kMembershipMessageVersion = 1;
inline constexpr std::size_t kMembershipMessageFixedBytes = 88;
inline constexpr std::size_t kMembershipMessageInfoBytes = 56;

constexpr std::size_t membership_message_bytes(std::size_t infos) noexcept {
  return kMembershipMessageFixedBytes + infos * kMembershipMessageInfoBytes + 4;
}
static_assert(membership_message_bytes(kMaxNodes) <= ring::kControlSlotBytes);

enum class MembershipMessageType : std::uint8_t {
  join = 1,       // gather: my candidates, my failed set, what I bring
  commit = 2,     // the representative: the new ring and what everyone brings
  recovered = 3,  // recovery source: the records you lacked are written
  ready = 4,      // to the representative: I hold every old record I must deliver
};

// What a member brings from the ring it last installed.
struct OldRingInfo {
  RingId ring;
  std::uint64_t received_up_to = 0;     // every seq up to it is in its log
  std::uint64_t delivered = 0;          // delivered in that ring (<= received_up_to)
  std::uint64_t end_position = 0;       // where the record after received_up_to starts
  std::uint64_t released_position = 0;  // its application released everything before
  std::uint64_t max_epoch = 0;          // the highest ring epoch it has seen

  friend bool operator==(const OldRingInfo&, const OldRingInfo&) = default;
};

struct MembershipMessage {
  MembershipMessageType type = MembershipMessageType::join;
  std::uint8_t sender_index = 0;
  NodeId sender = 0;
  std::uint64_t message_seq = 0;
  RingId ring;              // commit, recovered, ready: the new ring
  NodeMask candidates = 0;  // join: the sender's candidates (its proc set)
  NodeMask failed = 0;      // join: the sender's failed set
  NodeMask members = 0;     // commit: the new ring's members
  NodeMask reach = 0;       // join: itself and the nodes it has live links to
  // recovered
  RingId old_ring;
  std::uint64_t through_seq = 0;
  std::uint64_t end_position = 0;
  // join: 1 (the sender's); commit: one per member, in node order
  std::uint16_t info_count = 0;
  std::array<OldRingInfo, kMaxNodes> infos{};
};

// Writes msg into out (at least membership_message_bytes(info_count)); returns
// the bytes written.
std::size_t encode_membership_message(const MembershipMessage& msg,
                                      std::span<std::byte> out) noexcept;

enum class MembershipMessageFault : std::uint8_t {
  none,
  truncated,
  bad_magic,
  bad_length,
  bad_checksum,
  bad_version,
  bad_type,
  bad_sender,  // index outside the cluster or not the node at that index
  bad_field,   // masks, counts or positions impossible
  stale,       // not the message the immediate announced (overwritten since)
  wrong_link,  // the immediate names a sender other than the peer it came from
};

const char* membership_message_fault_name(MembershipMessageFault fault) noexcept;

struct MembershipMessageLimits {
  std::span<const NodeId> nodes;  // the cluster, in node order
};

// Validates everything the bytes alone can tell before filling *out: sizes,
// magic, checksum, version, type, sender, masks within the cluster, counts
// matching the masks, and consistent fields. Whether the message makes sense
// now (ring ids, phase) is the receiver's.
MembershipMessageFault decode_membership_message(std::span<const std::byte> bytes,
                                                 const MembershipMessageLimits& limits,
                                                 MembershipMessage* out) noexcept;

constexpr NodeMask bit(std::size_t index) noexcept {
  return NodeMask{1} << index;
}
constexpr bool has(NodeMask m, std::size_t index) noexcept {
  return (m >> index) & 1u;
}
inline int count(NodeMask m) noexcept {
  return __builtin_popcountll(m);
}
inline std::size_t lowest(NodeMask m) noexcept {
  return static_cast<std::size_t>(__builtin_ctzll(m));
}

// The immediate of a control write: kind 11, then the sender's node index
// (6 bits) and the low 24 bits of the message seq.
std::uint32_t membership_message_imm(std::size_t sender_index, std::uint64_t message_seq) noexcept;
std::size_t control_imm_sender(std::uint32_t imm) noexcept;
std::uint32_t control_imm_seq(std::uint32_t imm) noexcept;

}  // namespace ringcast::membership
