// The C++ API in client mode (RINGCAST_MODE=daemon) against the daemon's
// client server over simulated nodes: a Connection of each node joins,
// sends copied and zero-copy messages, sees one order and the other's
// views, and a close is PROCDOWN at the other; the Connection's accessors
// answer as the C calls do.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ringcast/ringcast.hpp"
#include "sim_daemons.hpp"

namespace ringcast::daemon_test {
namespace {

using namespace std::chrono_literals;

struct Seen {
  std::mutex m;
  std::vector<std::string> messages;
  std::vector<std::string> views;  // "members left joined [reason of the first left]"
  std::vector<std::uint32_t> ring_sizes;

  cpg::Callbacks callbacks() {
    cpg::Callbacks cb;
    cb.on_message = [this](const cpg::Message& msg) {
      std::lock_guard lock(m);
      messages.emplace_back(reinterpret_cast<const char*>(msg.bytes.data()), msg.bytes.size());
    };
    cb.on_view_change = [this](const cpg::ViewChange& v) {
      std::lock_guard lock(m);
      std::string line = std::to_string(v.members.size()) + " " + std::to_string(v.left.size()) +
                         " " + std::to_string(v.joined.size());
      if (!v.left.empty()) line += " reason " + std::to_string(static_cast<int>(v.left[0].reason));
      views.push_back(line);
    };
    cb.on_ring_change = [this](const cpg::RingChange& r) {
      std::lock_guard lock(m);
      ring_sizes.push_back(static_cast<std::uint32_t>(r.nodes.size()));
    };
    cb.initial_ring_change = true;
    return cb;
  }
  std::size_t count() {
    std::lock_guard lock(m);
    return messages.size();
  }
  bool saw_view(const std::string& prefix) {
    std::lock_guard lock(m);
    for (const auto& v : views)
      if (v.rfind(prefix, 0) == 0) return true;
    return false;
  }
};

cpg::Connection open_on(std::uint32_t node, Seen& seen) {
  ::setenv("RINGCAST_NODE_ID", std::to_string(node).c_str(), 1);
  auto c = cpg::Connection::open(seen.callbacks());
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? std::move(*c) : cpg::Connection();
}

template <class Done>
bool dispatch_until(cpg::Connection& a, cpg::Connection& b, Done done, std::chrono::seconds bound) {
  const auto end = std::chrono::steady_clock::now() + bound;
  while (!done() && std::chrono::steady_clock::now() < end) {
    (void)a.dispatch(cpg::DispatchMode::all);
    (void)b.dispatch(cpg::DispatchMode::all);
    std::this_thread::sleep_for(1ms);
  }
  return done();
}

void send_all(cpg::Connection& c, int who, int count) {
  for (int i = 0; i < count; ++i) {
    const std::string text = std::to_string(who) + ":" + std::to_string(i);
    cpg::Status s;
    if (i % 2 == 0) {
      auto buffer = c.allocate(text.size());
      ASSERT_TRUE(buffer.ok()) << buffer.status().message();
      std::memcpy(buffer->data(), text.data(), text.size());
      while ((s = c.send(cpg::Guarantee::agreed, *buffer, text.size())).code() == CS_ERR_TRY_AGAIN)
        (void)c.dispatch(cpg::DispatchMode::all);
      ASSERT_TRUE(s.ok()) << s.message();
      ASSERT_TRUE(buffer->wait_sent().ok());
      EXPECT_FALSE(buffer->in_flight());
    } else {
      while ((s = c.send(cpg::Guarantee::agreed, std::as_bytes(std::span(text)))).code() ==
             CS_ERR_TRY_AGAIN)
        (void)c.dispatch(cpg::DispatchMode::all);
      ASSERT_TRUE(s.ok()) << s.message();
    }
  }
}

TEST(ConnectionThroughDaemon, TwoConnectionsOnTwoNodes) {
  SimDaemons d({});
  d.use_for_programs();
  Seen sa, sb;
  cpg::Connection a = open_on(1, sa), b = open_on(2, sb);
  ASSERT_TRUE(a.is_open() && b.is_open());
  EXPECT_NE(a.handle(), b.handle());
  EXPECT_EQ(a.local_node(), 1u);
  EXPECT_EQ(b.local_node(), 2u);
  EXPECT_GE(a.fd(), 0);
  EXPECT_EQ(a.max_message_bytes(), 64u << 10);
  EXPECT_FALSE(a.flow_control_enabled());

  cpg::Status s;
  while ((s = a.join("through")).code() == CS_ERR_TRY_AGAIN)
    std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(dispatch_until(
      a, b, [&] { return sa.saw_view("1 0 1"); }, 10s));
  while ((s = b.join("through")).code() == CS_ERR_TRY_AGAIN)
    std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(dispatch_until(
      a, b, [&] { return sa.saw_view("2 0 1") && sb.saw_view("2 0 1"); }, 10s));
  {
    std::lock_guard lock(sb.m);
    ASSERT_FALSE(sb.ring_sizes.empty());  // the initial ring change
    EXPECT_EQ(sb.ring_sizes.front(), 2u);
  }
  auto members = b.members("through");
  ASSERT_TRUE(members.ok()) << members.status().message();
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].node, 1u);
  EXPECT_EQ((*members)[1].node, 2u);
  EXPECT_EQ(a.join(std::string(200, 'x')).code(), CS_ERR_NAME_TOO_LONG);

  constexpr int kEach = 60;
  std::thread tb([&] { send_all(b, 2, kEach); });
  send_all(a, 1, kEach);
  tb.join();
  ASSERT_TRUE(dispatch_until(
      a, b, [&] { return sa.count() == 2u * kEach && sb.count() == 2u * kEach; }, 30s))
      << sa.count() << " " << sb.count();
  {
    std::lock_guard la(sa.m), lb(sb.m);
    EXPECT_EQ(sa.messages, sb.messages);
  }
  const cpg::Counters counted = a.counters();
  EXPECT_EQ(counted.zero_copy_sends, std::uint64_t(kEach / 2));
  // A value Guarantee or DispatchMode can hold that is none of theirs.
  const std::string text = "never sent";
  EXPECT_EQ(a.send(static_cast<cpg::Guarantee>(9), std::as_bytes(std::span(text))).code(),
            CS_ERR_INVALID_PARAM);
  EXPECT_EQ(a.dispatch(static_cast<cpg::DispatchMode>(7)).code(), CS_ERR_INVALID_PARAM);
  ASSERT_TRUE(dispatch_until(
      a, b, [&] { return sb.count() == 2u * kEach; }, 1s));

  ASSERT_TRUE(a.close().ok());
  EXPECT_FALSE(a.is_open());
  EXPECT_EQ(a.join("through").code(), CS_ERR_BAD_HANDLE);
  const std::string procdown = "1 1 0 reason " + std::to_string(CPG_REASON_PROCDOWN);
  EXPECT_TRUE(dispatch_until(
      a, b, [&] { return sb.saw_view(procdown); }, 10s));
}

}  // namespace
}  // namespace ringcast::daemon_test
