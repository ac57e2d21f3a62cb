// is_key_mismatch: which set-up refusals mean the two nodes' keys differ
// (what stops a node with the wrong key at start-up), and which do not.
#include <gtest/gtest.h>

#include <string>

#include "fabric/auth/handshake.hpp"

namespace ringcast::fabric::auth {
namespace {

TEST(KeyMismatch, EveryReasonThatSaysTheKeysDifferCounts) {
  for (std::string_view reason : {kBadProof, kPeerHasNoKey, kListenerHasNoKey, kKeysDiffer}) {
    EXPECT_TRUE(is_key_mismatch("connect: 10.0.0.1:7405 refused us: " + std::string(reason)))
        << reason;
  }
  EXPECT_TRUE(is_key_mismatch(
      "connect: we refused 10.0.0.1:7405: its cluster key proof is wrong: the two nodes have "
      "different cluster keys"));
  EXPECT_TRUE(
      is_key_mismatch("it requires a cluster key and this node has none (no auth key configured)"));
}

TEST(KeyMismatch, OtherRefusalsDoNot) {
  EXPECT_FALSE(is_key_mismatch(kStaleChallenge));
  EXPECT_FALSE(is_key_mismatch(kUnknownComplaint));
  EXPECT_FALSE(is_key_mismatch("busy: too many connection requests at once"));
  EXPECT_FALSE(is_key_mismatch("node 9 is not a member with a higher id (those connect to me)"));
  EXPECT_FALSE(is_key_mismatch("claims to be node 2 at 10.0.0.2:7405 but connects from 10.0.0.9"));
  EXPECT_FALSE(is_key_mismatch(""));
}

}  // namespace
}  // namespace ringcast::fabric::auth
