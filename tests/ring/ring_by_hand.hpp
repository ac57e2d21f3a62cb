// RingState machines driven by hand, shared by the ring's unit tests.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "heap_region.hpp"
#include "ring/imm.hpp"
#include "ring/ring_state.hpp"

namespace ringcast::ring::by_hand {

using testing::HeapRegion;

// One member's memory and state machine; writes between members are carried
// by hand (copy, then the imm completion), which is enough to check what the
// state machine asks for without a fabric.
struct Member {
  Member(const RingConfig& c, RingMembership m)
      : log(c.log_bytes, fabric::Access::remote_write),
        mailbox(mailbox_bytes(c.mailbox_slots), fabric::Access::remote_write),
        send_buffer(c.send_buffer_bytes),
        staging(staging_bytes(c)),
        state(c, std::move(m), LocalMemory{&log, &mailbox, &send_buffer, &staging}) {}

  HeapRegion log, mailbox, send_buffer, staging;
  RingState state;
};

inline std::vector<std::unique_ptr<Member>> make_ring(const RingConfig& c, std::size_t n) {
  std::vector<std::unique_ptr<Member>> ring;
  RingMembership m{{1, 1}, {}, 0};
  for (std::size_t i = 0; i < n; ++i)
    m.members.push_back(static_cast<fabric::NodeId>(10 + i));
  for (std::size_t i = 0; i < n; ++i) {
    m.my_index = i;
    ring.push_back(std::make_unique<Member>(c, m));
  }
  for (auto& member : ring)
    member->state.start(0);
  return ring;
}

// Changes a landed write's bytes before its imm: (target, bytes).
using Corrupt = std::function<void(std::size_t, std::span<std::byte>)>;

// Executes the chains `from` queued for `to`: copies the bytes, then hands the
// target its immediates and the sender its signaled completions. Returns
// writes done.
inline std::size_t carry_chains(std::vector<std::unique_ptr<Member>>& ring, std::size_t from,
                                std::size_t to, std::uint64_t now, const Corrupt& corrupt = {}) {
  std::size_t writes = 0;
  for (auto chain = ring[from]->state.pending_chain(to); !chain.empty();
       chain = ring[from]->state.pending_chain(to)) {
    for (const fabric::WriteOp& op : chain) {
      HeapRegion& target = op.remote_region == kLogRegion ? ring[to]->log : ring[to]->mailbox;
      std::byte* at = target.data() + op.remote_offset;
      std::byte* const first = at;
      for (std::size_t s = 0; s < op.segment_count; ++s) {
        const auto& seg = op.segments[s];
        EXPECT_TRUE(target.contains(at, seg.length));
        std::memcpy(at, seg.region->data() + seg.offset, seg.length);
        at += seg.length;
      }
      if (corrupt && op.remote_region == kLogRegion) {
        corrupt(to, {first, static_cast<std::size_t>(at - first)});
      }
      ++writes;
      if (op.with_imm) {
        fabric::Completion c;
        c.type = fabric::CompletionType::received_imm;
        c.peer = ring[from]->state.membership().me();
        c.imm = op.imm;
        ring[to]->state.on_completion(c, now);
      }
      if (op.signaled) {
        fabric::Completion c;
        c.type = fabric::CompletionType::write_done;
        c.wr_id = op.wr_id;
        ring[from]->state.on_completion(c, now);
      }
    }
    ring[from]->state.chain_posted(to);
  }
  return writes;
}

// Executes every queued chain.
inline std::size_t carry(std::vector<std::unique_ptr<Member>>& ring, std::uint64_t now,
                         const Corrupt& corrupt = {}) {
  std::size_t writes = 0;
  for (std::size_t from = 0; from < ring.size(); ++from) {
    for (std::size_t to = 0; to < ring.size(); ++to) {
      if (to != from) writes += carry_chains(ring, from, to, now, corrupt);
    }
  }
  return writes;
}

inline OutgoingMessage message(const std::string& s, Guarantee g = Guarantee::agreed) {
  OutgoingMessage m;
  m.payload = std::as_bytes(std::span(s));
  m.guarantee = g;
  return m;
}

inline std::vector<std::string> drain(RingState& s, bool release = true) {
  std::vector<std::string> out;
  while (auto d = s.next_delivery()) {
    out.emplace_back(reinterpret_cast<const char*>(d->payload.data()), d->payload.size());
    if (release) {
      EXPECT_TRUE(s.release_through_seq(d->seq).ok());
    }
  }
  return out;
}

}  // namespace ringcast::ring::by_hand
