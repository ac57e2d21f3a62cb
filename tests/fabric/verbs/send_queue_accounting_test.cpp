// The selective-signaling book-keeping of the verbs backend, on the host (no
// device needed): which writes get signaled, how slots come back, and that a
// chain of allowed length always fits eventually.
#include "fabric/verbs/send_queue_accounting.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>

namespace ringcast::fabric::verbs {
namespace {

TEST(SendQueueAccounting, SignalsEveryHalfDepthWhenTheCallerAsksForNothing) {
  SendQueueAccounting sq(8);
  ASSERT_EQ(sq.max_chain(), 4u);
  std::vector<bool> signals;
  for (int i = 0; i < 8; ++i)
    signals.push_back(sq.push(100 + i, false).signal);
  EXPECT_EQ(signals, (std::vector<bool>{false, false, false, true, false, false, false, true}));
  EXPECT_EQ(sq.free_slots(), 0u);
}

TEST(SendQueueAccounting, ACallerSignalRestartsTheCount) {
  SendQueueAccounting sq(8);
  EXPECT_FALSE(sq.push(1, false).signal);
  EXPECT_TRUE(sq.push(2, true).signal);
  EXPECT_FALSE(sq.push(3, false).signal);
  EXPECT_FALSE(sq.push(4, false).signal);
  EXPECT_FALSE(sq.push(5, false).signal);
  EXPECT_TRUE(sq.push(6, false).signal);
}

TEST(SendQueueAccounting, ACompletionRetiresEverythingUpToItAndTellsWhoAsked) {
  SendQueueAccounting sq(8);
  const auto a = sq.push(10, false);
  const auto b = sq.push(11, true);
  sq.push(12, false);
  ASSERT_EQ(sq.free_slots(), 5u);
  auto retired = sq.complete(b.seq);
  ASSERT_TRUE(retired.has_value());
  EXPECT_EQ(retired->wr_id, 11u);
  EXPECT_TRUE(retired->caller_signaled);
  EXPECT_EQ(sq.free_slots(), 7u);
  EXPECT_EQ(sq.outstanding(), 1u);
  // Already retired (a stale completion, e.g. of a reused QP number): ignored.
  EXPECT_FALSE(sq.complete(a.seq).has_value());
  EXPECT_EQ(sq.free_slots(), 7u);
}

TEST(SendQueueAccounting, ErrorCompletionsOfUnsignaledWritesStillNameTheirWrite) {
  // After an error every queued write completes (flushed), signaled or not.
  SendQueueAccounting sq(16);
  std::vector<std::uint64_t> seqs;
  for (std::uint64_t id = 0; id < 5; ++id)
    seqs.push_back(sq.push(1000 + id, false).seq);
  for (std::uint64_t i = 0; i < 5; ++i) {
    auto retired = sq.complete(seqs[i]);
    ASSERT_TRUE(retired.has_value());
    EXPECT_EQ(retired->wr_id, 1000 + i);
    EXPECT_FALSE(retired->caller_signaled);
  }
  EXPECT_EQ(sq.free_slots(), 16u);
}

TEST(SendQueueAccounting, SequencesOutsideTheQueueAreStale) {
  SendQueueAccounting sq(4);
  EXPECT_FALSE(sq.complete(0).has_value());
  const auto p = sq.push(7, true);
  EXPECT_FALSE(sq.complete(p.seq + 1).has_value());
  EXPECT_TRUE(sq.complete(p.seq).has_value());
}

TEST(SendQueueAccounting, TinyQueuesSignalEverything) {
  SendQueueAccounting sq(2);
  EXPECT_EQ(sq.max_chain(), 1u);
  EXPECT_TRUE(sq.push(1, false).signal);
  EXPECT_TRUE(sq.push(2, false).signal);
}

// A model of the hardware: only signaled writes report, in order, after a
// random delay. Random chains of allowed length must always fit eventually
// (no dead end waiting for a completion that nobody asked for), and the
// internal signals stay near one per half queue.
TEST(SendQueueAccounting, RandomChainsNeverDeadlockAndSignalSparsely) {
  for (std::uint32_t depth : {4u, 16u, 64u, 256u}) {
    std::mt19937_64 rng(depth);
    SendQueueAccounting sq(depth);
    std::deque<std::uint64_t> signaled_in_flight;
    std::uint64_t posted = 0;
    std::uint64_t internal_signals = 0;
    for (int round = 0; round < 20000; ++round) {
      const std::uint32_t chain = 1 + static_cast<std::uint32_t>(rng() % sq.max_chain());
      // Drain completions until the chain fits; with nothing signaled in
      // flight that would never happen: the invariant under test.
      while (sq.free_slots() < chain) {
        ASSERT_FALSE(signaled_in_flight.empty())
            << "depth " << depth << ": stuck with " << sq.outstanding() << " outstanding";
        ASSERT_TRUE(sq.complete(signaled_in_flight.front()).has_value());
        signaled_in_flight.pop_front();
      }
      for (std::uint32_t i = 0; i < chain; ++i) {
        const bool asked = rng() % 97 == 0;
        const auto p = sq.push(posted++, asked);
        if (p.signal) signaled_in_flight.push_back(p.seq);
        if (p.signal && !asked) ++internal_signals;
      }
      // Sometimes the hardware catches up.
      while (!signaled_in_flight.empty() && rng() % 3 == 0) {
        ASSERT_TRUE(sq.complete(signaled_in_flight.front()).has_value());
        signaled_in_flight.pop_front();
      }
    }
    EXPECT_LE(internal_signals, posted / sq.max_chain() + 1) << "depth " << depth;
  }
}

}  // namespace
}  // namespace ringcast::fabric::verbs
