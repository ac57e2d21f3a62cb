// What a session's queue holds between the ring's delivery (progress thread)
// and the application's cpg_dispatch (its own thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ringcast/ringcast.hpp"

namespace ringcast::client {

using cpg::Callbacks;
using cpg::Counters;
using cpg::DispatchMode;
using cpg::Guarantee;
using cpg::Member;
using cpg::MemberChange;
using cpg::Message;
using cpg::Reason;
using cpg::RingChange;
using cpg::ViewChange;

// A group change, shared by the queues it goes to (copied once).
struct ViewEvent {
  std::string group;
  std::vector<Member> members;
  std::vector<MemberChange> left;
  std::vector<MemberChange> joined;
};

struct RingEvent {
  std::uint32_t representative = 0;
  std::uint64_t seq = 0;
  std::vector<std::uint32_t> nodes;
};

struct Event {
  enum class Kind : std::uint8_t { message, view, ring };
  Kind kind = Kind::message;
  // message: the record stays in the receive log (pinned by `seq`) until the
  // callback returned; `group` is the session's group name when it was queued.
  std::uint64_t seq = 0;
  // The node's log bytes delivered before this message (Node::EvictionLimits).
  std::uint64_t log_mark = 0;
  std::chrono::steady_clock::time_point queued_at;  // the round's time (eviction only)
  Member sender;
  std::byte* payload = nullptr;
  std::size_t payload_bytes = 0;
  // A message put together from fragments: payload points into it (the
  // record of its last fragment is still pinned by `seq`, as for any message,
  // so that releases stay in delivery order).
  std::shared_ptr<std::vector<std::byte>> assembled;
  // Copied out of the log (payload points into `assembled`) for a handle
  // that did not dispatch (Node::EvictionLimits): no longer pinned.
  bool spilled = false;
  std::shared_ptr<const std::string> group;
  std::shared_ptr<const ViewEvent> view;
  std::shared_ptr<const RingEvent> ring;
};

// What a release of messages held by reference did
// (Session::release_held_locked).
struct HeldRelease {
  bool ok = false;
  std::uint64_t bytes = 0;  // of the pins released
  const char* why = "";     // when refused
};

}  // namespace ringcast::client
