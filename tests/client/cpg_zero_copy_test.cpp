// cpg_zcb_* over a simulated cluster: buffers, sends that copy nothing, and
// every invalid pointer refused without a change.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "base/log.hpp"
#include "cpg_sim_cluster.hpp"
#include "ringcast/ringcast.hpp"

namespace ringcast::cpg_test {
namespace {

std::uint64_t bytes_copied(client::Node& n) {
  return n.counters().bytes_copied_on_send;
}

TEST(CpgZeroCopy, SendsArriveIntactAndCopyNothing) {
  SimNodes nodes(3);
  nodes.node(0).set_zcb_copy_below(0);  // every send from its buffer, whatever the default
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

  // Too many bytes for the buffer, too big to allocate. (An unknown
  // guarantee, which only C can pass: c_enum_args.c.)
  void* small = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(h[0], 100, &small), CS_OK);
  EXPECT_EQ(cpg_zcb_mcast_joined(h[0], CPG_TYPE_AGREED, small, 4096), CS_ERR_INVALID_PARAM);
  void* huge = nullptr;
  EXPECT_EQ(cpg_zcb_alloc(h[0], (std::uint64_t{64} << 20) + 1, &huge), CS_ERR_TOO_BIG);
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
  // Values a scoped enum can hold that are no guarantee or mode: refused,
  // nothing sent.
  const auto no_guarantee = static_cast<cpg::Guarantee>(9);
  EXPECT_EQ(conn->send(no_guarantee, std::as_bytes(std::span(text))).code(), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(conn->send(no_guarantee, *buffer, 9).code(), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(conn->dispatch(static_cast<cpg::DispatchMode>(0)).code(), CS_ERR_INVALID_PARAM);
  EXPECT_EQ(conn->dispatch(static_cast<cpg::DispatchMode>(-1)).code(), CS_ERR_INVALID_PARAM);
  conn->dispatch(cpg::DispatchMode::all);
  EXPECT_EQ(got.size(), 2u);
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

// The working sets of corosync's stress_cpgzc (2,000 live buffers of 1 to
// 100,000 bytes) and testzcgc (100 buffers of 1 MiB) at once: more than the
// pool's first slabs, well within what the machine lets a process pin.
TEST(CpgZeroCopy, CorosyncsWorkingSetsFitThePool) {
  ring::RingConfig ring = small_ring();
  ring.max_message_bytes = 1u << 20;
  ring.log_bytes = 4u << 20;
  ring.send_buffer_bytes = 2u << 20;
  SimNodes nodes(1, ring);
  nodes.node(0).set_zero_copy_limit(std::uint64_t{1} << 30, "the test's limit");
  auto use = nodes.use(0);
  Recorder rec;
  cpg_handle_t h = open_recorded(rec);
  std::vector<void*> buffers;
  std::uint64_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    void* b = nullptr;
    ASSERT_EQ(cpg_zcb_alloc(h, 1 + (x >> 33) % 100'000, &b), CS_OK) << i;
    buffers.push_back(b);
  }
  for (int i = 0; i < 100; ++i) {
    void* b = nullptr;
    ASSERT_EQ(cpg_zcb_alloc(h, 1u << 20, &b), CS_OK) << i;
    std::memset(b, i, 1u << 20);
    buffers.push_back(b);
  }
  for (void* b : buffers)
    ASSERT_EQ(cpg_zcb_free(h, b), CS_OK);
  cpg_finalize(h);
}

// A message above the largest size class (1 MiB) is sent from a buffer
// registered on its own, read by the NIC in place, and the free gives the
// region back.
TEST(CpgZeroCopy, ABufferAboveTheLargestClassIsSentInPlace) {
  ring::RingConfig ring = small_ring();
  ring.max_message_bytes = 3u << 20;
  ring.log_bytes = 16u << 20;
  ring.send_buffer_bytes = 4u << 20;
  SimNodes nodes(2, ring);
  Recorder rec[2];
  cpg_handle_t h[2];
  for (int i = 0; i < 2; ++i) {
    auto use = nodes.use(i);
    h[i] = open_recorded(rec[i]);
  }
  const std::vector<cpg_handle_t> all(h, h + 2);
  ASSERT_TRUE(join_in_order(all, {&rec[0], &rec[1]}, "large"));
  const std::uint64_t copied_before = bytes_copied(nodes.node(0));
  constexpr std::size_t kBytes = (2u << 20) + 12345;
  void* buf = nullptr;
  ASSERT_EQ(cpg_zcb_alloc(h[0], kBytes, &buf), CS_OK);
  auto* p = static_cast<unsigned char*>(buf);
  for (std::size_t i = 0; i < kBytes; ++i)
    p[i] = static_cast<unsigned char>(i * 7 + i / 4096);
  ASSERT_EQ(cpg_zcb_mcast_joined(h[0], CPG_TYPE_SAFE, buf, kBytes), CS_OK);
  ASSERT_TRUE(dispatch_until(
      all, [&] { return rec[0].messages.size() == 1 && rec[1].messages.size() == 1; }));
  for (int r = 0; r < 2; ++r) {
    const std::string& m = rec[r].messages[0];
    ASSERT_EQ(m.size(), kBytes);
    for (std::size_t i = 0; i < kBytes; i += 509)
      ASSERT_EQ(static_cast<unsigned char>(m[i]), static_cast<unsigned char>(i * 7 + i / 4096));
  }
  EXPECT_EQ(bytes_copied(nodes.node(0)), copied_before) << "a zero-copy send was copied";
  EXPECT_EQ(cpg_zcb_free(h[0], buf), CS_OK);
  for (auto x : all)
    cpg_finalize(x);
}

// A transport that keeps count of the regions it registered, as a verbs
// protection domain does: destroyed while one is still registered, it logs
// what ibv_dealloc_pd's EBUSY logs and counts the leak.
class CountedRegion final : public fabric::MemoryRegion {
 public:
  CountedRegion(std::unique_ptr<fabric::MemoryRegion> inner, std::shared_ptr<std::atomic<int>> live)
      : inner_(std::move(inner)), live_(std::move(live)) {
    data_ = inner_->data();
    size_ = inner_->size();
    lkey_ = inner_->lkey();
    access_ = inner_->access();
    ++*live_;
  }
  ~CountedRegion() override { --*live_; }

 private:
  std::unique_ptr<fabric::MemoryRegion> inner_;
  std::shared_ptr<std::atomic<int>> live_;
};

class DomainTransport final : public runtime::RingTransport {
 public:
  DomainTransport(std::unique_ptr<runtime::RingTransport> inner, int* leaks)
      : inner_(std::move(inner)), leaks_(leaks) {}
  ~DomainTransport() override {
    inner_.reset();
    if (*live_ == 0) return;
    ++*leaks_;
    log_line("ibv_dealloc_pd failed: Device or resource busy (a resource leaked)");
  }
  std::uint32_t me() const noexcept override { return inner_->me(); }
  std::size_t max_message_bytes() const noexcept override { return inner_->max_message_bytes(); }
  Status submit(const runtime::OutgoingTransportMessage& m) override { return inner_->submit(m); }
  Status release_through(std::uint64_t index) override { return inner_->release_through(index); }
  // Only for buffers that are never sent: the simulated NIC knows the inner
  // region, not this one.
  Result<std::unique_ptr<fabric::MemoryRegion>> allocate(std::size_t bytes) override {
    auto region = inner_->allocate(bytes);
    if (!region) return region.error();
    return std::unique_ptr<fabric::MemoryRegion>(
        std::make_unique<CountedRegion>(std::move(*region), live_));
  }
  void stop() override { inner_->stop(); }
  StatusSnapshot status() override { return inner_->status(); }
  SendPathSnapshot send_path() override { return inner_->send_path(); }
  std::vector<std::uint32_t> linked_nodes() override { return inner_->linked_nodes(); }

 private:
  std::unique_ptr<runtime::RingTransport> inner_;
  std::shared_ptr<std::atomic<int>> live_ = std::make_shared<std::atomic<int>>(0);
  int* leaks_;
};

std::vector<std::string> g_logged;
void keep_line(std::string_view line) {
  g_logged.emplace_back(line);
}

// corosync's testcpgzc and cpgbenchzc end without freeing their buffer: the
// handle's finalize takes the buffers back, and the node's end deregisters
// every slab before the transport (the protection domain) goes.
TEST(CpgZeroCopy, FinalizeAndExitWithLiveBuffersReleaseEverythingQuietly) {
  runtime::SimClusterOptions o;
  o.members = 1;
  o.ring = small_ring();
  auto cluster = runtime::SimCluster::start(o);
  ASSERT_TRUE(cluster.ok()) << cluster.error().message();
  int leaks = 0;
  g_logged.clear();
  set_log_sink(keep_line);
  {
    auto node = client::Node::create();
    node->attach(
        std::make_unique<DomainTransport>((*cluster)->attach(0, node->round_callback()), &leaks));
    client::Node::Override use(node);
    Recorder rec[2];
    cpg_handle_t a = open_recorded(rec[0]);
    cpg_handle_t b = open_recorded(rec[1]);
    void* kept = nullptr;
    void* large = nullptr;
    ASSERT_EQ(cpg_zcb_alloc(a, 1000, &kept), CS_OK);
    ASSERT_EQ(cpg_zcb_alloc(a, 60000, &large), CS_OK);
    // Any handle may free a buffer; the owner's finalize then leaves it be.
    void* freed_by_b = nullptr;
    ASSERT_EQ(cpg_zcb_alloc(a, 100, &freed_by_b), CS_OK);
    EXPECT_EQ(cpg_zcb_free(b, freed_by_b), CS_OK);
    EXPECT_EQ(cpg_finalize(a), CS_OK);
    EXPECT_EQ(cpg_zcb_free(b, kept), CS_ERR_INVALID_PARAM);  // finalize freed it
    // Finalize took a's buffers back: the same sizes come from the same memory.
    void* again = nullptr;
    ASSERT_EQ(cpg_zcb_alloc(b, 1000, &again), CS_OK);
    EXPECT_EQ(again, kept);
    ASSERT_EQ(cpg_zcb_alloc(b, 60000, &again), CS_OK);
    EXPECT_EQ(again, large);
    // b ends as a process does at exit: with its buffers still allocated.
    EXPECT_EQ(cpg_finalize(b), CS_OK);
  }  // the node goes with its last handle
  set_log_sink(nullptr);
  EXPECT_EQ(leaks, 0);
  EXPECT_TRUE(g_logged.empty()) << g_logged.front();
  (*cluster)->stop();
}

}  // namespace
}  // namespace ringcast::cpg_test
