// The quorum C API in client mode against a fake ringcastd
// (fake_daemon.hpp): the calls and the callbacks of both models from its
// quorum_notify events, the daemon going away, a daemon that predates the
// quorum requests, no daemon, and events of the wrong service, which kill
// the handle as any event the library cannot take (its log line is rate
// limited for the process: only the kill is checked here).
#include <gtest/gtest.h>
#include <poll.h>

#include <mutex>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "c_enum_args.h"
#include "daemon_client_fixture.hpp"
#include "fake_daemon.hpp"
#include "recorded_lines.hpp"
#include "ringcast/cpg.h"
#include "ringcast/quorum.h"

namespace ringcast::testing {
namespace {

void on_v0(quorum_handle_t, uint32_t quorate, uint64_t seq, uint32_t n, uint32_t* nodes) {
  record("v0 " + std::to_string(quorate) + " seq " + std::to_string(seq) + " n " +
         std::to_string(n) + " first " + std::to_string(n > 0 ? nodes[0] : 0));
}

void on_v1(quorum_handle_t, uint32_t quorate, quorum_ring_id id, uint32_t n, const uint32_t*) {
  record("quorum " + std::to_string(quorate) + " ring " + std::to_string(id.nodeid) + "/" +
         std::to_string(id.seq) + " n " + std::to_string(n));
}

void on_nodelist(quorum_handle_t, quorum_ring_id id, uint32_t n, const uint32_t*, uint32_t nj,
                 const uint32_t*, uint32_t nl, const uint32_t*) {
  record("nodelist ring " + std::to_string(id.seq) + " n " + std::to_string(n) + " joined " +
         std::to_string(nj) + " left " + std::to_string(nl));
}

cs_error_t open_v1(quorum_handle_t* h, void* context = nullptr) {
  quorum_model_v1_data_t v1{QUORUM_MODEL_V1, on_v1, on_nodelist};
  return quorum_model_initialize(h, QUORUM_MODEL_V1, reinterpret_cast<quorum_model_data_t*>(&v1),
                                 nullptr, context);
}

void expect_every_call_fails(quorum_handle_t h) {
  int q = 0;
  EXPECT_EQ(quorum_getquorate(h, &q), CS_ERR_LIBRARY);
  EXPECT_EQ(quorum_trackstart(h, CS_TRACK_CHANGES), CS_ERR_LIBRARY);
  EXPECT_EQ(quorum_trackstop(h), CS_ERR_LIBRARY);
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ALL), CS_ERR_LIBRARY);
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_BLOCKING), CS_ERR_LIBRARY);
}

class QuorumClientMode : public DaemonClientTest {};

TEST_F(QuorumClientMode, CallsAndCallbacksOfBothModels) {
  FakeDaemon daemon(env_.run_dir(), 1);
  quorum_handle_t h = 0;
  int marker = 0;
  ASSERT_EQ(open_v1(&h, &marker), CS_OK);
  const void* ctx = nullptr;
  EXPECT_EQ(quorum_context_get(h, &ctx), CS_OK);
  EXPECT_EQ(ctx, &marker);
  int q = 0;
  EXPECT_EQ(quorum_getquorate(h, &q), CS_OK);
  EXPECT_EQ(q, 1);
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ONE_NONBLOCKING), CS_ERR_TRY_AGAIN);
  ASSERT_EQ(quorum_trackstart(h, CS_TRACK_CURRENT | 0x100), CS_OK);  // unknown bits ignored
  int fd = -1;
  ASSERT_EQ(quorum_fd_get(h, &fd), CS_OK);
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 1);  // held when the call returned
  // V1: two callbacks per notification, one per CS_DISPATCH_ONE.
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ONE), CS_OK);
  EXPECT_EQ(take_recorded(), std::vector<std::string>{"nodelist ring 8 n 1 joined 0 left 0"});
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ONE), CS_OK);
  EXPECT_EQ(take_recorded(), std::vector<std::string>{"quorum 1 ring 1/8 n 1"});
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ONE_NONBLOCKING), CS_ERR_TRY_AGAIN);
  EXPECT_EQ(quorum_trackstop(h), CS_OK);
  EXPECT_EQ(quorum_finalize(h), CS_OK);
  EXPECT_EQ(quorum_finalize(h), CS_ERR_BAD_HANDLE);

  quorum_callbacks_t cb{on_v0};
  uint32_t type = 0;
  ASSERT_EQ(quorum_initialize(&h, &cb, &type), CS_OK);
  EXPECT_EQ(type, static_cast<uint32_t>(QUORUM_SET));
  ASSERT_EQ(quorum_trackstart(h, CS_TRACK_CHANGES), CS_OK);
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  EXPECT_EQ(take_recorded(), std::vector<std::string>{"v0 1 seq 8 n 1 first 1"});
  EXPECT_EQ(quorum_finalize(h), CS_OK);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::quorum_finalize), 2u);
  EXPECT_EQ(daemon.requests_of(ipc::MessageType::finalize), 0u);
}

// Values outside the enums, passed from C, are refused as invalid.
TEST_F(QuorumClientMode, EnumArgumentsOutsideTheirEnumsAreInvalid) {
  FakeDaemon daemon(env_.run_dir(), 1);
  EXPECT_EQ(c_enum_args_without_handle(), 0);
  quorum_handle_t h = 0;
  ASSERT_EQ(open_v1(&h), CS_OK);
  EXPECT_EQ(c_enum_args_quorum(h), 0);
  EXPECT_EQ(quorum_finalize(h), CS_OK);
}

TEST_F(QuorumClientMode, NoDaemonIsCsErrLibraryAndALineSayingHowToStartOne) {
  quorum_handle_t h = 0;
  EXPECT_EQ(open_v1(&h), CS_ERR_LIBRARY);
  EXPECT_TRUE(log_mentions("ringcastd -f -c " + env_.config()));
}

TEST_F(QuorumClientMode, ADaemonThatHangsUpFailsEveryCallButFinalize) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (std::holds_alternative<ipc::QuorumGetquorate>(r.body)) return c.hang_up();
    FakeDaemon::answer(c, r);
  };
  quorum_handle_t h = 0;
  ASSERT_EQ(open_v1(&h), CS_OK);
  int q = 0;
  EXPECT_EQ(quorum_getquorate(h, &q), CS_ERR_LIBRARY);
  expect_every_call_fails(h);
  EXPECT_EQ(quorum_finalize(h), CS_OK);
}

// A daemon that predates the quorum requests ends the connection at the
// first one (an unknown type).
TEST_F(QuorumClientMode, ADaemonWithoutTheQuorumServiceIsCsErrLibrary) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (std::holds_alternative<ipc::QuorumInitialize>(r.body)) return c.hang_up();
    FakeDaemon::answer(c, r);
  };
  quorum_handle_t h = 0;
  EXPECT_EQ(open_v1(&h), CS_ERR_LIBRARY);
}

TEST_F(QuorumClientMode, AQuorumEventOnACpgHandleKillsIt) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (!std::holds_alternative<ipc::Join>(r.body)) return FakeDaemon::answer(c, r);
    c.send({0, quorum_state(c)});
    c.send({r.request_id, ipc::Reply{0, 0}});
  };
  cpg_handle_t h = 0;
  cpg_callbacks_t none{};
  ASSERT_EQ(cpg_initialize(&h, &none), CS_OK);
  cpg_name group{};
  group.length = 1;
  group.value[0] = 'g';
  EXPECT_EQ(cpg_join(h, &group), CS_ERR_LIBRARY);
  EXPECT_EQ(cpg_finalize(h), CS_OK);
}

TEST_F(QuorumClientMode, ACpgEventOnAQuorumHandleKillsIt) {
  FakeDaemon daemon(env_.run_dir(), 1);
  daemon.on_request = [](FakeClient& c, const ipc::Request& r) {
    if (!std::holds_alternative<ipc::QuorumTrackstart>(r.body)) return FakeDaemon::answer(c, r);
    c.send({0, ipc::TotemConfchg{kFakeRemoteHandle, 1, 9, {1}}});
    c.send({r.request_id, ipc::Reply{0, 0}});
  };
  quorum_handle_t h = 0;
  ASSERT_EQ(open_v1(&h), CS_OK);
  EXPECT_EQ(quorum_trackstart(h, CS_TRACK_CHANGES), CS_ERR_LIBRARY);
  expect_every_call_fails(h);
  EXPECT_EQ(quorum_finalize(h), CS_OK);
}

}  // namespace
}  // namespace ringcast::testing
