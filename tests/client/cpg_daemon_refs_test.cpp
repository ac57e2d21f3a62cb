// Deliveries by reference in client mode against the fake daemon: the
// library maps the log it is given, hands the deliver callback a pointer
// into it, counts the delivery as by reference, and releases it
// cumulatively once the callback returned; a deliver_ref that names bytes
// outside the mapping kills the handle instead of being read.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/uio.h>
#include "base/log.hpp"
#include "daemon_client_fixture.hpp"
#include "fake_daemon.hpp"
#include "recorded_lines.hpp"
#include "ringcast/counters.h"
#include "ringcast/cpg.h"

namespace ringcast::testing {
namespace {

using namespace std::chrono_literals;

void on_deliver(cpg_handle_t, const cpg_name*, uint32_t, uint32_t, void* msg, size_t len) {
  record(std::string(static_cast<const char*>(msg), len));
}

cs_error_t open_handle(cpg_handle_t* h) {
  cpg_model_v1_data_t model{};
  model.model = CPG_MODEL_V1;
  model.cpg_deliver_fn = on_deliver;
  return cpg_model_initialize(h, CPG_MODEL_V1, reinterpret_cast<cpg_model_data_t*>(&model),
                              nullptr);
}

// Joins group "g", the group of every delivery the fake sends here.
cs_error_t join_g(cpg_handle_t h) {
  cpg_name g{};
  g.length = 1;
  g.value[0] = 'g';
  return cpg_join(h, &g);
}

ipc::DeliverRef ref(std::uint64_t id, std::uint64_t offset, std::uint64_t length) {
  return {kFakeRemoteHandle, ipc::GroupName::of("g"), {2, 7}, id, offset, length};
}

std::string log_bytes_at(std::size_t offset, std::size_t length) {
  std::string s;
  for (std::size_t i = offset; i < offset + length; ++i)
    s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

struct LogSpan {
  std::uint64_t offset, length;
};

// References to `spans`, delivery ids 1, 2, ... in order.
void send_refs(FakeClient& c, const std::vector<LogSpan>& spans) {
  std::uint64_t id = 0;
  for (const LogSpan& s : spans)
    c.send({0, ref(++id, s.offset, s.length)});
}

// The fake answers the join, then references `spans`, and refuses every
// mcast with CS_ERR_TRY_AGAIN.
void join_with_refs_then_refuse(FakeDaemon& daemon, std::vector<LogSpan> spans) {
  daemon.on_request = [spans](FakeClient& c, const ipc::Request& r) {
    if (std::holds_alternative<ipc::Join>(r.body)) {
      c.send({r.request_id, ipc::Reply{0, 0}});
      return send_refs(c, spans);
    }
    if (std::holds_alternative<ipc::Mcast>(r.body))
      return c.send({r.request_id, ipc::Reply{CS_ERR_TRY_AGAIN, 0}});
    FakeDaemon::answer(c, r);
  };
}

// The fake counts a release as it takes it, after the call that sent it.
void await_release(FakeDaemon& daemon) {
  for (int i = 0; i < 2000 && daemon.requests_of(ipc::MessageType::release) == 0; ++i)
    std::this_thread::sleep_for(1ms);
}

ringcast_counters counters_of(cpg_handle_t h) {
  ringcast_counters c{};
  c.size = sizeof c;
  EXPECT_EQ(ringcast_counters_get(h, &c), CS_OK);
  return c;
}

class ClientModeRefs : public DaemonClientTest {};

TEST_F(ClientModeRefs, DeliveriesPointIntoTheLogAndAreReleasedCumulatively) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.log_bytes = 64u << 10;
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (!std::holds_alternative<ipc::Join>(r.body)) return FakeDaemon::answer(c, r);
    c.send({0, ref(1, 100, 300)});
    c.send({0, ref(2, 4096, 5000)});
    c.send({0, ref(3, (64u << 10) - 700, 700)});  // the log's last bytes
    c.send({r.request_id, ipc::Reply{0, 0}});
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  ASSERT_EQ(join_g(h), CS_OK);
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  const std::vector<std::string> seen = take_recorded();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], log_bytes_at(100, 300));
  EXPECT_EQ(seen[1], log_bytes_at(4096, 5000));
  EXPECT_EQ(seen[2], log_bytes_at((64u << 10) - 700, 700));
  const ringcast_counters c = counters_of(h);
  EXPECT_EQ(c.deliveries_by_reference, 3u);
  EXPECT_EQ(c.bytes_delivered_by_reference, 6000u);
  EXPECT_EQ(c.deliveries_copied, 0u);
  EXPECT_EQ(c.bytes_delivered_copied, 0u);
  // One release for the three (the queue ran dry after the third); the
  // fake counts it as it takes it, after the dispatch returned.
  await_release(daemon);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::release), 1u);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// A whole message may be larger than a frame: corosync's cpgbench sends
// 1,000,000 bytes under the default atomic size of 1 MiB.
TEST_F(ClientModeRefs, AMessageLargerThanAFrameIsDeliveredByReference) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.log_bytes = 4u << 20;
  daemon.atomic_message_bytes = 1u << 20;
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (!std::holds_alternative<ipc::Join>(r.body)) return FakeDaemon::answer(c, r);
    c.send({0, ref(1, 4096, 1'000'000)});
    c.send({r.request_id, ipc::Reply{0, 0}});
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  ASSERT_EQ(join_g(h), CS_OK);
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  const std::vector<std::string> seen = take_recorded();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], log_bytes_at(4096, 1'000'000));
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// A program that retries CS_ERR_TRY_AGAIN of its own send before it
// dispatches (corosync's cpgbound): the library copies its queued
// references out of the log and releases them, so the ring's log is not
// held by deliveries it will only dispatch once its send went through.
TEST_F(ClientModeRefs, ASendThatMeetsTryAgainSpillsTheQueuedReferences) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.log_bytes = 64u << 10;
  join_with_refs_then_refuse(daemon, {{100, 300}, {4096, 40'000}});  // past half the log
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  ASSERT_EQ(join_g(h), CS_OK);
  char byte = 'x';
  const iovec piece{&byte, 1};
  // The reply comes after both references: they are queued when it does.
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_ERR_TRY_AGAIN);
  await_release(daemon);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::release), 1u);
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  const std::vector<std::string> seen = take_recorded();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], log_bytes_at(100, 300));
  EXPECT_EQ(seen[1], log_bytes_at(4096, 40'000));
  const ringcast_counters c = counters_of(h);
  EXPECT_EQ(c.deliveries_by_reference, 0u);
  EXPECT_EQ(c.deliveries_copied, 2u);
  EXPECT_EQ(c.bytes_delivered_copied, 40'300u);
  EXPECT_EQ(c.messages_spilled, 2u);
  EXPECT_EQ(c.bytes_copied_on_spill, 40'300u);
  EXPECT_TRUE(log_mentions("copied out of the log and released"));
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// A refusal while the queued references hold little of the log is the
// ring's: nothing is copied, the deliveries stay in the log.
TEST_F(ClientModeRefs, ASendRefusedWhileLittleIsQueuedKeepsTheReferences) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.log_bytes = 64u << 10;
  join_with_refs_then_refuse(daemon, {{100, 300}, {4096, 5000}});
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  ASSERT_EQ(join_g(h), CS_OK);
  char byte = 'x';
  const iovec piece{&byte, 1};
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_ERR_TRY_AGAIN);
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  EXPECT_EQ(take_recorded().size(), 2u);
  const ringcast_counters c = counters_of(h);
  EXPECT_EQ(c.deliveries_by_reference, 2u);
  EXPECT_EQ(c.deliveries_copied, 0u);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// Refusals that last are the ring waiting, perhaps for the log this
// handle holds with more than its queue shows (references still in its
// event ring, the records between them): after 100 ms of them even a
// little is spilled (corosync's cpgbound spins on its send and never
// dispatches, and would be evicted).
TEST_F(ClientModeRefs, RefusalsThatLastSpillEvenALittle) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.log_bytes = 64u << 10;
  join_with_refs_then_refuse(daemon, {{100, 300}, {4096, 5000}});
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  ASSERT_EQ(join_g(h), CS_OK);
  char byte = 'x';
  const iovec piece{&byte, 1};
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_ERR_TRY_AGAIN);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::release), 0u) << "one refusal: the ring's";
  for (int i = 0; i < 2000 && daemon.requests_of(ipc::MessageType::release) == 0; ++i) {
    ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_ERR_TRY_AGAIN);
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::release), 1u);
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  EXPECT_EQ(take_recorded().size(), 2u);
  EXPECT_EQ(counters_of(h).messages_spilled, 2u);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// Two refusals far apart are not refusals that last: the program stopped
// sending in between, and the second starts a new run.
TEST_F(ClientModeRefs, RefusalsFarApartDoNotSpill) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.log_bytes = 64u << 10;
  join_with_refs_then_refuse(daemon, {{100, 300}, {4096, 5000}});
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  ASSERT_EQ(join_g(h), CS_OK);
  char byte = 'x';
  const iovec piece{&byte, 1};
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_ERR_TRY_AGAIN);
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_ERR_TRY_AGAIN);
  unsigned int node = 0;
  ASSERT_EQ(cpg_local_get(h, &node), CS_OK);  // the fake took whatever came before
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::release), 0u);
  EXPECT_EQ(counters_of(h).messages_spilled, 0u);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// A reply that takes long may wait for log space the queued references
// hold (a message in fragments is answered once it was put together): the
// wait spills them after 100 ms and goes on.
TEST_F(ClientModeRefs, AReplyThatTakesLongSpillsTheQueuedReferences) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.log_bytes = 64u << 10;
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (std::holds_alternative<ipc::Join>(r.body)) {
      c.send({r.request_id, ipc::Reply{0, 0}});
      return send_refs(c, {{100, 300}, {4096, 5000}});
    }
    if (std::holds_alternative<ipc::Mcast>(r.body)) std::this_thread::sleep_for(300ms);
    FakeDaemon::answer(c, r);
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  ASSERT_EQ(join_g(h), CS_OK);
  char byte = 'x';
  const iovec piece{&byte, 1};
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);
  await_release(daemon);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::release), 1u);
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  EXPECT_EQ(take_recorded().size(), 3u);  // and the send's own delivery
  EXPECT_EQ(counters_of(h).messages_spilled, 2u);
  EXPECT_TRUE(log_mentions("waiting for a reply"));
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// corosync's cpgbench: one thread sends on the credit, another dispatches
// (CS_DISPATCH_BLOCKING). Here the daemon acknowledges only once the
// deliveries were released (as when the log is full of them): a sender out
// of credit must wait for the acks without holding up the dispatching
// thread's releases.
TEST_F(ClientModeRefs, ASenderOutOfCreditLetsTheDispatchingThreadRelease) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.log_bytes = 64u << 10;
  daemon.credit_messages = 2;
  struct Unacked {
    std::mutex m;
    std::uint64_t through = 0, bytes = 0, delivery = 0;
    std::uint32_t messages = 0;
  };
  auto unacked = std::make_shared<Unacked>();
  daemon.on_request = [unacked](FakeClient& c, const ipc::Request& r) {
    std::lock_guard lock(unacked->m);
    if (const auto* m = std::get_if<ipc::McastCredited>(&r.body)) {
      c.send({0, ref(++unacked->delivery, 100, 300)});
      unacked->through = r.request_id;
      unacked->bytes += m->payload.size();
      ++unacked->messages;
      return;
    }
    if (std::holds_alternative<ipc::Release>(r.body) && unacked->messages > 0) {
      ipc::McastAck ack = c.ack_of(unacked->through, unacked->bytes);
      ack.messages = unacked->messages;
      unacked->messages = 0;
      unacked->bytes = 0;
      c.send({0, ack});
      return;
    }
    FakeDaemon::answer(c, r);
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  ASSERT_EQ(join_g(h), CS_OK);
  std::thread dispatcher([h] { cpg_dispatch(h, CS_DISPATCH_BLOCKING); });
  char byte = 'x';
  const iovec piece{&byte, 1};
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK) << i;
  for (int i = 0; i < 2000 && recorded_count() < 20; ++i)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(recorded_count(), 20u);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
  dispatcher.join();
}

// corosync's cpgverify retries CS_ERR_TRY_AGAIN of its send and dispatches
// only once it went through. The references spilled at the first refusal
// are the handle's share of the log, so they must not count against it as
// a backlog that only a dispatch could clear: the retry reaches the daemon.
TEST_F(ClientModeRefs, ASpillDoesNotRefuseTheRetriedSend) {
  DaemonEnvironment bounded("daemon", "",
                            "totem {\n  log_size_bytes: 4M\n  max_message_size_bytes: 64K\n"
                            "  handle_unreleased_max_bytes: 256K\n}\n");
  FakeDaemon daemon(bounded.run_dir(), 1);
  daemon.log_bytes = 4u << 20;
  constexpr int kRefs = 6;
  constexpr std::uint64_t kRefBytes = 60'000;  // 360,000 bytes: past the 256 KiB
  auto mcasts = std::make_shared<std::atomic<int>>(0);
  daemon.on_request = [mcasts](FakeClient& c, const ipc::Request& r) {
    if (std::holds_alternative<ipc::Join>(r.body)) {
      c.send({r.request_id, ipc::Reply{0, 0}});
      for (int i = 0; i < kRefs; ++i)
        c.send({0, ref(i + 1, 4096 + i * kRefBytes, kRefBytes)});
      return;
    }
    if (std::holds_alternative<ipc::Mcast>(r.body) && mcasts->fetch_add(1) == 0)
      return c.send({r.request_id, ipc::Reply{CS_ERR_TRY_AGAIN, 0}});
    FakeDaemon::answer(c, r);
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  ASSERT_EQ(join_g(h), CS_OK);
  char byte = 'x';
  const iovec piece{&byte, 1};
  cs_error_t e = CS_ERR_TRY_AGAIN;
  int tries = 0;
  for (; tries < 100 && e == CS_ERR_TRY_AGAIN; ++tries)
    e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1);
  EXPECT_EQ(e, CS_OK);
  EXPECT_EQ(tries, 2) << "the daemon refused once; the library refused the rest";
  EXPECT_EQ(mcasts->load(), 2);
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  const std::vector<std::string> seen = take_recorded();
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kRefs) + 1);
  for (int i = 0; i < kRefs; ++i)
    EXPECT_EQ(seen[i], log_bytes_at(4096 + i * kRefBytes, kRefBytes)) << i;
  EXPECT_EQ(seen[kRefs], "x");
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// On the credit, the daemon's refusal is a hold of an earlier send, which
// the next send meets as CS_ERR_TRY_AGAIN: it spills as a refused reply
// does, or a program that retries before it dispatches would hold the log
// its held send waits for.
TEST_F(ClientModeRefs, ASendThatMeetsAHoldSpillsTheQueuedReferences) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.log_bytes = 64u << 10;
  daemon.credit_messages = 8;
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (std::holds_alternative<ipc::Join>(r.body)) {
      c.send({r.request_id, ipc::Reply{0, 0}});
      return send_refs(c, {{100, 300}, {4096, 40'000}});  // past half the log
    }
    if (std::holds_alternative<ipc::McastCredited>(r.body)) {
      ipc::McastAck hold = c.ack_of(0, 0);
      hold.through = 0;
      hold.holding = 1;
      return c.send({0, hold});
    }
    FakeDaemon::answer(c, r);
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  ASSERT_EQ(join_g(h), CS_OK);
  char byte = 'x';
  const iovec piece{&byte, 1};
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);
  unsigned int node = 0;
  ASSERT_EQ(cpg_local_get(h, &node), CS_OK);  // reads the references and the hold
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_ERR_TRY_AGAIN);
  await_release(daemon);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::release), 1u);
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  const std::vector<std::string> seen = take_recorded();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], log_bytes_at(100, 300));
  EXPECT_EQ(seen[1], log_bytes_at(4096, 40'000));
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(ClientModeRefs, ADeliveryOutsideTheLogKillsTheHandle) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.log_bytes = 64u << 10;
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (!std::holds_alternative<ipc::Join>(r.body)) return FakeDaemon::answer(c, r);
    c.send({0, ref(1, (64u << 10) - 10, 11)});
    c.send({r.request_id, ipc::Reply{0, 0}});
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  // (The lost handle's log line is rate limited per process: not checked.)
  EXPECT_EQ(join_g(h), CS_ERR_LIBRARY);
  EXPECT_TRUE(take_recorded().empty());
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(ClientModeRefs, ADeliveryByReferenceWithoutALogKillsTheHandle) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (!std::holds_alternative<ipc::Join>(r.body)) return FakeDaemon::answer(c, r);
    c.send({0, ref(1, 0, 10)});
    c.send({r.request_id, ipc::Reply{0, 0}});
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  EXPECT_EQ(join_g(h), CS_ERR_LIBRARY);
  EXPECT_TRUE(take_recorded().empty());
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

}  // namespace
}  // namespace ringcast::testing
