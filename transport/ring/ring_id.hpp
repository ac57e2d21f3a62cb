// Who the ring is: its identity and its members, in ring order.
//
// Everything the ring writes carries the ring id, and sequence numbers are
// per ring: when membership forms a new ring (a new id), records and tokens of
// the old one are recognised as foreign and never trusted by the new one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fabric/fabric.hpp"

namespace ringcast::ring {

struct RingId {
  fabric::NodeId representative = 0;  // the member that formed the ring
  std::uint64_t epoch = 0;            // grows with every new ring

  friend bool operator==(const RingId&, const RingId&) = default;
};

// The members of one ring, in ring order: the token goes from members[i] to
// members[(i + 1) % size]. No global singletons: a process may hold several.
struct RingMembership {
  RingId ring;
  std::vector<fabric::NodeId> members;
  std::size_t my_index = 0;

  std::size_t size() const noexcept { return members.size(); }
  std::size_t successor_index() const noexcept { return (my_index + 1) % members.size(); }
  std::size_t predecessor_index() const noexcept {
    return (my_index + members.size() - 1) % members.size();
  }
  fabric::NodeId me() const noexcept { return members[my_index]; }
};

}  // namespace ringcast::ring
