// Credited mcasts through the daemon's client server (docs/protocol.md,
// "Credit"), with raw clients over simulated nodes: the grant after
// initialize, a stream that uses its credit up and gets it back, an mcast
// refused after its credit reported in an ack, and clients that misuse the
// credit (none granted, a window ignored) disconnected without harm to the
// others. Nothing here waits for a time to pass: each client reads only
// when its credit is used up, so it runs out at the same point every run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "client_test_support.hpp"
#include "ringcast/cpg.h"

namespace ringcast::daemon_test {
namespace {

SimDaemonOptions with_credit(std::uint32_t messages, std::uint64_t bytes) {
  SimDaemonOptions o;
  o.server.quota.max_credit_messages = messages;
  o.server.quota.max_credit_bytes = bytes;
  return o;
}

// The library's rule: one more while fewer than the window are unacknowledged.
struct CreditBook {
  std::uint32_t window_messages = 0;
  std::uint64_t window_bytes = 0;
  std::uint32_t messages = 0;
  std::uint64_t bytes = 0;
  std::size_t acks_read = 0;
  std::uint64_t acknowledged = 0, refused = 0;
  std::uint64_t times_out_of_credit = 0;

  bool available() const { return messages < window_messages && bytes < window_bytes; }
  void read(const RawClient& c) {
    const auto acks = c.acks();
    for (; acks_read < acks.size(); ++acks_read) {
      const ipc::McastAck& a = acks[acks_read];
      messages -= a.messages;
      bytes -= a.bytes;
      acknowledged += a.messages;
      refused += a.refused;
      window_messages = a.window_messages;
      window_bytes = a.window_bytes;
    }
  }
};

// Sends `text` as a credited mcast, reading acks first while out of credit.
bool send_credited(RawClient& c, CreditBook& book, std::uint64_t handle, const std::string& text) {
  book.read(c);
  if (!book.available()) {
    ++book.times_out_of_credit;
    if (!c.read_until([&] {
          book.read(c);
          return book.available();
        }))
      return false;
  }
  ++book.messages;
  book.bytes += text.size();
  c.mcast(handle, text, 2, true);
  return true;
}

TEST(ClientCredit, TheCreditIsGrantedRightAfterInitialize) {
  SimDaemons d(with_credit(16, 1 << 16));
  auto a = connect(d, 0);
  ASSERT_TRUE(a);
  const std::uint64_t ha = a->initialize();
  ASSERT_NE(ha, 0u);
  ASSERT_TRUE(a->read_until([&] { return !a->acks().empty(); }));
  const ipc::McastAck grant = a->acks().front();
  EXPECT_EQ(grant.handle, ha);
  EXPECT_EQ(grant.messages, 0u);
  EXPECT_EQ(grant.window_messages, 16u);
  EXPECT_EQ(grant.window_bytes, std::uint64_t{1} << 16);
}

TEST(ClientCredit, AStreamUsesItsCreditUpAndGetsItBackInOrder) {
  SimDaemons d(with_credit(8, 1 << 20));
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*a, ha, "credit"), static_cast<std::uint32_t>(CS_OK));
  ASSERT_EQ(join(*b, hb, "credit"), static_cast<std::uint32_t>(CS_OK));
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 2); }));
  CreditBook book;
  ASSERT_TRUE(a->read_until([&] {
    book.read(*a);
    return book.window_messages > 0;
  }));
  constexpr int kMessages = 400;
  std::vector<std::string> sent;
  for (int i = 0; i < kMessages; ++i) {
    sent.push_back("credited " + std::to_string(i) +
                   std::string(static_cast<std::size_t>(i % 7) * 100, '.'));
    ASSERT_TRUE(send_credited(*a, book, ha, sent.back())) << i;
  }
  ASSERT_TRUE(b->read_until([&] { return b->messages().size() == sent.size(); }));
  EXPECT_EQ(b->messages(), sent);
  // Acks are cumulative, written once half the credit is used: what is
  // left unacknowledged at the end is less than half the window (how much
  // depends on how the daemon's passes took the requests).
  ASSERT_TRUE(a->read_until([&] {
    book.read(*a);
    return book.messages * 2 < book.window_messages;
  })) << book.acknowledged;
  EXPECT_EQ(book.acknowledged + book.messages, sent.size());
  EXPECT_EQ(book.refused, 0u);
  EXPECT_GE(book.times_out_of_credit, std::uint64_t{kMessages / 8 - 1});
  EXPECT_FALSE(a->hung_up());
  EXPECT_EQ(d.server(0).counters().over_quota.load(), 0u);
}

// A send queue of 2 messages and a credit of 64: the node refuses most
// sends of a burst with CS_ERR_TRY_AGAIN, and the daemon holds each until
// the ring takes it. Whether a hold happens depends on the threads'
// timing; what must hold either way: every message delivered once, in
// order, each acknowledged and none refused.
TEST(ClientCredit, MessagesTheNodeCannotTakeYetAreHeldAndSentInOrder) {
  SimDaemonOptions o = with_credit(64, 1 << 20);
  o.send_queue_messages = 2;
  SimDaemons d(o);
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*a, ha, "held"), static_cast<std::uint32_t>(CS_OK));
  ASSERT_EQ(join(*b, hb, "held"), static_cast<std::uint32_t>(CS_OK));
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 2); }));
  CreditBook book;
  ASSERT_TRUE(a->read_until([&] {
    book.read(*a);
    return book.window_messages > 0;
  }));
  std::vector<std::string> sent;
  for (int i = 0; i < 300; ++i) {
    sent.push_back("held " + std::to_string(i));
    ASSERT_TRUE(send_credited(*a, book, ha, sent.back())) << i;
  }
  ASSERT_TRUE(b->read_until([&] { return b->messages().size() == sent.size(); }));
  EXPECT_EQ(b->messages(), sent);
  ASSERT_TRUE(a->read_until([&] {
    book.read(*a);
    return book.acknowledged == sent.size();
  }));
  EXPECT_EQ(book.refused, 0u);
  EXPECT_EQ(a->acks().back().holding, 0u);
  // A leave after the burst is answered after the burst went out.
  auto left = a->call(ipc::Leave{ha, ipc::GroupName::of("held")});
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(left->error, static_cast<std::uint32_t>(CS_OK));
}

TEST(ClientCredit, ARefusalAfterTheCreditIsReportedInTheAck) {
  SimDaemons d(with_credit(8, 1 << 20));
  auto a = connect(d, 0);
  ASSERT_TRUE(a);
  const std::uint64_t ha = a->initialize();
  // Not joined: the library would have refused it itself; the daemon must
  // still say it never sent it.
  const std::uint64_t id = a->mcast(ha, "nowhere", 2, true);
  ASSERT_TRUE(a->read_until([&] {
    for (const auto& ack : a->acks())
      if (ack.refused > 0) return true;
    return false;
  }));
  const ipc::McastAck refusal = a->acks().back();
  EXPECT_EQ(refusal.through, id);
  EXPECT_EQ(refusal.messages, 1u);
  EXPECT_EQ(refusal.refused, 1u);
  EXPECT_EQ(refusal.error, static_cast<std::uint32_t>(CS_ERR_NOT_EXIST));
  EXPECT_EQ(refusal.holding, 0u);
  EXPECT_EQ(d.server(0).counters().credited_refused.load(), 1u);
  // A join after it is answered as ever: the connection goes on.
  EXPECT_EQ(join(*a, ha, "later"), static_cast<std::uint32_t>(CS_OK));
}

TEST(ClientCredit, ACreditedMcastWithoutAGrantEndsTheConnection) {
  SimDaemons d(with_credit(0, 0));
  auto a = connect(d, 0), b = connect(d, 0);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*a, ha, "g"), static_cast<std::uint32_t>(CS_OK));
  a->read();
  EXPECT_TRUE(a->acks().empty()) << "no credit granted";
  a->mcast(ha, "unasked", 2, true);
  EXPECT_TRUE(a->hung_up(std::chrono::seconds(20)));
  EXPECT_EQ(d.server(0).counters().over_quota.load(), 1u);
  ASSERT_EQ(join(*b, hb, "g"), static_cast<std::uint32_t>(CS_OK));
  EXPECT_TRUE(still_served(*b, hb, "plain mcasts go on"));
}

// A client that never reads: the daemon writes acks while its event ring has
// room, so it is not over its credit until that ring is full; then the acks
// wait, and the window's next credited mcast ends the connection.
TEST(ClientCredit, AClientThatIgnoresItsWindowIsDisconnected) {
  SimDaemonOptions o = with_credit(4, 1 << 20);
  o.server.sizes = ipc::ChannelSizes{4096, 1 << 16, 1 << 14, 0};
  SimDaemons d(o);
  auto a = connect(d, 0), b = connect(d, 0);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*a, ha, "flood"), static_cast<std::uint32_t>(CS_OK));
  const std::string text(1000, 'f');
  int sent = 0;
  for (; sent < 10'000 && !a->hung_up(); ++sent)
    a->mcast(ha, text, 2, true);
  EXPECT_TRUE(a->hung_up(std::chrono::seconds(20))) << sent << " sent";
  EXPECT_EQ(d.server(0).counters().over_quota.load(), 1u);
  ASSERT_EQ(join(*b, hb, "flood"), static_cast<std::uint32_t>(CS_OK));
  EXPECT_TRUE(still_served(*b, hb, "the others are served"));
}

}  // namespace
}  // namespace ringcast::daemon_test
