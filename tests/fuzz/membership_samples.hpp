// Well-formed membership messages of every type for a cluster of at least
// three nodes, as seeds for the membership fuzz targets.
#pragma once

#include <span>
#include <vector>

#include "membership/membership_message.hpp"

namespace ringcast::fuzz {

inline std::vector<membership::MembershipMessage> sample_messages(
    std::span<const fabric::NodeId> nodes, std::uint64_t epoch) {
  using namespace membership;
  const OldRingInfo info{{nodes[0], epoch}, 10, 8, 1280, 640, epoch};
  MembershipMessage join;
  join.type = MembershipMessageType::join;
  join.sender_index = 1;
  join.sender = nodes[1];
  join.message_seq = 1;
  join.candidates = 0b111;
  join.reach = 0b111;
  join.info_count = 1;
  join.infos[0] = info;
  MembershipMessage commit;
  commit.type = MembershipMessageType::commit;
  commit.sender = nodes[0];
  commit.message_seq = 2;
  commit.ring = {nodes[0], epoch + 1};
  commit.members = 0b111;
  commit.info_count = 3;
  commit.infos = {info, info, info};
  MembershipMessage recovered;
  recovered.type = MembershipMessageType::recovered;
  recovered.sender = nodes[0];
  recovered.message_seq = 3;
  recovered.ring = commit.ring;
  recovered.old_ring = info.ring;
  recovered.through_seq = 10;
  recovered.end_position = 1280;
  MembershipMessage ready;
  ready.type = MembershipMessageType::ready;
  ready.sender_index = 2;
  ready.sender = nodes[2];
  ready.message_seq = 1;
  ready.ring = commit.ring;
  return {join, commit, recovered, ready};
}

}  // namespace ringcast::fuzz
