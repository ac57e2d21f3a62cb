// One ring in a Membership's history: its state machine and how its part of the
// event stream ends. Private to membership/.
#pragma once

#include <memory>

#include "membership/membership.hpp"
#include "ring/ring_state.hpp"

namespace ringcast::membership {

// Rings a member keeps at once: the running one, the one forming, and older
// ones whose delivered messages the application still holds. A commit that
// would need more waits (the gather goes on) until the application releases.
inline constexpr std::size_t kMaxGenerations = 8;

struct Membership::Generation {
  std::unique_ptr<ring::RingState> ring;
  NodeMask members = 0;
  bool installed = false;
  bool announced = false;  // its regular configuration change was streamed
  ConfigurationChange regular;
  std::uint64_t index_base = 0;  // event index of seq s = index_base + s
  // Set when the next ring installs: the stream delivers up to
  // regular_through, then the transitional change, then up to through.
  bool ending = false;
  std::uint64_t regular_through = 0;
  std::uint64_t through = 0;
  ConfigurationChange transitional;
  bool transitional_sent = false;
  std::uint64_t stalls_told = 0;  // of its log's stalls, those next_stall() returned

  RingId id() const noexcept { return ring->membership().ring; }
};

}  // namespace ringcast::membership
