// The fault-kind registry: every registered kind shows in a summary, zero
// or not, sorted by name.
#include <gtest/gtest.h>

#include <string>

#include "fault_counts.hpp"
#include "fault_sim.hpp"

namespace ringcast::membership::fault_test {
namespace {

TEST(FaultCounts, EveryRegisteredKindPrintsSortedWithItsCount) {
  const FaultKindCounter& slow = fault_counter(FaultKind::slow);
  FaultCounts a;
  a.add(slow, 2);
  a.add(fault_counter(FaultKind::crash));
  FaultCounts b;
  b.add(slow);
  a += b;
  EXPECT_EQ(a.get(slow), 3u);
  EXPECT_EQ(a.total(), 4u);
  const std::string s = a.summary();
  EXPECT_EQ(s.rfind("clock_step=0 ", 0), 0u) << s;  // the first name in order
  EXPECT_NE(s.find(" crash=1 "), std::string::npos) << s;
  EXPECT_NE(s.find(" heal=0 "), std::string::npos) << s;
  EXPECT_NE(s.find(" slow=3"), std::string::npos) << s;
  EXPECT_LT(s.find(" heal="), s.find(" slow=")) << s;
  EXPECT_STREQ(fault_name(FaultKind::lose_token), "lose_token");
}

}  // namespace
}  // namespace ringcast::membership::fault_test
