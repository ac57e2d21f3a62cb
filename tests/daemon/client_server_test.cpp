// ringcastd's client server (api/daemon/client_server.hpp) over simulated
// nodes: raw clients in this process speak the ipc protocol to the daemons'
// real sockets and rings. Two clients on two nodes see one order; a client
// that goes (its socket closed) leaves its group with PROCDOWN and the ring
// stays; finalize sends its leave.
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "raw_client.hpp"
#include "ringcast/cpg.h"
#include "sim_daemons.hpp"

namespace ringcast::daemon_test {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<RawClient> connect(SimDaemons& d, std::size_t i) {
  auto c = RawClient::connect(d.path(i));
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message());
  return c.ok() ? std::move(*c) : nullptr;
}

// Retries while the ring syncs (CS_ERR_TRY_AGAIN), bounded.
std::uint32_t join(RawClient& c, std::uint64_t handle, const std::string& group) {
  for (int i = 0; i < 2000; ++i) {
    const std::uint32_t e = c.join(handle, group);
    if (e != CS_ERR_TRY_AGAIN) return e;
    std::this_thread::sleep_for(5ms);
  }
  return CS_ERR_TRY_AGAIN;
}

bool has_members(const RawClient& c, std::size_t n) {
  for (const Got& g : c.confchgs())
    if (g.members.size() == n) return true;
  return false;
}

// Sends while CS_ERR_TRY_AGAIN (the ring's flow control), reading meanwhile.
std::uint32_t send(RawClient& c, std::uint64_t handle, const std::string& text) {
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t id = c.mcast(handle, text);
    if (!c.read_until([&] { return c.reply_to(id).has_value(); })) return 0xffffffffu;
    const std::uint32_t e = c.reply_to(id)->error;
    if (e != CS_ERR_TRY_AGAIN) return e;
    std::this_thread::sleep_for(200us);
  }
  return CS_ERR_TRY_AGAIN;
}

std::string text_of(int sender, int i) {
  std::string s = std::to_string(sender) + ":" + std::to_string(i) + ":";
  // Every 40th is larger than a frame (parts both ways) and than the ring's
  // atomic size (fragments in the ring).
  const std::size_t bytes = i % 40 == 7 ? 300'000 : 100 + i % 900;
  s.resize(bytes, static_cast<char>('a' + i % 26));
  return s;
}

TEST(ClientServer, TwoClientsOnTwoNodesSeeOneOrder) {
  SimDaemons d({});
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->welcome().node_id, d.node(0).node_id());
  EXPECT_EQ(a->welcome().atomic_message_bytes, d.node(0).max_message_bytes());
  EXPECT_EQ(a->welcome().largest_message_bytes, d.node(0).max_fragmented_bytes());
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_NE(ha, 0u);
  ASSERT_NE(hb, 0u);
  ASSERT_EQ(join(*a, ha, "order"), CS_OK);
  ASSERT_EQ(join(*b, hb, "order"), CS_OK);
  ASSERT_TRUE(a->read_until([&] { return has_members(*a, 2); }));
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 2); }));
  constexpr int kEach = 120;
  std::thread tb([&] {
    for (int i = 0; i < kEach; ++i)
      ASSERT_EQ(send(*b, hb, text_of(2, i)), CS_OK);
  });
  for (int i = 0; i < kEach; ++i)
    ASSERT_EQ(send(*a, ha, text_of(1, i)), CS_OK);
  tb.join();
  ASSERT_TRUE(a->read_until([&] { return a->messages().size() == 2 * kEach; }));
  ASSERT_TRUE(b->read_until([&] { return b->messages().size() == 2 * kEach; }));
  EXPECT_EQ(a->messages(), b->messages());
  EXPECT_FALSE(a->decode_failed || b->decode_failed);
  // finalize: answered, and the other sees the handle go.
  auto fin = a->call(ipc::Finalize{ha});
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->error, CS_OK);
  EXPECT_TRUE(b->read_until([&] { return has_members(*b, 1); }));
}

TEST(ClientServer, AClientThatGoesMidSendIsProcdownAndTheRingStays) {
  SimDaemons d({});
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*a, ha, "kill"), CS_OK);
  ASSERT_EQ(join(*b, hb, "kill"), CS_OK);
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 2); }));
  const std::uint64_t ring = d.node(1).transport().status().ring_seq;
  // Sends without waiting for their replies, then the socket closes (its
  // process died): the parts of an unfinished message are dropped.
  for (int i = 0; i < 50; ++i)
    a->mcast(ha, text_of(1, i));
  a->send(ipc::McastPart{ha, std::as_bytes(std::span("part", 4))}, 0);
  a->close_socket();
  a.reset();
  ASSERT_TRUE(b->read_until([&] {
    for (const Got& g : b->confchgs())
      if (g.left.size() == 1 && g.left[0].reason == CPG_REASON_PROCDOWN &&
          g.left[0].process.node == d.node(0).node_id())
        return true;
    return false;
  })) << b->confchgs().size();
  EXPECT_EQ(d.node(1).transport().status().ring_seq, ring);
  EXPECT_EQ(d.server(0).counters().malformed.load(), 0u);
  EXPECT_TRUE(b->read_until([&] { return d.server(0).counters().connected.load() == 0; }));
}

}  // namespace
}  // namespace ringcast::daemon_test
