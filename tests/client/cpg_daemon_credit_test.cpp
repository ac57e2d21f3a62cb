// cpg_mcast_joined on the daemon's credit (docs/protocol.md, "Credit"),
// against the fake ringcastd: no reply awaited, the credit used up and
// returned by acks, the errors the call must still return itself (not in a
// group, the daemon holding an earlier mcast), and an mcast refused after
// the call returned CS_OK reported by the next one. Each test makes the
// library read what the fake wrote with a call that waits for its reply
// (cpg_local_get), never by waiting for time to pass.
#include <gtest/gtest.h>
#include <sys/uio.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "daemon_client_fixture.hpp"
#include "fake_daemon.hpp"
#include "recorded_lines.hpp"
#include "ringcast/cpg.h"

namespace ringcast::testing {
namespace {

void on_deliver(cpg_handle_t, const cpg_name*, uint32_t, uint32_t, void* msg, size_t len) {
  record(std::string(static_cast<const char*>(msg), len));
}

cpg_handle_t open_joined(const char* group = "g") {
  cpg_callbacks_t callbacks{on_deliver, nullptr};
  cpg_handle_t h = 0;
  EXPECT_EQ(cpg_initialize(&h, &callbacks), CS_OK);
  cpg_name name{};
  name.length = static_cast<uint32_t>(std::strlen(group));
  std::memcpy(name.value, group, name.length);
  EXPECT_EQ(cpg_join(h, &name), CS_OK);
  return h;
}

cs_error_t send(cpg_handle_t h, const std::string& text) {
  const iovec piece{const_cast<char*>(text.data()), text.size()};
  return cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1);
}

// A round trip: everything the fake wrote before its reply is read.
void sync_with(cpg_handle_t h) {
  unsigned int node = 0;
  EXPECT_EQ(cpg_local_get(h, &node), CS_OK) << (log_lines().empty() ? "" : log_lines().back());
}

class CreditMode : public DaemonClientTest {};

// The fake acknowledges only once the window is used up, so every window's
// last call finds no credit and waits for that ack.
TEST_F(CreditMode, AStreamUsesTheCreditUpWaitsForAcksAndKeepsItsOrder) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.credit_messages = 4;
  std::mutex m;
  std::uint64_t unacked = 0, most = 0, bytes = 0;
  daemon.on_request = [&](FakeClient& c, const ipc::Request& r) {
    const auto* credited = std::get_if<ipc::McastCredited>(&r.body);
    if (credited == nullptr) return FakeDaemon::answer(c, r);
    c.send(
        {0, ipc::DeliverInline{
                kFakeRemoteHandle, ipc::GroupName::of("g"), {c.node, c.pid}, credited->payload}});
    std::lock_guard lock(m);
    ++unacked;
    bytes += credited->payload.size();
    most = std::max(most, unacked);
    if (unacked < c.credit_messages) return;
    ipc::McastAck ack = c.ack_of(r.request_id, bytes);
    ack.messages = static_cast<std::uint32_t>(unacked);
    unacked = bytes = 0;
    c.send({0, ack});
  };
  const cpg_handle_t h = open_joined();
  std::vector<std::string> sent;
  for (int i = 0; i < 40; ++i) {
    sent.push_back("m" + std::to_string(i));
    ASSERT_EQ(send(h, sent.back()), CS_OK) << i;
  }
  sync_with(h);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::mcast_credited), 40u);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::mcast), 0u);
  {
    std::lock_guard lock(m);
    EXPECT_EQ(most, 4u) << "never beyond the window";
  }
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  EXPECT_EQ(take_recorded(), sent);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(CreditMode, OutOfAGroupTheCallSaysSoWithoutAsking) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.credit_messages = 4;
  cpg_callbacks_t callbacks{on_deliver, nullptr};
  cpg_handle_t h = 0;
  ASSERT_EQ(cpg_initialize(&h, &callbacks), CS_OK);
  sync_with(h);  // the grant is read
  EXPECT_EQ(send(h, "early"), CS_ERR_NOT_EXIST);
  cpg_name g{};
  g.length = 1;
  g.value[0] = 'g';
  ASSERT_EQ(cpg_join(h, &g), CS_OK);
  EXPECT_EQ(send(h, "in"), CS_OK);
  ASSERT_EQ(cpg_leave(h, &g), CS_OK);
  EXPECT_EQ(send(h, "late"), CS_ERR_NOT_EXIST);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::mcast_credited), 1u);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::mcast), 0u);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(CreditMode, AnMcastRefusedAfterItsCallReturnedIsTheNextCallsError) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.credit_messages = 8;
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (!std::holds_alternative<ipc::McastCredited>(r.body)) return FakeDaemon::answer(c, r);
    ipc::McastAck ack = c.ack_of(r.request_id, 5);
    ack.refused = 1;
    ack.error = CS_ERR_NOT_EXIST;  // as when the ring refused the join
    c.send({0, ack});
  };
  const cpg_handle_t h = open_joined();
  ASSERT_EQ(send(h, "taken"), CS_OK);
  sync_with(h);
  EXPECT_EQ(send(h, "after"), CS_ERR_NOT_EXIST) << "the refusal, reported";
  EXPECT_EQ(send(h, "again"), CS_ERR_NOT_EXIST) << "out of the group now";
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::mcast_credited), 1u);
  EXPECT_TRUE(log_mentions("refused 1 mcast(s)"));
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(CreditMode, WhileTheDaemonHoldsAnMcastTheCallSaysTryAgain) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.credit_messages = 8;
  std::atomic<std::uint64_t> held_id{0};
  daemon.on_request = [&](FakeClient& c, const ipc::Request& r) {
    if (std::holds_alternative<ipc::McastCredited>(r.body) && held_id == 0) {
      held_id = r.request_id;
      ipc::McastAck hold = c.ack_of(0, 0);
      hold.through = 0;
      hold.holding = 1;
      c.send({0, hold});
      return;
    }
    // The third local_get finds the ring back: the held one went.
    if (std::holds_alternative<ipc::LocalGet>(r.body) && held_id != 0 &&
        daemon.requests_of(ipc::MessageType::local_get) == 3)
      c.send({0, c.ack_of(held_id, 4)});
    FakeDaemon::answer(c, r);
  };
  const cpg_handle_t h = open_joined();
  ASSERT_EQ(send(h, "held"), CS_OK);
  sync_with(h);
  cpg_flow_control_state_t flow = CPG_FLOW_CONTROL_DISABLED;
  EXPECT_EQ(send(h, "more"), CS_ERR_TRY_AGAIN);
  ASSERT_EQ(cpg_flow_control_state_get(h, &flow), CS_OK);
  EXPECT_EQ(flow, CPG_FLOW_CONTROL_ENABLED);
  sync_with(h);
  EXPECT_EQ(send(h, "more"), CS_ERR_TRY_AGAIN) << "still held";
  sync_with(h);
  ASSERT_EQ(cpg_flow_control_state_get(h, &flow), CS_OK);
  EXPECT_EQ(flow, CPG_FLOW_CONTROL_DISABLED);
  EXPECT_EQ(send(h, "more"), CS_OK);
  sync_with(h);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::mcast_credited), 2u);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// A message above the atomic size goes in fragments, and its CS_OK says it
// was delivered, as in embedded mode: it waits for its reply, whatever the
// credit.
TEST_F(CreditMode, AMessageAboveTheAtomicSizeWaitsForItsReply) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.credit_messages = 8;
  daemon.atomic_message_bytes = 4096;
  const cpg_handle_t h = open_joined();
  sync_with(h);
  ASSERT_EQ(send(h, std::string(4096, 'a')), CS_OK);
  ASSERT_EQ(send(h, std::string(4097, 'b')), CS_OK);
  sync_with(h);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::mcast_credited), 1u);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::mcast), 1u) << "the larger one, with a reply";
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  const std::vector<std::string> seen = take_recorded();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], std::string(4097, 'b'));
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(CreditMode, AnAckOfMoreThanWasSentKillsTheHandle) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.credit_messages = 8;
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (std::holds_alternative<ipc::LocalGet>(r.body)) c.send({0, c.ack_of(1'000, 5)});
    FakeDaemon::answer(c, r);
  };
  const cpg_handle_t h = open_joined();
  unsigned int node = 0;
  EXPECT_EQ(cpg_local_get(h, &node), CS_ERR_LIBRARY);
  EXPECT_EQ(send(h, "x"), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

}  // namespace
}  // namespace ringcast::testing
