// One sample of every request and event of the client-daemon protocol
// (api/ipc), with fields away from zero, and limits they all fit: the
// codec's round-trip test and the request decoder's fuzz seeds use them.
#pragma once

#include <cstddef>
#include <vector>

#include "ipc/frame_codec.hpp"
#include "ipc/messages.hpp"

namespace ringcast::ipc::samples {

inline const std::vector<std::byte>& payload() {
  static const std::vector<std::byte> bytes = [] {
    std::vector<std::byte> b(37);
    for (std::size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<std::byte>(i * 11 + 1);
    return b;
  }();
  return bytes;
}

inline RequestLimits request_limits() {
  return {1 << 20, 4096, 1 << 20};
}
inline EventLimits event_limits() {
  return {1 << 24, 4096, 1 << 20};
}

inline std::vector<Request> requests() {
  const auto g = GroupName::of("group-α");
  return {
      {1, Hello{kProtocolVersion, 4242}},
      {2, Initialize{1, 1}},
      {3, Finalize{0x1122334455667788}},
      {4, Join{7, g}},
      {5, Leave{7, g}},
      {6, Mcast{7, 2, payload()}},
      {7, ZcbMcast{7, 3, 4096, 1000}},
      {8, ZcbAlloc{7, 65536}},
      {9, ZcbFree{7, 8192}},
      {10, MembershipGet{7, g}},
      {11, LocalGet{7}},
      {12, Iteration{7, 2, g}},
      {13, Release{7, 99}},
      {14, McastPart{7, payload()}},
      {15, QuorumInitialize{1}},
      {16, QuorumFinalize{9}},
      {17, QuorumGetquorate{9}},
      {18, QuorumTrackstart{9, 3}},
      {19, QuorumTrackstop{9}},
      {20, McastCredited{7, 1, payload()}},
  };
}

inline std::vector<Event> events() {
  const auto g = GroupName::of("group-β");
  return {
      {1, Welcome{kProtocolVersion, 0, 3, 65536, 1 << 20, 1 << 19, 1 << 22, 1 << 24, 1 << 20,
                  std::uint64_t{64} << 20}},
      {2, Reply{0, 0xabcdef}},
      {3, ReplyMembers{0, {{1, 100}, {2, 200}, {3, 300}}}},
      {4, ReplyIteration{0, {{g, {1, 100}}, {GroupName::of("other"), {2, 7}}}}},
      {0, DeliverInline{7, g, {2, 200}, payload()}},
      {0, DeliverRef{7, g, {2, 200}, 55, 1 << 20, 4000}},
      {0, Confchg{7, g, {{{1, 100}, 1}, {{2, 200}, 1}}, {{{3, 300}, 5}}, {{{2, 200}, 1}}}},
      {0, TotemConfchg{7, 1, 42, {1, 2, 3}}},
      {0, DeliverPart{7, payload()}},
      {0, QuorumNotify{9, 1, 2, 44, {1, 2, 3}, {3}, {4}}},
      {0, McastAck{7, 20, 4096, 1 << 18, 3, 1, 6, 1, 64}},
  };
}

inline std::vector<std::byte> frame_of(const Request& r) {
  EncodedFrame f;
  encode(r, f);
  return f.joined();
}

inline std::vector<std::byte> frame_of(const Event& e) {
  EncodedFrame f;
  encode(e, f);
  return f.joined();
}

}  // namespace ringcast::ipc::samples
