// Zero copy across the boundary, send side, over simulated nodes: a raw
// client allocates buffers in its zcb segment (zcb_alloc), writes them in
// place and sends them by offset (zcb_mcast); the daemon's ring reads the
// client's pages. Members elsewhere get the bytes exactly and in order; a
// hostile client naming what is not its buffer gets errors and changes
// nothing; a client killed with sends in flight leaves no pool behind.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "client_test_support.hpp"

namespace ringcast::daemon_test {
namespace {

using namespace std::chrono_literals;

SimDaemonOptions options(std::size_t members) {
  SimDaemonOptions o;
  o.members = members;
  o.prepare = [](client::Node& n) { n.set_max_fragmented_bytes(1u << 20); };
  return o;
}

std::span<std::byte> segment(RawClient& c) {
  return c.channel().zcb_segment.bytes();
}

// A zcb_free: not answered, so the answer to a call after it (requests are
// taken in order) shows that the daemon took it.
bool free_buffer(RawClient& c, std::uint64_t handle, std::uint64_t offset) {
  if (!c.send(ipc::ZcbFree{handle, offset}, 0)) return false;
  auto r = c.call(ipc::LocalGet{handle});
  return r && r->error == CS_OK;
}

// A buffer's offset, or ~0 on an error.
std::uint64_t alloc(RawClient& c, std::uint64_t handle, std::uint64_t bytes) {
  auto r = c.call(ipc::ZcbAlloc{handle, bytes});
  if (!r || r->error != CS_OK) return ~std::uint64_t{0};
  return r->value;
}

// A zcb_mcast retried while the ring syncs; the reply.
std::optional<Got> zcb_send(RawClient& c, std::uint64_t handle, std::uint64_t offset,
                            std::uint64_t length) {
  for (int i = 0; i < 2000; ++i) {
    auto r = c.call(ipc::ZcbMcast{handle, 2, offset, length});
    if (!r || r->error != CS_ERR_TRY_AGAIN) return r;
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

std::string pattern(int i, std::size_t bytes) {
  std::string s(bytes, '\0');
  for (std::size_t k = 0; k < bytes; ++k)
    s[k] = static_cast<char>((k * 31 + static_cast<std::size_t>(i) * 7) & 0xff);
  return s;
}

TEST(ClientZeroCopy, BuffersSentByOffsetArriveExactlyAndInOrder) {
  SimDaemons d(options(2));
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  ASSERT_GT(a->welcome().zcb_segment_bytes, 0u);
  ASSERT_EQ(segment(*a).size(), a->welcome().zcb_segment_bytes);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*b, hb, "z"), CS_OK);
  ASSERT_EQ(join(*a, ha, "z"), CS_OK);
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 2); }));
  // Copied (below the 16 KiB crossover), read in place, in fragments.
  const std::vector<std::size_t> sizes = {1000, 40'000, 200'000, 64, 60'000};
  std::vector<std::string> sent;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::uint64_t off = alloc(*a, ha, sizes[i]);
    ASSERT_LT(off, segment(*a).size());
    sent.push_back(pattern(static_cast<int>(i), sizes[i]));
    std::memcpy(segment(*a).data() + off, sent.back().data(), sizes[i]);
    auto r = zcb_send(*a, ha, off, sizes[i]);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->error, CS_OK);
    const bool copied = sizes[i] < (16u << 10);
    EXPECT_EQ(r->value, copied ? 0u : sizes[i]) << "bytes read in place, send " << i;
    ASSERT_TRUE(free_buffer(*a, ha, off));
  }
  ASSERT_TRUE(b->read_until([&] { return b->messages().size() >= sent.size(); }));
  EXPECT_EQ(b->messages(), sent);
  ASSERT_TRUE(a->read_until([&] { return a->messages().size() >= sent.size(); }));
  EXPECT_EQ(a->messages(), sent);
  EXPECT_EQ(d.server(0).counters().zcb_refused.load(), 0u);
  EXPECT_EQ(d.server(0).counters().malformed.load(), 0u);
  EXPECT_EQ(d.node(0).attached_pools(), 1u);  // a's, while it is connected
}

TEST(ClientZeroCopy, ABufferIsBusyUntilTheReplySaysTheNicReadIt) {
  SimDaemons d(options(1));
  auto a = connect(d, 0);
  ASSERT_TRUE(a);
  const std::uint64_t h = a->initialize();
  ASSERT_EQ(join(*a, h, "z"), CS_OK);
  const std::uint64_t off = alloc(*a, h, 50'000);
  ASSERT_LT(off, segment(*a).size());
  for (int i = 0; i < 20; ++i) {  // the same buffer rewritten after each reply
    const std::string p = pattern(i, 50'000);
    std::memcpy(segment(*a).data() + off, p.data(), p.size());
    auto r = zcb_send(*a, h, off, p.size());
    ASSERT_TRUE(r);
    ASSERT_EQ(r->error, CS_OK);
  }
  ASSERT_TRUE(a->read_until([&] { return a->messages().size() >= 20; }));
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(a->messages()[static_cast<std::size_t>(i)], pattern(i, 50'000)) << i;
}

// Each refused request: an error reply (none for a free, which is never
// answered), the counter, and nothing else.
TEST(ClientZeroCopy, WrongOffsetsAndSizesAreRefusedAndChangeNothing) {
  SimDaemonOptions o = options(1);
  o.server.quota.max_zcb_bytes = 1u << 20;
  SimDaemons d(o);
  auto a = connect(d, 0), other = connect(d, 0);
  ASSERT_TRUE(a && other);
  const std::uint64_t h = a->initialize(), ho = other->initialize();
  ASSERT_EQ(join(*a, h, "z"), CS_OK);
  const std::uint64_t theirs = alloc(*other, ho, 4096);
  ASSERT_LT(theirs, segment(*other).size());
  std::memset(segment(*other).data() + theirs, 0x5a, 4096);
  const std::uint64_t mine = alloc(*a, h, 4096);
  ASSERT_LT(mine, segment(*a).size());
  ASSERT_NE(mine + 8192, theirs);
  auto error_of = [&](ipc::RequestBody body) {
    auto r = a->call(std::move(body));
    return r ? r->error : 0xffffffffu;
  };
  std::uint64_t refused = 0;
  auto expect_refused = [&](ipc::RequestBody body, std::uint32_t error, const char* what) {
    EXPECT_EQ(error_of(std::move(body)), error) << what;
    EXPECT_EQ(d.server(0).counters().zcb_refused.load(), ++refused) << what;
  };
  // The call after a free (answered in order) shows that it was taken.
  auto expect_free_refused = [&](std::uint64_t offset, const char* what) {
    ASSERT_TRUE(free_buffer(*a, h, offset)) << what;
    EXPECT_EQ(d.server(0).counters().zcb_refused.load(), ++refused) << what;
  };
  auto expect_freed = [&](std::uint64_t offset) {
    ASSERT_TRUE(free_buffer(*a, h, offset));
    EXPECT_EQ(d.server(0).counters().zcb_refused.load(), refused);
  };
  expect_free_refused(mine + 64, "interior free");
  expect_refused(ipc::ZcbMcast{h, 2, mine + 64, 10}, CS_ERR_INVALID_PARAM, "interior send");
  expect_refused(ipc::ZcbMcast{h, 2, mine, 4097}, CS_ERR_INVALID_PARAM, "beyond capacity");
  expect_free_refused(10u << 20, "not a buffer");
  expect_refused(ipc::ZcbMcast{h, 2, mine + 8192, 100}, CS_ERR_INVALID_PARAM, "never handed out");
  expect_freed(mine);
  expect_free_refused(mine, "double free");
  expect_refused(ipc::ZcbMcast{h, 2, mine, 100}, CS_ERR_INVALID_PARAM, "freed buffer");
  // The other client's buffer is at an offset of its own segment: named
  // here it is no buffer of this client (and sends nothing of theirs).
  if (theirs != mine) {
    expect_refused(ipc::ZcbMcast{h, 2, theirs, 100}, CS_ERR_INVALID_PARAM, "another's offset");
  }
  // The quota: 1 MiB of live buffers.
  const std::uint64_t big1 = alloc(*a, h, 512u << 10), big2 = alloc(*a, h, 512u << 10);
  ASSERT_LT(big1, segment(*a).size());
  ASSERT_LT(big2, segment(*a).size());
  expect_refused(ipc::ZcbAlloc{h, 64}, CS_ERR_NO_MEMORY, "beyond the quota");
  // One buffer larger than the whole quota, still within the segment.
  expect_refused(ipc::ZcbAlloc{h, 2u << 20}, CS_ERR_NO_MEMORY, "larger than the quota");
  expect_freed(big1);
  EXPECT_LT(alloc(*a, h, 64), segment(*a).size());  // room again
  // Nothing else changed: both clients are served, nothing was sent.
  EXPECT_FALSE(a->hung_up());
  EXPECT_EQ(d.server(0).counters().malformed.load(), 0u);
  EXPECT_TRUE(a->messages().empty());
  EXPECT_TRUE(still_served(*a, h, "still here"));
  for (std::size_t k = 0; k < 4096; ++k)
    ASSERT_EQ(segment(*other)[theirs + k], std::byte{0x5a});
  ASSERT_TRUE(free_buffer(*other, ho, theirs));
  EXPECT_EQ(d.server(0).counters().zcb_refused.load(), refused);
}

// A free is not answered, so it is no request in flight: a client may free
// more buffers in a row than its quota of requests in flight.
TEST(ClientZeroCopy, FreesInARowAreNotRequestsInFlight) {
  SimDaemonOptions o = options(1);
  o.server.quota.max_requests_in_flight = 8;
  SimDaemons d(o);
  auto a = connect(d, 0);
  ASSERT_TRUE(a);
  const std::uint64_t h = a->initialize();
  std::vector<std::uint64_t> buffers;
  for (int i = 0; i < 40; ++i) {
    buffers.push_back(alloc(*a, h, 64));
    ASSERT_LT(buffers.back(), segment(*a).size());
  }
  for (std::uint64_t off : buffers)
    ASSERT_TRUE(a->send(ipc::ZcbFree{h, off}, 0));
  auto r = a->call(ipc::LocalGet{h});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, CS_OK);
  EXPECT_FALSE(a->hung_up());
  EXPECT_EQ(d.server(0).counters().zcb_refused.load(), 0u);
}

TEST(ClientZeroCopy, AClientKilledWithSendsInFlightLeavesNoPool) {
  SimDaemons d(options(2));
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*b, hb, "z"), CS_OK);
  ASSERT_EQ(join(*a, ha, "z"), CS_OK);
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 2); }));
  const std::uint64_t off = alloc(*a, ha, 60'000);
  ASSERT_LT(off, segment(*a).size());
  const std::string p = pattern(1, 60'000);
  std::memcpy(segment(*a).data() + off, p.data(), p.size());
  ASSERT_EQ(d.node(0).attached_pools(), 1u);
  for (int i = 0; i < 8; ++i)  // not waiting for the replies
    ASSERT_TRUE(a->send(ipc::ZcbMcast{ha, 2, off, p.size()}, a->next_id()));
  a->close_socket();
  // Its pool goes once the daemon noticed and the NIC read every buffer.
  bool gone = false;
  for (int i = 0; i < 4000 && !gone; ++i) {
    gone = d.node(0).reap_pools() == 0;
    if (!gone) std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(gone);
  EXPECT_TRUE(b->read_until([&] { return saw_procdown(*b, d.node(0).node_id()); }));
  for (const std::string& m : b->messages())
    EXPECT_EQ(m, p);
  EXPECT_TRUE(still_served(*b, hb, "after"));
}

// A hostile client rewrites its buffer while the NIC reads it: whatever
// bytes each member got, they all deliver the same message, and the ring
// goes on.
TEST(ClientZeroCopy, ABufferRewrittenDuringItsSendIsDeliveredAlikeEverywhere) {
  SimDaemons d(options(2));
  auto a = connect(d, 0), b = connect(d, 1);
  ASSERT_TRUE(a && b);
  const std::uint64_t ha = a->initialize(), hb = b->initialize();
  ASSERT_EQ(join(*b, hb, "z"), CS_OK);
  ASSERT_EQ(join(*a, ha, "z"), CS_OK);
  ASSERT_TRUE(b->read_until([&] { return has_members(*b, 2); }));
  const std::uint64_t off = alloc(*a, ha, 40'000);
  ASSERT_LT(off, segment(*a).size());
  constexpr int kSends = 30;
  for (int i = 0; i < kSends; ++i) {
    const std::string before = pattern(2 * i, 40'000), after = pattern(2 * i + 1, 40'000);
    std::memcpy(segment(*a).data() + off, before.data(), before.size());
    std::uint64_t id = 0;
    for (int t = 0; t < 2000; ++t) {
      id = a->next_id();
      ASSERT_TRUE(a->send(ipc::ZcbMcast{ha, 2, off, before.size()}, id));
      std::memcpy(segment(*a).data() + off, after.data(), after.size());  // under the NIC
      ASSERT_TRUE(a->read_until([&] { return a->reply_to(id).has_value(); }));
      if (a->reply_to(id)->error != CS_ERR_TRY_AGAIN) break;
      std::memcpy(segment(*a).data() + off, before.data(), before.size());
      std::this_thread::sleep_for(5ms);
    }
    ASSERT_EQ(a->reply_to(id)->error, CS_OK);
  }
  ASSERT_TRUE(b->read_until([&] { return b->messages().size() >= kSends; }));
  ASSERT_TRUE(a->read_until([&] { return a->messages().size() >= kSends; }));
  EXPECT_TRUE(a->messages() == b->messages());
  EXPECT_TRUE(still_served(*b, hb, "after"));
}

TEST(ClientZeroCopy, WithoutASegmentTheRequestsAreNotSupported) {
  SimDaemonOptions o = options(1);
  o.server.sizes.zcb_segment_bytes = 0;
  SimDaemons d(o);
  auto a = connect(d, 0);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->welcome().zcb_segment_bytes, 0u);
  const std::uint64_t h = a->initialize();
  for (ipc::RequestBody zcb :
       {ipc::RequestBody{ipc::ZcbAlloc{h, 4096}}, ipc::RequestBody{ipc::ZcbMcast{h, 2, 0, 100}}}) {
    auto r = a->call(zcb);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, CS_ERR_NOT_SUPPORTED);
  }
  // A free is not answered: refused, counted, and the client still served.
  ASSERT_TRUE(free_buffer(*a, h, 0));
  EXPECT_EQ(d.server(0).counters().zcb_refused.load(), 1u);
  EXPECT_EQ(d.node(0).attached_pools(), 0u);
}

}  // namespace
}  // namespace ringcast::daemon_test
