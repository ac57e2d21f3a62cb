// cpg_zcb_mcast_joined above the atomic size over a simulated cluster: every
// fragment is a record whose header is copied and whose slice the NIC reads
// from the zcb buffer; the buffer stays in flight until the last slice was
// read; every member puts the message together (and counts that copy); a
// sender that dies in the middle of one delivers it nowhere.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

#include "base/crc32c.hpp"
#include "cpg_sim_cluster.hpp"
#include "delivery_log.hpp"
#include "groups/fragment.hpp"
#include "ringcast/counters.h"

namespace ringcast::cpg_test {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

ring::RingConfig atomic_mib() {
  ring::RingConfig r = small_ring();
  r.max_message_bytes = kMiB;
  r.log_bytes = 8 * kMiB;
  r.send_buffer_bytes = 2 * kMiB;
  return r;
}

cpg_handle_t open_on(SimNodes& nodes, std::size_t i, Deliveries& d) {
  return open_recording(nodes, i, d, "zcbfrag");
}

bool wait_for(const std::function<bool()>& pred,
              std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Until every handle's node has every handle's join (a message sent earlier
// may be ordered before a join).
bool wait_group_of(const std::vector<cpg_handle_t>& hs) {
  const cpg_name g = name_of("zcbfrag");
  return wait_for([&] {
    for (cpg_handle_t h : hs) {
      cpg_address members[CPG_MEMBERS_MAX];
      int n = 0;
      if (cpg_membership_get(h, const_cast<cpg_name*>(&g), members, &n) != CS_OK) return false;
      if (n != static_cast<int>(hs.size())) return false;
    }
    return true;
  });
}

void fill_pattern(std::span<std::byte> out, std::uint32_t seed) {
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::byte& b : out) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::byte>(x >> 24);
  }
}

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

ringcast_counters counters_of(cpg_handle_t h) {
  ringcast_counters c{};
  c.size = sizeof c;
  EXPECT_EQ(ringcast_counters_get(h, &c), CS_OK);
  return c;
}

std::uint64_t fragments_of(std::uint64_t bytes) {
  const std::uint64_t slice = kMiB - groups::kFragmentHeaderBytes;
  return (bytes + slice - 1) / slice;
}

TEST(CpgZcbFragments, TenMebibytesAreReadFromTheBufferAndDeliveredWholeEverywhere) {
  SimNodes nodes(3, atomic_mib());
  std::vector<Deliveries> d(3);
  std::vector<cpg_handle_t> hs;
  for (std::size_t i = 0; i < 3; ++i)
    hs.push_back(open_on(nodes, i, d[i]));
  ASSERT_TRUE(wait_group_of(hs));
  constexpr std::size_t kBytes = 10 * kMiB;
  void* buf = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(hs[0], kBytes, &buf), CS_OK);
  const std::span<std::byte> bytes(static_cast<std::byte*>(buf), kBytes);
  fill_pattern(bytes, 12);
  const std::string expected = describe(nodes.node_id(0), bytes);
  std::vector<ringcast_counters> before;
  for (cpg_handle_t h : hs)
    before.push_back(counters_of(h));
  {
    Dispatchers dispatch(hs);
    ASSERT_EQ(cpg_zcb_mcast_joined(hs[0], CPG_TYPE_AGREED, buf, kBytes), CS_OK);
    EXPECT_FALSE(nodes.node(0).zcb_in_flight(buf)) << "the call returns once the NIC read it";
    ASSERT_TRUE(wait_for([&] { return d[1].size() == 1 && d[2].size() == 1; }));
  }
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(d[i].copy(), std::vector<std::string>{expected}) << "member " << i;
    const ringcast_counters after = counters_of(hs[i]);
    EXPECT_EQ(after.bytes_copied_on_assembly - before[i].bytes_copied_on_assembly, kBytes)
        << "member " << i << " put it together from its fragments";
  }
  const ringcast_counters after = counters_of(hs[0]);
  EXPECT_EQ(after.zero_copy_sends - before[0].zero_copy_sends, 1u);
  EXPECT_EQ(after.zero_copy_bytes_from_buffer - before[0].zero_copy_bytes_from_buffer, kBytes);
  EXPECT_EQ(after.zero_copy_bytes_copied, before[0].zero_copy_bytes_copied);
  EXPECT_EQ(after.bytes_copied_on_send - before[0].bytes_copied_on_send,
            fragments_of(kBytes) * groups::kFragmentHeaderBytes)
      << "only the fragment headers are copied on send";
  EXPECT_EQ(cpg_zcb_free(hs[0], buf), CS_OK);
  for (cpg_handle_t h : hs)
    cpg_finalize(h);
}

TEST(CpgZcbFragments, TheBufferIsInFlightUntilTheLastFragmentWasRead) {
  SimNodes nodes(2, atomic_mib());
  std::vector<Deliveries> d(2);
  std::vector<cpg_handle_t> hs = {open_on(nodes, 0, d[0]), open_on(nodes, 1, d[1])};
  ASSERT_TRUE(wait_group_of(hs));
  constexpr std::size_t kBytes = 3 * kMiB;
  void* buf = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(hs[0], kBytes, &buf), CS_OK);
  const std::span<std::byte> bytes(static_cast<std::byte*>(buf), kBytes);
  fill_pattern(bytes, 13);
  const std::string expected = describe(nodes.node_id(0), bytes);
  Dispatchers dispatch(hs);
  nodes.cluster().pause();
  std::atomic<bool> returned{false};
  cs_error_t result = CS_ERR_LIBRARY;
  std::thread sender([&] {
    result = cpg_zcb_mcast_joined(hs[0], CPG_TYPE_AGREED, buf, kBytes);
    returned = true;
  });
  // Every fragment is queued, none written: the NIC still has to read them.
  ASSERT_TRUE(wait_for([&] { return counters_of(hs[0]).zero_copy_bytes_from_buffer == kBytes; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(nodes.node(0).zcb_in_flight(buf));
  EXPECT_FALSE(returned.load());
  EXPECT_EQ(cpg_zcb_free(hs[0], buf), CS_OK) << "a free while in flight is deferred";
  nodes.cluster().resume();
  sender.join();
  EXPECT_EQ(result, CS_OK);
  EXPECT_FALSE(nodes.node(0).zcb_in_flight(buf)) << "every fragment was read";
  ASSERT_TRUE(wait_for([&] { return d[0].size() == 1 && d[1].size() == 1; }));
  EXPECT_EQ(d[1].copy(), std::vector<std::string>{expected})
      << "the bytes the NIC read are the ones written before the call";
  for (cpg_handle_t h : hs)
    cpg_finalize(h);
}

// A zcb message's first fragments, as send_fragmented submits them (header
// copied, slice read from a registered region), straight to member i's
// transport: the sender then dies in the middle of the message.
void send_first_fragments(client::Node& node, const fabric::MemoryRegion& region,
                          std::size_t fragments) {
  const std::size_t slice = node.max_message_bytes() - groups::kFragmentHeaderBytes;
  for (std::size_t k = 0; k < fragments; ++k) {
    std::array<std::byte, groups::kFragmentHeaderBytes> header;
    groups::encode_fragment_header({groups::group_key("zcbfrag"), 1, region.size(), k * slice},
                                   header);
    runtime::OutgoingTransportMessage m;
    m.prefix = header;
    m.zero_copy = {&region, k * slice, static_cast<std::uint32_t>(slice)};
    m.group = groups::kFragmentGroup;
    m.sender_pid = node.pid();
    for (;;) {
      ringcast::Status s = node.transport().submit(m);
      if (s.ok()) break;
      ASSERT_EQ(s.error().code, Errc::try_again) << s.error().message();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
}

std::uint32_t ring_members(SimNodes& nodes, std::size_t i) {
  return static_cast<std::uint32_t>(nodes.node(i).transport().status().members.size());
}

TEST(CpgZcbFragments, ASenderThatDiesMidMessageIsDeliveredNowhere) {
  std::unique_ptr<fabric::MemoryRegion> region;  // outlives the cluster
  SimNodes nodes(3, small_ring(), 7, fast_membership());
  std::vector<Deliveries> d(3);
  std::vector<cpg_handle_t> hs;
  for (std::size_t i = 0; i < 3; ++i)
    hs.push_back(open_on(nodes, i, d[i]));
  ASSERT_TRUE(wait_group_of(hs));
  auto allocated = nodes.node(2).transport().allocate(4 * small_ring().max_message_bytes);
  ASSERT_TRUE(allocated.ok());
  region = std::move(*allocated);
  fill_pattern(region->bytes(), 14);
  Dispatchers dispatch({hs[0], hs[1]});
  const auto before0 = counters_of(hs[0]).records_delivered;
  const auto before1 = counters_of(hs[1]).records_delivered;
  send_first_fragments(nodes.node(2), *region, 2);
  ASSERT_TRUE(wait_for([&] {
    return counters_of(hs[0]).records_delivered >= before0 + 2 &&
           counters_of(hs[1]).records_delivered >= before1 + 2;
  }));
  nodes.crash(2);
  ASSERT_TRUE(wait_for([&] { return ring_members(nodes, 0) == 2 && ring_members(nodes, 1) == 2; }));
  // The stream goes on: a survivor's zcb message in fragments arrives.
  const std::size_t bytes = 2 * small_ring().max_message_bytes + 1;
  void* buf = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(hs[0], bytes, &buf), CS_OK);
  const std::span<std::byte> after(static_cast<std::byte*>(buf), bytes);
  fill_pattern(after, 15);
  ASSERT_EQ(cpg_zcb_mcast_joined(hs[0], CPG_TYPE_AGREED, buf, bytes), CS_OK);
  ASSERT_TRUE(wait_for([&] { return d[0].size() == 1 && d[1].size() == 1; }));
  EXPECT_EQ(d[0].copy(), std::vector<std::string>{describe(nodes.node_id(0), after)});
  EXPECT_EQ(d[1].copy(), d[0].copy());
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(counters_of(hs[i]).large_messages_abandoned, 1u) << "node " << i;
  EXPECT_EQ(cpg_zcb_free(hs[0], buf), CS_OK);
  for (cpg_handle_t h : hs)
    cpg_finalize(h);
}

}  // namespace
}  // namespace ringcast::cpg_test
