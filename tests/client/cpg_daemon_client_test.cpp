// The C API in client mode against a fake ringcastd in the test's own
// thread (fake_daemon.hpp): the calls end to end, replies interleaved with
// deliveries, messages larger than a frame both ways, the daemon going
// away, no daemon, a daemon of another version, a malformed event, fork(),
// and how the mode is chosen.
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/log.hpp"
#include "c_enum_args.h"
#include "client/client_mode.hpp"
#include "client/node.hpp"
#include "daemon_client_fixture.hpp"
#include "fake_daemon.hpp"
#include "recorded_lines.hpp"
#include "ringcast/counters.h"
#include "ringcast/cpg.h"

namespace ringcast::testing {
namespace {

void on_deliver(cpg_handle_t, const cpg_name* group, uint32_t node, uint32_t pid, void* msg,
                size_t len) {
  record("deliver " + std::string(group->value, group->length) + " " + std::to_string(node) + " " +
         std::to_string(pid == static_cast<uint32_t>(::getpid())) + " " +
         std::string(static_cast<const char*>(msg), std::min<size_t>(len, 40)) + " " +
         std::to_string(len));
}

void on_confchg(cpg_handle_t, const cpg_name* group, const cpg_address*, size_t members,
                const cpg_address*, size_t left, const cpg_address* joined, size_t njoined) {
  record("confchg " + std::string(group->value, group->length) + " " + std::to_string(members) +
         " " + std::to_string(left) + " " + std::to_string(njoined) + " " +
         std::to_string(njoined > 0 ? joined[0].reason : 0));
}

void on_totem(cpg_handle_t, cpg_ring_id id, uint32_t entries, const uint32_t*) {
  record("totem " + std::to_string(id.nodeid) + " " + std::to_string(id.seq) + " " +
         std::to_string(entries));
}

cs_error_t open_handle(cpg_handle_t* h, unsigned flags = 0) {
  cpg_model_v1_data_t model{};
  model.model = CPG_MODEL_V1;
  model.cpg_deliver_fn = on_deliver;
  model.cpg_confchg_fn = on_confchg;
  model.cpg_totem_confchg_fn = on_totem;
  model.flags = flags;
  return cpg_model_initialize(h, CPG_MODEL_V1, reinterpret_cast<cpg_model_data_t*>(&model),
                              nullptr);
}

cpg_name name_of(const char* s) {
  cpg_name n{};
  n.length = static_cast<uint32_t>(std::strlen(s));
  std::memcpy(n.value, s, n.length);
  return n;
}

bool fd_ready(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

// Dispatches until `count` events were recorded or a second passed.
std::vector<std::string> dispatch_until(cpg_handle_t h, std::size_t count) {
  int fd = -1;
  EXPECT_EQ(cpg_fd_get(h, &fd), CS_OK);
  std::vector<std::string> seen;
  for (int i = 0; i < 100 && seen.size() < count; ++i) {
    if (!fd_ready(fd, 10)) continue;
    EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
    for (auto& e : take_recorded())
      seen.push_back(std::move(e));
  }
  return seen;
}

class ClientMode : public DaemonClientTest {};

TEST_F(ClientMode, InitializeJoinMcastDispatchFinalizeEndToEnd) {
  FakeDaemon daemon(env_.run_dir(), 1);
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h, CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF), CS_OK);
  EXPECT_EQ(dispatch_until(h, 1), std::vector<std::string>{"totem 1 8 1"});
  const cpg_name group = name_of("g");
  ASSERT_EQ(cpg_join(h, &group), CS_OK);
  EXPECT_EQ(dispatch_until(h, 1), std::vector<std::string>{"confchg g 1 0 1 1"});
  char a[] = "hello", b[] = " world";
  const iovec pieces[] = {{a, 5}, {b, 6}};
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, pieces, 2), CS_OK);
  // The delivery came before the reply: queued, and the fd says so.
  int fd = -1;
  ASSERT_EQ(cpg_fd_get(h, &fd), CS_OK);
  EXPECT_TRUE(fd_ready(fd, 0));
  EXPECT_EQ(dispatch_until(h, 1), std::vector<std::string>{"deliver fake 1 1 hello world 11"});
  EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_ONE_NONBLOCKING), CS_ERR_TRY_AGAIN);
  EXPECT_FALSE(fd_ready(fd, 0)) << "an idle handle's fd is not readable";

  cpg_address members[CPG_MEMBERS_MAX];
  int count = 0;
  ASSERT_EQ(cpg_membership_get(h, const_cast<cpg_name*>(&group), members, &count), CS_OK);
  ASSERT_EQ(count, 1);
  EXPECT_EQ(members[0].pid, static_cast<uint32_t>(::getpid()));
  unsigned int node = 0;
  EXPECT_EQ(cpg_local_get(h, &node), CS_OK);
  EXPECT_EQ(node, 1u);
  uint32_t atomic = 0;
  EXPECT_EQ(cpg_max_atomic_msgsize_get(h, &atomic), CS_OK);
  EXPECT_EQ(atomic, 1u << 20);
  cpg_flow_control_state_t flow = CPG_FLOW_CONTROL_ENABLED;
  EXPECT_EQ(cpg_flow_control_state_get(h, &flow), CS_OK);
  EXPECT_EQ(flow, CPG_FLOW_CONTROL_DISABLED);
  int here = 0;
  void* context = nullptr;
  EXPECT_EQ(cpg_context_set(h, &here), CS_OK);
  EXPECT_EQ(cpg_context_get(h, &context), CS_OK);
  EXPECT_EQ(context, &here);
  cpg_iteration_handle_t it = 0;
  ASSERT_EQ(cpg_iteration_initialize(h, CPG_ITERATION_ALL, nullptr, &it), CS_OK);
  cpg_iteration_description_t d{};
  EXPECT_EQ(cpg_iteration_next(it, &d), CS_OK);
  EXPECT_EQ(std::string(d.group.value, d.group.length), "fake");
  EXPECT_EQ(cpg_iteration_next(it, &d), CS_ERR_NO_SECTIONS);
  EXPECT_EQ(cpg_iteration_finalize(it), CS_OK);

  void* buffer = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(h, 1000, &buffer), CS_OK);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer) % 4096, 0u);
  std::memcpy(buffer, "zero copy", 9);
  ASSERT_EQ(cpg_zcb_mcast_joined(h, CPG_TYPE_AGREED, buffer, 9), CS_OK);
  EXPECT_EQ(dispatch_until(h, 1), std::vector<std::string>{"deliver fake 1 1 zero copy 9"});
  ringcast_counters counters{};
  counters.size = sizeof counters;
  ASSERT_EQ(ringcast_counters_get(h, &counters), CS_OK);
  EXPECT_EQ(counters.zero_copy_sends, 1u);
  EXPECT_EQ(counters.zero_copy_bytes_copied, 9u) << "client mode copies zcb sends (docs/api.md)";
  EXPECT_EQ(counters.zero_copy_bytes_from_buffer, 0u);
  EXPECT_EQ(counters.bytes_copied_on_send, 11u + 9u);
  EXPECT_EQ(cpg_zcb_free(h, buffer), CS_OK);
  EXPECT_EQ(cpg_zcb_free(h, &here), CS_ERR_INVALID_PARAM);

  ASSERT_EQ(cpg_leave(h, &group), CS_OK);
  EXPECT_EQ(dispatch_until(h, 1), std::vector<std::string>{"confchg g 0 1 0 0"});
  ASSERT_EQ(cpg_finalize(h), CS_OK);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::finalize), 1u);
  EXPECT_EQ(cpg_join(h, &group), CS_ERR_BAD_HANDLE);
  EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_ERR_BAD_HANDLE);
}

// Values outside the enum of each enum parameter, passed from C, are refused
// as invalid without a request to the daemon, as in embedded mode.
TEST_F(ClientMode, EnumArgumentsOutsideTheirEnumsAreInvalid) {
  FakeDaemon daemon(env_.run_dir(), 1);
  EXPECT_EQ(c_enum_args_without_handle(), 0);
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  EXPECT_EQ(c_enum_args_cpg(h), 0);
  const cpg_name group = name_of("g");
  ASSERT_EQ(cpg_join(h, &group), CS_OK);
  EXPECT_EQ(c_enum_args_cpg(h), 0);
  for (auto type : {ipc::MessageType::mcast, ipc::MessageType::mcast_credited,
                    ipc::MessageType::zcb_mcast, ipc::MessageType::iteration})
    EXPECT_EQ(daemon.requests_of(type), 0u);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(ClientMode, EventsReadWhileWaitingForAReplyAreDispatchedInOrder) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (!std::holds_alternative<ipc::Mcast>(r.body)) return FakeDaemon::answer(c, r);
    const auto sender = ipc::ProcessId{2, 7};
    const char* texts[] = {"one", "two", "three", "four", "five"};
    for (int i = 0; i < 5; ++i) {
      if (i == 3) c.send({r.request_id, ipc::Reply{0, 0}});
      const auto bytes = std::as_bytes(std::span(texts[i], std::strlen(texts[i])));
      c.send({0, ipc::DeliverInline{kFakeRemoteHandle, ipc::GroupName::of("g"), sender, bytes}});
    }
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  char payload[] = "x";
  const iovec piece{payload, 1};
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);
  EXPECT_EQ(dispatch_until(h, 5),
            (std::vector<std::string>{"deliver g 2 0 one 3", "deliver g 2 0 two 3",
                                      "deliver g 2 0 three 5", "deliver g 2 0 four 4",
                                      "deliver g 2 0 five 4"}));
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(ClientMode, MessagesLargerThanAFrameTravelAsPartsBothWays) {
  FakeDaemon daemon(env_.run_dir(), 1, ipc::ChannelSizes{4096, 1 << 14, 1 << 14, 0});
  daemon.largest_message_bytes = 200'000;
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  std::vector<char> message(150'000);
  for (std::size_t i = 0; i < message.size(); ++i)
    message[i] = static_cast<char>('a' + i % 26);
  // Three pieces of uneven sizes, so that frames cut across them.
  const iovec pieces[] = {{message.data(), 1000},
                          {message.data() + 1000, 70'001},
                          {message.data() + 71'001, message.size() - 71'001}};
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, pieces, 3), CS_OK);
  EXPECT_GT(daemon.requests_of(ipc::MessageType::mcast_part), 30u);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::mcast), 1u);
  // The fake echoes what it assembled: the same bytes, in deliver_parts.
  std::vector<std::byte> got;
  daemon.on_request = FakeDaemon::answer;
  const auto seen = dispatch_until(h, 1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "deliver fake 1 1 " + std::string(message.data(), 40) + " 150000");
  std::vector<char> too_big(200'001);
  const iovec big{too_big.data(), too_big.size()};
  EXPECT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &big, 1), CS_ERR_TOO_BIG);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::mcast), 1u) << "refused before sending";
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// A daemon that delivers while the library is still writing a message's
// parts: both rings fill, and the library must read events while it waits
// for room, or each side waits for the other for ever.
TEST_F(ClientMode, PartsAndDeliveriesFillingBothRingsDoNotDeadlock) {
  FakeDaemon daemon(env_.run_dir(), 1, ipc::ChannelSizes{4096, 1 << 13, 1 << 13, 0});
  daemon.largest_message_bytes = 1 << 20;
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (std::holds_alternative<ipc::McastPart>(r.body)) {
      const std::vector<std::byte> chatter(1000, std::byte{'c'});
      c.send({0, ipc::DeliverInline{kFakeRemoteHandle, ipc::GroupName::of("g"), {2, 2}, chatter}});
    }
    FakeDaemon::answer(c, r);
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  std::vector<char> message(300'000, 'm');
  const iovec piece{message.data(), message.size()};
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);
  const auto parts = daemon.requests_of(ipc::MessageType::mcast_part);
  EXPECT_GT(parts, 70u);
  const auto seen = dispatch_until(h, parts + 1);
  ASSERT_EQ(seen.size(), parts + 1);
  EXPECT_EQ(seen.back(), "deliver fake 1 1 " + std::string(40, 'm') + " 300000");
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// Every byte of the echoed message, checked in the callback.
std::vector<char> g_expected;
std::atomic<bool> g_matched{false};
void check_bytes(cpg_handle_t, const cpg_name*, uint32_t, uint32_t, void* msg, size_t len) {
  g_matched = len == g_expected.size() && std::memcmp(msg, g_expected.data(), len) == 0;
}

TEST_F(ClientMode, ALargeDeliveryIsPutTogetherByteForByte) {
  FakeDaemon daemon(env_.run_dir(), 1, ipc::ChannelSizes{4096, 1 << 14, 1 << 14, 0});
  g_expected.assign(50'000, 0);
  for (std::size_t i = 0; i < g_expected.size(); ++i)
    g_expected[i] = static_cast<char>(i * 7 + i / 251);
  cpg_callbacks_t callbacks{check_bytes, nullptr};
  cpg_handle_t h = 0;
  ASSERT_EQ(cpg_initialize(&h, &callbacks), CS_OK);
  const iovec piece{g_expected.data(), g_expected.size()};
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ONE), CS_OK);
  EXPECT_TRUE(g_matched);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

void expect_every_call_fails(cpg_handle_t h) {
  const cpg_name group = name_of("g");
  char payload[] = "x";
  const iovec piece{payload, 1};
  cpg_address members[CPG_MEMBERS_MAX];
  int count = 0;
  unsigned int node = 0;
  uint32_t size = 0;
  void* buffer = nullptr;
  cpg_flow_control_state_t flow;
  cpg_iteration_handle_t it = 0;
  EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_BLOCKING), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_join(h, &group), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_leave(h, &group), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_membership_get(h, const_cast<cpg_name*>(&group), members, &count), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_local_get(h, &node), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_max_atomic_msgsize_get(h, &size), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_flow_control_state_get(h, &flow), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_zcb_alloc(h, 100, &buffer), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_iteration_initialize(h, CPG_ITERATION_ALL, nullptr, &it), CS_ERR_LIBRARY);
}

TEST_F(ClientMode, ADaemonThatHangsUpInACallFailsEveryCallAndANewDaemonServesAgain) {
  {
    FakeDaemon daemon(env_.run_dir(), 1);
    daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
      if (std::holds_alternative<ipc::Join>(r.body)) return c.hang_up();
      FakeDaemon::answer(c, r);
    };
    cpg_handle_t h = 0;
    ASSERT_EQ(open_handle(&h), CS_OK);
    const cpg_name group = name_of("g");
    EXPECT_EQ(cpg_join(h, &group), CS_ERR_LIBRARY);
    int fd = -1;
    ASSERT_EQ(cpg_fd_get(h, &fd), CS_OK);
    EXPECT_TRUE(fd_ready(fd, 1000)) << "the fd says the daemon is gone";
    expect_every_call_fails(h);
    EXPECT_TRUE(log_mentions("ringcastd closed the connection"));
    EXPECT_EQ(cpg_finalize(h), CS_OK);
  }
  FakeDaemon again(env_.run_dir(), 1);
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  const cpg_name group = name_of("g");
  EXPECT_EQ(cpg_join(h, &group), CS_OK);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// corosync's cpgbench times its rounds with SIGALRM: a signal that comes
// while the library looks at the socket (a poll that returns EINTR, a peek
// that finds nothing) says nothing about the daemon, and must not end the
// handle.
TEST_F(ClientMode, SignalsDuringCallsDoNotEndTheHandle) {
  FakeDaemon daemon(env_.run_dir(), 1);
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  struct sigaction quiet {};
  quiet.sa_handler = [](int) {};
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGUSR1, &quiet, &before), 0);
  const pthread_t caller = ::pthread_self();
  std::atomic<bool> done{false};
  std::thread signaller([&] {
    while (!done.load())
      ::pthread_kill(caller, SIGUSR1);
  });
  cs_error_t e = CS_ERR_TRY_AGAIN;
  int calls = 0;
  for (; calls < 50'000 && e == CS_ERR_TRY_AGAIN; ++calls)
    e = cpg_dispatch(h, CS_DISPATCH_ONE_NONBLOCKING);
  done = true;
  signaller.join();
  ::sigaction(SIGUSR1, &before, nullptr);
  EXPECT_EQ(e, CS_ERR_TRY_AGAIN) << "after " << calls << " calls";
  EXPECT_FALSE(log_mentions("client handle lost"));
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(ClientMode, ADaemonThatDiesWhileTheProgramPollsMakesTheFdReadable) {
  auto daemon = std::make_unique<FakeDaemon>(env_.run_dir(), 1);
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  const cpg_name group = name_of("g");
  ASSERT_EQ(cpg_join(h, &group), CS_OK);
  ASSERT_EQ(dispatch_until(h, 1).size(), 1u);
  int fd = -1;
  ASSERT_EQ(cpg_fd_get(h, &fd), CS_OK);
  // Readiness is cleared by a dispatch that finds nothing (docs/api.md).
  EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  EXPECT_FALSE(fd_ready(fd, 0));
  daemon.reset();
  EXPECT_TRUE(fd_ready(fd, 1000));
  expect_every_call_fails(h);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

// A busy sender costs no wake-up per message: the library spins on the
// event ring for the reply (yielding after 10 us, so that a daemon waiting
// for the CPU gets it) before it announces a sleep, so the daemon writes
// its doorbell rarely. Measured on 2 cores under a load of 12: 0.02 to 0.03
// writes per message; a spin that only paused slept for both events of
// every send (1.95). The bound leaves room for a loaded machine.
TEST_F(ClientMode, ABusySenderCostsTheDaemonFewDoorbellWrites) {
  auto daemon = std::make_unique<FakeDaemon>(env_.run_dir(), 1);
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  constexpr int kMessages = 2000;
  char payload[100] = {};
  const iovec piece{payload, sizeof payload};
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);
    if (i % 50 == 49) {
      ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
    }
  }
  ASSERT_EQ(cpg_finalize(h), CS_OK);
  take_recorded();
  daemon->stop();
  const double events = static_cast<double>(daemon->event_doorbell_writes()) / kMessages;
  const double requests = static_cast<double>(daemon->request_sleeps_announced()) / kMessages;
  std::printf("per message: %.3f doorbell writes by the daemon, %.3f sleeps it announced\n", events,
              requests);
  EXPECT_LE(events, 0.5);
}

// A program that sends without dispatching: its library queues every
// delivery it reads while waiting for its replies. Past
// totem.handle_unreleased_max_bytes + handle_spill_max_bytes of them (what
// an embedded handle may hold before eviction) its sends get CS_ERR_TRY_AGAIN
// and flow control says enabled, until a dispatch runs them; nothing sent
// is lost.
TEST_F(ClientMode, ASenderThatDoesNotDispatchGetsTryAgainPastTheBound) {
  DaemonEnvironment bounded("daemon", "",
                            "totem {\n  log_size_bytes: 4M\n  max_message_size_bytes: 64K\n"
                            "  handle_unreleased_max_bytes: 256K\n"
                            "  handle_spill_max_bytes: 256K\n}\n");
  FakeDaemon daemon(bounded.run_dir(), 1);
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  const cpg_name group = name_of("g");
  ASSERT_EQ(cpg_join(h, &group), CS_OK);
  char payload[1024] = {};
  const iovec piece{payload, sizeof payload};
  int sent = 0;
  cs_error_t e = CS_OK;
  while (sent < 10000 && (e = cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1)) == CS_OK)
    ++sent;
  EXPECT_EQ(e, CS_ERR_TRY_AGAIN);
  // 512 KiB (the log's share and the spill) of deliveries of 1 KiB and
  // their frames' headers.
  EXPECT_GE(sent, 400);
  EXPECT_LE(sent, 512);
  cpg_flow_control_state_t state = CPG_FLOW_CONTROL_DISABLED;
  ASSERT_EQ(cpg_flow_control_state_get(h, &state), CS_OK);
  EXPECT_EQ(state, CPG_FLOW_CONTROL_ENABLED);
  EXPECT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_ERR_TRY_AGAIN);
  take_recorded();
  ASSERT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  const auto seen = take_recorded();
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(sent) + 1);  // and the join's confchg
  ASSERT_EQ(cpg_flow_control_state_get(h, &state), CS_OK);
  EXPECT_EQ(state, CPG_FLOW_CONTROL_DISABLED);
  EXPECT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);
  EXPECT_TRUE(log_mentions("undispatched deliveries"));
  ASSERT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(ClientMode, ABlockingDispatchReturnsWhenAnotherThreadFinalizes) {
  FakeDaemon daemon(env_.run_dir(), 1);
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  std::atomic<cs_error_t> result{CS_ERR_TRY_AGAIN};
  std::thread dispatcher([&] { result = cpg_dispatch(h, CS_DISPATCH_BLOCKING); });
  char payload[] = "x";
  const iovec piece{payload, 1};
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);
  for (int i = 0; i < 100 && take_recorded().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(cpg_finalize(h), CS_OK);
  dispatcher.join();
  EXPECT_EQ(result.load(), CS_OK);
}

std::atomic<int> g_delivered{0};
void count_delivery(cpg_handle_t, const cpg_name*, uint32_t, uint32_t, void*, size_t) {
  ++g_delivered;
}

// The reader's role passes between threads: senders waiting for replies
// and a dispatcher blocked in CS_DISPATCH_BLOCKING; every delivery reaches
// the dispatcher and every send its reply.
TEST_F(ClientMode, ThreadsSendingWhileAnotherDispatchesSeeEveryDelivery) {
  FakeDaemon daemon(env_.run_dir(), 1);
  g_delivered = 0;
  cpg_callbacks_t callbacks{count_delivery, nullptr};
  cpg_handle_t h = 0;
  ASSERT_EQ(cpg_initialize(&h, &callbacks), CS_OK);
  std::thread dispatcher([h] { EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_BLOCKING), CS_OK); });
  constexpr int kThreads = 3, kSends = 400;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([h] {
      char payload[64] = {};
      const iovec piece{payload, sizeof payload};
      for (int i = 0; i < kSends; ++i)
        EXPECT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);
    });
  }
  for (auto& t : senders)
    t.join();
  for (int i = 0; i < 1000 && g_delivered < kThreads * kSends; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(g_delivered.load(), kThreads * kSends);
  ASSERT_EQ(cpg_finalize(h), CS_OK);
  dispatcher.join();
}

// As above with a dispatcher that sleeps in poll() on the handle's fd: the
// fd must wake it for every event, whichever thread read the event out of
// the ring (a missed wake-up leaves deliveries waiting for the poll's 3 s).
TEST_F(ClientMode, TheFdWakesAPollingDispatcherWhileOtherThreadsSend) {
  FakeDaemon daemon(env_.run_dir(), 1);
  g_delivered = 0;
  cpg_callbacks_t callbacks{count_delivery, nullptr};
  cpg_handle_t h = 0;
  ASSERT_EQ(cpg_initialize(&h, &callbacks), CS_OK);
  int fd = -1;
  ASSERT_EQ(cpg_fd_get(h, &fd), CS_OK);
  constexpr int kThreads = 2, kSends = 300;
  std::atomic<bool> stop{false};
  std::thread dispatcher([&] {
    while (!stop) {
      pollfd p{fd, POLLIN, 0};
      (void)::poll(&p, 1, 3000);
      EXPECT_EQ(cpg_dispatch(h, CS_DISPATCH_ALL), CS_OK);
    }
  });
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([h] {
      char payload[64] = {};
      const iovec piece{payload, sizeof payload};
      for (int i = 0; i < kSends; ++i) {
        EXPECT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);
        if (i % 37 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  for (auto& t : senders)
    t.join();
  for (int i = 0; i < 200 && g_delivered < kThreads * kSends; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(g_delivered.load(), kThreads * kSends) << "a wake-up was missed";
  stop = true;
  char payload[] = "x";
  const iovec piece{payload, 1};
  ASSERT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);  // wakes the poll
  dispatcher.join();
  ASSERT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(ClientMode, NoDaemonIsCsErrLibraryAndALineSayingHowToStartOne) {
  cpg_handle_t h = 0;
  EXPECT_EQ(open_handle(&h), CS_ERR_LIBRARY);
  EXPECT_TRUE(log_mentions("ringcastd -f -c " + env_.config()))
      << (log_lines().empty() ? "" : log_lines()[0]);
  EXPECT_TRUE(log_mentions("systemctl start ringcastd"));
}

TEST_F(ClientMode, ADaemonOfAnotherVersionIsCsErrVersionNamingBoth) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.speak_version_plus_one = true;
  cpg_handle_t h = 0;
  EXPECT_EQ(open_handle(&h), CS_ERR_VERSION);
  EXPECT_TRUE(log_mentions("the library speaks " + std::to_string(ipc::kProtocolVersion) +
                           ", the daemon speaks " + std::to_string(ipc::kProtocolVersion + 1)));
}

TEST_F(ClientMode, ADaemonThatRefusesTheClientGivesItsError) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.refuse_with = CS_ERR_ACCESS;
  cpg_handle_t h = 0;
  EXPECT_EQ(open_handle(&h), CS_ERR_ACCESS);
  EXPECT_TRUE(log_mentions("refused this program"));
}

TEST_F(ClientMode, AMalformedEventKillsTheHandleWithOneBoundedLine) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (!std::holds_alternative<ipc::Join>(r.body)) return FakeDaemon::answer(c, r);
    std::vector<std::byte> garbage(64, std::byte{0x41});
    c.send_raw(garbage);
    c.send({r.request_id, ipc::Reply{0, 0}});
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  const cpg_name group = name_of("g");
  EXPECT_EQ(cpg_join(h, &group), CS_ERR_LIBRARY);
  EXPECT_TRUE(log_mentions("a malformed event from ringcastd"));
  for (const auto& line : log_lines())
    EXPECT_LT(line.size(), 400u);
  expect_every_call_fails(h);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(ClientMode, AnEventForAnotherHandleKillsTheHandle) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (!std::holds_alternative<ipc::Join>(r.body)) return FakeDaemon::answer(c, r);
    c.send({0, ipc::TotemConfchg{kFakeRemoteHandle + 1, 1, 9, {1}}});
    c.send({r.request_id, ipc::Reply{0, 0}});
  };
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  const cpg_name group = name_of("g");
  EXPECT_EQ(cpg_join(h, &group), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(ClientMode, AForkedChildCannotUseTheHandleAndItsFinalizeClosesOnlyItsCopy) {
  FakeDaemon daemon(env_.run_dir(), 1);
  cpg_handle_t h = 0;
  ASSERT_EQ(open_handle(&h), CS_OK);
  const cpg_name group = name_of("g");
  ASSERT_EQ(cpg_join(h, &group), CS_OK);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char payload[] = "child";
    const iovec piece{payload, 5};
    int status = 0;
    if (cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1) != CS_ERR_LIBRARY) status |= 1;
    if (cpg_dispatch(h, CS_DISPATCH_ALL) != CS_ERR_LIBRARY) status |= 2;
    if (cpg_finalize(h) != CS_OK) status |= 4;
    ::_exit(status);
  }
  int status = -1;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "bit 1: mcast, 2: dispatch, 4: finalize";
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::finalize), 0u);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::mcast), 0u);
  char payload[] = "parent";
  const iovec piece{payload, 6};
  EXPECT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, &piece, 1), CS_OK);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::finalize), 1u);
}

TEST(ModeChoice, EnvironmentThenClusterFileThenDaemon) {
  {
    DaemonEnvironment env(nullptr);
    auto mode = client::choose_mode();
    ASSERT_TRUE(mode.ok());
    ASSERT_TRUE(mode->has_value()) << "the default is the daemon";
    EXPECT_EQ((*mode)->socket_path, env.run_dir() + "/ringcastd-1.sock");
    EXPECT_EQ((*mode)->node, 1u);
  }
  {
    DaemonEnvironment env(nullptr, "  mode: embedded\n");
    auto mode = client::choose_mode();
    ASSERT_TRUE(mode.ok());
    EXPECT_FALSE(mode->has_value());
  }
  {
    DaemonEnvironment env("daemon", "  mode: embedded\n");
    auto mode = client::choose_mode();
    ASSERT_TRUE(mode.ok());
    EXPECT_TRUE(mode->has_value()) << "the environment wins";
  }
  {
    DaemonEnvironment env("embedded");
    auto mode = client::choose_mode();
    ASSERT_TRUE(mode.ok());
    EXPECT_FALSE(mode->has_value());
  }
  {
    DaemonEnvironment env("sideways");
    EXPECT_EQ(client::choose_mode().status().code(), CS_ERR_LIBRARY);
  }
  {
    DaemonEnvironment env("daemon");
    client::Node::Override simulated(client::Node::create());
    auto mode = client::choose_mode();
    ASSERT_TRUE(mode.ok());
    EXPECT_FALSE(mode->has_value()) << "a simulated node's thread is embedded";
  }
}

}  // namespace
}  // namespace ringcast::testing
