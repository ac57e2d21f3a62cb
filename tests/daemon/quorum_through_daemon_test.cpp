// The quorum C API in client mode (RINGCAST_MODE=daemon) against the
// daemons' client servers over simulated nodes: the behaviour the embedded
// suite (tests/client/quorum_sim_test.cpp) asserts, through real sockets
// and rings. getquorate, trackstart with CS_TRACK_CHANGES and a node that
// leaves and comes back (the node list first, then the quorum state, on V1
// handles; V0's one callback), trackstop, finalize, bad handles of both
// APIs, a daemon that goes away; and the C program quorum_compat.c
// (against <corosync/quorum.h>, tests/client) through a daemon.
#include <gtest/gtest.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "c_enum_args.h"
#include "client/quorum_tracker.hpp"
#include "quorum_compat.h"
#include "ringcast/cpg.h"
#include "ringcast/quorum.h"
#include "sim_daemons.hpp"
#include "support/quorum_log.hpp"

namespace ringcast::daemon_test {
namespace {

using namespace std::chrono_literals;
using namespace quorum_test;

// Three daemons whose nodes count one vote each, three expected; this
// process's quorum_* calls reach the daemon of RINGCAST_NODE_ID.
struct Cluster {
  SimDaemons d;
  explicit Cluster(std::size_t members = 3) : d(options(members)) { d.use_for_programs(); }
  static SimDaemonOptions options(std::size_t members) {
    SimDaemonOptions o;
    o.members = members;
    o.prepare = [members](client::Node& n) {
      n.quorum().set_rules(client::QuorumRules::equal_votes(static_cast<std::uint32_t>(members)));
    };
    return o;
  }
  void use(std::size_t i) {
    ::setenv("RINGCAST_NODE_ID", std::to_string(d.cluster().node(i)).c_str(), 1);
  }
  std::string nodes(const std::vector<std::size_t>& members) {
    std::vector<uint32_t> ids;
    for (std::size_t i : members)
      ids.push_back(d.cluster().node(i));
    return list(ids.data(), static_cast<uint32_t>(ids.size()));
  }
};

quorum_handle_t open_v1(Cluster& c, std::size_t i, QuorumLog& log) {
  c.use(i);
  quorum_model_v1_data_t v1{QUORUM_MODEL_V1, on_quorum, on_nodelist};
  quorum_handle_t h = 0;
  uint32_t type = 99;
  EXPECT_EQ(quorum_model_initialize(&h, QUORUM_MODEL_V1,
                                    reinterpret_cast<quorum_model_data_t*>(&v1), &type, &log),
            CS_OK);
  EXPECT_EQ(type, static_cast<uint32_t>(QUORUM_SET));
  return h;
}

// Trackstart with CS_TRACK_CHANGES: the current state is held when the call
// returns, as in embedded mode (the fd says so, a non-blocking dispatch runs it).
void track(quorum_handle_t h) {
  ASSERT_EQ(quorum_trackstart(h, CS_TRACK_CHANGES), CS_OK);
  int fd = -1;
  ASSERT_EQ(quorum_fd_get(h, &fd), CS_OK);
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 1);
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ONE_NONBLOCKING), CS_OK);
}

TEST(QuorumThroughDaemon, ANodeLeavesAndComesBack) {
  Cluster c;
  QuorumLog logs[3];
  std::vector<quorum_handle_t> hs;
  for (std::size_t i = 0; i < 3; ++i) {
    hs.push_back(open_v1(c, i, logs[i]));
    track(hs.back());
  }
  const std::string all = c.nodes({0, 1, 2});
  ASSERT_TRUE(until(
      [&] {
        return logs[0].last() == "quorate=1 nodes=" + all &&
               logs[2].last() == "quorate=1 nodes=" + all;
      },
      hs));
  for (quorum_handle_t h : hs)
    EXPECT_EQ(quorate(h), 1);

  c.d.cluster().partition(std::vector<std::size_t>{2});
  const std::string pair = c.nodes({0, 1}), alone = c.nodes({2});
  ASSERT_TRUE(until(
      [&] {
        return logs[0].last() == "quorate=1 nodes=" + pair &&
               logs[1].last() == "quorate=1 nodes=" + pair &&
               logs[2].last() == "quorate=0 nodes=" + alone;
      },
      hs));
  EXPECT_EQ(quorate(hs[0]), 1);
  EXPECT_EQ(quorate(hs[2]), 0);
  EXPECT_TRUE(logs[0].saw("nodelist " + pair + " joined=[] left=" + alone));
  EXPECT_TRUE(logs[2].saw("nodelist " + alone + " joined=[] left=" + pair));

  c.d.cluster().heal();
  ASSERT_TRUE(until(
      [&] {
        return logs[0].last() == "quorate=1 nodes=" + all &&
               logs[1].last() == "quorate=1 nodes=" + all &&
               logs[2].last() == "quorate=1 nodes=" + all;
      },
      hs));
  for (quorum_handle_t h : hs) {
    EXPECT_EQ(quorate(h), 1);
    EXPECT_EQ(quorum_finalize(h), CS_OK);
  }
}

// A V0 handle gets one callback per notification; after trackstop none of
// the ring changes that follow.
TEST(QuorumThroughDaemon, V0AndTrackstop) {
  Cluster c;
  QuorumLog v0_log, watcher;
  c.use(0);
  quorum_callbacks_t cb{on_quorum_v0};
  quorum_handle_t h = 0;
  ASSERT_EQ(quorum_initialize(&h, &cb, nullptr), CS_OK);
  ASSERT_EQ(quorum_context_set(h, &v0_log), CS_OK);
  track(h);
  EXPECT_EQ(quorum_trackstart(h, CS_TRACK_CHANGES), CS_ERR_EXIST);
  const quorum_handle_t w = open_v1(c, 0, watcher);
  track(w);
  const std::string all = c.nodes({0, 1, 2});
  ASSERT_TRUE(until(
      [&] {
        return v0_log.last() == "v0 quorate=1 nodes=" + all &&
               watcher.last() == "quorate=1 nodes=" + all;
      },
      {h, w}));
  EXPECT_FALSE(v0_log.saw_prefix("nodelist"));
  // What was queued before trackstop is held when it returns: one dispatch
  // takes it all, and nothing comes after.
  ASSERT_EQ(quorum_trackstop(h), CS_OK);
  EXPECT_EQ(quorum_trackstop(h), CS_OK);  // not tracking: still CS_OK
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  const std::size_t before = v0_log.size();

  c.d.cluster().partition(std::vector<std::size_t>{0});
  const std::string alone = c.nodes({0});
  ASSERT_TRUE(until([&] { return watcher.last() == "quorate=0 nodes=" + alone; }, {w}));
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ALL), CS_OK);
  EXPECT_EQ(v0_log.size(), before);
  EXPECT_EQ(quorate(h), 0);  // the state is still there to ask for
  EXPECT_EQ(quorum_finalize(h), CS_OK);
  EXPECT_EQ(quorum_finalize(w), CS_OK);
}

TEST(QuorumThroughDaemon, BadHandlesAndArguments) {
  Cluster c(1);
  c.use(0);
  QuorumLog log;
  quorum_handle_t h = open_v1(c, 0, log);
  int q = 0;
  int fd = -1;
  const void* ctx = nullptr;
  EXPECT_EQ(quorum_getquorate(h, nullptr), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(quorum_fd_get(h, nullptr), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(quorum_context_get(h, nullptr), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(quorum_dispatch(h, static_cast<cs_dispatch_flags_t>(5)), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(c_enum_args_quorum(h), 0);
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ONE_NONBLOCKING), CS_ERR_TRY_AGAIN);
  EXPECT_EQ(quorum_context_get(h, &ctx), CS_OK);
  EXPECT_EQ(ctx, &log);

  // A CPG handle of client mode is no quorum handle, nor the other way.
  cpg_handle_t cpg = 0;
  cpg_callbacks_t none{};
  ASSERT_EQ(cpg_initialize(&cpg, &none), CS_OK);
  EXPECT_EQ(quorum_getquorate(cpg, &q), CS_ERR_BAD_HANDLE);
  EXPECT_EQ(quorum_finalize(cpg), CS_ERR_BAD_HANDLE);
  unsigned int local = 0;
  EXPECT_EQ(cpg_local_get(h, &local), CS_ERR_BAD_HANDLE);
  EXPECT_EQ(cpg_finalize(h), CS_ERR_BAD_HANDLE);
  EXPECT_EQ(cpg_finalize(cpg), CS_OK);

  EXPECT_EQ(quorum_finalize(h), CS_OK);
  for (quorum_handle_t bad : {h, quorum_handle_t{0}, quorum_handle_t{0x80000001}}) {
    EXPECT_EQ(quorum_finalize(bad), CS_ERR_BAD_HANDLE);
    EXPECT_EQ(quorum_getquorate(bad, &q), CS_ERR_BAD_HANDLE);
    EXPECT_EQ(quorum_trackstart(bad, CS_TRACK_CHANGES), CS_ERR_BAD_HANDLE);
    EXPECT_EQ(quorum_trackstop(bad), CS_ERR_BAD_HANDLE);
    EXPECT_EQ(quorum_dispatch(bad, CS_DISPATCH_ALL), CS_ERR_BAD_HANDLE);
    EXPECT_EQ(quorum_fd_get(bad, &fd), CS_ERR_BAD_HANDLE);
    EXPECT_EQ(quorum_context_set(bad, &log), CS_ERR_BAD_HANDLE);
    EXPECT_EQ(quorum_context_get(bad, &ctx), CS_ERR_BAD_HANDLE);
  }
  EXPECT_EQ(c_enum_args_without_handle(), 0);
  EXPECT_EQ(c.d.server(0).counters().malformed.load(), 0u);
}

// When the daemon goes, every call but finalize is CS_ERR_LIBRARY and the
// fd reports it, as corosync's clients see when corosync dies; a new
// handle needs a daemon again.
TEST(QuorumThroughDaemon, DaemonGoneIsLibraryError) {
  Cluster c(1);
  QuorumLog log;
  quorum_handle_t h = open_v1(c, 0, log);
  track(h);
  c.d.server(0).stop();
  int fd = -1;
  ASSERT_EQ(quorum_fd_get(h, &fd), CS_OK);
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 10'000), 1);
  int q = 0;
  EXPECT_EQ(quorum_getquorate(h, &q), CS_ERR_LIBRARY);
  EXPECT_EQ(quorum_trackstart(h, CS_TRACK_CHANGES), CS_ERR_LIBRARY);
  EXPECT_EQ(quorum_trackstop(h), CS_ERR_LIBRARY);
  EXPECT_EQ(quorum_dispatch(h, CS_DISPATCH_ALL), CS_ERR_LIBRARY);
  EXPECT_EQ(quorum_finalize(h), CS_OK);
  quorum_handle_t again = 0;
  EXPECT_EQ(quorum_initialize(&again, nullptr, nullptr), CS_ERR_LIBRARY);
}

// quorum_compat.c: every call, from C, as the embedded suite runs it on a
// simulated node (one node, one vote: quorate from the start).
TEST(QuorumThroughDaemon, TheCProgramRunsThroughTheDaemon) {
  Cluster c(1);
  c.use(0);
  EXPECT_EQ(quorum_compat_bad_handles(), 0);
  EXPECT_EQ(quorum_compat_session(1), 0);
  EXPECT_EQ(c.d.server(0).counters().accepted.load(), 2u);  // a connection per handle
}

}  // namespace
}  // namespace ringcast::daemon_test
