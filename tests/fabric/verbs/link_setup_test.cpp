// What link set-up makes of a peer's reject data (fabric/verbs/link_setup.hpp):
// the reason travels as text the peer chose, so it must reach errors and
// logs escaped and bounded.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fabric/verbs/link_setup.hpp"

namespace ringcast::fabric::verbs {
namespace {

std::vector<std::byte> reject_data(std::string_view text) {
  std::vector<std::byte> out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

TEST(LinkSetup, ARefusalRoundTrips) {
  const Refusal r = encode_refusal("bad cluster key proof");
  auto reason = decode_refusal(std::span(r.bytes).first(r.length));
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, "bad cluster key proof");
}

TEST(LinkSetup, APeersRefusalTextIsEscaped) {
  // A forged log line, a terminal escape and a byte that is not text.
  auto reason =
      decode_refusal(reject_data("ringcast-refused:no\nringcast: node 1 left\x1b[2J\xff\x7f done"));
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, "no\\x0aringcast: node 1 left\\x1b[2J\\xff\\x7f done");
  EXPECT_EQ(reason->find('\n'), std::string::npos);
}

TEST(LinkSetup, APeersRefusalTextIsBounded) {
  // Far more than a reject carries, all of it to be escaped.
  auto reason = decode_refusal(reject_data("ringcast-refused:" + std::string(4000, '\x01')));
  ASSERT_TRUE(reason);
  EXPECT_LE(reason->size(), kMaxRefusalTextBytes);
  EXPECT_TRUE(reason->ends_with("...")) << *reason;
}

}  // namespace
}  // namespace ringcast::fabric::verbs
