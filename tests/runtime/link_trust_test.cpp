// Who may take a member's place at link set-up: a peer must connect from
// its member's configured address, and a new link replaces a live one only
// from the same or a newer incarnation, at most once a second per member.
#include <gtest/gtest.h>

#include "runtime/link_replacement.hpp"
#include "runtime/link_setup.hpp"

namespace ringcast::runtime {
namespace {

TEST(PeerAddress, OnlyTheConfiguredAddressIsAccepted) {
  const MemberAddress m{2, "10.0.0.2", 7405};
  EXPECT_TRUE(check_peer_address(m, "10.0.0.2").ok());
  EXPECT_TRUE(check_peer_address(m, "::ffff:10.0.0.2").ok()) << "a v4-mapped source";
  const Status other = check_peer_address(m, "10.0.0.9");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, Errc::refused);
  EXPECT_NE(other.error().message().find("claims to be node 2 at 10.0.0.2:7405 but connects "
                                         "from 10.0.0.9"),
            std::string::npos)
      << other.error().message();
  EXPECT_FALSE(check_peer_address(m, "?").ok());
  EXPECT_FALSE(check_peer_address(m, "::").ok());
  const MemberAddress v6{3, "fd00::3", 7405};
  EXPECT_TRUE(check_peer_address(v6, "fd00:0:0::3").ok()) << "another spelling";
  EXPECT_FALSE(check_peer_address(v6, "fd00::4").ok());
  // Text from the wire is escaped in the reason.
  EXPECT_EQ(check_peer_address(m, "\x1b[2J").error().message().find('\x1b'), std::string::npos);
}

TEST(LinkReplacement, AnOlderIncarnationNeverReplacesALiveLink) {
  LinkReplacement r(3, 1'000);
  EXPECT_EQ(r.decide(1, 5, 4, 0), Replacement::older_incarnation);
  EXPECT_EQ(r.decide(1, 5, 4, 1'000'000), Replacement::older_incarnation);
  EXPECT_EQ(r.decide(1, 5, 6, 1'000'000), Replacement::allowed);
}

TEST(LinkReplacement, TheSameIncarnationNeverReplacesALiveLink) {
  LinkReplacement r(3, 1'000);
  EXPECT_EQ(r.decide(1, 5, 5, 0), Replacement::same_incarnation);
  EXPECT_EQ(r.decide(1, 5, 5, 1'000'000), Replacement::same_incarnation) << "not even later";
  EXPECT_EQ(r.decide(1, 5, 6, 1'000'000), Replacement::allowed);
}

TEST(LinkReplacement, ReplacementsAreBoundedPerMember) {
  LinkReplacement r(3, 1'000);
  EXPECT_EQ(r.decide(2, 5, 6, 100), Replacement::allowed) << "the peer restarted";
  EXPECT_EQ(r.decide(2, 6, 7, 500), Replacement::too_soon) << "even a newer incarnation waits";
  EXPECT_EQ(r.decide(1, 5, 6, 500), Replacement::allowed) << "another member is not held up";
  EXPECT_EQ(r.decide(2, 6, 7, 1'099), Replacement::too_soon);
  EXPECT_EQ(r.decide(2, 6, 7, 1'100), Replacement::allowed);
  EXPECT_EQ(r.decide(7, 0, 1, 5'000), Replacement::too_soon) << "not a member";
}

}  // namespace
}  // namespace ringcast::runtime
