#include <gtest/gtest.h>

#include "ring/outbox.hpp"
#include "ring/ring_config.hpp"
#include "ring/token.hpp"
#include "ring/zero_copy_tracker.hpp"

namespace ringcast::ring {
namespace {

TEST(RingConfig, TheDefaultsAreValid) {
  EXPECT_TRUE(validate(RingConfig{}).ok());
}

TEST(RingConfig, RelaysFromFiveMembersByDefaultAndAcceptsThreeToTheMost) {
  EXPECT_EQ(RingConfig{}.relay_min_members, 5u);
  RingConfig c;
  c.relay_min_members = 3;
  EXPECT_TRUE(validate(c).ok());
  c.relay_min_members = kMaxMembers;
  EXPECT_TRUE(validate(c).ok());
}

TEST(RingConfig, RefusesWhatCannotWorkAndSaysWhich) {
  auto refused = [](auto change) {
    RingConfig c;
    change(c);
    Status s = validate(c);
    EXPECT_FALSE(s.ok());
    return s.ok() ? std::string() : s.error().detail;
  };
  EXPECT_NE(refused([](RingConfig& c) { c.log_bytes = 1000; }).find("log_bytes"),
            std::string::npos);
  EXPECT_NE(refused([](RingConfig& c) { c.log_bytes = 8ull << 30; }).find("log_bytes"),
            std::string::npos);
  // A maximum message whose record (plus its header) does not fit the log.
  EXPECT_NE(refused([](RingConfig& c) { c.log_bytes = 1u << 20; }).find("max_message_bytes"),
            std::string::npos);
  EXPECT_NE(refused([](RingConfig& c) { c.send_buffer_bytes = 1000; }).find("send_buffer"),
            std::string::npos);
  EXPECT_NE(refused([](RingConfig& c) { c.window_messages = 10; }).find("window"),
            std::string::npos);
  EXPECT_NE(refused([](RingConfig& c) { c.mailbox_slots = 1; }).find("mailbox_slots"),
            std::string::npos);
  // The token immediate names the slot in 8 bits.
  EXPECT_NE(refused([](RingConfig& c) { c.mailbox_slots = 257; }).find("mailbox_slots"),
            std::string::npos);
  // The relay needs a member between the sender and the last destination;
  // no ring has more than kMaxMembers.
  EXPECT_NE(refused([](RingConfig& c) { c.relay_min_members = 2; }).find("relay_min_members"),
            std::string::npos);
  EXPECT_NE(refused([](RingConfig& c) { c.relay_min_members = 65; }).find("relay_min_members"),
            std::string::npos);
  refused([](RingConfig& c) { c.send_queue_messages = 0; });
  refused([](RingConfig& c) { c.max_messages_per_visit = 0; });
  refused([](RingConfig& c) { c.token_staging_slots = 0; });
  refused([](RingConfig& c) { c.zero_copy_visits = 0; });
}

TEST(Outbox, KeepsChainsInOrderPerMemberWithinItsBound) {
  Outbox box(3, 2, 4);
  auto fill = [&](std::size_t member, std::uint64_t id, std::size_t ops) {
    auto span = box.open(member);
    for (std::size_t i = 0; i < ops; ++i)
      span[i].wr_id = id * 10 + i;
    box.commit(member, ops);
  };
  fill(1, 1, 3);
  fill(1, 2, 1);
  EXPECT_FALSE(box.has_room(1));
  EXPECT_TRUE(box.has_room(2));
  EXPECT_TRUE(box.front(2).empty());
  ASSERT_EQ(box.front(1).size(), 3u);
  EXPECT_EQ(box.front(1)[2].wr_id, 12u);
  box.pop(1);
  ASSERT_EQ(box.front(1).size(), 1u);
  EXPECT_EQ(box.front(1)[0].wr_id, 20u);
  fill(1, 3, 4);  // wraps around the member's ring of chains
  box.pop(1);
  EXPECT_EQ(box.front(1)[3].wr_id, 33u);
  EXPECT_EQ(box.total_queued(), 1u);
}

TEST(ZeroCopyTracker, ReturnsTagsOnceEverySignalArrivedInVisitOrder) {
  ZeroCopyTracker t(2, 4);
  auto a = t.open();
  ASSERT_TRUE(a);
  t.add(*a, 100);
  t.add(*a, 101);
  t.close(*a, 2);
  auto b = t.open();
  ASSERT_TRUE(b);
  EXPECT_FALSE(t.open()) << "both entries in use";
  t.add(*b, 200);
  t.close(*b, 1);
  t.signal_done(*b);
  EXPECT_FALSE(t.next_done()) << "the older visit is not done: order is kept";
  t.signal_done(*a);
  EXPECT_FALSE(t.next_done()) << "one of two signals";
  t.signal_done(*a);
  EXPECT_EQ(t.next_done(), std::optional<std::uint64_t>(100));
  EXPECT_EQ(t.next_done(), std::optional<std::uint64_t>(101));
  EXPECT_EQ(t.next_done(), std::optional<std::uint64_t>(200));
  EXPECT_FALSE(t.next_done());
  EXPECT_EQ(t.in_use(), 0u);
  auto c = t.open();
  ASSERT_TRUE(c);
  t.close(*c, 0);  // nothing to wait for (a ring of one)
  EXPECT_FALSE(t.next_done()) << "no tags";
  EXPECT_EQ(t.in_use(), 0u);
}

}  // namespace
}  // namespace ringcast::ring
