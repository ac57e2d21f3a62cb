// Joins, leaves and finalizes interleaved with traffic, several handles per
// process and several groups: every two handles that were in a group at the
// same time saw the same events (views and messages) in the same order over
// the time they shared.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <thread>

#include "cpg_sim_cluster.hpp"

namespace ringcast::cpg_test {
namespace {

struct Handle {
  cpg_handle_t h = 0;
  std::string group;
  std::unique_ptr<Recorder> rec = std::make_unique<Recorder>();
  bool open = false;
  bool joined = false;
  std::size_t node = 0;
};

// Each handle multicasts a unique hello right after its join; where both
// streams hold B's hello, they are aligned on it and must agree on every
// position both hold (either may start later or end sooner).
enum class Overlap { none, same, differ };
Overlap compare(const std::vector<std::string>& a, const std::vector<std::string>& b,
                const std::string& hello) {
  const auto ia = std::find(a.begin(), a.end(), hello);
  const auto ib = std::find(b.begin(), b.end(), hello);
  if (ia == a.end() || ib == b.end()) return Overlap::none;
  const std::ptrdiff_t offset = (ia - a.begin()) - (ib - b.begin());
  for (std::ptrdiff_t k = 0; k < static_cast<std::ptrdiff_t>(b.size()); ++k) {
    const std::ptrdiff_t ka = k + offset;
    if (ka < 0 || ka >= static_cast<std::ptrdiff_t>(a.size())) continue;
    if (a[ka] != b[k]) return Overlap::differ;
  }
  return Overlap::same;
}

void run_seed(std::uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  SimNodes nodes(3, small_ring(), seed);
  std::mt19937_64 rng(seed);
  std::vector<Handle> handles;
  const std::vector<std::string> groups = {"g1", "g2"};
  auto open_handles = [&] {
    std::vector<cpg_handle_t> v;
    for (auto& x : handles)
      if (x.open) v.push_back(x.h);
    return v;
  };
  // node -> group -> index into handles of the open, joined handle
  std::map<std::pair<std::size_t, std::string>, std::size_t> member;
  int sent = 0;
  for (int step = 0; step < 80; ++step) {
    const std::size_t node = rng() % 3;
    const std::string g = groups[rng() % 2];
    auto it = member.find({node, g});
    if (it == member.end()) {
      Handle x;
      x.group = g;
      x.node = node;
      {
        auto use = nodes.use(node);
        x.h = open_recorded(*x.rec);
      }
      cpg_name n = name_of(g);
      ASSERT_EQ(cpg_join(x.h, &n), CS_OK);
      x.open = x.joined = true;
      handles.push_back(std::move(x));
      ASSERT_EQ(send_text_retry(handles.back().h, "hello-" + std::to_string(handles.size() - 1),
                                open_handles()),
                CS_OK);
      member[{node, g}] = handles.size() - 1;
    } else if (rng() % 4 == 0) {
      Handle& x = handles[it->second];
      if (rng() % 2 == 0) {
        cpg_name n = name_of(g);
        ASSERT_EQ(cpg_leave(x.h, &n), CS_OK);
        // Its own leave view ends its stream; then close it.
        ASSERT_TRUE(dispatch_until(x.h, [&] {
          std::lock_guard lock(x.rec->mutex);
          return !x.rec->views.empty() &&
                 x.rec->views.back().find(" left=[]") == std::string::npos &&
                 x.rec->views.back().find("joined=[]") != std::string::npos &&
                 x.rec->views.back().find(std::to_string(nodes.node_id(node)) + "/2") !=
                     std::string::npos;
        }));
      }
      ASSERT_EQ(cpg_finalize(x.h), CS_OK);
      x.open = false;
      member.erase(it);
    } else {
      Handle& x = handles[it->second];
      const int burst = 1 + static_cast<int>(rng() % 5);
      for (int k = 0; k < burst; ++k)
        ASSERT_EQ(send_text_retry(x.h, "m" + std::to_string(sent++), open_handles()), CS_OK);
    }
    for (cpg_handle_t h : open_handles())
      cpg_dispatch(h, CS_DISPATCH_ALL);
  }
  // Let everything settle: every open handle has seen every message sent.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (int round = 0; round < 20; ++round) {
    for (cpg_handle_t h : open_handles())
      cpg_dispatch(h, CS_DISPATCH_ALL);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& x : handles)
    if (x.open) cpg_finalize(x.h);
  int pairs = 0;
  for (std::size_t i = 0; i < handles.size(); ++i) {
    for (std::size_t j = 0; j < handles.size(); ++j) {
      if (i == j || handles[i].group != handles[j].group) continue;
      const auto& a = handles[i].rec->lines;
      const auto& b = handles[j].rec->lines;
      const Overlap o =
          compare(a, b,
                  "msg " + handles[j].group + " " + std::to_string(nodes.node_id(handles[j].node)) +
                      " hello-" + std::to_string(j));
      if (o == Overlap::none) continue;
      ++pairs;
      if (o == Overlap::differ) {
        std::string dump;
        for (std::size_t k = 0; k < std::max(a.size(), b.size()); ++k)
          dump += (k < a.size() ? a[k] : std::string("-")) + "  |  " +
                  (k < b.size() ? b[k] : std::string("-")) + "\n";
        ADD_FAILURE() << "handles " << i << " and " << j << " of " << handles[i].group
                      << " diverge:\n"
                      << dump;
      }
    }
  }
  EXPECT_GT(pairs, 0);
}

TEST(CpgViews, InterleavedJoinsLeavesAndTraffic) {
  for (std::uint64_t seed = 1; seed <= 6; ++seed)
    run_seed(seed);
}

}  // namespace
}  // namespace ringcast::cpg_test
