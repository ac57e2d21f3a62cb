// The decoders against malformed frames: one test per rule, each checking
// the code and that the message names what broke; then every strict prefix
// and every single-byte change of every valid frame, which must decode to a
// value or an error and never crash or read past the frame (run under ASan).
#include <gtest/gtest.h>

#include <limits>

#include "base/wire.hpp"
#include "ipc/frame_codec.hpp"
#include "support/ipc_samples.hpp"

namespace ringcast::ipc {
namespace {

using samples::frame_of;

IpcErrc request_error(const std::vector<std::byte>& frame,
                      RequestLimits limits = samples::request_limits()) {
  auto decoded = decode_request(frame, limits);
  EXPECT_FALSE(decoded.ok());
  return decoded.ok() ? IpcErrc::truncated : decoded.error().code;
}

IpcErrc event_error(const std::vector<std::byte>& frame) {
  auto decoded = decode_event(frame, samples::event_limits());
  EXPECT_FALSE(decoded.ok());
  return decoded.ok() ? IpcErrc::truncated : decoded.error().code;
}

void put32(std::vector<std::byte>& f, std::size_t at, std::uint32_t v) {
  wire::put<std::uint32_t>(f.data() + at, v);
}

// Offsets in the frames (docs/protocol.md): after the 16-byte header.
constexpr std::size_t kBody = kFrameHeaderBytes;

TEST(RequestDecoder, ShorterThanTheHeaderIsTruncated) {
  EXPECT_EQ(request_error({}), IpcErrc::truncated);
  EXPECT_EQ(request_error(std::vector<std::byte>(15)), IpcErrc::truncated);
}

TEST(RequestDecoder, FrameEndingInsideItsFieldsIsTruncated) {
  auto f = frame_of(Request{1, Join{7, GroupName::of("g")}});
  f.resize(f.size() - 1);
  auto decoded = decode_request(f, samples::request_limits());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, IpcErrc::truncated);
  EXPECT_NE(decoded.error().message.find("join"), std::string::npos);
}

TEST(RequestDecoder, BytesAfterTheFieldsAreRefused) {
  auto f = frame_of(Request{1, Finalize{7}});
  f.resize(f.size() + 8);
  EXPECT_EQ(request_error(f), IpcErrc::trailing_bytes);
}

TEST(RequestDecoder, UnknownTypesAreRefused) {
  for (std::uint32_t type : {0u, 21u, 63u, 75u, 0xffffffffu}) {
    auto f = frame_of(Request{1, Finalize{7}});
    put32(f, 0, type);
    EXPECT_EQ(request_error(f), IpcErrc::unknown_type) << type;
  }
}

TEST(DecoderDirection, EventsAreNotRequestsAndRequestsNotEvents) {
  EXPECT_EQ(request_error(frame_of(samples::events()[1])), IpcErrc::wrong_direction);
  EXPECT_EQ(event_error(frame_of(samples::requests()[2])), IpcErrc::wrong_direction);
}

TEST(RequestDecoder, ReservedFieldsMustBeZero) {
  auto f = frame_of(Request{1, Finalize{7}});
  put32(f, 4, 1);
  EXPECT_EQ(request_error(f), IpcErrc::reserved_not_zero);
  auto z = frame_of(Request{1, ZcbMcast{7, 0, 0, 8}});
  put32(z, kBody + 12, 5);
  EXPECT_EQ(request_error(z), IpcErrc::reserved_not_zero);
}

TEST(RequestDecoder, GroupNamesLongerThanCpgAllowsAreRefused) {
  for (auto request :
       {Request{1, Join{7, {}}}, Request{1, Leave{7, {}}}, Request{1, MembershipGet{7, {}}}}) {
    auto f = frame_of(request);
    put32(f, kBody + 8, kMaxGroupNameBytes + 1);
    EXPECT_EQ(request_error(f), IpcErrc::bad_group_name);
  }
  auto stray = frame_of(Request{1, Join{7, GroupName::of("abc")}});
  stray[kBody + 12 + 3] = std::byte{'d'};  // past the name's 3 bytes
  EXPECT_EQ(request_error(stray), IpcErrc::bad_group_name);
  auto it = frame_of(Request{1, Iteration{7, 3, {}}});
  put32(it, kBody + 12, 0xffffffff);
  EXPECT_EQ(request_error(it), IpcErrc::bad_group_name);
}

TEST(RequestDecoder, EnumeratedFieldsOutOfRangeAreRefused) {
  EXPECT_EQ(request_error(frame_of(Request{1, Mcast{7, 4, {}}})), IpcErrc::bad_field);
  EXPECT_EQ(request_error(frame_of(Request{1, ZcbMcast{7, 9, 0, 8}})), IpcErrc::bad_field);
  EXPECT_EQ(request_error(frame_of(Request{1, Initialize{0, 0}})), IpcErrc::bad_field);
  EXPECT_EQ(request_error(frame_of(Request{1, Initialize{1, 2}})), IpcErrc::bad_field);
  EXPECT_EQ(request_error(frame_of(Request{1, Iteration{7, 0, {}}})), IpcErrc::bad_field);
  EXPECT_EQ(request_error(frame_of(Request{1, Iteration{7, 4, {}}})), IpcErrc::bad_field);
  EXPECT_EQ(request_error(frame_of(Request{1, ZcbAlloc{7, 0}})), IpcErrc::bad_field);
}

TEST(RequestDecoder, QuorumRequestsTakeOnlyTheirModelsAndTrackFlags) {
  EXPECT_TRUE(decode_request(frame_of(Request{1, QuorumInitialize{0}}), samples::request_limits()));
  EXPECT_EQ(request_error(frame_of(Request{1, QuorumInitialize{2}})), IpcErrc::bad_field);
  for (std::uint32_t flags : {8u, 0x80000000u, 0xffffffffu})
    EXPECT_EQ(request_error(frame_of(Request{1, QuorumTrackstart{9, flags}})), IpcErrc::bad_field)
        << flags;
  auto init = frame_of(Request{1, QuorumInitialize{1}});
  put32(init, kBody + 4, 1);
  EXPECT_EQ(request_error(init), IpcErrc::reserved_not_zero);
  auto track = frame_of(Request{1, QuorumTrackstart{9, 2}});
  put32(track, kBody + 12, 1);
  EXPECT_EQ(request_error(track), IpcErrc::reserved_not_zero);
  auto getq = frame_of(Request{1, QuorumGetquorate{9}});
  getq.resize(getq.size() - 1);
  EXPECT_EQ(request_error(getq), IpcErrc::truncated);
  auto stop = frame_of(Request{1, QuorumTrackstop{9}});
  stop.resize(stop.size() + 4);
  EXPECT_EQ(request_error(stop), IpcErrc::trailing_bytes);
}

TEST(RequestDecoder, SizesAboveTheLimitsAreTooBig) {
  const auto limits = samples::request_limits();
  std::vector<std::byte> big(limits.max_message_bytes + 1);
  EXPECT_EQ(request_error(frame_of(Request{1, Mcast{7, 0, big}})), IpcErrc::too_big);
  EXPECT_EQ(request_error(frame_of(Request{1, McastPart{7, big}})), IpcErrc::too_big);
  EXPECT_EQ(request_error(frame_of(Request{1, ZcbMcast{7, 0, 0, limits.max_message_bytes + 1}})),
            IpcErrc::too_big);
  EXPECT_EQ(request_error(frame_of(Request{1, ZcbAlloc{7, limits.max_zcb_alloc_bytes + 1}})),
            IpcErrc::too_big);
}

TEST(RequestDecoder, RangesOutsideTheZcbSegmentAreRefused) {
  const std::uint64_t segment = samples::request_limits().zcb_segment_bytes;
  EXPECT_TRUE(decode_request(frame_of(Request{1, ZcbMcast{7, 0, segment - 8, 8}}),
                             samples::request_limits())
                  .ok());
  EXPECT_EQ(request_error(frame_of(Request{1, ZcbMcast{7, 0, segment - 8, 9}})),
            IpcErrc::out_of_segment);
  // offset + length wraps around 2^64: still outside.
  const std::uint64_t huge = std::numeric_limits<std::uint64_t>::max() - 7;
  EXPECT_EQ(request_error(frame_of(Request{1, ZcbMcast{7, 0, huge, 16}})), IpcErrc::out_of_segment);
  EXPECT_EQ(request_error(frame_of(Request{1, ZcbFree{7, segment}})), IpcErrc::out_of_segment);
  EXPECT_EQ(request_error(frame_of(Request{1, ZcbMcast{7, 0, 0, 8}}), {0, 4096, 0}),
            IpcErrc::out_of_segment);  // a client without a segment
}

TEST(RequestDecoder, PayloadLengthDisagreeingWithTheFrameIsRefused) {
  auto f = frame_of(Request{1, Mcast{7, 0, samples::payload()}});
  put32(f, kBody + 12, static_cast<std::uint32_t>(samples::payload().size() + 1));
  EXPECT_EQ(request_error(f), IpcErrc::bad_count);
  put32(f, kBody + 12, static_cast<std::uint32_t>(samples::payload().size() - 1));
  EXPECT_EQ(request_error(f), IpcErrc::bad_count);
}

TEST(EventDecoder, CountsAboveTheMaximumOrDisagreeingAreRefused) {
  auto members = frame_of(samples::events()[2]);  // 3 members
  put32(members, kBody + 4, 4);
  EXPECT_EQ(event_error(members), IpcErrc::bad_count);
  put32(members, kBody + 4, kMaxMembers + 1);
  EXPECT_EQ(event_error(members), IpcErrc::bad_count);

  auto confchg = frame_of(samples::events()[6]);
  const std::size_t counts = kBody + 8 + kMaxGroupNameBytes + 4;
  put32(confchg, counts + 4, kMaxMembers + 1);  // left
  EXPECT_EQ(event_error(confchg), IpcErrc::bad_count);
  put32(confchg, counts + 4, 2);
  EXPECT_EQ(event_error(confchg), IpcErrc::bad_count);

  auto totem = frame_of(samples::events()[7]);
  put32(totem, kBody + 12, 0xffffffff);
  EXPECT_EQ(event_error(totem), IpcErrc::bad_count);

  auto iteration = frame_of(samples::events()[3]);
  put32(iteration, kBody + 4, kMaxIterationEntries + 1);
  EXPECT_EQ(event_error(iteration), IpcErrc::bad_count);

  auto quorum = frame_of(samples::events()[9]);  // 3 nodes, 1 joined, 1 left
  const std::size_t quorum_counts = kBody + 24;
  put32(quorum, quorum_counts, kMaxMembers + 1);
  EXPECT_EQ(event_error(quorum), IpcErrc::bad_count);
  put32(quorum, quorum_counts, 4);
  EXPECT_EQ(event_error(quorum), IpcErrc::bad_count);
  put32(quorum, quorum_counts, 3);
  put32(quorum, kBody + 8, 2);  // quorate is a flag
  EXPECT_EQ(event_error(quorum), IpcErrc::bad_field);
}

TEST(EventDecoder, DeliveriesOutsideTheLogAreRefused) {
  const auto limits = samples::event_limits();
  auto past_end = samples::events()[5];
  std::get<DeliverRef>(past_end.body).log_offset = limits.log_bytes - 100;
  std::get<DeliverRef>(past_end.body).length = 101;
  EXPECT_EQ(event_error(frame_of(past_end)), IpcErrc::out_of_segment);
  std::get<DeliverRef>(past_end.body).log_offset = std::numeric_limits<std::uint64_t>::max();
  std::get<DeliverRef>(past_end.body).length = 2;
  EXPECT_EQ(event_error(frame_of(past_end)), IpcErrc::out_of_segment);
  std::get<DeliverRef>(past_end.body).log_offset = 0;
  std::get<DeliverRef>(past_end.body).length = limits.max_reference_bytes + 1;
  EXPECT_EQ(event_error(frame_of(past_end)), IpcErrc::too_big);
  // A whole message larger than a frame's payload is a delivery like any.
  std::get<DeliverRef>(past_end.body).length = limits.max_reference_bytes;
  EXPECT_TRUE(decode_event(frame_of(past_end), limits).ok());
}

TEST(EventDecoder, ReservedAndGroupRulesHoldForEvents) {
  auto reply = frame_of(samples::events()[1]);
  put32(reply, kBody + 4, 1);
  EXPECT_EQ(event_error(reply), IpcErrc::reserved_not_zero);
  auto deliver = frame_of(samples::events()[4]);
  put32(deliver, kBody + 8, kMaxGroupNameBytes + 1);
  EXPECT_EQ(event_error(deliver), IpcErrc::bad_group_name);
}

TEST(Decoders, EveryPrefixOfEveryValidFrameIsRefused) {
  for (const auto& request : samples::requests()) {
    const auto frame = frame_of(request);
    for (std::size_t n = 0; n < frame.size(); ++n) {
      std::vector<std::byte> prefix(frame.begin(), frame.begin() + n);
      EXPECT_FALSE(decode_request(prefix, samples::request_limits()).ok())
          << message_type_name(type_of(request.body)) << " cut at " << n;
    }
  }
  for (const auto& event : samples::events()) {
    const auto frame = frame_of(event);
    for (std::size_t n = 0; n < frame.size(); ++n) {
      std::vector<std::byte> prefix(frame.begin(), frame.begin() + n);
      EXPECT_FALSE(decode_event(prefix, samples::event_limits()).ok())
          << message_type_name(type_of(event.body)) << " cut at " << n;
    }
  }
}

TEST(Decoders, EveryByteChangedToAnythingDecodesOrIsRefused) {
  std::size_t refused = 0, decoded = 0;
  for (const auto& request : samples::requests()) {
    auto frame = frame_of(request);
    for (std::size_t at = 0; at < frame.size(); ++at) {
      const std::byte was = frame[at];
      for (unsigned v : {0x00u, 0x01u, 0x80u, 0xffu}) {
        frame[at] = static_cast<std::byte>(v);
        (decode_request(frame, samples::request_limits()).ok() ? decoded : refused) += 1;
      }
      frame[at] = was;
    }
  }
  for (const auto& event : samples::events()) {
    auto frame = frame_of(event);
    for (std::size_t at = 0; at < frame.size(); ++at) {
      const std::byte was = frame[at];
      for (unsigned v : {0x00u, 0x01u, 0x80u, 0xffu}) {
        frame[at] = static_cast<std::byte>(v);
        (decode_event(frame, samples::event_limits()).ok() ? decoded : refused) += 1;
      }
      frame[at] = was;
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_GT(decoded, 0u);
}

TEST(Decoders, EveryErrorCodeHasAName) {
  for (int c = 0; c <= static_cast<int>(IpcErrc::quota_unreleased); ++c)
    EXPECT_STRNE(ipc_errc_name(static_cast<IpcErrc>(c)), "unknown error") << c;
}

}  // namespace
}  // namespace ringcast::ipc
