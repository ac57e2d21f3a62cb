// The benchmark's per-case order digest (bench/common/case_digest.hpp): two
// members that deliver the same records in the same order end with the same
// hash, whenever each of them learnt the case's plan.
#include "case_digest.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ringcast::bench {
namespace {

constexpr std::size_t kPayloadBytes = 65536;

std::vector<std::byte> payload_of(std::uint64_t index) {
  std::vector<std::byte> p(kPayloadBytes);
  stamp_payload(p, 1'000'000 + index * 1000, index);
  return p;
}

// A member delivers records 1..n; `early` of them arrive before its plan.
std::uint64_t digest_of(std::size_t n, std::size_t early, bool full_payload_check) {
  CaseDigest d;
  for (std::size_t seq = 1; seq <= n; ++seq) {
    if (seq == early + 1) d.set_mode(full_payload_check);
    d.add(seq, 1 + seq % 2, payload_of(seq / 2));
  }
  if (early >= n) d.set_mode(full_payload_check);
  EXPECT_EQ(d.count(), n);
  return d.hash();
}

// The failure bench/order-hunt reproduced: the other member's first 64 KiB
// message reached a member before it had read its case (its progress thread
// delivers as soon as a record lands), and that member hashed it whole while
// every other member sampled it: ORDER MISMATCH with identical deliveries.
TEST(CaseDigest, ARecordDeliveredBeforeThePlanIsMixedAsThePlanSays) {
  const std::uint64_t prepared_first = digest_of(20, 0, false);
  EXPECT_EQ(digest_of(20, 1, false), prepared_first);
  EXPECT_EQ(digest_of(20, 7, false), prepared_first);
  EXPECT_EQ(digest_of(20, 20, false), prepared_first);
}

TEST(CaseDigest, FullAndSampledChecksDiffer) {
  EXPECT_NE(digest_of(5, 0, true), digest_of(5, 0, false));
  EXPECT_EQ(digest_of(5, 3, true), digest_of(5, 0, true));
}

TEST(CaseDigest, ResetStartsTheNextCaseWithItsOwnPlan) {
  CaseDigest d;
  d.set_mode(true);
  d.add(1, 2, payload_of(0));
  d.reset();
  d.add(1, 2, payload_of(0));  // the next case's first record, before its plan
  d.set_mode(false);
  EXPECT_EQ(d.count(), 1u);
  EXPECT_EQ(d.hash(), digest_of(1, 0, false));
}

}  // namespace
}  // namespace ringcast::bench
