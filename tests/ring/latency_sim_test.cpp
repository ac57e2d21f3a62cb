// ringcast-bench's latency mode in the simulator (latency_sim.hpp): one
// sender, one message in flight. The busy hold must keep such a case in the
// fast mode (the holder sends each message at its submit and delivers it to
// itself at once); a case in which messages wait for the token to go round
// shows as token passes per message and as a self-delivery of a rotation.
#include <gtest/gtest.h>

#include <cstdio>

#include "latency_sim.hpp"
#include "runtime/progress_thread.hpp"

namespace ringcast::ring::sim_test {
namespace {

// A pass now and then is the hold's time bound or the case's first message;
// a rotation-per-message mode passes the token N times per message.
constexpr double kMaxPassesPerMessage = 0.02;

LatencyFigures run_and_print(const LatencyCase& c, const char* what) {
  const LatencyFigures f = run_latency_case(c);
  std::printf("%s, %zu members: %s\n", what, c.members, f.describe().c_str());
  return f;
}

void expect_fast(const LatencyCase& c, const LatencyFigures& f) {
  ASSERT_TRUE(f.failure.empty()) << f.failure;
  EXPECT_LE(f.passes_per_message, kMaxPassesPerMessage)
      << c.members << " members: the token went round for the messages";
  EXPECT_LT(f.self.median, f.one_write_ns)
      << c.members << " members: the median message waited for the token";
}

LatencyCase base_case(std::size_t members) {
  LatencyCase c;
  c.members = members;
  c.messages = 1000;
  c.warmup = 100;
  return c;
}

// The sender submits as soon as it delivered to itself, faster than its links
// take writes (a send queue of 8 writes per link): a busy holder whose
// outbox to some member is full must wait for its link, not pass the token.
TEST(LatencySim, ABusyHolderWaitsForAFullLinkInsteadOfPassing) {
  for (std::size_t n : {2, 3, 5}) {
    LatencyCase c = base_case(n);
    c.sim.send_queue_depth = 8;
    c.ring.max_messages_per_visit = 4;  // a visit's chain must fit the send queue
    c.ring.window_messages = 16;
    expect_fast(c, run_and_print(c, "copying send, 8-write send queues"));
  }
}

// The same with zero-copy sends: a visit's zero-copy sources stay in the
// table until their writes completed, so a fast sender fills it.
TEST(LatencySim, ABusyHolderWaitsForTheZeroCopyTableInsteadOfPassing) {
  for (std::size_t n : {2, 3, 5}) {
    LatencyCase c = base_case(n);
    c.zero_copy = true;
    expect_fast(c, run_and_print(c, "zero-copy send"));
  }
}

// The members' progress threads with the runtime's spin rule and defaults
// (runtime::ProgressOptions, SpinPolicy), a wake-up costing 30 us, and the
// sender posting a message every 60 us (on rxe with 3 members a message is
// two posts of about 30 us): the sender keeps the token and delivers to
// itself at once, and the other members, which receive a record every 60 us,
// keep spinning instead of sleeping between records (a fixed 50 us spin made
// every record a wake-up: the slowest member's median was the wake-up).
TEST(LatencySim, MembersReceivingAStreamStayAwakeAndTheSenderKeepsTheToken) {
  const runtime::ProgressOptions defaults;
  for (std::size_t n : {2, 3, 5}) {
    LatencyCase c = base_case(n);
    c.progress = {defaults.spin_ns, defaults.max_spin_ns, 30'000};
    c.think_ns = 60'000;
    const LatencyFigures f = run_and_print(c, "runtime spin, 60 us between messages");
    expect_fast(c, f);
    EXPECT_LT(f.slowest.median, c.progress.wakeup_ns)
        << n << " members: the other members slept between records";
  }
}

// Whatever member holds the idle token when the case starts, the sender
// gets it once and keeps it.
TEST(LatencySim, TheCaseStartsFastWhereverTheIdleTokenIs) {
  for (std::uint64_t idle_ms = 0; idle_ms < 400; idle_ms += 37) {
    LatencyCase c = base_case(3);
    c.messages = 300;
    c.warmup = 30;
    c.idle_before_ns = idle_ms * 1'000'000;
    c.progress = {50'000, 200'000, 30'000};
    c.think_ns = 60'000;
    c.seed = idle_ms + 1;
    const LatencyFigures f = run_latency_case(c);
    expect_fast(c, f);
    EXPECT_LE(f.waited_for_token, 1u) << "idle for " << idle_ms << " ms: " << f.describe();
  }
}

}  // namespace
}  // namespace ringcast::ring::sim_test
