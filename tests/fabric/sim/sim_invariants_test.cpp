// The fabric's guarantees under random traffic and random faults, over many
// seeds: what every backend must give the protocol, whatever goes wrong.
//   1. FIFO without gaps: what lands from a link is a prefix of what was
//      posted on it (a fault cuts the tail, never the middle);
//   2. write_done only for signaled writes that landed;
//   3. a live requester hears exactly once of each signaled write (done or
//      failed), never of an unsignaled one except as the failure's culprit;
//   4. link_down at most once per link end, and nothing about that link after;
//   5. a failure is never reported before the fault that caused it plus the
//      timeout (retry errors), and once one end failed, the other fails too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sim_net.hpp"

namespace ringcast::fabric::sim::test {
namespace {

constexpr NodeId kMembers = 4;

struct Posted {
  NodeId from = 0, to = 0;
  bool signaled = false;
  std::uint64_t post_ns = 0;
};

// What the runs went through, so the test can show it exercised every path.
struct Tally {
  std::map<std::string, std::uint64_t> seen;  // completion kind or failure status -> count
};

class Checker {
 public:
  Checker(std::uint64_t seed, bool idle_detection, Tally& tally)
      : seed_(seed),
        tally_(tally),
        net_(seed, config(idle_detection), kMembers, 64 << 10, 16 << 10) {
    // Every member also advertises a region that does not exist: writes
    // into it are remote access errors.
    for (NodeId a = 1; a <= kMembers; ++a) {
      for (NodeId b = a + 1; b <= kMembers; ++b)
        net_.world.disconnect(net_.link(a, b));
    }
    net_.run_all();
    for (NodeId n = 1; n <= kMembers; ++n)
      net_.host(n).completions.clear();
    for (NodeId a = 1; a <= kMembers; ++a) {
      for (NodeId b = a + 1; b <= kMembers; ++b)
        connect_with_bogus_region(a, b);
    }
  }

  void run() {
    schedule_faults();
    while (net_.world.now_ns() < 150'000) {
      if (rng().one_in(2)) post_random_chain();
      step_or_wait();
    }
    while (net_.world.now_ns() < 2'000'000)
      step_or_wait();  // faults settle
    check_end();
  }

 private:
  static SimConfig config(bool idle_detection) {
    SimConfig c;
    c.link_timeout_ns = 100'000;
    c.idle_link_detection = idle_detection;
    c.jitter_ns = 3'000;
    c.spike_one_in = 30;
    c.spike_ns = 20'000;
    c.send_queue_depth = 64;
    return c;
  }

  SimRandom& rng() { return net_.world.rng(); }

  void connect_with_bogus_region(NodeId a, NodeId b) {
    auto info = [&](NodeId n) {
      ConnectInfo i = net_.host(n).info();
      i.region_count = 2;
      i.regions[1] = {0x5000'0000, 4096, 0xfff1};
      return i;
    };
    Result<LinkPair> p = net_.world.connect(*net_.host(a).ep, info(a), *net_.host(b).ep, info(b));
    ASSERT_TRUE(p.ok());
    links_[{a, b}] = p->a_to_b;
    links_[{b, a}] = p->b_to_a;
  }

  void schedule_faults() {
    SimRandom& r = rng();
    const std::uint64_t t0 = net_.world.now_ns();
    if (r.one_in(2)) {
      const auto victim = static_cast<NodeId>(r.between(1, kMembers));
      net_.world.schedule(t0 + r.between(1'000, 140'000), [this, victim](SimWorld& w) {
        w.crash(victim);
        first_cut_ns_ = std::min(first_cut_ns_, w.now_ns());
      });
    }
    if (r.one_in(3)) {
      net_.world.schedule(t0 + r.between(1'000, 140'000), [this](SimWorld& w) {
        const NodeId a[] = {1, 2};
        const NodeId b[] = {3, 4};
        w.partition(a, b);
        first_cut_ns_ = std::min(first_cut_ns_, w.now_ns());
      });
    }
    if (r.one_in(3)) {
      const auto from = static_cast<NodeId>(r.between(1, kMembers));
      const auto to = static_cast<NodeId>(from % kMembers + 1);
      net_.world.schedule(t0 + r.between(1'000, 140'000), [this, from, to](SimWorld& w) {
        w.break_link_one_way(from, to);
        first_cut_ns_ = std::min(first_cut_ns_, w.now_ns());
      });
    }
    if (r.one_in(3)) {
      const auto from = static_cast<NodeId>(r.between(1, kMembers));
      const auto to = static_cast<NodeId>(from % kMembers + 1);
      net_.world.schedule(t0 + r.between(1'000, 140'000), [this, from, to](SimWorld& w) {
        w.disconnect(*links_.at({from, to}));
      });
    }
    net_.world.schedule(t0 + r.between(50'000, 200'000), [](SimWorld& w) { w.heal(); });
  }

  void post_random_chain() {
    const auto from = static_cast<NodeId>(rng().between(1, kMembers));
    auto to = static_cast<NodeId>(rng().between(1, kMembers - 1));
    if (to >= from) ++to;
    SimLink& l = *links_.at({from, to});
    if (net_.world.endpoint(from) == nullptr || l.failed()) return;
    SimHost& m = net_.host(from);
    std::unique_ptr<MemoryRegion> scratch;
    WriteOp chain[4];
    const auto n = static_cast<std::uint32_t>(rng().between(1, 4));
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto id = static_cast<std::uint32_t>(posted_.size() + i);
      const auto len = static_cast<std::uint32_t>(rng().between(8, 256));
      chain[i] = with_imm(write_op(*m.send, rng().below(8000), len, rng().below(60'000), id), id);
      chain[i].signaled = rng().one_in(2);
      if (rng().one_in(1000)) {  // into the region that does not exist
        chain[i].remote_region = 1;
        chain[i].remote_offset = 0;
      }
      if (rng().one_in(1000)) {  // freed before it lands
        if (!scratch) scratch = std::move(m.ep->allocate(4096, Access::local_only).value());
        chain[i].segments[0] = {scratch.get(), 0, 8};
        chain[i].remote_offset = 0;
        chain[i].remote_region = 0;
      }
    }
    Status st = l.post({chain, n});
    if (!st.ok()) {
      ASSERT_EQ(st.error().code, Errc::try_again) << st.error().message();
      return;
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      posted_.push_back({from, to, chain[i].signaled, net_.world.now_ns()});
      on_link_[{from, to}].push_back(static_cast<std::uint32_t>(posted_.size() - 1));
    }
  }

  void step_or_wait() {
    if (auto next = net_.world.next_event_ns(); next && *next <= net_.world.now_ns() + 500) {
      net_.world.step();
    } else {
      net_.world.run_until(net_.world.now_ns() + 500);
    }
    observe();
  }

  void observe() {
    Completion batch[64];
    for (NodeId n = 1; n <= kMembers; ++n) {
      SimEndpoint* ep = net_.world.endpoint(n);
      if (ep == nullptr) continue;
      std::size_t got;
      while ((got = ep->poll(batch)) > 0) {
        for (std::size_t i = 0; i < got; ++i)
          check(n, batch[i]);
      }
    }
  }

  void check(NodeId n, const Completion& c) {
    static constexpr const char* kNames[] = {"write_done", "received_imm", "write_failed",
                                             "link_down"};
    ++tally_.seen[kNames[static_cast<int>(c.type)]];
    if (c.type == CompletionType::write_failed) ++tally_.seen[c.status_text];
    ASSERT_FALSE(down_.count({n, c.peer}))
        << "seed " << seed_ << ": n" << n << " heard about n" << c.peer << " after link_down";
    switch (c.type) {
      case CompletionType::received_imm:
        landed_[{c.peer, n}].push_back(c.imm);
        landed_ids_.insert(c.imm);
        return;
      case CompletionType::write_done: {
        ASSERT_LT(c.wr_id, posted_.size());
        const Posted& p = posted_[c.wr_id];
        ASSERT_TRUE(p.signaled) << "seed " << seed_;
        ASSERT_TRUE(landed_ids_.count(static_cast<std::uint32_t>(c.wr_id)))
            << "seed " << seed_ << ": write " << c.wr_id << " done before it landed";
        ASSERT_TRUE(heard_.insert(c.wr_id).second) << "seed " << seed_;
        return;
      }
      case CompletionType::write_failed: {
        ASSERT_LT(c.wr_id, posted_.size());
        ASSERT_TRUE(heard_.insert(c.wr_id).second) << "seed " << seed_;
        const std::string_view status = c.status_text;
        if (!posted_[c.wr_id].signaled) {
          ASSERT_NE(status, "Work Request Flushed Error") << "seed " << seed_;
        }
        if (status == "transport retry counter exceeded") {
          // Retry errors come from a cut: never sooner than timeout after it.
          ASSERT_NE(first_cut_ns_, UINT64_MAX) << "seed " << seed_;
          ASSERT_GE(net_.world.now_ns(), first_cut_ns_ + net_.world.config().link_timeout_ns);
        }
        return;
      }
      case CompletionType::link_down:
        down_.insert({n, c.peer});
        return;
    }
  }

  void check_end() {
    // 1. Per link, what landed is a prefix of what was posted.
    for (const auto& [link, ids] : landed_) {
      const auto& posted = on_link_[link];
      ASSERT_LE(ids.size(), posted.size());
      for (std::size_t i = 0; i < ids.size(); ++i) {
        ASSERT_EQ(ids[i], posted[i])
            << "seed " << seed_ << ": n" << link.first << ">n" << link.second << " position " << i;
      }
    }
    // 3. Every signaled write of a live member was heard of.
    for (std::size_t id = 0; id < posted_.size(); ++id) {
      const Posted& p = posted_[id];
      if (p.signaled && net_.world.endpoint(p.from) != nullptr) {
        ASSERT_TRUE(heard_.count(id)) << "seed " << seed_ << ": write " << id << " n" << p.from
                                      << ">n" << p.to << " never completed";
      }
    }
    // 5. Both ends of a failed pair of live members failed (idle detection).
    if (!net_.world.config().idle_link_detection) return;
    for (const auto& [ends, l] : links_) {
      const auto [a, b] = ends;
      if (net_.world.endpoint(a) == nullptr || net_.world.endpoint(b) == nullptr) continue;
      ASSERT_EQ(l->failed(), links_.at({b, a})->failed()) << "seed " << seed_;
      ASSERT_EQ(l->failed(), down_.count({a, b}) == 1) << "seed " << seed_;
    }
  }

  std::uint64_t seed_;
  Tally& tally_;
  SimNet net_;
  std::map<std::pair<NodeId, NodeId>, SimLink*> links_;
  std::vector<Posted> posted_;
  std::map<std::pair<NodeId, NodeId>, std::vector<std::uint32_t>> on_link_;
  std::map<std::pair<NodeId, NodeId>, std::vector<std::uint32_t>> landed_;
  std::set<std::uint32_t> landed_ids_;
  std::set<std::uint64_t> heard_;
  std::set<std::pair<NodeId, NodeId>> down_;
  std::uint64_t first_cut_ns_ = UINT64_MAX;  // first crash, partition or break
};

void run_seeds(std::uint64_t first, std::uint64_t last, bool idle_detection) {
  Tally tally;
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    Checker(seed, idle_detection, tally).run();
    if (testing::Test::HasFatalFailure()) return;
  }
  for (const auto& [what, count] : tally.seen) {
    std::printf("  %-36s %llu\n", what.c_str(), static_cast<unsigned long long>(count));
  }
  // Every path was taken, many times.
  for (const char* what :
       {"write_done", "received_imm", "link_down", "remote access error", "local protection error",
        "transport retry counter exceeded", "Work Request Flushed Error"}) {
    EXPECT_GT(tally.seen[what], 20u) << what;
  }
}

TEST(SimInvariants, RandomTrafficAndFaultsIdleDetection) {
  run_seeds(1, 300, true);
}

TEST(SimInvariants, RandomTrafficAndFaultsStrictRc) {
  run_seeds(1001, 1300, false);
}

}  // namespace
}  // namespace ringcast::fabric::sim::test
