// The progress thread's spin rule (runtime/spin_policy.hpp), in virtual time.
#include <gtest/gtest.h>

#include "runtime/spin_policy.hpp"

namespace ringcast::runtime {
namespace {

// One activity at `at` after rounds that found nothing.
void activity_after_pause(SpinPolicy& p, std::uint64_t at) {
  p.on_idle_round();
  p.on_activity(at);
}

TEST(SpinPolicy, AFixedSpinWhenTheMaximumIsTheMinimum) {
  SpinPolicy p(50'000, 50'000);
  p.on_activity(0);
  for (std::uint64_t t = 60'000; t < 600'000; t += 60'000)
    activity_after_pause(p, t);
  EXPECT_EQ(p.window_ns(), 50'000u);
  EXPECT_FALSE(p.spinning(540'000 + 50'000)) << "asleep before the next record";
}

// Records every 60 us: a 50 us spin would sleep before each of them.
TEST(SpinPolicy, ASteadyStreamIsSpunThrough) {
  SpinPolicy p(50'000, 200'000);
  p.on_activity(0);
  for (std::uint64_t t = 60'000; t < 600'000; t += 60'000) {
    EXPECT_TRUE(p.spinning(t - 1) || t == 60'000) << "awake when the record at " << t << " lands";
    activity_after_pause(p, t);
  }
  EXPECT_EQ(p.window_ns(), 120'000u) << "twice the gap";
}

// A wake-up delays the activity it brings; the window shrinks by halves, so
// the next gap, measured from that late activity, does not undercut it.
TEST(SpinPolicy, TheWindowShrinksByHalves) {
  SpinPolicy p(50'000, 200'000);
  p.on_activity(0);
  activity_after_pause(p, 90'000);  // a 60 us stream, woken 30 us late
  EXPECT_EQ(p.window_ns(), 180'000u);
  activity_after_pause(p, 120'000);  // 30 us measured
  EXPECT_EQ(p.window_ns(), 120'000u) << "(180 + 60) / 2";
  activity_after_pause(p, 180'000);
  EXPECT_EQ(p.window_ns(), 120'000u);
  EXPECT_TRUE(p.spinning(239'999));
}

// Consecutive busy rounds are one burst, not a stream of short gaps; a pause
// longer than the maximum (an idle ring) brings the spin back to spin_ns.
TEST(SpinPolicy, BurstsAndLongPausesKeepTheShortSpin) {
  SpinPolicy p(50'000, 200'000);
  p.on_activity(0);
  activity_after_pause(p, 80'000);
  EXPECT_EQ(p.window_ns(), 160'000u);
  for (std::uint64_t t = 80'001; t < 80'100; ++t)
    p.on_activity(t);  // a burst: no pause between
  EXPECT_EQ(p.window_ns(), 160'000u);
  activity_after_pause(p, 100'080'000);  // 100 ms later: an idle hold
  EXPECT_EQ(p.window_ns(), 50'000u);
  EXPECT_FALSE(p.spinning(100'080'000 + 50'000));
}

// No spin asked, none given: the thread sleeps whenever a round finds nothing.
TEST(SpinPolicy, NoSpinStaysNoSpin) {
  SpinPolicy p(0, 200'000);
  p.on_activity(0);
  for (std::uint64_t t = 60'000; t < 600'000; t += 60'000)
    activity_after_pause(p, t);
  EXPECT_EQ(p.window_ns(), 0u);
  EXPECT_FALSE(p.spinning(540'000));
}

// After a sleep the thread spins a whole window from its wake-up, and the
// sleep counts in the next gap.
TEST(SpinPolicy, AWakeRestartsTheSpin) {
  SpinPolicy p(50'000, 200'000);
  p.on_activity(0);
  p.on_idle_round();
  EXPECT_FALSE(p.spinning(50'000));
  p.on_wake(1'000'000);
  EXPECT_TRUE(p.spinning(1'049'999));
  EXPECT_EQ(p.spin_end_ns(), 1'050'000u);
  p.on_activity(1'000'000);
  EXPECT_EQ(p.window_ns(), 50'000u) << "a 1 ms gap is no stream";
}

}  // namespace
}  // namespace ringcast::runtime
