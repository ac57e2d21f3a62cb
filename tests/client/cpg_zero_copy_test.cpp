// cpg_zcb_* over a simulated cluster: buffers, sends that copy nothing, and
// every invalid pointer refused without a change.
#include <gtest/gtest.h>

#include <cstring>

#include "cpg_sim_cluster.hpp"
#include "ringcast/ringcast.hpp"

namespace ringcast::cpg_test {
namespace {

std::uint64_t bytes_copied(client::Node& n) {
  return n.counters().bytes_copied_on_send;
}

TEST(CpgZeroCopy, SendsArriveIntactAndCopyNothing) {
  SimNodes nodes(3);
  Recorder rec[3];
  cpg_handle_t h[3];
  for (int i = 0; i < 3; ++i) {
    auto use = nodes.use(i);
    h[i] = open_recorded(rec[i]);
  }
  const std::vector<cpg_handle_t> all(h, h + 3);
  ASSERT_TRUE(join_in_order(all, {&rec[0], &rec[1], &rec[2]}, "zcb"));
  ASSERT_TRUE(dispatch_until(all, [&] { return rec[0].views.size() == 3; }));
  const std::uint64_t copied_before = bytes_copied(nodes.node(0));

  constexpr std::size_t kBytes = 40'000;
  void* buf = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(h[0], kBytes, &buf), CS_OK);
  ASSERT_NE(buf, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buf) % 64, 0u);
  constexpr int kSends = 20;
  for (int k = 0; k < kSends; ++k) {
    auto* p = static_cast<unsigned char*>(buf);
    for (std::size_t i = 0; i < kBytes; ++i)
      p[i] = static_cast<unsigned char>(i * 31 + k);
    // Returns once the NIC has read it: the next loop may write it again.
    ASSERT_EQ(cpg_zcb_mcast_joined(h[0], CPG_TYPE_AGREED, buf, kBytes), CS_OK);
  }
  ASSERT_TRUE(dispatch_until(all, [&] {
    return rec[1].messages.size() == kSends && rec[2].messages.size() == kSends &&
           rec[0].messages.size() == kSends;
  }));
  for (int r = 0; r < 3; ++r) {
    for (int k = 0; k < kSends; ++k) {
      const std::string& m = rec[r].messages[k];
      ASSERT_EQ(m.size(), kBytes);
      for (std::size_t i = 0; i < kBytes; i += 997)
        ASSERT_EQ(static_cast<unsigned char>(m[i]), static_cast<unsigned char>(i * 31 + k));
    }
  }
  EXPECT_EQ(bytes_copied(nodes.node(0)), copied_before) << "a zero-copy send was copied";
  EXPECT_EQ(nodes.node(0).counters().zero_copy_sends, std::uint64_t{kSends});
  // A copying send of the same size does copy: the counter is real.
  std::string plain(kBytes, 'c');
  ASSERT_EQ(send_text(h[0], plain), CS_OK);
  EXPECT_EQ(bytes_copied(nodes.node(0)), copied_before + kBytes);

  // Too many bytes for the buffer, an unknown guarantee, too big to allocate.
  void* small = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(h[0], 100, &small), CS_OK);
  EXPECT_EQ(cpg_zcb_mcast_joined(h[0], CPG_TYPE_AGREED, small, 4096), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(cpg_zcb_mcast_joined(h[0], static_cast<cpg_guarantee_t>(9), small, 10),
            CS_ERR_INVALID_PARAM);
  void* huge = nullptr;
  EXPECT_EQ(cpg_zcb_alloc(h[0], small_ring().max_message_bytes + 1, &huge), CS_ERR_TOO_BIG);
  EXPECT_EQ(cpg_zcb_free(h[0], small), CS_OK);
  EXPECT_EQ(cpg_zcb_free(h[0], buf), CS_OK);
  for (auto x : all)
    cpg_finalize(x);
}

TEST(CpgZeroCopy, InvalidFreesChangeNothing) {
  SimNodes nodes(1);
  auto use = nodes.use(0);
  Recorder rec;
  cpg_handle_t h = open_recorded(rec);
  void* a = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(h, 1000, &a), CS_OK);
  int on_stack = 0;
  EXPECT_EQ(cpg_zcb_free(h, nullptr), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(cpg_zcb_free(h, &on_stack), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(cpg_zcb_free(h, static_cast<char*>(a) + 64), CS_ERR_INVALID_PARAM);  // interior
  // Not a buffer: sending it is refused as well.
  cpg_name g = name_of("zf");
  ASSERT_EQ(cpg_join(h, &g), CS_OK);
  EXPECT_EQ(cpg_zcb_mcast_joined(h, CPG_TYPE_AGREED, &on_stack, 4), CS_ERR_INVALID_PARAM);
  // The buffer is still live and usable after all that.
  std::memset(a, 'z', 1000);
  ASSERT_EQ(cpg_zcb_mcast_joined(h, CPG_TYPE_SAFE, a, 1000), CS_OK);
  ASSERT_TRUE(dispatch_until(h, [&] { return rec.messages.size() == 1; }));
  EXPECT_EQ(rec.messages[0], std::string(1000, 'z'));
  EXPECT_EQ(cpg_zcb_free(h, a), CS_OK);
  EXPECT_EQ(cpg_zcb_free(h, a), CS_ERR_INVALID_PARAM);  // double free
  cpg_finalize(h);
}

// The C++ API over the same sessions: RAII connection and buffers, a send
// that returns at once with the buffer in flight.
TEST(CppApi, ConnectionGroupAndZeroCopyBuffer) {
  SimNodes nodes(2);
  std::vector<std::string> got;
  std::vector<std::string> views;
  cpg::Callbacks cb;
  cb.on_message = [&](const cpg::Message& m) {
    got.emplace_back(reinterpret_cast<const char*>(m.bytes.data()), m.bytes.size());
  };
  cb.on_view_change = [&](const cpg::ViewChange& v) {
    views.push_back(std::string(v.group) + ":" + std::to_string(v.members.size()));
  };
  auto use = nodes.use(1);
  auto conn = cpg::Connection::open(cb);
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  EXPECT_EQ(conn->local_node(), nodes.node_id(1));
  ASSERT_TRUE(conn->join("cpp").ok());
  EXPECT_EQ(conn->join("cpp").code(), CS_ERR_EXIST);
  EXPECT_EQ(conn->join(std::string(129, 'n')).code(), CS_ERR_NAME_TOO_LONG);
  const std::string text = "hello";
  ASSERT_TRUE(conn->send(cpg::Guarantee::agreed, std::as_bytes(std::span(text))).ok());
  auto buffer = conn->allocate(256);
  ASSERT_TRUE(buffer.ok()) << buffer.status().message();
  std::memcpy(buffer->data(), "zero-copy", 9);
  ASSERT_TRUE(conn->send(cpg::Guarantee::safe, *buffer, 9).ok());
  EXPECT_TRUE(buffer->wait_sent().ok());
  EXPECT_FALSE(buffer->in_flight());
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.size() < 2 && std::chrono::steady_clock::now() < end) {
    conn->dispatch(cpg::DispatchMode::all);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "hello");
  EXPECT_EQ(got[1], "zero-copy");
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0], "cpp:1");
  auto members = conn->members("cpp");
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 1u);
  EXPECT_EQ((*members)[0].node, nodes.node_id(1));
  const cpg_handle_t h = conn->handle();
  void* ctx = nullptr;
  EXPECT_EQ(cpg_context_get(h, &ctx), CS_OK);  // the same handle in the C API
  EXPECT_TRUE(conn->close().ok());
  EXPECT_EQ(cpg_context_get(h, &ctx), CS_ERR_BAD_HANDLE);
  EXPECT_EQ(conn->send(cpg::Guarantee::agreed, std::as_bytes(std::span(text))).code(),
            CS_ERR_BAD_HANDLE);
}

}  // namespace
}  // namespace ringcast::cpg_test
