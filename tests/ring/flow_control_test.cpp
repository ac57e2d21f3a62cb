#include <gtest/gtest.h>

#include "ring/flow_control.hpp"

namespace ringcast::ring {
namespace {

TEST(FlowControl, AloneAMemberSendsItsBacklogUpToTheVisitLimit) {
  FlowControl fc(64, 256);
  EXPECT_EQ(fc.allowed(0, 0, 10), 10u);
  EXPECT_EQ(fc.allowed(0, 0, 1000), 64u);
  EXPECT_EQ(fc.allowed(0, 0, 0), 0u);
}

TEST(FlowControl, WhatOthersSentThisRotationComesOffTheWindow) {
  FlowControl fc(64, 100);
  EXPECT_EQ(fc.allowed(70, 0, 1000), 30u);
  EXPECT_EQ(fc.allowed(100, 0, 1000), 0u);
  EXPECT_EQ(fc.allowed(150, 0, 1000), 0u);  // saturates, never wraps
}

TEST(FlowControl, ItsOwnPreviousShareDoesNotCountAgainstIt) {
  FlowControl fc(64, 100);
  std::uint32_t fcc = 30, backlog = 0;
  fc.record_visit(&fcc, &backlog, 50, 0);  // it sent 50: fcc 80
  EXPECT_EQ(fcc, 80u);
  // Others sent 30; its own 50 are what it now replaces: 100 - 30 = 70 left.
  EXPECT_EQ(fc.allowed(fcc, backlog, 1000), 64u);
  EXPECT_EQ(fc.allowed(fcc + 20, backlog, 1000), 50u);
}

TEST(FlowControl, RecordVisitReplacesThisMembersShares) {
  FlowControl fc(64, 256);
  std::uint32_t fcc = 10, backlog = 5;
  fc.record_visit(&fcc, &backlog, 20, 7);
  EXPECT_EQ(fcc, 30u);
  EXPECT_EQ(backlog, 12u);
  fc.record_visit(&fcc, &backlog, 4, 0);
  EXPECT_EQ(fcc, 14u);  // 30 - 20 + 4
  EXPECT_EQ(backlog, 5u);
  EXPECT_EQ(fc.my_last_sent(), 4u);
  EXPECT_EQ(fc.my_last_backlog(), 0u);
}

TEST(FlowControl, BackloggedMembersShareTheWindowInProportion) {
  FlowControl fc(1000, 200);
  // Token says others have 300 queued; this member 100 (its previous share 0).
  EXPECT_EQ(fc.allowed(0, 300, 100), 50u);  // 200 * 100 / 400
  // A tiny backlog still gets at least one message through.
  EXPECT_EQ(fc.allowed(0, 1000000, 1), 1u);
}

TEST(FlowControl, ItsOwnPreviousBacklogIsReplacedNotAdded) {
  FlowControl fc(1000, 200);
  std::uint32_t fcc = 0, backlog = 300;
  fc.record_visit(&fcc, &backlog, 0, 100);  // the token now says 400, 100 of them mine
  EXPECT_EQ(backlog, 400u);
  EXPECT_EQ(fc.allowed(fcc, backlog, 100), 50u);   // still 200 * 100 / 400
  EXPECT_EQ(fc.allowed(fcc, backlog, 300), 100u);  // 200 * 300 / 600
}

}  // namespace
}  // namespace ringcast::ring
