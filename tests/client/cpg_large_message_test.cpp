// Messages above the atomic size over a simulated cluster: cut into fragments
// by the sender and delivered whole, once, at the place of the last fragment,
// by every member or by none (groups/fragment_assembly.hpp), also when the
// sender dies or the configuration changes in the middle of one.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "base/crc32c.hpp"
#include "cpg_sim_cluster.hpp"
#include "delivery_log.hpp"
#include "groups/fragment.hpp"
#include "ringcast/counters.h"

namespace ringcast::cpg_test {
namespace {

cpg_handle_t open_on(SimNodes& nodes, std::size_t i, Deliveries& d) {
  return open_recording(nodes, i, d, "big");
}

// Until every handle's node has every handle's join of "big" (the table a
// delivery is routed by): a message sent earlier may be ordered before a join.
void wait_group_of(const std::vector<cpg_handle_t>& hs) {
  const cpg_name g = name_of("big");
  const auto all_in = [&] {
    for (cpg_handle_t h : hs) {
      cpg_address members[CPG_MEMBERS_MAX];
      int n = 0;
      if (cpg_membership_get(h, const_cast<cpg_name*>(&g), members, &n) != CS_OK) return false;
      if (n != static_cast<int>(hs.size())) return false;
    }
    return true;
  };
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!all_in() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(all_in());
}

std::vector<std::byte> pattern(std::size_t bytes, std::uint32_t seed) {
  std::vector<std::byte> out(bytes);
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < bytes; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<std::byte>(x >> 24);
  }
  return out;
}

cs_error_t send_bytes(cpg_handle_t h, std::span<const std::byte> bytes) {
  // Two pieces, cut off the fragment boundaries.
  const std::size_t cut = bytes.size() / 3;
  iovec iov[2] = {{const_cast<std::byte*>(bytes.data()), cut},
                  {const_cast<std::byte*>(bytes.data()) + cut, bytes.size() - cut}};
  return cpg_mcast_joined(h, CPG_TYPE_AGREED, iov, 2);
}

// Dispatches every handle on a thread of its own until stopped, as the
// applications of a cluster do while one of them sends.
class Dispatchers {
 public:
  explicit Dispatchers(std::vector<cpg_handle_t> handles) {
    thread_ = std::thread([this, hs = std::move(handles)] {
      while (!stop_.load()) {
        for (cpg_handle_t h : hs)
          cpg_dispatch(h, CS_DISPATCH_ALL);
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  ~Dispatchers() {
    stop_.store(true);
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

bool wait_for(const std::function<bool()>& pred,
              std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

ringcast_counters counters_of(cpg_handle_t h) {
  ringcast_counters c{};
  c.size = sizeof c;
  EXPECT_EQ(ringcast_counters_get(h, &c), CS_OK);
  return c;
}

TEST(CpgLargeMessages, ArriveWholeInOneOrderWithSmallOnesBetweenTheirFragments) {
  SimNodes nodes(3);
  std::vector<Deliveries> d(3);
  std::vector<cpg_handle_t> hs;
  for (std::size_t i = 0; i < 3; ++i)
    hs.push_back(open_on(nodes, i, d[i]));
  wait_group_of(hs);
  uint32_t atomic = 0;
  ASSERT_EQ(cpg_max_atomic_msgsize_get(hs[0], &atomic), CS_OK);
  EXPECT_EQ(atomic, small_ring().max_message_bytes);  // keeps its meaning
  const auto big = pattern(5 * 1024 * 1024 + 123, 1);
  const auto second = pattern(atomic + 1, 2);  // the smallest message in fragments
  std::vector<std::string> expected_large = {describe(nodes.node_id(0), big),
                                             describe(nodes.node_id(0), second)};
  {
    Dispatchers dispatch(hs);
    // Node 1 streams small messages while node 0 sends the large ones.
    std::thread small([&] {
      for (int k = 0; k < 200; ++k) {
        const std::string text = "small-" + std::to_string(k);
        while (send_text(hs[1], text) == CS_ERR_TRY_AGAIN)
          std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    });
    EXPECT_EQ(send_bytes(hs[0], big), CS_OK);
    EXPECT_EQ(send_bytes(hs[0], second), CS_OK);
    small.join();
    ASSERT_TRUE(wait_for([&] {
      return d[0].size() == 202 && d[1].size() == 202 && d[2].size() == 202;
    })) << d[0].size()
        << " " << d[1].size() << " " << d[2].size();
  }
  const auto order = d[0].copy();
  EXPECT_EQ(d[1].copy(), order);
  EXPECT_EQ(d[2].copy(), order);
  std::vector<std::string> large;
  for (const auto& line : order)
    if (line.rfind(std::to_string(nodes.node_id(0)) + " ", 0) == 0) large.push_back(line);
  EXPECT_EQ(large, expected_large);
  const ringcast_counters c0 = counters_of(hs[0]);
  EXPECT_EQ(c0.large_messages_sent, 2u);
  EXPECT_EQ(c0.large_messages_delivered, 2u);
  EXPECT_EQ(c0.large_messages_abandoned, 0u);
  EXPECT_EQ(c0.bytes_copied_on_assembly, big.size() + second.size());
  const ringcast_counters c2 = counters_of(hs[2]);
  EXPECT_EQ(c2.large_messages_sent, 0u);
  EXPECT_EQ(c2.large_messages_delivered, 2u);
  for (cpg_handle_t h : hs)
    cpg_finalize(h);
}

TEST(CpgLargeMessages, AboveTheConfiguredBoundAreRefused) {
  SimNodes nodes(1);
  Deliveries d;
  cpg_handle_t h = open_on(nodes, 0, d);
  const std::uint64_t bound = nodes.node(0).max_fragmented_bytes();
  EXPECT_EQ(bound, std::uint64_t{64} << 20);
  std::vector<std::byte> one(1);
  iovec iov[2] = {{one.data(), static_cast<size_t>(bound)}, {one.data(), 1}};
  // Refused on the sizes alone, before any byte is read.
  EXPECT_EQ(cpg_mcast_joined(h, CPG_TYPE_AGREED, iov, 2), CS_ERR_TOO_BIG);
  void* buffer = nullptr;
  EXPECT_EQ(cpg_zcb_alloc(h, bound + 1, &buffer), CS_ERR_TOO_BIG);
  cpg_finalize(h);
}

TEST(CpgLargeMessages, ZeroCopyBuffersOfAnySizeUpToTheBound) {
  SimNodes nodes(2);
  std::vector<Deliveries> d(2);
  std::vector<cpg_handle_t> hs = {open_on(nodes, 0, d[0]), open_on(nodes, 1, d[1])};
  wait_group_of(hs);
  const auto big = pattern(3 * small_ring().max_message_bytes + 5, 3);
  void* buffer = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(hs[1], big.size(), &buffer), CS_OK);
  std::memcpy(buffer, big.data(), big.size());
  {
    Dispatchers dispatch(hs);
    EXPECT_EQ(cpg_zcb_mcast_joined(hs[1], CPG_TYPE_SAFE, buffer, big.size()), CS_OK);
    ASSERT_TRUE(wait_for([&] { return d[0].size() == 1 && d[1].size() == 1; }));
  }
  EXPECT_EQ(d[0].copy(), std::vector<std::string>{describe(nodes.node_id(1), big)});
  EXPECT_EQ(d[1].copy(), d[0].copy());
  EXPECT_EQ(cpg_zcb_free(hs[1], buffer), CS_OK);
  for (cpg_handle_t h : hs)
    cpg_finalize(h);
}

// Fragments as a sender would submit them, straight to node i's transport:
// a message in the middle of which the test changes the cluster.
class ManualSender {
 public:
  ManualSender(SimNodes& nodes, std::size_t i, std::uint64_t id, std::span<const std::byte> message)
      : node_(nodes.node(i)), id_(id), message_(message) {}

  // The fragments up to (not including) byte `end`, from where the last call stopped.
  void send_until(std::uint64_t end) {
    const std::size_t slice_max = node_.max_message_bytes() - groups::kFragmentHeaderBytes;
    while (offset_ < end) {
      const std::size_t slice = std::min<std::uint64_t>(slice_max, message_.size() - offset_);
      std::array<std::byte, groups::kFragmentHeaderBytes> header;
      groups::encode_fragment_header({groups::group_key("big"), id_, message_.size(), offset_},
                                     header);
      const std::array<std::span<const std::byte>, 2> parts = {std::span<const std::byte>(header),
                                                               message_.subspan(offset_, slice)};
      runtime::OutgoingTransportMessage m;
      m.pieces = parts;
      m.group = groups::kFragmentGroup;
      m.sender_pid = node_.pid();
      for (;;) {
        ringcast::Status s = node_.transport().submit(m);
        if (s.ok()) break;
        ASSERT_EQ(s.error().code, Errc::try_again) << s.error().message();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      offset_ += slice;
    }
  }

 private:
  client::Node& node_;
  std::uint64_t id_;
  std::span<const std::byte> message_;
  std::uint64_t offset_ = 0;
};

std::uint32_t ring_members(SimNodes& nodes, std::size_t i) {
  return static_cast<std::uint32_t>(nodes.node(i).transport().status().members.size());
}

TEST(CpgLargeMessages, ASenderThatDiesMidMessageIsDeliveredNowhere) {
  SimNodes nodes(3, small_ring(), 7, fast_membership());
  std::vector<Deliveries> d(3);
  std::vector<cpg_handle_t> hs;
  for (std::size_t i = 0; i < 3; ++i)
    hs.push_back(open_on(nodes, i, d[i]));
  wait_group_of(hs);
  const auto big = pattern(4 * small_ring().max_message_bytes, 4);
  {
    Dispatchers dispatch({hs[0], hs[1]});
    const auto before0 = counters_of(hs[0]).records_delivered;
    const auto before1 = counters_of(hs[1]).records_delivered;
    ManualSender dying(nodes, 2, 1, big);
    dying.send_until(big.size() / 2);
    // Both survivors hold its first two fragments before it dies.
    ASSERT_TRUE(wait_for([&] {
      return counters_of(hs[0]).records_delivered >= before0 + 2 &&
             counters_of(hs[1]).records_delivered >= before1 + 2;
    }));
    nodes.crash(2);
    ASSERT_TRUE(
        wait_for([&] { return ring_members(nodes, 0) == 2 && ring_members(nodes, 1) == 2; }));
    // The stream goes on: a later large message of a survivor arrives.
    const auto after = pattern(2 * small_ring().max_message_bytes + 1, 5);
    EXPECT_EQ(send_bytes(hs[0], after), CS_OK);
    ASSERT_TRUE(wait_for([&] { return d[0].size() == 1 && d[1].size() == 1; }));
    EXPECT_EQ(d[0].copy(), std::vector<std::string>{describe(nodes.node_id(0), after)});
    EXPECT_EQ(d[1].copy(), d[0].copy());
  }
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(counters_of(hs[i]).large_messages_abandoned, 1u) << "node " << i;
  for (cpg_handle_t h : hs)
    cpg_finalize(h);
}

// The configuration loses a member that is not the sender: every member of
// the new one had the message's earlier fragments, so it is delivered.
TEST(CpgLargeMessages, AMessageGoesOnWhenOnlyOthersLeave) {
  SimNodes nodes(3, small_ring(), 8, fast_membership());
  std::vector<Deliveries> d(3);
  std::vector<cpg_handle_t> hs;
  for (std::size_t i = 0; i < 3; ++i)
    hs.push_back(open_on(nodes, i, d[i]));
  wait_group_of(hs);
  const auto big = pattern(4 * small_ring().max_message_bytes, 6);
  {
    Dispatchers dispatch({hs[0], hs[1]});
    ManualSender sender(nodes, 0, 1, big);
    sender.send_until(big.size() / 2);
    nodes.crash(2);
    ASSERT_TRUE(
        wait_for([&] { return ring_members(nodes, 0) == 2 && ring_members(nodes, 1) == 2; }));
    sender.send_until(big.size());
    ASSERT_TRUE(wait_for([&] { return d[0].size() == 1 && d[1].size() == 1; }));
  }
  EXPECT_EQ(d[0].copy(), std::vector<std::string>{describe(nodes.node_id(0), big)});
  EXPECT_EQ(d[1].copy(), d[0].copy());
  for (cpg_handle_t h : hs)
    cpg_finalize(h);
}

// A configuration that brings nodes in while a message is in fragments: the
// new members lack its beginning, so nobody delivers it; the next one is
// delivered everywhere.
TEST(CpgLargeMessages, AMergeInTheMiddleGivesTheMessageUpEverywhere) {
  SimNodes nodes(3, small_ring(), 9, fast_membership());
  std::vector<Deliveries> d(3);
  std::vector<cpg_handle_t> hs;
  for (std::size_t i = 0; i < 3; ++i)
    hs.push_back(open_on(nodes, i, d[i]));
  wait_group_of(hs);
  const auto big = pattern(4 * small_ring().max_message_bytes, 7);
  {
    Dispatchers dispatch(hs);
    nodes.partition({0});
    ASSERT_TRUE(
        wait_for([&] { return ring_members(nodes, 0) == 1 && ring_members(nodes, 1) == 2; }));
    const auto before = counters_of(hs[2]).records_delivered;
    ManualSender sender(nodes, 1, 1, big);
    sender.send_until(big.size() / 2);
    ASSERT_TRUE(wait_for([&] { return counters_of(hs[2]).records_delivered >= before + 2; }));
    nodes.heal();
    ASSERT_TRUE(wait_for([&] {
      return ring_members(nodes, 0) == 3 && ring_members(nodes, 1) == 3 &&
             ring_members(nodes, 2) == 3;
    }));
    sender.send_until(big.size());
    // A message sent the normal way after the merge (retried over the sync).
    const auto after = pattern(2 * small_ring().max_message_bytes + 9, 8);
    cs_error_t e = CS_ERR_TRY_AGAIN;
    ASSERT_TRUE(wait_for([&] { return (e = send_bytes(hs[1], after)) != CS_ERR_TRY_AGAIN; }));
    EXPECT_EQ(e, CS_OK);
    ASSERT_TRUE(wait_for([&] { return d[0].size() >= 1 && d[1].size() >= 1 && d[2].size() >= 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (std::size_t i = 0; i < 3; ++i)
      EXPECT_EQ(d[i].copy(), std::vector<std::string>{describe(nodes.node_id(1), after)})
          << "node " << i;
  }
  for (cpg_handle_t h : hs)
    cpg_finalize(h);
}

// The size the configuration allows at most by default ten times over: one
// message of 1 GiB between two nodes, byte-exact.
TEST(CpgLargeMessages, OneGibibyte) {
  ring::RingConfig ring = small_ring();
  ring.log_bytes = 64u << 20;
  ring.max_message_bytes = 16u << 20;
  ring.send_buffer_bytes = 32u << 20;
  constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
  SimNodes nodes(2, ring, 1, {},
                 [&](std::size_t, client::Node& n) { n.set_max_fragmented_bytes(kGiB); });
  std::vector<Deliveries> d(2);
  std::vector<cpg_handle_t> hs = {open_on(nodes, 0, d[0]), open_on(nodes, 1, d[1])};
  wait_group_of(hs);
  const auto big = pattern(kGiB, 10);
  {
    Dispatchers dispatch(hs);
    EXPECT_EQ(send_bytes(hs[0], big), CS_OK);
    ASSERT_TRUE(
        wait_for([&] { return d[0].size() == 1 && d[1].size() == 1; }, std::chrono::seconds(240)));
  }
  EXPECT_EQ(d[0].copy(), std::vector<std::string>{describe(nodes.node_id(0), big)});
  EXPECT_EQ(d[1].copy(), d[0].copy());
  EXPECT_EQ(counters_of(hs[1]).bytes_copied_on_assembly, kGiB);
  for (cpg_handle_t h : hs)
    cpg_finalize(h);
}

}  // namespace
}  // namespace ringcast::cpg_test
