// A small harness for the simulated fabric's contract tests: N members, each
// with a receive region (remote_write) and a send region (local_only), all
// pairs connected.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "fabric/sim/sim_world.hpp"

namespace ringcast::fabric::sim::test {

struct SimHost {
  SimEndpoint* ep = nullptr;
  std::unique_ptr<MemoryRegion> recv;
  std::unique_ptr<MemoryRegion> send;
  std::vector<Completion> completions;  // everything polled so far, in order

  ConnectInfo info() const {
    ConnectInfo info;
    info.node = ep->node();
    info.incarnation = ep->incarnation();
    info.region_count = 1;
    info.regions[0] = recv->remote();
    return info;
  }
};

class SimNet {
 public:
  SimNet(std::uint64_t seed, SimConfig config, std::size_t members,
         std::size_t recv_bytes = 1 << 20, std::size_t send_bytes = 1 << 20)
      : world(seed, config), recv_bytes_(recv_bytes), send_bytes_(send_bytes) {
    for (std::size_t i = 0; i < members; ++i)
      start(static_cast<NodeId>(i + 1));
    for (std::size_t i = 0; i < members; ++i) {
      for (std::size_t j = i + 1; j < members; ++j) {
        connect(static_cast<NodeId>(i + 1), static_cast<NodeId>(j + 1));
      }
    }
  }

  SimHost& host(NodeId n) { return hosts_.at(n); }
  SimLink& link(NodeId from, NodeId to) { return *links_.at({from, to}); }

  // A fresh endpoint with fresh regions (first start or restart).
  void start(NodeId n) {
    SimHost m;
    m.ep = world.endpoint(n) == nullptr && known(n) ? &world.restart(n) : &world.add_endpoint(n);
    m.recv = std::move(m.ep->allocate(recv_bytes_, Access::remote_write).value());
    m.send = std::move(m.ep->allocate(send_bytes_, Access::local_only).value());
    hosts_[n] = std::move(m);
  }

  Result<LinkPair> try_connect(NodeId a, NodeId b) {
    SimHost& ma = host(a);
    SimHost& mb = host(b);
    Result<LinkPair> pair = world.connect(*ma.ep, ma.info(), *mb.ep, mb.info());
    if (pair.ok()) {
      links_[{a, b}] = pair->a_to_b;
      links_[{b, a}] = pair->b_to_a;
    }
    return pair;
  }

  void connect(NodeId a, NodeId b) {
    Result<LinkPair> pair = try_connect(a, b);
    ASSERT_TRUE(pair.ok()) << pair.error().message();
  }

  // Polls every live member's completion queue into its completions list.
  void poll_all() {
    Completion batch[64];
    for (auto& [n, m] : hosts_) {
      std::size_t got;
      while ((got = m.ep->poll(batch)) > 0)
        m.completions.insert(m.completions.end(), batch, batch + got);
    }
  }

  // Runs every event, polling after each one (so no completion queue fills).
  void run_all() {
    while (world.step())
      poll_all();
  }

  void run_until(std::uint64_t t_ns) {
    while (auto next = world.next_event_ns()) {
      if (*next > t_ns) break;
      world.step();
      poll_all();
    }
    world.run_until(t_ns);
  }

  std::vector<Completion> of_type(NodeId n, CompletionType type) {
    std::vector<Completion> out;
    for (const Completion& c : host(n).completions) {
      if (c.type == type) out.push_back(c);
    }
    return out;
  }

  SimWorld world;

 private:
  bool known(NodeId n) const { return hosts_.count(n) > 0; }

  std::size_t recv_bytes_;
  std::size_t send_bytes_;
  std::map<NodeId, SimHost> hosts_;
  std::map<std::pair<NodeId, NodeId>, SimLink*> links_;
};

inline WriteOp write_op(const MemoryRegion& source, std::uint64_t offset, std::uint32_t length,
                        std::uint64_t remote_offset, std::uint64_t wr_id = 0) {
  WriteOp op;
  op.wr_id = wr_id;
  op.segments[0] = {&source, offset, length};
  op.segment_count = 1;
  op.remote_offset = remote_offset;
  return op;
}

inline WriteOp with_imm(WriteOp op, std::uint32_t imm) {
  op.with_imm = true;
  op.imm = imm;
  return op;
}

inline WriteOp signaled(WriteOp op) {
  op.signaled = true;
  return op;
}

// Deterministic non-zero filler for payloads.
inline void fill(std::span<std::byte> bytes, std::uint64_t salt) {
  std::uint64_t x = salt;
  for (std::byte& b : bytes)
    b = static_cast<std::byte>((SimRandom::splitmix64(x) & 0xfe) | 1);
}

inline bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ringcast::fabric::sim::test
