// One client::Node serving the handles of several processes (as a daemon
// serves the processes of its host): each session names its own pid, and two
// pids of one node are two members of a group. Every local member gets every
// message of its group in the one order; a closed handle is PROCDOWN for its
// pid only, without a ring change; a merge announces every pid's groups; two
// handles of the same pid still cannot share a group.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "client/session.hpp"
#include "cpg_sim_cluster.hpp"

namespace ringcast::cpg_test {
namespace {

using client::Session;

constexpr std::uint32_t kPidA = 4101;
constexpr std::uint32_t kPidB = 4102;

std::string member_text(const cpg::Member& m) {
  return std::to_string(m.node) + "/" + std::to_string(m.pid);
}

std::string members_text(std::span<const cpg::Member> members) {
  std::string s = "[";
  for (std::size_t i = 0; i < members.size(); ++i)
    s += (i ? " " : "") + member_text(members[i]);
  return s + "]";
}

std::string changes_text(std::span<const cpg::MemberChange> changes) {
  std::string s = "[";
  for (std::size_t i = 0; i < changes.size(); ++i)
    s += (i ? " " : "") + member_text(changes[i].member) + "/" +
         std::to_string(static_cast<int>(changes[i].reason));
  return s + "]";
}

// What a session's callbacks saw: "msg <group> <node>/<pid> <payload>" (the
// payload's first 16 bytes and its size for large ones) and
// "view <group> members=[node/pid ...] left=[node/pid/reason ...] joined=[...]".
struct Seen {
  std::mutex mutex;
  std::vector<std::string> messages;
  std::vector<std::string> views;
  std::vector<std::string> rings;

  std::vector<std::string> messages_copy() {
    std::lock_guard lock(mutex);
    return messages;
  }
  std::vector<std::string> views_copy() {
    std::lock_guard lock(mutex);
    return views;
  }
  std::size_t message_count() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
  std::size_t views_containing(const std::string& text) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count_if(views.begin(), views.end(), [&](const auto& v) {
      return v.find(text) != std::string::npos;
    }));
  }
};

std::string payload_text(std::span<const std::byte> bytes) {
  const auto* p = reinterpret_cast<const char*>(bytes.data());
  if (bytes.size() <= 64) return std::string(p, bytes.size());
  return std::string(p, 16) + "...(" + std::to_string(bytes.size()) + ")";
}

cpg::Callbacks recording(Seen& seen) {
  cpg::Callbacks c;
  c.on_message = [&seen](const cpg::Message& m) {
    std::string line =
        "msg " + std::string(m.group) + " " + member_text(m.sender) + " " + payload_text(m.bytes);
    std::lock_guard lock(seen.mutex);
    seen.messages.push_back(std::move(line));
  };
  c.on_view_change = [&seen](const cpg::ViewChange& v) {
    std::string line = "view " + std::string(v.group) + " members=" + members_text(v.members) +
                       " left=" + changes_text(v.left) + " joined=" + changes_text(v.joined);
    std::lock_guard lock(seen.mutex);
    seen.views.push_back(std::move(line));
  };
  c.on_ring_change = [&seen](const cpg::RingChange& r) {
    std::lock_guard lock(seen.mutex);
    seen.rings.push_back(std::to_string(r.representative) + "." + std::to_string(r.seq));
  };
  return c;
}

struct Handle {
  std::shared_ptr<Session> session;
  std::unique_ptr<Seen> seen = std::make_unique<Seen>();
  std::uint32_t node = 0;
  std::uint32_t pid = 0;
  std::string me() const { return std::to_string(node) + "/" + std::to_string(pid); }
};

// A handle on member i, of process `pid` (0: the node's own).
Handle open_as(SimNodes& nodes, std::size_t i, std::uint32_t pid = 0) {
  Handle h;
  auto node = nodes.node(i).shared_from_this();
  h.node = nodes.node_id(i);
  h.pid = pid == 0 ? node->pid() : pid;
  h.seen = std::make_unique<Seen>();
  auto s = pid == 0 ? Session::open(node, recording(*h.seen))
                    : Session::open(node, recording(*h.seen), pid);
  EXPECT_TRUE(s.ok());
  h.session = *s;
  return h;
}

bool dispatch_sessions_until(std::vector<Handle*> hs, const std::function<bool()>& pred,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    for (Handle* h : hs)
      (void)h->session->dispatch(cpg::DispatchMode::all);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Joins each in turn; every handle joined so far gets the view of a join
// before the next one joins, so no view is still on its way.
::testing::AssertionResult join_sessions_in_order(const std::vector<Handle*>& hs,
                                                  const std::string& group,
                                                  const std::vector<Handle*>& drain) {
  for (std::size_t i = 0; i < hs.size(); ++i) {
    Handle* h = hs[i];
    if (cpg::Status s = h->session->join(group); !s.ok())
      return ::testing::AssertionFailure() << "join " << h->me() << ": " << s.message();
    const std::string own = "joined=[" + h->me() + "/1]";
    const auto joined_so_far = std::span(hs).first(i + 1);
    if (!dispatch_sessions_until(drain, [&] {
          return std::all_of(joined_so_far.begin(), joined_so_far.end(),
                             [&](Handle* g) { return g->seen->views_containing(own) == 1; });
        }))
      return ::testing::AssertionFailure() << "no join view of " << h->me() << " in " << group;
  }
  return ::testing::AssertionSuccess();
}

cpg::Status send_retry(Handle& h, std::string_view text, const std::vector<Handle*>& drain) {
  const std::array<std::span<const std::byte>, 1> pieces = {std::as_bytes(std::span(text))};
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    cpg::Status s = h.session->send(cpg::Guarantee::agreed, pieces);
    // The handles of `drain` dispatch after every send, as live
    // applications do, so none of them holds the log long enough to be
    // evicted.
    for (Handle* d : drain)
      (void)d->session->dispatch(cpg::DispatchMode::all);
    if (s.code() != CS_ERR_TRY_AGAIN || std::chrono::steady_clock::now() > end) return s;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

std::vector<std::string> members_at(SimNodes& nodes, std::size_t i, const std::string& group) {
  std::vector<std::string> out;
  for (const auto& m : nodes.node(i).members_of(group))
    out.push_back(member_text(m));
  return out;
}

bool all_have(const std::vector<Handle*>& hs, std::size_t messages) {
  return std::all_of(hs.begin(), hs.end(),
                     [&](Handle* h) { return h->seen->message_count() >= messages; });
}

TEST(CpgPids, TwoPidsOfOneNodeAreTwoMembersThatSeeOneOrder) {
  SimNodes nodes(2);
  Handle a = open_as(nodes, 0, kPidA);
  Handle b = open_as(nodes, 0, kPidB);
  Handle c = open_as(nodes, 1);
  const std::vector<Handle*> hs = {&a, &b, &c};
  ASSERT_TRUE(join_sessions_in_order(hs, "g", hs));
  const std::vector<std::string> expected = {a.me(), b.me(), c.me()};
  EXPECT_EQ(members_at(nodes, 0, "g"), expected);
  EXPECT_EQ(members_at(nodes, 1, "g"), expected);
  const std::string members = "members=[" + a.me() + " " + b.me() + " " + c.me() + "]";
  for (Handle* h : hs)
    EXPECT_EQ(h->seen->views_containing(members), 1u) << h->me();

  for (int k = 0; k < 10; ++k) {
    for (Handle* h : hs)
      ASSERT_TRUE(send_retry(*h, "m" + std::to_string(k) + "-" + h->me(), hs).ok());
  }
  ASSERT_TRUE(dispatch_sessions_until(hs, [&] { return all_have(hs, 30); }));
  const std::vector<std::string> order = a.seen->messages_copy();
  ASSERT_EQ(order.size(), 30u);
  EXPECT_EQ(b.seen->messages_copy(), order);
  EXPECT_EQ(c.seen->messages_copy(), order);
  // Each message names its own sender's pid.
  for (Handle* h : hs) {
    const std::string line = "msg g " + h->me() + " m9-" + h->me();
    EXPECT_NE(std::find(order.begin(), order.end(), line), order.end()) << line;
  }
}

TEST(CpgPids, ClosingOneHandleIsProcDownForItsPidOnlyWithoutARingChange) {
  SimNodes nodes(2);
  Handle a = open_as(nodes, 0, kPidA);
  Handle b = open_as(nodes, 0, kPidB);
  Handle c = open_as(nodes, 1);
  std::vector<Handle*> hs = {&a, &b, &c};
  ASSERT_TRUE(join_sessions_in_order(hs, "g", hs));
  const client::RingEvent ring = nodes.node(1).ring_event();
  ASSERT_TRUE(b.session->close().ok());
  hs = {&a, &c};
  const std::string procdown = "members=[" + a.me() + " " + c.me() + "] left=[" + b.me() + "/" +
                               std::to_string(CPG_REASON_PROCDOWN) + "] joined=[]";
  ASSERT_TRUE(dispatch_sessions_until(hs, [&] {
    return a.seen->views_containing(procdown) == 1 && c.seen->views_containing(procdown) == 1;
  }));
  EXPECT_EQ(members_at(nodes, 0, "g"), (std::vector<std::string>{a.me(), c.me()}));
  EXPECT_EQ(members_at(nodes, 1, "g"), (std::vector<std::string>{a.me(), c.me()}));
  // The other pid of that node stays in the group and gets its messages.
  ASSERT_TRUE(send_retry(c, "after", hs).ok());
  ASSERT_TRUE(dispatch_sessions_until(hs, [&] { return all_have(hs, 1); }));
  EXPECT_EQ(a.seen->messages_copy(), std::vector<std::string>{"msg g " + c.me() + " after"});
  const client::RingEvent now = nodes.node(1).ring_event();
  EXPECT_EQ(now.representative, ring.representative);
  EXPECT_EQ(now.seq, ring.seq);
  EXPECT_EQ(b.seen->views_containing(procdown), 0u);
}

TEST(CpgPids, TwoPidsInDifferentGroupsGetOnlyTheirGroupsMessages) {
  SimNodes nodes(2);
  Handle a = open_as(nodes, 0, kPidA);
  Handle b = open_as(nodes, 0, kPidB);
  Handle c = open_as(nodes, 1);
  Handle d = open_as(nodes, 1, kPidB);
  const std::vector<Handle*> hs = {&a, &b, &c, &d};
  ASSERT_TRUE(join_sessions_in_order({&a, &c}, "g1", hs));
  ASSERT_TRUE(join_sessions_in_order({&b, &d}, "g2", hs));
  ASSERT_TRUE(send_retry(a, "to-g1", hs).ok());
  ASSERT_TRUE(send_retry(b, "to-g2", hs).ok());
  ASSERT_TRUE(dispatch_sessions_until(hs, [&] { return all_have(hs, 1); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (Handle* h : hs)
    (void)h->session->dispatch(cpg::DispatchMode::all);
  const std::vector<std::string> g1 = {"msg g1 " + a.me() + " to-g1"};
  const std::vector<std::string> g2 = {"msg g2 " + b.me() + " to-g2"};
  EXPECT_EQ(a.seen->messages_copy(), g1);
  EXPECT_EQ(c.seen->messages_copy(), g1);
  EXPECT_EQ(b.seen->messages_copy(), g2);
  EXPECT_EQ(d.seen->messages_copy(), g2);
  EXPECT_EQ(members_at(nodes, 0, "g2"), (std::vector<std::string>{b.me(), d.me()}));
}

TEST(CpgPids, TwoHandlesOfOnePidStillCannotShareAGroup) {
  SimNodes nodes(1);
  Handle a = open_as(nodes, 0, kPidA);
  Handle a2 = open_as(nodes, 0, kPidA);
  Handle b = open_as(nodes, 0, kPidB);
  const std::vector<Handle*> hs = {&a, &a2, &b};
  ASSERT_TRUE(join_sessions_in_order({&a}, "g", hs));
  EXPECT_EQ(a2.session->join("g").code(), CS_ERR_EXIST);
  ASSERT_TRUE(join_sessions_in_order({&b}, "g", hs));
  // The same pid may be in another group with its other handle.
  ASSERT_TRUE(join_sessions_in_order({&a2}, "h", hs));
  EXPECT_EQ(members_at(nodes, 0, "g"), (std::vector<std::string>{a.me(), b.me()}));
  EXPECT_EQ(members_at(nodes, 0, "h"), std::vector<std::string>{a2.me()});
}

// Zero-copy sends (read from the buffer, and copied below the crossover)
// name the sending handle's pid too.
TEST(CpgPids, ZeroCopySendsNameTheirPid) {
  SimNodes nodes(2);
  Handle a = open_as(nodes, 0, kPidA);
  Handle b = open_as(nodes, 0, kPidB);
  Handle c = open_as(nodes, 1);
  const std::vector<Handle*> hs = {&a, &b, &c};
  ASSERT_TRUE(join_sessions_in_order(hs, "g", hs));
  for (std::size_t bytes : {std::size_t{100}, std::size_t{20000}}) {
    auto buffer = b.session->zcb_alloc(bytes);
    ASSERT_TRUE(buffer.ok());
    std::memset(*buffer, 'z', bytes);
    ASSERT_TRUE(b.session->send_zero_copy(cpg::Guarantee::agreed, *buffer, bytes).ok());
    ASSERT_TRUE(nodes.node(0).zcb_wait(*buffer).ok());
    ASSERT_TRUE(nodes.node(0).zcb_free(*buffer).ok());
  }
  ASSERT_TRUE(dispatch_sessions_until(hs, [&] { return all_have(hs, 2); }));
  const std::vector<std::string> expected = {"msg g " + b.me() + " zzzzzzzzzzzzzzzz...(100)",
                                             "msg g " + b.me() + " zzzzzzzzzzzzzzzz...(20000)"};
  for (Handle* h : hs) {
    EXPECT_EQ(h->seen->messages_copy(), expected) << h->me();
  }
  EXPECT_EQ(nodes.node(0).counters().zero_copy_bytes_from_buffer, 20000u);
}

// One pid's handle stops dispatching: it alone is evicted (PROCDOWN for its
// pid), the other pid of its node goes on, and the pid may join again.
TEST(CpgPids, AnEvictedHandleIsProcDownForItsPidOnly) {
  SimNodes nodes(2);
  client::EvictionLimits limits;
  limits.max_bytes = 128u << 10;
  limits.max_age = std::chrono::milliseconds(200);
  for (std::size_t i = 0; i < 2; ++i)
    nodes.node(i).set_eviction_limits(limits);
  Handle a = open_as(nodes, 0, kPidA);
  Handle b = open_as(nodes, 0, kPidB);
  Handle c = open_as(nodes, 1);
  ASSERT_TRUE(join_sessions_in_order({&a, &b, &c}, "g", {&a, &b, &c}));
  // From here on b never dispatches: 3 MiB through a 1 MiB log.
  const std::vector<Handle*> live = {&a, &c};
  const std::string text(16u << 10, 'e');
  for (int k = 0; k < 192; ++k)
    ASSERT_TRUE(send_retry(c, text, live).ok()) << "message " << k;
  const std::string procdown = "members=[" + a.me() + " " + c.me() + "] left=[" + b.me() + "/" +
                               std::to_string(CPG_REASON_PROCDOWN) + "]";
  ASSERT_TRUE(dispatch_sessions_until(live, [&] {
    return all_have(live, 192) && a.seen->views_containing(procdown) == 1 &&
           c.seen->views_containing(procdown) == 1;
  }));
  EXPECT_TRUE(b.session->evicted());
  EXPECT_EQ(nodes.node(0).counters().handles_evicted, 1u);
  EXPECT_EQ(members_at(nodes, 1, "g"), (std::vector<std::string>{a.me(), c.me()}));
  ASSERT_TRUE(b.session->close().ok());
  Handle again = open_as(nodes, 0, kPidB);
  const std::vector<Handle*> hs = {&a, &c, &again};
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  cpg::Status joined;
  do {
    joined = again.session->join("g");
    for (Handle* h : hs)
      (void)h->session->dispatch(cpg::DispatchMode::all);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  } while (joined.code() == CS_ERR_TRY_AGAIN && std::chrono::steady_clock::now() < end);
  ASSERT_TRUE(joined.ok()) << joined.message();
  ASSERT_TRUE(dispatch_sessions_until(hs, [&] {
    return members_at(nodes, 1, "g") == std::vector<std::string>{a.me(), c.me(), again.me()};
  }));
}

// Large messages of two pids at once: every member gets both whole, in one
// order (the local members share each assembled copy).
TEST(CpgPids, TwoPidsSendLargeMessagesAtOnce) {
  SimNodes nodes(2);
  Handle a = open_as(nodes, 0, kPidA);
  Handle b = open_as(nodes, 0, kPidB);
  Handle c = open_as(nodes, 1);
  const std::vector<Handle*> hs = {&a, &b, &c};
  ASSERT_TRUE(join_sessions_in_order(hs, "g", hs));
  const std::size_t big = 3 * small_ring().max_message_bytes + 100;
  std::atomic<bool> done{false};
  std::thread dispatcher([&] {
    while (!done.load()) {
      for (Handle* h : hs)
        (void)h->session->dispatch(cpg::DispatchMode::all);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  auto send_big = [&](Handle& h, char fill, int count) {
    std::vector<char> text(big, fill);
    for (int k = 0; k < count; ++k) {
      std::string prefix = h.me() + "-" + std::to_string(k) + "-";
      prefix.resize(16, '.');
      std::memcpy(text.data(), prefix.data(), prefix.size());
      ASSERT_TRUE(send_retry(h, std::string_view(text.data(), text.size()), {}).ok());
    }
  };
  std::thread sa([&] { send_big(a, 'a', 3); });
  std::thread sb([&] { send_big(b, 'b', 3); });
  sa.join();
  sb.join();
  const bool all = dispatch_sessions_until({}, [&] { return all_have(hs, 6); });
  done = true;
  dispatcher.join();
  ASSERT_TRUE(all);
  const std::vector<std::string> order = a.seen->messages_copy();
  EXPECT_EQ(b.seen->messages_copy(), order);
  EXPECT_EQ(c.seen->messages_copy(), order);
  const std::string size = "...(" + std::to_string(big) + ")";
  for (const std::string& line : order)
    EXPECT_NE(line.find(size), std::string::npos) << line;
  EXPECT_EQ(nodes.node(0).counters().large_messages_sent, 6u);
}

// A healed partition: the cut-off node announces every pid's groups, and
// the others see each pid come back (NODEUP) with its own pid.
TEST(CpgPids, AMergeAnnouncesTheGroupsOfEveryPid) {
  SimNodes nodes(3, small_ring(), 5, fast_membership());
  Handle a = open_as(nodes, 0, kPidA);
  Handle b = open_as(nodes, 0, kPidB);
  Handle e = open_as(nodes, 0, kPidB);
  Handle c = open_as(nodes, 2);
  std::vector<Handle*> hs = {&a, &b, &e, &c};
  ASSERT_TRUE(join_sessions_in_order({&a, &b, &c}, "g", hs));
  ASSERT_TRUE(join_sessions_in_order({&e}, "h", hs));
  nodes.partition({0});
  const std::string down = "left=[" + a.me() + "/3 " + b.me() + "/3]";
  ASSERT_TRUE(dispatch_sessions_until(hs, [&] { return c.seen->views_containing(down) == 1; }));
  EXPECT_TRUE(members_at(nodes, 2, "h").empty());
  nodes.heal();
  const std::string up_a = a.me() + "/4";
  const std::string up_b = b.me() + "/4";
  ASSERT_TRUE(dispatch_sessions_until(hs, [&] {
    return c.seen->views_containing(up_a) == 1 && c.seen->views_containing(up_b) == 1;
  }));
  ASSERT_TRUE(dispatch_sessions_until(hs, [&] {
    return members_at(nodes, 1, "h") == std::vector<std::string>{e.me()} &&
           members_at(nodes, 2, "g") == members_at(nodes, 0, "g") &&
           members_at(nodes, 1, "g") == members_at(nodes, 0, "g");
  }));
  EXPECT_EQ(members_at(nodes, 2, "g").size(), 3u);
  // One group again: both pids of node 0 get the other side's message.
  ASSERT_TRUE(send_retry(c, "merged", hs).ok());
  ASSERT_TRUE(dispatch_sessions_until(hs, [&] {
    auto got = [](Handle& h) {
      const auto m = h.seen->messages_copy();
      return !m.empty() && m.back().find(" merged") != std::string::npos;
    };
    return got(a) && got(b) && got(c);
  }));
}

}  // namespace
}  // namespace ringcast::cpg_test
