// A node that leaves the ring for good (membership met a record its ending
// ring cannot deliver past) loses the messages still queued in it. That is
// never silent: the node logs it, ringcast_counters counts the unsent
// messages, every handle's fd turns readable and its cpg_dispatch returns
// CS_ERR_LIBRARY once its queue is empty. Driven by a transport the test
// plays itself: the leave is the transport's (EventSource::left_unsent).
#include <gtest/gtest.h>
#include <poll.h>

#include <deque>

#include "cpg_sim_cluster.hpp"
#include "ringcast/counters.h"

namespace ringcast::cpg_test {
namespace {

class ScriptedEvents final : public runtime::EventSource {
 public:
  std::optional<runtime::TransportEvent> next_event() override {
    if (events.empty()) return std::nullopt;
    runtime::TransportEvent e = events.front();
    events.pop_front();
    return e;
  }
  std::optional<std::uint64_t> next_zero_copy_done() noexcept override { return std::nullopt; }
  Status release_through(std::uint64_t) override { return {}; }
  std::optional<std::uint64_t> left_unsent() const noexcept override { return left; }

  std::deque<runtime::TransportEvent> events;
  std::optional<std::uint64_t> left;
};

class ScriptedTransport final : public runtime::RingTransport {
 public:
  std::uint32_t me() const noexcept override { return 1; }
  std::size_t max_message_bytes() const noexcept override { return 1024; }
  Status submit(const runtime::OutgoingTransportMessage&) override { return {}; }
  Status release_through(std::uint64_t) override { return {}; }
  Result<std::unique_ptr<fabric::MemoryRegion>> allocate(std::size_t) override {
    return make_error(Errc::invalid_argument, "allocate", "not in this test");
  }
  void stop() override {}
  StatusSnapshot status() override {
    StatusSnapshot s;
    s.ring_representative = 1;
    s.ring_seq = 1;
    s.members = {1};
    return s;
  }
  SendPathSnapshot send_path() override { return {}; }
  std::vector<std::uint32_t> linked_nodes() override { return {}; }
};

bool readable(cpg_handle_t h) {
  int fd = -1;
  cpg_fd_get(h, &fd);
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(CpgLeft, ANodeThatLeftTheRingForGoodFailsDispatchAndCountsTheUnsent) {
  auto node = client::Node::create();
  runtime::RoundCallback round = node->round_callback();
  node->attach(std::make_unique<ScriptedTransport>());
  client::Node::Override use(node);
  Recorder rec;
  cpg_handle_t h = open_recorded(rec, true);
  runtime::TransportConfiguration first{{1, 1}, {1}, {}, {1}, false};
  ScriptedEvents events;
  events.events.push_back({&first, {}, 0});
  round(events);
  EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  EXPECT_EQ(rec.size(), 1u) << "the initial totem confchg";
  EXPECT_FALSE(readable(h));

  events.left = 3;
  round(events);
  EXPECT_TRUE(readable(h)) << "a poll loop must wake";
  EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_ONE), CS_ERR_LIBRARY) << "returns, does not block";
  EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_BLOCKING), CS_ERR_LIBRARY);
  ringcast_counters c{};
  c.size = sizeof c;
  ASSERT_EQ(ringcast_counters_get(h, &c), CS_OK);
  EXPECT_EQ(c.messages_unsent_on_leave, 3u);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

}  // namespace
}  // namespace ringcast::cpg_test
