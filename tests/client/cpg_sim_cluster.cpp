#include "cpg_sim_cluster.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>

namespace ringcast::cpg_test {

ring::RingConfig small_ring() {
  ring::RingConfig r;
  r.log_bytes = 1u << 20;
  r.max_message_bytes = 64u << 10;
  r.send_buffer_bytes = 256u << 10;
  r.send_queue_messages = 256;
  r.token_hold_ns = 2'000'000;
  return r;
}

membership::MembershipConfig fast_membership() {
  membership::MembershipConfig m;
  m.token_timeout_ns = 80'000'000;
  m.join_interval_ns = 5'000'000;
  m.consensus_timeout_ns = 100'000'000;
  return m;
}

SimNodes::SimNodes(std::size_t members, ring::RingConfig ring, std::uint64_t seed,
                   membership::MembershipConfig membership, Prepare prepare)
    : prepare_(std::move(prepare)) {
  runtime::SimClusterOptions o;
  o.members = members;
  o.ring = ring;
  o.seed = seed;
  o.membership = std::move(membership);
  auto c = runtime::SimCluster::start(o);
  if (!c.ok()) throw std::runtime_error(c.error().message());
  cluster_ = std::move(*c);
  nodes_.resize(members);
  for (std::size_t i = 0; i < members; ++i)
    attach(i, std::chrono::milliseconds(0));
}

void SimNodes::attach(std::size_t i, std::chrono::milliseconds startup_window) {
  auto node = client::Node::create();
  if (prepare_) prepare_(i, *node);
  node->attach(cluster_->attach(i, node->round_callback()), startup_window);
  nodes_[i] = std::move(node);
}

void SimNodes::restart(std::size_t i, std::chrono::milliseconds startup_window) {
  Status s = cluster_->restart(i);
  if (!s.ok()) throw std::runtime_error(s.error().message());
  crashed_.push_back(std::move(nodes_[i]));
  attach(i, startup_window);
}

SimNodes::~SimNodes() {
  nodes_.clear();  // each detaches from the cluster (sessions still open keep theirs)
  crashed_.clear();
  cluster_->stop();
}

namespace {

Recorder& rec_of(cpg_handle_t h) {
  void* ctx = nullptr;
  cpg_context_get(h, &ctx);
  return *static_cast<Recorder*>(ctx);
}

std::string group_text(const cpg_name* g) {
  return std::string(g->value, g->length);
}

std::string addresses(const cpg_address* a, size_t n) {
  std::string s = "[";
  for (size_t i = 0; i < n; ++i) {
    if (i) s += " ";
    s += std::to_string(a[i].nodeid) + "/" + std::to_string(a[i].reason);
  }
  return s + "]";
}

void on_deliver(cpg_handle_t h, const cpg_name* g, uint32_t nodeid, uint32_t, void* msg,
                size_t len) {
  Recorder& r = rec_of(h);
  std::string payload(static_cast<const char*>(msg), len);
  std::lock_guard lock(r.mutex);
  r.lines.push_back("msg " + group_text(g) + " " + std::to_string(nodeid) + " " + payload);
  r.messages.push_back(payload);
}

void on_confchg(cpg_handle_t h, const cpg_name* g, const cpg_address* members, size_t nm,
                const cpg_address* left, size_t nl, const cpg_address* joined, size_t nj) {
  Recorder& r = rec_of(h);
  std::string line = "view " + group_text(g) + " members=" + addresses(members, nm) +
                     " left=" + addresses(left, nl) + " joined=" + addresses(joined, nj);
  std::lock_guard lock(r.mutex);
  r.lines.push_back(line);
  r.views.push_back(line);
}

void on_totem(cpg_handle_t h, cpg_ring_id id, uint32_t n, const uint32_t* members) {
  Recorder& r = rec_of(h);
  std::string line = "ring " + std::to_string(id.nodeid) + "." + std::to_string(id.seq) + " [";
  for (uint32_t i = 0; i < n; ++i)
    line += (i ? " " : "") + std::to_string(members[i]);
  std::lock_guard lock(r.mutex);
  r.lines.push_back(line + "]");
}

}  // namespace

cpg_model_v1_data_t recording_model(bool initial_totem) {
  cpg_model_v1_data_t m{};
  m.model = CPG_MODEL_V1;
  m.cpg_deliver_fn = on_deliver;
  m.cpg_confchg_fn = on_confchg;
  m.cpg_totem_confchg_fn = on_totem;
  m.flags = initial_totem ? CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF : 0;
  return m;
}

cpg_handle_t open_recorded(Recorder& rec, bool initial_totem) {
  cpg_model_v1_data_t m = recording_model(initial_totem);
  cpg_handle_t h = 0;
  EXPECT_EQ(cpg_model_initialize(&h, CPG_MODEL_V1, reinterpret_cast<cpg_model_data_t*>(&m), &rec),
            CS_OK);
  return h;
}

cpg_name name_of(const std::string& s) {
  cpg_name n{};
  n.length = static_cast<uint32_t>(s.size());
  std::memcpy(n.value, s.data(), s.size());
  return n;
}

bool dispatch_until(std::vector<cpg_handle_t> hs, const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    for (cpg_handle_t h : hs)
      cpg_dispatch(h, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

bool dispatch_until(cpg_handle_t h, const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout) {
  return dispatch_until(std::vector<cpg_handle_t>{h}, pred, timeout);
}

::testing::AssertionResult join_in_order(const std::vector<cpg_handle_t>& handles,
                                         const std::vector<Recorder*>& recorders,
                                         const std::string& group) {
  const cpg_name n = name_of(group);
  auto view_count = [&](std::size_t j) {
    std::lock_guard lock(recorders[j]->mutex);
    return recorders[j]->views.size();
  };
  for (std::size_t i = 0; i < handles.size(); ++i) {
    // Every member joined so far gets one view of this join; the next
    // join waits for all of them, so no view is still on its way.
    std::vector<std::size_t> before(i + 1);
    for (std::size_t j = 0; j <= i; ++j)
      before[j] = view_count(j);
    if (cs_error_t e = cpg_join(handles[i], &n); e != CS_OK)
      return ::testing::AssertionFailure() << "cpg_join: " << cs_strerror(e);
    if (!dispatch_until(handles, [&] {
          for (std::size_t j = 0; j <= i; ++j)
            if (view_count(j) <= before[j]) return false;
          return true;
        })) {
      return ::testing::AssertionFailure() << "no view of join " << i << " of " << group;
    }
  }
  return ::testing::AssertionSuccess();
}

cs_error_t join_retry(cpg_handle_t h, const std::string& group, std::vector<cpg_handle_t> drain) {
  const cpg_name n = name_of(group);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    cs_error_t e = cpg_join(h, &n);
    if (e != CS_ERR_TRY_AGAIN || std::chrono::steady_clock::now() > end) return e;
    for (cpg_handle_t d : drain)
      cpg_dispatch(d, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

cs_error_t send_text(cpg_handle_t h, const std::string& text, cpg_guarantee_t g) {
  iovec iov{const_cast<char*>(text.data()), text.size()};
  return cpg_mcast_joined(h, g, &iov, 1);
}

cs_error_t send_text_retry(cpg_handle_t h, const std::string& text,
                           std::vector<cpg_handle_t> drain) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    cs_error_t e = send_text(h, text);
    if (e != CS_ERR_TRY_AGAIN || std::chrono::steady_clock::now() > end) return e;
    for (cpg_handle_t d : drain)
      cpg_dispatch(d, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

}  // namespace ringcast::cpg_test
