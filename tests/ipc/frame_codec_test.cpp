// Every request and event survives encode, decode and encode again byte for
// byte, keeps its type and request id, and its fields where they matter;
// the protocol's bounds are CPG's.
#include <gtest/gtest.h>
#include <ringcast/cpg.h>

#include "ipc/frame_codec.hpp"
#include "support/ipc_samples.hpp"

namespace ringcast::ipc {
namespace {

static_assert(kMaxGroupNameBytes == CPG_MAX_NAME_LENGTH);
static_assert(kMaxMembers == CPG_MEMBERS_MAX);
static_assert(CPG_TYPE_SAFE == 3 && CPG_ITERATION_ALL == 3 && CPG_MODEL_V1 == 1);

TEST(FrameCodec, EveryRequestRoundTrips) {
  const auto all = samples::requests();
  ASSERT_EQ(all.size(), kLastRequest - kFirstRequest + 1);
  for (const auto& request : all) {
    const auto frame = samples::frame_of(request);
    auto decoded = decode_request(frame, samples::request_limits());
    ASSERT_TRUE(decoded.ok()) << message_type_name(type_of(request.body)) << ": "
                              << decoded.error().message;
    EXPECT_EQ(decoded->request_id, request.request_id);
    EXPECT_EQ(type_of(decoded->body), type_of(request.body));
    EXPECT_EQ(samples::frame_of(*decoded), frame) << message_type_name(type_of(request.body));
  }
}

TEST(FrameCodec, EveryEventRoundTrips) {
  const auto all = samples::events();
  ASSERT_EQ(all.size(), kLastEvent - kFirstEvent + 1);
  for (const auto& event : all) {
    const auto frame = samples::frame_of(event);
    auto decoded = decode_event(frame, samples::event_limits());
    ASSERT_TRUE(decoded.ok()) << message_type_name(type_of(event.body)) << ": "
                              << decoded.error().message;
    EXPECT_EQ(decoded->request_id, event.request_id);
    EXPECT_EQ(type_of(decoded->body), type_of(event.body));
    EXPECT_EQ(samples::frame_of(*decoded), frame) << message_type_name(type_of(event.body));
  }
}

TEST(FrameCodec, FieldsComeBackWhereTheyWere) {
  // The payload points into the frame: it must outlive the decoded request.
  const auto frame = samples::frame_of(samples::requests()[5]);
  auto mcast = decode_request(frame, samples::request_limits());
  ASSERT_TRUE(mcast.ok());
  const auto& m = std::get<Mcast>(mcast->body);
  EXPECT_EQ(m.handle, 7u);
  EXPECT_EQ(m.guarantee, 2u);
  EXPECT_TRUE(std::equal(m.payload.begin(), m.payload.end(), samples::payload().begin(),
                         samples::payload().end()));

  auto join = decode_request(samples::frame_of(samples::requests()[3]), samples::request_limits());
  ASSERT_TRUE(join.ok());
  EXPECT_EQ(std::get<Join>(join->body).group.view(), "group-α");

  auto confchg = decode_event(samples::frame_of(samples::events()[6]), samples::event_limits());
  ASSERT_TRUE(confchg.ok());
  const auto& c = std::get<Confchg>(confchg->body);
  ASSERT_EQ(c.members.size(), 2u);
  ASSERT_EQ(c.left.size(), 1u);
  EXPECT_EQ(c.left[0], (ConfchgEntry{{3, 300}, 5}));
  EXPECT_EQ(c.joined.size(), 1u);
}

TEST(FrameCodec, LayoutIsLittleEndianWithTheTypeFirst) {
  const auto frame = samples::frame_of(Request{0x0102030405060708, Finalize{0xaabb}});
  ASSERT_EQ(frame.size(), kFrameHeaderBytes + 8);
  EXPECT_EQ(frame[0], std::byte{3});  // MessageType::finalize
  EXPECT_EQ(frame[4], std::byte{0});
  EXPECT_EQ(frame[8], std::byte{0x08});
  EXPECT_EQ(frame[16], std::byte{0xbb});
  EXPECT_EQ(frame[17], std::byte{0xaa});
}

TEST(FrameCodec, VersionMismatchNamesBothVersions) {
  EXPECT_TRUE(check_version(kProtocolVersion, kProtocolVersion).ok());
  auto refused = check_version(1, 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, IpcErrc::version_mismatch);
  EXPECT_NE(refused.error().message.find("library speaks 1"), std::string::npos);
  EXPECT_NE(refused.error().message.find("daemon speaks 2"), std::string::npos);
}

}  // namespace
}  // namespace ringcast::ipc
